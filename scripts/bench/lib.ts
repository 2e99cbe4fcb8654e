/**
 * Shared pieces of the benchmarks: the machine line, table and goal printing, percentiles, a
 * fixed-work concurrency driver, the full-size model pack (built once into models/full), and an
 * engine config that keeps each bench's data in a throwaway folder.
 *
 * Every bench prints its baseline and its subject measured in the same run, then one line per
 * goal saying met or NOT MET with the numbers — a missed goal is printed, never hidden.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig, type Config } from '../../src/config.ts';
import { buildPack } from '../../src/models/build/pack.ts';
import { cudaAvailability } from '../../src/models/runtime.ts';

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export function machine(): string {
  const cpu = /model name\s*:\s*(.+)/.exec(safeRead('/proc/cpuinfo'))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const ram = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${os.availableParallelism()} cores (nproc), ${cpu}, ${ram} GiB RAM, node ${process.version}`;
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Title, machine line and the execution device the run asked for (a CUDA request that cannot be met is said out loud). */
export function header(title: string): void {
  console.log(`\n=== ${title} ===`);
  console.log(`machine: ${machine()}`);
  const device = process.env.OMNISEARCH_DEVICE ?? 'auto';
  const cuda = cudaAvailability();
  const used = device === 'cpu' || !cuda.ok ? 'cpu' : 'cuda';
  console.log(`device: OMNISEARCH_DEVICE=${device} -> ${used}${used === 'cpu' && device !== 'cpu' ? ` (CPU fallback: ${cuda.reason})` : ''}`);
  console.log(`date: ${new Date().toISOString()}`);
}

export type Cell = string | number;

/** A plain, aligned text table (also valid Markdown, so it pastes into docs/benchmarks.md). */
export function table(headers: string[], rows: Cell[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const width = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${width.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of cells) console.log(line(r));
}

/** Numbers to three significant digits (integers above 100 in full). */
export function fmt(n: number): string {
  if (!Number.isFinite(n) || Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 100) return Math.round(n).toString();
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

const goals: { name: string; met: boolean }[] = [];

/** Prints one goal line; `npm run bench` lists them all again at the end. */
export function goal(name: string, met: boolean, detail: string): void {
  goals.push({ name, met });
  console.log(`GOAL ${met ? 'met    ' : 'NOT MET'} ${name}: ${detail}`);
}

export function goalsSummary(): { name: string; met: boolean }[] {
  return [...goals];
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/**
 * Runs `total` calls of fn with `concurrency` in flight; returns throughput and per-call latency.
 * Fixed work (not a fixed duration) so two configurations do exactly the same job.
 */
export async function drive(total: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<{ perSec: number; ms: number; latencies: number[] }> {
  let next = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t = performance.now();
      await fn(i);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const ms = performance.now() - t0;
  return { perSec: (total * 1000) / ms, ms, latencies };
}

/** Whether the GPU run asked for fp16 packs (scripts/bench-gpu.sh sets it). */
export const wantFp16 = () => process.env.OMNISEARCH_BENCH_FP16 === '1';

/**
 * models/full (gitignored), built once with random seeded weights when missing — the real
 * architectures, so timings are real. Says so when it builds (about 70 s on 2 cores, ~2 GB).
 */
export async function ensureFullPack(): Promise<string> {
  const dir = path.join(REPO_ROOT, 'models', 'full');
  const haveFp16 = fs.existsSync(path.join(dir, 'clip', 'onnx', 'text_model_fp16.onnx'));
  if (fs.existsSync(path.join(dir, 'manifest.json')) && (!wantFp16() || haveFp16)) return dir;
  console.log(`building the full-size random-weight model pack into ${path.relative(process.cwd(), dir)}${wantFp16() ? ' (with fp16 variants)' : ''} — once; later runs reuse it`);
  const t0 = performance.now();
  await buildPack({ preset: 'full', outDir: dir, fp16: wantFp16(), onProgress: (step) => step !== 'done' && console.log(`  building ${step}...`) });
  console.log(`full pack built in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return dir;
}

/** A fresh temp data folder per bench, removed at exit. */
export function tempDataDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `omnisearch-bench-${name}-`));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Engine config for a bench: the given pack, a throwaway data dir, no demo catalog, no rate limit
 * (a bench is one client hammering loopback), loopback only. OMNISEARCH_DEVICE/THREADS pass through.
 */
export function benchConfig(packDir: string, dataDir: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    OMNISEARCH_DEVICE: process.env.OMNISEARCH_DEVICE ?? 'auto',
    OMNISEARCH_THREADS: process.env.OMNISEARCH_THREADS ?? '0',
    OMNISEARCH_MODELS: packDir,
    OMNISEARCH_DATA_DIR: dataDir,
    OMNISEARCH_DEMO: '0',
    OMNISEARCH_RATE_LIMIT_RPS: '0',
    HOST: '127.0.0.1',
    PORT: '0',
    ...overrides,
  });
}

/** Deterministic PRNG (mulberry32) for bench data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal from a uniform source (Box–Muller). */
export function gaussian(u: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(u() || 1e-12));
    const th = 2 * Math.PI * u();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

/** Whether this module is the script node was started with (so each bench runs alone or from run-all). */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === new URL(metaUrl).pathname;
}

/**
 * A worker thread running a .ts module. Node 20 workers do not pick up tsx from `--import`, so
 * a small bootstrap registers tsx's ESM hooks in the worker before importing the module.
 */
export function tsWorker(module: URL, workerData: unknown): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** models/tiny (gitignored), built when missing — a second or two. */
export async function ensureTinyPack(): Promise<string> {
  const dir = path.join(REPO_ROOT, 'models', 'tiny');
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return dir;
  console.log(`building the tiny model pack into ${path.relative(process.cwd(), dir)}`);
  await buildPack({ preset: 'tiny', outDir: dir });
  return dir;
}
