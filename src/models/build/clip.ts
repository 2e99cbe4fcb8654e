/**
 * Builds a CLIP pack folder (ViT vision tower + causal text transformer, random seeded weights) in
 * the layout of Xenova/clip-vit-base-patch32: onnx/text_model.onnx, onnx/vision_model.onnx,
 * config.json, preprocessor_config.json and the BPE tokenizer files.
 *
 * The graphs follow HF's CLIPTextModelWithProjection / CLIPVisionModelWithProjection:
 * text — token + position embeddings, pre-LN layers with a causal mask and quick_gelu, final LN,
 * pooled = hidden state at argmax(input_ids) (the <|endoftext|> token), text_projection;
 * vision — patch Conv, class token, position embeddings, pre_layrnorm, layers, post_layernorm on
 * the class token, visual_projection. Embeds are projected, not normalised (as exported).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Graph, type FloatType } from '../onnx/graph.ts';
import { Rng } from '../onnx/rng.ts';
import { causalBias, dimOf, embedding, encoderBlock, layerNorm, type LayerCtx } from '../onnx/layers.ts';
import { writeClipTokenizer } from './tokenizers.ts';

export interface ClipSize {
  text: { hidden: number; layers: number; heads: number; mlp: number; vocab: number; positions: number };
  vision: { hidden: number; layers: number; heads: number; mlp: number; image: number; patch: number };
  projection: number;
}

export const CLIP_SIZES: Record<'tiny' | 'full', ClipSize> = {
  tiny: {
    text: { hidden: 32, layers: 2, heads: 2, mlp: 64, vocab: 800, positions: 77 },
    vision: { hidden: 32, layers: 2, heads: 2, mlp: 64, image: 224, patch: 32 },
    projection: 32,
  },
  // openai/clip-vit-base-patch32
  full: {
    text: { hidden: 512, layers: 12, heads: 8, mlp: 2048, vocab: 49408, positions: 77 },
    vision: { hidden: 768, layers: 12, heads: 12, mlp: 3072, image: 224, patch: 32 },
    projection: 512,
  },
};

const EPS = 1e-5;

export function clipTextGraph(s: ClipSize, rng: Rng, floatType: FloatType): Graph {
  const g = new Graph('clip_text_model', { floatType });
  const c: LayerCtx = { g, rng };
  const t = s.text;
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const tok = embedding(c, ids, t.vocab, t.hidden, 'text_model.embeddings.token_embedding.weight').out;
  const seqLen = dimOf(g, ids, 1);
  const positions = g.op('Range', [g.constInt64(0, []), seqLen, g.constInt64(1, [])]);
  const pos = embedding(c, positions, t.positions, t.hidden, 'text_model.embeddings.position_embedding.weight').out;
  let h = g.op('Add', [tok, pos]);
  const bias = causalBias(g, seqLen, seqLen);
  for (let i = 0; i < t.layers; i++) {
    h = encoderBlock(c, h, { dim: t.hidden, heads: t.heads, mlpDim: t.mlp, name: `text_model.encoder.layers.${i}`, act: 'quick_gelu', preLN: true, eps: EPS, bias });
  }
  h = layerNorm(c, h, t.hidden, 'text_model.final_layer_norm', EPS);
  // Pool at the <|endoftext|> token: it has the highest id, so argmax finds its (first) position.
  const eos = g.op('ArgMax', [ids], { axis: -1, keepdims: 1 });
  const pooled = g.op('GatherND', [h, eos], { batch_dims: 1 });
  const proj = g.weight('text_projection.weight', [t.hidden, s.projection], rng.normals(t.hidden * s.projection));
  g.output('text_embeds', 'float32', ['batch_size', s.projection], g.op('MatMul', [pooled, proj]));
  g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', t.hidden], h);
  return g;
}

export function clipVisionGraph(s: ClipSize, rng: Rng, floatType: FloatType): Graph {
  const g = new Graph('clip_vision_model', { floatType });
  const c: LayerCtx = { g, rng };
  const v = s.vision;
  const grid = v.image / v.patch;
  const px = g.input('pixel_values', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
  const convW = g.weight('vision_model.embeddings.patch_embedding.weight', [v.hidden, 3, v.patch, v.patch], rng.normals(v.hidden * 3 * v.patch * v.patch));
  const patches = g.op('Conv', [px, convW], { kernel_shape: [v.patch, v.patch], strides: [v.patch, v.patch] });
  const flat = g.op('Transpose', [g.op('Reshape', [patches, g.constInt64([0, v.hidden, -1])])], { perm: [0, 2, 1] });
  const cls = g.weight('vision_model.embeddings.class_embedding', [1, 1, v.hidden], rng.normals(v.hidden));
  const batch = g.op('Shape', [px], { start: 0, end: 1 });
  const clsB = g.op('Expand', [cls, g.op('Concat', [batch, g.constInt64([1, v.hidden])], { axis: 0 })]);
  const seq = g.op('Concat', [clsB, flat], { axis: 1 });
  const posTable = g.weight('vision_model.embeddings.position_embedding.weight', [grid * grid + 1, v.hidden], rng.normals((grid * grid + 1) * v.hidden));
  let h = layerNorm(c, g.op('Add', [seq, posTable]), v.hidden, 'vision_model.pre_layrnorm', EPS);
  for (let i = 0; i < v.layers; i++) {
    h = encoderBlock(c, h, { dim: v.hidden, heads: v.heads, mlpDim: v.mlp, name: `vision_model.encoder.layers.${i}`, act: 'quick_gelu', preLN: true, eps: EPS });
  }
  const clsOut = g.op('Gather', [h, g.constInt64(0, [])], { axis: 1 });
  const pooled = layerNorm(c, clsOut, v.hidden, 'vision_model.post_layernorm', EPS);
  const proj = g.weight('visual_projection.weight', [v.hidden, s.projection], rng.normals(v.hidden * s.projection));
  g.output('image_embeds', 'float32', ['batch_size', s.projection], g.op('MatMul', [pooled, proj]));
  g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', v.hidden], h);
  return g;
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

export async function buildClip(dir: string, opts: { preset: 'tiny' | 'full'; seed: number; fp16?: boolean }): Promise<void> {
  const s = CLIP_SIZES[opts.preset];
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  const tok = writeClipTokenizer(dir, s.text.vocab, s.text.positions);
  writeJson(path.join(dir, 'config.json'), {
    architectures: ['CLIPModel'],
    model_type: 'clip',
    projection_dim: s.projection,
    logit_scale_init_value: 2.6592,
    text_config: {
      model_type: 'clip_text_model',
      hidden_size: s.text.hidden,
      intermediate_size: s.text.mlp,
      num_attention_heads: s.text.heads,
      num_hidden_layers: s.text.layers,
      max_position_embeddings: s.text.positions,
      vocab_size: s.text.vocab,
      hidden_act: 'quick_gelu',
      layer_norm_eps: EPS,
      projection_dim: s.projection,
      bos_token_id: tok.bosId,
      eos_token_id: tok.eosId,
      pad_token_id: 1,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: s.vision.hidden,
      intermediate_size: s.vision.mlp,
      num_attention_heads: s.vision.heads,
      num_hidden_layers: s.vision.layers,
      image_size: s.vision.image,
      patch_size: s.vision.patch,
      num_channels: 3,
      hidden_act: 'quick_gelu',
      layer_norm_eps: EPS,
      projection_dim: s.projection,
    },
    transformers_version: '4.40.0',
  });
  writeJson(path.join(dir, 'preprocessor_config.json'), {
    crop_size: { height: s.vision.image, width: s.vision.image },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    feature_extractor_type: 'CLIPFeatureExtractor',
    image_processor_type: 'CLIPImageProcessor',
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    resample: 3,
    rescale_factor: 1 / 255,
    size: { shortest_edge: s.vision.image },
  });
  const rng = new Rng(opts.seed);
  const types: FloatType[] = opts.fp16 ? ['float32', 'float16'] : ['float32'];
  for (const ft of types) {
    const suffix = ft === 'float16' ? '_fp16' : '';
    // Same forked streams for both variants: the fp16 file holds the fp32 weights, rounded.
    fs.writeFileSync(path.join(dir, 'onnx', `text_model${suffix}.onnx`), clipTextGraph(s, rng.fork('text'), ft).toBytes());
    fs.writeFileSync(path.join(dir, 'onnx', `vision_model${suffix}.onnx`), clipVisionGraph(s, rng.fork('vision'), ft).toBytes());
  }
}
