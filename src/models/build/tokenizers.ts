/**
 * Tokenizer files for built model packs, in the real Hugging Face `tokenizers` JSON formats:
 * - CLIP: byte-level BPE with `</w>` end-of-word suffix, <|startoftext|>/<|endoftext|> last in the
 *   vocab (CLIP pools at argmax(input_ids), which relies on <|endoftext|> being the highest id).
 * - BERT: WordPiece (uncased, `##` continuation, CJK characters split by the BertNormalizer),
 *   [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103 as in Google's BERT vocabularies.
 *
 * Vocabularies are learned (BPE) or collected (WordPiece) from a small built-in e-commerce word
 * list so that common query words are single tokens, then padded deterministically to the
 * preset's vocab size. Nothing here is random: same preset -> same files.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Words a product search sees: learned into the vocabularies so queries tokenize sensibly. */
export const SEED_WORDS = `
a an the and or for with without in on of to from by under over below above less than more cheap cheaper
price prices deal deals sale discount coupon offer cheapest best top new buy shop store where when how what
which is are do does can my me i you it this that these those find show search looking want need
red blue green black white grey gray pink purple yellow orange brown beige navy gold silver colour color
nike adidas puma reebok apple samsung sony lg ikea zara gucci levis asics converse vans xiaomi huawei lenovo dell hp
shoe shoes sneaker sneakers running trainer trainers boot boots sandal sandals heel heels slipper
shirt shirts t-shirt tee dress dresses skirt jeans pants trousers shorts jacket coat hoodie sweater sock socks
bag bags backpack wallet watch watches hat cap scarf glove gloves belt sunglasses jewelry ring necklace
phone phones smartphone laptop tablet headphones earbuds camera tv television speaker charger cable case
chair table sofa lamp bed desk kitchen mug cup bottle pan pot knife towel pillow blanket
size small medium large xl xxl men women kids girl boy baby unisex cotton leather wool denim waterproof
order orders delivery deliver delivered shipping ship shipped track tracking package parcel arrive arrived late
return returns refund exchange broken damaged wrong missing complaint cancel cancelled warranty support
question material fit fits fitting wash washable battery life compatible specification specs review reviews
dollar dollars usd eur euro euros yuan rmb 0 1 2 3 4 5 6 7 8 9 10 20 30 50 80 100 200 500 1000
hello thanks please help yes no not
`.trim().split(/\s+/);

/** Chinese query text (characters become single tokens in both vocabularies). */
export const SEED_CJK = '以下的红色耐克跑鞋元蓝黑白运动鞋连衣裙手机电脑包价格便宜打折优惠订单快递物流退货退款换货投诉质量问题尺码大小号男女童装苹果华为小米我的在哪里什么时候到多少钱买找想要一个件双';

/** GPT-2's byte -> printable-character table, shared by CLIP's and Whisper's byte-level BPE. */
export const { table: BYTE_TO_UNICODE, order: BYTE_ORDER } = bytesToUnicode();

/** GPT-2's reversible byte -> printable character table (CLIP uses the same, in the same order). */
function bytesToUnicode(): { table: string[]; order: number[] } {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table: string[] = new Array(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i]!)));
  // The base vocabulary lists bytes in `bs` order (printable ranges first), like CLIP's vocab.json.
  return { table, order: bs };
}

function writeJson(dir: string, name: string, value: unknown): void {
  fs.writeFileSync(path.join(dir, name), JSON.stringify(value, null, 2) + '\n');
}

function addedToken(id: number, content: string, normalized: boolean) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized, special: true };
}

// ---------------------------------------------------------------- CLIP BPE

export interface ClipVocab {
  vocabSize: number;
  bosId: number;
  eosId: number;
}

/**
 * Learn BPE merges over the seed words (CLIP pre-tokenization: lowercase, letters runs), then pad
 * with synthetic merges (existing token + letter) until `vocabSize` (incl. the 2 special tokens).
 */
/**
 * Classic BPE training: repeatedly merge the most frequent adjacent pair in `words` (split in
 * place), recording each merge and adding the merged token, while `more()` says so.
 */
