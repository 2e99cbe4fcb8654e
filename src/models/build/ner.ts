/**
 * Builds an optional query NER model folder (random seeded weights), in the layout of a Hugging
 * Face `BertForTokenClassification` export (Optimum / transformers.js): config.json with BIO
 * `id2label`/`label2id`, the BERT WordPiece tokenizer files, and `onnx/model.onnx` taking
 * input_ids, attention_mask, token_type_ids int64 [batch_size, sequence_length] to `logits`
 * float32 [batch_size, sequence_length, num_labels] (one row of label scores per token).
 *
 * Not part of any pack: point OMNISEARCH_NER_MODEL at a folder like this (or a real fine-tuned
 * export with the same layout). Random weights make its entities meaningless; it exists so the
 * runtime, the merge into query understanding and /readyz can be exercised offline.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FloatType, Graph } from '../onnx/graph.ts';
import { Rng } from '../onnx/rng.ts';
import { linear } from '../onnx/layers.ts';
import { writeBertTokenizer } from './tokenizers.ts';
import { BERT_SIZES, bertConfig, bertEncoder, writeJson, writeVariants, type BertBuildOpts, type BertSize } from './bert.ts';

/** The slot entity types query understanding knows, as BIO tags in id order. */
export const DEFAULT_NER_LABELS = [
  'O',
  'B-BRAND',
  'I-BRAND',
  'B-CATEGORY',
  'I-CATEGORY',
  'B-COLOR',
  'I-COLOR',
  'B-SIZE',
  'I-SIZE',
  'B-GENDER',
  'I-GENDER',
  'B-MATERIAL',
  'I-MATERIAL',
] as const;

/** Encoder -> dropout (identity at inference) -> classifier applied to every token's hidden state. */
export function bertTokenClassifierGraph(s: BertSize, numLabels: number, rng: Rng, floatType: FloatType): Graph {
  const { g, c, h } = bertEncoder(s, rng, floatType, 'bert_for_token_classification');
  const logits = linear(c, h, s.hidden, numLabels, 'classifier');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', numLabels], logits);
  return g;
}

/** A token-classification folder at `dir` over `labels` (id order; default the BIO slot tags). */
export async function buildTokenClassifier(dir: string, opts: BertBuildOpts & { labels?: readonly string[] }): Promise<void> {
  const s = BERT_SIZES[opts.preset];
  const labels = opts.labels ?? DEFAULT_NER_LABELS;
  fs.mkdirSync(dir, { recursive: true });
  writeBertTokenizer(dir, s.vocab, { allCjk: s.allCjk });
  writeJson(
    path.join(dir, 'config.json'),
    bertConfig(s, {
      architectures: ['BertForTokenClassification'],
      id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    }),
  );
  // Same encoder stream as the pack's bert/ folder, then the token classifier's own weights.
  const rng = new Rng(opts.seed).fork('bert');
  writeVariants(dir, opts.fp16, (ft) => bertTokenClassifierGraph(s, labels.length, rng.fork('graph'), ft));
}
