/**
 * bench:ann — the HNSW index (src/index/hnsw.ts VectorIndex over hnswlib-node) against exact
 * search, on 100k x 512 unit vectors shaped like CLIP embeddings (see ann-data.ts); `--large`
 * uses 1M. Two index configurations side by side:
 *   default — VectorIndex's defaults (M=16, efConstruction=200), built on one thread;
 *   tuned   — TUNED below: lower efConstruction, built as shards on worker threads (one per core),
 *             each query searched in every shard and the hits merged.
 * Baselines in the same run: exact scan in blocked JS (the brief's "fast exact scan", and the
 * ground truth for recall) and exact scan through onnxruntime's GEMM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { VectorIndex } from '../../src/index/hnsw.ts';
import { ort } from '../../src/models/runtime.ts';
import { ANN_DATA_DEFAULTS, annData } from './ann-data.ts';
import { exactScanJs, ortExactScanner, recallAtK } from './exact.ts';
import type { ShardJob } from './ann-shard-worker.ts';
import { fmt, goal, header, isMain, table, tempDataDir, tsWorker } from './lib.ts';

const K = 10;
const EFS = [16, 32, 64, 128, 256];
const DEFAULT = { M: 16, efConstruction: 200, shards: 1 };
/** From a sweep on this data at 20k (docs/benchmarks.md): efConstruction 200 -> 64 builds ~2.5x faster for ~0.02 recall at ef=128. */
const TUNED = { M: 16, efConstruction: 64, shards: Math.max(1, Math.min(os.availableParallelism(), 8)) };

interface Built {
  name: string;
  params: typeof DEFAULT;
  shards: VectorIndex[];
  buildMs: number;
  saveMs: number;
  loadMs: number;
  diskBytes: number;
  rssDelta: number;
  heapDelta: number;
  curve: { ef: number; recall: number; qps: number }[];
}

const dirBytes = (dir: string) => fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** Default config: one VectorIndex on the main thread, exactly as the service builds it. */
async function buildSingle(base: Float32Array, dim: number, root: string): Promise<Omit<Built, 'curve' | 'name'>> {
  const n = base.length / dim;
  const dir = path.join(root, 'default');
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const index = VectorIndex.create(dir, dim, { M: DEFAULT.M, efConstruction: DEFAULT.efConstruction, initialCapacity: n });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) index.upsert(String(i), base.subarray(i * dim, (i + 1) * dim), {});
  const buildMs = performance.now() - t0;
  global.gc?.();
  const rssDelta = process.memoryUsage().rss - rss0;
  const heapDelta = process.memoryUsage().heapUsed - heap0;
  let t = performance.now();
  await index.save(0);
  const saveMs = performance.now() - t;
  t = performance.now();
  const loaded = await VectorIndex.open(dir, dim);
  const loadMs = performance.now() - t;
  return { params: DEFAULT, shards: [loaded], buildMs, saveMs, loadMs, diskBytes: dirBytes(dir), rssDelta, heapDelta };
}

/** Tuned config: shards built in parallel on worker threads, then opened together on the main thread. */
async function buildSharded(base: Float32Array, dim: number, root: string): Promise<Omit<Built, 'curve' | 'name'>> {
  const n = base.length / dim;
  const per = Math.ceil(n / TUNED.shards);
  const dirs = Array.from({ length: TUNED.shards }, (_, s) => path.join(root, `tuned-${s}`));
  const t0 = performance.now();
  const results = await Promise.all(
    dirs.map(
      (dir, s) =>
        new Promise<{ buildMs: number; saveMs: number }>((resolve, reject) => {
          const job: ShardJob = { base, dim, start: s * per, end: Math.min(n, (s + 1) * per), dir, M: TUNED.M, efConstruction: TUNED.efConstruction };
          const w = tsWorker(new URL('./ann-shard-worker.ts', import.meta.url), job);
          w.once('message', resolve);
          w.once('error', reject);
          w.once('exit', (code) => code !== 0 && reject(new Error(`shard ${s} worker exited with ${code}`)));
        }),
    ),
  );
  // Wall time of the parallel build, without the saves that each worker did after its build.
  const buildMs = performance.now() - t0 - Math.max(...results.map((r) => r.saveMs));
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const t = performance.now();
  const shards = await Promise.all(dirs.map((d) => VectorIndex.open(d, dim)));
  const loadMs = performance.now() - t;
  global.gc?.();
  return {
    params: TUNED,
    shards,
    buildMs,
    saveMs: Math.max(...results.map((r) => r.saveMs)),
    loadMs,
    diskBytes: dirs.reduce((s, d) => s + dirBytes(d), 0),
    rssDelta: process.memoryUsage().rss - rss0,
    heapDelta: process.memoryUsage().heapUsed - heap0,
  };
}

