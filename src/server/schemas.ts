import { z } from '@hono/zod-openapi';
import { productInput, searchFilters } from '../catalog/types.ts';

/** Request/response schemas: the routes validate with these and /openapi.json is generated from them. */
// zod 4 attaches `.openapi()` to schemas created after @hono/zod-openapi loads, so schemas from
// catalog/types.ts (which may be created earlier) are re-wrapped here rather than extended.

export const ErrorBody = z
  .object({ error: z.object({ code: z.string().openapi({ example: 'invalid_request' }), message: z.string(), details: z.any().optional() }) })
  .openapi('Error');

export const Filters = z.object(searchFilters.shape).strict().openapi('Filters', {
  example: { category: 'running shoes', color: ['red'], priceMax: 80 },
});

export const Weights = z
  .object({ text: z.number().min(0).max(10).optional(), image: z.number().min(0).max(10).optional() })
  .strict()
  .openapi('Weights', { example: { text: 1, image: 0.5 } });

export const Hybrid = z
  .object({ mode: z.enum(['rrf', 'blend', 'off', 'lexical']).optional(), alpha: z.number().min(0).max(1).optional() })
  .strict()
  .openapi('Hybrid', { description: 'How lexical (BM25) and vector results merge for text queries: reciprocal rank fusion (default), a weighted blend with `alpha` for the vector side, `off` (vector only) or `lexical` (BM25 only).' });

export const MAX_QUERY_CHARS = 1000;
const queryText = z.string().max(MAX_QUERY_CHARS, `text is limited to ${MAX_QUERY_CHARS} characters`);
const language = z.string().regex(/^(auto|[a-z]{2,3})$/, 'auto or an ISO 639-1 code such as en, zh').optional();
const k = z.number().int().min(1).max(100).default(10);
const ef = z.number().int().min(1).max(1000).optional();

export const SearchJson = z
  .object({
    text: queryText.optional(),
    image: z.string().optional().openapi({ description: 'Image bytes, base64 or a data: URI (multipart is the better way to send files).' }),
    audio: z.string().optional().openapi({ description: 'Audio bytes, base64 or a data: URI.' }),
    k,
    filters: Filters.optional(),
    weights: Weights.optional(),
    not: queryText.optional().openapi({ description: 'Negative text: results are pushed away from it.' }),
    language,
    ef,
    hybrid: Hybrid.optional(),
  })
  .strict()
  .openapi('SearchRequest', { example: { text: 'red nike running shoes under 80 dollars', k: 5 } });

/** Multipart fields arrive as strings; JSON-valued ones (filters, weights, hybrid) are parsed then validated. */
const jsonField = <T extends z.ZodTypeAny>(schema: T, name: string) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `${name} must be a JSON string` });
        return z.NEVER;
      }
    })
    .pipe(schema)
    .openapi({ type: 'string', description: `${name} as a JSON string` });

const file = (description: string) => z.instanceof(File).optional().openapi({ type: 'string', format: 'binary', description });

export const SearchForm = z
  .object({
    text: queryText.optional(),
    image: file('Photo: JPEG, PNG, WebP, AVIF, GIF (first frame) or TIFF.'),
    audio: file('Spoken query: WAV, M4A/AAC, WebM/Opus, Ogg/Opus, MP3 or FLAC.'),
    k: z.coerce.number().int().min(1).max(100).default(10),
    filters: jsonField(Filters, 'filters').optional(),
    weights: jsonField(Weights, 'weights').optional(),
    hybrid: jsonField(Hybrid, 'hybrid').optional(),
    not: queryText.optional(),
    language,
    ef: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict()
  .openapi('SearchMultipart');

const Similarity = z.object({ rank: z.number(), score: z.number() }).nullable();

export const SearchResponseBody = z
  .object({
    results: z.array(
      z.object({
        id: z.string(),
        score: z.number(),
        product: z.record(z.string(), z.any()),
        explain: z.object({
          vector: Similarity,
          lexical: Similarity,
          matchedSku: z.boolean(),
          textSimilarity: z.number().nullable(),
          imageSimilarity: z.number().nullable(),
        }),
      }),
    ),
    query: z.record(z.string(), z.any()).openapi({ description: 'text, transcript, language, understanding, filters, parts used and their weights, k, hybrid mode' }),
    timings: z.record(z.string(), z.number()).openapi({ description: 'Milliseconds per stage: decode, stt, understand, embed, fuse, ann, lexical, hydrate, total' }),
  })
  .openapi('SearchResponse');

export const UnderstandJson = z.object({ text: queryText.min(1), language }).strict().openapi('UnderstandRequest', { example: { text: '80元以下的红色耐克跑鞋' } });

export const UnderstandResponse = z
  .object({
    intent: z.object({ label: z.string(), confidence: z.number(), alternatives: z.array(z.object({ label: z.string(), confidence: z.number() })) }),
    route: z.object({ route: z.string(), searches: z.boolean(), message: z.string() }),
    slots: z.record(z.string(), z.any()),
    filters: z.record(z.string(), z.any()),
    text: z.string(),
    matches: z.array(z.any()),
  })
  .openapi('Understanding');

export const TranscribeForm = z
  .object({ audio: z.instanceof(File).openapi({ type: 'string', format: 'binary' }), language })
  .strict()
  .openapi('TranscribeMultipart');

export const TranscribeResponse = z
  .object({ text: z.string(), language: z.string().nullable(), durationMs: z.number() })
  .openapi('Transcription');

export const MAX_PRODUCTS_PER_REQUEST = 1000;
export const ProductsBody = z
  .array(productInput)
  .min(1)
  .max(MAX_PRODUCTS_PER_REQUEST)
  .openapi('ProductBatch', {
    example: [{ id: 'p1', title: 'Nike Air Zoom running shoes, red', brand: 'nike', category: 'running shoes', color: 'red', price: 79.9, currency: 'USD', image: 'demo/p0001.png' }],
  });

export const UpsertResponse = z
  .object({
    upserted: z.array(z.string()),
    errors: z.array(z.object({ id: z.string(), code: z.string(), message: z.string() })),
  })
  .openapi('UpsertResult');

export const ProductParams = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' }, example: 'p0001' }) });

export const ProductBody = z.record(z.string(), z.any()).openapi('Product');
