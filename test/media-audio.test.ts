import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import wavefile from 'wavefile';
import { decodeAudio, SILENCE_RMS } from '../src/media/audio.ts';
import { OmniError } from '../src/errors.ts';
import { makeSpeechFixtures, type SpeechFixture } from './fixtures/make-audio.ts';
import { pseudoRandomBytes } from './fixtures/make-images.ts';

const run = promisify(execFile);
const LIMITS = { maxBytes: 10 * 1024 * 1024, maxSeconds: 30 };
let dir: string;
let fx: Record<SpeechFixture, string>;
let reference: Float32Array; // the espeak source, decoded in-process

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnisearch-audio-test-'));
  fx = await makeSpeechFixtures(dir);
  reference = (await decodeAudio(read('source'), LIMITS)).samples;
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const read = (name: SpeechFixture) => fs.readFileSync(fx[name]);

function rms(a: Float32Array, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i] * a[i];
  return Math.sqrt(s / Math.max(1, to - from));
}

/** Normalised correlation at lag 0 over the common length: 1 means the same waveform. */
function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

function wav(channels: number[][] | Float64Array[], sampleRate: number, bitDepth = '32f'): Uint8Array {
  const w = new wavefile.WaveFile();
  w.fromScratch(channels.length, sampleRate, bitDepth, channels.length === 1 ? channels[0] : channels);
  return w.toBuffer();
}

function tone(freq: number, sampleRate: number, seconds: number, amp = 0.5): Float64Array {
  const a = new Float64Array(Math.round(sampleRate * seconds));
  for (let i = 0; i < a.length; i++) a[i] = amp * Math.sin((2 * Math.PI * freq * i) / sampleRate);
  return a;
}

