/**
 * Builds a Whisper folder (random seeded weights) in the layout of Xenova/whisper-base:
 * onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx, config.json, generation_config.json,
 * preprocessor_config.json and the byte-level BPE tokenizer files with Whisper's special tokens.
 *
 * Graphs follow HF's WhisperForConditionalGeneration as Optimum exports it:
 * - encoder: conv1 (k3) + GELU, conv2 (k3, stride 2) + GELU, sinusoidal positions, pre-LN layers
 *   (k_proj without bias), final LayerNorm -> last_hidden_state [batch, 1500, d_model];
 * - merged decoder: one `If` on `use_cache_branch`. The else (no cache) branch projects
 *   cross-attention K/V from encoder_hidden_states and self-attention K/V over all of input_ids;
 *   the then (cache) branch appends new self K/V to past_key_values.*.decoder.* and reads the
 *   cross K/V from past_key_values.*.encoder.*. As in Optimum's merge (strict=False), the cache
 *   branch returns empty constants for present.*.encoder.* — callers keep the first step's.
 *   Logits use the token embedding transposed (tied proj_out).
 * Input/output names, element types and dynamic-axis names are those of Optimum's
 * AudioToTextOnnxConfig/WhisperOnnxConfig + merge_decoders (see test/whisper.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Graph, type FloatType } from '../onnx/graph.ts';
import { Rng } from '../onnx/rng.ts';
import { causalBias, dimOf, encoderBlock, gelu, layerNorm, mergeHeads, sdpa, splitHeads, type LayerCtx } from '../onnx/layers.ts';
import { BYTE_ORDER, BYTE_TO_UNICODE, learnMerges, SEED_CJK, SEED_WORDS } from './tokenizers.ts';

export interface WhisperSize {
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  heads: number;
  ffn: number;
  melBins: number;
  /** Regular (BPE) tokens before <|endoftext|>: 50257 in multilingual Whisper. */
  textTokens: number;
  sourcePositions: number;
  targetPositions: number;
}

export const WHISPER_SIZES: Record<'tiny' | 'full', WhisperSize> = {
  tiny: { dModel: 64, encoderLayers: 2, decoderLayers: 2, heads: 4, ffn: 128, melBins: 80, textTokens: 512, sourcePositions: 1500, targetPositions: 448 },
  // openai/whisper-base
  full: { dModel: 512, encoderLayers: 6, decoderLayers: 6, heads: 8, ffn: 2048, melBins: 80, textTokens: 50257, sourcePositions: 1500, targetPositions: 448 },
};

/** Whisper's 99 language codes in token order (<|en|> is the first language token). */
export const WHISPER_LANGUAGES = (
  'en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la mi ml cy sk te fa lv bn sr az ' +
  'sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su'
).split(' ');

const EPS = 1e-5;
const FRAMES = 3000;

/**
 * Weight scales. HF's init_std (0.02) makes a random decoder collapse onto one repeated token;
 * fan-in scaled projections and larger embeddings keep the output dependent on the audio and the
 * prefix, so greedy decoding (cache vs no cache, EOS, language detection) is exercised for real.
 */
const projStd = (fanIn: number) => 1.6 / Math.sqrt(fanIn);
const EMBED_STD = 0.1;

export interface WhisperBuildOptions {
  preset: 'tiny' | 'full';
  seed: number;
  fp16?: boolean;
  /**
   * Tests only: a constant added to the <|endoftext|> logit (a real Add node in both branches), so
   * a test can make greedy decoding stop at EOS without relying on what random weights predict.
   */
  eosLogitBias?: number;
}

