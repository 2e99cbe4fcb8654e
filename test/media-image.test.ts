import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { decodeImage, imageMimeOf } from '../src/media/image.ts';
import { OmniError } from '../src/errors.ts';
import { BASE_H, BASE_W, BLUE, GREEN, RED, makeImageFixtures, pngWithClaimedSize, pseudoRandomBytes, type ImageFixtures } from './fixtures/make-images.ts';

const LIMITS = { maxBytes: 10 * 1024 * 1024, maxPixels: 40_000_000 };
let fx: ImageFixtures;

before(async () => {
  fx = await makeImageFixtures();
});

/** The RGB triple at (x, y). */
function pixel(img: { data: Uint8Array | Uint8ClampedArray; width: number }, x: number, y: number): number[] {
  const i = (y * img.width + x) * 3;
  return Array.from(img.data.subarray(i, i + 3));
}

/** Lossy codecs shift colours a little; a channel within 12 of the target is the same colour. */
function assertColour(actual: number[], expected: readonly number[], what: string) {
  assert.ok(actual.every((v, i) => Math.abs(v - expected[i]) <= 12), `${what}: got ${actual}, expected ~${expected}`);
}

async function rejects(bytes: Uint8Array, status: number, code: string, limits = LIMITS) {
  await assert.rejects(decodeImage(bytes, limits), (err: unknown) => {
    assert.ok(err instanceof OmniError, `expected OmniError, got ${err}`);
    assert.equal(err.status, status, err.message);
    assert.equal(err.code, code);
    return true;
  });
}

test('every accepted format decodes to 8-bit RGB with the right size and colours', async () => {
  const cases: [keyof ImageFixtures, string][] = [
    ['png', 'png'],
    ['jpeg', 'jpeg'],
    ['webp', 'webp'],
    ['avif', 'avif'],
    ['tiff', 'tiff'],
  ];
  for (const [name, format] of cases) {
    const img = await decodeImage(fx[name], LIMITS);
    assert.equal(img.format, format, name);
    assert.equal(img.channels, 3);
    assert.equal(img.width, BASE_W, name);
    assert.equal(img.height, BASE_H, name);
    assert.equal(img.data.length, BASE_W * BASE_H * 3, name);
    assertColour(pixel(img, 4, 4), RED, `${name} left`);
    assertColour(pixel(img, BASE_W - 4, BASE_H - 4), BLUE, `${name} right`);
  }
});

test('animated GIF decodes its first frame only', async () => {
  const img = await decodeImage(fx.gifAnimated, LIMITS);
  assert.equal(img.format, 'gif');
  assert.deepEqual([img.width, img.height], [16, 16]);
  assertColour(pixel(img, 8, 8), RED, 'first frame');
  assertColour(pixel(img, 15, 15), RED, 'first frame corner');
});

test('EXIF orientation 6 is applied: width and height swap and the content turns clockwise', async () => {
  const img = await decodeImage(fx.jpegExif6, LIMITS);
  assert.deepEqual([img.width, img.height], [BASE_H, BASE_W]);
  // Stored: red left, blue right. Turned 90° clockwise: red on top, blue at the bottom.
  assertColour(pixel(img, img.width / 2, 4), RED, 'top');
  assertColour(pixel(img, img.width / 2, img.height - 4), BLUE, 'bottom');
});

test('alpha is flattened onto white', async () => {
  const img = await decodeImage(fx.pngAlpha, LIMITS);
  assert.equal(img.channels, 3);
  assert.equal(img.data.length, 8 * 8 * 3);
  assert.deepEqual(pixel(img, 1, 1), [255, 255, 255]); // transparent black -> white
  assert.deepEqual(pixel(img, 6, 6), [...GREEN]);
});

test('a 50,000 x 50,000 PNG header is refused with 413 before any decode', async () => {
  const rss0 = process.memoryUsage().rss;
  // Decoding either would need >1 GB of RGB pixels; the header check reads a few dozen bytes.
  await rejects(fx.pngBomb, 413, 'image_too_many_pixels');
  await rejects(pngWithClaimedSize(20_000, 20_000), 413, 'image_too_many_pixels');
  assert.ok(process.memoryUsage().rss - rss0 < 200e6, 'header check must not allocate the image');
});

test('the pixel limit counts width x height against maxPixels', async () => {
  await rejects(fx.png, 413, 'image_too_many_pixels', { ...LIMITS, maxPixels: BASE_W * BASE_H - 1 });
  const img = await decodeImage(fx.png, { ...LIMITS, maxPixels: BASE_W * BASE_H });
  assert.equal(img.width, BASE_W);
});

test('the byte limit answers 413 image_too_large', async () => {
  await rejects(fx.png, 413, 'image_too_large', { ...LIMITS, maxBytes: fx.png.length - 1 });
});

test('unrecognised bytes, SVG and HEIC are 415 unsupported_image_type, naming accepted types', async () => {
  for (const bytes of [fx.randomBytes, fx.svg, fx.heicLike]) {
    await assert.rejects(decodeImage(bytes, LIMITS), (err: unknown) => {
      assert.ok(err instanceof OmniError);
      assert.equal(err.status, 415);
      assert.equal(err.code, 'unsupported_image_type');
      assert.match(err.message, /JPEG, PNG, WebP, AVIF, GIF or TIFF/);
      return true;
    });
  }
});

test('corrupt or truncated data behind a valid signature is 422 image_decode_failed', async () => {
  await rejects(fx.truncatedJpeg, 422, 'image_decode_failed');
  const pngSig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  await rejects(Buffer.concat([pngSig, pseudoRandomBytes(2048, 3)]), 422, 'image_decode_failed');
  await rejects(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), pseudoRandomBytes(2048, 5)]), 422, 'image_decode_failed');
  await rejects(fx.png.subarray(0, 40), 422, 'image_decode_failed');
});

test('imageMimeOf sniffs stored images by content, never by name', () => {
  assert.equal(imageMimeOf(fx.png), 'image/png');
  assert.equal(imageMimeOf(fx.jpeg), 'image/jpeg');
  assert.equal(imageMimeOf(fx.webp), 'image/webp');
  assert.equal(imageMimeOf(fx.avif), 'image/avif');
  assert.equal(imageMimeOf(fx.gifAnimated), 'image/gif');
  assert.equal(imageMimeOf(fx.tiff), 'image/tiff');
  assert.equal(imageMimeOf(fx.svg), null);
  assert.equal(imageMimeOf(fx.heicLike), null);
  assert.equal(imageMimeOf(fx.randomBytes), null);
  assert.equal(imageMimeOf(new Uint8Array(0)), null);
});
