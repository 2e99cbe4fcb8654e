import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import wavefile from 'wavefile';
const { WaveFile } = wavefile;
import { makeSpeechFixtures, type SpeechFixture } from './fixtures/make-audio.ts';
import { makeImageFixtures, type ImageFixtures } from './fixtures/make-images.ts';
import { postJson, smallCatalogProducts, solidPng, startTestServer, tmpDir, type TestServer } from './helpers/server.ts';

let s: TestServer;
let speech: Record<SpeechFixture, string>;
let images: ImageFixtures;
before(async () => {
  s = await startTestServer();
  assert.equal((await postJson(`${s.url}/v1/products`, await smallCatalogProducts())).status, 200);
  speech = await makeSpeechFixtures(tmpDir('omni-speech-'));
  images = await makeImageFixtures();
});
after(() => s.close());

async function multipart(route: string, parts: Record<string, string | Blob>): Promise<{ status: number; body: any }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(parts)) form.append(k, v);
  const res = await fetch(`${s.url}${route}`, { method: 'POST', body: form });
  return { status: res.status, body: await res.json() };
}
const file = (bytes: Uint8Array | Buffer, name: string, type = 'application/octet-stream') => new File([new Uint8Array(bytes)], name, { type });
const ids = (r: { body: { results: { id: string }[] } }) => r.body.results.map((x) => x.id);

test('photo search: an image alone returns k results, the same photo twice the same ids', async () => {
  const photo = file(await solidPng('#d01010', 200), 'shoe.png', 'image/png');
  const a = await multipart('/v1/search', { image: photo, k: '4' });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(a.body.results.length, 4);
  assert.equal(a.body.query.parts.image.used, true);
  assert.equal(a.body.query.parts.text.used, false);
  assert.equal(typeof a.body.timings.decode, 'number');
  for (const r of a.body.results) assert.equal(typeof r.explain.imageSimilarity, 'number');
  const b = await multipart('/v1/search', { image: photo, k: '4' });
  assert.deepEqual(ids(b), ids(a));
  for (const [name, bytes] of [['jpeg', images.jpegExif6], ['webp', images.webp], ['avif', images.avif], ['gif', images.gifAnimated], ['tiff', images.tiff]] as const) {
    const r = await multipart('/v1/search', { image: file(bytes, `x.${name}`), k: '2' });
    assert.equal(r.status, 200, name);
  }
});

test('mixed query: photo + text uses both parts and explains both similarities; weights change the order', async () => {
  const photo = file(await solidPng('#1030d0', 200), 'bag.png', 'image/png');
  const mixed = await multipart('/v1/search', { image: photo, text: 'gift', k: '8', weights: JSON.stringify({ text: 1, image: 1 }) });
  assert.equal(mixed.status, 200, JSON.stringify(mixed.body));
  assert.equal(mixed.body.query.parts.image.used, true);
  assert.equal(mixed.body.query.parts.text.used, true);
  assert.equal(mixed.body.query.parts.text.weight, 1);
  for (const r of mixed.body.results) {
    assert.equal(typeof r.explain.textSimilarity, 'number');
    assert.equal(typeof r.explain.imageSimilarity, 'number');
  }
  const textHeavy = await multipart('/v1/search', { image: photo, text: 'gift', k: '8', weights: JSON.stringify({ text: 5, image: 0.1 }), hybrid: '{"mode":"off"}' });
  const imageHeavy = await multipart('/v1/search', { image: photo, text: 'gift', k: '8', weights: JSON.stringify({ text: 0.1, image: 5 }), hybrid: '{"mode":"off"}' });
  assert.notDeepEqual(ids(textHeavy), ids(imageHeavy));
  const red = await multipart('/v1/search', { image: photo, text: 'red', k: '8' });
  assert.deepEqual(red.body.query.understanding.slots.color, ['red']);
  for (const r of red.body.results) assert.equal(r.product.color, 'red'); // the slot filter applies to the photo too
  const not = await multipart('/v1/search', { image: photo, k: '8', not: 'leather', hybrid: '{"mode":"off"}' });
  assert.equal(not.body.query.parts.not.used, true);
  const plain = await multipart('/v1/search', { image: photo, k: '8', hybrid: '{"mode":"off"}' });
  assert.notDeepEqual(not.body.results.map((r: { score: number }) => r.score), plain.body.results.map((r: { score: number }) => r.score));
  const badWeights = await multipart('/v1/search', { image: photo, weights: '{"text": "a lot"}' });
  assert.equal(badWeights.status, 400);
  const badJson = await multipart('/v1/search', { image: photo, filters: '{not json' });
  assert.equal(badJson.status, 400);
});