/** A canonical 44-byte PCM WAV header claiming `dataBytes` of samples. */
function wavHeader(channels: number, sampleRate: number, bits: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  const blockAlign = (channels * bits) / 8;
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

async function rejects(p: Promise<unknown>, status: number, code: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof OmniError, `expected OmniError, got ${err}`);
    assert.equal(err.status, status, err.message);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

test('every format decodes to mono 16 kHz with the source length (±1%) and level', async () => {
  const expected: Record<Exclude<SpeechFixture, 'source'>, string> = {
    wav_44k_stereo_s16: 'wav',
    wav_u8: 'wav',
    wav_s24: 'wav',
    wav_f32: 'wav',
    wav_8k_mono: 'wav',
    wav_6ch_48k: 'wav',
    wav_rf64: 'rf64',
    m4a_aac: 'mp4',
    webm_opus: 'webm',
    ogg_opus: 'ogg',
    mp3: 'mp3',
    flac: 'flac',
  };
  assert.ok(reference.length > 40_000, 'the source is ~2.8 s of speech at 16 kHz');
  const refRms = rms(reference);
  for (const [name, format] of Object.entries(expected) as [SpeechFixture, string][]) {
    const a = await decodeAudio(read(name), LIMITS);
    assert.equal(a.format, format, name);
    assert.equal(a.sampleRate, 16000);
    assert.ok(Math.abs(a.samples.length - reference.length) <= reference.length * 0.01, `${name}: ${a.samples.length} vs ${reference.length} samples`);
    assert.ok(Math.abs(a.durationMs - (a.samples.length / 16000) * 1000) < 1e-6);
    assert.equal(a.silent, false, name);
    const ratio = rms(a.samples) / refRms;
    assert.ok(ratio > 0.8 && ratio < 1.25, `${name}: level ratio ${ratio}`);
  }
});

test('lossless inputs decode to the same waveform in-process (wavefile) and through ffmpeg', async () => {
  // FLAC goes through ffmpeg's decoder and resampler; the WAVs through wavefile and ours.
  for (const name of ['wav_44k_stereo_s16', 'wav_s24', 'wav_f32', 'wav_u8', 'wav_6ch_48k', 'wav_rf64', 'flac'] as const) {
    const a = await decodeAudio(read(name), LIMITS);
    const r = correlation(a.samples, reference);
    assert.ok(r > 0.99, `${name}: correlation ${r}`);
  }
  // 8 kHz keeps only the band below 4 kHz, so it matches less closely but clearly.
  const narrow = await decodeAudio(read('wav_8k_mono'), LIMITS);
  assert.ok(correlation(narrow.samples, reference) > 0.9);
});

test('stereo down-mix averages channels: anti-phase cancels, identical channels keep their level', async () => {
  const x = tone(440, 16000, 1, 0.5);
  const minus = x.map((v) => -v);
  const cancelled = await decodeAudio(wav([x, minus], 16000), LIMITS);
  assert.equal(cancelled.samples.length, 16000);
  assert.ok(rms(cancelled.samples) < 1e-6, `anti-phase residue ${rms(cancelled.samples)}`);
  assert.equal(cancelled.silent, true);

  const same = await decodeAudio(wav([x, x], 16000), LIMITS);
  for (let i = 0; i < x.length; i += 97) assert.ok(Math.abs(same.samples[i] - x[i]) < 1e-6);
  assert.equal(same.silent, false);
});

test('the WAV resampler removes content above the 8 kHz Nyquist limit and keeps speech band', async () => {
  for (const rate of [44100, 48000]) {
    const above = await decodeAudio(wav([tone(10_000, rate, 2)], rate), LIMITS);
    const within = await decodeAudio(wav([tone(1_000, rate, 2)], rate), LIMITS);
    assert.equal(above.samples.length, 32000);
    // Ignore the edges, where the filter sees the abrupt start and end of the tone.
    const aboveDb = 20 * Math.log10(rms(above.samples, 1000, 31000) / (0.5 / Math.SQRT2));
    const withinDb = 20 * Math.log10(rms(within.samples, 1000, 31000) / (0.5 / Math.SQRT2));
    assert.ok(aboveDb < -60, `${rate} Hz: a 10 kHz tone comes out at ${aboveDb.toFixed(1)} dB`);
    assert.ok(Math.abs(withinDb) < 0.1, `${rate} Hz: a 1 kHz tone comes out at ${withinDb.toFixed(2)} dB`);
  }
});

test('the ffmpeg path is anti-aliased too', async () => {
  const f = path.join(dir, 'tone-10k.flac');
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=10000:sample_rate=44100:duration=2', '-c:a', 'flac', f]);
  const a = await decodeAudio(fs.readFileSync(f), LIMITS);
  assert.equal(a.format, 'flac');
  // lavfi's sine has amplitude 1/8.
  const db = 20 * Math.log10(rms(a.samples, 1000, a.samples.length - 1000) / (0.125 / Math.SQRT2));
  assert.ok(db < -40, `10 kHz through ffmpeg comes out at ${db.toFixed(1)} dB`);
});

test('an MP4 with its index after the media data (moov at end) decodes', async () => {
  const f = path.join(dir, 'tone-20s.m4a');
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=20', '-c:a', 'aac', '-b:a', '64k', f]);
  const bytes = fs.readFileSync(f);
  assert.ok(bytes.indexOf('moov') > bytes.indexOf('mdat'), 'fixture must have moov after mdat');
  const a = await decodeAudio(bytes, LIMITS);
  assert.ok(Math.abs(a.samples.length - 320_000) < 3200, `${a.samples.length} samples`);
});

test('a 10-minute WAV is refused as too long from its header, without decoding it', async () => {
  // 10 min of 48 kHz stereo 16-bit: 115 MB of zero pages that are never touched (sparse), so if
  // the decoder read the samples, RSS would grow by hundreds of MB and it would take seconds.
  const dataBytes = 600 * 48000 * 4;
  const bytes = Buffer.alloc(44 + dataBytes);
  wavHeader(2, 48000, 16, dataBytes).copy(bytes);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  await rejects(decodeAudio(bytes, { maxBytes: 200e6, maxSeconds: 30 }), 413, 'audio_too_long');
  assert.ok(performance.now() - t0 < 1000);
  assert.ok(process.memoryUsage().rss - rss0 < 100e6, 'samples must not be decoded');
});

test('compressed audio longer than the limit is refused as too long', async () => {
  const f = path.join(dir, 'long.ogg');
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=40', '-c:a', 'libopus', '-b:a', '16k', f]);
  await rejects(decodeAudio(fs.readFileSync(f), LIMITS), 413, 'audio_too_long');
  const ok = await decodeAudio(fs.readFileSync(f), { ...LIMITS, maxSeconds: 45 });
  assert.ok(Math.abs(ok.samples.length - 640_000) < 6400);
});

test('the byte limit answers 413 audio_too_large', async () => {
  const bytes = read('mp3');
  await rejects(decodeAudio(bytes, { ...LIMITS, maxBytes: bytes.length - 1 }), 413, 'audio_too_large');
});

test('truncated and corrupt audio is 422 audio_decode_failed, never a crash', async () => {
  const source = read('source');
  await rejects(decodeAudio(source.subarray(0, Math.floor(source.length / 2)), LIMITS), 422, 'audio_decode_failed');
  await rejects(decodeAudio(source.subarray(0, 30), LIMITS), 422, 'audio_decode_failed'); // header cut inside fmt
  const riffJunk = Buffer.concat([Buffer.from('RIFF\x00\x10\x00\x00WAVE', 'latin1'), pseudoRandomBytes(4096, 11)]);
  await rejects(decodeAudio(riffJunk, LIMITS), 422, 'audio_decode_failed');
  const oggJunk = Buffer.concat([Buffer.from('OggS'), pseudoRandomBytes(4096, 13)]);
  await rejects(decodeAudio(oggJunk, LIMITS), 422, 'audio_decode_failed');
  // Headers that would make the duration check lie (block size) or the resampler explode (rate).
  const lyingBlock = Buffer.concat([wavHeader(2, 16000, 16, 64000), Buffer.alloc(64000)]);
  lyingBlock.writeUInt16LE(64000, 32);
  await rejects(decodeAudio(lyingBlock, LIMITS), 422, 'audio_decode_failed');
  const absurdRate = Buffer.concat([wavHeader(1, 16000, 16, 64000), Buffer.alloc(64000)]);
  absurdRate.writeUInt32LE(4_000_000_000, 24);
  await rejects(decodeAudio(absurdRate, LIMITS), 422, 'audio_decode_failed');
  const m4a = read('m4a_aac');
  await rejects(decodeAudio(m4a.subarray(0, Math.floor(m4a.length / 2)), LIMITS), 422, 'audio_decode_failed');
});

test('the container is sniffed from the bytes: MP3 sent as ".wav" still decodes as MP3', async () => {
  // The API never sees a trustworthy name or type; only the bytes decide.
  const a = await decodeAudio(read('mp3'), LIMITS);
  assert.equal(a.format, 'mp3');
  assert.equal(a.silent, false);
});

test('unknown bytes are 415 unsupported_audio_type naming the accepted types', async () => {
  for (const bytes of [pseudoRandomBytes(4096, 17), Buffer.from('hello'), new Uint8Array(0)]) {
    await assert.rejects(decodeAudio(bytes, LIMITS), (err: unknown) => {
      assert.ok(err instanceof OmniError);
      assert.equal(err.status, 415);
      assert.equal(err.code, 'unsupported_audio_type');
      assert.match(err.message, /WAV.*M4A.*WebM.*Ogg.*MP3/);
      return true;
    });
  }
});

test('a missing ffmpeg is a 503 audio_decoder_unavailable that says to install it; WAV still works', async () => {
  const noFfmpeg = { ffmpegPath: path.join(dir, 'no-such-ffmpeg') };
  await assert.rejects(decodeAudio(read('ogg_opus'), LIMITS, noFfmpeg), (err: unknown) => {
    assert.ok(err instanceof OmniError);
    assert.equal(err.status, 503);
    assert.equal(err.code, 'audio_decoder_unavailable');
    assert.match(err.message, /install ffmpeg/);
    return true;
  });
  const a = await decodeAudio(read('wav_s24'), LIMITS, noFfmpeg);
  assert.equal(a.silent, false);
});

test('silence and empty audio are reported as silent, speech is not', async () => {
  const zeros = await decodeAudio(wav([new Float64Array(16000)], 16000), LIMITS);
  assert.equal(zeros.silent, true);
  assert.equal(zeros.samples.length, 16000);

  const hiss = await decodeAudio(wav([tone(300, 22050, 1, SILENCE_RMS)], 22050), LIMITS); // -63 dBFS RMS
  assert.equal(hiss.silent, true);
  const quietSpeechLevel = await decodeAudio(wav([tone(300, 22050, 1, 0.01)], 22050), LIMITS); // -43 dBFS RMS
  assert.equal(quietSpeechLevel.silent, false);

  const empty = await decodeAudio(wavHeader(1, 16000, 16, 0), LIMITS);
  assert.equal(empty.samples.length, 0);
  assert.equal(empty.durationMs, 0);
  assert.equal(empty.silent, true);
});
