import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { buildPack } from '../src/models/build/pack.ts';
import { postJson, startTestServer, tmpDir } from './helpers/server.ts';

test('OMNISEARCH_MODEL_VARIANT=fp16 loads the fp16 exports, and falls back to fp32 where a pack has none', async () => {
  const withFp16 = path.join(tmpDir('omni-fp16-'), 'tiny');
  await buildPack({ preset: 'tiny', outDir: withFp16, fp16: true });
  const s = await startTestServer({ OMNISEARCH_MODELS: withFp16, OMNISEARCH_MODEL_VARIANT: 'fp16' });
  try {
    const ready = await (await fetch(`${s.url}/readyz`)).json();
    const byRole = Object.fromEntries(ready.models.map((m: { role: string; variant: string; file: string }) => [m.role, m]));
    for (const role of ['clip-text', 'clip-vision', 'intent', 'whisper-encoder', 'whisper-decoder']) {
      assert.equal(byRole[role].variant, 'fp16', role);
      assert.match(byRole[role].file, /_fp16\.onnx$/, role);
    }
    const r = await postJson(`${s.url}/v1/understand`, { text: 'red shoes' });
    assert.equal(r.status, 200);
  } finally {
    await s.close();
  }
  const fallback = await startTestServer({ OMNISEARCH_MODEL_VARIANT: 'quantized' });
  try {
    const ready = await (await fetch(`${fallback.url}/readyz`)).json();
    for (const m of ready.models) assert.equal(m.variant, 'fp32', m.role);
  } finally {
    await fallback.close();
  }
});
