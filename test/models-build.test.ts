import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPack } from '../src/models/build/pack.ts';
import { DEFAULT_INTENT_LABELS } from '../src/models/build/bert.ts';
import { readManifest, resolveModelFile, type PackManifest } from '../src/models/registry.ts';
import { createSession, ort } from '../src/models/runtime.ts';
import { loadFeatureExtractor, loadImageProcessor, loadTokenizer } from '../src/models/hf.ts';

/**
 * Signatures of the real exports our built files must match. Checked against Optimum's ONNX
 * export configs as used by transformers.js (huggingface/transformers.js, scripts/extra/clip.py
 * and optimum.exporters.onnx.model_configs: CLIPTextWithProjection = input_ids only, ViT-style
 * pixel_values axes, BERT = input_ids/attention_mask/token_type_ids with batch_size/sequence_length)
 * and the pack contract. `D`/`H` placeholders are filled from each model's config.json.
 * fp16 variants keep float32 inputs/outputs (Cast inside), like keep_io_types exports.
 */
type Sig = Record<string, { type: string; shape: (string | number)[] }>;
function clipSigs(cfg: { projection_dim: number; text_config: { hidden_size: number }; vision_config: { hidden_size: number } }) {
  return {
    text: {
      inputs: { input_ids: { type: 'int64', shape: ['batch_size', 'sequence_length'] } },
      outputs: {
        text_embeds: { type: 'float32', shape: ['batch_size', cfg.projection_dim] },
        last_hidden_state: { type: 'float32', shape: ['batch_size', 'sequence_length', cfg.text_config.hidden_size] },
      },
    },
    vision: {
      inputs: { pixel_values: { type: 'float32', shape: ['batch_size', 'num_channels', 'height', 'width'] } },
      outputs: {
        image_embeds: { type: 'float32', shape: ['batch_size', cfg.projection_dim] },
        // Declared ['batch_size', 'sequence_length', H]; onnxruntime reports the inferred 50
        // (1 + (224/32)^2 patches) for a fixed 224 input, as it does for the real export.
        last_hidden_state: { type: 'float32', shape: ['batch_size', 50, cfg.vision_config.hidden_size] },
      },
    },
  } satisfies Record<string, { inputs: Sig; outputs: Sig }>;
}
const BERT_INPUTS: Sig = {
  input_ids: { type: 'int64', shape: ['batch_size', 'sequence_length'] },
  attention_mask: { type: 'int64', shape: ['batch_size', 'sequence_length'] },
  token_type_ids: { type: 'int64', shape: ['batch_size', 'sequence_length'] },
};

/** Whisper (helper B's graphs): names and element types of Optimum's merged export. */
function whisperNames(layers: number) {
  const past: Record<string, string> = {};
  const present: Record<string, string> = {};
  for (let i = 0; i < layers; i++) {
    for (const kind of ['decoder', 'encoder']) {
      for (const kv of ['key', 'value']) {
        past[`past_key_values.${i}.${kind}.${kv}`] = 'float32';
        present[`present.${i}.${kind}.${kv}`] = 'float32';
      }
    }
  }
  return {
    encoder: { inputs: { input_features: 'float32' }, outputs: { last_hidden_state: 'float32' } },
    decoder: {
      inputs: { input_ids: 'int64', encoder_hidden_states: 'float32', ...past, use_cache_branch: 'bool' },
      outputs: { logits: 'float32', ...present },
    },
  };
}

let root: string;
let pack: string;
let manifest: PackManifest;
let buildMs: number;
const rt = { device: 'cpu' as const, threads: 1 };

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-build-'));
  pack = path.join(root, 'tiny');
  const steps: string[] = [];
  const t0 = performance.now();
  manifest = await buildPack({ preset: 'tiny', outDir: pack, seed: 7, fp16: true, onProgress: (s) => steps.push(s) });
  buildMs = performance.now() - t0;
  assert.deepEqual(steps, ['clip', 'intent', 'bert', 'whisper', 'done']);
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