export function learnMerges(words: string[][], merges: string[], add: (token: string) => void, more: () => boolean): void {
  while (more()) {
    const counts = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) {
      const k = `${w[i]} ${w[i + 1]}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    let best = '';
    let bestN = 0;
    for (const [k, n] of counts) if (n > bestN) [best, bestN] = [k, n]; // first-seen wins ties: deterministic
    if (!best) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push(best);
    add(a + b);
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) {
      if (w[i] === a && w[i + 1] === b) w.splice(i, 2, a + b);
    }
  }
}

function clipBpe(vocabSize: number): { vocab: Map<string, number>; merges: string[] } {
  const vocab = new Map<string, number>();
  const add = (t: string) => {
    if (!vocab.has(t)) vocab.set(t, vocab.size);
  };
  const base = BYTE_ORDER.map((b) => BYTE_TO_UNICODE[b]!);
  base.forEach(add);
  base.forEach((c) => add(c + '</w>'));
  const target = vocabSize - 2;
  if (target < vocab.size) throw new Error(`CLIP vocab ${vocabSize} is smaller than the ${vocab.size + 2} byte-level base`);
  const merges: string[] = [];

  const words = [...SEED_WORDS, ...SEED_CJK].map((w) => {
    const chars = [...Buffer.from(w.toLowerCase(), 'utf8')].map((b) => BYTE_TO_UNICODE[b]!);
    chars[chars.length - 1] += '</w>';
    return chars;
  });
  learnMerges(words, merges, add, () => vocab.size < target);
  // Padding merges: extend existing word-initial tokens by one letter.
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  const ends = letters.map((l) => l + '</w>');
  let frontier = [...vocab.keys()].filter((t) => !t.endsWith('</w>') && /^[a-z]+$/.test(t));
  while (vocab.size < target) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const l of [...letters, ...ends]) {
        if (vocab.size >= target) break;
        const m = t + l;
        if (vocab.has(m)) continue;
        merges.push(`${t} ${l}`);
        add(m);
        if (!l.endsWith('</w>')) next.push(m);
      }
      if (vocab.size >= target) break;
    }
    frontier = next;
  }
  return { vocab, merges };
}

/** Write CLIP's tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.json, merges.txt. */
export function writeClipTokenizer(dir: string, vocabSize: number, maxLength = 77): ClipVocab {
  const { vocab, merges } = clipBpe(vocabSize);
  const bosId = vocab.size;
  const eosId = vocab.size + 1;
  vocab.set('<|startoftext|>', bosId);
  vocab.set('<|endoftext|>', eosId);
  const vocabObj = Object.fromEntries(vocab);
  writeJson(dir, 'tokenizer.json', {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedToken(bosId, '<|startoftext|>', true), addedToken(eosId, '<|endoftext|>', false)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['<|endoftext|>', eosId],
      cls: ['<|startoftext|>', bosId],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<|endoftext|>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: vocabObj,
      merges,
    },
  });
  const special = {
    bos_token: '<|startoftext|>',
    eos_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    pad_token: '<|endoftext|>',
  };
  writeJson(dir, 'tokenizer_config.json', {
    add_prefix_space: false,
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    errors: 'replace',
    model_max_length: maxLength,
    tokenizer_class: 'CLIPTokenizer',
    ...special,
  });
  writeJson(dir, 'special_tokens_map.json', special);
  writeJson(dir, 'vocab.json', vocabObj);
  fs.writeFileSync(path.join(dir, 'merges.txt'), ['#version: 0.2', ...merges].join('\n') + '\n');
  return { vocabSize: vocab.size, bosId, eosId };
}

// ---------------------------------------------------------------- BERT WordPiece

export interface BertVocab {
  vocabSize: number;
  padId: number;
  clsId: number;
  sepId: number;
}

const SUFFIXES = ['s', 'es', 'ed', 'ing', 'er', 'ers', 'est', 'ly', 'y', 'ies', 'ion', 'ions', 'able', 'ness', 'ment', 'al', 'ful', 'less'];

/**
 * Google's layout: [PAD], [unused0..98], [UNK], [CLS], [SEP], [MASK], then characters, `##`
 * characters, words and suffixes; the full preset adds the CJK Unified Ideographs block (as the
 * multilingual vocabulary covers it) and `[unusedN]` fillers to reach `vocabSize`.
 */
function bertVocab(vocabSize: number, allCjk: boolean): string[] {
  const tokens: string[] = ['[PAD]'];
  for (let i = 0; i < 99; i++) tokens.push(`[unused${i}]`);
  tokens.push('[UNK]', '[CLS]', '[SEP]', '[MASK]');
  const seen = new Set(tokens);
  const add = (t: string) => {
    if (!seen.has(t)) {
      seen.add(t);
      tokens.push(t);
    }
  };
  const chars: string[] = [];
  for (let c = 33; c <= 126; c++) if (!/[A-Z]/.test(String.fromCharCode(c))) chars.push(String.fromCharCode(c));
  for (const ch of 'àáâäçèéêëìíîïñòóôöùúûüß€£¥¢°×÷') chars.push(ch);
  chars.push(...SEED_CJK);
  if (allCjk) for (let c = 0x4e00; c <= 0x9fff; c++) chars.push(String.fromCodePoint(c));
  chars.forEach(add);
  chars.filter((c) => /[a-z0-9]/.test(c)).forEach((c) => add('##' + c));
  for (const w of SEED_WORDS) for (const part of w.split(/([^a-z0-9]+)/)) if (part) add(part);
  SUFFIXES.forEach((s) => add('##' + s));
  if (tokens.length > vocabSize) throw new Error(`BERT vocab needs ${tokens.length} tokens, preset allows ${vocabSize}`);
  for (let i = 99; tokens.length < vocabSize; i++) add(`[unused${i}]`);
  return tokens;
}

/** Write BERT's tokenizer.json, tokenizer_config.json, special_tokens_map.json and vocab.txt. */
export function writeBertTokenizer(dir: string, vocabSize: number, opts: { allCjk: boolean; maxLength?: number }): BertVocab {
  const tokens = bertVocab(vocabSize, opts.allCjk);
  const id = (t: string) => tokens.indexOf(t);
  const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const cls = id('[CLS]');
  const sep = id('[SEP]');
  writeJson(dir, 'tokenizer.json', {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((t) => addedToken(id(t), t, false)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(tokens.map((t, i) => [t, i])),
    },
  });
  const map = { unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' };
  writeJson(dir, 'tokenizer_config.json', {
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    model_max_length: opts.maxLength ?? 512,
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    ...map,
  });
  writeJson(dir, 'special_tokens_map.json', map);
  fs.writeFileSync(path.join(dir, 'vocab.txt'), tokens.join('\n') + '\n');
  return { vocabSize: tokens.length, padId: id('[PAD]'), clsId: cls, sepId: sep };
}
