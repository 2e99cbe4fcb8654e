/**
 * bench:whisper — Whisper-base (full-size, random weights) on 5 s of audio: feature extraction
 * and encoder time, then greedy decoding per token with the KV cache (past_key_values fed back,
 * one new token per step) against without it (useCache:false re-runs the whole prefix each step).
 *
 * A random decoder may emit <|endoftext|> early, which would cut the token-40 measurement. So
 * the bench uses its own Whisper folder built from the same seed with the builder's test-only
 * `eosLogitBias` (a real Add on the EOS logit, -1e4): same architecture and cost, never ends
 * early, and maxNewTokens bounds the decode.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildWhisper } from '../../src/models/build/whisper.ts';
import { DEFAULT_SEED } from '../../src/models/build/pack.ts';
import { WhisperModel, type TranscribeResult } from '../../src/models/whisper.ts';
import { REPO_ROOT, fmt, goal, header, isMain, mean, rng, table, wantFp16 } from './lib.ts';

const TOKENS = 45; // measure token 40 with a few to spare on each side
const RUNS = 3;

async function ensureNoEosWhisper(): Promise<string> {
  const dir = path.join(REPO_ROOT, 'models', 'bench-whisper-noeos');
  const fp16File = path.join(dir, 'onnx', 'decoder_model_merged_fp16.onnx');
  if (fs.existsSync(path.join(dir, 'config.json')) && (!wantFp16() || fs.existsSync(fp16File))) return dir;
  console.log(`building the bench-only Whisper-base folder (seed ${DEFAULT_SEED}, EOS logit bias -1e4) into ${path.relative(process.cwd(), dir)} — once`);
  const tmp = `${dir}.building-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await buildWhisper(tmp, { preset: 'full', seed: DEFAULT_SEED, fp16: wantFp16(), eosLogitBias: -1e4 });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return dir;
}

/** 5 s at 16 kHz: a voice-like sweep with harmonics and noise (content does not change the cost). */
function audio(seconds: number): Float32Array {
  const u = rng(5);
  const sr = 16000;
  const out = new Float32Array(seconds * sr);
  for (let i = 0; i < out.length; i++) {
    const t = i / sr;
    const f0 = 140 + 60 * Math.sin(2 * Math.PI * 0.7 * t);
    out[i] = 0.3 * Math.sin(2 * Math.PI * f0 * t) + 0.15 * Math.sin(4 * Math.PI * f0 * t) + 0.05 * (u() - 0.5);
  }
  return out;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
/** Median over runs of the mean over tokens [i-2, i+2]: one token's time alone is too noisy. */
const around = (runs: TranscribeResult[], i: number) => median(runs.map((r) => mean(r.timings.perTokenMs.slice(i - 2, i + 3))));
const at = (runs: TranscribeResult[], i: number) => median(runs.map((r) => r.timings.perTokenMs[i]!));

export async function runWhisper(): Promise<void> {
  header('bench:whisper — Whisper-base, 5 s of audio, greedy decoding with and without the KV cache');
  const dir = await ensureNoEosWhisper();
  const v = wantFp16() ? '_fp16' : '';
  const device = (process.env.OMNISEARCH_DEVICE ?? 'auto') as 'auto' | 'cpu' | 'cuda';
  const model = await WhisperModel.load(dir, { encoder: `onnx/encoder_model${v}.onnx`, decoder: `onnx/decoder_model_merged${v}.onnx` }, { device, threads: Number(process.env.OMNISEARCH_THREADS ?? 0) });
  console.log(`model: ${dir} (${v ? 'fp16' : 'fp32'}), provider ${model.sessions()[0]!.provider}`);
  const samples = audio(5);
  await model.transcribe(samples, { language: 'en', maxNewTokens: 3 }); // warm-up

  const runs: Record<'cache' | 'nocache', TranscribeResult[]> = { cache: [], nocache: [] };
  for (let r = 0; r < RUNS; r++) {
    // Interleaved so drift in machine load hits both the same way.
    runs.cache.push(await model.transcribe(samples, { language: 'en', maxNewTokens: TOKENS, useCache: true }));
    runs.nocache.push(await model.transcribe(samples, { language: 'en', maxNewTokens: TOKENS, useCache: false }));
  }
  for (const r of [...runs.cache, ...runs.nocache]) {
    if (r.tokens.length < TOKENS) throw new Error(`decoding stopped after ${r.tokens.length} tokens (${r.stoppedBy}); the bench needs ${TOKENS}`);
  }
  const enc = runs.cache.concat(runs.nocache);
  console.log(`\naudio 5 s (Whisper pads to 30 s = 3000 mel frames); ${RUNS} runs each, medians`);
  table(
    ['stage', 'ms'],
    [
      ['log-mel features', median(enc.map((r) => r.timings.featuresMs))],
      ['encoder', median(enc.map((r) => r.timings.encoderMs))],
    ],
  );
  // Step 0 feeds the 4-token prompt and computes cross-attention K/V; steady-state tokens start at 1.
  const rows = (['cache', 'nocache'] as const).map((k) => {
    const rs = runs[k];
    return [
      k === 'cache' ? 'with KV cache' : 'without cache (full prefix)',
      at(rs, 5),
      at(rs, 40),
      around(rs, 5),
      around(rs, 40),
      median(rs.map((r) => mean(r.timings.perTokenMs.slice(1, TOKENS)))),
      median(rs.map((r) => r.timings.decoderMs)),
    ];
  });
  console.log(`\ndecoder, ${TOKENS} tokens (token i = decoding step i; step 0 includes the prompt and cross-attention K/V)`);
  table(['decoding', 'token 5 ms', 'token 40 ms', 'tokens 3-7 mean ms', 'tokens 38-42 mean ms', 'mean ms/token (1..end)', 'decode total ms'], rows);

  const c5 = around(runs.cache, 5);
  const c40 = around(runs.cache, 40);
  goal('whisper: per-token time flat with the KV cache (token 40 <= 1.2x token 5)', c40 <= 1.2 * c5,
    `tokens 38-42 ${fmt(c40)} ms vs tokens 3-7 ${fmt(c5)} ms = ${fmt(c40 / c5)}x (single tokens: ${fmt(at(runs.cache, 40))} vs ${fmt(at(runs.cache, 5))} ms)`);
  const n40 = around(runs.nocache, 40);
  console.log(`(without the cache token 40 costs ${fmt(n40 / around(runs.nocache, 5))}x its token 5, and ${fmt(n40 / c40)}x the cached token 40)`);
  for (const s of model.sessions()) await s.session.release();
}

if (isMain(import.meta.url)) await runWhisper();
