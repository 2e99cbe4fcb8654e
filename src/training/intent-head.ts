/**
 * Intent classification head trained on frozen encoder features (pooled BERT vectors).
 *
 * Model: standardise features (mean/std of the training set), then either a linear softmax
 * layer (`hidden: 0`) or one hidden layer (tanh or GELU) and a softmax layer. Loss: softmax
 * cross-entropy, optionally class-weighted ('balanced': w_c = n / (k * count_c), as
 * scikit-learn's class_weight='balanced'), reduced as the weighted mean sum(w_i * CE_i) / sum(w_i)
 * (PyTorch's CrossEntropyLoss(weight=...) reduction). Gradients are analytic; the optimiser is
 * AdamW (no decay on biases) with linear warm-up + cosine decay; early stopping keeps the epoch
 * with the best validation macro-F1 (ties broken by lower validation loss) or the lowest loss.
 *
 * The returned head has the standardisation folded into its first layer
 * (W' = W / std, b' = b - (mean / std) W), so the ONNX graph takes raw encoder features.
 *
 * GELU is the tanh approximation (0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3)))): ONNX opset 17
 * has no Gelu op, and this form is written with plain Tanh/Mul/Add nodes that compute exactly
 * what `predictHead` computes here.
 *
 * Deterministic: initial weights and the per-epoch shuffles come from `seed` only.
 */
import { AdamW, param, type Param } from './adamw.ts';
import { defaultWarmup, warmupCosine } from './schedule.ts';
import { glorotUniform, permutation, Rng } from './rng.ts';
import { classificationReport } from '../eval/metrics.ts';

export type Activation = 'tanh' | 'gelu';

/** A trained head, standardisation folded in. Matrices are row-major [in, out] (x @ W + b). */
export interface HeadWeights {
  labels: string[];
  inputDim: number;
  /** 0 = linear softmax head; else the width of the hidden layer. */
  hidden: number;
  activation: Activation;
  /** [inputDim, hidden || numLabels] */
  w1: Float32Array;
  b1: Float32Array;
  /** [hidden, numLabels]; null for a linear head. */
  w2: Float32Array | null;
  b2: Float32Array | null;
}

export interface Example {
  x: Float32Array;
  /** Label index into `labels`. */
  y: number;
}

export interface EpochStats {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
  valMacroF1: number;
  /** Learning rate of the epoch's last step. */
  lr: number;
}

export interface IntentHeadOptions {
  labels: string[];
  hidden?: number;
  activation?: Activation;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  /** Stop after this many epochs without improvement (Infinity: never stop early). */
  patience?: number;
  /** What early stopping watches. */
  monitor?: 'macroF1' | 'loss';
  seed: number;
  classWeights?: 'balanced' | null;
  onEpoch?: (e: EpochStats) => void;
}

export interface IntentHeadResult {
  head: HeadWeights;
  history: EpochStats[];
  /** 1-based epoch whose weights were kept. */
  bestEpoch: number;
  stoppedEarly: boolean;
  classWeights: number[];
}

export const INTENT_HEAD_DEFAULTS = {
  hidden: 0,
  activation: 'gelu' as Activation,
  epochs: 60,
  batchSize: 32,
  lr: 5e-3,
  weightDecay: 1e-2,
  patience: 10,
  monitor: 'macroF1' as 'macroF1' | 'loss',
};

// ---------------------------------------------------------------- activations

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

function activate(kind: Activation, a: number): number {
  if (kind === 'tanh') return Math.tanh(a);
  return 0.5 * a * (1 + Math.tanh(GELU_C * (a + GELU_A * a * a * a)));
}

/** d act / d a, from the pre-activation. */
function activateGrad(kind: Activation, a: number): number {
  if (kind === 'tanh') {
    const t = Math.tanh(a);
    return 1 - t * t;
  }
  const t = Math.tanh(GELU_C * (a + GELU_A * a * a * a));
  return 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * a * a);
}

// ---------------------------------------------------------------- dense algebra

/** out[b, j] = bias[j] + sum_i x[b, i] * w[i, j]  (x: [rows, nIn], w: [nIn, nOut]). */
function affine(x: ArrayLike<number>, rows: number, nIn: number, w: Float32Array, bias: Float32Array, nOut: number): Float64Array {
  const out = new Float64Array(rows * nOut);
  for (let b = 0; b < rows; b++) {
    const o = b * nOut;
    for (let j = 0; j < nOut; j++) out[o + j] = bias[j]!;
    for (let i = 0; i < nIn; i++) {
      const xi = x[b * nIn + i]!;
      if (xi === 0) continue;
      const wr = i * nOut;
      for (let j = 0; j < nOut; j++) out[o + j]! += xi * w[wr + j]!;
    }
  }
  return out;
}

