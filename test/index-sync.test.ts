import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CatalogStore, type UpsertItem } from '../src/catalog/store.ts';
import { openSyncedIndex } from '../src/catalog/index-sync.ts';
import { productInput } from '../src/catalog/types.ts';

const DIM = 16;

function vec(seed: number): Float32Array {
  const v = Float32Array.from({ length: DIM }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function item(id: string, seed: number, color = 'red'): UpsertItem {
  return { product: productInput.parse({ id, title: `product ${id}`, color, price: seed }), textEmbedding: vec(seed), vector: vec(seed) };
}

function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-sync-'));
  return { file: path.join(dir, 'catalog.db'), indexDir: path.join(dir, 'index') };
}

const top = (index: { search(v: Float32Array, k: number, o?: object): { id: string }[] }, seed: number, o?: object) => index.search(vec(seed), 1, o)[0]?.id;

test('writes after the last index save are replayed at open, deletes included', async () => {
  const { file, indexDir } = setup();
  const store = CatalogStore.open(file);
  store.upsert(Array.from({ length: 30 }, (_, i) => item(`p${i}`, i)));
  const first = await openSyncedIndex(store, indexDir, DIM);
  assert.equal(first.rebuilt, true);
  assert.equal(first.index.size, 30);
  const savedAt = first.index.lastSeq;
  assert.equal(savedAt, store.lastSeq());

  // Acknowledged writes the index never saw, as after a kill -9 between commit and index save.
  store.upsert([item('new1', 100), item('new2', 101, 'blue')]);
  store.upsert([item('p0', 200, 'green')]); // moved
  store.delete(['p1', 'p2']);
  store.close();

  const reopened = CatalogStore.open(file);
  try {
    const synced = await openSyncedIndex(reopened, indexDir, DIM);
    assert.equal(synced.rebuilt, false);
    assert.equal(synced.applied, 5); // new1, new2, p0, p1, p2: the latest change per id
    const { index } = synced;
    assert.equal(index.size, 30);
    assert.equal(index.has('p1'), false);
    assert.equal(index.has('p2'), false);
    assert.equal(top(index, 100), 'new1');
    assert.equal(top(index, 200), 'p0', 'p0 is found at its new vector');
    assert.notEqual(top(index, 0), 'p0', 'and no longer at its old one');
    assert.equal(top(index, 101, { filter: { color: 'BLUE' } }), 'new2', 'replayed facets are filterable');
    assert.equal(top(index, 200, { filter: { color: 'red' } }) === 'p0', false);

    // The catch-up was saved: the next open applies nothing.
    assert.equal(index.lastSeq, reopened.lastSeq());
    const again = await openSyncedIndex(reopened, indexDir, DIM);
    assert.deepEqual([again.applied, again.rebuilt, again.index.size], [0, false, 30]);
  } finally {
    reopened.close();
  }
});

test('a missing, corrupt or other-dimension index is rebuilt from the store', async () => {
  const { file, indexDir } = setup();
  const store = CatalogStore.open(file);
  try {
    store.upsert(Array.from({ length: 20 }, (_, i) => item(`p${i}`, i)));
    store.delete(['p5']);

    const missing = await openSyncedIndex(store, indexDir, DIM);
    assert.deepEqual([missing.rebuilt, missing.applied, missing.index.size], [true, 19, 19]);
    assert.equal(missing.index.has('p5'), false);
    assert.equal(top(missing.index, 7), 'p7');

    fs.writeFileSync(path.join(indexDir, 'index.meta.json'), '{ not json');
    const corrupt = await openSyncedIndex(store, indexDir, DIM);
    assert.deepEqual([corrupt.rebuilt, corrupt.index.size], [true, 19]);
    assert.equal(top(corrupt.index, 7), 'p7');

    // Saved by a model of another dimension: rebuilt at this one from the store's vectors.
    const metaFile = path.join(indexDir, 'index.meta.json');
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    fs.writeFileSync(metaFile, JSON.stringify({ ...meta, dim: DIM * 2 }));
    const wrongDim = await openSyncedIndex(store, indexDir, DIM);
    assert.deepEqual([wrongDim.rebuilt, wrongDim.index.size, wrongDim.index.dim], [true, 19, DIM]);

    // After a rebuild the index was saved, so the next open loads it without rebuilding.
    const next = await openSyncedIndex(store, indexDir, DIM);
    assert.deepEqual([next.rebuilt, next.applied, next.index.size], [false, 0, 19]);

    // An empty store and no index: an empty index, nothing to do.
    const empty = CatalogStore.open(setup().file);
    const e = await openSyncedIndex(empty, setup().indexDir, DIM);
    assert.equal(e.index.size, 0);
    empty.close();
  } finally {
    store.close();
  }
});

test('an index saved ahead of the store (store restored from an older copy) is rebuilt', async () => {
  const { file, indexDir } = setup();
  const store = CatalogStore.open(file);
  try {
    store.upsert([item('a', 1), item('b', 2)]);
    const s = await openSyncedIndex(store, indexDir, DIM);
    s.index.upsert('ghost', vec(3), {});
    await s.index.save(store.lastSeq() + 10);
    const r = await openSyncedIndex(store, indexDir, DIM);
    assert.equal(r.rebuilt, true);
    assert.equal(r.index.has('ghost'), false);
    assert.equal(r.index.size, 2);
  } finally {
    store.close();
  }
});
