/**
 * bench:ann — the HNSW index (src/index/hnsw.ts VectorIndex over hnswlib-node) against exact
 * search, on 100k x 512 unit vectors shaped like CLIP embeddings (see ann-data.ts); `--large`
 * uses 1M. Two index configurations side by side:
 *   service   — VectorIndex's defaults (hnswlib's: M=16, efConstruction=200), built on one
 *               thread, exactly as omnisearch builds and serves it;
 *   N shards  — a parallel build: lower efConstruction, shards built on worker threads (one per
 *               core), each query searched in every shard and the hits merged.
 * Baselines in the same run: exact scan in blocked JS (the brief's "fast exact scan", and the
 * ground truth for recall) and exact scan through onnxruntime's GEMM.
 *
 * Besides the fixed ef grid, each index gets an operating point: the smallest ef whose recall@10
 * reaches TUNE_TARGET on a separate set of tuning queries (bisection), then measured on the evaluation
 * queries the table uses — so the ef is not chosen on the queries it is scored on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_EF_CONSTRUCTION, DEFAULT_M, VectorIndex } from '../../src/index/hnsw.ts';
import { ort } from '../../src/models/runtime.ts';
import { ANN_DATA_DEFAULTS, annData } from './ann-data.ts';
import { exactScanJs, ortExactScanner, recallAtK } from './exact.ts';
import type { ShardJob } from './ann-shard-worker.ts';
import { fmt, goal, header, isMain, table, tempDataDir, tsWorker } from './lib.ts';

const K = 10;
const EFS = [16, 32, 64, 128, 256];
interface Params {
  M: number;
  efConstruction: number;
  shards: number;
}
const SERVICE: Params = { M: DEFAULT_M, efConstruction: DEFAULT_EF_CONSTRUCTION, shards: 1 };
/**
 * Lower efConstruction builds faster and needs a larger ef for the same recall; the table shows
 * both. M 32 was tried and dropped (docs/benchmarks.md: fewer QPS at the same recall).
 */
const SHARDED: Params = { M: 16, efConstruction: 64, shards: Math.max(2, Math.min(os.availableParallelism(), 8)) };

interface Built {
  name: string;
  params: Params;
  shards: VectorIndex[];
  buildMs: number;
  saveMs: number;
  loadMs: number;
  diskBytes: number;
  rssDelta: number;
  heapDelta: number;
  curve: Point[];
  /** Smallest ef reaching TARGET recall on the tuning queries, scored on the evaluation queries. */
  operating: (Point & { tuneRecall: number }) | null;
}

interface Point {
  ef: number;
  recall: number;
  qps: number;
}

const TARGET = 0.95;
/**
 * The ef is chosen for 0.965 on the tuning queries: recall over 200 clustered queries moves by
 * about +-0.01 from one query set to another (0.961 tuning -> 0.950 evaluation in one run), and an
 * ef picked to land exactly on 0.95 misses it on fresh queries about half the time.
 */
const TUNE_TARGET = 0.965;

const dirBytes = (dir: string) => fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** One VectorIndex on the main thread, the way the service builds it. */
async function buildSingle(params: Params, base: Float32Array, dim: number, root: string, name: string): Promise<Omit<Built, 'curve' | 'name' | 'operating'>> {
  const n = base.length / dim;
  const dir = path.join(root, name);
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const index = VectorIndex.create(dir, dim, { M: params.M, efConstruction: params.efConstruction, initialCapacity: n });
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
  return { params, shards: [loaded], buildMs, saveMs, loadMs, diskBytes: dirBytes(dir), rssDelta, heapDelta };
}

