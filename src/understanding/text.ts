/**
 * Text normalisation shared by the lexicon, price and slot readers.
 *
 * Everything is matched on NFKC + lower-case text (full-width "ＲＥＤ" and "８０" become
 * "red" and "80", "￥" becomes "¥"), but spans are reported on the caller's original
 * string, so `normalizeWithMap` keeps an offset map back to it.
 */

export interface NormalizedText {
  /** NFKC, lower-cased. */
  norm: string;
  /** `map[i]` = offset in the original of the character that produced `norm[i]`; `map[norm.length]` = original length. */
  map: number[];
  original: string;
}

/**
 * Normalises one base character plus its combining marks at a time, so every output
 * character can be traced back; for the texts we see this equals whole-string NFKC.
 */
export function normalizeWithMap(original: string): NormalizedText {
  let norm = '';
  const map: number[] = [];
  const chunk = /\P{M}\p{M}*|\p{M}+/gsu;
  for (const m of original.matchAll(chunk)) {
    // Curly apostrophes are folded so "men’s" meets "men's".
    const out = m[0].normalize('NFKC').toLowerCase().replace(/\u2019/g, "'");
    for (let k = 0; k < out.length; k++) map.push(m.index);
    norm += out;
  }
  map.push(original.length);
  return { norm, map, original };
}

/** Maps a span on the normalised text back onto the original string. */
export function toOriginalSpan(t: NormalizedText, start: number, end: number): [number, number] {
  const s = t.map[start] ?? t.original.length;
  // The end maps to the start of the next normalised char's source, i.e. just past the last one used.
  const e = end >= t.norm.length ? t.original.length : t.map[end];
  return [s, Math.max(s, e)];
}

const HAN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** CJK characters are matched by substring; there are no word boundaries to respect. */
export const isCjk = (ch: string | undefined): boolean => ch !== undefined && HAN.test(ch);
export const hasCjk = (s: string): boolean => /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(s);

/** Latin-side word characters (after lower-casing): ASCII letters/digits and Latin-1/Extended-A/B letters. */
const W = 'a-z0-9\\u00c0-\\u024f';
export const isWordChar = (ch: string | undefined): boolean => ch !== undefined && new RegExp(`[${W}]`).test(ch);

/**
 * Latin tokens: runs of word characters, with inner apostrophes, hyphens and '&' kept
 * so "men's", "t-shirt", "li-ning" and "h&m" stay one token.
 */
export const LATIN_TOKEN = new RegExp(`[${W}]+(?:['\\u2019\\-&][${W}]+)*`, 'g');

export interface Token {
  text: string;
  start: number;
  end: number;
}

export function latinTokens(norm: string): Token[] {
  const out: Token[] = [];
  for (const m of norm.matchAll(LATIN_TOKEN)) out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return out;
}

/** Key under which an English phrase is looked up: its tokens joined by one space. */
export function phraseKey(phrase: string): string {
  return latinTokens(phrase.normalize('NFKC').toLowerCase())
    .map((t) => t.text)
    .join(' ');
}

/** Spelling variants of a phrase with joiners: "t-shirt" -> "t shirt", "tshirt"; "levi's" -> "levi s", "levis". */
export function joinerVariants(phrase: string): string[] {
  const out = new Set([phrase]);
  if (/['\u2019\-]/.test(phrase)) {
    out.add(phrase.replace(/['\u2019\-]/g, ' '));
    out.add(phrase.replace(/['\u2019\-]/g, ''));
  }
  return [...out];
}

/** Crude English singular, applied identically to query words and catalog values so they meet in the middle. */
export function singular(word: string): string {
  if (word.length <= 3) return word;
  if (/[^aeiou]ies$/.test(word)) return word.slice(0, -3) + 'y';
  if (/(sses|ches|shes|xes)$/.test(word)) return word.slice(0, -2);
  if (/(ss|us|is)$/.test(word)) return word;
  if (word.endsWith('s')) return word.slice(0, -1);
  return word;
}

export function plural(word: string): string {
  if (word.length <= 2) return word;
  if (/(ss|ch|sh|x)$/.test(word)) return word + 'es';
  if (/[^aeiou]y$/.test(word)) return word.slice(0, -1) + 'ies';
  if (word.endsWith('s')) return word;
  return word + 's';
}

/** Nouns whose singular is another word ("short", "pant") or not a product. */
const PLURAL_ONLY = new Set(['shorts', 'jeans', 'pants', 'trousers', 'leggings', 'tights', 'sunglasses', 'glasses', 'shades', 'kicks', 'slides', 'goods', 'clothes']);

/** Singular and plural of the last word of a phrase (the head noun in English). */
export function numberVariants(phrase: string): string[] {
  const words = phrase.split(' ');
  const last = words[words.length - 1] ?? '';
  if (!/^[a-z]+$/.test(last) || PLURAL_ONLY.has(last)) return [phrase];
  const head = words.slice(0, -1);
  return [...new Set([phrase, [...head, singular(last)].join(' '), [...head, plural(singular(last))].join(' ')])];
}
