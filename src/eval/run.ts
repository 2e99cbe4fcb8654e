import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import type { Config } from '../config.ts';
import type { Engine } from '../engine.ts';
import type { SearchRequest } from '../search/search.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { aggregate, percentiles, retrievalMetrics } from './metrics.ts';
import { readQrels, type Qrel } from './qrels.ts';

export const METRICS = ['recall@1', 'recall@5', 'recall@10', 'mrr@10', 'ndcg@10'] as const;

export interface EvalRow {
  name: string;
  queries: number;
  metrics: Record<string, number>;
  /** Milliseconds per stage: p50/p90/p95/p99. */
  latency: Record<string, Record<string, number>>;
}

export interface EvalReport {
  qrels: string;
  pack: string;
  products: number;
  rows: EvalRow[];
}

type Mode = 'hybrid' | 'vector' | 'lexical';
const HYBRID: Record<Mode, SearchRequest['hybrid']> = { hybrid: { mode: 'rrf' }, vector: { mode: 'off' }, lexical: { mode: 'lexical' } };

/**
 * Runs every labelled query through the same search the API serves and scores the ranking.
 * Rows: one per modality and overall (hybrid retrieval, as served), and for text queries the
 * lexical-only and vector-only retrievers side by side.
 */
export async function evaluate(engine: Engine, file: string, opts: { progress?: boolean } = {}): Promise<EvalReport> {
  const { queries, baseDir } = readQrels(file);
  const runs: { q: Qrel; mode: Mode }[] = [];
  for (const q of queries) {
    runs.push({ q, mode: 'hybrid' });
    if (q.modality === 'text') runs.push({ q, mode: 'vector' }, { q, mode: 'lexical' });
  }
  const results: { q: Qrel; mode: Mode; metrics: Record<string, number>; timings: Record<string, number> }[] = [];
  const bar = opts.progress ? new cliProgress.SingleBar({ format: ' eval {bar} {value}/{total} searches' }, cliProgress.Presets.shades_classic) : null;
  bar?.start(runs.length, 0);
  for (const { q, mode } of runs) {
    const res = await engine.search({
      text: q.text,
      image: q.image ? new Uint8Array(fs.readFileSync(path.resolve(baseDir, q.image))) : undefined,
      audio: q.audio ? new Uint8Array(fs.readFileSync(path.resolve(baseDir, q.audio))) : undefined,
      weights: q.weights,
      k: 10,
      hybrid: HYBRID[mode],
    });
    results.push({ q, mode, metrics: retrievalMetrics(res.results.map((r) => r.id), q.relevant), timings: res.timings });
    bar?.increment();
  }
  bar?.stop();

  const row = (name: string, rs: typeof results): EvalRow => {
    const agg = aggregate(rs.map((r) => r.metrics));
    const stages = [...new Set(rs.flatMap((r) => Object.keys(r.timings)))];
    return {
      name,
      queries: rs.length,
      metrics: Object.fromEntries(METRICS.map((m) => [m, agg[m]?.mean ?? 0])),
      latency: Object.fromEntries(stages.map((s) => [s, percentiles(rs.map((r) => r.timings[s]).filter((v): v is number => v !== undefined), [50, 90, 95, 99])])),
    };
  };
  const hybrid = results.filter((r) => r.mode === 'hybrid');
  const rows: EvalRow[] = [];
  for (const m of ['text', 'image', 'voice', 'mixed'] as const) {
    const rs = hybrid.filter((r) => r.q.modality === m);
    if (rs.length) rows.push(row(m, rs));
  }
  for (const mode of ['lexical', 'vector'] as const) {
    const rs = results.filter((r) => r.mode === mode);
    if (rs.length) rows.push(row(`text (${mode} only)`, rs));
  }
  rows.push(row('overall', hybrid));
  return { qrels: path.resolve(file), pack: engine.packDir, products: engine.store.count(), rows };
}

export function evalMarkdown(r: EvalReport): string {
  const fmt = (v: number) => v.toFixed(3);
  const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(1));
  const head = `| set | queries | ${METRICS.join(' | ')} |\n| --- | ---: | ${METRICS.map(() => '---:').join(' | ')} |`;
  const body = r.rows.map((x) => `| ${x.name} | ${x.queries} | ${METRICS.map((m) => fmt(x.metrics[m]!)).join(' | ')} |`).join('\n');
  const stages = ['decode', 'stt', 'understand', 'embed', 'fuse', 'ann', 'lexical', 'hydrate', 'total'];
  const lat = `| set | ${stages.map((s) => `${s} p50/p95`).join(' | ')} |\n| --- | ${stages.map(() => '---:').join(' | ')} |\n` +
    r.rows.map((x) => `| ${x.name} | ${stages.map((s) => (x.latency[s] ? `${ms(x.latency[s].p50)} / ${ms(x.latency[s].p95)}` : '-')).join(' | ')} |`).join('\n');
  return `# Evaluation\n\n- qrels: \`${r.qrels}\`\n- pack: \`${r.pack}\`\n- products: ${r.products}\n\n## Retrieval\n\n${head}\n${body}\n\n## Latency (ms)\n\n${lat}\n`;
}

export async function runEvalCli(args: string[], config: Config): Promise<void> {
  const { values } = parseArgs({ args, options: { qrels: { type: 'string' }, out: { type: 'string' }, demo: { type: 'boolean' } } });
  if (!values.qrels && !values.demo) throw new Error('eval needs --qrels FILE.jsonl, or --demo for the demo catalog\'s shipped query set');
  const { ensurePack } = await import('../models/packs.ts');
  const { Engine } = await import('../engine.ts');
  const engine = await Engine.open(config, await ensurePack(config, { progress: true }));
  try {
    if (engine.store.count() === 0) throw new Error(`the catalog in ${config.dataDir} is empty: ingest products (or start the server once for the demo catalog) before evaluating`);
    const qrels = values.qrels ?? (await demoQrels(config));
    const report = await evaluate(engine, qrels, { progress: true });
    const md = evalMarkdown(report);
    const out = path.resolve(values.out ?? path.join(config.dataDir, 'eval'));
    writeFileAtomic(path.join(out, 'eval.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileAtomic(path.join(out, 'eval.md'), md);
    process.stdout.write(`${md}\nwrote ${path.join(out, 'eval.json')} and eval.md\n`);
    if (engine.manifest.source === 'built') {
      process.stdout.write(`note: pack ${engine.packDir} has random weights; these scores test the pipeline, not search quality.\n`);
    }
  } finally {
    await engine.close();
  }
}

/**
 * The demo catalog's labelled queries (text, re-rendered photos, espeak-ng voice, mixed), made
 * deterministically from the same generator that ingested the catalog.
 */
async function demoQrels(config: Config): Promise<string> {
  const { generateDemoCatalog } = await import('../catalog/demo.ts');
  const { makeDemoQrels } = await import('./demo-qrels.ts');
  const products = await generateDemoCatalog({ imageRoot: config.imageRoot });
  const outDir = path.join(config.dataDir, 'eval', 'demo-qrels');
  const file = await makeDemoQrels({ products, imageRoot: config.imageRoot, outDir });
  process.stderr.write(`demo qrels written to ${file}\n`);
  return file;
}
