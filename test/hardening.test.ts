import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { postJson, smallCatalogProducts, startTestServer, type TestServer } from './helpers/server.ts';

const ADMIN = 'admin-key-0123456789abcdef';
const SEARCH = 'search-key-0123456789abcdef';
let s: TestServer;
before(async () => {
  s = await startTestServer({ OMNISEARCH_ADMIN_KEYS: ADMIN, OMNISEARCH_SEARCH_KEYS: SEARCH, OMNISEARCH_RATE_LIMIT_RPS: '5', OMNISEARCH_RATE_LIMIT_BURST: '40' });
  const res = await postJson(`${s.url}/v1/products`, await smallCatalogProducts(), { authorization: `Bearer ${ADMIN}` });
  assert.equal(res.status, 200);
});
after(() => s.close());

const auth = (k: string) => ({ authorization: `Bearer ${k}` });

test('writes need an admin key: none -> 401, search key -> 403, admin -> 200', async () => {
  const body = [{ id: 'k1', title: 'Keyed product' }];
  const none = await postJson(`${s.url}/v1/products`, body);
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, 'unauthorized');
  assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
  assert.equal((await postJson(`${s.url}/v1/products`, body, auth('wrong-key-0123456789abcdef'))).status, 401);
  const searchKey = await postJson(`${s.url}/v1/products`, body, auth(SEARCH));
  assert.equal(searchKey.status, 403);
  assert.equal(searchKey.body.error.code, 'forbidden');
  assert.equal((await postJson(`${s.url}/v1/products`, body, auth(ADMIN))).status, 200);
  assert.equal((await fetch(`${s.url}/v1/products/k1`, { method: 'DELETE', headers: auth(SEARCH) })).status, 403);
  assert.equal((await fetch(`${s.url}/v1/admin/reload`, { method: 'POST', headers: auth(SEARCH) })).status, 403);
  assert.equal((await fetch(`${s.url}/metrics`)).status, 401);
});

test('search keys may search, understand and transcribe; reads without a key are refused', async () => {
  assert.equal((await postJson(`${s.url}/v1/search`, { text: 'shoes' })).status, 401);
  assert.equal((await postJson(`${s.url}/v1/search`, { text: 'shoes' }, auth(SEARCH))).status, 200);
  assert.equal((await postJson(`${s.url}/v1/understand`, { text: 'shoes' }, auth(SEARCH))).status, 200);
  assert.equal((await postJson(`${s.url}/v1/search`, { text: 'shoes' }, auth(ADMIN))).status, 200);
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
});

test('hostile JSON: every case is a 4xx with error.code', async () => {
  const h = { 'content-type': 'application/json', ...auth(SEARCH) };
  const raw = async (body: BodyInit, headers: Record<string, string> = h) => {
    const r = await fetch(`${s.url}/v1/search`, { method: 'POST', headers, body });
    return { status: r.status, body: (await r.json()) as { error?: { code: string } } };
  };
  const cases: [string, BodyInit, number, Record<string, string>?][] = [
    ['truncated JSON', '{"text":', 400],
    ['JSON array', '[1,2,3]', 400],
    ['JSON null', 'null', 400],
    ['deeply nested', '{"text":"x","filters":' + '{"brand":'.repeat(2000) + '"a"' + '}'.repeat(2001), 400],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 200],
    ['huge k', '{"text":"x","k":1e12}', 400],
    ['negative k', '{"text":"x","k":-5}', 400],
    ['k as string', '{"text":"x","k":"10"}', 400],
    ['unknown field', '{"text":"x","rm":"-rf"}', 400],
    ['filter injection', '{"text":"x","filters":{"brand":"nike\' OR 1=1 --"}}', 200],
    ['filter operator object', '{"text":"x","filters":{"brand":{"$ne":null}}}', 400],
    ['prototype pollution', '{"text":"x","__proto__":{"admin":true}}', 400],
    ['100k-character query', JSON.stringify({ text: 'x'.repeat(100_000) }), 400],
    ['form content type with JSON', '{"text":"x"}', 400, { 'content-type': 'application/x-www-form-urlencoded', ...auth(SEARCH) }],
    ['odd unicode', JSON.stringify({ text: '\u202e\u0000\ud83d\ude00 z\u0301algo ＲＥＤ' }), 200],
  ];
  for (const [name, body, status, headers] of cases) {
    const r = await raw(body, headers);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
    if (status >= 400) assert.equal(typeof r.body.error?.code, 'string', name);
  }
  const injected = await raw('{"text":"x","filters":{"brand":"nike\' OR 1=1 --"}}');
  assert.deepEqual((injected.body as { results: unknown[] }).results, [], 'the injection is a literal brand that matches nothing');
  const rss = process.memoryUsage().rss;
  const big = await fetch(`${s.url}/v1/search`, { method: 'POST', headers: h, body: '{"text":"' + 'x'.repeat(60 * 1024 * 1024) + '"}' }).catch((e: Error) => e);
  if (!(big instanceof Error)) assert.equal(big.status, 413); // or the server cut the upload short: both refuse it
  assert.ok(process.memoryUsage().rss - rss < 400 * 1024 * 1024);
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
});

