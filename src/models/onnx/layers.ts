/**
 * Transformer layer helpers that emit ONNX nodes into a `Graph` (see graph.ts), with weights
 * drawn from a seeded `Rng` (see rng.ts). Shapes follow Hugging Face conventions: activations are
 * [batch, seq, dim]; attention heads are [batch, heads, seq, head_dim]; linear weights are stored
 * [in, out] (MatMul-ready, i.e. the transpose of torch's nn.Linear.weight).
 *
 * Every helper takes a `LayerCtx` ({ g, rng, std }) and a `name` prefix used for its initializers,
 * so weights read like the real exports' (`encoder.layers.0.self_attn.q_proj.weight`). Masks are
 * additive float biases in the graph's float type (0 = keep, MASK_VALUE = drop), broadcast over
 * [batch, heads, q_len, k_len].
 */
import { Graph, type Dim } from './graph.ts';
import { Rng } from './rng.ts';

export interface LayerCtx {
  g: Graph;
  rng: Rng;
  /** Std of normal weight init (default 0.02, as HF's initializer_range). */
  std?: number;
}

/** Large negative, yet finite in float16 so float16 graphs do not produce NaN from -inf - -inf. */
export const MASK_VALUE = -10000;

export type Activation = 'gelu' | 'quick_gelu' | 'relu' | 'tanh';

/** x @ W (+ b). W is [inDim, outDim]. */
export function linear(c: LayerCtx, x: string, inDim: number, outDim: number, name: string, opts: { bias?: boolean } = {}): string {
  const w = c.g.weight(`${name}.weight`, [inDim, outDim], c.rng.normals(inDim * outDim, c.std ?? 0.02));
  const y = c.g.op('MatMul', [x, w]);
  if (opts.bias === false) return y;
  const b = c.g.weight(`${name}.bias`, [outDim], c.rng.normals(outDim, c.std ?? 0.02));
  return c.g.op('Add', [y, b]);
}

/** LayerNormalization (opset 17) over the last axis; gamma ~ 1, beta ~ 0 with a little noise so it is not an identity. */
export function layerNorm(c: LayerCtx, x: string, dim: number, name: string, eps = 1e-5): string {
  const gamma = c.g.weight(`${name}.weight`, [dim], c.rng.normals(dim, 0.02, 1));
  const beta = c.g.weight(`${name}.bias`, [dim], c.rng.normals(dim, 0.02, 0));
  return c.g.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: eps });
}

/** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)) — BERT, Whisper and CLIP vision in HF configs use "gelu". */
export function gelu(g: Graph, x: string): string {
  const e = g.op('Erf', [g.op('Div', [x, g.constFloat(Math.SQRT2)])]);
  const one = g.op('Add', [e, g.constFloat(1)]);
  return g.op('Mul', [g.op('Mul', [x, one]), g.constFloat(0.5)]);
}

/** CLIP's quick_gelu: x * sigmoid(1.702 x). */
export function quickGelu(g: Graph, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.constFloat(1.702)])])]);
}

export function activation(g: Graph, x: string, act: Activation): string {
  switch (act) {
    case 'gelu':
      return gelu(g, x);
    case 'quick_gelu':
      return quickGelu(g, x);
    case 'relu':
      return g.op('Relu', [x]);
    case 'tanh':
      return g.op('Tanh', [x]);
  }
}

/** fc1 -> activation -> fc2. */
export function mlp(c: LayerCtx, x: string, dim: number, hidden: number, name: string, act: Activation, names = { fc1: 'fc1', fc2: 'fc2' }): string {
  const h = activation(c.g, linear(c, x, dim, hidden, `${name}.${names.fc1}`), act);
  return linear(c, h, hidden, dim, `${name}.${names.fc2}`);
}

/** Token/position embedding lookup: Gather(table[vocab, dim], ids) -> [..., dim]. Returns the table name too. */
export function embedding(c: LayerCtx, ids: string, vocab: number, dim: number, name: string): { out: string; table: string } {
  const table = c.g.weight(name, [vocab, dim], c.rng.normals(vocab * dim, c.std ?? 0.02));
  return { out: c.g.op('Gather', [table, ids], { axis: 0 }), table };
}

