/**
 * Slots and filters from one free-text query, English and Chinese.
 *
 * Order of reading (each step only sees text the earlier ones left unclaimed):
 *  1. NFKC + lower-case (full-width "ＲＥＤ" is "red"); spans are reported on the original text.
 *  2. Price (price.ts) and size patterns ("size 42", "EU 42", "42码", "XL", "size M", a
 *     stand-alone capital S/M/L).
 *  3. Lexicon surfaces containing CJK: substring match, longest first at each position
 *     ("红色耐克跑鞋" -> 红色, 耐克, 跑鞋; no segmenter needed).
 *  4. English surfaces: whole tokens, case-insensitive, longest phrase first
 *     ("new balance" before anything shorter).
 *  5. Typo tolerance, for brand and category vocabulary ONLY (never colours, genders,
 *     materials, sizes or prices). A query word (or a run of 2-3 words, for multi-word
 *     names like "new balanse") that nothing above claimed is compared with every brand and
 *     category phrase by Damerau-Levenshtein distance (optimal string alignment:
 *     insertion, deletion, substitution, swap of two adjacent letters), counting letters
 *     and digits of the query phrase:
 *       - fewer than 4 letters: never corrected;
 *       - 4 to 7 letters: distance 1;
 *       - 8 or more letters: distance up to 2.
 *     Further restrictions, for precision: the vocabulary phrase must itself have >= 4
 *     letters, the first letter must agree ("nikr" -> nike, but "like" never becomes nike),
 *     words holding digits are skipped, and so are common English words (COMMON below: "shop",
 *     "best", "nice"...) and words the lexicon already knows. The nearest phrase wins; ties
 *     go to catalog values, then alphabetical order. Reported with source 'fuzzy'.
 *  6. Filler words ("show me", "I want", "please", 给我, 我想要, 的...) are dropped.
 *
 * The embedding text (`text`) is the query minus price phrases, size phrases and filler.
 * Colour, category, brand, gender and material words are deliberately KEPT: CLIP was trained
 * on captions like "red nike running shoes", so they carry visual meaning and the filters
 * alone would lose the ranking signal (e.g. "navy" vs "blue" within one filter). Typos the
 * fuzzy step corrected are written corrected ("addidas" -> "adidas"). `conceptText` is the
 * same query in English concept names ("红色耐克跑鞋" -> "red nike running shoes"), for
 * English-only text encoders.
 */
import type { SearchFilters } from '../catalog/types.ts';
import { FILTERABLE, type LexEntry, type Lexicon } from './lexicon.ts';
import { parsePriceNormalized } from './price.ts';
import { isCjk, isWordChar, latinTokens, normalizeWithMap, toOriginalSpan, type NormalizedText, type Token } from './text.ts';

export interface SlotMatch {
  slot: string;
  value: string;
  /** The words as the user wrote them (original text). */
  surface: string;
  /** On the original text. */
  span: [number, number];
  source: 'lexicon' | 'synonym' | 'fuzzy' | 'pattern' | 'ner';
  /** Catalog values this match filters on (brand/category/color); empty when the catalog has none. */
  filterValues?: string[];
}

export interface Slots {
  brand?: string[];
  category?: string[];
  color?: string[];
  size?: string;
  gender?: string;
  material?: string;
  priceMin?: number;
  priceMax?: number;
  currency?: string;
}

export interface Understanding {
  slots: Slots;
  /**
   * Only what the catalog can honour: brand/category/color as arrays of catalog values, and
   * priceMin/priceMax. The price currency stays in `slots` and is not a filter: the numbers
   * are compared with catalog prices as they stand (no conversion).
   */
  filters: SearchFilters;
  /** What CLIP embeds: the query without price, size and filler words. */
  text: string;
  /** The recognised slots as English concept names, for English-only text encoders. */
  conceptText: string;
  matches: SlotMatch[];
  /**
   * Slots that produced no filter: 'not-in-catalog' (e.g. "purple" when nothing is purple)
   * or 'not-filterable' (size, gender, material: the index has no such filter).
   */
  unfiltered: { slot: string; value: string; reason: 'not-in-catalog' | 'not-filterable' }[];
}

