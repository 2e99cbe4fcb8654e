import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, smallCatalogProducts, startTestServer, tmpDir } from './helpers/server.ts';

test('after a restart the same query returns the same ids; writes made just before the stop are kept', async () => {
  const dataDir = tmpDir('omni-persist-');
  const a = await startTestServer({}, dataDir);
  await postJson(`${a.url}/v1/products`, await smallCatalogProducts());
  await fetch(`${a.url}/v1/products/p8`, { method: 'DELETE' });
  const before = await postJson(`${a.url}/v1/search`, { text: 'red shoes', k: 5 });
  await a.close();

  const b = await startTestServer({}, dataDir);
  try {
    const after = await postJson(`${b.url}/v1/search`, { text: 'red shoes', k: 5 });
    assert.deepEqual(after.body.results.map((x: { id: string }) => x.id), before.body.results.map((x: { id: string }) => x.id));
    const ready = await (await fetch(`${b.url}/readyz`)).json();
    assert.equal(ready.index.size, 7);
    assert.equal((await fetch(`${b.url}/v1/products/p8`)).status, 404);
  } finally {
    await b.close();
  }
});
