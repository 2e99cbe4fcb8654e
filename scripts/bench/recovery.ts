/**
 * bench:recovery — how long a restart takes to make the ANN index consistent with the store
 * (issue: "the ANN index either persisted atomically or rebuilt/caught up from the store at
 * start; say which, and how long it takes for 100k products"). Both paths are measured on
 * 100k x 512 products (`--n` to change):
 *   load + catch-up — the saved index plus 1% of writes made after the save (a crash's worth);
 *   rebuild         — the index file lost or corrupt: every vector re-inserted from the store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CatalogStore } from '../../src/catalog/store.ts';
import { openSyncedIndex } from '../../src/catalog/index-sync.ts';
import { productInput } from '../../src/catalog/types.ts';
import { ANN_DATA_DEFAULTS, annData } from './ann-data.ts';
import { fmt, goal, header, isMain, table, tempDataDir } from './lib.ts';

export async function benchRecovery(n: number): Promise<void> {
  header(`bench:recovery — restart consistency for ${n.toLocaleString()} products x ${ANN_DATA_DEFAULTS.dim}`);
  const dim = ANN_DATA_DEFAULTS.dim;
  const { base } = annData({ ...ANN_DATA_DEFAULTS, n, queries: 1 });
  const dir = tempDataDir('recovery');
  const store = CatalogStore.open(path.join(dir, 'catalog.db'));
  const colors = ['red', 'blue', 'black', 'white'];
  let t0 = performance.now();
  const batch = 1000;
  for (let s = 0; s < n; s += batch) {
    const items = [];
    for (let i = s; i < Math.min(n, s + batch); i++) {
      const v = base.subarray(i * dim, (i + 1) * dim);
      items.push({
        product: productInput.parse({ id: `p${i}`, title: `product ${i}`, category: 'mugs', color: colors[i % 4], price: i % 200 }),
        textEmbedding: v, imageEmbedding: null, vector: v,
      });
    }
    store.upsert(items);
  }
  const storeMs = performance.now() - t0;

  const indexDir = path.join(dir, 'index');
  t0 = performance.now();
  const first = await openSyncedIndex(store, indexDir, dim);
  const rebuildMs = performance.now() - t0;
  // A crash's worth of acknowledged writes after the last save: 1% of the catalog changed.
  const changed = Math.max(1, Math.floor(n / 100));
  for (let s = 0; s < changed; s += batch) {
    const items = [];
    for (let i = s; i < Math.min(changed, s + batch); i++) {
      const v = base.subarray(((i * 7919) % n) * dim, (((i * 7919) % n) + 1) * dim);
      items.push({ product: productInput.parse({ id: `p${i}`, title: `changed ${i}`, category: 'cups' }), textEmbedding: v, imageEmbedding: null, vector: v });
    }
    store.upsert(items);
  }
  t0 = performance.now();
  const caught = await openSyncedIndex(store, indexDir, dim);
  const catchUpMs = performance.now() - t0;
  fs.rmSync(indexDir, { recursive: true, force: true });
  store.close();

  table(
    ['path', 'products', 'replayed', 'rebuilt', 'time', 'products/s'],
    [
      ['store write (baseline: ingest without models)', n, '-', '-', `${fmt(storeMs / 1000)} s`, fmt(n / (storeMs / 1000))],
      ['rebuild from the store (index lost)', first.index.size, first.applied, String(first.rebuilt), `${fmt(rebuildMs / 1000)} s`, fmt(n / (rebuildMs / 1000))],
      ['load + catch-up (1% written after the save)', caught.index.size, caught.applied, String(caught.rebuilt), `${fmt(catchUpMs / 1000)} s`, '-'],
    ],
  );
  goal('restart after a crash catches up instead of rebuilding', !caught.rebuilt && caught.applied === changed, `${caught.applied} changes replayed in ${fmt(catchUpMs / 1000)} s vs ${fmt(rebuildMs / 1000)} s to rebuild`);
  fs.rmSync(dir, { recursive: true, force: true });
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '100000' } } });
  await benchRecovery(Number(values.n));
}
