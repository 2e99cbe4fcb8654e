import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';
import { createApp } from '../src/server/app.ts';
import { postJson, smallCatalogProducts, startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer();
  const res = await postJson(`${s.url}/v1/products`, await smallCatalogProducts());
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.upserted.length, 8);
});
after(() => s.close());

const search = (body: unknown) => postJson(`${s.url}/v1/search`, body);
const ids = (r: { body: { results: { id: string }[] } }) => r.body.results.map((x) => x.id);

test('healthz and readyz report models, files, variants and providers', async () => {
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  const r = await (await fetch(`${s.url}/readyz`)).json();
  assert.equal(r.status, 'ready');
  const roles = r.models.map((m: { role: string }) => m.role);
  for (const role of ['clip-text', 'clip-vision', 'intent', 'whisper-encoder', 'whisper-decoder', 'fusion']) assert.ok(roles.includes(role), role);
  for (const m of r.models) {
    assert.equal(m.provider, 'cpu');
    assert.match(m.file, /\.onnx$/);
    assert.equal(m.variant, 'fp32');
    assert.ok(m.providerReason.length > 0);
  }
  assert.equal(r.index.size, 8);
});

test('text search returns k results with products, explanations and timings', async () => {
  // No slot words: nothing filters, so k results come back.
  const r = await search({ text: 'a gift for a friend', k: 5 });
  assert.equal(r.status, 200);
  assert.equal(r.body.results.length, 5);
  for (const x of r.body.results) {
    assert.equal(typeof x.score, 'number');
    assert.equal(x.product.id, x.id);
    assert.ok('vector' in x.explain && 'lexical' in x.explain);
  }
  for (const stage of ['understand', 'embed', 'fuse', 'ann', 'hydrate', 'total']) assert.equal(typeof r.body.timings[stage], 'number', stage);
  assert.equal(r.body.query.understanding.intent.label.length > 0, true);
  const again = await search({ text: 'a gift for a friend', k: 5 });
  assert.deepEqual(ids(again), ids(r), 'same query, same ids');
});

test('k defaults to 10 and is bounded 1..100', async () => {
  assert.equal((await search({ text: 'a gift' })).body.results.length, 8); // only 8 products exist
  for (const k of [0, 101, 2.5, -1]) {
    const r = await search({ text: 'a gift', k });
    assert.equal(r.status, 400, `k=${k}`);
    assert.equal(r.body.error.code, 'invalid_request');
  }
});

test('explicit filters are honoured inside the ANN and lexical search', async () => {
  const r = await search({ text: 'shoes', k: 10, filters: { brand: 'nike' } });
  assert.ok(r.body.results.length > 0);
  for (const x of r.body.results) assert.equal(x.product.brand, 'nike');
  const p = await search({ text: 'anything', k: 10, filters: { priceMin: 20, priceMax: 100 } });
  assert.ok(p.body.results.length > 0);
  for (const x of p.body.results) assert.ok(x.product.price >= 20 && x.product.price <= 100, String(x.product.price));
  const bad = await search({ text: 'x', filters: { brand: 'nike', sql: "1; DROP TABLE products" } });
  assert.equal(bad.status, 400);
});

test('slots from the text become filters: brand, colour, category, price', async () => {
  for (const text of ['red nike running shoes under 80 dollars', '80元以下的红色耐克跑鞋']) {
    const u = await postJson(`${s.url}/v1/understand`, { text });
    assert.equal(u.status, 200);
    assert.deepEqual(u.body.slots.brand, ['nike'], text);
    assert.deepEqual(u.body.slots.color, ['red'], text);
    assert.ok(u.body.slots.category.includes('running shoes'), text);
    assert.equal(u.body.slots.priceMax, 80, text);
    const r = await search({ text, k: 10 });
    assert.ok(r.body.results.length > 0, text);
    for (const x of r.body.results) {
      assert.equal(x.product.brand, 'nike');
      assert.equal(x.product.color, 'red');
      assert.ok(x.product.price <= 80);
    }
    assert.deepEqual(ids(r), ['p1'], text);
  }
});

