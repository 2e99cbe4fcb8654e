/**
 * Fusion head: text and image query embeddings -> one query vector in the product space.
 *
 * Math, per query (the ONNX graph in onnx-heads.ts computes exactly this):
 *
 *   t^ = t / max(|t|, eps),  i^ = i / max(|i|, eps)            each part L2-normalised first
 *   u  = pT wT gT (sT ⊙ t^) + pI wI gI (sI ⊙ i^)
 *   q  = u / max(|u|, eps)                                      eps = 1e-12 (a query with no parts -> 0)
 *
 * p = presence (1 where the part is given), w = the request's part weights (default 1, 1),
 * g = learned per-part gain, s = learned per-dimension scale: the "linear map" of each part is a
 * diagonal matrix. Untrained: s = 1 and g = 1 for both parts (text 1.0, image 1.0), so the head is
 * the plain weighted sum of the normalised parts, renormalised — a text-only or image-only query
 * returns its normalised CLIP vector unchanged.
 *
 * Why each part is normalised first: CLIP's projected embeddings are not unit length and text and
 * image norms differ, so without it the balance of a mixed query would follow the encoders' norms
 * instead of the user's weights and the learned gains.
 *
 * Why diagonal maps: D (512) parameters per part instead of D^2 (262k) trains on a few hundred
 * pairs without overfitting and costs nothing at query time; it can re-weight the dimensions that
 * matter for this catalog and balance the parts, but it cannot rotate the space.
 *
 * Training (`trainFusion`): InfoNCE with in-batch negatives, logits q·v / T for normalised product
 * vectors v (T = 0.05 by default), analytic gradients through the output L2 normalisation and the
 * diagonal maps (the per-part input normalisation has no parameters), AdamW, warm-up + cosine schedule, early stopping on the held-out InfoNCE loss.
 * The scales are trained as s = 1 + delta with weight decay on delta, so decay pulls towards the
 * identity map (the untrained head), not towards zero; gains are not decayed.
 */
import { AdamW, param } from './adamw.ts';
import { defaultWarmup, warmupCosine } from './schedule.ts';
import { permutation, Rng } from './rng.ts';

export const FUSION_EPS = 1e-12;

export interface FusionPart {
  /** Per-dimension scale (the diagonal of the part's linear map). */
  scale: Float32Array;
  gain: number;
}

export interface FusionWeights {
  dim: number;
  text: FusionPart;
  image: FusionPart;
}

/** The untrained head: identity maps, gains 1 (text) and 1 (image). */
export function identityFusion(dim: number): FusionWeights {
  return {
    dim,
    text: { scale: new Float32Array(dim).fill(1), gain: 1 },
    image: { scale: new Float32Array(dim).fill(1), gain: 1 },
  };
}

export type Pair2 = readonly [number, number] | Float32Array;

function normInto(out: Float64Array, x: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let d = 0; d < x.length; d++) s += x[d]! * x[d]!;
  const inv = 1 / Math.max(Math.sqrt(s), FUSION_EPS);
  for (let d = 0; d < x.length; d++) out[d] = x[d]! * inv;
  return out;
}

/**
 * One fused query vector. A missing part (null/undefined) counts as absent whatever `presence`
 * says; `presence` lets a caller mark a given vector absent, as the ONNX input does.
 */
export function fusionForward(
  w: FusionWeights,
  text: Float32Array | null | undefined,
  image: Float32Array | null | undefined,
  presence: Pair2 = [text ? 1 : 0, image ? 1 : 0],
  partWeights: Pair2 = [1, 1],
): Float32Array {
  const D = w.dim;
  for (const [name, v] of [['text', text], ['image', image]] as const) {
    if (v && v.length !== D) throw new Error(`fusion: ${name} vector has ${v.length} dims, head expects ${D}`);
  }
  const u = new Float64Array(D);
  const parts = [
    [text, presence[0]! * partWeights[0]! * w.text.gain, w.text.scale],
    [image, presence[1]! * partWeights[1]! * w.image.gain, w.image.scale],
  ] as const;
  const tmp = new Float64Array(D);
  for (const [v, c, scale] of parts) {
    if (!v || c === 0) continue;
    normInto(tmp, v);
    for (let d = 0; d < D; d++) u[d]! += c * scale[d]! * tmp[d]!;
  }
  return Float32Array.from(normInto(new Float64Array(D), u));
}

// ---------------------------------------------------------------- training

export interface FusionPair {
  text?: Float32Array | null;
  image?: Float32Array | null;
  /** The product vector this query should retrieve. */
  target: Float32Array;
}

export interface FusionTrainOptions {
  seed: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  /** Epochs without a lower held-out loss before stopping (Infinity: never). */
  patience?: number;
  temperature?: number;
  /** Share of pairs held out for early stopping and the before/after report. */
  valFraction?: number;
  onEpoch?: (e: FusionEpochStats) => void;
}

