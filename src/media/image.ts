/**
 * Untrusted image bytes -> 8-bit sRGB RGB pixels, with limits enforced before decoding.
 *
 * The type comes from magic bytes (an allow-list), never from a file name or a client content
 * type. SVG is refused outright: it is a document that can reference external resources, not
 * pixels. HEIC is refused too: sharp's bundled libheif decodes AV1 (AVIF) only, not HEVC.
 */
import sharp, { type Metadata } from 'sharp';
import { OmniError, tooLarge, unprocessable, unsupportedMedia } from '../errors.ts';
import type { DecodedImage } from './types.ts';

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
}

const ACCEPTED = 'JPEG, PNG, WebP, AVIF, GIF or TIFF';

/** Accepted MIME type -> the name sharp's metadata reports for that decoder. */
const SHARP_FORMAT: Record<string, string> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/avif': 'heif',
  'image/gif': 'gif',
  'image/tiff': 'tiff',
};

const ascii = (b: Uint8Array, at: number, len: number) => String.fromCharCode(...b.subarray(at, at + len));

/** The MIME type of an accepted image format, from magic bytes; null for anything else. */
export function imageMimeOf(b: Uint8Array): string | null {
  if (b.length < 12) return null;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x89 && ascii(b, 1, 7) === 'PNG\r\n\x1a\n') return 'image/png';
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return 'image/gif';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'image/webp';
  if ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0x00) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0x00 && b[3] === 0x2a)) {
    return 'image/tiff';
  }
  if (ascii(b, 4, 4) === 'ftyp' && isoBrands(b).some((brand) => brand === 'avif' || brand === 'avis')) return 'image/avif';
  return null;
}

/** Major and compatible brands of an ISO-BMFF `ftyp` box (AVIF, HEIC, MP4 all start with one). */
function isoBrands(b: Uint8Array): string[] {
  const size = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
  const end = Math.min(size, b.length, 256);
  const brands = [ascii(b, 8, 4)];
  for (let off = 16; off + 4 <= end; off += 4) brands.push(ascii(b, off, 4));
  return brands;
}

export async function decodeImage(bytes: Uint8Array, limits: ImageLimits): Promise<DecodedImage & { format: string }> {
  if (bytes.length > limits.maxBytes) {
    throw tooLarge('image_too_large', `image is ${bytes.length} bytes; the limit is ${limits.maxBytes}`);
  }
  const mime = imageMimeOf(bytes);
  if (!mime) {
    const what = ascii(bytes, 4, 4) === 'ftyp' ? 'HEIC/HEIF and other ISO media are' : 'SVG and other formats are';
    throw unsupportedMedia('unsupported_image_type', `image must be ${ACCEPTED}; ${what} not accepted`);
  }
  const format = mime.slice('image/'.length);

  // Header only: libvips reads dimensions without decoding pixels, so a 50,000 x 50,000
  // "bomb" is refused here without allocating anything.
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeFailed(format, err);
  }
  if (meta.format !== SHARP_FORMAT[mime]) throw decodeFailed(format, new Error(`decoder reports ${meta.format}`));
  if (mime === 'image/avif' && meta.compression !== 'av1') {
    throw unsupportedMedia('unsupported_image_type', `image must be ${ACCEPTED}; HEIC/HEIF is not accepted`);
  }
  const pixels = (meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0);
  if (!pixels) throw decodeFailed(format, new Error('no dimensions'));
  if (pixels > limits.maxPixels) throw tooManyPixels(meta.width, meta.pageHeight ?? meta.height, limits.maxPixels);

  try {
    const { data, info } = await sharp(bytes, {
      limitInputPixels: limits.maxPixels, // backstop: libvips re-checks on the real decode
      failOn: 'error', // truncated or corrupt pixel data fails instead of decoding to grey
      pages: 1, // first frame of an animation, first page of a TIFF
    })
      .rotate() // apply EXIF orientation
      .flatten({ background: '#ffffff' }) // product photos on white, not black
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: 3,
      format,
    };
  } catch (err) {
    if (/pixel limit/i.test((err as Error).message)) throw tooManyPixels(meta.width, meta.height, limits.maxPixels);
    throw decodeFailed(format, err);
  }
}

const tooManyPixels = (w: number | undefined, h: number | undefined, max: number) =>
  tooLarge('image_too_many_pixels', `image is ${w} x ${h} pixels; the limit is ${max} pixels`);

function decodeFailed(format: string, err: unknown): OmniError {
  const why = (err as Error).message?.split('\n')[0] ?? String(err);
  return unprocessable('image_decode_failed', `could not decode the ${format} image: it is corrupt or truncated (${why})`);
}
