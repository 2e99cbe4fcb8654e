/**
 * Any uploaded voice clip -> mono Float32 PCM at 16 kHz (what Whisper's feature extractor wants).
 *
 * WAV (RIFF and RF64) is decoded in-process: the header is read first so the duration limit is
 * enforced before any sample is touched, then `wavefile` decodes the samples, we down-mix to mono
 * and resample with a band-limited resampler (./resample.ts). Everything else phones and browsers
 * record (M4A/AAC, WebM/Opus, Ogg/Opus, MP3, FLAC, ADTS AAC, AMR) goes through Debian's `ffmpeg`
 * as a child process with a forced demuxer, a protocol whitelist, a timeout and an output cap.
 *
 * The container is always sniffed from magic bytes: file names and client content types lie.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import wavefile from 'wavefile';
import { OmniError, tooLarge, unprocessable, unsupportedMedia } from '../errors.ts';
import { log } from '../log.ts';
import { resample } from './resample.ts';

export const TARGET_SAMPLE_RATE = 16000;

/**
 * RMS below this (-60 dBFS) counts as silence: digital silence, dither and a quiet room all sit
 * well under it, while speech at any usable recording level is around -40..-15 dBFS. Whisper
 * hallucinates text ("Thank you.") on near-silent input, so the caller skips transcription:
 * search answers 200 with an empty transcript and no results.
 */
export const SILENCE_RMS = 0.001;

/** Upper bound on ffmpeg's run time; a normal 30 s clip decodes in well under a second. */
const FFMPEG_TIMEOUT_MS = 15_000;

/** Sane WAV header bounds; outside them a file is broken or hostile (the resampler's cost grows with the rate). */
const MIN_WAV_RATE = 1000;
const MAX_WAV_RATE = 192_000;
const MAX_WAV_CHANNELS = 32;

const ACCEPTED = 'WAV, M4A/AAC (MP4), WebM/Opus, Ogg/Opus, MP3, FLAC, AAC (ADTS) or AMR';

export interface AudioLimits {
  maxBytes: number;
  maxSeconds: number;
}

export interface DecodedAudio {
  /** Mono samples in [-1, 1] at 16 kHz. */
  samples: Float32Array;
  sampleRate: typeof TARGET_SAMPLE_RATE;
  durationMs: number;
  /** The sniffed container: wav, rf64, mp4, webm, matroska, ogg, mp3, aac, flac or amr. */
  format: string;
  /** No samples, or RMS below SILENCE_RMS. */
  silent: boolean;
}

export interface AudioDecodeOptions {
  /** The ffmpeg binary; defaults to `ffmpeg` on PATH. */
  ffmpegPath?: string;
  timeoutMs?: number;
}

export async function decodeAudio(bytes: Uint8Array, limits: AudioLimits, opts: AudioDecodeOptions = {}): Promise<DecodedAudio> {
  if (bytes.length > limits.maxBytes) {
    throw tooLarge('audio_too_large', `audio is ${bytes.length} bytes; the limit is ${limits.maxBytes}`);
  }
  const kind = sniffAudio(bytes);
  if (!kind) throw unsupportedMedia('unsupported_audio_type', `audio must be ${ACCEPTED}`);

  const samples =
    kind.format === 'wav' || kind.format === 'rf64'
      ? decodeWav(bytes, limits.maxSeconds)
      : await decodeWithFfmpeg(bytes, kind, limits.maxSeconds, opts);

  return {
    samples,
    sampleRate: TARGET_SAMPLE_RATE,
    durationMs: (samples.length / TARGET_SAMPLE_RATE) * 1000,
    format: kind.format,
    silent: isSilent(samples),
  };
}

export function isSilent(samples: Float32Array): boolean {
  if (samples.length === 0) return true;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / samples.length) < SILENCE_RMS;
}

// ---------------------------------------------------------------- sniffing

interface AudioKind {
  format: string;
  /** ffmpeg demuxer to force, so ffmpeg never guesses (and never opens playlists or references). */
  demuxer?: string;
}

const ascii = (b: Uint8Array, at: number, len: number) => String.fromCharCode(...b.subarray(at, at + len));

export function sniffAudio(b: Uint8Array): AudioKind | null {
  if (b.length < 4) return null;
  const head4 = ascii(b, 0, 4);
  if (b.length >= 12 && ascii(b, 8, 4) === 'WAVE') {
    if (head4 === 'RIFF') return { format: 'wav' };
    if (head4 === 'RF64') return { format: 'rf64' };
  }
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') return { format: 'mp4', demuxer: 'mov' };
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) {
    const isWebm = ascii(b, 0, Math.min(b.length, 64)).includes('webm');
    return { format: isWebm ? 'webm' : 'matroska', demuxer: 'matroska' };
  }
  if (head4 === 'OggS') return { format: 'ogg', demuxer: 'ogg' };
  if (head4 === 'fLaC') return { format: 'flac', demuxer: 'flac' };
  if (ascii(b, 0, 3) === 'ID3') return { format: 'mp3', demuxer: 'mp3' };
  if (b.length >= 6 && ascii(b, 0, 6) === '#!AMR\n') return { format: 'amr', demuxer: 'amr' };
  // MPEG audio frame sync: 11 set bits. Layer bits 00 mean ADTS AAC, anything else MPEG-1/2 audio.
  if (b[0] === 0xff && (b[1] & 0xe0) === 0xe0) {
    const layer = (b[1] >> 1) & 0x3;
    const version = (b[1] >> 3) & 0x3;
    if (layer === 0 && (b[1] & 0xf0) === 0xf0) return { format: 'aac', demuxer: 'aac' };
    if (layer !== 0 && version !== 1) return { format: 'mp3', demuxer: 'mp3' };
  }
  return null;
}

