/**
 * Text preparation for the FTS5 lexical index.
 *
 * FTS5's unicode61 tokenizer treats a run of Chinese/Japanese characters as one token (there are
 * no spaces to split on), so "耐克跑鞋" would only match the query "耐克跑鞋"; the trigram
 * tokenizer needs queries of 3+ characters, which misses the common two-character words (跑鞋,
 * 红色). So the indexed copy of the text puts spaces around every CJK character, making each one
 * a token, and a CJK run in a query becomes its overlapping character bigrams, each an FTS5 phrase
 * ("跑 鞋" = those two tokens adjacent). A two-character query is then an exact substring match;
 * a longer one ("80元以下的红色耐克跑鞋") matches titles sharing any of its bigrams, BM25 ranking
 * those sharing more (红色, 耐克, 跑鞋) higher. Latin text keeps unicode61's word tokens, stemmed
 * by porter (shoe/shoes); the same tokenizer reads index and query, so both agree.
 *
 * Every query term is emitted as a double-quoted FTS5 string joined by OR, and the terms hold only
 * letters, digits and marks, so no user input (quotes, AND/OR/NOT/NEAR, *, ^, parentheses,
 * `column:` filters) can reach FTS5's query syntax.
 */

const CJK_CLASS = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}';
const CJK_CHAR = new RegExp(`[${CJK_CLASS}]`, 'gu');
const CJK_RUN = new RegExp(`^[${CJK_CLASS}]+$`, 'u');
/** A CJK run, or a run of other letters/digits/marks. */
const SEGMENT = new RegExp(`[${CJK_CLASS}]+|(?:(?![${CJK_CLASS}])[\\p{L}\\p{N}\\p{M}])+`, 'gu');

/** Query words that say nothing about the product; dropped unless the query is only these. */
const STOPWORDS = new Set(
  'a an and are as at by for from i in is it me my of on or show some than that the this to with want need looking find under over below above less more cheaper'.split(
    ' ',
  ),
);

const MAX_TERMS = 64;
const MAX_SKU_WORDS = 3;

/** The copy of a field that goes into the FTS index. */
export function ftsText(s: string): string {
  return s.normalize('NFKC').replace(CJK_CHAR, ' $& ');
}

/** An FTS5 MATCH expression for free text, or null when it has no searchable word. */
export function ftsMatchQuery(query: string): string | null {
  const words: string[] = [];
  const cjk: string[] = [];
  for (const seg of query.normalize('NFKC').toLowerCase().match(SEGMENT) ?? []) {
    if (!CJK_RUN.test(seg)) {
      words.push(seg);
      continue;
    }
    const chars = [...seg];
    if (chars.length === 1) cjk.push(chars[0]);
    for (let i = 0; i + 1 < chars.length; i++) cjk.push(`${chars[i]} ${chars[i + 1]}`);
  }
  const content = words.filter((w) => !STOPWORDS.has(w));
  const terms = [...new Set([...(content.length > 0 || cjk.length > 0 ? content : words), ...cjk])].slice(0, MAX_TERMS);
  if (terms.length === 0) return null;
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
}

/** SKU / model number comparison key: case, spaces and punctuation ignored ("WH-1000XM5" = "wh1000xm5"). */
export function skuKey(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

/** Keys a query could name a SKU by: the whole query and every run of up to 3 of its words. */
export function skuCandidates(query: string): string[] {
  const words = query.normalize('NFKC').split(/[\s,;|/]+/).filter(Boolean).slice(0, 64);
  const keys = new Set<string>();
  const add = (k: string) => {
    if (k.length >= 3 && k.length <= 100) keys.add(k);
  };
  add(skuKey(query.slice(0, 400)));
  for (let n = 1; n <= MAX_SKU_WORDS; n++) {
    for (let i = 0; i + n <= words.length; i++) add(skuKey(words.slice(i, i + n).join('')));
  }
  return [...keys];
}