/** Common English words that sit one typo away from a brand or category; never corrected. */
const COMMON = new Set(
  `able about above after again also anything back bags bake base bath bear beat best bike bite blog body book boot both
  brand bring bulk buys call came cape caps card care case cash cast cell chat cheap cheaper city coat code cold come
  cool cost cute date deal deals dear does done door down each easy else even ever fast feel find fine five fits
  four free from full gift give goes gold good great hand have help here hike hold home hope idea info item just keep
  kind know last late left less like line link list live long look lots love made make mall many mass mean mike mind
  mine more most much must name near need next nice nine none note okay once only open over page pair part pass past
  pick pink plan play plus pony post pull push puts rate read real rest ride role room safe said sale same save says
  seen sell send ship shoe shop shot show side sign size slim some song sons soon sort stay such sure take talk team
  tell than that them then they thin this time tiny tone tops tour town tree true type unit upon used user very wait
  walk want warm wash watch week well went were what when wide will wine wish with wood word work worn year your
  apply basic basics before below black brown catch change check cheap color colour could daily every extra first
  found great green large light match money never night other order place please price quite really right shops shows
  since small smart sorts still store style thanks their there these thing think those three today under using where
  which while white would wrong young delivery return returns refund shipping similar something looking`.split(/\s+/),
);

const FILLERS_EN = [
  'show me', 'show', 'i want', 'i wanna', 'i would like', "i'd like", 'would like', "i'm looking for", 'i am looking for', 'looking for',
  'look for', 'find me', 'find', 'search for', 'search', 'get me', 'give me', 'gimme', 'please', 'pls', 'plz', 'can you', 'could you',
  'can i', 'do you have', 'do you sell', 'have you got', 'i need', 'need', 'want', 'some', 'any', 'a', 'an', 'the', 'me', 'for', 'i',
  'buy', 'hi', 'hello', 'hey', 'thanks', 'thank you',
].map((f) => f.split(' '));
const FILLERS_ZH = [
  '我想要', '我想买', '我要买', '给我看看', '帮我找', '推荐一下', '有没有', '请问', '我要', '我想', '给我', '帮我', '想买', '想要', '找一下',
  '看看', '推荐', '一双', '一件', '一个', '一条', '一些', '一下', '请', '买', '找', '的', '吗', '呢', '吧', '啊', '哦',
].sort((a, b) => b.length - a.length);