// ---------------------------------------------------------------- WAV

interface WavHeader {
  channels: number;
  sampleRate: number;
  blockAlign: number;
  dataOffset: number;
  dataBytes: number;
}

const decodeFailed = (why: string) => unprocessable('audio_decode_failed', `could not decode the audio: ${why}`);

/**
 * Walks the RIFF chunks far enough to know the format and where the samples are. wavefile parses
 * too, but silently accepts truncated data and can't be asked for the duration before decoding.
 */
export function readWavHeader(b: Uint8Array): WavHeader {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const rf64 = ascii(b, 0, 4) === 'RF64';
  let fmt: Omit<WavHeader, 'dataOffset' | 'dataBytes'> | null = null;
  let ds64DataBytes: number | null = null;
  let off = 12;
  while (off + 8 <= b.length) {
    const id = ascii(b, off, 4);
    const size = dv.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > b.length) throw decodeFailed('the WAV fmt chunk is truncated');
      fmt = { channels: dv.getUint16(body + 2, true), sampleRate: dv.getUint32(body + 4, true), blockAlign: dv.getUint16(body + 12, true) };
      checkFmt(fmt, dv.getUint16(body, true), dv.getUint16(body + 14, true));
    } else if (id === 'ds64' && rf64 && body + 16 <= b.length) {
      ds64DataBytes = Number(dv.getBigUint64(body + 8, true));
    } else if (id === 'data') {
      if (!fmt) throw decodeFailed('the WAV data chunk comes before its fmt chunk');
      const available = b.length - body;
      let dataBytes = rf64 && size === 0xffffffff && ds64DataBytes !== null ? ds64DataBytes : size;
      // Streaming writers leave 0 or ~4 GiB as a placeholder size: take what is there.
      if (dataBytes === 0 || dataBytes >= 0x7ffff000) dataBytes = available;
      if (dataBytes > available) throw decodeFailed(`the WAV data is truncated (${available} of ${dataBytes} bytes)`);
      return { ...fmt, dataOffset: body, dataBytes: dataBytes - (dataBytes % fmt.blockAlign) };
    }
    off = body + size + (size & 1); // chunks are word-aligned
  }
  throw decodeFailed(fmt ? 'the WAV file has no data chunk' : 'the WAV file has no fmt chunk');
}

/** Header values that would make the duration check lie or the resampler blow up are refused. */
function checkFmt(fmt: Omit<WavHeader, 'dataOffset' | 'dataBytes'>, formatTag: number, bits: number): void {
  if (fmt.channels < 1 || fmt.channels > MAX_WAV_CHANNELS) throw decodeFailed(`unsupported WAV channel count ${fmt.channels}`);
  if (fmt.sampleRate < MIN_WAV_RATE || fmt.sampleRate > MAX_WAV_RATE) throw decodeFailed(`unsupported WAV sample rate ${fmt.sampleRate} Hz`);
  // PCM, IEEE float and extensible: one block is exactly one sample per channel.
  const linear = formatTag === 1 || formatTag === 3 || formatTag === 0xfffe;
  if (fmt.blockAlign === 0 || (linear && fmt.blockAlign !== fmt.channels * Math.ceil(bits / 8))) {
    throw decodeFailed(`inconsistent WAV header (block size ${fmt.blockAlign}, ${fmt.channels} channels of ${bits} bits)`);
  }
}

function decodeWav(bytes: Uint8Array, maxSeconds: number): Float32Array {
  const h = readWavHeader(bytes);
  const frames = h.dataBytes / h.blockAlign;
  const seconds = frames / h.sampleRate;
  if (seconds > maxSeconds) {
    throw tooLarge('audio_too_long', `audio is ${seconds.toFixed(1)} s long; the limit is ${maxSeconds} s`);
  }

  let channels: Float64Array[];
  let scale: (v: number) => number;
  try {
    const wav = new wavefile.WaveFile();
    // Hand wavefile exactly the header and the data we validated, so it can't read past either.
    wav.fromBuffer(bytes.subarray(0, h.dataOffset + h.dataBytes));
    // Compressed WAV codecs: let wavefile expand them to 16-bit PCM first.
    if (wav.bitDepth === '4') wav.fromIMAADPCM();
    else if (wav.bitDepth === '8a') wav.fromALaw();
    else if (wav.bitDepth === '8m') wav.fromMuLaw();
    scale = sampleScaler(wav.bitDepth);
    const s = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
    channels = s instanceof Float64Array ? [s] : s;
  } catch (err) {
    throw decodeFailed(`invalid WAV (${(err as Error).message})`);
  }
  // Compressed WAV (IMA ADPCM) holds more samples than blocks; re-check on the real count.
  if (channels[0].length / h.sampleRate > maxSeconds) {
    throw tooLarge('audio_too_long', `audio is ${(channels[0].length / h.sampleRate).toFixed(1)} s long; the limit is ${maxSeconds} s`);
  }
  const mono = downmix(channels, scale);
  return h.sampleRate === TARGET_SAMPLE_RATE ? mono : resample(mono, h.sampleRate, TARGET_SAMPLE_RATE);
}

