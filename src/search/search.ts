import type { SearchFilters } from '../catalog/types.ts';
import type { DecodedImage } from '../media/types.ts';
import { badRequest } from '../errors.ts';
import { mergeFilters, type QueryUnderstanding } from '../understanding/understand.ts';
import { blendScores, reciprocalRankFusion, type FusedHit } from './hybrid.ts';
import { StageTimer } from './timings.ts';

export interface SearchRequest {
  text?: string;
  image?: Uint8Array;
  audio?: Uint8Array;
  k: number;
  filters?: SearchFilters;
  /** Per-part weights; default 1 each. */
  weights?: { text?: number; image?: number };
  /** Negative text: results are pushed away from its embedding. */
  not?: string;
  language?: string;
  ef?: number;
  /**
   * Lexical + vector merging for text queries: rrf (default), blend with alpha, off (vector
   * only) or lexical (BM25 only; for evaluation and exact-match use).
   */
  hybrid?: { mode?: 'rrf' | 'blend' | 'off' | 'lexical'; alpha?: number };
}

export interface StoredEmbeddings {
  text: Float32Array;
  image: Float32Array | null;
  vector: Float32Array;
}

/** Everything search needs, as functions: the engine supplies them, tests can too. */
export interface SearchDeps {
  decodeImage(bytes: Uint8Array): Promise<DecodedImage>;
  decodeAudio(bytes: Uint8Array): Promise<{ samples: Float32Array; durationMs: number; silent: boolean }>;
  transcribe(samples: Float32Array, language: string | undefined): Promise<{ text: string; language: string }>;
  understand(text: string): Promise<QueryUnderstanding>;
  embedText(text: string): Promise<Float32Array>;
  embedImage(image: DecodedImage): Promise<Float32Array>;
  fuse(parts: { text: Float32Array | null; image: Float32Array | null; weights: { text: number; image: number } }): Promise<Float32Array>;
  annSearch(vector: Float32Array, k: number, opts: { ef?: number; filter?: SearchFilters }): { id: string; score: number }[];
  lexicalSearch(text: string, opts: { k: number; filters?: SearchFilters }): { id: string; score: number; matchedSku: boolean }[];
  hydrate(ids: string[]): Map<string, unknown>;
  embeddings(id: string): StoredEmbeddings | undefined;
  /** The CLIP text encoder reads English only (the default ViT-B/32): Chinese queries embed their concepts in English. */
  englishOnlyText?: boolean;
  onStage?: (stage: string, ms: number) => void;
}

/** How hard `not` pushes: q' = normalise(q - NOT_WEIGHT * e(not)). */
export const NOT_WEIGHT = 0.5;

export interface SearchResult {
  id: string;
  score: number;
  product: unknown;
  explain: {
    vector: { rank: number; score: number } | null;
    lexical: { rank: number; score: number } | null;
    matchedSku: boolean;
    textSimilarity: number | null;
    imageSimilarity: number | null;
  };
}

export interface SearchResponse {
  results: SearchResult[];
  query: {
    text: string | null;
    transcript: string | null;
    language: string | null;
    understanding: QueryUnderstanding | null;
    filters: SearchFilters;
    parts: { text: PartInfo; image: PartInfo; audio: PartInfo; not: PartInfo };
    k: number;
    hybrid: 'rrf' | 'blend' | 'off' | 'lexical' | 'vector_only';
  };
  timings: Record<string, number>;
}

interface PartInfo {
  used: boolean;
  weight: number | null;
}

/**
 * One search, stage by stage: decode -> stt -> understand -> embed -> fuse -> ann (+ lexical)
 * -> hydrate. Each stage is timed; the response explains which parts were used and why each
 * result is where it is.
 */
