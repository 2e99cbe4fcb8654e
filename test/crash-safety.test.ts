import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnServer as spawnChild } from '../scripts/lib/spawn-server.ts';
import { solidPng, tinyPack, tmpDir } from './helpers/server.ts';

/** The real CLI server in a child process, so it can be killed with SIGKILL. */
const spawnServer = (pack: string, dataDir: string) =>
  spawnChild({ OMNISEARCH_MODELS: pack, OMNISEARCH_DATA_DIR: dataDir, OMNISEARCH_DEMO: 'false', OMNISEARCH_THREADS: '1' });

test('SIGKILL in the middle of a bulk ingest loses no acknowledged product and leaves nothing half-written', { timeout: 180_000 }, async () => {
  const pack = await tinyPack();
  const dataDir = tmpDir('omni-crash-');
  const image = (await solidPng('#c03030', 64)).toString('base64');
  const a = await spawnServer(pack, dataDir);

  const acked: string[] = [];
  const batchSize = 8;
  let batch = 0;
  let killed = false;
  // Writers keep posting batches; the server is killed while requests are in flight.
  const writer = (async () => {
    while (!killed) {
      const ids = Array.from({ length: batchSize }, (_, i) => `b${batch}-${i}`);
      batch++;
      const body = ids.map((id) => ({ id, title: `product ${id}`, brand: 'acme', category: 'mugs', color: 'red', price: 10, image }));
      try {
        const res = await fetch(`${a.url}/v1/products`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (res.status === 200) acked.push(...((await res.json()) as { upserted: string[] }).upserted);
      } catch {
        return; // connection reset by the kill: this batch was never acknowledged
      }
    }
  })();
  while (acked.length < 40) await new Promise((r) => setTimeout(r, 20));
  a.child.kill('SIGKILL');
  killed = true;
  await writer;
  await new Promise((r) => a.child.once('exit', r));

  const b = await spawnServer(pack, dataDir);
  try {
    const ready = (await (await fetch(`${b.url}/readyz`)).json()) as { index: { size: number; products: number; startup: { indexApplied: number } } };
    // Every product row has its vector in the index: store and index agree after catch-up.
    assert.equal(ready.index.size, ready.index.products);
    assert.ok(ready.index.products >= acked.length, `${ready.index.products} products for ${acked.length} acknowledged`);
    for (const id of acked) assert.equal((await fetch(`${b.url}/v1/products/${id}`)).status, 200, id);
    // Batches are transactions: each batch is whole or absent.
    const found = new Set<string>();
    for (let n = 0; n < batch; n++) {
      const present = [];
      for (let i = 0; i < batchSize; i++) if ((await fetch(`${b.url}/v1/products/b${n}-${i}`)).status === 200) present.push(i);
      assert.ok(present.length === 0 || present.length === batchSize, `batch ${n} half-written: ${present}`);
      present.forEach((i) => found.add(`b${n}-${i}`));
    }
    // Every acknowledged product is searchable (filtered search restricted to this catalog).
    const res = await fetch(`${b.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'product', k: 100, filters: { brand: 'acme' }, hybrid: { mode: 'off' } }) });
    const hits = ((await res.json()) as { results: { id: string }[] }).results.map((r) => r.id);
    assert.equal(hits.length, Math.min(100, found.size));
  } finally {
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
  }
});

test('SIGTERM finishes in-flight requests, persists the index and exits 0', { timeout: 120_000 }, async () => {
  const pack = await tinyPack();
  const dataDir = tmpDir('omni-term-');
  const a = await spawnServer(pack, dataDir);
  const body = Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, title: `product ${i}`, brand: 'acme' }));
  const inflight = fetch(`${a.url}/v1/products`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await new Promise((r) => setTimeout(r, 5));
  a.child.kill('SIGTERM');
  const res = await inflight;
  assert.equal(res.status, 200, 'the request in flight at SIGTERM still completes');
  const code = await new Promise<number | null>((r) => a.child.once('exit', (c) => r(c)));
  assert.equal(code, 0);
  const b = await spawnServer(pack, dataDir);
  try {
    const ready = (await (await fetch(`${b.url}/readyz`)).json()) as { index: { size: number; startup: { indexApplied: number; indexRebuilt: boolean } } };
    assert.equal(ready.index.size, 6);
    // Saved at shutdown: nothing to replay from the change log at the next start.
    assert.equal(ready.index.startup.indexApplied, 0);
    assert.equal(ready.index.startup.indexRebuilt, false);
  } finally {
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
  }
});
