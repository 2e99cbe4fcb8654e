import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../src/models/batcher.ts';
import { OmniError } from '../src/errors.ts';

test('concurrent calls are gathered into batches no larger than maxBatch, results in order', async () => {
  const sizes: number[] = [];
  const b = new Batcher(async (xs: number[]) => {
    sizes.push(xs.length);
    await new Promise((r) => setTimeout(r, 5));
    return xs.map((x) => x * 2);
  }, { name: 't', maxBatch: 4, maxWaitMs: 5, maxQueue: 100 });
  const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.run(i)));
  assert.deepEqual(out, Array.from({ length: 10 }, (_, i) => i * 2));
  assert.ok(sizes.every((s) => s <= 4), `batch sizes ${sizes}`);
  assert.ok(sizes.length < 10, `expected batching, got ${sizes.length} calls`);
  assert.equal(sizes.reduce((a, c) => a + c, 0), 10);
});

test('maxBatch 1 turns batching off', async () => {
  const sizes: number[] = [];
  const b = new Batcher(async (xs: number[]) => (sizes.push(xs.length), xs), { name: 't', maxBatch: 1, maxWaitMs: 0, maxQueue: 100 });
  await Promise.all([1, 2, 3].map((x) => b.run(x)));
  assert.deepEqual(sizes, [1, 1, 1]);
});

test('a full queue rejects with 503 queue_full and Retry-After instead of waiting', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const b = new Batcher(async (xs: number[]) => (await gate, xs), { name: 'slow', maxBatch: 1, maxWaitMs: 0, maxQueue: 2 });
  const first = b.run(0); // running
  const queued = [b.run(1), b.run(2)]; // waiting: queue full
  await assert.rejects(b.run(3), (e: unknown) => e instanceof OmniError && e.status === 503 && e.code === 'queue_full' && e.headers?.['Retry-After'] === '1');
  assert.equal(b.stats.rejected, 1);
  release();
  assert.deepEqual(await Promise.all([first, ...queued]), [0, 1, 2]);
});

test('a failing batch rejects every caller in it and the batcher keeps working', async () => {
  let fail = true;
  const b = new Batcher(async (xs: number[]) => {
    if (fail) throw new Error('boom');
    return xs;
  }, { name: 't', maxBatch: 8, maxWaitMs: 2, maxQueue: 100 });
  const rs = await Promise.allSettled([b.run(1), b.run(2)]);
  assert.ok(rs.every((r) => r.status === 'rejected'));
  fail = false;
  assert.equal(await b.run(3), 3);
});