test('voice search: WAV (44.1 kHz stereo), M4A, WebM/Opus, Ogg/Opus and MP3 each transcribe and search', async () => {
  for (const name of ['wav_44k_stereo_s16', 'm4a_aac', 'webm_opus', 'ogg_opus', 'mp3', 'flac'] as const) {
    const audio = file(fs.readFileSync(speech[name]), path.basename(speech[name]));
    const r = await multipart('/v1/search', { audio, language: 'en', k: '3' });
    assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`);
    assert.equal(typeof r.body.query.transcript, 'string', name);
    assert.equal(r.body.query.language, 'en', name);
    assert.equal(typeof r.body.timings.stt, 'number', name);
    const t = await multipart('/v1/transcribe', { audio, language: 'auto' });
    assert.equal(t.status, 200, name);
    assert.equal(typeof t.body.text, 'string');
    assert.ok(t.body.durationMs > 1500 && t.body.durationMs < 5000, `${name}: ${t.body.durationMs}`);
  }
});

test('silent audio answers 200 with an empty transcript and no results', async () => {
  const wav = new WaveFile();
  wav.fromScratch(1, 16000, '16', new Int16Array(16000));
  const r = await multipart('/v1/search', { audio: file(wav.toBuffer(), 'silence.wav') });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.query.transcript, '');
  assert.deepEqual(r.body.results, []);
  const t = await multipart('/v1/transcribe', { audio: file(wav.toBuffer(), 'silence.wav') });
  assert.deepEqual(t.body, { text: '', language: null, durationMs: 1000 });
});

test('hostile media gets a 4xx with error.code and the server stays up', async () => {
  // A real 10-minute WAV (8 kHz, 8-bit: 4.8 MB, under the byte limit) so the duration limit answers.
  const tenMinutes = (() => {
    const wav = new WaveFile();
    wav.fromScratch(1, 8000, '8', new Uint8Array(600 * 8000).fill(128));
    return Buffer.from(wav.toBuffer());
  })();
  const truncatedWav = fs.readFileSync(speech.source).subarray(0, 30);
  const cases: [string, Record<string, Blob>, number, string][] = [
    ['50k x 50k PNG header', { image: file(images.pngBomb, 'bomb.png') }, 413, 'image_too_many_pixels'],
    ['random bytes as image', { image: file(images.randomBytes, 'x.jpg') }, 415, 'unsupported_image_type'],
    ['svg', { image: file(images.svg, 'x.svg') }, 415, 'unsupported_image_type'],
    ['truncated jpeg', { image: file(images.truncatedJpeg, 'x.jpg') }, 422, 'image_decode_failed'],
    ['truncated WAV', { audio: file(truncatedWav, 'x.wav') }, 422, 'audio_decode_failed'],
    ['10-minute WAV', { audio: file(tenMinutes, 'long.wav') }, 413, 'audio_too_long'],
    ['random bytes as audio', { audio: file(images.randomBytes, 'x.mp3') }, 415, 'unsupported_audio_type'],
  ];
  for (const [name, parts, status, code] of cases) {
    const r = await multipart('/v1/search', parts);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code, name);
  }
  const t = await multipart('/v1/transcribe', { audio: file(truncatedWav, 'x.wav') });
  assert.equal(t.status, 422);
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
});