export async function buildWhisper(dir: string, opts: WhisperBuildOptions): Promise<void> {
  const s = WHISPER_SIZES[opts.preset];
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  const tok = writeWhisperTokenizer(dir, s.textTokens);
  writeConfigs(dir, s, tok);
  const rng = new Rng(opts.seed);
  const types: FloatType[] = opts.fp16 ? ['float32', 'float16'] : ['float32'];
  for (const ft of types) {
    const suffix = ft === 'float16' ? '_fp16' : '';
    // Same forked streams for both variants: the fp16 file holds the fp32 weights, rounded.
    fs.writeFileSync(path.join(dir, 'onnx', `encoder_model${suffix}.onnx`), whisperEncoderGraph(s, rng.fork('encoder'), ft).toBytes());
    const dec = whisperDecoderGraph(s, tok, rng.fork('decoder'), ft, opts.eosLogitBias);
    fs.writeFileSync(path.join(dir, 'onnx', `decoder_model_merged${suffix}.onnx`), dec.toBytes());
  }
}

// ---------------------------------------------------------------- encoder

/** Whisper's fixed sinusoidal table: [sin(t * inv_i) | cos(t * inv_i)], inv_i = 10000^(-i / (C/2 - 1)). */
function sinusoids(length: number, channels: number): Float32Array {
  const half = channels / 2;
  const inc = Math.log(10000) / (half - 1);
  const out = new Float32Array(length * channels);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * Math.exp(-inc * i);
      out[t * channels + i] = Math.sin(a);
      out[t * channels + half + i] = Math.cos(a);
    }
  }
  return out;
}

export function whisperEncoderGraph(s: WhisperSize, rng: Rng, floatType: FloatType): Graph {
  const g = new Graph('whisper_encoder', { floatType });
  const c: LayerCtx = { g, rng, std: projStd(s.dModel) };
  const d = s.dModel;
  const x = g.input('input_features', 'float32', ['batch_size', s.melBins, FRAMES]);
  const conv = (inp: string, inCh: number, name: string, stride: number) => {
    const w = g.weight(`${name}.weight`, [d, inCh, 3], rng.normals(d * inCh * 3, projStd(inCh * 3)));
    const b = g.weight(`${name}.bias`, [d], rng.normals(d));
    return gelu(g, g.op('Conv', [inp, w, b], { kernel_shape: [3], pads: [1, 1], strides: [stride] }));
  };
  const h1 = conv(x, s.melBins, 'model.encoder.conv1', 1);
  const h2 = conv(h1, d, 'model.encoder.conv2', 2); // [B, d, 1500]
  const pos = g.weight('model.encoder.embed_positions.weight', [s.sourcePositions, d], sinusoids(s.sourcePositions, d));
  let h = g.op('Add', [g.op('Transpose', [h2], { perm: [0, 2, 1] }), pos]);
  for (let i = 0; i < s.encoderLayers; i++) {
    h = encoderBlock(c, h, {
      dim: d,
      heads: s.heads,
      mlpDim: s.ffn,
      name: `model.encoder.layers.${i}`,
      act: 'gelu',
      preLN: true,
      eps: EPS,
      kBias: false,
      names: { attn: 'self_attn', ln1: 'self_attn_layer_norm', ln2: 'final_layer_norm', fc1: 'fc1', fc2: 'fc2' },
    });
  }
  h = layerNorm(c, h, d, 'model.encoder.layer_norm', EPS);
  // Optimum names this axis after the dummy-input rule it uses (WhisperOnnxConfig.outputs).
  g.output('last_hidden_state', 'float32', ['batch_size', 'encoder_sequence_length / 2', d], h);
  return g;
}

// ---------------------------------------------------------------- merged decoder

interface Lin {
  w: string;
  b?: string;
}
interface Norm {
  gamma: string;
  beta: string;
}
interface DecoderLayerWeights {
  selfLn: Norm;
  q: Lin;
  k: Lin;
  v: Lin;
  o: Lin;
  crossLn: Norm;
  cq: Lin;
  ck: Lin;
  cv: Lin;
  co: Lin;
  ffnLn: Norm;
  fc1: Lin;
  fc2: Lin;
}

/**
 * Decoder weights live once in the root graph and both `If` branches read them (layers.ts's
 * helpers create weights per call, which would duplicate or clash across the branches).
 */
