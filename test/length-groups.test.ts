import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPack } from '../src/models/build/pack.ts';
import { ClipModel } from '../src/models/clip.ts';
import { IntentModel } from '../src/models/intent.ts';
import { BertEncoder } from '../src/models/bert-encoder.ts';
import type { PackManifest } from '../src/models/registry.ts';
import { defaultRunCostTokens, lengthGroups, CPU_RUN_COST_TOKENS } from '../src/models/text-inputs.ts';
import { loadConfig } from '../src/config.ts';
import { runtimeOptions } from '../src/engine.ts';

/** Cost of a plan the way lengthGroups defines it: runCost per run plus size x longest per run. */
const cost = (lengths: number[], groups: number[][], runCost: number) =>
  groups.reduce((s, g) => s + runCost + g.length * Math.max(...g.map((i) => lengths[i]!)), 0);

/** Every split of the sorted order into contiguous runs, cheapest first. */
function bruteForce(lengths: number[], runCost: number): number {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]!);
  let best = Infinity;
  for (let mask = 0; mask < 1 << (order.length - 1); mask++) {
    const groups: number[][] = [[order[0]!]];
    for (let i = 1; i < order.length; i++) (mask & (1 << (i - 1)) ? groups.push([order[i]!]) : groups.at(-1)!.push(order[i]!));
    best = Math.min(best, cost(lengths, groups, runCost));
  }
  return best;
}

test('lengthGroups: each text once, cheapest plan (checked against every contiguous split)', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rand() * 10);
    const lengths = Array.from({ length: n }, () => 3 + Math.floor(rand() * 20));
    const runCost = [1, 4, 8, 16, 64][trial % 5]!;
    const groups = lengthGroups(lengths, runCost);
    assert.deepEqual(groups.flat().sort((a, b) => a - b), lengths.map((_, i) => i), 'every index exactly once');
    assert.equal(cost(lengths, groups, runCost), bruteForce(lengths, runCost), `lengths ${lengths} runCost ${runCost}`);
  }
});

test('lengthGroups: splits only where padding costs more than a run; 0 never splits', () => {
  assert.deepEqual(lengthGroups([], 8), []);
  assert.deepEqual(lengthGroups([5], 8), [[0]]);
  assert.deepEqual(lengthGroups([6, 6, 6, 6], 8), [[0, 1, 2, 3]]);
  // One long text among short ones: padding three texts by 8 tokens (24) > one extra run (8).
  assert.deepEqual(lengthGroups([4, 12, 4, 4], 8), [[0, 2, 3], [1]]);
  // A cheap-to-pad straggler stays: 3 x 1 padded token < 8.
  assert.deepEqual(lengthGroups([4, 5, 4, 4], 8), [[0, 2, 3, 1]]);
  assert.deepEqual(lengthGroups([4, 12, 4, 4], 0), [[0, 2, 3, 1]]);
});

let root: string;
let pack: string;
let manifest: PackManifest;
before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-lengths-'));
  pack = path.join(root, 'tiny');
  manifest = await buildPack({ preset: 'tiny', outDir: pack, seed: 5 });
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const TEXTS = ['red', 'red nike running shoes under 80 dollars with a long description of the colour', 'bag', 'blue cotton shirt', '80元以下的红色耐克跑鞋', 'wool'];
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test('split batches give the same vectors, in input order, as one padded run and as singles', async () => {
  const split = { device: 'cpu' as const, threads: 1, padSplitTokens: 1 };
  const whole = { device: 'cpu' as const, threads: 1, padSplitTokens: 0 };
  const [clipSplit, clipWhole] = await Promise.all([ClipModel.load(pack, manifest, split), ClipModel.load(pack, manifest, whole)]);
  const a = await clipSplit.embedTexts(TEXTS);
  const b = await clipWhole.embedTexts(TEXTS);
  for (const [i, t] of TEXTS.entries()) {
    assert.ok(maxDiff(a[i]!, b[i]!) < 1e-5, `CLIP "${t}"`);
    assert.ok(maxDiff(a[i]!, (await clipWhole.embedTexts([t]))[0]!) < 1e-5, `CLIP "${t}" alone`);
  }
  assert.ok(maxDiff(a[0]!, a[2]!) > 1e-3, 'different texts, different vectors (order kept)');

  const [intentSplit, intentWhole] = await Promise.all([IntentModel.load(pack, manifest, split), IntentModel.load(pack, manifest, whole)]);
  const la = await intentSplit.logits(TEXTS);
  const lb = await intentWhole.logits(TEXTS);
  for (const [i, t] of TEXTS.entries()) assert.ok(maxDiff(la[i]!, lb[i]!) < 1e-4, `intent "${t}"`);

  const bert = path.join(pack, manifest.models.bert!.dir);
  const [encSplit, encWhole] = await Promise.all([BertEncoder.load(bert, 'onnx/model.onnx', split), BertEncoder.load(bert, 'onnx/model.onnx', whole)]);
  const ea = await encSplit.embed(TEXTS, { pooling: 'mean' });
  const eb = await encWhole.embed(TEXTS, { pooling: 'mean' });
  for (const [i, t] of TEXTS.entries()) assert.ok(maxDiff(ea[i]!, eb[i]!) < 1e-4, `bert "${t}"`);
});

test('run cost: OMNISEARCH_PAD_SPLIT_TOKENS wins; unset means the CPU default, and never on CUDA', () => {
  assert.equal(runtimeOptions(loadConfig({})).padSplitTokens, undefined);
  assert.equal(runtimeOptions(loadConfig({ OMNISEARCH_PAD_SPLIT_TOKENS: '0' })).padSplitTokens, 0);
  assert.throws(() => loadConfig({ OMNISEARCH_PAD_SPLIT_TOKENS: '-1' }));
  const ms = (provider: 'cpu' | 'cuda') => ({ provider }) as Parameters<typeof defaultRunCostTokens>[0];
  assert.equal(defaultRunCostTokens(ms('cpu'), undefined), CPU_RUN_COST_TOKENS);
  assert.equal(defaultRunCostTokens(ms('cuda'), undefined), 0);
  assert.equal(defaultRunCostTokens(ms('cuda'), 12), 12);
});
