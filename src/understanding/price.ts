/**
 * Price phrases in English and Chinese -> {min, max, currency}.
 *
 * How it reads a query:
 *  1. Find every *amount*: a number (digits, "1,200", "1.5k", or Chinese numerals 一..九 十
 *     百 千 万 with 两/零) with an optional currency before or after it.
 *  2. Drop amounts that are not money: a number glued to letters or to "letter-" (model
 *     numbers: "WH-1000XM5", "ps5"), one after "size"/"eu"/"us"/"uk"/尺码 (shoe and clothes
 *     sizes), and one followed by a unit ("42码", "3 years", "500ml", "15寸").
 *  3. Read the words around each amount: ranges ("between 50 and 100", "$50 to $100",
 *     "100到200元"), upper bounds ("under", "below", "less than", "80 or less", "不超过",
 *     "低于", "80元以下", "以内"), lower bounds ("over", "above", "at least", "100元以上"),
 *     approximations ("around 60", "60左右": ±20%).
 *  4. A bare number is never a price ("iPhone 15", "size 42 shoes"); it needs a cue word or a
 *     currency. A bare amount *with* a currency ("80 euros", "£50") is read as "about that
 *     much" (±20%). A range needs a currency, "between"/"from"/从, or a price word.
 *  5. If nothing explicit was found, "cheap"/"budget"/"affordable"/便宜/实惠 set
 *     max = the catalog's 25th percentile price (`stats.p25`) when stats are given; without
 *     stats the phrase is still reported (kind 'cheap') but carries no bound.
 *
 * Currency: $ dollar(s) usd bucks 美元 美金 刀 -> USD; ¥ 元 块 rmb cny yuan 人民币 -> CNY;
 * € euro(s) eur 欧元 -> EUR; £ pound(s) gbp quid 英镑 -> GBP. None is guessed when absent.
 */
import { normalizeWithMap, toOriginalSpan, type NormalizedText } from './text.ts';

export interface PriceRange {
  min?: number;
  max?: number;
  currency?: string;
  /** Cover of every price part, on the original text. */
  span: [number, number];
  phrase: string;
  /** Each price part separately ("over 50 ... under 100" has two), for callers that cut them out. */
  spans: [number, number][];
  kind: 'range' | 'max' | 'min' | 'between-bounds' | 'around' | 'cheap';
}

const CURRENCY: [RegExp, string][] = [
  [/^(?:us\$|\$|usd|us dollars?|dollars?|bucks|美元|美金|刀)$/, 'USD'],
  [/^(?:¥|元|块钱|块|rmb|cny|yuan|人民币)$/, 'CNY'],
  [/^(?:€|eur|euros?|欧元)$/, 'EUR'],
  [/^(?:£|gbp|pounds?|quid|英镑)$/, 'GBP'],
];
const currencyOf = (s: string | undefined) => (s ? CURRENCY.find(([re]) => re.test(s.trim()))?.[1] : undefined);

// Latin currency words must end at a word boundary ("eur" is not "europe").
const PRE = String.raw`us\$|\$|€|£|¥|(?:usd|eur|gbp|rmb|cny)(?![a-z])|人民币`;
const POST = String.raw`(?:us dollars?|dollars?|bucks|usd|rmb|cny|yuan|euros?|eur|pounds?|gbp|quid)(?![a-z])|美元|美金|刀|块钱|块|元|人民币|欧元|英镑|€|£`;
const NUM_LATIN = String.raw`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`;
const NUM_CN = '[零〇一二两三四五六七八九十百千万]+';
const AMOUNT = new RegExp(`(?:(${PRE})\\s*)?(?:(${NUM_LATIN})(k(?![a-z]))?|(${NUM_CN}))(?:\\s*(${POST}))?`, 'g');

