import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPack } from '../src/models/build/pack.ts';
import { DEFAULT_INTENT_LABELS } from '../src/models/build/bert.ts';
import { ClipModel } from '../src/models/clip.ts';
import { IntentModel } from '../src/models/intent.ts';
import { BertEncoder } from '../src/models/bert-encoder.ts';
import type { PackManifest } from '../src/models/registry.ts';
import type { DecodedImage } from '../src/media/types.ts';
import { encodeTexts, feedsFor } from '../src/models/text-inputs.ts';
import { loadTokenizer } from '../src/models/hf.ts';

const rt = { device: 'cpu' as const, threads: 1 };
let root: string;
let pack: string;
let manifest: PackManifest;
let clip: ClipModel;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-runtime-'));
  pack = path.join(root, 'tiny');
  manifest = await buildPack({ preset: 'tiny', outDir: pack, seed: 11 });
  clip = await ClipModel.load(pack, manifest, rt);
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

function solid(width: number, height: number, rgb: [number, number, number]): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rgb[i % 3]!;
  return { data, width, height, channels: 3 };
}

function pattern(width: number, height: number, seed: number): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 97 + ((i / 3 / width) | 0) * 7) % 256;
  return { data, width, height, channels: 3 };
}

function norm(v: Float32Array): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
}

const TEXTS = ['red nike running shoes under 80 dollars', '80元以下的红色耐克跑鞋', 'where is my order', 'a '.repeat(150)];

test('CLIP text embeddings: unit norm, configured dim, batch equals singles, deterministic', async () => {
  const cfg = JSON.parse(fs.readFileSync(path.join(pack, 'clip', 'config.json'), 'utf8')) as { projection_dim: number };
  assert.equal(clip.dim, cfg.projection_dim);
  const batch = await clip.embedTexts(TEXTS);
  assert.equal(batch.length, TEXTS.length);
  for (const [i, t] of TEXTS.entries()) {
    assert.equal(batch[i]!.length, clip.dim);
    assert.ok(Math.abs(norm(batch[i]!) - 1) < 1e-5);
    const [single] = await clip.embedTexts([t]);
    assert.ok(maxDiff(batch[i]!, single!) < 1e-5, `text ${i}: batch != single`);
  }
  const again = await clip.embedTexts(TEXTS);
  for (const [i, v] of again.entries()) assert.deepEqual(v, batch[i]);
  // Different texts really give different vectors.
  assert.ok(maxDiff(batch[0]!, batch[2]!) > 1e-3);
  assert.deepEqual(await clip.embedTexts([]), []);
});

test('CLIP image embeddings: unit norm, batch equals singles, deterministic', async () => {
  const images = [pattern(320, 240, 1), pattern(200, 300, 2), solid(64, 64, [10, 200, 30])];
  const batch = await clip.embedImages(images);
  assert.equal(batch.length, images.length);
  for (const [i, im] of images.entries()) {
    assert.equal(batch[i]!.length, clip.dim);
    assert.ok(Math.abs(norm(batch[i]!) - 1) < 1e-5);
    const [single] = await clip.embedImages([im]);
    assert.ok(maxDiff(batch[i]!, single!) < 1e-5, `image ${i}: batch != single`);
  }
  assert.deepEqual((await clip.embedImages(images))[0], batch[0]);
  assert.ok(maxDiff(batch[0]!, batch[1]!) > 1e-3);
});

test('pixel_values: shape from preprocessor_config and the normalised values it implies', async () => {
  const pp = JSON.parse(fs.readFileSync(path.join(pack, 'clip', 'preprocessor_config.json'), 'utf8')) as {
    image_mean: number[];
    image_std: number[];
    crop_size: { height: number; width: number };
  };
  const rgb: [number, number, number] = [255, 0, 128];
  const px = await clip.preprocessImages([solid(300, 200, rgb), solid(120, 500, rgb)]);
  const exact = (await clip.preprocessImages([solid(224, 224, rgb)])).data as Float32Array;
  for (let c = 0; c < 3; c++) {
    const want = (rgb[c]! / 255 - pp.image_mean[c]!) / pp.image_std[c]!;
    for (const v of exact.subarray(c * 224 * 224, (c + 1) * 224 * 224)) assert.ok(Math.abs(v - want) < 1e-4);
  }
  const { height, width } = pp.crop_size;
  assert.deepEqual(px.dims, [2, 3, height, width]);
  assert.equal(px.type, 'float32');
  const data = px.data as Float32Array;
  for (let c = 0; c < 3; c++) {
    const want = (rgb[c]! / 255 - pp.image_mean[c]!) / pp.image_std[c]!;
    for (let b = 0; b < 2; b++) {
      const plane = data.subarray((b * 3 + c) * height * width, (b * 3 + c + 1) * height * width);
      // transformers.js resizes with sharp in 8 bits: a cubic upscale by a non-integer factor blends
      // a few border rows/columns with the edge and may round by one grey level; the interior must be exact.
      const tol = 1.01 / 255 / pp.image_std[c]!;
      for (let y = 4; y < height - 4; y++) {
        for (let x = 4; x < width - 4; x++) {
          const v = plane[y * width + x]!;
          assert.ok(Math.abs(v - want) < tol, `batch ${b} channel ${c} (${y},${x}): ${v} vs ${want}`);
        }
      }
    }
  }
  await assert.rejects(clip.preprocessImages([{ data: new Uint8Array(10), width: 4, height: 4, channels: 3 }]), /expected 4x4x3/);
});

