/**
 * Evaluation metrics: ranked retrieval (Recall@k, MRR@k, nDCG@k), classification reports
 * (accuracy, per-class precision/recall/F1, macro/weighted F1, confusion matrix) and latency
 * percentiles.
 *
 * Conventions (all documented here so reports from different runs compare):
 * - Retrieval: `relevant` maps an id to a graded relevance; ids with relevance <= 0 and ids not in
 *   the map are irrelevant. A query with no relevant id scores 0 on every metric — callers should
 *   leave such queries out of a labelled set rather than let them drag the mean down.
 * - nDCG uses exponential gains (2^rel - 1) and the standard log2(rank + 1) discount (rank 1-based),
 *   normalised by the DCG of the ideal ordering of all judged relevant ids (truncated at k). With
 *   binary relevance (rel = 1) the gain is 1, the same as linear gains.
 * - Classification: a ratio whose denominator is 0 (precision of a never-predicted class, recall of
 *   a class with no support, F1 when both are 0) is 0, as scikit-learn's zero_division=0. Macro F1
 *   averages over the labels that occur in yTrue or yPred (scikit-learn's default label set):
 *   a label seen in neither has no defined score and is left out rather than counted as 0.
 * - Percentiles: linear interpolation between closest ranks (numpy's default "linear" method).
 */

// ---------------------------------------------------------------- retrieval

function isRelevant(relevant: Record<string, number>, id: string): boolean {
  return (relevant[id] ?? 0) > 0;
}

function relevantCount(relevant: Record<string, number>): number {
  return Object.values(relevant).filter((r) => r > 0).length;
}

/** Share of the relevant ids found in the first k results. */
export function recallAtK(ranked: readonly string[], relevant: Record<string, number>, k: number): number {
  const total = relevantCount(relevant);
  if (total === 0) return 0;
  const seen = new Set<string>();
  for (const id of ranked.slice(0, k)) if (isRelevant(relevant, id)) seen.add(id);
  return seen.size / total;
}

/** Reciprocal rank of the first relevant id within the first k results, else 0. */
export function mrrAtK(ranked: readonly string[], relevant: Record<string, number>, k: number): number {
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) if (isRelevant(relevant, ranked[i]!)) return 1 / (i + 1);
  return 0;
}

const gain = (rel: number): number => 2 ** rel - 1;
const discount = (rank0: number): number => Math.log2(rank0 + 2);

/** Normalised discounted cumulative gain at k with graded relevance (2^rel - 1 gains). */
export function ndcgAtK(ranked: readonly string[], relevant: Record<string, number>, k: number): number {
  const ideal = Object.values(relevant)
    .filter((r) => r > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  let idcg = 0;
  ideal.forEach((r, i) => (idcg += gain(r) / discount(i)));
  if (idcg === 0) return 0;
  let dcg = 0;
  const seen = new Set<string>();
  ranked.slice(0, k).forEach((id, i) => {
    if (seen.has(id)) return; // a duplicated id earns its gain once
    seen.add(id);
    const r = relevant[id] ?? 0;
    if (r > 0) dcg += gain(r) / discount(i);
  });
  return dcg / idcg;
}

/** The usual per-query set: recall@k for each k, plus mrr@depth and ndcg@depth (depth default 10). */
export function retrievalMetrics(
  ranked: readonly string[],
  relevant: Record<string, number>,
  opts: { ks?: number[]; depth?: number } = {},
): Record<string, number> {
  const depth = opts.depth ?? 10;
  const out: Record<string, number> = {};
  for (const k of opts.ks ?? [1, 5, 10]) out[`recall@${k}`] = recallAtK(ranked, relevant, k);
  out[`mrr@${depth}`] = mrrAtK(ranked, relevant, depth);
  out[`ndcg@${depth}`] = ndcgAtK(ranked, relevant, depth);
  return out;
}

/** Mean of each metric over the queries that report it; `n` says how many did. */
export function aggregate(rows: readonly Record<string, number>[]): Record<string, { mean: number; n: number }> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const row of rows) {
    for (const [key, v] of Object.entries(row)) {
      if (!Number.isFinite(v)) continue;
      const s = sums.get(key) ?? { sum: 0, n: 0 };
      s.sum += v;
      s.n++;
      sums.set(key, s);
    }
  }
  const out: Record<string, { mean: number; n: number }> = {};
  for (const [key, { sum, n }] of sums) out[key] = { mean: sum / n, n };
  return out;
}

