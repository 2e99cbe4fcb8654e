/**
 * Tokenizer output -> onnxruntime feeds, shared by the CLIP, intent and BERT runtimes. Only the
 * inputs the session declares are fed: exports differ (CLIP text models often take input_ids
 * only; DistilBERT-style classifiers have no token_type_ids).
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { ort, type ModelSession } from './runtime.ts';

type Encoded = Record<string, number[][] | undefined>;

/**
 * Tokenizes, truncates and pads ourselves: transformers.js truncates *after* adding special tokens,
 * which drops the closing <|endoftext|> / [SEP] of long texts — and CLIP pools at that token.
 * Here a long text keeps its first tokens plus the closing special token, as Python `transformers` does.
 */
export function textFeeds(
  tokenizer: PreTrainedTokenizer,
  ms: ModelSession,
  texts: string[],
  opts: { padding: true | 'max_length'; maxLength: number },
): Record<string, ort.Tensor> {
  const enc = tokenizer(texts, { return_tensor: false, return_token_type_ids: true }) as Encoded;
  const ids = enc.input_ids!;
  const cut = (row: number[]) => (row.length > opts.maxLength ? [...row.slice(0, opts.maxLength - 1), row[row.length - 1]!] : row);
  const rowsOf = (key: string) => (enc[key] ?? ids.map((r) => new Array<number>(r.length).fill(key === 'attention_mask' ? 1 : 0))).map(cut);
  const len = opts.padding === 'max_length' ? opts.maxLength : Math.max(...ids.map((r) => Math.min(r.length, opts.maxLength)));
  const padId = Number(tokenizer.pad_token_id ?? 0);
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of ms.inputNames) {
    if (!['input_ids', 'attention_mask', 'token_type_ids'].includes(name)) {
      throw new Error(`${ms.file} expects input ${name}, which the tokenizer does not produce`);
    }
    const data = new BigInt64Array(texts.length * len);
    const pad = name === 'input_ids' ? BigInt(padId) : 0n;
    rowsOf(name).forEach((row, b) => {
      for (let j = 0; j < len; j++) data[b * len + j] = j < row.length ? BigInt(row[j]!) : pad;
    });
    feeds[name] = new ort.Tensor('int64', data, [texts.length, len]);
  }
  return feeds;
}

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
