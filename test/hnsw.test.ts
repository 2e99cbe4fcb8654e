import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileSha1, IndexLoadError, VectorIndex } from '../src/index/hnsw.ts';
import type { IndexFacets } from '../src/index/facets.ts';

const DIM = 64;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function unit(v: Float32Array): Float32Array {
  let ss = 0;
  for (const x of v) ss += x * x;
  const inv = 1 / Math.sqrt(ss);
  return v.map((x) => x * inv);
}

/** Unit vectors around `clusters` random centres; noise 2 (per component, centres ~1) makes neighbours ambiguous. */
function clustered(n: number, seed: number, clusters = 50, noise = 2) {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: DIM }, gauss));
  const point = (c: number) => unit(centres[c].map((x) => x + noise * gauss()));
  return { vectors: Array.from({ length: n }, (_, i) => point(i % clusters)), point, gauss };
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function exactTop(vectors: Float32Array[], q: Float32Array, k: number, keep: (i: number) => boolean = () => true): number[] {
  return vectors
    .map((v, i) => [i, dot(v, q)] as const)
    .filter(([i]) => keep(i))
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([i]) => i);
}

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'omni-hnsw-'));
const COLORS = ['red', 'blue', 'green', 'black'];
const facetsFor = (i: number): IndexFacets => ({
  color: COLORS[i % 4],
  brand: i % 100 === 7 ? 'Rare' : 'Common',
  price: i % 200,
  currency: i % 3 === 0 ? 'EUR' : 'USD',
});

// Built once: ~5,000 vectors, shared by the read-only tests below.
const N = 5000;
const data = clustered(N, 1);
const built = (() => {
  const index = VectorIndex.create(tmpDir(), DIM, { initialCapacity: 512 });
  data.vectors.forEach((v, i) => index.upsert(`p${i}`, v, facetsFor(i)));
  return index;
})();
const queries = Array.from({ length: 100 }, (_, q) => data.point(q % 50));

test('recall@10 >= 0.95 against exact search at the default ef; capacity grew past the initial 512', () => {
  assert.equal(built.size, N);
  assert.ok(built.capacity >= N && built.capacity > 512);
  let found = 0;
  for (const q of queries) {
    const got = new Set(built.search(q, 10).map((h) => h.id));
    found += exactTop(data.vectors, q, 10).filter((i) => got.has(`p${i}`)).length;
  }
  const recall = found / (queries.length * 10);
  assert.ok(recall >= 0.95, `recall@10 = ${recall}`);

  // Scores are cosine similarities, best first.
  const hits = built.search(queries[0], 5);
  assert.equal(hits.length, 5);
  for (const h of hits) assert.ok(Math.abs(h.score - dot(queries[0], data.vectors[Number(h.id.slice(1))])) < 1e-4);
  assert.ok(hits.every((h, i) => i === 0 || h.score <= hits[i - 1].score));
});

test('filters are applied inside the search: every hit satisfies them and selective filters still fill k', () => {
  let found = 0;
  for (const q of queries.slice(0, 30)) {
    const hits = built.search(q, 10, { filter: { color: 'RED', priceMax: 99, currency: 'USD' } });
    assert.equal(hits.length, 10);
    for (const h of hits) {
      const f = facetsFor(Number(h.id.slice(1)));
      assert.ok(f.color === 'red' && f.price! <= 99 && f.currency === 'USD', h.id);
    }
    // Exact answer under the same filter: in-graph filtering keeps recall (post-filtering 10 hits would not).
    const want = exactTop(data.vectors, q, 10, (i) => facetsFor(i).color === 'red' && facetsFor(i).price! <= 99 && facetsFor(i).currency === 'USD');
    const got = new Set(hits.map((h) => h.id));
    found += want.filter((i) => got.has(`p${i}`)).length;
  }
  assert.ok(found / 300 >= 0.9, `filtered recall ${found / 300}`);

  // 1% of the catalog: brand 'Rare' (50 products). All 20 asked for come back, all 'Rare'.
  const rare = built.search(queries[1], 20, { filter: { brand: ['rare', 'nobody'] } });
  assert.equal(rare.length, 20);
  assert.ok(rare.every((h) => Number(h.id.slice(1)) % 100 === 7));
  // Asking for more than match returns exactly the matching ones.
  assert.equal(built.search(queries[1], 80, { filter: { brand: 'Rare' }, ef: 400 }).length, 50);
  assert.deepEqual(built.search(queries[1], 10, { filter: { brand: 'none-such' } }), []);
  assert.deepEqual(built.search(queries[1], 10, { filter: { priceMin: 500 } }), []);
});

