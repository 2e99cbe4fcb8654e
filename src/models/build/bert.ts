/**
 * Builds the BERT folders of a pack (random seeded weights, HF BertModel layout):
 * - `intent/`: BertForSequenceClassification — encoder, pooler (dense + tanh on [CLS]), classifier
 *   -> logits [batch_size, num_labels]; labels in config.json id2label/label2id.
 * - `bert/`: the feature-extraction encoder (-> last_hidden_state), which `train-intent` freezes
 *   and trains a head on.
 * Both take input_ids, attention_mask, token_type_ids int64 [batch_size, sequence_length] like
 * Optimum's BERT exports. Post-LN layers, exact GELU, LayerNorm eps 1e-12.
 * The full preset is bert-base-multilingual-uncased sized (vocab 105879) so Chinese queries have
 * real tokens; the tiny preset is hidden 32, 2 layers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Graph, type FloatType } from '../onnx/graph.ts';
import { Rng } from '../onnx/rng.ts';
import { dimOf, embedding, encoderBlock, layerNorm, linear, paddingBias, type LayerCtx } from '../onnx/layers.ts';
import { writeBertTokenizer } from './tokenizers.ts';
import { DEFAULT_INTENT_LABELS } from '../intent-labels.ts';

export { DEFAULT_INTENT_LABELS } from '../intent-labels.ts';

export interface BertSize {
  hidden: number;
  layers: number;
  heads: number;
  mlp: number;
  vocab: number;
  positions: number;
  typeVocab: number;
  /** Tokenizer includes the whole CJK Unified Ideographs block (multilingual vocab). */
  allCjk: boolean;
}

export const BERT_SIZES: Record<'tiny' | 'full', BertSize> = {
  tiny: { hidden: 32, layers: 2, heads: 2, mlp: 64, vocab: 600, positions: 512, typeVocab: 2, allCjk: false },
  // bert-base-multilingual-uncased
  full: { hidden: 768, layers: 12, heads: 12, mlp: 3072, vocab: 105879, positions: 512, typeVocab: 2, allCjk: true },
};

const EPS = 1e-12;

/** Encoder up to last_hidden_state; returns the graph and the hidden-state tensor name. */
export function bertEncoder(s: BertSize, rng: Rng, floatType: FloatType, name: string): { g: Graph; c: LayerCtx; h: string } {
  const g = new Graph(name, { floatType });
  const c: LayerCtx = { g, rng };
  const dims = ['batch_size', 'sequence_length'];
  const ids = g.input('input_ids', 'int64', dims);
  const mask = g.input('attention_mask', 'int64', dims);
  const types = g.input('token_type_ids', 'int64', dims);
  const words = embedding(c, ids, s.vocab, s.hidden, 'embeddings.word_embeddings.weight').out;
  const positions = g.op('Range', [g.constInt64(0, []), dimOf(g, ids, 1), g.constInt64(1, [])]);
  const pos = embedding(c, positions, s.positions, s.hidden, 'embeddings.position_embeddings.weight').out;
  const typ = embedding(c, types, s.typeVocab, s.hidden, 'embeddings.token_type_embeddings.weight').out;
  let h = layerNorm(c, g.op('Add', [g.op('Add', [words, pos]), typ]), s.hidden, 'embeddings.LayerNorm', EPS);
  const bias = paddingBias(g, mask);
  for (let i = 0; i < s.layers; i++) {
    h = encoderBlock(c, h, {
      dim: s.hidden,
      heads: s.heads,
      mlpDim: s.mlp,
      name: `encoder.layer.${i}`,
      act: 'gelu',
      preLN: false,
      eps: EPS,
      bias,
      names: {
        attn: 'attention',
        proj: { q: 'self.query', k: 'self.key', v: 'self.value', o: 'output.dense' },
        ln1: 'attention.output.LayerNorm',
        ln2: 'output.LayerNorm',
        fc1: 'intermediate.dense',
        fc2: 'output.dense',
      },
    });
  }
  return { g, c, h };
}

export function bertFeatureGraph(s: BertSize, rng: Rng, floatType: FloatType): Graph {
  const { g, h } = bertEncoder(s, rng, floatType, 'bert_model');
  g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', s.hidden], h);
  return g;
}

export function bertClassifierGraph(s: BertSize, numLabels: number, rng: Rng, floatType: FloatType): Graph {
  const { g, c, h } = bertEncoder(s, rng, floatType, 'bert_for_sequence_classification');
  const cls = g.op('Gather', [h, g.constInt64(0, [])], { axis: 1 });
  const pooled = g.op('Tanh', [linear(c, cls, s.hidden, s.hidden, 'pooler.dense')]);
  const logits = linear(c, pooled, s.hidden, numLabels, 'classifier');
  g.output('logits', 'float32', ['batch_size', numLabels], logits);
  return g;
}

export function bertConfig(s: BertSize, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    ...extra,
    model_type: 'bert',
    attention_probs_dropout_prob: 0.1,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: s.hidden,
    initializer_range: 0.02,
    intermediate_size: s.mlp,
    layer_norm_eps: EPS,
    max_position_embeddings: s.positions,
    num_attention_heads: s.heads,
    num_hidden_layers: s.layers,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    type_vocab_size: s.typeVocab,
    vocab_size: s.vocab,
    transformers_version: '4.40.0',
  };
}

export function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

export interface BertBuildOpts {
  preset: 'tiny' | 'full';
  seed: number;
  fp16?: boolean;
}

export function writeVariants(dir: string, fp16: boolean | undefined, make: (ft: FloatType) => Graph): void {
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), make('float32').toBytes());
  if (fp16) fs.writeFileSync(path.join(dir, 'onnx', 'model_fp16.onnx'), make('float16').toBytes());
}

/** `intent/`: the sequence classifier over `labels` (id order). */
export async function buildIntent(dir: string, opts: BertBuildOpts & { labels?: readonly string[] }): Promise<void> {
  const s = BERT_SIZES[opts.preset];
  const labels = opts.labels ?? DEFAULT_INTENT_LABELS;
  fs.mkdirSync(dir, { recursive: true });
  writeBertTokenizer(dir, s.vocab, { allCjk: s.allCjk });
  writeJson(
    path.join(dir, 'config.json'),
    bertConfig(s, {
      architectures: ['BertForSequenceClassification'],
      problem_type: 'single_label_classification',
      id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    }),
  );
  // Same stream as bert/: the classifier's encoder weights equal the feature encoder's, so a head
  // trained on bert/ features describes this encoder too.
  const rng = new Rng(opts.seed).fork('bert');
  writeVariants(dir, opts.fp16, (ft) => bertClassifierGraph(s, labels.length, rng.fork('graph'), ft));
}

/** `bert/`: the feature-extraction encoder. */
export async function buildBertEncoder(dir: string, opts: BertBuildOpts): Promise<void> {
  const s = BERT_SIZES[opts.preset];
  fs.mkdirSync(dir, { recursive: true });
  writeBertTokenizer(dir, s.vocab, { allCjk: s.allCjk });
  writeJson(path.join(dir, 'config.json'), bertConfig(s, { architectures: ['BertModel'] }));
  const rng = new Rng(opts.seed).fork('bert');
  writeVariants(dir, opts.fp16, (ft) => bertFeatureGraph(s, rng.fork('graph'), ft));
}