const SIZE_PATTERNS: { re: RegExp; value: (m: RegExpMatchArray) => string; uppercaseOnly?: boolean }[] = [
  {
    re: /(?<![a-z0-9])(?:size|sz)\s*[:=]?\s*(?:(eu|us|uk)\s*)?(\d{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl|xxxl|[2-5]xl)(?![a-z0-9])/g,
    value: (m) => sizeValue(m[2], m[1]),
  },
  { re: /(?<![a-z0-9])(eu|us|uk)\s*(\d{1,2}(?:\.5)?)(?![a-z0-9]|\.\d)/g, value: (m) => sizeValue(m[2], m[1]) },
  { re: /(?:尺码|尺寸|码数)\s*[:：]?\s*(\d{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl|xxxl|[2-5]xl)(?![a-z0-9])/g, value: (m) => sizeValue(m[1]) },
  { re: /(?<![a-z0-9.])(\d{2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl|xxxl|[2-5]xl)\s*(?:码|号)/g, value: (m) => sizeValue(m[1]) },
  { re: /(?<![a-z0-9'&-])(xxs|xs|xl|xxl|xxxl|[2-5]xl)(?![a-z0-9'&-])/g, value: (m) => sizeValue(m[1]) },
  // A lone S/M/L counts only when typed as a capital: "M" is a size, "m" usually is not.
  { re: /(?<![a-z0-9'&-])([sml])(?![a-z0-9'&-])/g, value: (m) => sizeValue(m[1]), uppercaseOnly: true },
];
const sizeValue = (v: string | undefined, region?: string) => {
  const x = (v ?? '').toUpperCase();
  return region ? `${region.toUpperCase()} ${x}` : x;
};

interface Hit {
  slot: string;
  value: string;
  start: number;
  end: number;
  source: SlotMatch['source'];
  filterValues?: string[];
  /** For fuzzy hits: the spelling to write into the embedding text. */
  replacement?: string;
}

export function extractSlots(input: string, lex: Lexicon): Understanding {
  const t = normalizeWithMap(input);
  const s = t.norm;
  const claimed = new Uint8Array(s.length);
  const free = (a: number, b: number) => claimed.subarray(a, b).every((c) => c === 0);
  const claim = (a: number, b: number) => claimed.fill(1, a, b);
  const hits: Hit[] = [];
  const cut: [number, number][] = []; // spans removed from the embedding text

  // 2. Price and size.
  const price = parsePriceNormalized(t, lex.price ?? undefined);
  if (price) {
    for (const [a, b] of price.spans) {
      claim(a, b);
      cut.push([a, b]);
    }
    const value = [price.min !== undefined ? `min ${price.min}` : '', price.max !== undefined ? `max ${price.max}` : '', price.currency ?? '']
      .filter(Boolean)
      .join(' ');
    for (const [a, b] of price.spans) hits.push({ slot: 'price', value: value || price.kind, start: a, end: b, source: 'pattern' });
  }
  for (const p of SIZE_PATTERNS) {
    for (const m of s.matchAll(p.re)) {
      const [a, b] = [m.index, m.index + m[0].length];
      if (!free(a, b)) continue;
      if (p.uppercaseOnly && !/[SML]/.test(t.original[t.map[a]] ?? '')) continue;
      claim(a, b);
      cut.push([a, b]);
      hits.push({ slot: 'size', value: p.value(m), start: a, end: b, source: 'pattern' });
    }
  }

  const addEntries = (entries: LexEntry[], a: number, b: number, extra?: Partial<Hit>) => {
    claim(a, b);
    for (const e of entries) {
      if (e.slot === 'none') continue;
      hits.push({ slot: e.slot, value: e.value, start: a, end: b, source: e.source, filterValues: e.filterValues, ...extra });
    }
  };

  // 3. CJK surfaces, longest first at each position.
  for (let i = 0; i < s.length; i++) {
    if (claimed[i] || !(isCjk(s[i]) || isWordChar(s[i]))) continue;
    for (const len of lex.zhLengths) {
      const sub = s.slice(i, i + len);
      if (sub.length !== len || !free(i, i + len)) continue;
      const entries = lex.zh.get(sub);
      if (!entries) continue;
      // A surface like "t恤" that starts or ends in Latin must respect word boundaries there.
      if (isWordChar(sub[0]) && isWordChar(s[i - 1])) continue;
      if (isWordChar(sub[len - 1]) && isWordChar(s[i + len])) continue;
      addEntries(entries, i, i + len);
      i += len - 1;
      break;
    }
  }

  // 4. English phrases over unclaimed tokens, longest first.
  const tokens = latinTokens(s).filter((tk) => free(tk.start, tk.end));
  const adjacent = (a: Token, b: Token) => /^\s+$/.test(s.slice(a.end, b.start));
  /** Runs of up to `max` tokens starting at `i` that sit next to each other, longest first. */
  const runs = (list: Token[], i: number, max: number) => {
    const out: Token[][] = [];
    let run = [list[i]];
    out.push(run);
    for (let j = i + 1; j < list.length && run.length < max && adjacent(list[j - 1], list[j]); j++) out.push((run = [...run, list[j]]));
    return out.reverse();
  };
  const leftover: Token[] = [];
  for (let i = 0; i < tokens.length; ) {
    let step = 0;
    for (const run of runs(tokens, i, lex.enMaxTokens)) {
      const entries = lex.en.get(run.map((tk) => tk.text).join(' '));
      if (!entries) continue;
      addEntries(entries, run[0].start, run[run.length - 1].end);
      step = run.length;
      break;
    }
    if (step === 0) leftover.push(tokens[i]);
    i += step || 1;
  }

  // 5. Typo tolerance against brand/category vocabulary.
  const maxFuzzyTokens = Math.max(1, ...lex.fuzzy.map((f) => f.tokens));
  for (let i = 0; i < leftover.length; ) {
    let step = 0;
    for (const run of runs(leftover, i, maxFuzzyTokens)) {
      const hit = fuzzyLookup(run, lex);
      if (!hit) continue;
      addEntries(hit.entries, run[0].start, run[run.length - 1].end, { source: 'fuzzy', replacement: hit.term });
      step = run.length;
      break;
    }
    i += step || 1;
  }

  // 6. Filler words, outside anything claimed.
  const fillerTokens = latinTokens(s).filter((tk) => free(tk.start, tk.end));
  for (let i = 0; i < fillerTokens.length; ) {
    const f = FILLERS_EN.find((words) => words.every((w, k) => fillerTokens[i + k]?.text === w && (k === 0 || adjacent(fillerTokens[i + k - 1], fillerTokens[i + k]))));
    if (f) {
      cut.push([fillerTokens[i].start, fillerTokens[i + f.length - 1].end]);
      i += f.length;
    } else i++;
  }
  for (let i = 0; i < s.length; i++) {
    if (claimed[i] || !isCjk(s[i])) continue;
    const f = FILLERS_ZH.find((w) => s.startsWith(w, i) && free(i, i + w.length));
    if (f) {
      cut.push([i, i + f.length]);
      i += f.length - 1;
    }
  }

  hits.sort((a, b) => a.start - b.start || a.slot.localeCompare(b.slot));
  return assemble(t, hits, cut, price);
}

function fuzzyLookup(run: Token[], lex: Lexicon): { term: string; entries: LexEntry[] } | null {
  const phrase = run.map((tk) => tk.text).join(' ');
  const letters = phrase.replace(/[^\p{L}\p{N}]/gu, '').length;
  if (letters < 4 || /\d/.test(phrase)) return null;
  // Every word in the run must be a candidate typo or a plain word; at least one must be unknown.
  const unknown = run.filter((tk) => !COMMON.has(tk.text) && !lex.en.has(tk.text));
  if (unknown.length === 0) return null;
  const maxDist = letters >= 8 ? 2 : 1;
  let best: { term: string; entries: LexEntry[]; d: number; catalog: boolean } | null = null;
  for (const f of lex.fuzzy) {
    if (f.tokens !== run.length || f.term[0] !== phrase[0]) continue;
    if (Math.abs(f.term.length - phrase.length) > maxDist) continue;
    const d = damerauLevenshtein(phrase, f.term, maxDist);
    if (d === 0 || d > maxDist) continue;
    const catalog = f.entries.some((e) => e.source === 'lexicon');
    if (!best || d < best.d || (d === best.d && catalog && !best.catalog)) best = { term: f.term, entries: f.entries, d, catalog };
  }
  return best;
}

/** Optimal-string-alignment distance (adjacent swaps count 1), giving up above `limit`. */
export function damerauLevenshtein(a: string, b: string, limit = Infinity): number {
  const [n, m] = [a.length, b.length];
  if (Math.abs(n - m) > limit) return limit + 1;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = new Array<number>(m + 1).fill(0);
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j], prev2[j - 2] + 1);
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin > limit) return limit + 1;
    [prev2, prev] = [prev, cur];
  }
  return prev[m];
}

