import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AdamW, param } from '../src/training/adamw.ts';
import { warmupCosine } from '../src/training/schedule.ts';
import { Rng } from '../src/training/rng.ts';
import { trainIntentHead, predictHead, headLogits, type Example, type HeadWeights } from '../src/training/intent-head.ts';
import { fusionForward, fusionLossAndGrad, identityFusion, trainFusion, type FusionPair, type FusionWeights } from '../src/training/fusion.ts';
import { intentHeadToOnnx, fusionHeadToOnnx } from '../src/training/onnx-heads.ts';
import { createSession, ort } from '../src/models/runtime.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-training-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
  }
}

async function runOnnx(bytes: Uint8Array, name: string, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, Float32Array>> {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  const ms = await createSession(file, { device: 'cpu', threads: 1 });
  const res = await ms.session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)])));
  return Object.fromEntries(Object.entries(res).map(([k, t]) => [k, t.data as Float32Array]));
}

// ---------------------------------------------------------------- AdamW and schedule

test('AdamW: two steps match the hand-computed update, bias not decayed', () => {
  const w = param('w', Float32Array.of(1));
  const b = param('b', Float32Array.of(-2), { decay: false });
  const opt = new AdamW([w, b], { lr: 0.1, weightDecay: 0.1, betas: [0.9, 0.999], eps: 1e-8 });
  // Step 1: m = 0.1 g, v = 0.001 g^2; bias correction makes m^ = g, v^ = g^2, so the update is
  // g / (|g| + eps) ~ sign(g).
  //   w: 1 * (1 - 0.1 * 0.1) - 0.1 * 1 = 0.89;   b (no decay): -2 - 0.1 * (-1) = -1.9
  w.grad[0] = 0.5;
  b.grad[0] = -1;
  opt.step();
  assert.ok(Math.abs(w.data[0]! - 0.89) < 1e-6, `w after step 1: ${w.data[0]}`);
  assert.ok(Math.abs(b.data[0]! - -1.9) < 1e-6, `b after step 1: ${b.data[0]}`);
  // Step 2, b with g = 0.2: m = 0.9 * -0.1 + 0.1 * 0.2 = -0.07, v = 0.999 * 0.001 + 0.001 * 0.04 = 0.001039;
  // m^ = -0.07 / 0.19 = -0.368421, v^ = 0.001039 / 0.001999 = 0.519760, update = m^ / sqrt(v^) = -0.511027;
  // b = -1.9 + 0.1 * 0.511027 = -1.848897.
  // w with g = 0.1: m = 0.055, v = 0.00025975, m^ = 0.289474, v^ = 0.129940, update = 0.803041;
  // w = 0.89 * 0.99 - 0.0803041 = 0.800796.
  opt.zeroGrad();
  w.grad[0] = 0.1;
  b.grad[0] = 0.2;
  opt.step();
  assert.ok(Math.abs(w.data[0]! - 0.800796) < 1e-6, `w after step 2: ${w.data[0]}`);
  assert.ok(Math.abs(b.data[0]! - -1.848897) < 1e-6, `b after step 2: ${b.data[0]}`);
  assert.equal(opt.t, 2);
});

test('warm-up + cosine schedule: key steps', () => {
  const lr = warmupCosine({ baseLr: 1, warmupSteps: 4, totalSteps: 14 });
  assert.equal(lr(0), 0.25); // (0 + 1) / 4
  assert.equal(lr(1), 0.5);
  assert.equal(lr(3), 1); // last warm-up step reaches the base rate
  assert.equal(lr(4), 1); // cosine starts at the top
  assert.ok(Math.abs(lr(9) - 0.5) < 1e-12); // halfway through the 10 decay steps: cos(pi/2) = 0
  assert.ok(Math.abs(lr(14)) < 1e-12); // end: minLr (0)
  assert.ok(Math.abs(lr(100)) < 1e-12); // past the end: stays at minLr
  const withMin = warmupCosine({ baseLr: 1, warmupSteps: 0, totalSteps: 10, minLr: 0.1 });
  assert.equal(withMin(0), 1);
  assert.ok(Math.abs(withMin(5) - 0.55) < 1e-12); // 0.1 + 0.9 * 0.5
  for (let s = 1; s < 14; s++) if (s >= 4) assert.ok(lr(s) <= lr(s - 1), 'monotone decay after warm-up');
});

