import { z } from 'zod';

/**
 * A product as the API and the ingest files carry it. `image` is one of:
 * a path relative to the configured image root, an http(s) URL, or `data:`/base64 bytes.
 */
export const productInput = z.object({
  id: z.string().min(1).max(128).regex(/^[\w.:\-]+$/, 'id may hold letters, digits, _ . : -'),
  title: z.string().min(1).max(500),
  description: z.string().max(5000).default(''),
  brand: z.string().max(100).optional(),
  category: z.string().max(100).optional(),
  color: z.string().max(50).optional(),
  sku: z.string().max(100).optional(),
  price: z.number().nonnegative().finite().optional(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, e.g. USD').default('USD'),
  image: z.string().max(15_000_000).optional(),
  attributes: z.record(z.string().max(100), z.union([z.string().max(500), z.number(), z.boolean()])).default({}),
});
export type ProductInput = z.input<typeof productInput>;
export type Product = z.output<typeof productInput>;

/** Filters the ANN index and the lexical index both honour. Values match case-insensitively. */
export const searchFilters = z
  .object({
    category: z.union([z.string(), z.array(z.string()).max(50)]).optional(),
    brand: z.union([z.string(), z.array(z.string()).max(50)]).optional(),
    color: z.union([z.string(), z.array(z.string()).max(50)]).optional(),
    priceMin: z.number().nonnegative().finite().optional(),
    priceMax: z.number().nonnegative().finite().optional(),
    currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  })
  .strict();
export type SearchFilters = z.infer<typeof searchFilters>;

/** Stored per product: what the ANN filter needs, kept in memory beside the index. */
export interface ProductFacets {
  category?: string;
  brand?: string;
  color?: string;
  price?: number;
  currency?: string;
}