function assemble(t: NormalizedText, hits: Hit[], cut: [number, number][], price: ReturnType<typeof parsePriceNormalized>): Understanding {
  const slots: Slots = {};
  const filters: SearchFilters = {};
  const unfiltered: Understanding['unfiltered'] = [];
  const note = (slot: string, value: string, reason: 'not-in-catalog' | 'not-filterable') => {
    if (!unfiltered.some((u) => u.slot === slot && u.value === value)) unfiltered.push({ slot, value, reason });
  };

  for (const h of hits) {
    if (h.slot === 'brand' || h.slot === 'category' || h.slot === 'color') {
      const list = (slots[h.slot] ??= []);
      if (!list.includes(h.value)) list.push(h.value);
      const fv = h.filterValues ?? [];
      if (fv.length === 0) note(h.slot, h.value, 'not-in-catalog');
      else {
        const f = (filters[h.slot] ??= []) as string[];
        for (const v of fv) if (!f.includes(v)) f.push(v);
      }
    } else if (h.slot === 'size' || h.slot === 'gender' || h.slot === 'material') {
      slots[h.slot] ??= h.value; // the first mention wins
      note(h.slot, h.value, 'not-filterable');
    }
  }
  if (price) {
    if (price.min !== undefined) slots.priceMin = filters.priceMin = price.min;
    if (price.max !== undefined) slots.priceMax = filters.priceMax = price.max;
    if (price.currency) slots.currency = price.currency;
  }

  const matches: SlotMatch[] = hits.map((h) => {
    const span = toOriginalSpan(t, h.start, h.end);
    const m: SlotMatch = { slot: h.slot, value: h.value, surface: t.original.slice(span[0], span[1]), span, source: h.source };
    if (FILTERABLE.has(h.slot as never)) m.filterValues = h.filterValues ?? [];
    return m;
  });

  return { slots, filters, text: embeddingText(t.norm, cut, hits), conceptText: conceptText(slots), matches, unfiltered };
}

/** The normalised query with `cut` spans removed, fuzzy hits respelt, and spacing tidied. */
function embeddingText(s: string, cut: [number, number][], hits: Hit[]): string {
  const edits = [
    ...cut.map(([a, b]) => ({ a, b, text: '' })),
    ...hits.filter((h) => h.replacement).map((h) => ({ a: h.start, b: h.end, text: h.replacement as string })),
  ].sort((x, y) => x.a - y.a);
  let out = '';
  let pos = 0;
  for (const e of edits) {
    if (e.a < pos) continue; // overlapping edit: the earlier one stands
    out += s.slice(pos, e.a) + (e.text ? e.text : '\u0000');
    pos = e.b;
  }
  out += s.slice(pos);
  return out
    .replace(/[^\p{L}\p{N}\s'&\-\u0000]|(?<![\p{L}\p{N}])['&\-]|['&\-](?![\p{L}\p{N}])/gu, ' ') // punctuation, but not inside words
    .replace(/\s*\u0000\s*/g, '\u0000')
    .replace(/(?<=\p{Script=Han})\u0000+(?=\p{Script=Han})/gu, '') // removed text between two CJK characters leaves no gap
    .replace(/[\s\u0000]+/g, ' ')
    .trim();
}

function conceptText(slots: Slots): string {
  return [...(slots.color ?? []), slots.material, slots.gender, ...(slots.brand ?? []), ...(slots.category ?? [])].filter(Boolean).join(' ');
}
