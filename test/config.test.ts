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
