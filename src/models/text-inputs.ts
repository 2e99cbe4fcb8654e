/**
 * Tokenizer output -> onnxruntime feeds, shared by the CLIP, intent and BERT runtimes. Only the
 * inputs the session declares are fed: exports differ (CLIP text models often take input_ids
 * only; DistilBERT-style classifiers have no token_type_ids).
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { ort, type ModelSession } from './runtime.ts';

interface TokTensor {
  data: BigInt64Array;
  dims: number[];
}

export function textFeeds(
  tokenizer: PreTrainedTokenizer,
  ms: ModelSession,
  texts: string[],
  opts: { padding: true | 'max_length'; maxLength: number },
): Record<string, ort.Tensor> {
  const enc = tokenizer(texts, {
    padding: opts.padding,
    truncation: true,
    max_length: opts.maxLength,
    return_token_type_ids: true,
  }) as Record<string, TokTensor>;
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of ms.inputNames) {
    let t = enc[name];
    if (!t && name === 'token_type_ids' && enc.input_ids) {
      t = { data: new BigInt64Array(enc.input_ids.data.length), dims: enc.input_ids.dims };
    }
    if (!t) throw new Error(`${ms.file} expects input ${name}, which the tokenizer does not produce`);
    feeds[name] = new ort.Tensor('int64', t.data, t.dims);
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