/** Row-wise softmax in place; returns the same array. */
function softmaxRows(z: Float64Array, rows: number, k: number): Float64Array {
  for (let b = 0; b < rows; b++) {
    const o = b * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, z[o + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += z[o + j] = Math.exp(z[o + j]! - max);
    for (let j = 0; j < k; j++) z[o + j]! /= sum;
  }
  return z;
}

// ---------------------------------------------------------------- the network during training

interface Net {
  hidden: number;
  activation: Activation;
  nIn: number;
  k: number;
  w1: Param;
  b1: Param;
  w2: Param | null;
  b2: Param | null;
}

interface Forward {
  pre: Float64Array | null; // hidden pre-activations
  h: Float64Array | null; // hidden activations
  probs: Float64Array;
}

function forward(net: Net, x: Float32Array, rows: number): Forward {
  if (net.hidden === 0) {
    return { pre: null, h: null, probs: softmaxRows(affine(x, rows, net.nIn, net.w1.data, net.b1.data, net.k), rows, net.k) };
  }
  const pre = affine(x, rows, net.nIn, net.w1.data, net.b1.data, net.hidden);
  const h = new Float64Array(pre.length);
  for (let i = 0; i < pre.length; i++) h[i] = activate(net.activation, pre[i]!);
  const probs = softmaxRows(affine(h, rows, net.hidden, net.w2!.data, net.b2!.data, net.k), rows, net.k);
  return { pre, h, probs };
}

/** Weighted CE of a batch: returns sum(w_i * CE_i) and sum(w_i). */
function batchLoss(probs: Float64Array, y: ArrayLike<number>, rows: number, k: number, cw: Float64Array): { sum: number; weight: number } {
  let sum = 0;
  let weight = 0;
  for (let b = 0; b < rows; b++) {
    const w = cw[y[b]!]!;
    sum += -w * Math.log(Math.max(probs[b * k + y[b]!]!, 1e-300));
    weight += w;
  }
  return { sum, weight };
}

/** Accumulate gradients of the weighted-mean CE into the params' grad buffers. */
function backward(net: Net, x: Float32Array, y: ArrayLike<number>, rows: number, fw: Forward, cw: Float64Array, weightSum: number): void {
  const { k } = net;
  // dL/dlogits = w_i (p - onehot) / sum(w)
  const dz = new Float64Array(rows * k);
  for (let b = 0; b < rows; b++) {
    const s = cw[y[b]!]! / weightSum;
    for (let j = 0; j < k; j++) dz[b * k + j] = s * (fw.probs[b * k + j]! - (j === y[b] ? 1 : 0));
  }
  const accumulate = (input: ArrayLike<number>, nIn: number, dOut: Float64Array, nOut: number, w: Param, bias: Param): void => {
    for (let b = 0; b < rows; b++) {
      for (let j = 0; j < nOut; j++) bias.grad[j]! += dOut[b * nOut + j]!;
      for (let i = 0; i < nIn; i++) {
        const xi = input[b * nIn + i]!;
        if (xi === 0) continue;
        const wr = i * nOut;
        for (let j = 0; j < nOut; j++) w.grad[wr + j]! += xi * dOut[b * nOut + j]!;
      }
    }
  };
  if (net.hidden === 0) {
    accumulate(x, net.nIn, dz, k, net.w1, net.b1);
    return;
  }
  const H = net.hidden;
  accumulate(fw.h!, H, dz, k, net.w2!, net.b2!);
  // dL/dh = dz @ W2^T, then through the activation
  const w2 = net.w2!.data;
  const da = new Float64Array(rows * H);
  for (let b = 0; b < rows; b++) {
    for (let i = 0; i < H; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += dz[b * k + j]! * w2[i * k + j]!;
      da[b * H + i] = s * activateGrad(net.activation, fw.pre![b * H + i]!);
    }
  }
  accumulate(x, net.nIn, da, H, net.w1, net.b1);
}

// ---------------------------------------------------------------- data preparation

function checkData(set: Example[], name: string, dim: number, k: number): void {
  set.forEach((ex, i) => {
    if (ex.x.length !== dim) throw new Error(`${name}[${i}]: feature length ${ex.x.length}, expected ${dim}`);
    if (!(Number.isInteger(ex.y) && ex.y >= 0 && ex.y < k)) throw new Error(`${name}[${i}]: label ${ex.y} is not in 0..${k - 1}`);
    for (const v of ex.x) if (!Number.isFinite(v)) throw new Error(`${name}[${i}]: non-finite feature value`);
  });
}

/** Mean and std per feature over the training set; a constant feature gets std 1 (nothing to scale). */
export function featureStats(xs: Float32Array[], dim: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (const x of xs) for (let i = 0; i < dim; i++) mean[i]! += x[i]!;
  for (let i = 0; i < dim; i++) mean[i]! /= xs.length;
  for (const x of xs) for (let i = 0; i < dim; i++) std[i]! += (x[i]! - mean[i]!) ** 2;
  for (let i = 0; i < dim; i++) {
    const s = Math.sqrt(std[i]! / xs.length);
    std[i] = s > 1e-6 ? s : 1;
  }
  return { mean, std };
}

function pack(set: Example[], dim: number, mean: Float64Array, std: Float64Array): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(set.length * dim);
  const y = new Int32Array(set.length);
  set.forEach((ex, r) => {
    for (let i = 0; i < dim; i++) x[r * dim + i] = (ex.x[i]! - mean[i]!) / std[i]!;
    y[r] = ex.y;
  });
  return { x, y };
}

