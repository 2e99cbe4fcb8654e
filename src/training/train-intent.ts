import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { classificationReport, reportToMarkdown, type ClassificationReport } from '../eval/metrics.ts';
import { log } from '../log.ts';
import { BertEncoder, type Pooling } from '../models/bert-encoder.ts';
import { DEFAULT_INTENT_LABELS } from '../models/intent-labels.ts';
import { readManifest } from '../models/registry.ts';
import { packDirFor } from '../models/packs.ts';
import type { RuntimeOptions } from '../models/runtime.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { readJsonl } from '../util/jsonl.ts';
import { INTENT_HEAD_DEFAULTS, predictHead, trainIntentHead, type EpochStats, type Example } from './intent-head.ts';
import { intentHeadToOnnx } from './onnx-heads.ts';
import { permutation, Rng } from './rng.ts';

/** The labelled demo query set shipped with the project (see datasets/intents/README.md). */
export const DEMO_INTENT_DATA = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../datasets/intents');

const row = z.object({ text: z.string().min(1).max(2000), label: z.string().min(1).max(100) });
export type LabelledQuery = z.infer<typeof row>;

export function readQueries(file: string): LabelledQuery[] {
  return readJsonl(file, row);
}

export interface Splits {
  train: LabelledQuery[];
  val: LabelledQuery[];
  test: LabelledQuery[];
}

/**
 * A folder with train/val/test.jsonl keeps its fixed split; a single file is split 70/15/15
 * per label (stratified) with the seed, so every label is in every split.
 */
export function loadSplits(data: string, seed: number): Splits {
  if (fs.statSync(data).isDirectory()) {
    const f = (n: string) => path.join(data, `${n}.jsonl`);
    for (const n of ['train', 'val', 'test']) if (!fs.existsSync(f(n))) throw new Error(`${data} needs train.jsonl, val.jsonl and test.jsonl`);
    return { train: readQueries(f('train')), val: readQueries(f('val')), test: readQueries(f('test')) };
  }
  const all = readQueries(data);
  const byLabel = new Map<string, LabelledQuery[]>();
  for (const q of all) byLabel.set(q.label, [...(byLabel.get(q.label) ?? []), q]);
  const rng = new Rng(seed);
  const out: Splits = { train: [], val: [], test: [] };
  for (const [, qs] of [...byLabel].sort(([a], [b]) => a.localeCompare(b))) {
    const order = permutation(qs.length, rng).map((i) => qs[i]!);
    const nTest = Math.max(1, Math.round(qs.length * 0.15));
    const nVal = Math.max(1, Math.round(qs.length * 0.15));
    out.test.push(...order.slice(0, nTest));
    out.val.push(...order.slice(nTest, nTest + nVal));
    out.train.push(...order.slice(nTest + nVal));
  }
  return out;
}

/** The default label set keeps its documented order when the data uses only those labels. */
export function labelsOf(s: Splits): string[] {
  const seen = new Set([...s.train, ...s.val, ...s.test].map((q) => q.label));
  const defaults: readonly string[] = DEFAULT_INTENT_LABELS;
  return [...seen].every((l) => defaults.includes(l))
    ? DEFAULT_INTENT_LABELS.filter((l) => seen.has(l))
    : [...seen].sort();
}

export interface TrainIntentOptions {
  data: string;
  encoderDir: string;
  encoderFile?: string;
  out: string;
  seed: number;
  epochs?: number;
  hidden?: number;
  pooling?: Pooling;
  rt: RuntimeOptions;
  progress?: boolean;
}

export interface TrainIntentReport {
  labels: string[];
  sizes: { train: number; val: number; test: number };
  bestEpoch: number;
  stoppedEarly: boolean;
  history: EpochStats[];
  test: ClassificationReport;
  encoder: string;
  pooling: Pooling;
  seed: number;
}

/**
 * Fine-tunes the intent model the way the issue asks: the BERT encoder frozen, a classification
 * head trained on its pooled features, written as an intent pack (config.json with the labels and
 * where the encoder is, onnx/head.onnx) plus report.json and report.md. The pack appears whole
 * (temp folder + rename), so a running server never loads half of one.
 */
