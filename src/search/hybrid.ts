/**
 * Merging the vector and lexical result lists.
 *
 * Reciprocal rank fusion (default): score = sum over lists of 1 / (K + rank), K = 60 as in
 * Cormack et al. 2009. It needs no score calibration, which matters because cosine similarities
 * and BM25 scores live on unrelated scales.
 * Blend (`hybrid: {alpha}`): alpha * vector + (1 - alpha) * lexical, each min-max normalised
 * within its own list; a hit missing from a list contributes 0 there.
 */
export const RRF_K = 60;

export interface RankedHit {
  id: string;
  score: number;
}

export interface FusedHit {
  id: string;
  score: number;
  vector: { rank: number; score: number } | null;
  lexical: { rank: number; score: number } | null;
}

export function reciprocalRankFusion(vector: RankedHit[], lexical: RankedHit[], k = RRF_K): FusedHit[] {
  const out = merge(vector, lexical);
  for (const h of out) h.score = (h.vector ? 1 / (k + h.vector.rank) : 0) + (h.lexical ? 1 / (k + h.lexical.rank) : 0);
  return sortHits(out);
}

export function blendScores(vector: RankedHit[], lexical: RankedHit[], alpha: number): FusedHit[] {
  const nv = minMax(vector);
  const nl = minMax(lexical);
  const out = merge(vector, lexical);
  for (const h of out) h.score = alpha * (nv.get(h.id) ?? 0) + (1 - alpha) * (nl.get(h.id) ?? 0);
  return sortHits(out);
}

/** Ranks are 1-based, in list order. */
function merge(vector: RankedHit[], lexical: RankedHit[]): FusedHit[] {
  const byId = new Map<string, FusedHit>();
  const get = (id: string) => {
    let h = byId.get(id);
    if (!h) byId.set(id, (h = { id, score: 0, vector: null, lexical: null }));
    return h;
  };
  vector.forEach((h, i) => (get(h.id).vector = { rank: i + 1, score: h.score }));
  lexical.forEach((h, i) => (get(h.id).lexical = { rank: i + 1, score: h.score }));
  return [...byId.values()];
}

function minMax(hits: RankedHit[]): Map<string, number> {
  if (hits.length === 0) return new Map();
  const scores = hits.map((h) => h.score);
  const lo = Math.min(...scores);
  const span = Math.max(...scores) - lo;
  // One hit, or all equal: each is the best of its list.
  return new Map(hits.map((h) => [h.id, span > 0 ? (h.score - lo) / span : 1]));
}

// Ties broken by id so equal scores order the same way on every run.
const sortHits = (hits: FusedHit[]) => hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
