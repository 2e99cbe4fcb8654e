import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { buildWhisper } from '../src/models/build/whisper.ts';
import { WhisperModel, type StepInfo } from '../src/models/whisper.ts';
import { Rng } from '../src/models/onnx/rng.ts';
import { OmniError } from '../src/errors.ts';
import { ort } from '../src/models/runtime.ts';

const rt = { device: 'cpu' as const, threads: 1 };
const FILES = { encoder: 'onnx/encoder_model.onnx', decoder: 'onnx/decoder_model_merged.onnx' };
const FILES_FP16 = { encoder: 'onnx/encoder_model_fp16.onnx', decoder: 'onnx/decoder_model_merged_fp16.onnx' };
const SEED = 11;

interface Cfg {
  d_model: number;
  decoder_layers: number;
  decoder_attention_heads: number;
  num_mel_bins: number;
  vocab_size: number;
}
interface Gen {
  decoder_start_token_id: number;
  eos_token_id: number;
  lang_to_id: Record<string, number>;
  task_to_id: Record<string, number>;
  no_timestamps_token_id: number;
  max_length: number;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'omnisearch-whisper-'));
const dir = path.join(root, 'whisper');
let model: WhisperModel;
let cfg: Cfg;
let gen: Gen;

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

/** 5 s of deterministic "speech-like" audio: a warbling tone with seeded noise. */
function audio(seconds = 5): Float32Array {
  const rng = new Rng(99);
  return Float32Array.from({ length: 16000 * seconds }, (_, i) => {
    const t = i / 16000;
    return 0.3 * Math.sin(2 * Math.PI * (220 + 80 * Math.sin(2 * Math.PI * 3 * t)) * t) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 2 * t)) + 0.02 * (rng.next() - 0.5);
  });
}
const clip = audio();

