import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { isPrivateAddress, resolveProductImage, resolveUnderRoot } from '../src/catalog/images.ts';
import { OmniError } from '../src/errors.ts';

const root = () => fs.mkdtempSync(path.join(os.tmpdir(), 'omni-img-'));
const png = () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
const code = (c: string) => (e: unknown) => e instanceof OmniError && e.code === c;

test('private, loopback and link-local addresses are recognised', () => {
  for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1']) {
    assert.equal(isPrivateAddress(ip), true, ip);
  }
  for (const ip of ['8.8.8.8', '151.101.1.1', '2606:4700::1111']) assert.equal(isPrivateAddress(ip), false, ip);
});

test('local paths cannot escape the image root', () => {
  const r = root();
  fs.writeFileSync(path.join(r, 'ok.png'), 'x');
  assert.equal(resolveUnderRoot(r, 'ok.png'), path.join(fs.realpathSync(r), 'ok.png'));
  assert.throws(() => resolveUnderRoot(r, '../../etc/passwd'), code('image_path_outside_root'));
  assert.throws(() => resolveUnderRoot(r, '/etc/passwd'), code('image_path_outside_root'));
  assert.throws(() => resolveUnderRoot(r, 'a\0b'), code('image_path_invalid'));
  fs.symlinkSync('/etc', path.join(r, 'link'));
  assert.throws(() => resolveUnderRoot(r, 'link/passwd'), code('image_path_outside_root'));
});

test('base64 and data: URIs are saved content-addressed under uploads/', async () => {
  const r = root();
  const bytes = await png();
  const a = await resolveProductImage(`data:image/png;base64,${bytes.toString('base64')}`, { imageRoot: r, maxBytes: 1e6, allowPrivateUrls: false });
  const b = await resolveProductImage(bytes.toString('base64'), { imageRoot: r, maxBytes: 1e6, allowPrivateUrls: false });
  assert.equal(a.relPath, b.relPath);
  assert.match(a.relPath, /^uploads\/[0-9a-f]{32}\.png$/);
  assert.deepEqual(fs.readFileSync(path.join(r, a.relPath)), bytes);
  await assert.rejects(resolveProductImage(Buffer.alloc(100, 7).toString('base64'), { imageRoot: r, maxBytes: 1e6, allowPrivateUrls: false }), code('unsupported_image_type'));
  await assert.rejects(resolveProductImage(bytes.toString('base64'), { imageRoot: r, maxBytes: 10, allowPrivateUrls: false }), code('image_too_large'));
});

test('image URLs on loopback are refused unless allowed, and then size and type are checked', async () => {
  const bytes = await png();
  const server = http.createServer((req, res) => {
    if (req.url === '/a.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(bytes);
    if (req.url === '/page') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    if (req.url === '/big') return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(5000));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const r = root();
  try {
    await assert.rejects(resolveProductImage(`${base}/a.png`, { imageRoot: r, maxBytes: 1e6, allowPrivateUrls: false }), code('image_url_forbidden'));
    await assert.rejects(resolveProductImage(`http://localhost:${new URL(base).port}/a.png`, { imageRoot: r, maxBytes: 1e6, allowPrivateUrls: false }), code('image_url_forbidden'));
    const ok = await resolveProductImage(`${base}/a.png`, { imageRoot: r, maxBytes: 1e6, allowPrivateUrls: true });
    assert.deepEqual(Buffer.from(ok.bytes), bytes);
    await assert.rejects(resolveProductImage(`${base}/page`, { imageRoot: r, maxBytes: 1e6, allowPrivateUrls: true }), code('image_url_not_image'));
    await assert.rejects(resolveProductImage(`${base}/big`, { imageRoot: r, maxBytes: 1000, allowPrivateUrls: true }), code('image_too_large'));
    await assert.rejects(resolveProductImage(`${base}/missing`, { imageRoot: r, maxBytes: 1e6, allowPrivateUrls: true }), code('image_url_failed'));
    await assert.rejects(resolveProductImage('ftp://example.com/a.png', { imageRoot: r, maxBytes: 1e6, allowPrivateUrls: true }), code('image_url_scheme'));
  } finally {
    server.close();
  }
});