// ---------------------------------------------------------------- intent head

/** Gaussian blobs around random centres: one class per centre, `counts[c]` examples of class c. */
function blobs(rng: Rng, centres: Float32Array[], counts: number[], noise = 1): Example[] {
  const out: Example[] = [];
  counts.forEach((c, y) => {
    for (let i = 0; i < c; i++) {
      const x = rng.normals(centres[y]!.length, noise);
      for (let d = 0; d < x.length; d++) x[d]! += centres[y]![d]!;
      out.push({ x, y });
    }
  });
  return out;
}

const LABELS = ['search', 'compare', 'track_order', 'support'];
const blobRng = new Rng(7);
const centres = LABELS.map(() => blobRng.normals(16, 2.5, 1));
// Imbalanced on purpose (200:100:50:12); features offset from 0 so standardisation matters.
const blobTrain = blobs(blobRng, centres, [200, 100, 50, 12]);
const blobVal = blobs(blobRng, centres, [100, 50, 25, 10]);

function accuracy(head: HeadWeights, set: Example[]): number {
  let hit = 0;
  for (const ex of set) {
    const p = predictHead(head, ex.x);
    if (p.indexOf(Math.max(...p)) === ex.y) hit++;
  }
  return hit / set.length;
}

test('intent head: linear and hidden heads learn separable blobs (loss falls, val accuracy >= 0.98)', () => {
  for (const hidden of [0, 24]) {
    const seen: number[] = [];
    const r = trainIntentHead({ train: blobTrain, val: blobVal }, { labels: LABELS, hidden, seed: 1, epochs: 30, onEpoch: (e) => seen.push(e.epoch) });
    assert.deepEqual(seen, r.history.map((h) => h.epoch));
    const first = r.history[0]!;
    const last = r.history.at(-1)!;
    assert.ok(last.trainLoss < first.trainLoss / 4, `hidden ${hidden}: train loss ${first.trainLoss} -> ${last.trainLoss}`);
    const best = r.history[r.bestEpoch - 1]!;
    assert.ok(best.valAccuracy >= 0.98, `hidden ${hidden}: best val accuracy ${best.valAccuracy}`);
    // The returned head (standardisation folded in) works on raw features and agrees with the history.
    const acc = accuracy(r.head, blobVal);
    assert.ok(acc >= 0.98, `hidden ${hidden}: folded head val accuracy ${acc}`);
    assert.ok(Math.abs(acc - best.valAccuracy) < 1e-9, 'folded head reproduces the best epoch');
    const p = predictHead(r.head, blobVal[0]!.x);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'probabilities sum to 1');
  }
});

test('intent head: standardisation (folded into the first layer) copes with raw features far from zero and tiny in spread', () => {
  // Same blobs, but every feature is 300 + 0.01 * x: unstandardised, Adam's steps would be far too
  // large for the spread and the bias would have to travel to ~300 per unit of weight.
  const squash = (set: Example[]): Example[] => set.map((e) => ({ x: e.x.map((v) => 300 + 0.01 * v), y: e.y }));
  const train = squash(blobTrain);
  const val = squash(blobVal);
  const r = trainIntentHead({ train, val }, { labels: LABELS, seed: 1, epochs: 30 });
  const acc = accuracy(r.head, val);
  assert.ok(acc >= 0.98, `val accuracy on shifted/squashed features ${acc}`);
});

