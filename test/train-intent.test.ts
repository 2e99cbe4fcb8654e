import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { IntentModel } from '../src/models/intent.ts';
import { readManifest } from '../src/models/registry.ts';
import { loadSplits, trainIntent } from '../src/training/train-intent.ts';
import { postJson, startTestServer, tinyPack, tmpDir } from './helpers/server.ts';

// With the tiny random-weight encoder the accuracy means nothing; these tests check the plumbing:
// splits, the pack layout, the report, determinism, and that a server serves the new labels.
const LABELS = ['greeting', 'shipping', 'refund'];
function writeData(file: string): void {
  const templates: Record<string, string[]> = {
    greeting: ['hello there', 'hi', 'good morning', 'hey how are you', '你好', 'hello friend', 'hi team', 'good evening'],
    shipping: ['where is my parcel', 'when will my order arrive', 'track my delivery', '我的快递到哪了', 'shipping status please', 'is my package late', 'delivery date', 'order tracking'],
    refund: ['i want my money back', 'refund my order', 'return this item', '我要退款', 'how do i return shoes', 'refund status', 'send it back', 'money back please'],
  };
  const lines = Object.entries(templates).flatMap(([label, ts]) => ts.flatMap((t, i) => [t, `${t} ${i}`, `please ${t}`].map((text) => JSON.stringify({ text, label }))));
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

test('a single file is split per label, deterministically, with every label in every split', () => {
  const file = path.join(tmpDir('omni-ti-'), 'q.jsonl');
  writeData(file);
  const a = loadSplits(file, 7);
  const b = loadSplits(file, 7);
  assert.deepEqual(a, b);
  for (const split of [a.train, a.val, a.test]) assert.deepEqual([...new Set(split.map((q) => q.label))].sort(), [...LABELS].sort());
  const texts = [a.train, a.val, a.test].map((s) => new Set(s.map((q) => q.text)));
  for (const t of texts[0]!) assert.ok(!texts[1]!.has(t) && !texts[2]!.has(t));
  assert.equal(a.train.length + a.val.length + a.test.length, 72);
});

test('train-intent writes a loadable intent pack and a report; the server serves the new labels after reload', async () => {
  const pack = await tinyPack();
  const data = path.join(tmpDir('omni-ti-'), 'q.jsonl');
  writeData(data);
  const server = await startTestServer();
  try {
    const out = path.join(server.dataDir, 'models', 'intent');
    const rt = { device: 'cpu' as const, threads: 1 };
    const encoderDir = path.join(pack, readManifest(pack).models.bert!.dir);
    const report = await trainIntent({ data, encoderDir, out, seed: 3, epochs: 5, rt });
    assert.deepEqual(report.sizes, { train: 48, val: 12, test: 12 });
    assert.deepEqual(report.labels, [...LABELS].sort());
    assert.equal(report.test.perClass.length, 3);
    assert.equal(report.test.confusion.flat().reduce((a, b) => a + b, 0), 12);
    for (const f of ['config.json', 'onnx/head.onnx', 'report.json', 'report.md']) assert.ok(fs.existsSync(path.join(out, f)), f);
    assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /macro/i);

    const again = await trainIntent({ data, encoderDir, out: path.join(tmpDir('omni-ti-'), 'intent'), seed: 3, epochs: 5, rt });
    assert.deepEqual(again.test, report.test, 'deterministic for a seed');

    const model = await IntentModel.loadHead(out, rt);
    const [r] = await model.classify(['where is my parcel']);
    assert.ok(LABELS.includes(r!.label));
    const total = r!.confidence + r!.alternatives.reduce((a, x) => a + x.confidence, 0);
    assert.ok(Math.abs(total - 1) < 1e-5);

    const before = await postJson(`${server.url}/v1/understand`, { text: 'where is my parcel' });
    assert.ok(!LABELS.includes(before.body.intent.label), 'still the pack intent model before reload');
    const reload = await postJson(`${server.url}/v1/admin/reload`, {});
    assert.equal(reload.status, 200);
    assert.deepEqual(reload.body.intent.labels, [...LABELS].sort());
    const after = await postJson(`${server.url}/v1/understand`, { text: 'where is my parcel' });
    assert.ok(LABELS.includes(after.body.intent.label), after.body.intent.label);
    assert.equal(after.body.route.route, 'search', 'unknown labels route to search');
  } finally {
    await server.close();
  }
});