function decoderWeights(g: Graph, rng: Rng, s: WhisperSize) {
  const d = s.dModel;
  const lin = (name: string, inDim: number, outDim: number, bias = true): Lin => ({
    w: g.weight(`${name}.weight`, [inDim, outDim], rng.normals(inDim * outDim, projStd(inDim))),
    b: bias ? g.weight(`${name}.bias`, [outDim], rng.normals(outDim)) : undefined,
  });
  const norm = (name: string): Norm => ({
    gamma: g.weight(`${name}.weight`, [d], rng.normals(d, 0.02, 1)),
    beta: g.weight(`${name}.bias`, [d], rng.normals(d)),
  });
  const layers: DecoderLayerWeights[] = [];
  for (let i = 0; i < s.decoderLayers; i++) {
    const p = `model.decoder.layers.${i}`;
    layers.push({
      selfLn: norm(`${p}.self_attn_layer_norm`),
      q: lin(`${p}.self_attn.q_proj`, d, d),
      k: lin(`${p}.self_attn.k_proj`, d, d, false),
      v: lin(`${p}.self_attn.v_proj`, d, d),
      o: lin(`${p}.self_attn.out_proj`, d, d),
      crossLn: norm(`${p}.encoder_attn_layer_norm`),
      cq: lin(`${p}.encoder_attn.q_proj`, d, d),
      ck: lin(`${p}.encoder_attn.k_proj`, d, d, false),
      cv: lin(`${p}.encoder_attn.v_proj`, d, d),
      co: lin(`${p}.encoder_attn.out_proj`, d, d),
      ffnLn: norm(`${p}.final_layer_norm`),
      fc1: lin(`${p}.fc1`, d, s.ffn),
      fc2: lin(`${p}.fc2`, s.ffn, d),
    });
  }
  return {
    tokens: g.weight('model.decoder.embed_tokens.weight', [vocabSizeOf(s), d], rng.normals(vocabSizeOf(s) * d, EMBED_STD)),
    positions: g.weight('model.decoder.embed_positions.weight', [s.targetPositions, d], rng.normals(s.targetPositions * d, EMBED_STD)),
    layers,
    finalLn: norm('model.decoder.layer_norm'),
  };
}
type DecoderWeights = ReturnType<typeof decoderWeights>;

function applyLin(g: Graph, x: string, l: Lin): string {
  const y = g.op('MatMul', [x, l.w]);
  return l.b ? g.op('Add', [y, l.b]) : y;
}
function applyNorm(g: Graph, x: string, n: Norm): string {
  return g.op('LayerNormalization', [x, n.gamma, n.beta], { axis: -1, epsilon: EPS });
}

const pastName = (i: number, kind: 'decoder' | 'encoder', kv: 'key' | 'value') => `past_key_values.${i}.${kind}.${kv}`;
const presentName = (i: number, kind: 'decoder' | 'encoder', kv: 'key' | 'value') => `present.${i}.${kind}.${kv}`;

interface DecoderIo {
  inputIds: string;
  encoderStates: string;
  /** Past tensor names (after any float16 cast), keyed by input name. */
  past: Map<string, string>;
  eosBias?: string;
}

