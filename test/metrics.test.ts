import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aggregate,
  classificationReport,
  mrrAtK,
  ndcgAtK,
  percentiles,
  recallAtK,
  reportToMarkdown,
  retrievalMetrics,
} from '../src/eval/metrics.ts';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// Ranking a b c d e; relevant: b (grade 2), d (grade 1), x (grade 1, never retrieved), c judged 0.
const ranked = ['a', 'b', 'c', 'd', 'e'];
const relevant = { b: 2, d: 1, x: 1, c: 0 };

test('recall@k counts the share of relevant ids in the top k', () => {
  close(recallAtK(ranked, relevant, 1), 0); // a is not relevant
  close(recallAtK(ranked, relevant, 3), 1 / 3); // b of {b, d, x}; c has grade 0
  close(recallAtK(ranked, relevant, 5), 2 / 3); // b, d
  close(recallAtK(ranked, relevant, 100), 2 / 3); // x is never retrieved
  close(recallAtK(['d', 'd', 'd'], relevant, 3), 1 / 3); // a duplicated hit counts once
  close(recallAtK(ranked, {}, 5), 0); // no relevant ids: 0 by convention
});

test('MRR@k is the reciprocal rank of the first relevant id within k', () => {
  close(mrrAtK(ranked, relevant, 10), 1 / 2); // b at rank 2
  close(mrrAtK(ranked, relevant, 1), 0); // cut before b
  close(mrrAtK(['p', 'q', 'r'], { r: 1 }, 10), 1 / 3);
  close(mrrAtK(['p', 'q'], { r: 1 }, 10), 0);
});

test('nDCG@10 with 2^rel - 1 gains and log2 discounts', () => {
  // DCG  = (2^2 - 1) / log2(3) [b at rank 2] + (2^1 - 1) / log2(5) [d at rank 4] = 1.892789 + 0.430677 = 2.323466
  // IDCG = 3 / log2(2) + 1 / log2(3) + 1 / log2(4)  [ideal order b, d, x]         = 3 + 0.630930 + 0.5 = 4.130930
  // nDCG = 2.323466 / 4.130930 = 0.562456
  close(ndcgAtK(ranked, relevant, 10), 0.562456, 1e-6);
  // Binary relevance at rank 3: (1 / log2(4)) / (1 / log2(2)) = 0.5
  close(ndcgAtK(['p', 'q', 'r'], { r: 1 }, 10), 0.5);
  close(ndcgAtK(['b', 'd', 'x'], relevant, 10), 1); // the ideal order
  close(ndcgAtK(['d', 'b', 'x'], relevant, 10), (1 + 3 / Math.log2(3) + 1 / 2) / (3 + 1 / Math.log2(3) + 1 / 2));
  close(ndcgAtK(ranked, {}, 10), 0);
  // @1 normalises by the ideal top-1 only: a at rank 1 is irrelevant.
  close(ndcgAtK(ranked, relevant, 1), 0);
  close(ndcgAtK(['b', 'b'], { b: 1, c: 1 }, 10), 1 / (1 + 1 / Math.log2(3))); // the repeated b earns nothing
});

test('retrievalMetrics and aggregate', () => {
  const m = retrievalMetrics(ranked, relevant);
  assert.deepEqual(Object.keys(m), ['recall@1', 'recall@5', 'recall@10', 'mrr@10', 'ndcg@10']);
  close(m['mrr@10']!, 0.5);
  const agg = aggregate([{ a: 1, b: 0 }, { a: 0 }, { a: 0.5, b: NaN }]);
  assert.deepEqual(agg, { a: { mean: 0.5, n: 3 }, b: { mean: 0, n: 1 } });
});

