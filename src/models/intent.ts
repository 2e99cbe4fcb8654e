/**
 * Query intent classification (logits -> softmax over the labels of config.json `id2label`), from
 * either of two layouts:
 * - a BERT sequence classifier, `onnx/model.onnx` -> `logits` (the pack's `intent/` model);
 * - a trained head (`omnisearch train-intent`): a frozen BERT encoder (`config.json`
 *   `omnisearch_head.encoder`) whose pooled features feed `onnx/head.onnx` -> `logits`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { loadTokenizer } from './hf.ts';
import { resolveModelFile, type PackManifest, type Variant } from './registry.ts';
import { createSession, ort, type ModelSession, type RuntimeOptions } from './runtime.ts';
import { defaultRunCostTokens, encodeTexts, rows, runByLength } from './text-inputs.ts';
import { BertEncoder, type Pooling } from './bert-encoder.ts';
import { log } from '../log.ts';
import { InFlight } from '../util/in-flight.ts';

export interface IntentScore {
  label: string;
  confidence: number;
}
export interface IntentResult extends IntentScore {
  /** The other labels, most likely first. */
  alternatives: IntentScore[];
}

/** Queries are short; 128 tokens bounds the cost of a pasted paragraph. */
const MAX_QUERY_TOKENS = 128;

export function readLabels(dir: string): string[] {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { id2label?: Record<string, string> };
  const entries = Object.entries(config.id2label ?? {}).map(([id, l]) => [Number(id), l] as const);
  if (entries.length === 0) throw new Error(`${dir}/config.json has no id2label`);
  entries.sort((a, b) => a[0] - b[0]);
  entries.forEach(([id], i) => {
    if (id !== i) throw new Error(`${dir}/config.json id2label ids are not 0..${entries.length - 1}`);
  });
  return entries.map(([, l]) => l);
}

export function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** config.json of a trained head: where its frozen encoder lives and how features are pooled. */
export interface HeadConfig {
  encoder: { dir: string; file: string };
  pooling: Pooling;
}

export function readHeadConfig(dir: string): HeadConfig | null {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { omnisearch_head?: HeadConfig };
  return config.omnisearch_head ?? null;
}

export class IntentModel {
  private head: { encoder: BertEncoder; ms: ModelSession; pooling: Pooling } | null = null;
  /** Where the model came from: the pack's classifier or a trained head folder. */
  source = '';
  private readonly inFlight = new InFlight();

  private constructor(
    private readonly ms: ModelSession,
    private readonly tokenizer: PreTrainedTokenizer | null,
    readonly labels: string[],
    private readonly maxLength: number,
    private readonly runCostTokens = 0,
  ) {}

  /** A shop's trained head (`<data dir>/models/intent`) when present, else the pack's intent model. */
  static async loadPreferred(trainedDir: string, packDir: string, manifest: PackManifest, rt: RuntimeOptions, variant: Variant = 'fp32'): Promise<IntentModel> {
    if (fs.existsSync(path.join(trainedDir, 'config.json'))) return IntentModel.loadHead(trainedDir, rt);
    const entry = manifest.models.intent;
    if (!entry) throw new Error(`model pack ${packDir} has no intent model; run \`omnisearch train-intent\` or \`omnisearch models pull\``);
    const headDir = path.resolve(packDir, entry.dir);
    if (entry.files.head) return IntentModel.loadHead(headDir, rt);
    const m = await IntentModel.load(packDir, manifest, rt, variant);
    m.source = headDir;
    return m;
  }

  /** A trained head folder: config.json (labels + encoder location), onnx/head.onnx. */
  static async loadHead(dir: string, rt: RuntimeOptions): Promise<IntentModel> {
    const cfg = readHeadConfig(dir);
    if (!cfg) throw new Error(`${dir}/config.json is not a trained intent head (no omnisearch_head)`);
    const labels = readLabels(dir);
    const encoderDir = path.resolve(dir, cfg.encoder.dir);
    const [encoder, ms] = await Promise.all([
      BertEncoder.load(encoderDir, cfg.encoder.file, rt, { maxLength: MAX_QUERY_TOKENS }),
      createSession(path.join(dir, 'onnx', 'head.onnx'), rt),
    ]);
    const m = new IntentModel(ms, null, labels, MAX_QUERY_TOKENS);
    m.head = { encoder, ms, pooling: cfg.pooling };
    m.source = dir;
    return m;
  }

  static async load(packDir: string, manifest: PackManifest, rt: RuntimeOptions, variant: Variant = 'fp32'): Promise<IntentModel> {
    const r = resolveModelFile(packDir, 'intent', 'model', variant, manifest);
    if (r.variant !== r.requested) log.warn({ file: path.basename(r.file), requested: r.requested }, `no ${r.requested} intent file; using ${r.variant}`);
    const labels = readLabels(r.dir);
    const [ms, tokenizer] = await Promise.all([createSession(r.file, rt), loadTokenizer(r.dir)]);
    const maxLength = Math.min(Number(tokenizer.model_max_length) || 512, MAX_QUERY_TOKENS);
    return new IntentModel(ms, tokenizer, labels, maxLength, defaultRunCostTokens(ms, rt.padSplitTokens));
  }

  async classify(texts: string[]): Promise<IntentResult[]> {
    if (texts.length === 0) return [];
    return (await this.logits(texts)).map((logits) => {
      if (logits.length !== this.labels.length) throw new Error(`intent model gives ${logits.length} logits for ${this.labels.length} labels`);
      const ranked = [...softmax(logits)].map((confidence, i) => ({ label: this.labels[i]!, confidence })).sort((a, b) => b.confidence - a.confidence);
      const [top, ...alternatives] = ranked;
      return { ...top!, alternatives };
    });
  }

  /** Raw logits per text, from whichever layout this model has. */
  logits(texts: string[]): Promise<Float32Array[]> {
    return this.inFlight.track(() => this.run(texts));
  }

  private async run(texts: string[]): Promise<Float32Array[]> {
    if (this.head) {
      const features = await this.head.encoder.embed(texts, { pooling: this.head.pooling });
      const dim = features[0]!.length;
      const flat = new Float32Array(features.length * dim);
      features.forEach((f, i) => flat.set(f, i * dim));
      const input = this.head.ms.inputNames[0]!;
      const out = await this.head.ms.session.run({ [input]: new ort.Tensor('float32', flat, [features.length, dim]) }, ['logits']);
      return rows(out.logits!);
    }
    const enc = encodeTexts(this.tokenizer!, texts, this.maxLength);
    return runByLength(this.ms, enc, this.runCostTokens, async (feeds) => rows((await this.ms.session.run(feeds, ['logits'])).logits!));
  }

  sessions(): ModelSession[] {
    return this.head ? [...this.head.encoder.sessions(), this.head.ms] : [this.ms];
  }

  /** Frees the onnxruntime sessions (after a reload swapped in a new model) once running calls finish. */
  async release(): Promise<void> {
    await this.inFlight.drained();
    await Promise.all(this.sessions().map((s) => s.session.release()));
  }
}
