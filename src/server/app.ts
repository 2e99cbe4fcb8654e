import fs from 'node:fs';
import path from 'node:path';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { requestId } from 'hono/request-id';
import { timeout } from 'hono/timeout';
import type { Config } from '../config.ts';
import type { Engine } from '../engine.ts';
import { OmniError, badRequest, notFound, tooLarge, unavailable } from '../errors.ts';
import { log } from '../log.ts';
import { imageMimeOf } from '../media/image.ts';
import { resolveUnderRoot } from '../catalog/images.ts';
import type { SearchRequest } from '../search/search.ts';
import { errorResponse, onError, zodDetails } from './errors.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { loadKeys, requireScope } from './auth.ts';
import { rateLimit } from './rate-limit.ts';
import * as S from './schemas.ts';

/** Lets the server answer /healthz (and 503 elsewhere) while models load or the demo catalog ingests. */
export interface EngineHolder {
  engine: Engine | null;
  state: 'starting' | 'ready' | 'failed';
  detail?: string;
}

export interface AppOptions {
  holder: EngineHolder;
  config: Config;
  /** Folder with the built demo page (index.html + assets); absent -> `/` explains how to build it. */
  webDir?: string;
  metrics?: Metrics;
}

const errors = {
  400: { description: 'Malformed JSON or a schema violation', content: { 'application/json': { schema: S.ErrorBody } } },
  413: { description: 'Body, file, pixel count or audio duration over the limit', content: { 'application/json': { schema: S.ErrorBody } } },
  415: { description: 'Unsupported content type or media format', content: { 'application/json': { schema: S.ErrorBody } } },
  422: { description: 'Well-formed but undecodable media', content: { 'application/json': { schema: S.ErrorBody } } },
  503: { description: 'Models still loading, or a model queue full (see Retry-After)', content: { 'application/json': { schema: S.ErrorBody } } },
};
const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