test('upsert replaces the vector; remove hides it; k beyond the live count returns what exists', () => {
  const r = rng(7);
  const vecs = Array.from({ length: 40 }, () => unit(Float32Array.from({ length: DIM }, () => r() - 0.5)));
  const index = VectorIndex.create(tmpDir(), DIM, { initialCapacity: 8 });
  vecs.forEach((v, i) => index.upsert(`a${i}`, v, {}));
  assert.equal(index.size, 40);

  // a0 moves to where a1 is: searching a0's old spot must not return a0 with its old score.
  index.upsert('a0', vecs[1], {});
  assert.equal(index.size, 40);
  const atOld = index.search(vecs[0], 40);
  const a0 = atOld.find((h) => h.id === 'a0')!;
  assert.ok(Math.abs(a0.score - dot(vecs[0], vecs[1])) < 1e-4, 'a0 is scored by its new vector');
  assert.deepEqual(new Set(index.search(vecs[1], 2).map((h) => h.id)), new Set(['a0', 'a1']));

  assert.equal(index.remove('a1'), true);
  assert.equal(index.remove('a1'), false);
  assert.equal(index.has('a1'), false);
  assert.equal(index.size, 39);
  assert.ok(!index.search(vecs[1], 39).some((h) => h.id === 'a1'));
  assert.equal(index.search(vecs[1], 1000).length, 39);

  // A removed id comes back.
  index.upsert('a1', vecs[1], {});
  assert.equal(index.search(vecs[1], 2).length, 2);
  assert.equal(index.size, 40);

  // New ids reuse a removed id's slot instead of growing a full graph.
  const full = VectorIndex.create(tmpDir(), DIM, { initialCapacity: 16 });
  vecs.slice(0, 16).forEach((v, i) => full.upsert(`f${i}`, v, {}));
  assert.equal(full.capacity, 16);
  full.remove('f2');
  full.upsert('fresh', vecs[30], {});
  assert.equal(full.capacity, 16);
  assert.equal(full.search(vecs[30], 1)[0].id, 'fresh');
  assert.ok(!full.search(vecs[2], 16).some((h) => h.id === 'f2'));
  full.upsert('more', vecs[31], {}); // no free slot left: grows
  assert.equal(full.capacity, 32);
  assert.equal(full.size, 17);

  assert.throws(() => index.upsert('bad', new Float32Array(DIM - 1), {}), /dimensions/);
  assert.throws(() => index.upsert('zero', new Float32Array(DIM), {}), /zero/);
  assert.deepEqual(VectorIndex.create(tmpDir(), DIM).search(vecs[0], 5), []);
});

test('save and reopen return identical results, ids, facets and lastSeq', async () => {
  const dir = tmpDir();
  const index = VectorIndex.create(dir, DIM, { initialCapacity: 100 });
  data.vectors.slice(0, 1000).forEach((v, i) => index.upsert(`p${i}`, v, facetsFor(i)));
  index.remove('p3');
  await index.save(41);
  index.upsert('p5', data.vectors[6], facetsFor(5));
  await index.save(42); // a second generation replaces the first
  assert.equal(index.lastSeq, 42);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['index.2.hnsw', 'index.meta.json']);

  const back = await VectorIndex.open(dir, DIM);
  assert.equal(back.lastSeq, 42);
  assert.equal(back.size, 999);
  assert.equal(back.has('p3'), false);
  for (const q of queries.slice(0, 20)) {
    assert.deepEqual(back.search(q, 10), index.search(q, 10));
    const filter = { color: 'blue', currency: 'EUR' };
    assert.deepEqual(back.search(q, 10, { filter }), index.search(q, 10, { filter }));
  }
  // Still writable, and label bookkeeping continues where it left off.
  back.upsert('new', data.vectors[2000], {});
  assert.equal(back.search(data.vectors[2000], 1)[0].id, 'new');
  assert.equal(back.size, 1000);
});

test('freed slots are still reused after save and reopen', async () => {
  const dir = tmpDir();
  const full = VectorIndex.create(dir, DIM, { initialCapacity: 16 });
  data.vectors.slice(0, 16).forEach((v, i) => full.upsert(`f${i}`, v, {}));
  full.remove('f3');
  await full.save(5);
  const back = await VectorIndex.open(dir, DIM);
  assert.deepEqual([back.capacity, back.size], [16, 15]);
  back.upsert('new', data.vectors[100], {});
  assert.deepEqual([back.capacity, back.size], [16, 16]);
  assert.equal(back.search(data.vectors[100], 1)[0].id, 'new');
  back.upsert('new2', data.vectors[101], {});
  assert.deepEqual([back.capacity, back.size], [32, 17]);
});

test('a corrupt, mismatched or half-written saved index gives IndexLoadError', async () => {
  const dir = tmpDir();
  const index = VectorIndex.create(dir, DIM);
  data.vectors.slice(0, 50).forEach((v, i) => index.upsert(`p${i}`, v, {}));
  await index.save(1);
  const metaFile = path.join(dir, 'index.meta.json');
  const meta = fs.readFileSync(metaFile, 'utf8');

  const expectLoadError = async (reason: IndexLoadError['reason'], d = DIM) => {
    await assert.rejects(VectorIndex.open(dir, d), (err: unknown) => err instanceof IndexLoadError && err.reason === reason);
  };
  await expectLoadError('dim_mismatch', 32);

  fs.writeFileSync(metaFile, meta.slice(0, meta.length / 2));
  await expectLoadError('corrupt');
  fs.writeFileSync(metaFile, JSON.stringify({ format: 99 }));
  await expectLoadError('unsupported');

  fs.writeFileSync(metaFile, meta);
  const graph = path.join(dir, 'index.1.hnsw');
  const bytes = fs.readFileSync(graph);
  fs.writeFileSync(graph, bytes.subarray(0, bytes.length - 100)); // truncated
  await expectLoadError('corrupt');
  const flipped = Buffer.from(bytes);
  flipped[flipped.length >> 1] ^= 0xff; // same size, damaged
  fs.writeFileSync(graph, flipped);
  await expectLoadError('corrupt');
  fs.rmSync(graph);
  await expectLoadError('corrupt');

  fs.writeFileSync(graph, bytes);
  assert.equal((await VectorIndex.open(dir, DIM)).size, 50);
  // No meta at all: an empty index, not an error.
  fs.rmSync(metaFile);
  assert.equal((await VectorIndex.open(dir, DIM)).size, 0);
});

test('fileSha1 reads in chunks and matches a one-shot sha1 across chunk boundaries', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sha-')), 'f.bin');
  const data = Buffer.alloc((8 << 20) * 2 + 12345);
  for (let i = 0; i < data.length; i += 4099) data[i] = i % 251;
  fs.writeFileSync(file, data);
  assert.deepEqual(fileSha1(file), { bytes: data.length, sha1: createHash('sha1').update(data).digest('hex') });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
});