test('tiny pack builds in a few seconds and is small', () => {
  assert.ok(buildMs < 10_000, `tiny pack took ${buildMs.toFixed(0)} ms`);
  const bytes = listFiles(pack).reduce((s, f) => s + fs.statSync(path.join(pack, f)).size, 0);
  assert.ok(bytes < 30 * 1024 * 1024, `tiny pack is ${bytes} bytes`);
});

test('manifest is valid and every listed file (and its fp16 variant) exists', () => {
  const m = readManifest(pack);
  assert.deepEqual(m, manifest);
  assert.equal(m.source, 'built');
  assert.equal(m.preset, 'tiny');
  assert.equal(m.seed, 7);
  assert.deepEqual(Object.keys(m.models).sort(), ['bert', 'clip', 'intent', 'whisper']);
  for (const [model, entry] of Object.entries(m.models)) {
    for (const key of Object.keys(entry.files)) {
      const fp32 = resolveModelFile(pack, model, key, 'fp32', m);
      const fp16 = resolveModelFile(pack, model, key, 'fp16', m);
      assert.ok(fs.existsSync(fp32.file));
      assert.equal(fp16.variant, 'fp16', `${model}.${key} fp16`);
      assert.match(fp16.file, /_fp16\.onnx$/);
      // Never built: falls back to fp32 and says so.
      const q = resolveModelFile(pack, model, key, 'quantized', m);
      assert.equal(q.variant, 'fp32');
      assert.equal(q.requested, 'quantized');
      assert.equal(q.file, fp32.file);
    }
  }
});

test('same seed gives byte-identical files; another seed changes the weights', async () => {
  const again = path.join(root, 'again');
  const other = path.join(root, 'other');
  await buildPack({ preset: 'tiny', outDir: again, seed: 7, fp16: true });
  await buildPack({ preset: 'tiny', outDir: other, seed: 8 });
  const files = listFiles(pack).filter((f) => f !== 'manifest.json');
  assert.deepEqual(listFiles(again).filter((f) => f !== 'manifest.json'), files);
  for (const f of files) assert.ok(fs.readFileSync(path.join(pack, f)).equals(fs.readFileSync(path.join(again, f))), `${f} differs between builds`);
  for (const f of ['clip/onnx/text_model.onnx', 'intent/onnx/model.onnx', 'whisper/onnx/encoder_model.onnx']) {
    assert.ok(!fs.readFileSync(path.join(pack, f)).equals(fs.readFileSync(path.join(other, f))), `${f} ignores the seed`);
  }
});

function assertSig(actual: readonly ort.InferenceSession.ValueMetadata[], expected: Sig, what: string): void {
  assert.deepEqual(actual.map((m) => m.name), Object.keys(expected), `${what} names`);
  for (const m of actual) {
    assert.ok(m.isTensor, `${what} ${m.name} is a tensor`);
    if (!m.isTensor) continue;
    assert.equal(m.type, expected[m.name]!.type, `${what} ${m.name} type`);
    assert.deepEqual(m.shape, expected[m.name]!.shape, `${what} ${m.name} shape`);
  }
}

