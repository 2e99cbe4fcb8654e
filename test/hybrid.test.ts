import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blendScores, reciprocalRankFusion, RRF_K } from '../src/search/hybrid.ts';

test('reciprocal rank fusion on hand-made lists', () => {
  const vector = [{ id: 'a', score: 0.9 }, { id: 'b', score: 0.8 }, { id: 'c', score: 0.7 }];
  const lexical = [{ id: 'c', score: 12 }, { id: 'd', score: 3 }];
  const fused = reciprocalRankFusion(vector, lexical);
  const score = Object.fromEntries(fused.map((h) => [h.id, h.score]));
  // c: rank 3 in vector, rank 1 in lexical -> 1/63 + 1/61
  assert.ok(Math.abs(score.c - (1 / (RRF_K + 3) + 1 / (RRF_K + 1))) < 1e-12);
  assert.ok(Math.abs(score.a - 1 / (RRF_K + 1)) < 1e-12);
  assert.ok(Math.abs(score.d - 1 / (RRF_K + 2)) < 1e-12);
  // b (vector rank 2) and d (lexical rank 2) tie at 1/62: the id breaks the tie.
  assert.deepEqual(fused.map((h) => h.id), ['c', 'a', 'b', 'd']);
  const c = fused[0];
  assert.deepEqual(c.vector, { rank: 3, score: 0.7 });
  assert.deepEqual(c.lexical, { rank: 1, score: 12 });
  assert.equal(fused.find((h) => h.id === 'd')!.vector, null);
});

test('blend min-max normalises each list and weighs by alpha', () => {
  const vector = [{ id: 'a', score: 0.9 }, { id: 'b', score: 0.5 }];
  const lexical = [{ id: 'b', score: 10 }, { id: 'c', score: 0 }];
  const v = blendScores(vector, lexical, 1);
  assert.deepEqual(v.map((h) => [h.id, h.score]), [['a', 1], ['b', 0], ['c', 0]]);
  const l = blendScores(vector, lexical, 0);
  assert.equal(l[0].id, 'b');
  const half = Object.fromEntries(blendScores(vector, lexical, 0.5).map((h) => [h.id, h.score]));
  assert.equal(half.a, 0.5);
  assert.equal(half.b, 0.5);
  assert.equal(half.c, 0);
});

test('ties are broken by id so order is stable', () => {
  const fused = reciprocalRankFusion([], [{ id: 'z', score: 1 }]).concat(reciprocalRankFusion([{ id: 'y', score: 1 }], []));
  assert.equal(fused.length, 2);
  const again = reciprocalRankFusion([{ id: 'b', score: 1 }, { id: 'a', score: 1 }], [{ id: 'a', score: 1 }, { id: 'b', score: 1 }]);
  assert.deepEqual(again.map((h) => h.id), ['a', 'b']);
});