test('rate limits answer 429 with Retry-After per key', async () => {
  let limited: Response | null = null;
  for (let i = 0; i < 80 && !limited; i++) {
    const r = await fetch(`${s.url}/v1/understand`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(SEARCH) }, body: '{"text":"x"}' });
    if (r.status === 429) limited = r;
  }
  assert.ok(limited, 'the burst of 40 at 5/s must run out within 80 requests');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'rate_limited');
  // Another key has its own bucket.
  assert.equal((await postJson(`${s.url}/v1/understand`, { text: 'x' }, auth(ADMIN))).status, 200);
});

test('metrics: per-route latency, per-stage timings, batch sizes, queue depth, index size, providers', async () => {
  await postJson(`${s.url}/v1/search`, { text: 'red shoes' }, auth(ADMIN));
  const text = await (await fetch(`${s.url}/metrics`, { headers: auth(ADMIN) })).text();
  for (const needle of [
    'omnisearch_http_request_duration_seconds_bucket{le="0.005",route="/v1/search"',
    'omnisearch_stage_duration_seconds_count{stage="embed"}',
    'omnisearch_stage_duration_seconds_count{stage="ann"}',
    'omnisearch_batch_size_count{model="clip-text"}',
    'omnisearch_queue_depth{model="whisper"}',
    'omnisearch_index_size 9', // the 8 products plus k1 from the first test
    'omnisearch_model_info{role="clip-text",provider="cpu",variant="fp32"} 1',
  ]) assert.ok(text.includes(needle), needle);
});

test('/openapi.json validates as OpenAPI 3.1 and lists every route; /docs renders it', async () => {
  const spec = await (await fetch(`${s.url}/openapi.json`)).json();
  assert.equal(spec.openapi, '3.1.0');
  const result = await new Validator().validate(spec);
  assert.equal(result.valid, true, JSON.stringify(result.errors));
  const routes = Object.entries(spec.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`));
  for (const r of ['GET /healthz', 'GET /readyz', 'POST /v1/search', 'POST /v1/understand', 'POST /v1/transcribe', 'POST /v1/products', 'GET /v1/products/{id}', 'DELETE /v1/products/{id}', 'POST /v1/admin/reload']) {
    assert.ok(routes.includes(r), r);
  }
  const search = spec.paths['/v1/search'].post;
  assert.ok(search.requestBody.content['multipart/form-data']);
  assert.ok(search.responses['413'] && search.responses['415'] && search.responses['503']);
  const docs = await fetch(`${s.url}/docs`);
  assert.equal(docs.status, 200);
  assert.match(await docs.text(), /openapi\.json/);
});