export function createApp(opts: AppOptions) {
  const { holder } = opts;
  const metrics = opts.metrics ?? createMetrics();
  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) throw new OmniError(400, 'invalid_request', 'request failed validation', zodDetails(result.error as never));
    },
  });

  const engine = (): Engine => {
    if (holder.engine) return holder.engine;
    if (holder.state === 'failed') throw new OmniError(503, 'engine_failed', `the engine failed to start: ${holder.detail ?? 'see the log'}`);
    throw unavailable('model_not_ready', 'models are still loading; retry shortly', 5);
  };
  const limits = () => holder.engine?.config ?? opts.config;
  const ring = loadKeys(opts.config);
  if (ring.open) log.warn('DEV MODE: no API keys configured (OMNISEARCH_ADMIN_KEYS / OMNISEARCH_SEARCH_KEYS); every route, writes included, is open');
  const searchScope = requireScope(ring, 'search');
  const adminScope = requireScope(ring, 'admin');

  app.use(requestId());
  app.use(async (c, next) => {
    const t0 = performance.now();
    await next();
    const route = c.req.routePath || 'unmatched';
    metrics.httpDuration.observe({ route, method: c.req.method, status: String(c.res.status) }, (performance.now() - t0) / 1000);
    if (c.res.status >= 500) log.warn({ reqId: c.get('requestId'), route, status: c.res.status }, 'request failed');
  });
  app.use(methodNotAllowed({ app, onMethodNotAllowed: (c, methods) => errorResponse(c, 405, 'method_not_allowed', `${c.req.method} is not allowed here; use ${methods.join(', ')}`, undefined, { Allow: methods.join(', ') }) }));
  app.onError(onError);
  app.notFound((c) => errorResponse(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));

  app.use('/v1/*', rateLimit({ rps: opts.config.OMNISEARCH_RATE_LIMIT_RPS, burst: opts.config.OMNISEARCH_RATE_LIMIT_BURST, ring, trustProxy: opts.config.OMNISEARCH_TRUST_PROXY }));
  app.use('/v1/*', timeout(opts.config.OMNISEARCH_REQUEST_TIMEOUT_MS, () => new OmniError(503, 'request_timeout', `request took longer than ${opts.config.OMNISEARCH_REQUEST_TIMEOUT_MS} ms`, undefined, { 'Retry-After': '1' }) as never));
  for (const p of ['/v1/search', '/v1/understand', '/v1/transcribe']) app.use(p, searchScope);
  for (const p of ['/v1/products', '/v1/products/*', '/v1/admin/*', '/metrics']) app.use(p, adminScope);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'admin keys may write and read; search keys may search, understand and transcribe' });

  // Limits are enforced while the body streams in, before anything is buffered whole.
  const limit = (bytes: () => number): MiddlewareHandler => (c, next) =>
    bodyLimit({ maxSize: bytes(), onError: () => { throw tooLarge('body_too_large', `request body is over ${bytes()} bytes`); } })(c, next);
  const jsonLimit = () => limits()?.OMNISEARCH_MAX_JSON_BYTES ?? 5 * 1024 * 1024;
  const mediaLimit = () => {
    const l = limits();
    // Either kind of JSON body may carry base64 media, which is a third larger than the bytes.
    return l ? Math.ceil((l.OMNISEARCH_MAX_IMAGE_BYTES + l.OMNISEARCH_MAX_AUDIO_BYTES) * 1.34) + 64 * 1024 : 32 * 1024 * 1024;
  };

  // ---- health -----------------------------------------------------------------------------
  app.openapi(
    createRoute({ method: 'get', path: '/healthz', tags: ['health'], summary: 'Process is up', responses: { 200: json(z.object({ status: z.literal('ok'), state: z.string() }), 'Alive') } }),
    (c) => c.json({ status: 'ok' as const, state: holder.state }),
  );
  app.openapi(
    createRoute({
      method: 'get', path: '/readyz', tags: ['health'], summary: 'Models and index loaded; lists each model with its file, variant and execution provider',
      responses: { 200: json(z.record(z.string(), z.any()).openapi('Readiness'), 'Ready'), 503: errors[503] },
    }),
    (c) => {
      const e = engine();
      return c.json({
        status: 'ready', pack: e.packDir, packSource: e.manifest.source, models: e.models(),
        index: { size: e.index.size, products: e.store.count(), lastSeq: e.index.lastSeq, startup: e.startup },
        intentLabels: e.intent.labels,
      }, 200);
    },
  );

  // ---- search -----------------------------------------------------------------------------
  app.use('/v1/search', limit(mediaLimit));
  app.openapi(
    createRoute({
      method: 'post', path: '/v1/search', tags: ['search'],
      summary: 'Search by text, photo, voice or any mix of them',
      description: 'JSON or multipart/form-data. Understanding (intent + slots) runs on the text and the transcript; slot filters and explicit `filters` apply to every modality. Text queries also run the lexical (BM25) retriever and merge with the vector results (`hybrid`).',
      request: { body: { content: { 'application/json': { schema: S.SearchJson }, 'multipart/form-data': { schema: S.SearchForm } }, required: true } },
      responses: { 200: json(S.SearchResponseBody, 'Ranked products with explanations and timings'), ...errors },
    }),
    async (c) => {
      const e = engine();
      const req = await searchRequestOf(c);
      return c.json((await e.search(req)) as never, 200);
    },
  );

  app.use('/v1/understand', limit(jsonLimit));
  app.openapi(
    createRoute({
      method: 'post', path: '/v1/understand', tags: ['search'], summary: 'Intent, slots and filters for a query, without searching',
      request: { body: { content: { 'application/json': { schema: S.UnderstandJson } }, required: true } },
      responses: { 200: json(S.UnderstandResponse, 'The structured query'), 400: errors[400], 503: errors[503] },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json((await engine().understand(body.text)) as never, 200);
    },
  );

  app.use('/v1/transcribe', limit(() => (limits()?.OMNISEARCH_MAX_AUDIO_BYTES ?? 10 * 1024 * 1024) + 64 * 1024));
  app.openapi(
    createRoute({
      method: 'post', path: '/v1/transcribe', tags: ['search'], summary: 'Speech to text (Whisper)',
      description: 'Silent or empty audio answers 200 with an empty text and a null language.',
      request: { body: { content: { 'multipart/form-data': { schema: S.TranscribeForm } }, required: true } },
      responses: { 200: json(S.TranscribeResponse, 'Transcript'), ...errors },
    }),
    async (c) => {
      const form = c.req.valid('form');
      const e = engine();
      return c.json(await e.transcribe(new Uint8Array(await form.audio.arrayBuffer()), form.language), 200);
    },
  );

  // ---- catalog ----------------------------------------------------------------------------
  app.use('/v1/products', limit(() => Math.max(jsonLimit(), 64 * 1024 * 1024)));
  app.openapi(
    createRoute({
      method: 'post', path: '/v1/products', tags: ['catalog'], summary: 'Upsert a batch of products',
      description: `Up to ${S.MAX_PRODUCTS_PER_REQUEST} products. Each product's text and image are embedded and written in one transaction per ingest batch; a product whose image cannot be fetched or decoded is listed in \`errors\` and the rest land. A 200 means every id in \`upserted\` is durable.`,
      request: { body: { content: { 'application/json': { schema: S.ProductsBody } }, required: true } },
      responses: { 200: json(S.UpsertResponse, 'What landed and what failed'), 400: errors[400], 413: errors[413], 422: json(S.UpsertResponse, 'No product could be ingested'), 503: errors[503] },
    }),
    async (c) => {
      const products = c.req.valid('json');
      const ids = new Set<string>();
      for (const p of products) {
        if (ids.has(p.id)) throw badRequest('duplicate_id', `product id ${p.id} appears twice in the batch`);
        ids.add(p.id);
      }
      const res = await engine().upsertProducts(products);
      return c.json(res, res.upserted.length === 0 ? 422 : 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get', path: '/v1/products/{id}', tags: ['catalog'], summary: 'One product',
      request: { params: S.ProductParams },
      responses: { 200: json(S.ProductBody, 'The product'), 404: json(S.ErrorBody, 'No such product'), 503: errors[503] },
    }),
    (c) => {
      const { id } = c.req.valid('param');
      const p = engine().store.get(id);
      if (!p) throw notFound('product_not_found', `no product with id ${id}`);
      return c.json(p as never, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'delete', path: '/v1/products/{id}', tags: ['catalog'], summary: 'Delete a product (store, vector index and lexical index)',
      request: { params: S.ProductParams },
      responses: { 200: json(z.object({ deleted: z.string() }), 'Deleted'), 404: json(S.ErrorBody, 'No such product'), 503: errors[503] },
    }),
    (c) => {
      const { id } = c.req.valid('param');
      if (!engine().deleteProduct(id)) throw notFound('product_not_found', `no product with id ${id}`);
      return c.json({ deleted: id }, 200);
    },
  );

  // ---- admin ------------------------------------------------------------------------------
  app.openapi(
    createRoute({
      method: 'post', path: '/v1/admin/reload', tags: ['admin'], summary: 'Load newly trained intent and fusion heads without a restart',
      description: 'Loads `<data dir>/models/intent` (written by `omnisearch train-intent`) if present, else the pack\'s intent model, and `<data dir>/models/fusion/model.onnx` (written by `omnisearch train-fusion`) if present, else the untrained fusion head. Same as sending SIGHUP.',
      responses: {
        200: json(z.object({ intent: z.object({ labels: z.array(z.string()), source: z.string() }), fusion: z.object({ trained: z.boolean() }) }), 'Reloaded'),
        401: json(S.ErrorBody, 'No or unknown API key'), 403: json(S.ErrorBody, 'Not an admin key'), 503: errors[503],
      },
    }),
    async (c) => c.json(await engine().reloadModels(), 200),
  );

  // ---- metrics, docs, images, demo page ---------------------------------------------------
  app.get('/metrics', async (c) => {
    const e = holder.engine;
    if (e) {
      metrics.indexSize.set(e.index.size);
      for (const q of e.queues()) metrics.queueDepth.set({ model: q.opts.name }, q.depth);
    }
    return c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType });
  });

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    security: [{ bearer: [] }],
    info: { title: 'omnisearch', version: '0.1.0', description: 'Product search by text, photo and voice. Errors are always `{error: {code, message}}`.' },
  });
  app.get('/docs', (c) => c.html(docsPage()));

  app.get('/images/*', (c) => {
    const e = engine();
    const rel = decodeURIComponent(c.req.path.slice('/images/'.length));
    let abs: string;
    try {
      abs = resolveUnderRoot(e.config.imageRoot, rel);
    } catch {
      throw notFound('image_not_found', 'no such image');
    }
    if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) throw notFound('image_not_found', 'no such image');
    const bytes = fs.readFileSync(abs);
    const mime = imageMimeOf(bytes);
    if (!mime) throw notFound('image_not_found', 'no such image');
    return c.body(bytes, 200, { 'Content-Type': mime, 'Cache-Control': 'public, max-age=3600', 'X-Content-Type-Options': 'nosniff' });
  });

  // The demo page: `/` and the flat files the web build writes (app.js, style.css, ...). Explicit
  // names rather than a catch-all, so GET on an API route still answers 405, not a page.
  const webDir = opts.webDir;
  const page = (c: Context, rel: string) => {
    const abs = webDir ? path.resolve(webDir, rel) : '';
    if (!webDir || !fs.existsSync(abs) || !fs.statSync(abs).isFile()) return errorResponse(c, 404, 'not_found', `no route for GET ${c.req.path}`);
    return c.body(fs.readFileSync(abs), 200, { 'Content-Type': contentTypeOf(abs), 'Cache-Control': 'no-cache' });
  };
  app.get('/', (c) => page(c, 'index.html'));
  app.get('/:file{[A-Za-z0-9_-]+\\.(?:html|js|css|svg|png|ico|json|map)}', (c) => page(c, c.req.param('file')));

  if (holder.engine) attachMetrics(holder.engine, metrics);
  return { app, metrics };
}