/** Maps wavefile's raw sample values for a bit depth onto [-1, 1]. */
function sampleScaler(bitDepth: string): (v: number) => number {
  if (bitDepth === '32f' || bitDepth === '64') return (v) => v;
  const bits = Number(bitDepth);
  if (!Number.isInteger(bits) || bits < 8 || bits > 32) throw new Error(`unsupported bit depth ${bitDepth}`);
  if (bits === 8) return (v) => (v - 128) / 128; // 8-bit WAV is unsigned
  const full = 2 ** (bits - 1);
  return (v) => v / full;
}

/** Averages the channels: correlated content keeps its level, anti-phase content cancels. */
export function downmix(channels: ArrayLike<number>[], scale: (v: number) => number = (v) => v): Float32Array {
  const n = channels[0]?.length ?? 0;
  const out = new Float32Array(n);
  const k = 1 / channels.length;
  for (const ch of channels) for (let i = 0; i < n; i++) out[i] += scale(ch[i]) * k;
  return out;
}

// ---------------------------------------------------------------- ffmpeg

async function decodeWithFfmpeg(bytes: Uint8Array, kind: AudioKind, maxSeconds: number, opts: AudioDecodeOptions): Promise<Float32Array> {
  // Input goes through a private temp file rather than stdin: MP4s with the index (moov) after
  // the media data need a seekable input, and so does MP3's gapless trimming.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'omnisearch-audio-'));
  const input = path.join(dir, `input.${kind.format}`);
  try {
    await fs.writeFile(input, bytes, { mode: 0o600 });
    const capSeconds = maxSeconds + 1;
    const pcm = await runFfmpeg(
      opts.ffmpegPath ?? 'ffmpeg',
      [
        '-hide_banner', '-loglevel', 'error', '-nostdin',
        '-protocol_whitelist', 'file',
        '-f', kind.demuxer!, '-i', input,
        '-map', '0:a:0', '-vn', '-sn', '-dn',
        '-ac', '1', '-ar', String(TARGET_SAMPLE_RATE),
        '-t', String(capSeconds),
        '-f', 'f32le', 'pipe:1',
      ],
      Math.ceil(capSeconds * TARGET_SAMPLE_RATE + TARGET_SAMPLE_RATE) * 4,
      opts.timeoutMs ?? FFMPEG_TIMEOUT_MS,
      kind.format,
    );
    const samples = new Float32Array(pcm.buffer, pcm.byteOffset, Math.floor(pcm.length / 4)).slice();
    if (samples.length > maxSeconds * TARGET_SAMPLE_RATE) {
      throw tooLarge('audio_too_long', `audio is longer than the ${maxSeconds} s limit`);
    }
    return samples;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Runs ffmpeg, collecting stdout up to `maxOut` bytes; maps every failure to an OmniError. */
function runFfmpeg(bin: string, args: string[], maxOut: number, timeoutMs: number, format: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let failure: OmniError | null = null;
    const stop = (err: OmniError) => {
      failure ??= err;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(decodeFailed(`decoding the ${format} audio took longer than ${timeoutMs} ms`)), timeoutMs);

    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes > maxOut) return stop(tooLarge('audio_too_long', 'audio is longer than the duration limit'));
      chunks.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT') {
        reject(new OmniError(503, 'audio_decoder_unavailable', `${format} audio needs ffmpeg, which is not installed: install ffmpeg (apt-get install ffmpeg) or send WAV`));
      } else reject(new OmniError(503, 'audio_decoder_unavailable', `could not start ffmpeg: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      if (code !== 0) {
        // ffmpeg's message names the temp file; keep it in the log, not in the response.
        log.debug({ format, code, stderr: stderr.trim() }, 'ffmpeg could not decode audio');
        return reject(decodeFailed(`the ${format} data is corrupt, truncated or has no audio stream`));
      }
      // A clean exit with errors logged and nothing decoded is a broken file, not an empty one.
      if (outBytes === 0 && stderr.trim()) {
        log.debug({ format, stderr: stderr.trim() }, 'ffmpeg decoded no audio');
        return reject(decodeFailed(`the ${format} data is corrupt or truncated`));
      }
      resolve(Buffer.concat(chunks));
    });
  });
}