for (const variant of ['fp32', 'fp16'] as const) {
  test(`CLIP ${variant} signatures match the real export and the models run`, async () => {
    const dir = path.join(pack, 'clip');
    const cfg = readJson<Parameters<typeof clipSigs>[0]>(path.join(dir, 'config.json'));
    const sigs = clipSigs(cfg);
    const text = await createSession(resolveModelFile(pack, 'clip', 'text', variant, manifest).file, rt);
    const vision = await createSession(resolveModelFile(pack, 'clip', 'vision', variant, manifest).file, rt);
    assertSig(text.session.inputMetadata, sigs.text.inputs, 'text inputs');
    assertSig(text.session.outputMetadata, sigs.text.outputs, 'text outputs');
    assertSig(vision.session.inputMetadata, sigs.vision.inputs, 'vision inputs');
    assertSig(vision.session.outputMetadata, sigs.vision.outputs, 'vision outputs');
    const ids = BigInt64Array.from([49406, 5, 6, 49407].map((v) => BigInt(Math.min(v, 799))));
    const t = await text.session.run({ input_ids: new ort.Tensor('int64', ids, [1, 4]) });
    assert.deepEqual(t.text_embeds!.dims, [1, cfg.projection_dim]);
    assert.deepEqual(t.last_hidden_state!.dims, [1, 4, cfg.text_config.hidden_size]);
    const px = new Float32Array(2 * 3 * 224 * 224).map((_, i) => Math.sin(i / 7));
    const v = await vision.session.run({ pixel_values: new ort.Tensor('float32', px, [2, 3, 224, 224]) });
    assert.deepEqual(v.image_embeds!.dims, [2, cfg.projection_dim]);
    assert.deepEqual(v.last_hidden_state!.dims, [2, 50, cfg.vision_config.hidden_size]);
    for (const x of [...(t.text_embeds!.data as Float32Array), ...(v.image_embeds!.data as Float32Array)]) assert.ok(Number.isFinite(x));
  });

  test(`BERT intent + encoder ${variant} signatures match the real export and the models run`, async () => {
    const intentCfg = readJson<{ id2label: Record<string, string>; hidden_size: number }>(path.join(pack, 'intent', 'config.json'));
    const bertCfg = readJson<{ hidden_size: number; architectures: string[] }>(path.join(pack, 'bert', 'config.json'));
    assert.deepEqual(Object.values(intentCfg.id2label), [...DEFAULT_INTENT_LABELS]);
    assert.deepEqual(bertCfg.architectures, ['BertModel']);
    const intent = await createSession(resolveModelFile(pack, 'intent', 'model', variant, manifest).file, rt);
    const bert = await createSession(resolveModelFile(pack, 'bert', 'model', variant, manifest).file, rt);
    const n = DEFAULT_INTENT_LABELS.length;
    assertSig(intent.session.inputMetadata, BERT_INPUTS, 'intent inputs');
    assertSig(intent.session.outputMetadata, { logits: { type: 'float32', shape: ['batch_size', n] } }, 'intent outputs');
    assertSig(bert.session.inputMetadata, BERT_INPUTS, 'bert inputs');
    assertSig(bert.session.outputMetadata, { last_hidden_state: { type: 'float32', shape: ['batch_size', 'sequence_length', bertCfg.hidden_size] } }, 'bert outputs');
    const tok = await loadTokenizer(path.join(pack, 'intent'));
    const enc = tok(['red nike shoes', '80元以下的红色耐克跑鞋'], { padding: true, return_token_type_ids: true }) as Record<string, { data: BigInt64Array; dims: number[] }>;
    const feeds = Object.fromEntries(Object.keys(BERT_INPUTS).map((k) => [k, new ort.Tensor('int64', enc[k]!.data, enc[k]!.dims)]));
    const seq = enc.input_ids!.dims[1]!;
    const logits = (await intent.session.run(feeds)).logits!;
    assert.deepEqual(logits.dims, [2, n]);
    const h = (await bert.session.run(feeds)).last_hidden_state!;
    assert.deepEqual(h.dims, [2, seq, bertCfg.hidden_size]);
  });

  test(`Whisper ${variant} names/types match Optimum's merged export and the models run`, async () => {
    const cfg = readJson<{ decoder_layers: number; d_model: number; num_mel_bins: number; decoder_attention_heads: number; vocab_size: number }>(
      path.join(pack, 'whisper', 'config.json'),
    );
    const names = whisperNames(cfg.decoder_layers);
    const enc = await createSession(resolveModelFile(pack, 'whisper', 'encoder', variant, manifest).file, rt);
    const dec = await createSession(resolveModelFile(pack, 'whisper', 'decoder', variant, manifest).file, rt);
    const types = (m: readonly ort.InferenceSession.ValueMetadata[]) => Object.fromEntries(m.map((x) => [x.name, x.isTensor ? x.type : 'none']));
    assert.deepEqual(types(enc.session.inputMetadata), names.encoder.inputs);
    assert.deepEqual(types(enc.session.outputMetadata), names.encoder.outputs);
    assert.deepEqual(types(dec.session.inputMetadata), names.decoder.inputs);
    assert.deepEqual(types(dec.session.outputMetadata), names.decoder.outputs);
    for (const m of [...enc.session.inputMetadata, ...dec.session.inputMetadata]) {
      if (m.isTensor && m.name !== 'use_cache_branch') assert.equal(typeof m.shape[0], 'string', `${m.name} has a dynamic batch axis`);
    }
    const features = new Float32Array(cfg.num_mel_bins * 3000).map((_, i) => Math.cos(i / 11));
    const hidden = (await enc.session.run({ input_features: new ort.Tensor('float32', features, [1, cfg.num_mel_bins, 3000]) })).last_hidden_state!;
    assert.deepEqual(hidden.dims, [1, 1500, cfg.d_model]);
    // First decoder step as transformers.js runs it: no cache yet, empty past tensors.
    const hd = cfg.d_model / cfg.decoder_attention_heads;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from([1n, 2n]), [1, 2]),
      encoder_hidden_states: hidden,
      use_cache_branch: new ort.Tensor('bool', new Uint8Array([0]), [1]),
    };
    for (const name of Object.keys(names.decoder.inputs)) {
      if (name.startsWith('past_key_values.')) feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, cfg.decoder_attention_heads, 0, hd]);
    }
    const out = await dec.session.run(feeds);
    assert.deepEqual(out.logits!.dims, [1, 2, cfg.vocab_size]);
    assert.deepEqual(out['present.0.encoder.key']!.dims, [1, cfg.decoder_attention_heads, 1500, hd]);
  });
}