export interface FusionEpochStats {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valRecall1: number;
  valMrr: number;
  lr: number;
}

export interface RetrievalSummary {
  recall1: number;
  recall5: number;
  mrr: number;
}

export interface FusionTrainResult {
  weights: FusionWeights;
  history: FusionEpochStats[];
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Held-out retrieval: each query's target ranked among all held-out targets (cosine). */
  report: { before: RetrievalSummary; after: RetrievalSummary; trainPairs: number; valPairs: number };
}

export const FUSION_DEFAULTS = {
  epochs: 40,
  batchSize: 64,
  lr: 1e-2,
  weightDecay: 1e-2,
  patience: 6,
  temperature: 0.05,
  valFraction: 0.2,
};

/** Pairs as normalised, flat arrays; `group` marks identical targets (same product) so they are never each other's negatives. */
interface Prepared {
  n: number;
  t: Float64Array;
  i: Float64Array;
  pT: Float64Array;
  pI: Float64Array;
  v: Float64Array;
  group: Int32Array;
}

function prepare(pairs: FusionPair[], D: number): Prepared {
  const n = pairs.length;
  const p: Prepared = {
    n,
    t: new Float64Array(n * D),
    i: new Float64Array(n * D),
    pT: new Float64Array(n),
    pI: new Float64Array(n),
    v: new Float64Array(n * D),
    group: new Int32Array(n),
  };
  const groups = new Map<string, number>();
  pairs.forEach((pair, r) => {
    if (pair.text) {
      normInto(p.t.subarray(r * D, (r + 1) * D), pair.text);
      p.pT[r] = 1;
    }
    if (pair.image) {
      normInto(p.i.subarray(r * D, (r + 1) * D), pair.image);
      p.pI[r] = 1;
    }
    normInto(p.v.subarray(r * D, (r + 1) * D), pair.target);
    const key = Buffer.from(pair.target.buffer, pair.target.byteOffset, pair.target.byteLength).toString('base64');
    if (!groups.has(key)) groups.set(key, groups.size);
    p.group[r] = groups.get(key)!;
  });
  return p;
}

function subset(p: Prepared, rows: number[], D: number): Prepared {
  const out: Prepared = {
    n: rows.length,
    t: new Float64Array(rows.length * D),
    i: new Float64Array(rows.length * D),
    pT: new Float64Array(rows.length),
    pI: new Float64Array(rows.length),
    v: new Float64Array(rows.length * D),
    group: new Int32Array(rows.length),
  };
  rows.forEach((src, r) => {
    out.t.set(p.t.subarray(src * D, (src + 1) * D), r * D);
    out.i.set(p.i.subarray(src * D, (src + 1) * D), r * D);
    out.v.set(p.v.subarray(src * D, (src + 1) * D), r * D);
    out.pT[r] = p.pT[src]!;
    out.pI[r] = p.pI[src]!;
    out.group[r] = p.group[src]!;
  });
  return out;
}

interface Theta {
  dT: Float32Array; // scale - 1
  dI: Float32Array;
  gains: Float32Array; // [text, image]
}

/** Fused, normalised queries for rows of `p`; also returns the pre-normalisation norms for backprop. */
function fuseRows(p: Prepared, rows: ArrayLike<number>, th: Theta, D: number): { q: Float64Array; norm: Float64Array } {
  const B = rows.length;
  const q = new Float64Array(B * D);
  const norm = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const r = rows[b]!;
    const cT = p.pT[r]! * th.gains[0]!;
    const cI = p.pI[r]! * th.gains[1]!;
    let s = 0;
    for (let d = 0; d < D; d++) {
      const u = cT * (1 + th.dT[d]!) * p.t[r * D + d]! + cI * (1 + th.dI[d]!) * p.i[r * D + d]!;
      q[b * D + d] = u;
      s += u * u;
    }
    norm[b] = Math.max(Math.sqrt(s), FUSION_EPS);
    for (let d = 0; d < D; d++) q[b * D + d]! /= norm[b]!;
  }
  return { q, norm };
}

/**
 * Row-wise InfoNCE over the targets `cols`: returns the mean loss and, if asked, dL/dq.
 * Columns holding the same product as the row's own target are masked out (not negatives).
 */