/** One branch of the merged decoder; returns the graph whose outputs line up with the If's. */
function decoderBranch(root: Graph, s: WhisperSize, w: DecoderWeights, io: DecoderIo, withPast: boolean): Graph {
  const g = root.subgraph(withPast ? 'with_past' : 'no_past');
  const d = s.dModel;
  const hd = d / s.heads;
  const seqLen = dimOf(g, io.inputIds, 1);
  const pastLen = withPast ? dimOf(g, io.past.get(pastName(0, 'decoder', 'key'))!, 2) : g.constInt64(0, []);
  const totalLen = g.op('Add', [pastLen, seqLen]);
  const positions = g.op('Range', [pastLen, totalLen, g.constInt64(1, [])]);
  let h = g.op('Add', [g.op('Gather', [w.tokens, io.inputIds], { axis: 0 }), g.op('Gather', [w.positions, positions], { axis: 0 })]);
  // Query i (absolute position past + i) sees keys 0..past + i: correct with and without a cache.
  const selfBias = causalBias(g, seqLen, totalLen);
  const outs: string[] = [];
  for (const [i, L] of w.layers.entries()) {
    let x = applyNorm(g, h, L.selfLn);
    const q = splitHeads(g, applyLin(g, x, L.q), s.heads, hd);
    let k = splitHeads(g, applyLin(g, x, L.k), s.heads, hd);
    let v = splitHeads(g, applyLin(g, x, L.v), s.heads, hd);
    if (withPast) {
      k = g.op('Concat', [io.past.get(pastName(i, 'decoder', 'key'))!, k], { axis: 2 });
      v = g.op('Concat', [io.past.get(pastName(i, 'decoder', 'value'))!, v], { axis: 2 });
    }
    h = g.op('Add', [h, applyLin(g, mergeHeads(g, sdpa(g, q, k, v, hd, selfBias), d), L.o)]);

    x = applyNorm(g, h, L.crossLn);
    const cq = splitHeads(g, applyLin(g, x, L.cq), s.heads, hd);
    let ck: string;
    let cv: string;
    let presentCk: string;
    let presentCv: string;
    if (withPast) {
      ck = io.past.get(pastName(i, 'encoder', 'key'))!;
      cv = io.past.get(pastName(i, 'encoder', 'value'))!;
      // Optimum's merge gives the cache branch empty constants of shape [0, heads, 1, head_dim].
      const empty = { tensor: { dtype: g.floatType, dims: [0, s.heads, 1, hd], data: g.floatType === 'float16' ? new Uint16Array(0) : new Float32Array(0) } };
      presentCk = g.node('Constant', [], 1, { value: empty })[0]!;
      presentCv = g.node('Constant', [], 1, { value: empty })[0]!;
    } else {
      ck = presentCk = splitHeads(g, applyLin(g, io.encoderStates, L.ck), s.heads, hd);
      cv = presentCv = splitHeads(g, applyLin(g, io.encoderStates, L.cv), s.heads, hd);
    }
    h = g.op('Add', [h, applyLin(g, mergeHeads(g, sdpa(g, cq, ck, cv, hd), d), L.co)]);

    x = applyNorm(g, h, L.ffnLn);
    h = g.op('Add', [h, applyLin(g, gelu(g, applyLin(g, x, L.fc1)), L.fc2)]);
    outs.push(k, v, presentCk, presentCv);
  }
  h = applyNorm(g, h, w.finalLn);
  // Tied output projection: [B*T, d] x embed_tokens^T via Gemm(transB) so the table is stored once.
  const flat = g.op('Reshape', [h, g.constInt64([-1, d])]);
  let logits2d = g.op('Gemm', [flat, w.tokens], { transB: 1 });
  if (io.eosBias) logits2d = g.op('Add', [logits2d, io.eosBias]);
  const outShape = g.op('Concat', [g.op('Shape', [io.inputIds]), g.constInt64([vocabSizeOf(s)])], { axis: 0 });
  const logits = g.op('Reshape', [logits2d, outShape]);

  const tag = withPast ? 'with_past' : 'no_past';
  g.output(`${tag}.logits`, 'float32', null, logits);
  outs.forEach((t, j) => g.output(`${tag}.present_${j}`, 'float32', null, t));
  return g;
}

