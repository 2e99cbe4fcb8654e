/**
 * Builds one shard of the ANN benchmark's tuned index in a worker thread: rows [start, end) of
 * the shared base vectors go into a VectorIndex (ids are global row numbers), which is saved to
 * `dir` for the main thread to open. hnswlib-node adds points on the calling thread only, so
 * shards on worker threads are how a build uses more than one core.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VectorIndex } from '../../src/index/hnsw.ts';

export interface ShardJob {
  base: Float32Array;
  dim: number;
  start: number;
  end: number;
  dir: string;
  M: number;
  efConstruction: number;
}

const job = workerData as ShardJob;
const index = VectorIndex.create(job.dir, job.dim, { M: job.M, efConstruction: job.efConstruction, initialCapacity: job.end - job.start });
const t0 = performance.now();
for (let i = job.start; i < job.end; i++) index.upsert(String(i), job.base.subarray(i * job.dim, (i + 1) * job.dim), {});
const buildMs = performance.now() - t0;
const t1 = performance.now();
await index.save(0);
parentPort!.postMessage({ buildMs, saveMs: performance.now() - t1 });