export function balancedClassWeights(ys: ArrayLike<number>, k: number): Float64Array {
  const counts = new Float64Array(k);
  for (let i = 0; i < ys.length; i++) counts[ys[i]!]!++;
  // A class absent from training has no examples to weight; 0 keeps the arithmetic finite.
  return counts.map((c) => (c > 0 ? ys.length / (k * c) : 0));
}

// ---------------------------------------------------------------- training

export function trainIntentHead(data: { train: Example[]; val: Example[] }, opts: IntentHeadOptions): IntentHeadResult {
  const D = INTENT_HEAD_DEFAULTS;
  const o = {
    labels: opts.labels,
    seed: opts.seed,
    hidden: opts.hidden ?? D.hidden,
    activation: opts.activation ?? D.activation,
    epochs: opts.epochs ?? D.epochs,
    batchSize: opts.batchSize ?? D.batchSize,
    lr: opts.lr ?? D.lr,
    weightDecay: opts.weightDecay ?? D.weightDecay,
    patience: opts.patience ?? D.patience,
    monitor: opts.monitor ?? D.monitor,
    classWeights: opts.classWeights ?? null,
    onEpoch: opts.onEpoch,
  };
  const k = o.labels.length;
  if (k < 2) throw new Error('an intent head needs at least 2 labels');
  if (data.train.length === 0) throw new Error('no training examples');
  if (!(o.hidden >= 0 && Number.isInteger(o.hidden))) throw new Error(`hidden must be a non-negative integer, got ${o.hidden}`);
  if (!(o.batchSize >= 1 && o.epochs >= 1)) throw new Error('batchSize and epochs must be >= 1');
  const dim = data.train[0]!.x.length;
  checkData(data.train, 'train', dim, k);
  checkData(data.val, 'val', dim, k);
  // Without a validation split the training set stands in (early stopping then tracks fit, not generalisation).
  const valSet = data.val.length > 0 ? data.val : data.train;

  const { mean, std } = featureStats(
    data.train.map((e) => e.x),
    dim,
  );
  const train = pack(data.train, dim, mean, std);
  const val = pack(valSet, dim, mean, std);
  const cw = o.classWeights === 'balanced' ? balancedClassWeights(train.y, k) : new Float64Array(k).fill(1);

  const rng = new Rng(o.seed);
  const initRng = rng.fork('init');
  const shuffleRng = rng.fork('shuffle');
  const out1 = o.hidden || k;
  const net: Net = {
    hidden: o.hidden,
    activation: o.activation,
    nIn: dim,
    k,
    w1: param('w1', glorotUniform(dim, out1, initRng)),
    b1: param('b1', new Float32Array(out1), { decay: false }),
    w2: o.hidden ? param('w2', glorotUniform(o.hidden, k, initRng)) : null,
    b2: o.hidden ? param('b2', new Float32Array(k), { decay: false }) : null,
  };
  const params = [net.w1, net.b1, net.w2, net.b2].filter((p): p is Param => p !== null);
  const opt = new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay });
  const n = data.train.length;
  const bs = Math.min(o.batchSize, n);
  const stepsPerEpoch = Math.ceil(n / bs);
  const totalSteps = stepsPerEpoch * o.epochs;
  const schedule = warmupCosine({ baseLr: o.lr, warmupSteps: defaultWarmup(totalSteps), totalSteps });

  const history: EpochStats[] = [];
  let best = { epoch: 0, f1: -Infinity, loss: Infinity, weights: params.map((p) => p.data.slice()) };
  let step = 0;
  let lr = o.lr;
  let stoppedEarly = false;
  const bx = new Float32Array(bs * dim);
  const by = new Int32Array(bs);

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const order = permutation(n, shuffleRng);
    let lossSum = 0;
    let weightSum = 0;
    for (let start = 0; start < n; start += bs) {
      const rows = Math.min(bs, n - start);
      for (let r = 0; r < rows; r++) {
        const src = order[start + r]!;
        bx.set(train.x.subarray(src * dim, (src + 1) * dim), r * dim);
        by[r] = train.y[src]!;
      }
      const x = bx.subarray(0, rows * dim);
      const fw = forward(net, x, rows);
      const l = batchLoss(fw.probs, by, rows, k, cw);
      lossSum += l.sum;
      weightSum += l.weight;
      opt.zeroGrad();
      if (l.weight > 0) backward(net, x, by, rows, fw, cw, l.weight);
      lr = schedule(step++);
      opt.step(lr);
    }

    const ev = evaluate(net, val.x, val.y, k, cw);
    const stats: EpochStats = { epoch, trainLoss: weightSum > 0 ? lossSum / weightSum : 0, valLoss: ev.loss, valAccuracy: ev.accuracy, valMacroF1: ev.macroF1, lr };
    history.push(stats);
    o.onEpoch?.(stats);

    const improved =
      o.monitor === 'loss' ? ev.loss < best.loss : ev.macroF1 > best.f1 || (ev.macroF1 === best.f1 && ev.loss < best.loss);
    if (improved) best = { epoch, f1: ev.macroF1, loss: ev.loss, weights: params.map((p) => p.data.slice()) };
    else if (epoch - best.epoch >= o.patience) {
      stoppedEarly = epoch < o.epochs;
      break;
    }
  }

  params.forEach((p, i) => p.data.set(best.weights[i]!));
  return { head: fold(net, o.labels, mean, std), history, bestEpoch: best.epoch, stoppedEarly, classWeights: [...cw] };
}