/** [B, T, heads*headDim] -> [B, heads, T, headDim]. */
export function splitHeads(g: Graph, x: string, heads: number, headDim: number): string {
  const r = g.op('Reshape', [x, g.constInt64([0, 0, heads, headDim])]);
  return g.op('Transpose', [r], { perm: [0, 2, 1, 3] });
}

/** [B, heads, T, headDim] -> [B, T, heads*headDim]. */
export function mergeHeads(g: Graph, x: string, dim: number): string {
  const t = g.op('Transpose', [x], { perm: [0, 2, 1, 3] });
  return g.op('Reshape', [t, g.constInt64([0, 0, dim])]);
}

/** softmax(q k^T / sqrt(headDim) + bias) v over [B, H, T, hd] tensors. */
export function sdpa(g: Graph, q: string, k: string, v: string, headDim: number, bias?: string): string {
  const kt = g.op('Transpose', [k], { perm: [0, 1, 3, 2] });
  let s = g.op('Mul', [g.op('MatMul', [q, kt]), g.constFloat(1 / Math.sqrt(headDim))]);
  if (bias) s = g.op('Add', [s, bias]);
  return g.op('MatMul', [g.op('Softmax', [s], { axis: -1 }), v]);
}

export interface AttentionOpts {
  dim: number;
  heads: number;
  name: string;
  /** Cross-attention source [B, S, kvDim]; omit for self-attention. */
  kv?: string;
  kvDim?: number;
  /** Additive bias broadcastable to [B, H, T, S]. */
  bias?: string;
  /** Whisper's k_proj has no bias. Default true. */
  kBias?: boolean;
  /** Projection names (HF: q_proj/k_proj/v_proj/out_proj; BERT: query/key/value/output.dense). */
  names?: { q: string; k: string; v: string; o: string };
  /** Precomputed keys/values in head layout (KV cache); when given, no k/v projections are made. */
  pastK?: string;
  pastV?: string;
}

/** Multi-head attention. Returns the projected output and this step's K/V in head layout (for `present.*`). */
export function attention(c: LayerCtx, x: string, o: AttentionOpts): { out: string; k: string; v: string } {
  const { g } = c;
  const hd = o.dim / o.heads;
  if (!Number.isInteger(hd)) throw new Error(`dim ${o.dim} not divisible by heads ${o.heads}`);
  const n = o.names ?? { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'out_proj' };
  const src = o.kv ?? x;
  const srcDim = o.kvDim ?? o.dim;
  const q = splitHeads(g, linear(c, x, o.dim, o.dim, `${o.name}.${n.q}`), o.heads, hd);
  let k: string;
  let v: string;
  if (o.pastK && o.pastV) {
    k = o.pastK;
    v = o.pastV;
  } else {
    k = splitHeads(g, linear(c, src, srcDim, o.dim, `${o.name}.${n.k}`, { bias: o.kBias ?? true }), o.heads, hd);
    v = splitHeads(g, linear(c, src, srcDim, o.dim, `${o.name}.${n.v}`), o.heads, hd);
  }
  const ctx = mergeHeads(g, sdpa(g, q, k, v, hd, o.bias), o.dim);
  return { out: linear(c, ctx, o.dim, o.dim, `${o.name}.${n.o}`), k, v };
}

/** Projections for K/V only (Whisper's cross-attention cache is computed once from the encoder output). */
export function kvProjection(c: LayerCtx, src: string, srcDim: number, dim: number, heads: number, name: string, opts: { kBias?: boolean; kName?: string; vName?: string } = {}): { k: string; v: string } {
  const hd = dim / heads;
  const k = splitHeads(c.g, linear(c, src, srcDim, dim, `${name}.${opts.kName ?? 'k_proj'}`, { bias: opts.kBias ?? true }), heads, hd);
  const v = splitHeads(c.g, linear(c, src, srcDim, dim, `${name}.${opts.vName ?? 'v_proj'}`), heads, hd);
  return { k, v };
}