test('intent head: same seed -> bitwise-identical weights; another seed -> different', () => {
  const opts = { labels: LABELS, hidden: 8, seed: 42, epochs: 5 };
  const a = trainIntentHead({ train: blobTrain, val: blobVal }, opts).head;
  const b = trainIntentHead({ train: blobTrain, val: blobVal }, opts).head;
  const c = trainIntentHead({ train: blobTrain, val: blobVal }, { ...opts, seed: 43 }).head;
  for (const k of ['w1', 'b1', 'w2', 'b2'] as const) assert.ok(Buffer.from(a[k]!.buffer).equals(Buffer.from(b[k]!.buffer)), `${k} identical`);
  assert.ok(!Buffer.from(a.w1.buffer).equals(Buffer.from(c.w1.buffer)), 'a different seed gives different weights');
});

test('intent head: balanced class weights raise minority recall on an imbalanced, overlapping set', () => {
  const rng = new Rng(3);
  const cs = [new Float32Array(8), new Float32Array(8).fill(0.35)];
  const train = blobs(rng, cs, [400, 25]);
  const val = blobs(rng, cs, [400, 100]);
  const minorityRecall = (head: HeadWeights): number => {
    const minority = val.filter((e) => e.y === 1);
    return minority.filter((e) => {
      const p = predictHead(head, e.x);
      return p[1]! > p[0]!;
    }).length / minority.length;
  };
  const plain = trainIntentHead({ train, val }, { labels: ['common', 'rare'], seed: 1, epochs: 30 });
  const weighted = trainIntentHead({ train, val }, { labels: ['common', 'rare'], seed: 1, epochs: 30, classWeights: 'balanced' });
  // balanced: n / (k * count) = 425 / (2 * 400) and 425 / (2 * 25)
  assertClose(weighted.classWeights, [425 / 800, 425 / 50], 1e-12, 'class weights');
  const before = minorityRecall(plain.head);
  const afterW = minorityRecall(weighted.head);
  assert.ok(afterW > before + 0.1, `minority recall ${before} -> ${afterW}`);
});

test('intent head: early stopping stops after `patience` epochs without improvement and restores the best epoch', () => {
  // Random labels: nothing generalises, so the validation loss starts rising almost at once.
  const rng = new Rng(11);
  const noise = (n: number): Example[] => Array.from({ length: n }, () => ({ x: rng.normals(12, 1), y: Math.floor(rng.next() * 3) }));
  const train = noise(120);
  const val = noise(60);
  const r = trainIntentHead({ train, val }, { labels: ['a', 'b', 'c'], hidden: 32, seed: 5, epochs: 200, lr: 0.02, patience: 3, monitor: 'loss', weightDecay: 0 });
  assert.ok(r.stoppedEarly);
  assert.equal(r.history.length, r.bestEpoch + 3);
  assert.ok(r.history.length < 200);
  const bestLoss = r.history[r.bestEpoch - 1]!.valLoss;
  for (const h of r.history) assert.ok(h.valLoss >= bestLoss);
  // The returned head is the best epoch's: its validation loss (raw features, folded standardisation) matches.
  let loss = 0;
  for (const ex of val) loss -= Math.log(predictHead(r.head, ex.x)[ex.y]!);
  assert.ok(Math.abs(loss / val.length - bestLoss) < 1e-4, `restored head loss ${loss / val.length} vs best ${bestLoss}`);
});

test('intent head ONNX graph gives the TypeScript logits (linear, tanh and gelu heads)', async () => {
  const batch = blobVal.slice(0, 7);
  const x = new Float32Array(batch.length * 16);
  batch.forEach((e, i) => x.set(e.x, i * 16));
  for (const [hidden, activation] of [[0, 'gelu'], [12, 'tanh'], [12, 'gelu']] as const) {
    const { head } = trainIntentHead({ train: blobTrain, val: blobVal }, { labels: LABELS, hidden, activation, seed: 2, epochs: 3 });
    const out = await runOnnx(intentHeadToOnnx(head), `intent-${hidden}-${activation}.onnx`, { features: { data: x, dims: [batch.length, 16] } });
    assert.deepEqual(Object.keys(out), ['logits']);
    assertClose(out.logits!, headLogits(head, x), 1e-5, `logits (${hidden} ${activation})`);
  }
});

