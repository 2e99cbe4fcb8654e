/**
 * Optional query NER: a BERT token classifier (HF `BertForTokenClassification` export,
 * `onnx/model.onnx` -> `logits` [batch, tokens, labels]) read into entities with character
 * offsets on the caller's text.
 *
 * Decoding (`decodeEntities`, pure, so it is testable on hand-made probabilities):
 *  - softmax per token; special tokens ([CLS], [SEP], [PAD]) are skipped;
 *  - WordPiece continuation pieces (`##ing`) belong to the word before them: a word takes the
 *    label of its first piece (what HF's token-classification training labels) and its pieces
 *    are never split between entities;
 *  - BIO (also BIOES) grouping over words: B- starts an entity, I-/E- continue an open entity of
 *    the same type, and an I- with no such entity open starts one; O closes;
 *  - score = mean over the entity's tokens of the probability of the entity's type at that token
 *    (B-, I-, ... of that type summed, so a B/I mix-up inside an entity does not count against
 *    it); entities scoring below the threshold (default 0.5) are dropped.
 *
 * The tokenizer library gives no offset mapping, so tokens are aligned to the text here: both
 * sides are folded the way BERT's normaliser folds (lower case, accents stripped), whitespace and
 * control characters are skipped, and [UNK] covers the pre-tokenizer word it replaced (BERT
 * splits on whitespace and punctuation and puts every CJK ideograph in a word of its own).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { loadTokenizer } from './hf.ts';
import { readLabels, softmax } from './intent.ts';
import { createSession, type ModelSession, type ort, type RuntimeOptions } from './runtime.ts';
import { defaultRunCostTokens, encodeTexts, runByLength } from './text-inputs.ts';

export interface NerEntity {
  /** The label's type without its B-/I- prefix, e.g. `BRAND`. */
  type: string;
  /** `original.slice(start, end)`. */
  text: string;
  start: number;
  end: number;
  score: number;
}

export interface NerOptions {
  /** Entities scoring below this are dropped (default 0.5). */
  threshold?: number;
  /** Token budget per text (default 128: queries are short). */
  maxLength?: number;
}

export interface DecodeOptions {
  threshold?: number;
  /** Tokens that carry no text ([CLS], [SEP], [PAD], [MASK]). */
  special?: ReadonlySet<string>;
  unk?: string;
  /** WordPiece's continuing-subword prefix. */
  continuation?: string;
}

const DEFAULT_SPECIAL: ReadonlySet<string> = new Set(['[CLS]', '[SEP]', '[PAD]', '[MASK]']);

// ---------------------------------------------------------------- alignment

/** How BERT's normaliser folds text (uncased models): lower case, NFD, combining marks removed. */
const fold = (s: string) => s.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');