/** attention_mask int64 [B, S] (1 = token) -> additive bias [B, 1, 1, S] in the graph's float type. */
export function paddingBias(g: Graph, mask: string): string {
  const m = g.cast(mask, g.floatType);
  const inv = g.op('Sub', [g.constFloat(1), m]);
  const b = g.op('Mul', [inv, g.constFloat(MASK_VALUE)]);
  return g.op('Unsqueeze', [b, g.constInt64([1, 2])]);
}

/** Size of axis `axis` of `x` as an int64 scalar. */
export function dimOf(g: Graph, x: string, axis: number): string {
  const s = g.op('Shape', [x], { start: axis, end: axis + 1 });
  return g.op('Squeeze', [s, g.constInt64([0])]);
}

/**
 * Causal bias [1, 1, qLen, kLen] for queries that are the last qLen of kLen positions
 * (kLen = past + qLen with a KV cache): key j is visible to query i iff j <= (kLen - qLen) + i.
 * qLen/kLen are int64 scalars (see `dimOf`).
 */
export function causalBias(g: Graph, qLen: string, kLen: string): string {
  const zero = g.constInt64(0, []);
  const one = g.constInt64(1, []);
  const offset = g.op('Sub', [kLen, qLen]);
  const rows = g.op('Add', [g.op('Range', [zero, qLen, one]), offset]);
  const cols = g.op('Range', [zero, kLen, one]);
  const hidden = g.op('Greater', [g.op('Unsqueeze', [cols, g.constInt64([0])]), g.op('Unsqueeze', [rows, g.constInt64([1])])]);
  const bias = g.op('Where', [hidden, g.constFloat(MASK_VALUE), g.constFloat(0)]);
  return g.op('Unsqueeze', [bias, g.constInt64([0, 1])]);
}

/** Sum two optional biases (either may be absent). */
export function addBias(g: Graph, a?: string, b?: string): string | undefined {
  if (a && b) return g.op('Add', [a, b]);
  return a ?? b;
}

export interface BlockOpts {
  dim: number;
  heads: number;
  mlpDim: number;
  name: string;
  act: Activation;
  /** Pre-LN (CLIP, Whisper): x + f(LN(x)). Post-LN (BERT): LN(x + f(x)). */
  preLN: boolean;
  eps?: number;
  bias?: string;
  /** Weight names; defaults are CLIP/Whisper style. */
  names?: {
    attn: string;
    ln1: string;
    ln2: string;
    fc1: string;
    fc2: string;
    proj?: { q: string; k: string; v: string; o: string };
  };
  kBias?: boolean;
}

/** One transformer encoder layer (self-attention + MLP with residuals). */
export function encoderBlock(c: LayerCtx, x: string, o: BlockOpts): string {
  const { g } = c;
  const n = o.names ?? { attn: 'self_attn', ln1: 'layer_norm1', ln2: 'layer_norm2', fc1: 'mlp.fc1', fc2: 'mlp.fc2' };
  const eps = o.eps ?? 1e-5;
  const attn = (h: string) =>
    attention(c, h, { dim: o.dim, heads: o.heads, name: `${o.name}.${n.attn}`, bias: o.bias, names: n.proj, kBias: o.kBias }).out;
  const ff = (h: string) => mlp(c, h, o.dim, o.mlpDim, o.name, o.act, { fc1: n.fc1, fc2: n.fc2 });
  if (o.preLN) {
    const h = g.op('Add', [x, attn(layerNorm(c, x, o.dim, `${o.name}.${n.ln1}`, eps))]);
    return g.op('Add', [h, ff(layerNorm(c, h, o.dim, `${o.name}.${n.ln2}`, eps))]);
  }
  const h = layerNorm(c, g.op('Add', [x, attn(x)]), o.dim, `${o.name}.${n.ln1}`, eps);
  return layerNorm(c, g.op('Add', [h, ff(h)]), o.dim, `${o.name}.${n.ln2}`, eps);
}

export type { Dim };
