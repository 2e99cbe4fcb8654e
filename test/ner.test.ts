import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildTokenClassifier, DEFAULT_NER_LABELS } from '../src/models/build/ner.ts';
import { NerModel, alignTokens, decodeEntities, type NerEntity } from '../src/models/ner.ts';
import { createSession, ort } from '../src/models/runtime.ts';
import { loadTokenizer } from '../src/models/hf.ts';
import { buildLexicon, type LexiconFacets } from '../src/understanding/lexicon.ts';
import { extractSlots } from '../src/understanding/slots.ts';
import { mergeEntities } from '../src/understanding/ner-merge.ts';
import { understandQuery } from '../src/understanding/understand.ts';
import { startTestServer, postJson } from './helpers/server.ts';

const rt = { device: 'cpu' as const, threads: 1 };
const LABELS: string[] = [...DEFAULT_NER_LABELS];
const TYPES = new Set(LABELS.filter((l) => l !== 'O').map((l) => l.slice(2)));
let root: string;
let nerDir: string;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-ner-'));
  nerDir = path.join(root, 'ner');
  await buildTokenClassifier(nerDir, { preset: 'tiny', seed: 42, fp16: true });
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

// ---------------------------------------------------------------- builder

test('the built token classifier has the HF BertForTokenClassification layout and export signature', async () => {
  const cfg = JSON.parse(fs.readFileSync(path.join(nerDir, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.architectures, ['BertForTokenClassification']);
  assert.deepEqual(Object.values(cfg.id2label), LABELS);
  assert.deepEqual(cfg.label2id, Object.fromEntries(LABELS.map((l, i) => [l, i])));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) assert.ok(fs.existsSync(path.join(nerDir, f)), f);

  const dims = ['batch_size', 'sequence_length'];
  for (const file of ['model.onnx', 'model_fp16.onnx']) {
    const ms = await createSession(path.join(nerDir, 'onnx', file), rt);
    const ins = ms.session.inputMetadata.map((m) => [m.name, m.isTensor ? m.type : '', m.isTensor ? m.shape : []]);
    assert.deepEqual(ins, [
      ['input_ids', 'int64', dims],
      ['attention_mask', 'int64', dims],
      ['token_type_ids', 'int64', dims],
    ], file);
    const outs = ms.session.outputMetadata.map((m) => [m.name, m.isTensor ? m.type : '', m.isTensor ? m.shape : []]);
    assert.deepEqual(outs, [['logits', 'float32', [...dims, LABELS.length]]], file);
    // Dynamic batch and length really are dynamic.
    for (const [b, t] of [[1, 3], [3, 9]] as const) {
      const ids = new ort.Tensor('int64', BigInt64Array.from({ length: b * t }, (_, i) => BigInt(101 + (i % 50))), [b, t]);
      const ones = new ort.Tensor('int64', new BigInt64Array(b * t).fill(1n), [b, t]);
      const zeros = new ort.Tensor('int64', new BigInt64Array(b * t), [b, t]);
      const out = await ms.session.run({ input_ids: ids, attention_mask: ones, token_type_ids: zeros });
      assert.deepEqual(out.logits!.dims, [b, t, LABELS.length]);
      for (const v of out.logits!.data as Float32Array) assert.ok(Number.isFinite(v));
    }
    await ms.session.release();
  }
});

test('same seed builds byte-identical files', async () => {
  const again = path.join(root, 'again');
  await buildTokenClassifier(again, { preset: 'tiny', seed: 42 });
  for (const f of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) {
    assert.ok(fs.readFileSync(path.join(nerDir, f)).equals(fs.readFileSync(path.join(again, f))), f);
  }
});

// ---------------------------------------------------------------- runtime on the tiny model

const TEXTS = ['Red NIKE running shoes, size 42!', '80元以下的红色耐克跑鞋', 'ＮＩＫＥ  T-shirt for women', 'Café crème mug', '', 'zzqx blorp'];

test('NerModel on the tiny model returns well-formed entities whose offsets slice the original text', async () => {
  const m = await NerModel.load(nerDir, rt, { threshold: 0 });
  assert.deepEqual(m.labels, LABELS);
  assert.equal(m.sessions().length, 1);
  const all = await m.entities(TEXTS);
  assert.equal(all.length, TEXTS.length);
  assert.ok(all.flat().length > 0, 'with threshold 0 the random model tags something');
  all.forEach((ents, i) => {
    const text = TEXTS[i]!;
    let last = 0;
    for (const e of ents) {
      assert.ok(TYPES.has(e.type), e.type);
      assert.ok(e.start >= last && e.start < e.end && e.end <= text.length, `${text}: ${JSON.stringify(e)}`);
      assert.equal(e.text, text.slice(e.start, e.end));
      assert.equal(e.text, e.text.trim(), 'no surrounding whitespace');
      assert.ok(e.score >= 0 && e.score <= 1);
      last = e.end;
    }
  });
  assert.deepEqual(all[4], [], 'empty text, no entities');
  assert.deepEqual(await m.entities([]), []);

  // Batching and padding do not change what a text yields.
  const one = await Promise.all(TEXTS.map(async (t) => (await m.entities([t]))[0]!));
  one.forEach((ents, i) => {
    assert.deepEqual(ents.map((e) => [e.type, e.start, e.end]), all[i]!.map((e) => [e.type, e.start, e.end]), TEXTS[i]);
    ents.forEach((e, k) => assert.ok(Math.abs(e.score - all[i]![k]!.score) < 1e-4));
  });

  // The threshold keeps exactly the entities scoring at or above it.
  const scores = all.flat().map((e) => e.score).sort((a, b) => a - b);
  const cut = scores[Math.floor(scores.length / 2)]!;
  const strict = await NerModel.load(nerDir, rt, { threshold: cut });
  const kept = await strict.entities(TEXTS);
  assert.deepEqual(
    kept.map((ents) => ents.map((e) => [e.type, e.start, e.end])),
    all.map((ents) => ents.filter((e) => e.score >= cut).map((e) => [e.type, e.start, e.end])),
  );
  await Promise.all([m.release(), strict.release()]);
});

test('tokens from the real tokenizer align to the text: pieces, [UNK], accents, CJK', async () => {
  const tok = await loadTokenizer(nerDir);
  const vocab: string[] = [];
  for (const [t, id] of tok.get_vocab()) vocab[id] = t;
  const fold = (s: string) => s.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
  for (const text of [...TEXTS, 'runningshoes  Dépôt\tXL', '红色T恤 (cotton)']) {
    const tokens = tok.encode(text).map((id) => vocab[id]!);
    const spans = alignTokens(text, tokens);
    tokens.forEach((t, i) => {
      const s = spans[i];
      if (t === '[CLS]' || t === '[SEP]') return assert.equal(s, null);
      assert.ok(s, `${text}: ${t} placed`);
      const piece = t.replace(/^##/, '');
      if (t !== '[UNK]') assert.equal(fold(text.slice(s[0], s[1])), piece, `${text}: ${t}`);
    });
  }
});

// ---------------------------------------------------------------- decoding on hand-made probabilities

/** A probability row: `label` gets `p`, the rest share 1 - p. */
function row(label: string, p = 0.9): Float32Array {
  const out = new Float32Array(LABELS.length).fill((1 - p) / (LABELS.length - 1));
  out[LABELS.indexOf(label)] = p;
  return out;
}
const typeProb = (r: Float32Array, type: string) => r[LABELS.indexOf(`B-${type}`)]! + r[LABELS.indexOf(`I-${type}`)]!;
const brief = (es: NerEntity[]) => es.map((e) => [e.type, e.text, e.start, e.end]);

test('BIO decoding in English: word-pieces merge, I- without B- starts an entity, B- splits, scores are mean type probability', () => {
  const text = 'Red  Nike Airmax shoes, blue cotton; adidas puma';
  const tokens = ['[CLS]', 'red', 'nike', 'air', '##max', 'shoes', ',', 'blue', 'cotton', ';', 'adidas', 'puma', '[SEP]'];
  const probs = [
    row('O'),
    row('B-COLOR', 0.9),
    row('B-BRAND', 0.8),
    row('I-BRAND', 0.6),
    row('O', 0.95), // a word-piece stays with its word whatever its own label
    row('B-CATEGORY', 0.95),
    row('O'),
    row('I-COLOR', 0.9), // I- with nothing open starts an entity
    row('I-MATERIAL', 0.9), // I- of another type starts a new one
    row('O'),
    row('B-BRAND', 0.9),
    row('B-BRAND', 0.9), // B- after B- of the same type: two entities
    row('O'),
  ];
  const es = decodeEntities(text, tokens, probs, LABELS, { threshold: 0 });
  assert.deepEqual(brief(es), [
    ['COLOR', 'Red', 0, 3],
    ['BRAND', 'Nike Airmax', 5, 16],
    ['CATEGORY', 'shoes', 17, 22],
    ['COLOR', 'blue', 24, 28],
    ['MATERIAL', 'cotton', 29, 35],
    ['BRAND', 'adidas', 37, 43],
    ['BRAND', 'puma', 44, 48],
  ]);
  const brand = es[1]!;
  const expected = (typeProb(probs[2]!, 'BRAND') + typeProb(probs[3]!, 'BRAND') + typeProb(probs[4]!, 'BRAND')) / 3;
  assert.ok(Math.abs(brand.score - expected) < 1e-6, `${brand.score} vs ${expected}`);

  // The default threshold (0.5) drops the word-piece-diluted brand, keeps the confident ones.
  const kept = decodeEntities(text, tokens, probs, LABELS);
  assert.ok(brand.score < 0.5);
  assert.deepEqual(brief(kept).map((e) => e[1]), ['Red', 'shoes', 'blue', 'cotton', 'adidas', 'puma']);
});

test('BIO decoding in Chinese and mixed text: one token per character, [UNK] and full-width offsets', () => {
  const zh = '我要80元以下的红色耐克跑鞋';
  const tokens = ['[CLS]', '我', '要', '80', '元', '以', '下', '的', '红', '色', '耐', '克', '跑', '鞋', '[SEP]'];
  const labels = ['O', 'O', 'O', 'O', 'O', 'O', 'O', 'O', 'B-COLOR', 'I-COLOR', 'B-BRAND', 'I-BRAND', 'B-CATEGORY', 'I-CATEGORY', 'O'];
  const es = decodeEntities(zh, tokens, labels.map((l) => row(l)), LABELS);
  assert.deepEqual(brief(es), [
    ['COLOR', '红色', 8, 10],
    ['BRAND', '耐克', 10, 12],
    ['CATEGORY', '跑鞋', 12, 14],
  ]);
  for (const e of es) assert.ok(Math.abs(e.score - typeProb(row('B-BRAND'), 'BRAND')) < 1e-6);

  // Full-width Latin is not in the vocabulary: the [UNK] covers the whole word it replaced.
  const mixed = 'ＮＩＫＥ 红色 Tshirts';
  const t2 = ['[CLS]', '[UNK]', '红', '色', 'ts', '##hir', '##ts', '[SEP]'];
  const l2 = ['O', 'B-BRAND', 'B-COLOR', 'I-COLOR', 'B-CATEGORY', 'I-CATEGORY', 'O', 'O'];
  assert.deepEqual(brief(decodeEntities(mixed, t2, l2.map((l) => row(l)), LABELS)), [
    ['BRAND', 'ＮＩＫＥ', 0, 4],
    ['COLOR', '红色', 5, 7],
    ['CATEGORY', 'Tshirts', 8, 15],
  ]);

  // Accents (precomposed or combining) fold away in the tokens but stay in the reported text.
  const accents = 'Cafe\u0301 Crème';
  const t3 = ['[CLS]', 'cafe', 'cr', '##eme', '[SEP]'];
  const l3 = ['O', 'B-BRAND', 'I-BRAND', 'O', 'O'];
  assert.deepEqual(brief(decodeEntities(accents, t3, l3.map((l) => row(l)), LABELS)), [['BRAND', 'Cafe\u0301 Crème', 0, 11]]);
});

// ---------------------------------------------------------------- merge into understanding

const counts = (values: string[]) => values.map((value, i) => ({ value, count: 100 - i }));
const FACETS: LexiconFacets = {
  brands: counts(['nike', 'adidas', 'puma']),
  categories: counts(['running shoes', 'sneakers', 't-shirts', 'mugs']),
  colors: counts(['red', 'dark red', 'blue', 'black']),
  attributes: { material: counts(['leather', 'cotton']) },
  price: null,
};
const lex = buildLexicon(FACETS);
const ent = (text: string, type: string, surface: string, score = 0.9): NerEntity => {
  const start = text.indexOf(surface);
  assert.ok(start >= 0, `${surface} in ${text}`);
  return { type, text: surface, start, end: start + surface.length, score };
};

test('mergeEntities: the lexicon wins on overlap and on slot types it already filled', () => {
  const text = 'nike hoka running shoes';
  const u = extractSlots(text, lex);
  assert.deepEqual(u.slots.brand, ['nike']);
  const merged = mergeEntities(u, [ent(text, 'CATEGORY', 'nike'), ent(text, 'BRAND', 'hoka'), ent(text, 'COLOR', 'running')], lex);
  // CATEGORY over "nike" and COLOR over "running" overlap lexicon matches; BRAND: the lexicon has a brand.
  assert.deepEqual(merged, u);
});

test('mergeEntities: an entity fills a missing slot; an unknown value is a slot without a filter', () => {
  const text = 'hoka running shoes 42 merino';
  const u = extractSlots(text, lex);
  assert.equal(u.slots.brand, undefined);
  const merged = mergeEntities(u, [ent(text, 'BRAND', 'hoka'), ent(text, 'SIZE', '42'), ent(text, 'PER', 'shoes')], lex);
  assert.deepEqual(merged.slots.brand, ['hoka']);
  assert.equal(merged.filters.brand, undefined, 'hoka is not in the catalog');
  assert.deepEqual(merged.filters.category, u.filters.category);
  assert.equal(merged.slots.size, '42');
  assert.ok(merged.unfiltered.some((x) => x.slot === 'brand' && x.value === 'hoka' && x.reason === 'not-in-catalog'));
  assert.ok(merged.unfiltered.some((x) => x.slot === 'size' && x.value === '42' && x.reason === 'not-filterable'));
  const hoka = merged.matches.find((m) => m.slot === 'brand')!;
  assert.deepEqual(hoka, { slot: 'brand', value: 'hoka', surface: 'hoka', span: [0, 4], source: 'ner', filterValues: [] });
  assert.ok(!merged.matches.some((m) => m.slot === 'PER' || m.surface === 'shoes' && m.source === 'ner'), 'unknown entity types are ignored');
  assert.equal(merged.text, u.text);
  assert.equal(u.slots.brand, undefined, 'the input is not mutated');
});

test('mergeEntities: an entity canonicalised to a catalog value becomes a filter', () => {
  // 红包 ("red envelope") is a lexicon blocker, so in 红包装 ("red packaging") the lexicon sees no colour.
  const zh = '红包装的耐克鞋';
  const u = extractSlots(zh, lex);
  assert.equal(u.slots.color, undefined);
  assert.deepEqual(u.slots.brand, ['nike']);
  const merged = mergeEntities(u, [ent(zh, 'COLOR', '红')], lex);
  assert.deepEqual(merged.slots.color, ['red']);
  assert.deepEqual([...merged.filters.color!].sort(), ['dark red', 'red']);
  assert.deepEqual(merged.filters.brand, ['nike']);
  const m = merged.matches.find((x) => x.source === 'ner')!;
  assert.deepEqual([m.slot, m.value, m.surface, m.span], ['color', 'red', '红', [0, 1]]);

  assert.equal(merged.conceptText, 'red nike shoes');
});

test('understandQuery merges entities from the optional dep and works without it', async () => {
  const classify = async () => ({ label: 'product_search', confidence: 0.9, alternatives: [] });
  const text = 'hoka running shoes';
  const plain = await understandQuery(text, { classify, lexicon: () => lex });
  assert.equal(plain.slots.brand, undefined);
  let seen = '';
  const withNer = await understandQuery(text, {
    classify,
    lexicon: () => lex,
    entities: async (t) => ((seen = t), [ent(t, 'BRAND', 'hoka')]),
  });
  assert.equal(seen, text);
  assert.deepEqual(withNer.slots.brand, ['hoka']);
  assert.deepEqual(withNer.filters, plain.filters);
  assert.ok(withNer.matches.some((m) => m.source === 'ner' && m.value === 'hoka'));
});

// ---------------------------------------------------------------- server

test('with OMNISEARCH_NER_MODEL set the server starts, /readyz lists ner and /v1/understand answers', async () => {
  const s = await startTestServer({ OMNISEARCH_NER_MODEL: nerDir });
  try {
    const ready = await fetch(`${s.url}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { models: { role: string; file: string; variant: string }[] };
    const ner = body.models.find((m) => m.role === 'ner');
    assert.ok(ner, JSON.stringify(body.models.map((m) => m.role)));
    assert.match(ner.file, /onnx\/model\.onnx$/);
    assert.equal(ner.variant, 'fp32');
    const u = await postJson(`${s.url}/v1/understand`, { text: 'red nike running shoes under 80 dollars' });
    assert.equal(u.status, 200);
    assert.deepEqual(u.body.slots.brand, ['nike'], 'lexicon slots stand with the NER model on');
    assert.deepEqual(u.body.slots.color, ['red']);
    assert.equal(u.body.slots.priceMax, 80);
    assert.ok(s.running.holder.engine!.nerQueue!.stats.items >= 1, 'the query went through the NER model');
  } finally {
    await s.close();
  }
});
