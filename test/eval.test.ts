import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { runEvalCli } from '../src/eval/run.ts';
import { readQrels } from '../src/eval/qrels.ts';
import { runTrainFusionCli } from '../src/training/train-fusion.ts';
import { makeSpeechFixtures } from './fixtures/make-audio.ts';
import { postJson, smallCatalogProducts, solidPng, startTestServer, tinyPack, tmpDir } from './helpers/server.ts';

// The tiny pack's scores mean nothing; this checks that eval runs every modality end to end,
// reports lexical/vector/hybrid side by side, and that train-fusion writes a head the server loads.
test('eval prints and writes a table for every modality; train-fusion writes a head the server loads', { timeout: 180_000 }, async () => {
  const pack = await tinyPack();
  const dataDir = tmpDir('omni-eval-');
  const s = await startTestServer({}, dataDir);
  await postJson(`${s.url}/v1/products`, await smallCatalogProducts());
  await s.close();

  const dir = tmpDir('omni-qrels-');
  fs.writeFileSync(path.join(dir, 'red.png'), await solidPng('#c81818', 120));
  const speech = await makeSpeechFixtures(tmpDir('omni-speech-'));
  fs.copyFileSync(speech.wav_44k_stereo_s16, path.join(dir, 'q.wav'));
  const lines = [
    { id: 't1', text: 'WH-1000XM5', relevant: { p5: 3 } },
    { id: 't2', text: 'red running shoes', relevant: { p1: 3, p6: 3, p3: 1 } },
    { id: 't3', text: '跑鞋', relevant: { p6: 3, p1: 2 } },
    { id: 'i1', image: 'red.png', relevant: { p1: 2, p3: 2, p6: 2 } },
    { id: 'v1', audio: 'q.wav', relevant: { p1: 3, p6: 3 } },
    { id: 'm1', image: 'red.png', text: 'shoes', relevant: { p1: 3, p6: 3 } },
  ];
  const qrels = path.join(dir, 'qrels.jsonl');
  fs.writeFileSync(qrels, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  assert.deepEqual(readQrels(qrels).queries.map((q) => q.modality), ['text', 'text', 'text', 'image', 'voice', 'mixed']);

  const config = loadConfig({ OMNISEARCH_MODELS: pack, OMNISEARCH_DATA_DIR: dataDir, OMNISEARCH_THREADS: '1' });
  const out = tmpDir('omni-evalout-');
  const write = process.stdout.write.bind(process.stdout);
  let printed = '';
  process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
  try {
    await runEvalCli(['--qrels', qrels, '--out', out], config);
  } finally {
    process.stdout.write = write;
  }
  for (const row of ['| text |', '| image |', '| voice |', '| mixed |', '| text (lexical only) |', '| text (vector only) |', '| overall |']) assert.ok(printed.includes(row), row);
  assert.match(printed, /random weights/);
  const report = JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8'));
  const byName = Object.fromEntries(report.rows.map((r: { name: string }) => [r.name, r]));
  // The SKU query is found first by the lexical retriever whatever the random vectors say.
  assert.ok(byName['text (lexical only)'].metrics['recall@1'] >= 1 / 3);
  assert.ok(byName.voice.latency.stt.p50 > 0);
  for (const r of report.rows) for (const v of Object.values(r.metrics)) assert.ok((v as number) >= 0 && (v as number) <= 1);

  // train-fusion on the same labelled queries (duplicated so there are enough pairs to split).
  const pairs = path.join(dir, 'pairs.jsonl');
  fs.writeFileSync(pairs, Array.from({ length: 4 }, () => lines.map((l) => JSON.stringify(l))).flat().join('\n') + '\n');
  process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
  try {
    await runTrainFusionCli(['--data', pairs, '--epochs', '3', '--seed', '1'], config);
  } finally {
    process.stdout.write = write;
  }
  assert.ok(fs.existsSync(path.join(dataDir, 'models', 'fusion', 'model.onnx')));
  assert.match(fs.readFileSync(path.join(dataDir, 'models', 'fusion', 'report.md'), 'utf8'), /untrained/);
  const s2 = await startTestServer({}, dataDir);
  try {
    const ready = await (await fetch(`${s2.url}/readyz`)).json();
    const fusion = ready.models.find((m: { role: string }) => m.role === 'fusion');
    assert.match(fusion.file, /models\/fusion\/model\.onnx$/);
    assert.equal((await postJson(`${s2.url}/v1/search`, { text: 'shoes', k: 3 })).status, 200);
  } finally {
    await s2.close();
  }
});