export function whisperDecoderGraph(s: WhisperSize, tok: WhisperTokens, rng: Rng, floatType: FloatType, eosLogitBias?: number): Graph {
  const g = new Graph('merged', { floatType });
  const d = s.dModel;
  const hd = d / s.heads;
  const V = vocabSizeOf(s);
  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']);
  const encoderStates = g.input('encoder_hidden_states', 'float32', ['batch_size', 'encoder_sequence_length / 2', d]);
  const past = new Map<string, string>();
  for (let i = 0; i < s.decoderLayers; i++) {
    for (const kind of ['decoder', 'encoder'] as const) {
      const seq = kind === 'decoder' ? 'past_decoder_sequence_length' : 'encoder_sequence_length_out';
      for (const kv of ['key', 'value'] as const) past.set(pastName(i, kind, kv), g.input(pastName(i, kind, kv), 'float32', ['batch_size', s.heads, seq, hd]));
    }
  }
  const cond = g.input('use_cache_branch', 'bool', [1]);
  const w = decoderWeights(g, rng, s);
  let eosBias: string | undefined;
  if (eosLogitBias !== undefined) {
    const bias = new Float32Array(V);
    bias[tok.eos] = eosLogitBias;
    eosBias = g.weight('test.eos_logit_bias', [V], bias);
  }
  const io: DecoderIo = { inputIds, encoderStates, past, eosBias };
  const noPast = decoderBranch(g, s, w, io, false);
  const withPast = decoderBranch(g, s, w, io, true);

  const outputs: [string, (string | number)[]][] = [['logits', ['batch_size', 'decoder_sequence_length', V]]];
  for (let i = 0; i < s.decoderLayers; i++) {
    for (const kind of ['decoder', 'encoder'] as const) {
      const seq = kind === 'decoder' ? 'past_decoder_sequence_length + 1' : 'encoder_sequence_length_out';
      for (const kv of ['key', 'value'] as const) outputs.push([presentName(i, kind, kv), ['batch_size', s.heads, seq, hd]]);
    }
  }
  g.node('If', [cond], outputs.map(([n]) => n), { then_branch: withPast, else_branch: noPast }, { name: 'optimum::if' });
  for (const [name, dims] of outputs) g.output(name, 'float32', dims);
  return g;
}

function vocabSizeOf(s: WhisperSize): number {
  return specialLayout(s.textTokens).vocabSize;
}

// ---------------------------------------------------------------- tokenizer

export interface WhisperTokens {
  vocabSize: number;
  eos: number;
  sot: number;
  langs: Map<string, number>;
  translate: number;
  transcribe: number;
  startoflm: number;
  startofprev: number;
  nocaptions: number;
  notimestamps: number;
  timestampBegin: number;
  /** Ids suppressed during generation (symbols and control tokens), as in Whisper's generation_config. */
  suppress: number[];
  /** Suppressed on the first generated position only: the bare space and <|endoftext|>. */
  beginSuppress: number[];
}

/** Special token ids after `textTokens` regular tokens, in multilingual Whisper's order. */
function specialLayout(textTokens: number) {
  let id = textTokens;
  const eos = id++;
  const sot = id++;
  const langs = new Map<string, number>();
  for (const l of WHISPER_LANGUAGES) langs.set(l, id++);
  const translate = id++;
  const transcribe = id++;
  const startoflm = id++;
  const startofprev = id++;
  const nocaptions = id++;
  const notimestamps = id++;
  const timestampBegin = id;
  // <|0.00|> .. <|30.00|> in 0.02 s steps.
  const timestamps = 1501;
  return { eos, sot, langs, translate, transcribe, startoflm, startofprev, nocaptions, notimestamps, timestampBegin, timestamps, vocabSize: timestampBegin + timestamps };
}

const byteLevel = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => BYTE_TO_UNICODE[b]!).join('');

/**
 * Byte-level BPE (GPT-2 style, no end-of-word marker; a leading space is part of the word as
 * "Ġ"). Merges are learned from the seed words, each seen with and without a leading space, then
 * padded with synthetic one-letter extensions until `textTokens` regular tokens exist.
 */
