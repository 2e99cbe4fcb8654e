import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config.ts';

test('defaults', () => {
  const c = loadConfig({});
  assert.equal(c.PORT, 8080);
  assert.equal(c.OMNISEARCH_MODELS, 'real');
  assert.equal(c.OMNISEARCH_DEVICE, 'auto');
  assert.equal(c.dataDir, path.resolve('./data'));
  assert.equal(c.imageRoot, path.resolve('./data/images'));
  assert.equal(c.OMNISEARCH_DEMO, true);
});

test('values are coerced and validated', () => {
  const c = loadConfig({ PORT: '9000', OMNISEARCH_DEVICE: 'cpu', OMNISEARCH_DEMO: 'false', OMNISEARCH_DATA_DIR: '/tmp/x' });
  assert.equal(c.PORT, 9000);
  assert.equal(c.OMNISEARCH_DEVICE, 'cpu');
  assert.equal(c.OMNISEARCH_DEMO, false);
  assert.equal(c.imageRoot, '/tmp/x/images');
});

test('a bad value names every offending variable', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty', OMNISEARCH_DEVICE: 'gpu', OMNISEARCH_DEMO: 'maybe' }),
    (e: unknown) => e instanceof ConfigError && /PORT="eighty"/.test(e.message) && /OMNISEARCH_DEVICE="gpu"/.test(e.message) && /OMNISEARCH_DEMO/.test(e.message),
  );
});

test('per-model batching overrides are validated JSON', async () => {
  const { batching } = await import('../src/engine.ts');
  const c = loadConfig({ OMNISEARCH_BATCH_MAX: '8', OMNISEARCH_BATCHING: '{"clip-text":{"maxBatch":32,"maxWaitMs":4}}' });
  assert.deepEqual(batching(c, 'clip-text'), { name: 'clip-text', maxBatch: 32, maxWaitMs: 4, maxQueue: 256 });
  assert.deepEqual(batching(c, 'intent'), { name: 'intent', maxBatch: 8, maxWaitMs: 2, maxQueue: 256 });
  assert.throws(() => loadConfig({ OMNISEARCH_BATCHING: '{"clip":{}}' }), ConfigError);
  assert.throws(() => loadConfig({ OMNISEARCH_BATCHING: 'not json' }), ConfigError);
  assert.throws(() => loadConfig({ OMNISEARCH_BATCHING: '{"intent":{"maxBatch":0}}' }), ConfigError);
});
