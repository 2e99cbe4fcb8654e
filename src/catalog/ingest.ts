import type { DecodedImage } from '../media/types.ts';
import { decodeImage } from '../media/image.ts';
import { OmniError } from '../errors.ts';
import type { CatalogStore } from './store.ts';
import type { Product } from './types.ts';
import { resolveProductImage, type ImageSourceOptions } from './images.ts';

export interface IngestDeps {
  embedTexts(texts: string[]): Promise<Float32Array[]>;
  embedImages(images: DecodedImage[]): Promise<Float32Array[]>;
  /** The vector the ANN index holds, from the two stored embeddings (see OMNISEARCH_PRODUCT_VECTOR). */
  productVector(text: Float32Array, image: Float32Array | null): Float32Array;
  store: CatalogStore;
  /** Applies committed store writes to the ANN index. */
  indexUpsert(id: string, vector: Float32Array, product: Product): void;
  images: ImageSourceOptions & { maxPixels: number };
}

export interface IngestError {
  id: string;
  code: string;
  message: string;
}

export interface IngestResult {
  upserted: string[];
  errors: IngestError[];
}

/** What CLIP reads for a product: the words a shopper would use, short enough for its 77 tokens. */
export function productText(p: Product): string {
  return [p.title, p.brand, p.color, p.category].filter(Boolean).join(', ');
}

/**
 * Embeds and writes products batch by batch. Each batch is one store transaction: when it
 * returns, every product in it is durable (WAL) and in the index; a product whose image fails
 * is reported and skipped, the rest of its batch still lands.
 */
export async function ingestProducts(
  deps: IngestDeps,
  products: Product[],
  opts: { batchSize: number; onProgress?: (done: number, total: number) => void },
): Promise<IngestResult> {
  const result: IngestResult = { upserted: [], errors: [] };
  for (let start = 0; start < products.length; start += opts.batchSize) {
    const batch = products.slice(start, start + opts.batchSize);
    const prepared = await Promise.all(batch.map((p) => prepareImage(p, deps)));
    const ok = prepared.filter((r): r is Prepared => !('error' in r));
    for (const r of prepared) if ('error' in r) result.errors.push(r.error);

    const textVecs = await deps.embedTexts(ok.map((r) => productText(r.product)));
    const withImage = ok.filter((r) => r.image);
    const imageVecs = await deps.embedImages(withImage.map((r) => r.image!));
    const imageById = new Map(withImage.map((r, i) => [r.product.id, imageVecs[i]]));

    const items = ok.map((r, i) => {
      const image = imageById.get(r.product.id) ?? null;
      return { product: r.product, textEmbedding: textVecs[i], imageEmbedding: image, vector: deps.productVector(textVecs[i], image) };
    });
    if (items.length > 0) {
      deps.store.upsert(items);
      for (const it of items) deps.indexUpsert(it.product.id, it.vector, it.product);
      result.upserted.push(...items.map((it) => it.product.id));
    }
    opts.onProgress?.(Math.min(start + batch.length, products.length), products.length);
  }
  return result;
}

interface Prepared {
  product: Product;
  image: DecodedImage | null;
}

async function prepareImage(p: Product, deps: IngestDeps): Promise<Prepared | { error: IngestError }> {
  if (!p.image) return { product: p, image: null };
  try {
    const { relPath, bytes } = await resolveProductImage(p.image, deps.images);
    const image = await decodeImage(bytes, { maxBytes: deps.images.maxBytes, maxPixels: deps.images.maxPixels });
    return { product: { ...p, image: relPath }, image };
  } catch (err) {
    if (err instanceof OmniError) return { error: { id: p.id, code: err.code, message: err.message } };
    throw err;
  }
}