function infoNce(
  p: Prepared,
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  q: Float64Array,
  D: number,
  temperature: number,
  wantGrad: boolean,
): { loss: number; dq: Float64Array | null; ranks: number[] } {
  const B = rows.length;
  const C = cols.length;
  const dq = wantGrad ? new Float64Array(B * D) : null;
  const logits = new Float64Array(C);
  const ranks: number[] = [];
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const r = rows[b]!;
    let own = -1;
    let max = -Infinity;
    for (let c = 0; c < C; c++) {
      const col = cols[c]!;
      if (col === r) own = c;
      if (col !== r && p.group[col] === p.group[r]) {
        logits[c] = -Infinity;
        continue;
      }
      let s = 0;
      for (let d = 0; d < D; d++) s += q[b * D + d]! * p.v[col * D + d]!;
      logits[c] = s / temperature;
      if (logits[c]! > max) max = logits[c]!;
    }
    if (own < 0) throw new Error('infoNce: a row has no target among the columns');
    let sum = 0;
    let rank = 1;
    for (let c = 0; c < C; c++) {
      sum += Math.exp(logits[c]! - max);
      if (logits[c]! > logits[own]!) rank++;
    }
    ranks.push(rank);
    loss += Math.log(sum) + max - logits[own]!;
    if (dq) {
      for (let c = 0; c < C; c++) {
        if (logits[c] === -Infinity) continue;
        const g = (Math.exp(logits[c]! - max) / sum - (c === own ? 1 : 0)) / (B * temperature);
        const col = cols[c]!;
        for (let d = 0; d < D; d++) dq[b * D + d]! += g * p.v[col * D + d]!;
      }
    }
  }
  return { loss: loss / B, dq, ranks };
}

function summarise(ranks: number[]): RetrievalSummary {
  const n = ranks.length || 1;
  return {
    recall1: ranks.filter((r) => r <= 1).length / n,
    recall5: ranks.filter((r) => r <= 5).length / n,
    mrr: ranks.reduce((a, r) => a + 1 / r, 0) / n,
  };
}

function evaluateSet(p: Prepared, th: Theta, D: number, temperature: number): { loss: number; summary: RetrievalSummary } {
  const all = Array.from({ length: p.n }, (_, r) => r);
  const { q } = fuseRows(p, all, th, D);
  const { loss, ranks } = infoNce(p, all, all, q, D, temperature, false);
  return { loss, summary: summarise(ranks) };
}

function toWeights(th: Theta, D: number): FusionWeights {
  return {
    dim: D,
    text: { scale: th.dT.map((x) => 1 + x), gain: th.gains[0]! },
    image: { scale: th.dI.map((x) => 1 + x), gain: th.gains[1]! },
  };
}

/**
 * Mean in-batch InfoNCE of `pairs` (all in one batch) under `weights`, with its gradient with
 * respect to the scales and gains. Exposed for gradient checks and diagnostics.
 */
export function fusionLossAndGrad(
  pairs: FusionPair[],
  weights: FusionWeights,
  temperature = FUSION_DEFAULTS.temperature,
): { loss: number; grad: { textScale: Float32Array; imageScale: Float32Array; textGain: number; imageGain: number } } {
  const D = weights.dim;
  const p = prepare(pairs, D);
  const rows = Array.from({ length: p.n }, (_, r) => r);
  const th: Theta = {
    dT: weights.text.scale.map((x) => x - 1),
    dI: weights.image.scale.map((x) => x - 1),
    gains: Float32Array.of(weights.text.gain, weights.image.gain),
  };
  const { q, norm } = fuseRows(p, rows, th, D);
  const { loss, dq } = infoNce(p, rows, rows, q, D, temperature, true);
  const gT = new Float32Array(D);
  const gI = new Float32Array(D);
  const gG = new Float32Array(2);
  accumulateGrads(p, rows, th, q, norm, dq!, D, gT, gI, gG);
  return { loss, grad: { textScale: gT, imageScale: gI, textGain: gG[0]!, imageGain: gG[1]! } };
}