test('classification report on a hand-made confusion matrix', () => {
  // rows = true, columns = predicted         cat dog bird fish
  const confusion = [
    [5, 1, 0, 0], // cat   support 6
    [2, 3, 1, 0], // dog   support 6
    [0, 0, 4, 0], // bird  support 4
    [0, 0, 0, 0], // fish  never seen, never predicted
  ];
  const labels = ['cat', 'dog', 'bird', 'fish'];
  const yTrue: number[] = [];
  const yPred: number[] = [];
  confusion.forEach((row, t) => row.forEach((n, p) => {
    for (let i = 0; i < n; i++) {
      yTrue.push(t);
      yPred.push(p);
    }
  }));
  const r = classificationReport(yTrue, yPred, labels);
  assert.deepEqual(r.confusion, confusion);
  close(r.accuracy, 12 / 16);
  // cat:  P = 5 / (5 + 2) = 0.714286, R = 5 / 6 = 0.833333, F1 = 2tp / (2tp + fp + fn) = 10 / 13
  // dog:  P = 3 / (1 + 3) = 0.75,     R = 3 / 6 = 0.5,      F1 = 6 / (6 + 1 + 3) = 0.6
  // bird: P = 4 / (1 + 4) = 0.8,      R = 4 / 4 = 1,        F1 = 8 / (8 + 1 + 0) = 0.888889
  // fish: no support, never predicted: all 0, and left out of the macro average.
  const expected = [
    ['cat', 5 / 7, 5 / 6, 10 / 13, 6],
    ['dog', 3 / 4, 1 / 2, 0.6, 6],
    ['bird', 4 / 5, 1, 8 / 9, 4],
    ['fish', 0, 0, 0, 0],
  ] as const;
  expected.forEach(([label, p, rec, f1, support], i) => {
    const c = r.perClass[i]!;
    assert.equal(c.label, label);
    close(c.precision, p);
    close(c.recall, rec);
    close(c.f1, f1);
    assert.equal(c.support, support);
  });
  close(r.macroF1, (10 / 13 + 0.6 + 8 / 9) / 3); // 0.752707
  close(r.weightedF1, (6 * (10 / 13) + 6 * 0.6 + 4 * (8 / 9)) / 16); // 0.735684

  // A label that is predicted but never true counts in the macro average with F1 0.
  const r2 = classificationReport([0, 0, 1], [0, 2, 1], ['a', 'b', 'c']);
  close(r2.perClass[2]!.precision, 0);
  close(r2.macroF1, (2 / 3 + 1 + 0) / 3); // a: P 1, R 0.5 -> F1 2/3; b: 1; c: 0

  const md = reportToMarkdown(r);
  assert.match(md, /\| cat \| 0\.7143 \| 0\.8333 \| 0\.7692 \| 6 \|/);
  assert.match(md, /\| dog \| 2 \| 3 \| 1 \| 0 \|/);
  assert.match(md, /macro-F1 \*\*0\.7527\*\*/);
  assert.throws(() => classificationReport([0], [5], labels), /out of range/);
  assert.throws(() => classificationReport([0, 1], [0], labels), /predictions/);
});

test('percentiles interpolate linearly between closest ranks', () => {
  const values = [7, 3, 10, 1, 5, 9, 2, 8, 4, 6]; // 1..10, unsorted
  // rank = p/100 * (n - 1): p50 -> 4.5 -> 5.5; p90 -> 8.1 -> 9.1; p95 -> 8.55 -> 9.55; p99 -> 8.91 -> 9.91
  const p = percentiles(values);
  close(p.p50!, 5.5);
  close(p.p90!, 9.1);
  close(p.p95!, 9.55);
  close(p.p99!, 9.91);
  assert.deepEqual(percentiles(values, [0, 100]), { p0: 1, p100: 10 });
  assert.deepEqual(percentiles([42], [50, 99]), { p50: 42, p99: 42 });
  assert.ok(Number.isNaN(percentiles([], [50]).p50));
  assert.deepEqual(values, [7, 3, 10, 1, 5, 9, 2, 8, 4, 6], 'input not mutated');
  assert.throws(() => percentiles(values, [101]));
});
