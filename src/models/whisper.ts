/**
 * Whisper speech-to-text over the Hugging Face / Optimum ONNX layout: encoder_model.onnx once per
 * request, then greedy decoding with decoder_model_merged.onnx and its KV cache, driven entirely
 * by the folder's config.json / generation_config.json / tokenizer — the same files a pulled
 * Xenova/whisper-* export carries, so built and real packs run through one path.
 *
 * Cache handling follows transformers.js: the first step feeds empty past tensors with
 * use_cache_branch=false; later steps feed the previous `present.*` back as `past_key_values.*`,
 * except the encoder (cross-attention) entries, which are computed once on the first step and kept
 * (the merged export's cache branch returns empty placeholders for them).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FeatureExtractor, PreTrainedTokenizer } from '@huggingface/transformers';
import { badRequest } from '../errors.ts';
import { loadFeatureExtractor, loadTokenizer } from './hf.ts';
import { createSession, ort, type ModelSession, type RuntimeOptions } from './runtime.ts';

export interface TranscribeOptions {
  /** 'auto' (default) detects the language from the first decoder step; otherwise an ISO code like 'en'. */
  language?: string;
  /** Default 128; capped by generation_config max_length minus the prompt. */
  maxNewTokens?: number;
  /** Default true. false re-runs the whole prefix every step (the KV-cache benchmark baseline). */
  useCache?: boolean;
  onStep?: (info: StepInfo) => void;
}

export interface StepInfo {
  step: number;
  /** Length of input_ids fed this step. */
  inputLength: number;
  /** Shapes of the past_key_values.* tensors fed this step. */
  pastShapes: Record<string, readonly number[]>;
  ms: number;
}

export interface TranscribeResult {
  text: string;
  /** Language code used ('' for empty audio with language 'auto'). */
  language: string;
  /** Generated token ids: neither the forced prompt nor the final <|endoftext|>. */
  tokens: number[];
  /** The forced prompt: <|startoftranscript|> <|lang|> <|transcribe|> <|notimestamps|>. */
  prompt: number[];
  stoppedBy: 'eos' | 'max_tokens';
  timings: { featuresMs: number; encoderMs: number; decoderMs: number; perTokenMs: number[] };
}

interface GenerationConfig {
  decoder_start_token_id: number;
  eos_token_id: number | number[];
  max_length?: number;
  no_timestamps_token_id?: number;
  is_multilingual?: boolean;
  lang_to_id?: Record<string, number>;
  task_to_id?: Record<string, number>;
  suppress_tokens?: number[];
  begin_suppress_tokens?: number[];
}

interface ModelConfig {
  decoder_layers: number;
  decoder_attention_heads: number;
  d_model: number;
  vocab_size: number;
}