// ---------------------------------------------------------------- classification

export interface ClassReport {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of true examples of this class. */
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  macroF1: number;
  weightedF1: number;
  perClass: ClassReport[];
  /** confusion[trueIndex][predictedIndex] = count. */
  confusion: number[][];
  labels: string[];
  total: number;
}

const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den);

export function classificationReport(yTrue: readonly number[], yPred: readonly number[], labels: readonly string[]): ClassificationReport {
  if (yTrue.length !== yPred.length) throw new Error(`classificationReport: ${yTrue.length} true labels but ${yPred.length} predictions`);
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (!(Number.isInteger(t) && t >= 0 && t < k && Number.isInteger(p) && p >= 0 && p < k)) {
      throw new Error(`classificationReport: label index out of range at ${i} (true ${t}, predicted ${p}, ${k} labels)`);
    }
    confusion[t]![p]!++;
  }
  const total = yTrue.length;
  let correct = 0;
  const perClass: ClassReport[] = labels.map((label, c) => {
    const tp = confusion[c]![c]!;
    correct += tp;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    return { label, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const present = perClass.filter((_, c) => perClass[c]!.support > 0 || confusion.some((row) => row[c]! > 0));
  const macroF1 = ratio(
    present.reduce((a, r) => a + r.f1, 0),
    present.length,
  );
  const weightedF1 = ratio(
    perClass.reduce((a, r) => a + r.f1 * r.support, 0),
    total,
  );
  return { accuracy: ratio(correct, total), macroF1, weightedF1, perClass, confusion, labels: [...labels], total };
}

const fmt = (v: number): string => v.toFixed(4);
const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The report as Markdown: summary line, per-class table, confusion matrix (rows true, columns predicted). */
export function reportToMarkdown(report: ClassificationReport): string {
  const lines: string[] = [];
  lines.push(`Accuracy **${fmt(report.accuracy)}** · macro-F1 **${fmt(report.macroF1)}** · weighted-F1 **${fmt(report.weightedF1)}** · ${report.total} examples`, '');
  lines.push('| label | precision | recall | f1 | support |', '| --- | ---: | ---: | ---: | ---: |');
  for (const r of report.perClass) lines.push(`| ${cell(r.label)} | ${fmt(r.precision)} | ${fmt(r.recall)} | ${fmt(r.f1)} | ${r.support} |`);
  lines.push('', 'Confusion matrix (rows: true label, columns: predicted label)', '');
  lines.push(`| true \\ predicted | ${report.labels.map(cell).join(' | ')} |`, `| --- |${' ---: |'.repeat(report.labels.length)}`);
  report.confusion.forEach((row, i) => lines.push(`| ${cell(report.labels[i]!)} | ${row.join(' | ')} |`));
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- latency

/** Percentiles keyed `p50`, `p90`, ... (linear interpolation; NaN for an empty sample). */
export function percentiles(values: readonly number[], ps: readonly number[] = [50, 90, 95, 99]): Record<string, number> {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const out: Record<string, number> = {};
  for (const p of ps) {
    if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p} is outside [0, 100]`);
    if (sorted.length === 0) {
      out[`p${p}`] = NaN;
      continue;
    }
    const rank = (p / 100) * (sorted.length - 1);
    const lo = Math.floor(rank);
    const hi = Math.ceil(rank);
    out[`p${p}`] = sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
  }
  return out;
}