/** Top-k over all shards: each shard's top-k, merged by score. */
function searchShards(shards: VectorIndex[], q: Float32Array, ef: number): number[] {
  if (shards.length === 1) return shards[0]!.search(q, K, { ef }).map((h) => Number(h.id));
  const hits = shards.flatMap((s) => s.search(q, K, { ef }));
  hits.sort((a, b) => b.score - a.score);
  return hits.slice(0, K).map((h) => Number(h.id));
}

function curve(shards: VectorIndex[], queries: Float32Array, dim: number, truth: Int32Array[]): Built['curve'] {
  const nq = queries.length / dim;
  const qs = Array.from({ length: nq }, (_, i) => queries.subarray(i * dim, (i + 1) * dim));
  return EFS.map((ef) => {
    const got = qs.map((q) => searchShards(shards, q, ef));
    // QPS over at least 1,000 searches (repeating the query set), one query at a time on one thread.
    const reps = Math.max(1, Math.ceil(1000 / nq));
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) for (const q of qs) searchShards(shards, q, ef);
    const qps = (reps * nq * 1000) / (performance.now() - t0);
    return { ef, recall: recallAtK(truth, got, K), qps };
  });
}

export async function runAnn(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { large: { type: 'boolean' }, n: { type: 'string' }, queries: { type: 'string' } }, allowPositionals: true });
  const n = values.n ? Number(values.n) : values.large ? 1_000_000 : 100_000;
  const nq = values.queries ? Number(values.queries) : values.large ? 100 : 200;
  const dim = ANN_DATA_DEFAULTS.dim;
  header(`bench:ann — ${n.toLocaleString('en')} x ${dim} vectors, ${nq} queries, recall@${K}`);
  const a = ANN_DATA_DEFAULTS;
  console.log(`data: ${a.centres} centres, noise norm ${a.noise}x the centre spread, variance spectrum (j+1)^-${a.spectrumPower}, shared component ${a.shared}; unit vectors, inner product`);

  let t = performance.now();
  const { base, queries } = annData({ ...ANN_DATA_DEFAULTS, n, queries: nq });
  console.log(`generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  t = performance.now();
  const truth = exactScanJs(base, queries, dim, K);
  const jsQps = (nq * 1000) / (performance.now() - t);

  const scanner = await ortExactScanner(dim, K);
  // onnxruntime-node refuses SharedArrayBuffer-backed data: give it a plain copy.
  const baseTensor = new ort.Tensor('float32', Float32Array.from(base), [n, dim]);
  await scanner.search(baseTensor, queries.subarray(0, dim)); // warm-up
  t = performance.now();
  const ortGot: Int32Array[] = [];
  for (let q = 0; q < nq; q += 100) ortGot.push(...(await scanner.search(baseTensor, queries.subarray(q * dim, Math.min(nq, q + 100) * dim))));
  const ortQps = (nq * 1000) / (performance.now() - t);
  const single = Math.min(nq, 20);
  t = performance.now();
  for (let q = 0; q < single; q++) await scanner.search(baseTensor, queries.subarray(q * dim, (q + 1) * dim));
  const ortSingleQps = (single * 1000) / (performance.now() - t);
  await scanner.release();

  console.log('\nexact search (baselines)');
  table(
    ['method', 'queries per pass', 'QPS', `recall@${K} vs JS scan`],
    [
      ['blocked JS dot products (Float32Array, 1 thread) — ground truth', nq, jsQps, 1],
      ['onnxruntime Gemm + TopK (MLAS, all cores)', 100, ortQps, recallAtK(truth, ortGot, K)],
      ['onnxruntime Gemm + TopK, one query per call', 1, ortSingleQps, '-'],
    ],
  );

  const root = tempDataDir('ann');
  const built: Built[] = [];
  console.log(`\nbuilding default (M=${DEFAULT.M}, efConstruction=${DEFAULT.efConstruction}, 1 thread)...`);
  const d = await buildSingle(base, dim, root);
  built.push({ name: 'default', ...d, curve: curve(d.shards, queries, dim, truth) });
  console.log(`building tuned (M=${TUNED.M}, efConstruction=${TUNED.efConstruction}, ${TUNED.shards} shards on worker threads)...`);
  const s = await buildSharded(base, dim, root);
  built.push({ name: 'tuned', ...s, curve: curve(s.shards, queries, dim, truth) });

  console.log('\nindex build, memory, persistence');
  table(
    ['config', 'M', 'efConstruction', 'threads (shards)', 'build vectors/s', 'RSS delta', 'heap delta', 'on disk', 'save s', 'load s'],
    built.map((b) => [b.name, b.params.M, b.params.efConstruction, b.params.shards, (n * 1000) / b.buildMs, mb(b.rssDelta), mb(b.heapDelta), mb(b.diskBytes), b.saveMs / 1000, b.loadMs / 1000]),
  );
  console.log(`(RSS/heap delta: default measured across its build on the main thread; tuned across opening its saved shards on the main thread)`);

  console.log(`\nrecall@${K} and QPS by ef (one query at a time, one thread; exact JS scan: ${fmt(jsQps)} QPS, onnxruntime GEMM scan: ${fmt(ortQps)} QPS)`);
  table(
    ['ef', ...built.flatMap((b) => [`${b.name} recall`, `${b.name} QPS`, `${b.name} x JS scan`])],
    EFS.map((ef, i) => [String(ef), ...built.flatMap((b) => [b.curve[i]!.recall, b.curve[i]!.qps, `${fmt(b.curve[i]!.qps / jsQps)}x`])]),
  );

  const [def, tuned] = built as [Built, Built];
  const firstAt = (b: Built) => b.curve.find((c) => c.recall >= 0.95);
  for (const b of built) {
    const p = firstAt(b);
    goal(
      `ann ${b.name}: recall@10 >= 0.95 at >= 50x the fast exact scan's QPS`,
      !!p && p.qps >= 50 * jsQps,
      p
        ? `recall ${fmt(p.recall)} at ef=${p.ef}: ${fmt(p.qps)} QPS = ${fmt(p.qps / jsQps)}x the blocked JS scan (${fmt(jsQps)} QPS); ${fmt(p.qps / ortQps)}x the onnxruntime GEMM scan (${fmt(ortQps)} QPS, 100 queries per pass)`
        : `recall never reaches 0.95 (best ${fmt(Math.max(...b.curve.map((c) => c.recall)))} at ef=${EFS.at(-1)})`,
    );
  }
  const tunedRate = (n * 1000) / tuned.buildMs;
  const dp = firstAt(def);
  const tp = firstAt(tuned);
  goal(
    `ann build >= 2,000 vectors/s on ${os.availableParallelism()} cores at equal recall (tuned vs default)`,
    tunedRate >= 2000 && !!tp && !!dp,
    `tuned ${fmt(tunedRate)} vectors/s vs default ${fmt((n * 1000) / def.buildMs)}; recall 0.95 reached at ef=${tp?.ef ?? 'never'} (tuned) / ef=${dp?.ef ?? 'never'} (default); at ef=256: ${fmt(tuned.curve.at(-1)!.recall)} vs ${fmt(def.curve.at(-1)!.recall)}`,
  );
}

if (isMain(import.meta.url)) await runAnn();
