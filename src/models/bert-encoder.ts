/**
 * Frozen BERT feature extractor (the pack's `bert/` model): sentence vectors for training and
 * running small heads (train-intent). [CLS] pooling matches what BertForSequenceClassification's
 * pooler reads; mean pooling (masked) is usually the better frozen feature.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { loadTokenizer } from './hf.ts';
import { createSession, type ModelSession, type ort, type RuntimeOptions } from './runtime.ts';
import { defaultRunCostTokens, encodeTexts, runByLength } from './text-inputs.ts';

export type Pooling = 'cls' | 'mean';

export class BertEncoder {
  private constructor(
    private readonly ms: ModelSession,
    private readonly tokenizer: PreTrainedTokenizer,
    readonly hidden: number,
    private readonly maxLength: number,
    private readonly runCostTokens: number,
  ) {}

  /** `dir` holds config.json and the tokenizer files; `file` is the ONNX model (absolute or relative to `dir`). */
  static async load(dir: string, file: string, rt: RuntimeOptions, opts: { maxLength?: number } = {}): Promise<BertEncoder> {
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { hidden_size?: number };
    if (!config.hidden_size) throw new Error(`${dir}/config.json has no hidden_size`);
    const [ms, tokenizer] = await Promise.all([createSession(path.resolve(dir, file), rt), loadTokenizer(dir)]);
    const maxLength = Math.min(Number(tokenizer.model_max_length) || 512, opts.maxLength ?? 128);
    return new BertEncoder(ms, tokenizer, config.hidden_size, maxLength, defaultRunCostTokens(ms, rt.padSplitTokens));
  }

  /** One vector per text, computed in batches of `batchSize` (bounds memory), each split into runs of similar length. */
  async embed(texts: string[], opts: { pooling?: Pooling; batchSize?: number } = {}): Promise<Float32Array[]> {
    const pooling = opts.pooling ?? 'cls';
    const bs = opts.batchSize ?? 32;
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += bs) {
      const enc = encodeTexts(this.tokenizer, texts.slice(i, i + bs), this.maxLength);
      out.push(...(await runByLength(this.ms, enc, this.runCostTokens, (feeds) => this.embedBatch(feeds, pooling))));
    }
    return out;
  }

  sessions(): ModelSession[] {
    return [this.ms];
  }

  private async embedBatch(feeds: Record<string, ort.Tensor>, pooling: Pooling): Promise<Float32Array[]> {
    const res = await this.ms.session.run(feeds, ['last_hidden_state']);
    const h = res.last_hidden_state!;
    const [n, t, d] = h.dims as [number, number, number];
    if (d !== this.hidden) throw new Error(`BERT export gives hidden ${d}, config.json says ${this.hidden}`);
    const data = h.data as Float32Array;
    const mask = feeds.attention_mask?.data as BigInt64Array | undefined;
    return Array.from({ length: n }, (_, b) => {
      if (pooling === 'cls') return data.slice(b * t * d, b * t * d + d);
      const v = new Float32Array(d);
      let count = 0;
      for (let j = 0; j < t; j++) {
        if (mask && mask[b * t + j] === 0n) continue;
        count++;
        const off = (b * t + j) * d;
        for (let k = 0; k < d; k++) v[k]! += data[off + k]!;
      }
      for (let k = 0; k < d; k++) v[k]! /= Math.max(count, 1);
      return v;
    });
  }
}
