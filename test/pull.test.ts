import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { OfflineError, pullModels, type RemoteModel } from '../src/models/pull.ts';

// A stand-in for the hub on loopback: serves /{repo}/resolve/{rev}/{file} with Range support and
// the LFS sha256 in x-linked-etag, the way the real hub answers.
const files: Record<string, Buffer> = {
  'config.json': Buffer.from('{"model_type":"clip"}'),
  'onnx/model.onnx': crypto.randomBytes(200_000),
};
let corrupt = false;
const requests: { path: string; range?: string }[] = [];
let server: http.Server;
let endpoint = '';

before(async () => {
  server = http.createServer((req, res) => {
    const m = /^\/org\/repo\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    const body = m ? files[m[1]] : undefined;
    requests.push({ path: req.url ?? '', range: req.headers.range });
    if (!body) return res.writeHead(404).end();
    const sha = crypto.createHash('sha256').update(body).digest('hex');
    const payload = corrupt ? Buffer.from(body).fill(0, 0, 10) : body;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      if (start >= payload.length) return res.writeHead(416).end();
      res.writeHead(206, { 'content-range': `bytes ${start}-${payload.length - 1}/${payload.length}`, 'content-length': payload.length - start, 'x-linked-etag': `"${sha}"` });
      return res.end(payload.subarray(start));
    }
    res.writeHead(200, { 'content-length': payload.length, 'x-linked-etag': `"${sha}"` });
    res.end(payload);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => server.close());

const model: RemoteModel = { dir: 'm', repo: 'org/repo', revision: 'main', files: ['config.json', 'onnx/model.onnx'], roles: { model: 'onnx/model.onnx' } };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'omni-pull-'));

test('downloads every file, verifies it and writes the manifest last', async () => {
  const dir = tmp();
  await pullModels({ endpoint, packDir: dir, models: [model] });
  assert.deepEqual(fs.readFileSync(path.join(dir, 'm/onnx/model.onnx')), files['onnx/model.onnx']);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.equal(manifest.source, 'pulled');
  assert.deepEqual(manifest.models.m.files, { model: 'onnx/model.onnx' });
});

test('resumes a partial download with a Range request', async () => {
  const dir = tmp();
  const dest = path.join(dir, 'm/onnx/model.onnx');
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.writeFileSync(`${dest}.part`, files['onnx/model.onnx'].subarray(0, 50_000));
  requests.length = 0;
  await pullModels({ endpoint, packDir: dir, models: [model] });
  assert.deepEqual(fs.readFileSync(dest), files['onnx/model.onnx']);
  assert.ok(requests.some((r) => r.path.endsWith('model.onnx') && r.range === 'bytes=50000-'), JSON.stringify(requests));
  assert.ok(!fs.existsSync(`${dest}.part`));
});

test('a checksum mismatch fails, removes the partial file and leaves no manifest', async () => {
  const dir = tmp();
  corrupt = true;
  try {
    await assert.rejects(pullModels({ endpoint, packDir: dir, models: [model] }), /checksum mismatch/);
  } finally {
    corrupt = false;
  }
  assert.ok(!fs.existsSync(path.join(dir, 'm/onnx/model.onnx')));
  assert.ok(!fs.existsSync(path.join(dir, 'm/onnx/model.onnx.part')));
  assert.ok(!fs.existsSync(path.join(dir, 'manifest.json')));
});

test('offline: the error names the ways forward', async () => {
  const dir = tmp();
  // Nothing listens on port 9 of loopback: the connection is refused at once, as offline would be.
  await assert.rejects(
    pullModels({ endpoint: 'http://127.0.0.1:9', packDir: dir, models: [model] }),
    (e: unknown) => e instanceof OfflineError && /OMNISEARCH_MODELS=tiny npm start/.test(e.message) && /models pull/.test(e.message),
  );
});
