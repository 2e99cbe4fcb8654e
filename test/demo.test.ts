import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { makeIntentDataset, dedupeKey, INTENT_LABELS } from '../scripts/make-intent-dataset.ts';
import { DEMO_BRANDS, DEMO_CATEGORIES, DEMO_COLORS, DEMO_IMAGE_SIZE, generateDemoCatalog, imageSpecOf, renderProductImage } from '../src/catalog/demo.ts';
import { productInput, type ProductInput } from '../src/catalog/types.ts';
import { makeDemoQrels } from '../src/eval/demo-qrels.ts';
import { readQrels } from '../src/eval/qrels.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-demo-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const hasHan = (t: string) => /\p{Script=Han}/u.test(t);
const imageHashes = (root: string, ps: ProductInput[]) => ps.map((p) => sha(fs.readFileSync(path.join(root, p.image!))));

// One default catalog (what `serve` ingests) shared by the catalog and qrels tests: it takes seconds.
const rootA = path.join(tmp, 'a');
let shared: Promise<ProductInput[]> | null = null;
const defaultCatalog = () => (shared ??= generateDemoCatalog({ imageRoot: rootA }));

describe('demo catalog', () => {
  let products: ProductInput[];
  before(async () => {
    products = await defaultCatalog();
  });

  test('same seed -> same products and byte-identical images; another seed differs', async () => {
    const rootB = path.join(tmp, 'b');
    const again = await generateDemoCatalog({ imageRoot: rootB });
    assert.deepEqual(again, products);
    assert.deepEqual(imageHashes(rootB, again), imageHashes(rootA, products));
    const other = await generateDemoCatalog({ imageRoot: path.join(tmp, 'c'), count: 40, seed: 12 });
    assert.equal(other.length, 40);
    assert.notDeepEqual(other.map((p) => p.title), products.slice(0, 40).map((p) => p.title));
  });

  test('300 products by default, each valid against the Product schema, ids and SKUs unique', () => {
    assert.equal(products.length, 300);
    for (const p of products) {
      const r = productInput.safeParse(p);
      assert.ok(r.success, `${p.id}: ${r.success ? '' : r.error.message}`);
      assert.equal(p.currency, 'USD');
      assert.ok(typeof p.price === 'number' && p.price > 0, `${p.id} has a price`);
      assert.equal(p.image, `demo/${p.id}.png`);
    }
    assert.equal(new Set(products.map((p) => p.id)).size, products.length);
    assert.equal(new Set(products.map((p) => p.sku)).size, products.length);
  });

  test('vocabularies: >= 12 categories, >= 10 colours, the named brands, several colours per category', () => {
    const cats = new Set(products.map((p) => p.category));
    assert.ok(cats.size >= 12, `${cats.size} categories`);
    assert.ok(new Set(products.map((p) => p.color)).size >= 10);
    for (const p of products) {
      assert.ok(DEMO_CATEGORIES.some((c) => c.name === p.category), p.category);
      assert.ok(DEMO_COLORS.some((c) => c.name === p.color), p.color);
      assert.ok(DEMO_BRANDS.some((b) => b.name === p.brand), p.brand);
      assert.equal(p.category, p.category!.toLowerCase());
    }
    for (const c of DEMO_COLORS) assert.match(c.hex, /^#[0-9a-f]{6}$/);
    const brands = new Set(DEMO_BRANDS.map((b) => b.name.toLowerCase()));
    for (const b of ['nike', 'adidas', 'puma', 'new balance', 'asics', 'uniqlo', 'zara', 'sony', 'apple', 'samsung', 'casio', 'ikea', 'li-ning', 'anta']) assert.ok(brands.has(b), b);
    for (const cat of cats) {
      const colours = new Set(products.filter((p) => p.category === cat).map((p) => p.color));
      assert.ok(colours.size >= 5, `${cat} comes in ${colours.size} colours`);
    }
  });

  test('about a tenth of the products are listed in Chinese', () => {
    const zh = products.filter((p) => hasHan(p.title) && hasHan(p.description ?? ''));
    assert.ok(zh.length >= 20 && zh.length <= 45, `${zh.length} Chinese listings`);
    assert.ok(zh.some((p) => p.brand === 'Li-Ning' || p.brand === 'Anta'));
  });

  test('images exist, are PNGs of the declared size', async () => {
    for (const p of products) {
      const meta = await sharp(path.join(rootA, p.image!)).metadata();
      assert.equal(meta.format, 'png', p.id);
      assert.equal(meta.width, DEMO_IMAGE_SIZE, p.id);
      assert.equal(meta.height, DEMO_IMAGE_SIZE, p.id);
    }
  });

  test('the drawing carries the product colour, and variants are different pictures', async () => {
    // Mean colour of the non-background pixels: a red mug is red-dominant, a blue one blue-dominant.
    const meanInk = async (png: Buffer) => {
      const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      const sum = [0, 0, 0];
      let n = 0;
      for (let i = 0; i < data.length; i += 3) {
        if (data[i]! > 235 && data[i + 1]! > 235 && data[i + 2]! > 235) continue;
        for (let c = 0; c < 3; c++) sum[c] += data[i + c]!;
        n++;
      }
      assert.ok(n > 5000, 'the drawing covers a real part of the picture');
      return sum.map((s) => s / n);
    };
    for (const category of ['mugs', 'running shoes', 't-shirts', 'backpacks']) {
      const [r1, g1, b1] = await meanInk(await renderProductImage({ category, color: 'red' }));
      assert.ok(r1! > g1! + 40 && r1! > b1! + 40, `red ${category}: ${[r1, g1, b1]}`);
      const [r2, g2, b2] = await meanInk(await renderProductImage({ category, color: 'blue' }));
      assert.ok(b2! > r2! + 40 && b2! > g2! + 20, `blue ${category}: ${[r2, g2, b2]}`);
    }
    const p = products[0]!;
    const original = fs.readFileSync(path.join(rootA, p.image!));
    assert.equal(sha(await renderProductImage(imageSpecOf(p))), sha(original));
    const v = { background: '#e6eef6', rotateDeg: 20, scale: 0.8, offset: [10, -5] as [number, number], noise: true };
    const shot = await renderProductImage(imageSpecOf(p), v);
    assert.notEqual(sha(shot), sha(original));
    assert.equal(sha(await renderProductImage(imageSpecOf(p), v)), sha(shot), 'variants are deterministic too');
    await assert.rejects(renderProductImage({ category: 'spaceships', color: 'red' }), /no drawing for category/);
  });
});

describe('intent dataset', () => {
  const dir = path.resolve(import.meta.dirname, '../datasets/intents');
  const splits = ['train', 'val', 'test'] as const;
  const read = (n: string) =>
    fs
      .readFileSync(path.join(dir, `${n}.jsonl`), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l, i) => {
        const v = JSON.parse(l) as { text: unknown; label: unknown };
        assert.ok(typeof v.text === 'string' && v.text.trim().length > 0, `${n}.jsonl:${i + 1} has text`);
        assert.ok(typeof v.label === 'string', `${n}.jsonl:${i + 1} has a label`);
        return v as { text: string; label: string };
      });
  const data = Object.fromEntries(splits.map((n) => [n, read(n)])) as Record<(typeof splits)[number], { text: string; label: string }[]>;
  const all = splits.flatMap((n) => data[n]);

  test('>= 1000 lines, known labels, every label >= 8% overall and present in every split', () => {
    assert.ok(all.length >= 1000, `${all.length} lines`);
    for (const r of all) assert.ok((INTENT_LABELS as readonly string[]).includes(r.label), r.label);
    for (const label of INTENT_LABELS) {
      const share = all.filter((r) => r.label === label).length / all.length;
      assert.ok(share >= 0.08, `${label}: ${(share * 100).toFixed(1)}%`);
      for (const n of splits) assert.ok(data[n].some((r) => r.label === label), `${label} in ${n}`);
    }
  });

  test('>= 30% Chinese, and each label has both languages', () => {
    const zh = all.filter((r) => hasHan(r.text)).length / all.length;
    assert.ok(zh >= 0.3, `${(zh * 100).toFixed(1)}% Chinese`);
    for (const label of INTENT_LABELS) {
      const rows = all.filter((r) => r.label === label);
      assert.ok(rows.filter((r) => hasHan(r.text)).length >= 40, `${label} has Chinese lines`);
      assert.ok(rows.filter((r) => !hasHan(r.text)).length >= 40, `${label} has English lines`);
    }
  });

  test('no text (even up to case and punctuation) in two splits or twice', () => {
    const keys = all.map((r) => dedupeKey(r.text));
    assert.equal(new Set(keys).size, keys.length);
    const train = new Set(data.train.map((r) => r.text));
    for (const r of [...data.val, ...data.test]) assert.ok(!train.has(r.text), `"${r.text}" is in train and a held-out split`);
  });

  test('the committed files are what the seeded script generates', () => {
    const gen = makeIntentDataset(7);
    for (const n of splits) assert.deepEqual(gen[n], data[n], `${n}.jsonl is stale: rerun scripts/make-intent-dataset.ts`);
    assert.ok(fs.readFileSync(path.join(dir, 'README.md'), 'utf8').includes(`${all.length} lines`));
  });
});