test('IntentModel: a distribution over the configured labels, most likely first', async () => {
  const intent = await IntentModel.load(pack, manifest, rt);
  assert.deepEqual(intent.labels, [...DEFAULT_INTENT_LABELS]);
  const results = await intent.classify(['red nike shoes', '我的订单在哪里', 'refund please']);
  assert.equal(results.length, 3);
  for (const r of results) {
    const all = [r, ...r.alternatives];
    assert.deepEqual(all.map((x) => x.label).sort(), [...DEFAULT_INTENT_LABELS].sort());
    const sum = all.reduce((s, x) => s + x.confidence, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, `sums to ${sum}`);
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.confidence >= all[i]!.confidence);
    for (const x of all) assert.ok(x.confidence > 0 && x.confidence < 1);
  }
  assert.equal(intent.sessions().length, 1);
});

test('BertEncoder: CLS and mean pooling, batching does not change vectors', async () => {
  const dir = path.join(pack, 'bert');
  const enc = await BertEncoder.load(dir, 'onnx/model.onnx', rt);
  const texts = ['red nike shoes', 'where is my order please', '红色跑鞋'];
  const cls = await enc.embed(texts);
  const mean = await enc.embed(texts, { pooling: 'mean' });
  const oneByOne = await enc.embed(texts, { pooling: 'mean', batchSize: 1 });
  for (let i = 0; i < texts.length; i++) {
    assert.equal(cls[i]!.length, enc.hidden);
    assert.ok(maxDiff(mean[i]!, oneByOne[i]!) < 1e-5, 'padding leaks into mean pooling');
    assert.ok(maxDiff(cls[i]!, mean[i]!) > 1e-4);
  }
});

test('text feeds: long texts keep their closing special token; only declared inputs are fed', async () => {
  const clipTok = await loadTokenizer(path.join(pack, 'clip'));
  const eos = Number(clipTok.eos_token_id);
  const textOnly = clip.sessions()[0]!;
  assert.deepEqual(textOnly.inputNames, ['input_ids']);
  const feeds = feedsFor(textOnly, encodeTexts(clipTok, ['shoes '.repeat(100), 'red shoes'], 77), [0, 1], 77);
  assert.deepEqual(Object.keys(feeds), ['input_ids']);
  assert.deepEqual(feeds.input_ids!.dims, [2, 77]);
  const ids = Array.from(feeds.input_ids!.data as BigInt64Array, Number);
  assert.equal(ids[76], eos, 'truncated text still ends in <|endoftext|>');
  assert.equal(ids[0], Number(clipTok.bos_token_id));
  // Short text: its own ids, then <|endoftext|> padding (CLIP's pad token).
  const short = clipTok.encode('red shoes');
  assert.deepEqual(ids.slice(77, 77 + short.length), short);
  assert.ok(ids.slice(77 + short.length).every((v) => v === eos));

  const bertTok = await loadTokenizer(path.join(pack, 'bert'));
  const bert = await BertEncoder.load(path.join(pack, 'bert'), 'onnx/model.onnx', rt);
  const bf = feedsFor(bert.sessions()[0]!, encodeTexts(bertTok, ['red '.repeat(300), 'red'], 16), [0, 1]);
  assert.deepEqual(Object.keys(bf).sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
  assert.deepEqual(bf.input_ids!.dims, [2, 16]);
  const b = Array.from(bf.input_ids!.data as BigInt64Array, Number);
  const [cls, sep] = bertTok.encode('');
  assert.equal(b[15], sep);
  assert.deepEqual(b.slice(16, 19), [cls, b[1], sep]);
  assert.deepEqual(Array.from(bf.attention_mask!.data as BigInt64Array, Number).slice(16), [1, 1, 1, ...new Array(13).fill(0)]);
});