test('an exact SKU ranks first; a Chinese two-character query finds the Chinese title; a misspelt brand still finds it', async () => {
  const sku = await search({ text: 'WH-1000XM5', k: 5 });
  assert.equal(sku.body.results[0].id, 'p5');
  assert.equal(sku.body.results[0].explain.matchedSku, true);
  const zh = await search({ text: '跑鞋', k: 5 });
  const hit = zh.body.results.find((x: { id: string }) => x.id === 'p6');
  assert.ok(hit, JSON.stringify(ids(zh)));
  assert.ok(hit.explain.lexical, 'found by the lexical retriever');
  const typo = await search({ text: 'addidas', k: 3 });
  assert.equal(typo.body.query.understanding.slots.brand[0], 'adidas');
  assert.deepEqual(ids(typo), ['p3']);
});

test('errors: malformed JSON 400, unknown route 404, wrong method 405, too large 413, wrong content type 415', async () => {
  const bad = await postJson(`${s.url}/v1/search`, '{"text": "red', {});
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'malformed_json');
  const nf = await fetch(`${s.url}/v1/nothing`);
  assert.equal(nf.status, 404);
  assert.equal((await nf.json()).error.code, 'not_found');
  const m = await fetch(`${s.url}/v1/search`, { method: 'GET' });
  assert.equal(m.status, 405);
  assert.match(m.headers.get('allow') ?? '', /POST/);
  assert.equal((await m.json()).error.code, 'method_not_allowed');
  const big = await postJson(`${s.url}/v1/understand`, { text: 'x'.repeat(6 * 1024 * 1024) });
  assert.equal(big.status, 413);
  assert.equal(big.body.error.code, 'body_too_large');
  const t = await fetch(`${s.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'red shoes' });
  assert.equal(t.status, 415);
  assert.equal((await t.json()).error.code, 'unsupported_content_type');
  const empty = await search({ k: 3 });
  assert.equal(empty.status, 400);
  assert.equal(empty.body.error.code, 'empty_query');
  const long = await search({ text: 'a'.repeat(100_000) });
  assert.equal(long.status, 400);
});

test('products: get, upsert replaces, delete removes from every index', async () => {
  const got = await (await fetch(`${s.url}/v1/products/p4`)).json();
  assert.equal(got.title, 'Ceramic coffee mug');
  const up = await postJson(`${s.url}/v1/products`, [{ id: 'p4', title: 'Stoneware tea cup', brand: 'ikea', category: 'cups', color: 'white', price: 9 }]);
  assert.equal(up.status, 200);
  const cups = await search({ text: 'tea', k: 10, filters: { category: 'cups' } });
  assert.deepEqual(ids(cups), ['p4']);
  assert.equal((await search({ text: 'mug', k: 10, filters: { category: 'mugs' } })).body.results.length, 0);

  const del = await fetch(`${s.url}/v1/products/p7`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  assert.equal((await fetch(`${s.url}/v1/products/p7`)).status, 404);
  assert.equal((await fetch(`${s.url}/v1/products/p7`, { method: 'DELETE' })).status, 404);
  const all = await search({ text: 'backpack', k: 100 });
  assert.ok(!ids(all).includes('p7'));
  const lex = await search({ text: 'Puma canvas backpack', k: 100, hybrid: { mode: 'rrf' } });
  assert.ok(!ids(lex).includes('p7'));
});

test('product validation: bad batches get 400 with details, duplicate ids too', async () => {
  const r = await postJson(`${s.url}/v1/products`, [{ id: 'x y', title: '' }]);
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'invalid_request');
  assert.ok(Array.isArray(r.body.error.details));
  const d = await postJson(`${s.url}/v1/products`, [{ id: 'd1', title: 'a' }, { id: 'd1', title: 'b' }]);
  assert.equal(d.body.error.code, 'duplicate_id');
  const img = await postJson(`${s.url}/v1/products`, [{ id: 'e1', title: 'escape', image: '../../../etc/passwd' }, { id: 'e2', title: 'fine' }]);
  assert.equal(img.status, 200);
  assert.deepEqual(img.body.upserted, ['e2']);
  assert.equal(img.body.errors[0].code, 'image_path_outside_root');
});

test('before the engine is ready, model routes answer 503 model_not_ready with Retry-After', async () => {
  const { app } = createApp({ holder: { engine: null, state: 'starting' }, config: loadConfig({}) });
  const r = await app.request('/v1/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('retry-after'), '5');
  assert.equal((await r.json()).error.code, 'model_not_ready');
  assert.equal((await app.request('/healthz')).status, 200);
  assert.equal((await app.request('/readyz')).status, 503);
});