describe('demo qrels', () => {
  let products: ProductInput[];
  let file: string;
  const imageRoot = rootA;
  const outDir = path.join(tmp, 'qrels');
  before(async () => {
    const espeak = spawnSync('espeak-ng', ['--version']);
    assert.ok(!espeak.error && espeak.status === 0, 'espeak-ng must be on PATH for the voice qrels (apt-get install -y espeak-ng)');
    products = await defaultCatalog();
    file = await makeDemoQrels({ products, imageRoot, outDir, seed: 3 });
  });

  test('>= 40 queries per modality; readQrels accepts the file and finds every referenced file', () => {
    const { queries } = readQrels(file);
    for (const m of ['text', 'image', 'voice', 'mixed'] as const) {
      const n = queries.filter((q) => q.modality === m).length;
      assert.ok(n >= 40, `${m}: ${n} queries`);
    }
    const raw = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const q of raw) {
      for (const k of ['image', 'audio'] as const) if (q[k]) assert.ok(fs.statSync(path.join(outDir, q[k] as string)).size > 1000, `${q.id} ${k}`);
    }
    assert.equal(new Set(raw.map((q) => q.id)).size, raw.length);
  });

  test('relevant ids exist, grades are 1..3, each query has a top-graded product', () => {
    const ids = new Set(products.map((p) => p.id));
    for (const q of readQrels(file).queries) {
      const grades = Object.entries(q.relevant);
      for (const [id, g] of grades) {
        assert.ok(ids.has(id), `${q.id}: ${id} is not in the catalog`);
        assert.ok([1, 2, 3].includes(g), `${q.id}: grade ${g}`);
      }
      assert.ok(grades.some(([, g]) => g >= 2), `${q.id} has a strongly relevant product`);
    }
  });

  test('grades follow the attributes: text, photo and photo + colour', () => {
    const byId = new Map(products.map((p) => [p.id, p]));
    const { queries } = readQrels(file);
    const text = queries.filter((q) => q.modality === 'text');
    assert.ok(text.filter((q) => hasHan(q.text!)).length >= 8, 'Chinese text queries');
    for (const q of text.filter((q) => !hasHan(q.text!))) {
      for (const [id, g] of Object.entries(q.relevant)) {
        const p = byId.get(id)!;
        assert.ok(q.text!.includes(p.category!), `${q.id} "${q.text}" lists a ${p.category}`);
        const colour = DEMO_COLORS.find((c) => q.text!.split(/\s/).includes(c.name))?.name;
        const brand = DEMO_BRANDS.find((b) => q.text!.includes(b.name.toLowerCase()))?.name;
        const colourOk = !colour || p.color === colour;
        const brandOk = !brand || p.brand === brand;
        assert.equal(g, colourOk && brandOk ? 3 : colour && colourOk ? 2 : 1, `${q.id} "${q.text}": ${p.title} graded ${g}`);
      }
    }
    for (const q of queries.filter((q) => q.modality === 'image')) {
      const top = Object.entries(q.relevant).filter(([, g]) => g === 3);
      assert.equal(top.length, 1, `${q.id} is a shot of one product`);
      const shot = byId.get(top[0]![0])!;
      assert.notEqual(sha(fs.readFileSync(path.join(outDir, q.image!))), sha(fs.readFileSync(path.join(imageRoot, shot.image!))), `${q.id} is not the indexed picture`);
      for (const id of Object.keys(q.relevant)) {
        assert.equal(byId.get(id)!.category, shot.category);
        assert.equal(byId.get(id)!.color, shot.color);
      }
    }
    for (const q of queries.filter((q) => q.modality === 'mixed')) {
      const colour = DEMO_COLORS.find((c) => q.text!.includes(c.name) || q.text!.includes(c.zh));
      assert.ok(colour, `${q.id} "${q.text}" names a colour`);
      for (const id of Object.keys(q.relevant)) assert.equal(byId.get(id)!.color, colour.name, `${q.id}: ${id}`);
      assert.equal(new Set(Object.keys(q.relevant).map((id) => byId.get(id)!.category)).size, 1);
    }
  });

  test('voice queries are WAV files, some in Mandarin; the run is deterministic', async () => {
    const raw = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { modality: string; audio?: string; transcript?: string });
    const voice = raw.filter((q) => q.modality === 'voice');
    for (const q of voice) {
      const head = fs.readFileSync(path.join(outDir, q.audio!)).subarray(0, 12);
      assert.equal(head.toString('latin1', 0, 4), 'RIFF');
      assert.equal(head.toString('latin1', 8, 12), 'WAVE');
      assert.ok(q.transcript);
    }
    const voices = spawnSync('espeak-ng', ['--voices=cmn'], { encoding: 'utf8' }).stdout;
    if (/\bcmn\b/.test(voices)) assert.ok(voice.some((q) => hasHan(q.transcript!)), 'Mandarin voice queries');

    const again = path.join(tmp, 'qrels-again');
    const file2 = await makeDemoQrels({ products, imageRoot, outDir: again, seed: 3 });
    assert.equal(fs.readFileSync(file2, 'utf8'), fs.readFileSync(file, 'utf8'));
    for (const q of raw.filter((q) => q.modality !== 'text').slice(0, 200)) {
      const rel = (q as { image?: string; audio?: string }).image ?? q.audio!;
      assert.equal(sha(fs.readFileSync(path.join(again, rel))), sha(fs.readFileSync(path.join(outDir, rel))), rel);
    }
  });

  test('voice without espeak-ng fails with a message saying what to install; voice: false skips it', async () => {
    const saved = process.env.PATH;
    process.env.PATH = path.join(tmp, 'empty-bin');
    try {
      await assert.rejects(makeDemoQrels({ products, imageRoot, outDir: path.join(tmp, 'no-espeak'), voice: true }), /espeak-ng.*apt-get install -y espeak-ng/);
      const f = await makeDemoQrels({ products, imageRoot, outDir: path.join(tmp, 'no-voice'), voice: false, perModality: 40 });
      const { queries } = readQrels(f);
      assert.equal(queries.filter((q) => q.modality === 'voice').length, 0);
      assert.ok(queries.filter((q) => q.modality === 'mixed').length >= 40);
    } finally {
      process.env.PATH = saved;
    }
  });
});