// ---------------------------------------------------------------- fusion

const D = 16;

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

test('fusion: untrained head is the normalised weighted sum; image-only returns the normalised image', () => {
  const rng = new Rng(21);
  const w = identityFusion(D);
  const text = rng.normals(D, 3);
  const image = rng.normals(D, 0.5);
  assertClose(fusionForward(w, null, image), unit(image), 1e-7, 'image only');
  assertClose(fusionForward(w, text, null), unit(text), 1e-7, 'text only');
  const both = fusionForward(w, text, image);
  const tu = unit(text);
  const iu = unit(image);
  assertClose(both, unit(tu.map((t, d) => t + iu[d]!)), 1e-6, 'both, weights 1:1');
  // User weights change the output: 3:1 leans towards the text vector, 1:0 is text alone.
  const leaning = fusionForward(w, text, image, [1, 1], [3, 1]);
  assertClose(leaning, unit(tu.map((t, d) => 3 * t + iu[d]!)), 1e-6, 'weights 3:1');
  const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, d) => s + v * b[d]!, 0);
  assert.ok(dot(leaning, tu) > dot(both, tu));
  assertClose(fusionForward(w, text, image, [1, 1], [1, 0]), tu, 1e-7, 'weights 1:0');
  // Presence 0 ignores a given vector; nothing present gives zeros, not NaN.
  assertClose(fusionForward(w, text, image, [0, 1]), iu, 1e-7, 'text marked absent');
  assertClose(fusionForward(w, null, null), new Float32Array(D), 0, 'no parts');
});

test('fusion ONNX graph equals fusionForward (untrained and with learned scales/gains)', async () => {
  const rng = new Rng(22);
  const rows: { text: Float32Array; image: Float32Array; presence: [number, number]; weights: [number, number] }[] = [
    { text: rng.normals(D, 2), image: rng.normals(D, 5), presence: [1, 1], weights: [1, 1] },
    { text: new Float32Array(D), image: rng.normals(D, 1), presence: [0, 1], weights: [1, 1] }, // image only
    { text: rng.normals(D, 1), image: new Float32Array(D), presence: [1, 0], weights: [1, 1] }, // text only
    { text: rng.normals(D, 1), image: rng.normals(D, 1), presence: [1, 1], weights: [0.3, 2] },
    { text: new Float32Array(D), image: new Float32Array(D), presence: [0, 0], weights: [1, 1] }, // nothing: zeros
  ];
  const flat = (pick: (r: (typeof rows)[number]) => ArrayLike<number>): Float32Array => Float32Array.from(rows.flatMap((r) => [...Array.from(pick(r))]));
  const feeds = {
    text_embeds: { data: flat((r) => r.text), dims: [rows.length, D] },
    image_embeds: { data: flat((r) => r.image), dims: [rows.length, D] },
    presence: { data: flat((r) => r.presence), dims: [rows.length, 2] },
    part_weights: { data: flat((r) => r.weights), dims: [rows.length, 2] },
  };
  const learned = identityFusion(D);
  learned.text.scale = rng.uniforms(D, -1, 2);
  learned.image.scale = rng.uniforms(D, 0.2, 1.5);
  learned.text.gain = 0.7;
  learned.image.gain = 1.6;
  for (const [name, w] of [['untrained', identityFusion(D)], ['learned', learned]] as const) {
    const out = await runOnnx(fusionHeadToOnnx(w), `fusion-${name}.onnx`, feeds);
    const q = out.query_embeds!;
    assert.equal(q.length, rows.length * D);
    rows.forEach((r, i) => {
      const expected = fusionForward(w, r.text, r.image, r.presence, r.weights);
      assertClose(q.subarray(i * D, (i + 1) * D), expected, 1e-5, `${name} row ${i}`);
    });
    assertClose(q.subarray(4 * D), new Float32Array(D), 0, `${name}: empty query stays zero`);
  }
});

