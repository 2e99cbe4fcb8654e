/**
 * Tokenizer output -> onnxruntime feeds, shared by the CLIP, intent and BERT runtimes. Only the
 * inputs the session declares are fed: exports differ (CLIP text models often take input_ids
 * only; DistilBERT-style classifiers have no token_type_ids).
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { ort, type ModelSession } from './runtime.ts';

type Encoded = Record<string, number[][] | undefined>;

const TEXT_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

/** Token rows per model input, truncated, not yet padded. */
export interface EncodedTexts {
  rows: Partial<Record<(typeof TEXT_INPUTS)[number], number[][]>>;
  /** Token count of each text after truncation. */
  lengths: number[];
  padId: number;
}

/**
 * Tokenizes and truncates ourselves: transformers.js truncates *after* adding special tokens,
 * which drops the closing <|endoftext|> / [SEP] of long texts — and CLIP pools at that token.
 * Here a long text keeps its first tokens plus the closing special token, as Python `transformers` does.
 */
export function encodeTexts(tokenizer: PreTrainedTokenizer, texts: string[], maxLength: number): EncodedTexts {
  const enc = tokenizer(texts, { return_tensor: false, return_token_type_ids: true }) as Encoded;
  const ids = enc.input_ids!;
  const cut = (row: number[]) => (row.length > maxLength ? [...row.slice(0, maxLength - 1), row[row.length - 1]!] : row);
  const rows: EncodedTexts['rows'] = {};
  for (const key of TEXT_INPUTS) {
    rows[key] = (enc[key] ?? ids.map((r) => new Array<number>(r.length).fill(key === 'attention_mask' ? 1 : 0))).map(cut);
  }
  return { rows, lengths: rows.input_ids!.map((r) => r.length), padId: Number(tokenizer.pad_token_id ?? 0) };
}

/** Feeds for the texts at `indices`, padded to `padTo` or to the longest of them; only inputs the session declares. */
export function feedsFor(ms: ModelSession, enc: EncodedTexts, indices: number[], padTo?: number): Record<string, ort.Tensor> {
  const len = padTo ?? Math.max(...indices.map((i) => enc.lengths[i]!));
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of ms.inputNames) {
    if (!(TEXT_INPUTS as readonly string[]).includes(name)) {
      throw new Error(`${ms.file} expects input ${name}, which the tokenizer does not produce`);
    }
    const rows = enc.rows[name as (typeof TEXT_INPUTS)[number]]!;
    const data = new BigInt64Array(indices.length * len);
    const pad = name === 'input_ids' ? BigInt(enc.padId) : 0n;
    indices.forEach((i, b) => {
      const row = rows[i]!;
      for (let j = 0; j < len; j++) data[b * len + j] = j < row.length ? BigInt(row[j]!) : pad;
    });
    feeds[name] = new ort.Tensor('int64', data, [indices.length, len]);
  }
  return feeds;
}

/**
 * Splits a batch into runs of similar token count. Padding a batch to its longest text wastes
 * compute on CPU, where cost grows with batch x length; an extra run costs roughly `runCostTokens`
 * padded tokens. Sorting by length and cutting where the sum of (runCostTokens + size x longest)
 * is least (an exact O(n^2) dynamic programme; batches are small) gives the cheapest plan.
 * runCostTokens 0 means never split (the GPU case, where a run of 32 costs about a run of 1).
 */
export function lengthGroups(lengths: number[], runCostTokens: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  if (runCostTokens <= 0 || order.length <= 1) return order.length ? [order] : [];
  const n = order.length;
  const best = new Array<number>(n + 1).fill(Infinity);
  const from = new Array<number>(n + 1).fill(0);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    const longest = lengths[order[j - 1]!]!;
    for (let i = 0; i < j; i++) {
      const cost = best[i]! + runCostTokens + (j - i) * longest;
      if (cost < best[j]!) {
        best[j] = cost;
        from[j] = i;
      }
    }
  }
  const groups: number[][] = [];
  for (let j = n; j > 0; j = from[j]!) groups.unshift(order.slice(from[j], j));
  return groups;
}

/** Runs `run` once per length group (one after another: they share the same cores) and returns outputs in input order. */
export async function runByLength<O>(
  ms: ModelSession,
  enc: EncodedTexts,
  runCostTokens: number,
  run: (feeds: Record<string, ort.Tensor>, indices: number[]) => Promise<O[]>,
): Promise<O[]> {
  const out = new Array<O>(enc.lengths.length);
  for (const group of lengthGroups(enc.lengths, runCostTokens)) {
    const res = await run(feedsFor(ms, enc, group), group);
    if (res.length !== group.length) throw new Error(`${ms.file}: ${res.length} outputs for ${group.length} texts`);
    group.forEach((i, k) => (out[i] = res[k]!));
  }
  return out;
}

/**
 * Padded tokens one extra onnxruntime run is worth, by provider. CPU: the full-size CLIP text
 * encoder on 2 cores takes about 4 ms + 0.41 ms per token (batch x length) per run, for batches
 * of 1-32 texts of 4-12 tokens, so a run is worth ~10 tokens (`npm run bench:batching --
 * --cost-table` prints the table and the fit). CUDA: never split.
 */
export function defaultRunCostTokens(ms: ModelSession, configured: number | undefined): number {
  if (configured !== undefined) return configured;
  return ms.provider === 'cuda' ? 0 : CPU_RUN_COST_TOKENS;
}

export const CPU_RUN_COST_TOKENS = 10;

/** Rows of a [N, D] float tensor (copies, so callers may keep them after the tensor is gone). */
export function rows(t: ort.Tensor): Float32Array[] {
  const [n, d] = t.dims as [number, number];
  const data = t.data as Float32Array;
  return Array.from({ length: n }, (_, i) => data.slice(i * d, (i + 1) * d));
}

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}
