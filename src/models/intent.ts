/**
 * Query intent classification with a BERT sequence classifier (logits -> softmax over the labels
 * of config.json `id2label`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { loadTokenizer } from './hf.ts';
import { resolveModelFile, type PackManifest, type Variant } from './registry.ts';
import { createSession, type ModelSession, type RuntimeOptions } from './runtime.ts';
import { rows, textFeeds } from './text-inputs.ts';
import { log } from '../log.ts';

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

export class IntentModel {
  private constructor(
    private readonly ms: ModelSession,
    private readonly tokenizer: PreTrainedTokenizer,
    readonly labels: string[],
    private readonly maxLength: number,
  ) {}

  static async load(packDir: string, manifest: PackManifest, rt: RuntimeOptions, variant: Variant = 'fp32'): Promise<IntentModel> {
    const r = resolveModelFile(packDir, 'intent', 'model', variant, manifest);
    if (r.variant !== r.requested) log.warn({ file: path.basename(r.file), requested: r.requested }, `no ${r.requested} intent file; using ${r.variant}`);
    const labels = readLabels(r.dir);
    const [ms, tokenizer] = await Promise.all([createSession(r.file, rt), loadTokenizer(r.dir)]);
    const maxLength = Math.min(Number(tokenizer.model_max_length) || 512, MAX_QUERY_TOKENS);
    return new IntentModel(ms, tokenizer, labels, maxLength);
  }

  async classify(texts: string[]): Promise<IntentResult[]> {
    if (texts.length === 0) return [];
    const feeds = textFeeds(this.tokenizer, this.ms, texts, { padding: true, maxLength: this.maxLength });
    const out = await this.ms.session.run(feeds, ['logits']);
    return rows(out.logits!).map((logits) => {
      if (logits.length !== this.labels.length) throw new Error(`intent model gives ${logits.length} logits for ${this.labels.length} labels`);
      const ranked = [...softmax(logits)].map((confidence, i) => ({ label: this.labels[i]!, confidence })).sort((a, b) => b.confidence - a.confidence);
      const [top, ...alternatives] = ranked;
      return { ...top!, alternatives };
    });
  }

  sessions(): ModelSession[] {
    return [this.ms];
  }
}