test('fusion: analytic gradient matches central finite differences', () => {
  const rng = new Rng(23);
  const d = 6;
  const pairs: FusionPair[] = Array.from({ length: 5 }, (_, k) => ({
    text: k === 3 ? null : rng.normals(d, 1),
    image: k === 1 ? null : rng.normals(d, 1),
    target: rng.normals(d, 1),
  }));
  const w = identityFusion(d);
  w.text.scale = rng.normals(d, 0.3, 1);
  w.image.scale = rng.normals(d, 0.3, 1);
  w.text.gain = 0.8;
  w.image.gain = 1.3;
  const T = 0.2;
  const { grad } = fusionLossAndGrad(pairs, w, T);
  const clone = (): FusionWeights => ({ dim: d, text: { scale: w.text.scale.slice(), gain: w.text.gain }, image: { scale: w.image.scale.slice(), gain: w.image.gain } });
  const h = 1e-3;
  const numeric = (nudge: (x: FusionWeights, s: number) => void): number => {
    const a = clone();
    const b = clone();
    nudge(a, h);
    nudge(b, -h);
    return (fusionLossAndGrad(pairs, a, T).loss - fusionLossAndGrad(pairs, b, T).loss) / (2 * h);
  };
  for (let i = 0; i < d; i++) {
    assert.ok(Math.abs(grad.textScale[i]! - numeric((x, s) => (x.text.scale[i]! += s))) < 1e-4, `text scale ${i}`);
    assert.ok(Math.abs(grad.imageScale[i]! - numeric((x, s) => (x.image.scale[i]! += s))) < 1e-4, `image scale ${i}`);
  }
  assert.ok(Math.abs(grad.textGain - numeric((x, s) => (x.text.gain += s))) < 1e-4, 'text gain');
  assert.ok(Math.abs(grad.imageGain - numeric((x, s) => (x.image.gain += s))) < 1e-4, 'image gain');
});

test('fusion training on pairs whose targets are a fixed diagonal transform improves held-out recall@1', () => {
  const rng = new Rng(9);
  // target = a ⊙ base with alternating signs: the untrained head (identity) points the wrong way in
  // half the dimensions; a diagonal map can learn the transform exactly.
  const a = Float32Array.from({ length: D }, (_, d) => (d % 2 ? -1 : 1) * (0.5 + 0.1 * d));
  const pairs: FusionPair[] = Array.from({ length: 300 }, (_, k) => {
    const base = rng.normals(D, 1);
    const text = base.map((x) => x + 0.5 * rng.normal());
    const image = base.map((x) => x + 0.5 * rng.normal());
    return { text: k % 3 === 0 ? null : text, image: k % 3 === 1 ? null : image, target: base.map((x, d) => x * a[d]!) };
  });
  const opts = { seed: 1, epochs: 40, batchSize: 32, lr: 0.05, weightDecay: 0, patience: 5 };
  const r = trainFusion(pairs, opts);
  const { before, after: trained } = r.report;
  assert.equal(r.report.valPairs, 60);
  assert.ok(before.recall1 < 0.3, `untrained recall@1 ${before.recall1}`);
  assert.ok(trained.recall1 >= before.recall1 + 0.5, `recall@1 ${before.recall1} -> ${trained.recall1}`);
  assert.ok(trained.mrr > before.mrr);
  // The learned text scales took the signs of the transform.
  for (let d = 0; d < D; d++) assert.equal(Math.sign(r.weights.text.scale[d]!), Math.sign(a[d]!), `sign of scale ${d}`);
  // Deterministic for a seed.
  const again = trainFusion(pairs, opts);
  assert.ok(Buffer.from(again.weights.text.scale.buffer).equals(Buffer.from(r.weights.text.scale.buffer)));
});