function evaluate(net: Net, x: Float32Array, y: Int32Array, k: number, cw: Float64Array): { loss: number; accuracy: number; macroF1: number } {
  const rows = y.length;
  const chunk = 256; // bounds the activation buffers on large validation sets
  const preds: number[] = [];
  let sum = 0;
  let weight = 0;
  for (let s = 0; s < rows; s += chunk) {
    const r = Math.min(chunk, rows - s);
    const fw = forward(net, x.subarray(s * net.nIn, (s + r) * net.nIn), r);
    const l = batchLoss(fw.probs, y.subarray(s, s + r), r, k, cw);
    sum += l.sum;
    weight += l.weight;
    for (let b = 0; b < r; b++) preds.push(argmax(fw.probs, b * k, k));
  }
  const rep = classificationReport([...y], preds, Array.from({ length: k }, (_, i) => String(i)));
  return { loss: weight > 0 ? sum / weight : 0, accuracy: rep.accuracy, macroF1: rep.macroF1 };
}

function argmax(v: ArrayLike<number>, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (v[offset + j]! > v[offset + best]!) best = j;
  return best;
}

/** Fold x -> (x - mean) / std into the first layer: W' = W / std (row-wise), b' = b - sum_i mean_i / std_i W_i. */
function fold(net: Net, labels: string[], mean: Float64Array, std: Float64Array): HeadWeights {
  const out1 = net.hidden || net.k;
  const w = net.w1.data;
  const w1 = new Float32Array(w.length);
  const b1 = new Float64Array(net.b1.data);
  for (let i = 0; i < net.nIn; i++) {
    for (let j = 0; j < out1; j++) {
      const scaled = w[i * out1 + j]! / std[i]!;
      w1[i * out1 + j] = scaled;
      b1[j]! -= mean[i]! * scaled;
    }
  }
  return {
    labels: [...labels],
    inputDim: net.nIn,
    hidden: net.hidden,
    activation: net.activation,
    w1,
    b1: Float32Array.from(b1),
    w2: net.w2 ? net.w2.data.slice() : null,
    b2: net.b2 ? net.b2.data.slice() : null,
  };
}

// ---------------------------------------------------------------- inference in TypeScript

/** Logits for one feature vector or a batch (row-major, length a multiple of inputDim). */
export function headLogits(head: HeadWeights, x: Float32Array): Float32Array {
  if (x.length === 0 || x.length % head.inputDim !== 0) throw new Error(`features of length ${x.length} do not fit input dim ${head.inputDim}`);
  const rows = x.length / head.inputDim;
  const k = head.labels.length;
  let z: Float64Array;
  if (head.hidden === 0) z = affine(x, rows, head.inputDim, head.w1, head.b1, k);
  else {
    const h = affine(x, rows, head.inputDim, head.w1, head.b1, head.hidden);
    for (let i = 0; i < h.length; i++) h[i] = activate(head.activation, h[i]!);
    z = affine(h, rows, head.hidden, head.w2!, head.b2!, k);
  }
  return Float32Array.from(z);
}

/** Class probabilities (softmax of `headLogits`), row by row for a batch. */
export function predictHead(head: HeadWeights, x: Float32Array): Float32Array {
  const k = head.labels.length;
  const z = Float64Array.from(headLogits(head, x));
  return Float32Array.from(softmaxRows(z, z.length / k, k));
}
