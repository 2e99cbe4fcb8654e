import { log } from '../log.ts';
import { IndexLoadError, VectorIndex, type VectorIndexOptions } from '../index/hnsw.ts';
import type { CatalogStore } from './store.ts';

export interface SyncedIndex {
  index: VectorIndex;
  /** Changes replayed from the store's log (all products when rebuilt). */
  applied: number;
  rebuilt: boolean;
  ms: number;
}

/**
 * Opens the ANN index consistent with the store. The store is the source of truth: a write is
 * acknowledged once its SQLite transaction commits, while the index file is only saved now and
 * then. So at start the saved index is loaded and every change logged after the seq it was saved
 * at is replayed (idempotent: an upsert replaces, a delete of an absent id is a no-op). That is
 * how writes acknowledged just before a kill -9 come back. A missing, corrupt or wrong-dimension
 * index is rebuilt from the stored vectors and saved at once, so the next start is quick.
 */
export async function openSyncedIndex(store: CatalogStore, indexDir: string, dim: number, opts: VectorIndexOptions = {}): Promise<SyncedIndex> {
  const t0 = performance.now();
  let index: VectorIndex | null = null;
  const saved = VectorIndex.hasSaved(indexDir);
  try {
    index = await VectorIndex.open(indexDir, dim, opts);
  } catch (err) {
    if (!(err instanceof IndexLoadError)) throw err;
    log.warn({ reason: err.reason, err: err.message }, 'saved vector index unusable; rebuilding from the catalog store');
  }

  // Nothing saved yet: built from scratch below (bulk, and sized right) rather than replayed.
  if (index && saved) {
    if (index.lastSeq > store.lastSeq()) {
      // Saved after writes the store no longer has (a store restored from an older copy): the
      // index cannot be trusted to match it.
      log.warn({ indexSeq: index.lastSeq, storeSeq: store.lastSeq() }, 'vector index is ahead of the store; rebuilding');
    } else {
      let applied = 0;
      for (const c of store.changesSince(index.lastSeq)) {
        if (c.deleted || !c.vector) index.remove(c.id);
        else index.upsert(c.id, c.vector, c.facets ?? {});
        applied++;
      }
      if (applied > 0) await index.save(store.lastSeq());
      return { index, applied, rebuilt: false, ms: performance.now() - t0 };
    }
  }

  const fresh = VectorIndex.create(indexDir, dim, { ...opts, initialCapacity: Math.max(opts.initialCapacity ?? 0, store.count() + 16) });
  const seq = store.lastSeq(); // read before the scan: a change racing the scan is replayed next start
  let applied = 0;
  for (const e of store.allEmbeddings()) {
    if (e.vector.length !== dim) {
      throw new Error(`stored product ${e.id} has a ${e.vector.length}-d vector, the model gives ${dim}-d: re-ingest the catalog with this model`);
    }
    fresh.upsert(e.id, e.vector, e.facets);
    applied++;
  }
  await fresh.save(seq);
  return { index: fresh, applied, rebuilt: true, ms: performance.now() - t0 };
}