function readJson<T>(file: string): T {
  if (!fs.existsSync(file)) throw new Error(`Whisper model folder is missing ${path.basename(file)} (${file})`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

type Feeds = Record<string, ort.Tensor>;

export class WhisperModel {
  /** Supported language codes ('en', 'zh', ...), in token order. */
  readonly languages: string[];
  private readonly langIds: Map<string, number>;
  private readonly eos: number;
  /** 1 = never generated; 2 = not generated at the first position (begin_suppress_tokens). */
  private readonly blocked: Uint8Array;
  private readonly maxLength: number;
  private readonly pastNames: string[];

  private constructor(
    private readonly encoder: ModelSession,
    private readonly decoder: ModelSession,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly features: FeatureExtractor,
    private readonly gen: GenerationConfig,
    private readonly cfg: ModelConfig,
  ) {
    this.eos = Array.isArray(gen.eos_token_id) ? gen.eos_token_id[0]! : gen.eos_token_id;
    this.langIds = new Map();
    for (const [token, id] of Object.entries(gen.lang_to_id ?? {})) {
      const m = /^<\|([a-z]+)\|>$/.exec(token);
      if (m) this.langIds.set(m[1]!, id);
    }
    // English-only checkpoints (*.en) have no language tokens: their prompt has none either.
    this.languages = gen.is_multilingual === false || this.langIds.size === 0 ? ['en'] : [...this.langIds.keys()];
    // Every control token above <|endoftext|> (language, task, timestamp tokens) is suppressed:
    // a no-timestamps transcript consists of text tokens ended by <|endoftext|>.
    this.blocked = new Uint8Array(cfg.vocab_size);
    for (const id of gen.begin_suppress_tokens ?? []) this.blocked[id] = 2;
    for (const id of gen.suppress_tokens ?? []) this.blocked[id] = 1;
    for (let id = this.eos + 1; id < cfg.vocab_size; id++) this.blocked[id] = 1;
    this.maxLength = gen.max_length ?? 448;
    this.pastNames = decoder.inputNames.filter((n) => n.startsWith('past_key_values.'));
  }

  /** `dir` is the Whisper folder (config + tokenizer files); `files` are relative to it. */
  static async load(dir: string, files: { encoder: string; decoder: string }, rt: RuntimeOptions): Promise<WhisperModel> {
    const gen = readJson<GenerationConfig>(path.join(dir, 'generation_config.json'));
    const cfg = readJson<ModelConfig>(path.join(dir, 'config.json'));
    const [encoder, decoder, tokenizer, features] = await Promise.all([
      createSession(path.join(dir, files.encoder), rt),
      createSession(path.join(dir, files.decoder), rt),
      loadTokenizer(dir),
      loadFeatureExtractor(dir),
    ]);
    for (const name of ['input_ids', 'encoder_hidden_states', 'use_cache_branch']) {
      if (!decoder.inputNames.includes(name)) throw new Error(`${files.decoder} is not a merged Whisper decoder (no ${name} input)`);
    }
    return new WhisperModel(encoder, decoder, tokenizer, features, gen, cfg);
  }

  sessions(): ModelSession[] {
    return [this.encoder, this.decoder];
  }

  async transcribe(audio: Float32Array, opts: TranscribeOptions = {}): Promise<TranscribeResult> {
    const requested = (opts.language ?? 'auto').toLowerCase();
    if (requested !== 'auto' && !this.languages.includes(requested)) {
      throw badRequest('unsupported_language', `language "${opts.language}" is not supported; use auto or one of: ${this.languages.join(', ')}`);
    }
    const maxNew = opts.maxNewTokens ?? 128;
    if (!Number.isInteger(maxNew) || maxNew < 1) throw badRequest('invalid_max_tokens', `maxNewTokens must be a positive integer, got ${maxNew}`);
    const timings = { featuresMs: 0, encoderMs: 0, decoderMs: 0, perTokenMs: [] as number[] };
    if (audio.length === 0) {
      return { text: '', language: requested === 'auto' ? '' : requested, tokens: [], prompt: [], stoppedBy: 'eos', timings };
    }

    let t = performance.now();
    const { input_features } = (await this.features(audio)) as { input_features: { data: Float32Array; dims: number[] } };
    timings.featuresMs = performance.now() - t;

    t = performance.now();
    const enc = await this.encoder.session.run({ input_features: new ort.Tensor('float32', input_features.data, input_features.dims) });
    const hidden = enc[this.encoder.outputNames[0]!]!;
    timings.encoderMs = performance.now() - t;

    t = performance.now();
    const language = requested === 'auto' ? await this.detectLanguage(hidden) : requested;
    const prompt = this.prompt(language);
    const bound = Math.min(maxNew, this.maxLength - prompt.length);
    const useCache = opts.useCache ?? true;

    const tokens: number[] = [];
    let stoppedBy: 'eos' | 'max_tokens' = 'max_tokens';
    let past = this.emptyPast();
    let input = prompt;
    let cached = false;
    for (let step = 0; step < bound; step++) {
      const ts = performance.now();
      const out = await this.decode(input, hidden, past, cached);
      const next = this.pick(out.logits!, step === 0);
      const ms = performance.now() - ts;
      timings.perTokenMs.push(ms);
      opts.onStep?.({ step, inputLength: input.length, pastShapes: Object.fromEntries(this.pastNames.map((n) => [n, past[n]!.dims])), ms });
      if (next === this.eos) {
        stoppedBy = 'eos';
        break;
      }
      tokens.push(next);
      if (useCache) {
        past = this.nextPast(out, past, cached);
        input = [next];
        cached = true;
      } else {
        input = [...prompt, ...tokens];
      }
    }
    timings.decoderMs = performance.now() - t;
    const text = this.tokenizer.decode(tokens, { skip_special_tokens: true }).trim();
    return { text, language, tokens, prompt, stoppedBy, timings };
  }

  /** <|startoftranscript|> [<|lang|> <|transcribe|>] <|notimestamps|>, ids from generation_config.json. */
  private prompt(language: string): number[] {
    const p = [this.gen.decoder_start_token_id];
    const langId = this.langIds.get(language);
    if (langId !== undefined) {
      p.push(langId);
      const task = this.gen.task_to_id?.transcribe;
      if (task === undefined) throw new Error('generation_config.json has lang_to_id but no task_to_id.transcribe');
      p.push(task);
    }
    if (this.gen.no_timestamps_token_id !== undefined) p.push(this.gen.no_timestamps_token_id);
    return p;
  }

  /** Whisper's language identification: argmax over the language tokens after <|startoftranscript|>. */
  private async detectLanguage(hidden: ort.Tensor): Promise<string> {
    if (this.languages.length === 1) return this.languages[0]!;
    const out = await this.decode([this.gen.decoder_start_token_id], hidden, this.emptyPast(), false);
    const logits = out.logits!.data as Float32Array;
    let best = this.languages[0]!;
    let bestScore = -Infinity;
    for (const [code, id] of this.langIds) {
      if (logits[id]! > bestScore) [best, bestScore] = [code, logits[id]!];
    }
    return best;
  }

  private decode(ids: number[], hidden: ort.Tensor, past: Feeds, useCacheBranch: boolean): Promise<Feeds> {
    const feeds: Feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]),
      encoder_hidden_states: hidden,
      use_cache_branch: new ort.Tensor('bool', new Uint8Array([useCacheBranch ? 1 : 0]), [1]),
      ...past,
    };
    return this.decoder.session.run(feeds);
  }

  /** Empty past tensors [1, heads, 0, head_dim], as transformers.js feeds on the first step. */
  private emptyPast(): Feeds {
    const heads = this.cfg.decoder_attention_heads;
    const hd = this.cfg.d_model / heads;
    return Object.fromEntries(this.pastNames.map((n) => [n, new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, hd])]));
  }

  /** present.* -> past_key_values.*; the encoder entries are kept from the first (uncached) step. */
  private nextPast(out: Feeds, past: Feeds, cached: boolean): Feeds {
    const next: Feeds = {};
    for (const name of this.pastNames) {
      next[name] = cached && name.includes('.encoder.') ? past[name]! : out[name.replace('past_key_values.', 'present.')]!;
    }
    return next;
  }

  /** Greedy choice over the last position's logits after token suppression. */
  private pick(logits: ort.Tensor, first: boolean): number {
    const vocab = logits.dims[2]!;
    const data = logits.data as Float32Array;
    const offset = (logits.dims[1]! - 1) * vocab;
    let best = -1;
    let bestScore = -Infinity;
    for (let id = 0; id < vocab; id++) {
      const b = this.blocked[id];
      if (b === 1 || (b === 2 && first)) continue;
      const v = data[offset + id]!;
      if (v > bestScore) [best, bestScore] = [id, v];
    }
    return best;
  }
}