test('tokenizers and processors load through hf.ts and behave like their real kinds', async () => {
  const clipTok = await loadTokenizer(path.join(pack, 'clip'));
  const clipCfg = readJson<{ text_config: { bos_token_id: number; eos_token_id: number; vocab_size: number } }>(path.join(pack, 'clip', 'config.json'));
  const ids = Array.from((clipTok('Red Nike running shoes!').input_ids as { data: BigInt64Array }).data, Number);
  assert.equal(ids[0], clipCfg.text_config.bos_token_id);
  assert.equal(ids.at(-1), clipCfg.text_config.eos_token_id);
  assert.equal(Math.max(...ids), clipCfg.text_config.eos_token_id, 'EOS is the highest id (CLIP pools at argmax)');
  assert.ok(ids.every((i) => i < clipCfg.text_config.vocab_size));
  assert.equal(clipTok.tokenize('Red shoes').join(''), 'red</w>shoes</w>', 'lowercased, </w> marks word ends');

  const bertTok = await loadTokenizer(path.join(pack, 'bert'));
  assert.deepEqual(bertTok.tokenize('Red NIKE 跑鞋'), ['red', 'nike', '跑', '鞋']);
  const bertIds = Array.from((bertTok('red shoes').input_ids as { data: BigInt64Array }).data, Number);
  assert.equal(bertIds[0], 101);
  assert.equal(bertIds.at(-1), 102);
  const intentTok = await loadTokenizer(path.join(pack, 'intent'));
  assert.deepEqual(intentTok.tokenize('where is my order'), bertTok.tokenize('where is my order'));

  const proc = await loadImageProcessor(path.join(pack, 'clip'));
  assert.ok(proc);
  const fe = await loadFeatureExtractor(path.join(pack, 'whisper'));
  assert.ok(fe);
  const whisperTok = await loadTokenizer(path.join(pack, 'whisper'));
  for (const t of ['<|endoftext|>', '<|startoftranscript|>', '<|en|>', '<|zh|>', '<|transcribe|>', '<|notimestamps|>']) {
    assert.equal(whisperTok.encode(t, { add_special_tokens: false }).length, 1, `${t} is one token`);
  }
});