export function trainFusion(pairs: FusionPair[], opts: FusionTrainOptions): FusionTrainResult {
  const F = FUSION_DEFAULTS;
  const epochs = opts.epochs ?? F.epochs;
  const batchSize = opts.batchSize ?? F.batchSize;
  const lr = opts.lr ?? F.lr;
  const patience = opts.patience ?? F.patience;
  const temperature = opts.temperature ?? F.temperature;
  const valFraction = opts.valFraction ?? F.valFraction;
  if (pairs.length < 4) throw new Error(`fusion training needs at least 4 pairs, got ${pairs.length}`);
  if (!(valFraction > 0 && valFraction < 1)) throw new Error('valFraction must be in (0, 1)');
  if (!(temperature > 0) || !(batchSize >= 2) || !(epochs >= 1)) throw new Error('need temperature > 0, batchSize >= 2, epochs >= 1');
  const D = pairs[0]!.target.length;
  pairs.forEach((pair, r) => {
    if (!pair.text && !pair.image) throw new Error(`pair ${r}: neither text nor image`);
    for (const v of [pair.text, pair.image, pair.target]) {
      if (v && v.length !== D) throw new Error(`pair ${r}: vector of ${v.length} dims, expected ${D}`);
      if (v && !v.every(Number.isFinite)) throw new Error(`pair ${r}: non-finite value`);
    }
  });

  const rng = new Rng(opts.seed);
  const all = prepare(pairs, D);
  const order = permutation(all.n, rng.fork('split'));
  const nVal = Math.min(all.n - 2, Math.max(2, Math.round(all.n * valFraction)));
  const val = subset(all, order.slice(0, nVal), D);
  const train = subset(all, order.slice(nVal), D);
  const shuffleRng = rng.fork('shuffle');

  const dT = param('text.scale-1', new Float32Array(D));
  const dI = param('image.scale-1', new Float32Array(D));
  const gains = param('gains', Float32Array.of(1, 1), { decay: false });
  const th: Theta = { dT: dT.data, dI: dI.data, gains: gains.data };
  const opt = new AdamW([dT, dI, gains], { lr, weightDecay: opts.weightDecay ?? F.weightDecay });
  const bs = Math.min(batchSize, train.n);
  const stepsPerEpoch = Math.ceil(train.n / bs);
  const totalSteps = stepsPerEpoch * epochs;
  const schedule = warmupCosine({ baseLr: lr, warmupSteps: defaultWarmup(totalSteps), totalSteps });

  const before = evaluateSet(val, th, D, temperature);
  let best = { epoch: 0, loss: before.loss, snapshot: [dT.data.slice(), dI.data.slice(), gains.data.slice()] };
  const history: FusionEpochStats[] = [];
  let step = 0;
  let lastLr = lr;
  let stoppedEarly = false;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const perm = permutation(train.n, shuffleRng);
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < train.n; start += bs) {
      const rows = perm.slice(start, start + bs);
      if (rows.length < 2) continue; // one pair has no negatives: nothing to contrast
      const { q, norm } = fuseRows(train, rows, th, D);
      const { loss, dq } = infoNce(train, rows, rows, q, D, temperature, true);
      lossSum += loss;
      batches++;
      opt.zeroGrad();
      accumulateGrads(train, rows, th, q, norm, dq!, D, dT.grad, dI.grad, gains.grad);
      lastLr = schedule(step++);
      opt.step(lastLr);
    }
    const ev = evaluateSet(val, th, D, temperature);
    const stats: FusionEpochStats = {
      epoch,
      trainLoss: batches ? lossSum / batches : 0,
      valLoss: ev.loss,
      valRecall1: ev.summary.recall1,
      valMrr: ev.summary.mrr,
      lr: lastLr,
    };
    history.push(stats);
    opts.onEpoch?.(stats);
    if (ev.loss < best.loss) best = { epoch, loss: ev.loss, snapshot: [dT.data.slice(), dI.data.slice(), gains.data.slice()] };
    else if (epoch - best.epoch >= patience) {
      stoppedEarly = epoch < epochs;
      break;
    }
  }

  [dT, dI, gains].forEach((p, k) => p.data.set(best.snapshot[k]!));
  const after = evaluateSet(val, th, D, temperature);
  return {
    weights: toWeights(th, D),
    history,
    bestEpoch: best.epoch,
    stoppedEarly,
    report: { before: before.summary, after: after.summary, trainPairs: train.n, valPairs: val.n },
  };
}

/**
 * Backprop dL/dq through q = u / |u| (dL/du = (dq - q (q·dq)) / |u|) and
 * u = cT gT (1 + dT) ⊙ t^ + cI gI (1 + dI) ⊙ i^ into the scale deltas and gains.
 */
function accumulateGrads(
  p: Prepared,
  rows: number[],
  th: Theta,
  q: Float64Array,
  norm: Float64Array,
  dq: Float64Array,
  D: number,
  gT: Float32Array,
  gI: Float32Array,
  gGains: Float32Array,
): void {
  const du = new Float64Array(D);
  let gainT = 0;
  let gainI = 0;
  const dScaleT = new Float64Array(D);
  const dScaleI = new Float64Array(D);
  rows.forEach((r, b) => {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[b * D + d]! * dq[b * D + d]!;
    for (let d = 0; d < D; d++) du[d] = (dq[b * D + d]! - q[b * D + d]! * dot) / norm[b]!;
    const pT = p.pT[r]!;
    const pI = p.pI[r]!;
    for (let d = 0; d < D; d++) {
      const t = pT * p.t[r * D + d]!;
      const im = pI * p.i[r * D + d]!;
      dScaleT[d]! += du[d]! * th.gains[0]! * t;
      dScaleI[d]! += du[d]! * th.gains[1]! * im;
      gainT += du[d]! * (1 + th.dT[d]!) * t;
      gainI += du[d]! * (1 + th.dI[d]!) * im;
    }
  });
  for (let d = 0; d < D; d++) {
    gT[d]! += dScaleT[d]!;
    gI[d]! += dScaleI[d]!;
  }
  gGains[0]! += gainT;
  gGains[1]! += gainI;
}
