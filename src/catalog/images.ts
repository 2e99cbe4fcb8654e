import crypto from 'node:crypto';
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { badRequest, OmniError, tooLarge, unprocessable } from '../errors.ts';
import { imageMimeOf } from '../media/image.ts';

export interface ImageSourceOptions {
  imageRoot: string;
  maxBytes: number;
  allowPrivateUrls: boolean;
  fetchTimeoutMs?: number;
}

/**
 * A product image reference at ingest is a path under the image root, an http(s) URL, or bytes
 * (`data:` URI or bare base64). Everything ends up as a file under the image root so the app can
 * serve it and re-embedding never needs the network again; the product keeps that relative path.
 */
export async function resolveProductImage(ref: string, opts: ImageSourceOptions): Promise<{ relPath: string; bytes: Uint8Array }> {
  if (/^https?:\/\//i.test(ref)) {
    const bytes = await fetchImage(ref, opts);
    return { relPath: saveUpload(bytes, opts.imageRoot), bytes };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) throw badRequest('image_url_scheme', 'image URLs must be http or https');
  const b64 = ref.startsWith('data:') ? ref.slice(ref.indexOf(',') + 1) : looksBase64(ref) ? ref : null;
  if (b64 !== null) {
    const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
    if (bytes.length > opts.maxBytes) throw tooLarge('image_too_large', `image is ${bytes.length} bytes; the limit is ${opts.maxBytes}`);
    return { relPath: saveUpload(bytes, opts.imageRoot), bytes };
  }
  const abs = resolveUnderRoot(opts.imageRoot, ref);
  const st = fs.statSync(abs, { throwIfNoEntry: false });
  if (!st?.isFile()) throw badRequest('image_not_found', `image file not found under the image root: ${ref}`);
  if (st.size > opts.maxBytes) throw tooLarge('image_too_large', `image is ${st.size} bytes; the limit is ${opts.maxBytes}`);
  return { relPath: path.relative(fs.realpathSync(opts.imageRoot), abs).split(path.sep).join('/'), bytes: new Uint8Array(fs.readFileSync(abs)) };
}

// Paths contain '/' or '.', base64 of an image is long and has neither '.' nor spaces.
const looksBase64 = (s: string) => s.length >= 64 && !s.includes('.') && /^[A-Za-z0-9+/=\r\n]+$/.test(s);

/** Resolves a relative path inside `root`, refusing `..`, absolute paths and symlinks that leave it. */
export function resolveUnderRoot(root: string, rel: string): string {
  if (rel.includes('\0')) throw badRequest('image_path_invalid', 'image path contains a NUL byte');
  if (path.isAbsolute(rel)) throw badRequest('image_path_outside_root', 'image paths must be relative to the image root');
  fs.mkdirSync(root, { recursive: true });
  const realRoot = fs.realpathSync(root);
  const candidate = path.resolve(realRoot, rel);
  const real = fs.existsSync(candidate) ? fs.realpathSync(candidate) : candidate;
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    throw badRequest('image_path_outside_root', `image path escapes the image root: ${rel}`);
  }
  return real;
}

function saveUpload(bytes: Uint8Array, root: string): string {
  const mime = imageMimeOf(bytes);
  if (!mime) throw new OmniError(415, 'unsupported_image_type', 'image bytes are not a JPEG, PNG, WebP, AVIF, GIF or TIFF');
  const ext = mime.split('/')[1].replace('jpeg', 'jpg');
  const name = `${crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 32)}.${ext}`;
  const rel = `uploads/${name}`;
  const abs = path.join(root, 'uploads', name);
  if (!fs.existsSync(abs)) {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    const tmp = `${abs}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, abs); // content-addressed, so a crash leaves either nothing or the whole file
  }
  return rel;
}

/** Loopback, private, link-local, CGNAT, multicast and reserved ranges: never fetched unless allowed. */
export function isPrivateAddress(ip: string): boolean {
  if (net.isIPv4(ip)) {
    const [a, b] = ip.split('.').map(Number);
    return (
      a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19)) || a >= 224
    );
  }
  const v6 = ip.toLowerCase();
  if (v6.startsWith('::ffff:')) return isPrivateAddress(v6.slice(7));
  return v6 === '::' || v6 === '::1' || v6.startsWith('fc') || v6.startsWith('fd') || v6.startsWith('fe8') || v6.startsWith('fe9') ||
    v6.startsWith('fea') || v6.startsWith('feb') || v6.startsWith('ff');
}

/**
 * Fetches with the address check inside the socket's DNS lookup, so the address that is checked is
 * the one connected to (no DNS-rebinding gap). Redirects are followed by hand, each one re-checked.
 */
async function fetchImage(url: string, opts: ImageSourceOptions, redirects = 3): Promise<Uint8Array> {
  const u = new URL(url);
  const lookup: net.LookupFunction = (host, options, cb) => {
    dns.lookup(host, { ...options, all: true }, (err, addrs) => {
      if (err) return cb(err, '', 4);
      const list = addrs as dns.LookupAddress[];
      const bad = list.find((a) => isPrivateAddress(a.address));
      if (bad && !opts.allowPrivateUrls) {
        return cb(Object.assign(new Error(`refusing private address ${bad.address}`), { code: 'EPRIVATE' }), '', 4);
      }
      if ((options as dns.LookupAllOptions).all) return (cb as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      cb(null, list[0].address, list[0].family);
    });
  };
  if (net.isIP(u.hostname.replace(/^\[|\]$/g, '')) && isPrivateAddress(u.hostname.replace(/^\[|\]$/g, '')) && !opts.allowPrivateUrls) {
    throw badRequest('image_url_forbidden', `image URL points at a private or loopback address: ${u.hostname}`);
  }
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise<Uint8Array>((resolve, reject) => {
    const req = mod.get(u, { lookup, timeout: opts.fetchTimeoutMs ?? 10_000, headers: { accept: 'image/*' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects <= 0) return reject(unprocessable('image_url_failed', `too many redirects fetching ${url}`));
        return resolve(fetchImage(new URL(res.headers.location, u).toString(), opts, redirects - 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(unprocessable('image_url_failed', `fetching ${url} returned HTTP ${status}`));
      }
      const type = String(res.headers['content-type'] ?? '');
      if (!type.startsWith('image/')) {
        res.resume();
        return reject(unprocessable('image_url_not_image', `${url} answered with content-type ${type || 'none'}, not an image`));
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > opts.maxBytes) {
        res.destroy();
        return reject(tooLarge('image_too_large', `image at ${url} is ${declared} bytes; the limit is ${opts.maxBytes}`));
      }
      const chunks: Buffer[] = [];
      let got = 0;
      res.on('data', (c: Buffer) => {
        got += c.length;
        if (got > opts.maxBytes) {
          res.destroy();
          reject(tooLarge('image_too_large', `image at ${url} exceeds ${opts.maxBytes} bytes`));
        } else chunks.push(c);
      });
      res.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
      res.on('error', (e) => reject(unprocessable('image_url_failed', `fetching ${url} failed: ${e.message}`)));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EPRIVATE'
          ? badRequest('image_url_forbidden', `image URL ${url} resolves to a private or loopback address (set OMNISEARCH_ALLOW_PRIVATE_IMAGE_URLS=true to allow)`)
          : unprocessable('image_url_failed', `fetching ${url} failed: ${e.message}`),
      ),
    );
  });
}