/** Shards built in parallel on worker threads, then opened together on the main thread. */
async function buildSharded(params: Params, base: Float32Array, dim: number, root: string): Promise<Omit<Built, 'curve' | 'name' | 'operating'>> {
  const n = base.length / dim;
  const per = Math.ceil(n / params.shards);
  const dirs = Array.from({ length: params.shards }, (_, s) => path.join(root, `shard-${s}`));
  const t0 = performance.now();
  const results = await Promise.all(
    dirs.map(
      (dir, s) =>
        new Promise<{ buildMs: number; saveMs: number }>((resolve, reject) => {
          const job: ShardJob = { base, dim, start: s * per, end: Math.min(n, (s + 1) * per), dir, M: params.M, efConstruction: params.efConstruction };
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
    params,
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

const split = (queries: Float32Array, dim: number) => Array.from({ length: queries.length / dim }, (_, i) => queries.subarray(i * dim, (i + 1) * dim));

function measurePoint(shards: VectorIndex[], qs: Float32Array[], truth: Int32Array[], ef: number): Point {
  const got = qs.map((q) => searchShards(shards, q, ef));
  // QPS over at least 1,000 searches (repeating the query set), one query at a time on one thread.
  const reps = Math.max(1, Math.ceil(1000 / qs.length));
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) for (const q of qs) searchShards(shards, q, ef);
  const qps = (reps * qs.length * 1000) / (performance.now() - t0);
  return { ef, recall: recallAtK(truth, got, K), qps };
}

function curve(shards: VectorIndex[], queries: Float32Array, dim: number, truth: Int32Array[]): Point[] {
  const qs = split(queries, dim);
  return EFS.map((ef) => measurePoint(shards, qs, truth, ef));
}

/** Smallest ef in [K, 1024] with tuning recall >= TUNE_TARGET (recall rises with ef), then scored on the evaluation set. */
function operatingPoint(shards: VectorIndex[], tune: { queries: Float32Array; truth: Int32Array[] }, evalSet: { queries: Float32Array; truth: Int32Array[] }, dim: number): Built['operating'] {
  const tq = split(tune.queries, dim);
  const recallAt = (ef: number) => recallAtK(tune.truth, tq.map((q) => searchShards(shards, q, ef)), K);
  let lo = K;
  let hi = 1024;
  if (recallAt(hi) < TUNE_TARGET) return null;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (recallAt(mid) >= TUNE_TARGET) hi = mid;
    else lo = mid + 1;
  }
  return { ...measurePoint(shards, split(evalSet.queries, dim), evalSet.truth, lo), tuneRecall: recallAt(lo) };
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
  // Evaluation queries first, then as many tuning queries drawn the same way (for the operating ef).
  const { base, queries: allQueries } = annData({ ...ANN_DATA_DEFAULTS, n, queries: 2 * nq });
  const queries = allQueries.subarray(0, nq * dim);
  const tuneQueries = allQueries.subarray(nq * dim);
  console.log(`generated in ${((performance.now() - t) / 1000).toFixed(1)} s (${nq} evaluation + ${nq} tuning queries)`);

  t = performance.now();
  const truth = exactScanJs(base, queries, dim, K);
  const jsQps = (nq * 1000) / (performance.now() - t);
  const tune = { queries: tuneQueries, truth: exactScanJs(base, tuneQueries, dim, K) };
  const evalSet = { queries, truth };

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
  const configs: { name: string; params: Params }[] = [
    { name: 'service', params: SERVICE },
    { name: `${SHARDED.shards} shards`, params: SHARDED },
  ];
  for (const { name, params } of configs) {
    const how = params.shards > 1 ? `${params.shards} shards on worker threads` : '1 thread';
    console.log(`building ${name} (M=${params.M}, efConstruction=${params.efConstruction}, ${how})...`);
    const b = params.shards > 1 ? await buildSharded(params, base, dim, root) : await buildSingle(params, base, dim, root, name);
    built.push({ name, ...b, curve: curve(b.shards, queries, dim, truth), operating: operatingPoint(b.shards, tune, evalSet, dim) });
    b.shards.length = 0; // measured: let the graphs go before the next build (2 x 2 GiB at --large)
  }

  console.log('\nindex build, memory, persistence');
  table(
    ['config', 'M', 'efConstruction', 'threads (shards)', 'build vectors/s', 'RSS delta', 'heap delta', 'on disk', 'save s', 'load s'],
    built.map((b) => [b.name, b.params.M, b.params.efConstruction, b.params.shards, (n * 1000) / b.buildMs, mb(b.rssDelta), mb(b.heapDelta), mb(b.diskBytes), b.saveMs / 1000, b.loadMs / 1000]),
  );
  console.log(`(RSS/heap delta: single indexes measured across their build on the main thread; shards across opening the saved shards on the main thread)`);

  console.log(`\nrecall@${K} and QPS by ef (one query at a time, one thread; exact JS scan: ${fmt(jsQps)} QPS, onnxruntime GEMM scan: ${fmt(ortQps)} QPS)`);
  table(
    ['ef', ...built.flatMap((b) => [`${b.name} recall`, `${b.name} QPS`, `${b.name} x JS scan`])],
    EFS.map((ef, i) => [String(ef), ...built.flatMap((b) => [b.curve[i]!.recall, b.curve[i]!.qps, `${fmt(b.curve[i]!.qps / jsQps)}x`])]),
  );

  console.log(`\noperating point: smallest ef with recall@${K} >= ${TUNE_TARGET} on ${nq} tuning queries (bisection), measured on the ${nq} evaluation queries above`);
  table(
    ['config', 'ef', 'tuning recall', 'evaluation recall', 'QPS', 'x JS scan', 'x onnxruntime GEMM scan'],
    built.map((b) => (b.operating ? [b.name, String(b.operating.ef), b.operating.tuneRecall, b.operating.recall, b.operating.qps, `${fmt(b.operating.qps / jsQps)}x`, `${fmt(b.operating.qps / ortQps)}x`] : [b.name, 'none <= 1024', '-', '-', '-', '-', '-'])),
  );

  const qpsLine = (p: Built['operating']) =>
    p
      ? `recall ${fmt(p.recall)} at ef=${p.ef} (chosen on the tuning queries): ${fmt(p.qps)} QPS = ${fmt(p.qps / jsQps)}x the blocked JS scan (${fmt(jsQps)} QPS); ${fmt(p.qps / ortQps)}x the onnxruntime GEMM scan (${fmt(ortQps)} QPS, 100 queries per pass)`
      : `recall never reaches ${TUNE_TARGET} on the tuning queries (ef up to 1024)`;
  const [service, sharded] = built as [Built, Built];
  // The QPS goal is the service's: its single index is what answers queries.
  const sp = service.operating;
  goal(`ann service index: recall@10 >= 0.95 at >= 50x the fast exact scan's QPS`, !!sp && sp.recall >= TARGET && sp.qps >= 50 * jsQps, qpsLine(sp));
  console.log(`(${sharded.name}: ${qpsLine(sharded.operating)})`);
  // The build goal allows parameter tuning or parallel shards; "equal recall": it must still reach the target.
  const rate = (b: Built) => (n * 1000) / b.buildMs;
  const sh = sharded.operating;
  goal(
    `ann build >= 2,000 vectors/s on ${os.availableParallelism()} cores at equal recall (${sharded.name} vs the service's one-thread build)`,
    rate(sharded) >= 2000 && !!sh && sh.recall >= TARGET,
    `${fmt(rate(sharded))} vectors/s vs ${fmt(rate(service))} (${fmt(rate(sharded) / rate(service))}x); evaluation recall ${sh ? fmt(sh.recall) : '-'} at ef=${sh?.ef ?? 'never'} (${sharded.name}) vs ${sp ? fmt(sp.recall) : '-'} at ef=${sp?.ef ?? 'never'} (service); at ef=256: ${fmt(sharded.curve.at(-1)!.recall)} vs ${fmt(service.curve.at(-1)!.recall)}`,
  );
}

if (isMain(import.meta.url)) await runAnn();