/** BERT's "Chinese character" ranges: each such character is a word of its own. */
function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}
const isPunct = (ch: string) => /[\p{P}\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/u.test(ch);
/** Whitespace and what BERT's clean_text drops: both leave no trace in the tokens. */
const isSkipped = (ch: string) => /[\s\p{Cc}\p{Cf}\ufffd]/u.test(ch);

/** The text as BERT sees it, one folded UTF-16 unit per entry, each traced to its source span and word. */
function foldedStream(text: string): { s: string; from: number[]; to: number[]; word: number[] } {
  let s = '';
  const [from, to, word]: number[][] = [[], [], []];
  let w = 0;
  let inWord = false;
  // A base character with its combining marks is one unit, so an accent stays inside its entity.
  for (const m of text.matchAll(/\P{M}\p{M}*|\p{M}+/gsu)) {
    const ch = m[0];
    const cp = ch.codePointAt(0)!;
    if (isSkipped(String.fromCodePoint(cp))) {
      inWord = false;
      continue;
    }
    const alone = isPunct(String.fromCodePoint(cp)) || isCjkIdeograph(cp);
    if (alone || !inWord) w++;
    inWord = !alone;
    const f = fold(ch);
    for (let k = 0; k < f.length; k++) {
      from.push(m.index);
      to.push(m.index + ch.length);
      word.push(w);
    }
    s += f;
  }
  return { s, from, to, word };
}

/** Character span of every token in `text`; null for special tokens and tokens that cannot be placed. */
export function alignTokens(text: string, tokens: readonly string[], opts: DecodeOptions = {}): ([number, number] | null)[] {
  const special = opts.special ?? DEFAULT_SPECIAL;
  const unk = opts.unk ?? '[UNK]';
  const cont = opts.continuation ?? '##';
  const st = foldedStream(text);
  let pos = 0;
  return tokens.map((tok) => {
    if (special.has(tok)) return null;
    if (pos >= st.s.length) return null;
    if (tok === unk) {
      // [UNK] replaced a whole pre-tokenizer word.
      const w = st.word[pos]!;
      const a = pos;
      while (pos < st.s.length && st.word[pos] === w) pos++;
      return [st.from[a]!, st.to[pos - 1]!];
    }
    const piece = fold(tok.startsWith(cont) && tok.length > cont.length ? tok.slice(cont.length) : tok);
    if (!piece) return null;
    // Normally the piece is next; if not (a normaliser difference), look ahead for it.
    const at = st.s.startsWith(piece, pos) ? pos : st.s.indexOf(piece, pos);
    if (at < 0) return null;
    pos = at + piece.length;
    return [st.from[at]!, st.to[pos - 1]!];
  });
}

// ---------------------------------------------------------------- BIO decoding

/** `B-BRAND` -> ['B', 'BRAND']; a label without a prefix counts as I- (as transformers.js reads it); `O` is outside. */
export function parseLabel(label: string): { prefix: 'B' | 'I' | 'E' | 'S'; type: string } | null {
  if (label === 'O') return null;
  const p = label[0];
  if ((label[1] === '-' || label[1] === '_') && (p === 'B' || p === 'I' || p === 'E' || p === 'S')) return { prefix: p, type: label.slice(2) };
  return { prefix: 'I', type: label };
}

/**
 * Entities in `text` from per-token label probabilities (`probs[i]` sums to 1 over `labels`),
 * with `tokens` the model's token strings in sequence order (special tokens included).
 */
export function decodeEntities(
  text: string,
  tokens: readonly string[],
  probs: readonly Float32Array[],
  labels: readonly string[],
  opts: DecodeOptions = {},
): NerEntity[] {
  const threshold = opts.threshold ?? 0.5;
  const cont = opts.continuation ?? '##';
  const spans = alignTokens(text, tokens, opts);
  const parsed = labels.map(parseLabel);

  // Words: a token plus the continuation pieces right after it.
  const words: number[][] = [];
  tokens.forEach((tok, i) => {
    if (!spans[i]) return;
    const prev = words[words.length - 1];
    if (tok.startsWith(cont) && tok.length > cont.length && prev && prev[prev.length - 1] === i - 1) prev.push(i);
    else words.push([i]);
  });

  const groups: { type: string; tokens: number[] }[] = [];
  let open: { type: string; tokens: number[] } | null = null;
  for (const w of words) {
    const p = probs[w[0]!]!;
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
    const tag = parsed[best];
    if (!tag) {
      open = null;
      continue;
    }
    if (open && open.type === tag.type && tag.prefix !== 'B' && tag.prefix !== 'S') open.tokens.push(...w);
    else groups.push((open = { type: tag.type, tokens: [...w] }));
    if (tag.prefix === 'E' || tag.prefix === 'S') open = null;
  }

  const out: NerEntity[] = [];
  for (const g of groups) {
    let sum = 0;
    for (const i of g.tokens) for (let k = 0; k < labels.length; k++) if (parsed[k]?.type === g.type) sum += probs[i]![k]!;
    const score = sum / g.tokens.length;
    if (score < threshold) continue;
    const start = spans[g.tokens[0]!]![0];
    const end = spans[g.tokens[g.tokens.length - 1]!]![1];
    out.push({ type: g.type, text: text.slice(start, end), start, end, score });
  }
  return out;
}

// ---------------------------------------------------------------- runtime

export class NerModel {
  private constructor(
    private readonly ms: ModelSession,
    private readonly tokenizer: PreTrainedTokenizer,
    readonly labels: string[],
    private readonly idToToken: string[],
    private readonly decode: DecodeOptions & { maxLength: number },
    private readonly runCostTokens: number,
  ) {}

  /** `dir` holds config.json (id2label), the tokenizer files and onnx/model.onnx. */
  static async load(dir: string, rt: RuntimeOptions, opts: NerOptions = {}): Promise<NerModel> {
    const file = path.join(dir, 'onnx', 'model.onnx');
    if (!fs.existsSync(file)) throw new Error(`NER model folder ${dir} has no onnx/model.onnx`);
    const labels = readLabels(dir);
    const [ms, tokenizer] = await Promise.all([createSession(file, rt), loadTokenizer(dir)]);
    if (!ms.outputNames.includes('logits')) throw new Error(`${file} has no logits output (outputs: ${ms.outputNames.join(', ')})`);
    const idToToken: string[] = [];
    for (const [tok, id] of tokenizer.get_vocab()) idToToken[id] = tok;
    const unk = tokenizer.unk_token ?? '[UNK]';
    const special = new Set([...(tokenizer.all_special_tokens ?? []), ...DEFAULT_SPECIAL].filter((t) => t !== unk));
    const tj = (tokenizer as unknown as { _tokenizerJSON?: { model?: { continuing_subword_prefix?: string } } })._tokenizerJSON;
    return new NerModel(ms, tokenizer, labels, idToToken, {
      threshold: opts.threshold ?? 0.5,
      maxLength: Math.min(Number(tokenizer.model_max_length) || 512, opts.maxLength ?? 128),
      special,
      unk,
      continuation: tj?.model?.continuing_subword_prefix ?? '##',
    }, defaultRunCostTokens(ms, rt.padSplitTokens));
  }

  async entities(texts: string[]): Promise<NerEntity[][]> {
    if (texts.length === 0) return [];
    const enc = encodeTexts(this.tokenizer, texts, this.decode.maxLength);
    return runByLength(this.ms, enc, this.runCostTokens, (feeds, indices) => this.decodeBatch(feeds, indices.map((i) => texts[i]!)));
  }

  private async decodeBatch(feeds: Record<string, ort.Tensor>, texts: string[]): Promise<NerEntity[][]> {
    const out = await this.ms.session.run(feeds, ['logits']);
    const logits = out.logits!;
    const [n, t, l] = logits.dims as [number, number, number];
    if (l !== this.labels.length) throw new Error(`NER model gives ${l} logits per token for ${this.labels.length} labels`);
    const data = logits.data as Float32Array;
    const ids = feeds.input_ids!.data as BigInt64Array;
    const mask = feeds.attention_mask?.data as BigInt64Array | undefined;
    return Array.from({ length: n }, (_, b) => {
      const tokens: string[] = [];
      const probs: Float32Array[] = [];
      for (let j = 0; j < t; j++) {
        if (mask && mask[b * t + j] === 0n) break; // padding
        tokens.push(this.idToToken[Number(ids[b * t + j])] ?? this.decode.unk!);
        probs.push(softmax(data.subarray((b * t + j) * l, (b * t + j + 1) * l)));
      }
      return decodeEntities(texts[b]!, tokens, probs, this.labels, this.decode);
    });
  }

  sessions(): ModelSession[] {
    return [this.ms];
  }

  async release(): Promise<void> {
    await this.ms.session.release();
  }
}