/** Wires the engine's per-stage timings and batch sizes into Prometheus. */
export function attachMetrics(e: Engine, metrics: Metrics): void {
  e.onStage = (stage, ms) => metrics.stageDuration.observe({ stage }, ms / 1000);
  for (const q of e.queues()) q.onBatch = (n) => metrics.batchSize.observe({ model: q.opts.name }, n);
  for (const m of e.models()) metrics.modelInfo.set({ role: m.role, provider: m.provider, variant: m.variant }, 1);
}

async function searchRequestOf(c: Context): Promise<SearchRequest> {
  const type = c.req.header('content-type') ?? '';
  if (type.startsWith('multipart/form-data')) {
    const f = (c.req as unknown as { valid(t: 'form'): z.infer<typeof S.SearchForm> }).valid('form');
    return {
      text: f.text, k: f.k, filters: f.filters, weights: f.weights, not: f.not, language: f.language, ef: f.ef, hybrid: f.hybrid,
      image: f.image && f.image.size > 0 ? new Uint8Array(await f.image.arrayBuffer()) : undefined,
      audio: f.audio && f.audio.size > 0 ? new Uint8Array(await f.audio.arrayBuffer()) : undefined,
    };
  }
  const j = (c.req as unknown as { valid(t: 'json'): z.infer<typeof S.SearchJson> }).valid('json');
  return { ...j, image: j.image ? base64Bytes(j.image, 'image') : undefined, audio: j.audio ? base64Bytes(j.audio, 'audio') : undefined };
}

function base64Bytes(s: string, field: string): Uint8Array {
  const b64 = s.startsWith('data:') ? s.slice(s.indexOf(',') + 1) : s;
  if (!/^[A-Za-z0-9+/=\s_-]*$/.test(b64)) throw badRequest('invalid_base64', `${field} must be base64 or a data: URI`);
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.ico': 'image/x-icon' };
const contentTypeOf = (f: string) => TYPES[path.extname(f)] ?? 'application/octet-stream';

/** A self-contained API reference rendered from /openapi.json in the browser: no CDN, no framework. */
function docsPage(): string {
  return fs.readFileSync(new URL('./docs.html', import.meta.url), 'utf8');
}