before(async () => {
  await buildWhisper(dir, { preset: 'tiny', seed: SEED, fp16: true });
  cfg = readJson<Cfg>(path.join(dir, 'config.json'));
  gen = readJson<Gen>(path.join(dir, 'generation_config.json'));
  model = await WhisperModel.load(dir, FILES, rt);
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/**
 * The real export's signature. Checked against Optimum's Whisper export as transformers.js
 * consumes it (huggingface/optimum at 3fc15a8d^, before the exporter moved to optimum-onnx):
 * - exporters/onnx/config.py AudioToTextOnnxConfig.inputs: decoder `input_ids`
 *   {batch_size, decoder_sequence_length}, `encoder_hidden_states` {batch_size, ...};
 * - exporters/onnx/model_configs.py WhisperOnnxConfig: `input_features` has only the batch axis
 *   dynamic; the encoder sequence axis is named 'encoder_sequence_length / 2' (encoder output and
 *   the decoder's encoder_hidden_states);
 * - exporters/onnx/base.py OnnxSeq2SeqConfigWithPast.add_past_key_values: past axes
 *   'past_decoder_sequence_length' / 'encoder_sequence_length_out', present decoder axis
 *   'past_decoder_sequence_length + 1', order decoder.key, decoder.value, encoder.key, encoder.value;
 * - onnx/graph_transformations.py merge_decoders: inputs of the no-cache decoder, then the
 *   cache decoder's extra ones, then `use_cache_branch` bool [1]; outputs of the no-cache decoder;
 *   one `If` node.
 * transformers.js (packages/transformers/src/models/modeling_utils.js addPastKeyValues) fills the
 * first step's past tensors from these shapes with every symbolic axis but batch_size set to 0.
 */
function expectedSignature(c: Cfg) {
  const H = c.decoder_attention_heads;
  const hd = c.d_model / H;
  const decoderInputs: [string, string, (string | number)[]][] = [
    ['input_ids', 'int64', ['batch_size', 'decoder_sequence_length']],
    ['encoder_hidden_states', 'float32', ['batch_size', 'encoder_sequence_length / 2', c.d_model]],
  ];
  const decoderOutputs: [string, string, (string | number)[]][] = [['logits', 'float32', ['batch_size', 'decoder_sequence_length', c.vocab_size]]];
  for (let i = 0; i < c.decoder_layers; i++) {
    for (const kind of ['decoder', 'encoder']) {
      for (const kv of ['key', 'value']) {
        decoderInputs.push([`past_key_values.${i}.${kind}.${kv}`, 'float32', ['batch_size', H, kind === 'decoder' ? 'past_decoder_sequence_length' : 'encoder_sequence_length_out', hd]]);
        decoderOutputs.push([`present.${i}.${kind}.${kv}`, 'float32', ['batch_size', H, kind === 'decoder' ? 'past_decoder_sequence_length + 1' : 'encoder_sequence_length_out', hd]]);
      }
    }
  }
  decoderInputs.push(['use_cache_branch', 'bool', [1]]);
  return {
    encoderInputs: [['input_features', 'float32', ['batch_size', c.num_mel_bins, 3000]]] as [string, string, (string | number)[]][],
    // Declared 'encoder_sequence_length / 2' (checked on the proto below); onnxruntime reports the
    // 1500 it infers from the fixed 3000-frame input, as it does for the real export.
    encoderOutputs: [['last_hidden_state', 'float32', ['batch_size', 1500, c.d_model]]] as [string, string, (string | number)[]][],
    decoderInputs,
    decoderOutputs,
  };
}

const sig = (meta: readonly ort.InferenceSession.ValueMetadata[]) => meta.map((m) => [m.name, m.isTensor ? m.type : 'none', m.isTensor ? [...m.shape] : []]);

for (const [variant, files] of [['fp32', FILES], ['fp16', FILES_FP16]] as const) {
  test(`${variant} encoder and merged decoder have the real export's names, dtypes and dynamic axes`, async () => {
    const m = variant === 'fp32' ? model : await WhisperModel.load(dir, files, rt);
    const [enc, dec] = m.sessions();
    const want = expectedSignature(cfg);
    assert.deepEqual(sig(enc!.session.inputMetadata), want.encoderInputs);
    assert.deepEqual(sig(enc!.session.outputMetadata), want.encoderOutputs);
    assert.deepEqual(sig(dec!.session.inputMetadata), want.decoderInputs);
    assert.deepEqual(sig(dec!.session.outputMetadata), want.decoderOutputs);
    const encProto = onnxProto.onnx.ModelProto.decode(fs.readFileSync(path.join(dir, files.encoder)));
    const declared = encProto.graph!.output![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    assert.deepEqual(declared, ['batch_size', 'encoder_sequence_length / 2', cfg.d_model]);
    // Merged like Optimum: the top-level graph is a single If on use_cache_branch with two branches.
    const proto = onnxProto.onnx.ModelProto.decode(fs.readFileSync(path.join(dir, files.decoder)));
    const nodes = proto.graph!.node!.filter((n) => n.opType !== 'Cast');
    assert.deepEqual(nodes.map((n) => n.opType), ['If']);
    assert.deepEqual(nodes[0]!.input, ['use_cache_branch']);
    assert.deepEqual(nodes[0]!.attribute!.map((a) => a.name).sort(), ['else_branch', 'then_branch']);
    // And it decodes end to end.
    const r = await m.transcribe(clip, { language: 'en', maxNewTokens: 3 });
    assert.equal(r.tokens.length + (r.stoppedBy === 'eos' ? 1 : 0), r.timings.perTokenMs.length);
  });
}

test('causal mask is right in both branches: a multi-token cached step equals the uncached run', async () => {
  // Runs the merged decoder directly: 2 tokens without cache, then 3 more with the cache (T > 1,
  // so the cache branch's mask offset matters), against all 5 without cache.
  const [enc, dec] = model.sessions();
  const features = new Float32Array(cfg.num_mel_bins * 3000).map((_, i) => Math.cos(i / 13));
  const hidden = (await enc!.session.run({ input_features: new ort.Tensor('float32', features, [1, cfg.num_mel_bins, 3000]) })).last_hidden_state!;
  const H = cfg.decoder_attention_heads;
  const hd = cfg.d_model / H;
  const pastNames = dec!.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const run = (ids: number[], past: Record<string, ort.Tensor> | null) =>
    dec!.session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      encoder_hidden_states: hidden,
      use_cache_branch: new ort.Tensor('bool', new Uint8Array([past ? 1 : 0]), [1]),
      ...(past ?? Object.fromEntries(pastNames.map((n) => [n, new ort.Tensor('float32', new Float32Array(0), [1, H, 0, hd])]))),
    });
  const ids = [gen.decoder_start_token_id, gen.lang_to_id['<|en|>']!, gen.task_to_id.transcribe, gen.no_timestamps_token_id, 40];
  const full = await run(ids, null);
  const first = await run(ids.slice(0, 2), null);
  const past = Object.fromEntries(pastNames.map((n) => [n, first[n.replace('past_key_values.', 'present.')]!]));
  const rest = await run(ids.slice(2), past);
  assert.deepEqual(rest.logits!.dims, [1, 3, cfg.vocab_size]);
  assert.deepEqual(rest['present.0.decoder.key']!.dims, [1, H, 5, hd]);
  // The cache branch returns Optimum's empty placeholders for the cross-attention entries.
  assert.deepEqual(rest['present.0.encoder.key']!.dims, [0, H, 1, hd]);
  const a = rest.logits!.data as Float32Array;
  const b = (full.logits!.data as Float32Array).subarray(2 * cfg.vocab_size);
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
  assert.ok(maxDiff < 1e-4, `cached logits differ by ${maxDiff}`);
  // The uncached prefix must not see later tokens: its first rows equal a run on the prefix alone.
  const prefix = (first.logits!.data as Float32Array);
  const fullHead = (full.logits!.data as Float32Array).subarray(0, prefix.length);
  let headDiff = 0;
  for (let i = 0; i < prefix.length; i++) headDiff = Math.max(headDiff, Math.abs(prefix[i]! - fullHead[i]!));
  assert.ok(headDiff < 1e-4, `prefix logits depend on later tokens (${headDiff})`);
});

function recordSteps(): { steps: StepInfo[]; onStep: (s: StepInfo) => void } {
  const steps: StepInfo[] = [];
  return { steps, onStep: (s) => steps.push(s) };
}

test('a bound of 3 new tokens stops with max_tokens after exactly 3 decoder steps', async () => {
  const { steps, onStep } = recordSteps();
  const r = await model.transcribe(clip, { language: 'en', maxNewTokens: 3, onStep });
  assert.equal(r.stoppedBy, 'max_tokens');
  assert.equal(r.tokens.length, 3);
  assert.equal(steps.length, 3);
  assert.equal(r.timings.perTokenMs.length, 3);
  assert.ok(r.tokens.every((t) => t < gen.eos_token_id), 'only text tokens are generated');
  assert.equal(r.text, r.text.trim());
});

test('decoding stops early when <|endoftext|> is the argmax', async () => {
  // Same weights plus a large EOS logit bias. <|endoftext|> is in begin_suppress_tokens, so the
  // first step still yields a text token; the second step's argmax is EOS and the loop ends there.
  const eosDir = path.join(root, 'eos');
  await buildWhisper(eosDir, { preset: 'tiny', seed: SEED, eosLogitBias: 100 });
  const biased = await WhisperModel.load(eosDir, FILES, rt);
  const { steps, onStep } = recordSteps();
  const r = await biased.transcribe(clip, { language: 'en', maxNewTokens: 20, onStep });
  assert.equal(r.stoppedBy, 'eos');
  assert.equal(r.tokens.length, 1);
  assert.equal(steps.length, 2);
  assert.ok(!r.tokens.includes(gen.eos_token_id));
  // Without the bias the same weights keep going past step 2 (previous test): the stop is EOS's doing.
  const plain = await model.transcribe(clip, { language: 'en', maxNewTokens: 2 });
  assert.equal(plain.tokens[0], r.tokens[0]);
  assert.equal(plain.stoppedBy, 'max_tokens');
});

test('KV cache tensors have the right shape at every step', async () => {
  const { steps, onStep } = recordSteps();
  const r = await model.transcribe(clip, { language: 'en', maxNewTokens: 8, onStep });
  const H = cfg.decoder_attention_heads;
  const hd = cfg.d_model / H;
  const prompt = r.prompt.length;
  assert.equal(prompt, 4);
  assert.equal(steps.length, r.timings.perTokenMs.length);
  assert.ok(steps.length >= 3, `only ${steps.length} steps`);
  for (const s of steps) {
    assert.equal(s.inputLength, s.step === 0 ? prompt : 1, `step ${s.step} input length`);
    const names = Object.keys(s.pastShapes);
    assert.equal(names.length, cfg.decoder_layers * 4);
    for (const [name, shape] of Object.entries(s.pastShapes)) {
      // Step 0: empty dummies; then the decoder past grows by one per step, the encoder past stays 1500.
      const len: number = s.step === 0 ? 0 : name.includes('.decoder.') ? prompt + s.step - 1 : 1500;
      assert.deepEqual(shape, [1, H, len, hd], `step ${s.step} ${name}`);
    }
  }
});

test('cached and uncached decoding produce identical tokens', async () => {
  const cachedSteps = recordSteps();
  const uncachedSteps = recordSteps();
  const cached = await model.transcribe(clip, { maxNewTokens: 16, onStep: cachedSteps.onStep });
  const uncached = await model.transcribe(clip, { maxNewTokens: 16, useCache: false, onStep: uncachedSteps.onStep });
  assert.ok(cached.tokens.length >= 8, `only ${cached.tokens.length} tokens`);
  assert.ok(new Set(cached.tokens).size > 1, 'decoding is not a single repeated token');
  assert.deepEqual(uncached.tokens, cached.tokens);
  assert.equal(uncached.text, cached.text);
  assert.equal(uncached.language, cached.language);
  // Uncached really re-runs the whole prefix with empty past tensors.
  for (const s of uncachedSteps.steps) {
    assert.equal(s.inputLength, 4 + s.step);
    for (const shape of Object.values(s.pastShapes)) assert.equal(shape[2], 0);
  }
  assert.ok(cachedSteps.steps.slice(1).every((s) => s.inputLength === 1));
});

test('forced prompt and length bound come from generation_config.json', async () => {
  const r = await model.transcribe(clip, { language: 'de', maxNewTokens: 2 });
  assert.equal(r.language, 'de');
  assert.deepEqual(r.prompt, [gen.decoder_start_token_id, gen.lang_to_id['<|de|>'], gen.task_to_id.transcribe, gen.no_timestamps_token_id]);
  // A folder whose generation_config says otherwise changes what is forced and where decoding stops.
  const alt = path.join(root, 'alt');
  fs.cpSync(dir, alt, { recursive: true });
  const altGen = { ...gen, task_to_id: { ...gen.task_to_id, transcribe: gen.task_to_id.translate }, max_length: 7 };
  fs.writeFileSync(path.join(alt, 'generation_config.json'), JSON.stringify(altGen));
  const altModel = await WhisperModel.load(alt, FILES, rt);
  const a = await altModel.transcribe(clip, { language: 'de' });
  assert.equal(a.prompt[2], gen.task_to_id.translate);
  // max_length 7 = 4 prompt tokens + 3 new ones, although maxNewTokens defaults to 128.
  assert.equal(a.stoppedBy, 'max_tokens');
  assert.equal(a.tokens.length, 3);
});

test('language auto-detection picks one of the language tokens', async () => {
  assert.equal(model.languages.length, 99);
  for (const l of ['en', 'zh', 'de', 'es', 'fr', 'ja', 'ko', 'ru']) {
    assert.ok(model.languages.includes(l), l);
    assert.ok(Number.isInteger(gen.lang_to_id[`<|${l}|>`]), `lang_to_id has ${l}`);
  }
  const auto = await model.transcribe(clip, { language: 'auto', maxNewTokens: 6 });
  assert.ok(model.languages.includes(auto.language), auto.language);
  assert.equal(auto.prompt[1], gen.lang_to_id[`<|${auto.language}|>`]);
  // Detection is the argmax over language logits, so forcing that language gives the same decode.
  const forced = await model.transcribe(clip, { language: auto.language, maxNewTokens: 6 });
  assert.deepEqual(forced.tokens, auto.tokens);
  // Different audio may detect differently, but always a supported code.
  const other = await model.transcribe(new Float32Array(16000).map((_, i) => Math.sin(i / 3)), { maxNewTokens: 1 });
  assert.ok(model.languages.includes(other.language));
});

test('unsupported language is a 400 naming the supported ones', async () => {
  await assert.rejects(model.transcribe(clip, { language: 'xx' }), (err: unknown) => {
    assert.ok(err instanceof OmniError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'unsupported_language');
    assert.match(err.message, /xx/);
    assert.match(err.message, /\ben\b.*\bzh\b/);
    return true;
  });
});

test('empty audio returns empty text without running the models', async () => {
  const [enc, dec] = model.sessions();
  let runs = 0;
  const spy = (s: ort.InferenceSession) => {
    const orig = s.run.bind(s);
    s.run = ((...args: Parameters<typeof orig>) => {
      runs++;
      return orig(...args);
    }) as typeof s.run;
    return () => (s.run = orig);
  };
  const restore = [spy(enc!.session), spy(dec!.session)];
  try {
    const r = await model.transcribe(new Float32Array(0), { language: 'en' });
    assert.equal(r.text, '');
    assert.deepEqual(r.tokens, []);
    assert.equal(runs, 0);
    await model.transcribe(clip, { language: 'en', maxNewTokens: 1 });
    assert.ok(runs >= 2, 'the spy sees real runs');
  } finally {
    restore.forEach((f) => f());
  }
});

test('deterministic: same seed gives byte-identical files and the same transcript', async () => {
  const again = path.join(root, 'again');
  const other = path.join(root, 'other');
  await buildWhisper(again, { preset: 'tiny', seed: SEED, fp16: true });
  await buildWhisper(other, { preset: 'tiny', seed: SEED + 1 });
  const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
  for (const f of files) assert.ok(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(again, f))), `${f} differs`);
  for (const f of [FILES.encoder, FILES.decoder]) assert.ok(!fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(other, f))), `${f} ignores the seed`);
  const a = await model.transcribe(clip, { maxNewTokens: 10 });
  const b = await model.transcribe(clip, { maxNewTokens: 10 });
  assert.deepEqual([a.tokens, a.text, a.language], [b.tokens, b.text, b.language]);
});