const UNIT_AFTER =
  /^\s*(?:(?:years?|yrs?|months?|days?|hours?|hrs?|mins?|minutes?|kg|g|lbs?|oz|cm|mm|m|ft|inch(?:es)?|gb|tb|mb|mah|ml|l|w|hz|mp|pcs|pieces|pack|people|persons?)(?![a-z])|["%]|岁|个|件|双|条|寸|英寸|码|号|斤|公斤|克|毫升|升|米|厘米|毫米|瓦|天|年|月|小时|分钟|次|人|g\b)/;
const SIZE_BEFORE = /(?:(?:^|[^a-z])(?:size|sz|eu|uk|us)|尺码|尺寸|码数)\s*$/;

/** Cue words just before an amount: Latin ones must start at a word boundary. */
function cueBefore(latin: string[], cjk: string[]): RegExp {
  const l = latin.length ? `(?:^|(?<=[^a-z]))(?:${latin.join('|')})` : '';
  const c = cjk.length ? `(?:${cjk.join('|')})` : '';
  return new RegExp(`(?:${[l, c].filter(Boolean).join('|')})\\s*$`);
}
/** Cue words just after an amount: Latin ones must end at a word boundary. */
function cueAfter(latin: string[], cjk: string[]): RegExp {
  // "50 and under 100" is the start of something else, not "50 and under".
  const l = latin.length ? `(?:${latin.join('|')})(?![a-z])(?!\\s*[\\d$€£¥])` : '';
  const c = cjk.length ? `(?:${cjk.join('|')})` : '';
  return new RegExp(`^\\s*(?:${[l, c].filter(Boolean).join('|')})`);
}

// Bare "max" is no cue before a number: "Air Max 90" is a shoe.
const UPPER_BEFORE = cueBefore(
  ['under', 'below', 'beneath', 'less than', 'lower than', 'cheaper than', 'no more than', 'not more than', 'not over', 'at most', 'maximum', 'up to', 'within', 'budget(?: of| is)?', 'max price(?: of)?'],
  ['<=?', '≤', '不超过', '不高于', '不到', '低于', '少于', '小于', '最多', '最高', '预算'],
);
const UPPER_AFTER = cueAfter(['or (?:less|under|below|cheaper)', 'and (?:under|below|less)', 'max(?:imum)?', 'at most', 'tops'], ['及以下', '或以下', '以下', '以内', '之内', '封顶']);
const LOWER_BEFORE = cueBefore(
  ['over', 'above', 'more than', 'greater than', 'higher than', 'at least', 'min(?:imum)?', 'starting (?:at|from)', 'from'],
  ['>=?', '≥', '高于', '(?<!不)超过', '大于', '至少', '不低于', '不少于', '起价'],
);
const LOWER_AFTER = cueAfter(['or (?:more|above|over|higher)', 'and (?:up|above|over|more|higher)', 'plus'], ['\\+', '及以上', '或以上', '以上', '起', '往上']);
const AROUND_BEFORE = cueBefore(['around', 'about', 'approximately', 'approx\\.?', 'roughly', 'circa', 'close to', 'near'], ['~', '≈', '约', '大约', '大概', '差不多']);
const AROUND_AFTER = cueAfter(['ish', 'or so'], ['左右', '上下']);
const RANGE_BEFORE = cueBefore(['between', 'from'], ['从', '介于', '在']);
const RANGE_SEP = /^\s*(?:-|–|—|~|～|to|and|至|到)\s*$/;
const RANGE_AFTER = /^\s*(?:之间|以内)/;
/** Price words that may lead a phrase ("price under 80", "价格100以下"): cut out with it. */
const PRICE_WORD_BEFORE = cueBefore(['prices?', 'priced', 'costing', 'costs?', 'for'], ['价格', '价位', '价钱', '售价']);
const CHEAP = /(?:^|(?<=[^a-z]))(?:cheap(?:est|er)?|budget|affordable|inexpensive|low[- ]cost|low[- ]priced|bargain)(?![a-z])|便宜|实惠|平价|低价/g;

interface Amount {
  start: number;
  end: number;
  value: number;
  currency?: string;
}

/** Chinese numerals: 八十 80, 两百 200, 一百五 150, 一千二百 1200, 三万 30000. */
export function chineseNumber(s: string): number | null {
  const digit: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
  const unit: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };
  let total = 0;
  let section = 0;
  let num = 0;
  let lastUnit = 0;
  let seen = false;
  for (const ch of s) {
    if (ch in digit) {
      num = digit[ch];
      seen = true;
      lastUnit = ch === '零' || ch === '〇' ? 0 : lastUnit;
    } else if (ch in unit) {
      section += (num || (unit[ch] === 10 ? 1 : 0)) * unit[ch];
      if (num === 0 && unit[ch] !== 10) return null; // "百" alone is not a number
      num = 0;
      lastUnit = unit[ch];
      seen = true;
    } else if (ch === '万') {
      total += (section + num) * 10000;
      section = 0;
      num = 0;
      lastUnit = 0;
    } else return null;
  }
  if (!seen) return null;
  // Colloquial trailing digit: 一百五 = 150, 两千三 = 2300.
  if (num && lastUnit >= 100) num *= lastUnit / 10;
  return total + section + num;
}

function findAmounts(t: NormalizedText): Amount[] {
  const s = t.norm;
  const out: Amount[] = [];
  for (const m of s.matchAll(AMOUNT)) {
    const [whole, pre, latin, k, cn, post] = m;
    const start = m.index;
    const end = start + whole.length;
    const numStart = start + (pre ? whole.indexOf(latin ?? cn ?? '', pre.length) : 0);
    const numEnd = numStart + (latin ?? cn ?? '').length + (k ? 1 : 0);
    const before = s.slice(0, start);
    if (latin) {
      const b1 = s[start - 1];
      // Glued to a word or a model number ("ps5", "wh-1000xm5", "v2.0").
      if (b1 !== undefined && /[a-z0-9_.]/.test(b1)) continue;
      if (b1 === '-' && /[a-z]/.test(s[start - 2] ?? '')) continue;
      if (!post && /[a-z0-9]/.test(s[numEnd] ?? '')) continue;
    }
    if (!pre && !post && SIZE_BEFORE.test(before)) continue;
    if (!post && UNIT_AFTER.test(s.slice(numEnd))) continue;
    const value = latin ? parseFloat(latin.replace(/,/g, '')) * (k ? 1000 : 1) : chineseNumber(cn ?? '');
    if (value === null || !Number.isFinite(value)) continue;
    const currency = currencyOf(pre) ?? currencyOf(post);
    out.push({ start, end: post ? end : numEnd, value, currency });
  }
  return out;
}

interface Part {
  kind: 'range' | 'max' | 'min' | 'around' | 'cheap';
  start: number;
  end: number;
  min?: number;
  max?: number;
  currency?: string;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Extends a part's start backwards over a cue that `re` matched at the end of `before`. */
function cueStart(s: string, start: number, re: RegExp): number | null {
  const m = re.exec(s.slice(0, start));
  return m ? m.index + (m[0].length - m[0].trimStart().length) : null;
}
function cueEnd(s: string, end: number, re: RegExp): number | null {
  const m = re.exec(s.slice(end));
  return m ? end + m[0].length : null;
}

function readParts(t: NormalizedText, stats?: { p25: number; median: number }): Part[] {
  const s = t.norm;
  const amounts = findAmounts(t);
  const parts: Part[] = [];
  for (let i = 0; i < amounts.length; i++) {
    const a = amounts[i];
    const b = amounts[i + 1];
    // Ranges first: "between 50 and 100", "$50 to $100", "100-200元".
    if (b && RANGE_SEP.test(s.slice(a.end, b.start))) {
      const sep = s.slice(a.end, b.start).trim();
      const cue = cueStart(s, a.start, RANGE_BEFORE);
      const priceCue = cueStart(s, cue ?? a.start, PRICE_WORD_BEFORE);
      const ok = sep === 'and' ? cue !== null && /between\s*$/.test(s.slice(0, a.start)) : cue !== null || a.currency || b.currency || priceCue !== null;
      if (ok) {
        const currency = a.currency ?? b.currency;
        parts.push({
          kind: 'range',
          start: priceCue ?? cue ?? a.start,
          end: cueEnd(s, b.end, RANGE_AFTER) ?? b.end,
          min: Math.min(a.value, b.value),
          max: Math.max(a.value, b.value),
          currency,
        });
        i++;
        continue;
      }
    }
    const reads: [Part['kind'], RegExp, RegExp][] = [
      ['max', UPPER_BEFORE, UPPER_AFTER],
      ['min', LOWER_BEFORE, LOWER_AFTER],
      ['around', AROUND_BEFORE, AROUND_AFTER],
    ];
    // A cue before the amount binds tighter than one after it ("over 50 and under 100").
    let part: Part | null = null;
    for (const [kind, before] of reads) {
      const st = cueStart(s, a.start, before);
      if (st !== null) {
        part = { kind, start: st, end: a.end, currency: a.currency };
        break;
      }
    }
    for (const [kind, , after] of part ? [] : reads) {
      const en = cueEnd(s, a.end, after);
      if (en !== null) {
        part = { kind, start: a.start, end: en, currency: a.currency };
        break;
      }
    }
    if (!part && a.currency) part = { kind: 'around', start: a.start, end: a.end, currency: a.currency };
    if (!part && cueStart(s, a.start, PRICE_WORD_BEFORE) !== null && !/for\s*$/.test(s.slice(0, a.start))) {
      part = { kind: 'around', start: a.start, end: a.end };
    }
    if (!part) continue;
    if (part.kind === 'max') part.max = a.value;
    if (part.kind === 'min') part.min = a.value;
    if (part.kind === 'around') [part.min, part.max] = [round2(a.value * 0.8), round2(a.value * 1.2)];
    part.start = cueStart(s, part.start, PRICE_WORD_BEFORE) ?? part.start;
    parts.push(part);
  }
  for (const m of s.matchAll(CHEAP)) {
    const [start, end] = [m.index, m.index + m[0].length];
    if (parts.some((p) => start < p.end && end > p.start)) continue;
    parts.push({ kind: 'cheap', start, end, max: stats ? stats.p25 : undefined });
  }
  return parts.sort((x, y) => x.start - y.start);
}

/** Reads the one price constraint a query expresses; null when it has none. */
export function parsePrice(text: string, stats?: { p25: number; median: number }): PriceRange | null {
  const t = normalizeWithMap(text);
  const r = parsePriceNormalized(t, stats);
  if (!r) return null;
  const spans = r.spans.map(([a, b]) => toOriginalSpan(t, a, b));
  const span = toOriginalSpan(t, r.span[0], r.span[1]);
  return { ...r, spans, span, phrase: text.slice(span[0], span[1]) };
}

/** `parsePrice` on already-normalised text; spans are on `t.norm`. */
export function parsePriceNormalized(t: NormalizedText, stats?: { p25: number; median: number }): PriceRange | null {
  const parts = readParts(t, stats);
  if (parts.length === 0) return null;

  // An explicit range wins; otherwise the first upper and first lower bound combine
  // ("over 50 under 100"); otherwise the first approximation; "cheap" only as a last resort.
  const explicit = parts.filter((p) => p.kind !== 'cheap');
  const range = explicit.find((p) => p.kind === 'range');
  const max = explicit.find((p) => p.kind === 'max');
  const min = explicit.find((p) => p.kind === 'min');
  const around = explicit.find((p) => p.kind === 'around');
  let used: Part[];
  let kind: PriceRange['kind'];
  if (range) [used, kind] = [[range], 'range'];
  else if (max && min && (min.min ?? 0) <= (max.max ?? Infinity)) [used, kind] = [[min, max], 'between-bounds'];
  else if (max || min) [used, kind] = [[(max ?? min) as Part], max ? 'max' : 'min'];
  else if (around) [used, kind] = [[around], 'around'];
  else [used, kind] = [[parts[0]], 'cheap'];
  // Cheap words are price words too: callers cut them out of the text even when an explicit bound won.
  const cut = [...used, ...parts.filter((p) => p.kind === 'cheap' && !used.includes(p))].sort((x, y) => x.start - y.start);

  const out: PriceRange = { span: [0, 0], phrase: '', spans: [], kind };
  for (const p of used) {
    if (p.min !== undefined) out.min = p.min;
    if (p.max !== undefined) out.max = p.max;
    out.currency ??= p.currency;
  }
  if (out.currency === undefined) delete out.currency;
  out.spans = cut.map((p) => [p.start, p.end]);
  out.span = [Math.min(...used.map((p) => p.start)), Math.max(...used.map((p) => p.end))];
  out.phrase = t.norm.slice(out.span[0], out.span[1]);
  return out;
}