export async function runSearch(req: SearchRequest, deps: SearchDeps): Promise<SearchResponse> {
  const t = new StageTimer();
  t.onStage = deps.onStage;
  const text = req.text?.trim() || undefined;
  if (!text && !req.image && !req.audio) throw badRequest('empty_query', 'give at least one of text, image or audio');

  const [image, audio] = await t.time('decode', () =>
    Promise.all([req.image ? deps.decodeImage(req.image) : null, req.audio ? deps.decodeAudio(req.audio) : null]),
  );

  let transcript: string | null = null;
  let language: string | null = req.language && req.language !== 'auto' ? req.language : null;
  if (audio) {
    if (audio.silent) {
      // Silence is an answer, not an error: empty transcript, and no results unless other parts exist.
      transcript = '';
    } else {
      const stt = await t.time('stt', () => deps.transcribe(audio.samples, req.language));
      transcript = stt.text.trim();
      language = stt.language;
    }
  }

  const queryText = [text, transcript].filter(Boolean).join(' ').trim();
  const understanding = queryText ? await t.time('understand', () => deps.understand(queryText)) : null;
  const filters = mergeFilters(understanding?.filters ?? {}, req.filters);
  const embedText = clipTextOf(understanding, queryText, deps.englishOnlyText ?? false);

  const wText = req.weights?.text ?? 1;
  const wImage = req.weights?.image ?? 1;
  const emptyParts = !embedText && !image;
  const parts = {
    text: { used: !!embedText, weight: embedText ? wText : null },
    image: { used: !!image, weight: image ? wImage : null },
    audio: { used: !!audio, weight: null },
    not: { used: !!req.not?.trim(), weight: req.not?.trim() ? NOT_WEIGHT : null },
  };
  const base = {
    text: text ?? null,
    transcript,
    language,
    understanding,
    filters,
    parts,
    k: req.k,
  };
  if (emptyParts) return { results: [], query: { ...base, hybrid: 'off' }, timings: t.total() };

  const [qText, qImage, qNot] = await t.time('embed', () =>
    Promise.all([
      embedText ? deps.embedText(embedText) : null,
      image ? deps.embedImage(image) : null,
      req.not?.trim() ? deps.embedText(req.not.trim()) : null,
    ]),
  );
  let query = await t.time('fuse', () => deps.fuse({ text: qText, image: qImage, weights: { text: wText, image: wImage } }));
  if (qNot) query = normalise(query.map((v, i) => v - NOT_WEIGHT * qNot[i]));

  // Fetch more than k from each retriever so the merged top k is not starved by one list.
  const depth = Math.min(Math.max(req.k * 3, 30), 300);
  const mode = req.hybrid?.mode ?? 'rrf';
  const vectorHits = mode === 'lexical' ? [] : await t.time('ann', () => deps.annSearch(query, depth, { ef: req.ef, filter: filters }));
  const lexicalText = queryText;
  const useLexical = !!lexicalText && mode !== 'off';
  const lexicalHits = useLexical ? await t.time('lexical', () => deps.lexicalSearch(lexicalText, { k: depth, filters })) : [];

  let fused: FusedHit[] =
    mode === 'blend' ? blendScores(vectorHits, lexicalHits, req.hybrid?.alpha ?? 0.5) : reciprocalRankFusion(vectorHits, lexicalHits);
  if (!useLexical) fused = vectorHits.map((h, i) => ({ id: h.id, score: h.score, vector: { rank: i + 1, score: h.score }, lexical: null }));
  if (mode === 'lexical') fused = lexicalHits.map((h, i) => ({ id: h.id, score: h.score, vector: null, lexical: { rank: i + 1, score: h.score } }));
  // An exact SKU / model number is what the shopper meant: it goes first whatever the other scores say.
  const skuIds = new Set(lexicalHits.filter((h) => h.matchedSku).map((h) => h.id));
  if (skuIds.size > 0) fused = [...fused.filter((h) => skuIds.has(h.id)), ...fused.filter((h) => !skuIds.has(h.id))];
  const top = fused.slice(0, req.k);

  const products = await t.time('hydrate', () => deps.hydrate(top.map((h) => h.id)));
  const results: SearchResult[] = [];
  for (const h of top) {
    const product = products.get(h.id);
    if (!product) continue; // deleted between retrieval and hydration
    const emb = deps.embeddings(h.id);
    results.push({
      id: h.id,
      score: round(h.score),
      product,
      explain: {
        vector: h.vector && { rank: h.vector.rank, score: round(h.vector.score) },
        lexical: h.lexical && { rank: h.lexical.rank, score: round(h.lexical.score) },
        matchedSku: skuIds.has(h.id),
        textSimilarity: qText && emb ? round(dot(qText, emb.vector)) : null,
        imageSimilarity: qImage && emb ? round(dot(qImage, emb.vector)) : null,
      },
    });
  }
  return {
    results,
    query: { ...base, hybrid: useLexical ? mode : 'vector_only' },
    timings: t.total(),
  };
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/;

/**
 * What the CLIP text encoder reads: the cleaned query (price and filler words removed). An
 * English-only CLIP cannot read Chinese, so a CJK query is embedded as its slot concepts in
 * English when there are any ("80元以下的红色耐克跑鞋" -> "red nike running shoes").
 */
export function clipTextOf(u: QueryUnderstanding | null, queryText: string, englishOnly: boolean): string {
  const cleaned = u?.text || queryText;
  if (englishOnly && u?.conceptText && CJK.test(cleaned)) return u.conceptText;
  return cleaned;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function normalise(v: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(v);
  let n = 0;
  for (const x of out) n += x * x;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < out.length; i++) out[i] /= n;
  return out;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