function whisperBpe(textTokens: number): { vocab: Map<string, number>; merges: string[] } {
  const vocab = new Map<string, number>();
  const add = (t: string) => {
    if (!vocab.has(t)) vocab.set(t, vocab.size);
  };
  BYTE_ORDER.forEach((b) => add(BYTE_TO_UNICODE[b]!));
  if (textTokens < vocab.size) throw new Error(`Whisper vocab ${textTokens} is smaller than the 256-byte base`);
  const merges: string[] = [];
  const words: string[][] = [];
  for (const w of [...SEED_WORDS, ...SEED_CJK]) {
    for (const form of [w.toLowerCase(), ` ${w.toLowerCase()}`]) words.push([...byteLevel(form)]);
  }
  learnMerges(words, merges, add, () => vocab.size < textTokens);
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  let frontier = [...vocab.keys()].filter((t) => /^Ġ?[a-z]+$/.test(t) && t.length > 1);
  while (vocab.size < textTokens) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const l of letters) {
        if (vocab.size >= textTokens) break;
        if (vocab.has(t + l)) continue;
        merges.push(`${t} ${l}`);
        add(t + l);
        next.push(t + l);
      }
      if (vocab.size >= textTokens) break;
    }
    frontier = next;
  }
  return { vocab, merges };
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** Writes tokenizer.json, tokenizer_config.json, special_tokens_map.json, added_tokens.json, vocab.json, merges.txt. */
export function writeWhisperTokenizer(dir: string, textTokens: number): WhisperTokens {
  const { vocab, merges } = whisperBpe(textTokens);
  const L = specialLayout(textTokens);
  const special: [string, number][] = [
    ['<|endoftext|>', L.eos],
    ['<|startoftranscript|>', L.sot],
    ...[...L.langs].map(([l, id]) => [`<|${l}|>`, id] as [string, number]),
    ['<|translate|>', L.translate],
    ['<|transcribe|>', L.transcribe],
    ['<|startoflm|>', L.startoflm],
    ['<|startofprev|>', L.startofprev],
    ['<|nocaptions|>', L.nocaptions],
    ['<|notimestamps|>', L.notimestamps],
  ];
  const timestamps: [string, number][] = Array.from({ length: L.timestamps }, (_, i) => [`<|${(i * 0.02).toFixed(2)}|>`, L.timestampBegin + i]);
  const added = (content: string, id: number, isSpecial: boolean) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: isSpecial });
  const st = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  writeJson(path.join(dir, 'tokenizer.json'), {
    version: '1.0',
    truncation: null,
    padding: null,
    // Timestamp tokens were added to the HF Whisper tokenizers as regular (non-special) tokens.
    added_tokens: [...special.map(([t, id]) => added(t, id, true)), ...timestamps.map(([t, id]) => added(t, id, false))],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [st('<|startoftranscript|>'), st('<|notimestamps|>'), { Sequence: { id: 'A', type_id: 0 } }, st('<|endoftext|>')],
      pair: [st('<|startoftranscript|>'), st('<|notimestamps|>'), { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, st('<|endoftext|>')],
      special_tokens: Object.fromEntries(
        (['<|startoftranscript|>', '<|notimestamps|>', '<|endoftext|>'] as const).map((t) => [t, { id: t, ids: [special.find(([n]) => n === t)![1]], tokens: [t] }]),
      ),
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  });
  const additional = special.slice(1).map(([t]) => t);
  const map = { additional_special_tokens: additional, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', pad_token: '<|endoftext|>', unk_token: '<|endoftext|>' };
  writeJson(path.join(dir, 'tokenizer_config.json'), {
    add_bos_token: false,
    add_prefix_space: false,
    clean_up_tokenization_spaces: true,
    errors: 'replace',
    model_max_length: 1024,
    processor_class: 'WhisperProcessor',
    return_attention_mask: false,
    tokenizer_class: 'WhisperTokenizer',
    ...map,
  });
  writeJson(path.join(dir, 'special_tokens_map.json'), map);
  writeJson(path.join(dir, 'added_tokens.json'), Object.fromEntries([...special, ...timestamps]));
  writeJson(path.join(dir, 'vocab.json'), Object.fromEntries(vocab));
  fs.writeFileSync(path.join(dir, 'merges.txt'), ['#version: 0.2', ...merges].join('\n') + '\n');

  // OpenAI's suppression list: symbols (alone or after a space) that are single tokens, plus the
  // control tokens a transcript never contains.
  const symbols = [...'"#()*+/:;<=>@[\\]^_`{|}~「」『』', ...'<< >> <<< >>> -- --- -( -[ (\' (" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪ ♩ ♪ ♫ ♬ ♭ ♮ ♯'.split(' ')];
  const suppress = new Set<number>();
  for (const sym of symbols) for (const form of [sym, ` ${sym}`]) {
    const id = vocab.get(byteLevel(form));
    if (id !== undefined) suppress.add(id);
  }
  for (const form of [' -', " '"]) {
    const id = vocab.get(byteLevel(form));
    if (id !== undefined) suppress.add(id);
  }
  for (const id of [L.sot, L.translate, L.transcribe, L.startoflm, L.startofprev, L.nocaptions]) suppress.add(id);
  return {
    vocabSize: L.vocabSize,
    eos: L.eos,
    sot: L.sot,
    langs: L.langs,
    translate: L.translate,
    transcribe: L.transcribe,
    startoflm: L.startoflm,
    startofprev: L.startofprev,
    nocaptions: L.nocaptions,
    notimestamps: L.notimestamps,
    timestampBegin: L.timestampBegin,
    suppress: [...suppress].sort((a, b) => a - b),
    beginSuppress: [vocab.get(byteLevel(' '))!, L.eos],
  };
}

// ---------------------------------------------------------------- configs

function writeConfigs(dir: string, s: WhisperSize, tok: WhisperTokens): void {
  const forced = [
    [1, null],
    [2, tok.transcribe],
  ];
  writeJson(path.join(dir, 'config.json'), {
    activation_dropout: 0,
    activation_function: 'gelu',
    apply_spec_augment: false,
    architectures: ['WhisperForConditionalGeneration'],
    attention_dropout: 0,
    begin_suppress_tokens: tok.beginSuppress,
    bos_token_id: tok.eos,
    d_model: s.dModel,
    decoder_attention_heads: s.heads,
    decoder_ffn_dim: s.ffn,
    decoder_layerdrop: 0,
    decoder_layers: s.decoderLayers,
    decoder_start_token_id: tok.sot,
    dropout: 0,
    encoder_attention_heads: s.heads,
    encoder_ffn_dim: s.ffn,
    encoder_layerdrop: 0,
    encoder_layers: s.encoderLayers,
    eos_token_id: tok.eos,
    forced_decoder_ids: forced,
    init_std: 0.02,
    is_encoder_decoder: true,
    max_length: s.targetPositions,
    max_source_positions: s.sourcePositions,
    max_target_positions: s.targetPositions,
    model_type: 'whisper',
    num_hidden_layers: s.encoderLayers,
    num_mel_bins: s.melBins,
    pad_token_id: tok.eos,
    scale_embedding: false,
    suppress_tokens: tok.suppress,
    torch_dtype: 'float32',
    transformers_version: '4.40.0',
    use_cache: true,
    vocab_size: tok.vocabSize,
  });
  writeJson(path.join(dir, 'generation_config.json'), {
    begin_suppress_tokens: tok.beginSuppress,
    bos_token_id: tok.eos,
    decoder_start_token_id: tok.sot,
    eos_token_id: tok.eos,
    forced_decoder_ids: forced,
    is_multilingual: true,
    lang_to_id: Object.fromEntries([...tok.langs].map(([l, id]) => [`<|${l}|>`, id])),
    max_initial_timestamp_index: 50,
    max_length: s.targetPositions,
    no_timestamps_token_id: tok.notimestamps,
    pad_token_id: tok.eos,
    prev_sot_token_id: tok.startofprev,
    return_timestamps: false,
    suppress_tokens: tok.suppress,
    task_to_id: { transcribe: tok.transcribe, translate: tok.translate },
    transformers_version: '4.40.0',
  });
  // mel_filters omitted: the feature extractor computes the same Slaney filter bank when absent.
  writeJson(path.join(dir, 'preprocessor_config.json'), {
    chunk_length: 30,
    feature_extractor_type: 'WhisperFeatureExtractor',
    feature_size: s.melBins,
    hop_length: 160,
    n_fft: 400,
    n_samples: 480000,
    nb_max_frames: FRAMES,
    padding_side: 'right',
    padding_value: 0,
    processor_class: 'WhisperProcessor',
    return_attention_mask: false,
    sampling_rate: 16000,
  });
}