export async function trainIntent(o: TrainIntentOptions): Promise<TrainIntentReport> {
  const splits = loadSplits(o.data, o.seed);
  const labels = labelsOf(splits);
  const pooling = o.pooling ?? 'mean';
  const encoderFile = o.encoderFile ?? 'onnx/model.onnx';
  const encoder = await BertEncoder.load(o.encoderDir, encoderFile, o.rt);

  const texts = [...splits.train, ...splits.val, ...splits.test].map((q) => q.text);
  const embedBar = o.progress ? new cliProgress.SingleBar({ format: ' encode {bar} {value}/{total} queries' }, cliProgress.Presets.shades_classic) : null;
  embedBar?.start(texts.length, 0);
  const feats: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += 64) {
    feats.push(...(await encoder.embed(texts.slice(i, i + 64), { pooling })));
    embedBar?.update(Math.min(i + 64, texts.length));
  }
  embedBar?.stop();
  await Promise.all(encoder.sessions().map((s) => s.session.release()));

  let at = 0;
  const toExamples = (qs: LabelledQuery[]): Example[] => qs.map((q) => ({ x: feats[at++]!, y: labels.indexOf(q.label) }));
  const train = toExamples(splits.train);
  const val = toExamples(splits.val);
  const test = toExamples(splits.test);

  const epochs = o.epochs ?? INTENT_HEAD_DEFAULTS.epochs;
  const bar = o.progress
    ? new cliProgress.SingleBar({ format: ' train {bar} epoch {value}/{total} | loss {loss} | val acc {acc} | val macro-F1 {f1}' }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(epochs, 0, { loss: '-', acc: '-', f1: '-' });
  const result = trainIntentHead(
    { train, val },
    {
      labels, seed: o.seed, epochs, hidden: o.hidden ?? INTENT_HEAD_DEFAULTS.hidden, classWeights: 'balanced',
      onEpoch: (e) => bar?.update(e.epoch, { loss: e.trainLoss.toFixed(4), acc: e.valAccuracy.toFixed(3), f1: e.valMacroF1.toFixed(3) }),
    },
  );
  bar?.stop();

  const argmax = (p: Float32Array) => p.reduce((best, v, i) => (v > p[best]! ? i : best), 0);
  const report = classificationReport(test.map((e) => e.y), test.map((e) => argmax(predictHead(result.head, e.x))), labels);
  const out: TrainIntentReport = {
    labels,
    sizes: { train: train.length, val: val.length, test: test.length },
    bestEpoch: result.bestEpoch,
    stoppedEarly: result.stoppedEarly,
    history: result.history,
    test: report,
    encoder: path.resolve(o.encoderDir),
    pooling,
    seed: o.seed,
  };

  const dest = path.resolve(o.out);
  const tmp = `${dest}.training-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'onnx'), { recursive: true });
  const config = {
    architectures: ['OmnisearchIntentHead'],
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    // Relative when the encoder sits beside the pack (the pulled `bert/`), so the pack can move with it.
    omnisearch_head: { encoder: { dir: path.relative(dest, path.resolve(o.encoderDir)) || '.', file: encoderFile }, pooling },
  };
  writeFileAtomic(path.join(tmp, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  writeFileAtomic(path.join(tmp, 'onnx', 'head.onnx'), intentHeadToOnnx(result.head));
  writeFileAtomic(path.join(tmp, 'report.json'), JSON.stringify(out, null, 2) + '\n');
  writeFileAtomic(path.join(tmp, 'report.md'), reportMarkdown(out));
  const old = `${dest}.old-${process.pid}`;
  if (fs.existsSync(dest)) fs.renameSync(dest, old);
  fs.renameSync(tmp, dest);
  fs.rmSync(old, { recursive: true, force: true });
  return out;
}

function reportMarkdown(r: TrainIntentReport): string {
  return [
    '# Intent head training report',
    '',
    `- encoder: \`${r.encoder}\` (frozen, ${r.pooling} pooling)`,
    `- seed: ${r.seed}; best epoch ${r.bestEpoch} of ${r.history.length}${r.stoppedEarly ? ' (stopped early)' : ''}`,
    `- sizes: train ${r.sizes.train}, validation ${r.sizes.val}, test ${r.sizes.test}`,
    '',
    '## Test split',
    '',
    reportToMarkdown(r.test),
    '',
  ].join('\n');
}

/** After `models pull`: train the pack's intent head on the shipped demo query set. */
export async function trainDefaultIntent(packDir: string, rt: RuntimeOptions, progress: boolean): Promise<void> {
  const manifest = readManifest(packDir);
  const bert = manifest.models.bert;
  if (!bert) throw new Error(`pack ${packDir} has no bert encoder to train the intent head on`);
  const report = await trainIntent({
    data: DEMO_INTENT_DATA, encoderDir: path.join(packDir, bert.dir), encoderFile: bert.files.model, out: path.join(packDir, 'intent'), seed: 42, rt, progress,
  });
  manifest.models.intent = { dir: 'intent', files: { head: 'onnx/head.onnx' } };
  writeFileAtomic(path.join(packDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  log.info({ accuracy: report.test.accuracy, macroF1: report.test.macroF1 }, 'intent head trained on the demo query set');
}

export async function runTrainIntentCli(args: string[], config: Config): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' }, encoder: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' },
      epochs: { type: 'string' }, hidden: { type: 'string' }, pooling: { type: 'string' },
    },
  });
  if (!values.data) throw new Error('train-intent needs --data FILE.jsonl (or a folder with train/val/test.jsonl)');
  let encoderDir = values.encoder;
  if (!encoderDir) {
    const { dir } = packDirFor(config);
    const m = readManifest(dir);
    if (!m.models.bert) throw new Error(`pack ${dir} has no bert encoder; pass --encoder DIR`);
    encoderDir = path.join(dir, m.models.bert.dir);
  }
  const out = values.out ?? path.join(config.dataDir, 'models', 'intent');
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
    return n;
  };
  if (values.pooling && values.pooling !== 'mean' && values.pooling !== 'cls') throw new Error('--pooling must be mean or cls');
  const r = await trainIntent({
    data: values.data, encoderDir, out, seed: num(values.seed, '--seed') ?? 42, epochs: num(values.epochs, '--epochs'), hidden: num(values.hidden, '--hidden'),
    pooling: values.pooling as Pooling | undefined, rt: { device: config.OMNISEARCH_DEVICE, threads: config.OMNISEARCH_THREADS }, progress: true,
  });
  process.stdout.write(
    `${reportToMarkdown(r.test)}\n\nwrote the intent pack, report.json and report.md to ${path.resolve(out)}\n` +
      `a running server picks it up with POST /v1/admin/reload or kill -HUP <pid>\n`,
  );
}
