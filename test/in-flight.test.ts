import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlight } from '../src/util/in-flight.ts';

test('drained() waits for every tracked call, including failing ones', async () => {
  const f = new InFlight();
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const a = f.track(async () => (await gate, order.push('a done')));
  const b = f.track(async () => (await gate, Promise.reject(new Error('boom'))));
  const drained = f.drained().then(() => order.push('drained'));
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(order, []);
  release();
  await a;
  await assert.rejects(b, /boom/);
  await drained;
  assert.deepEqual(order, ['a done', 'drained']);
  await f.drained(); // nothing in flight: resolves at once
});
