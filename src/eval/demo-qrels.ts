/**
 * A labelled query set for the demo catalog, per modality, for `omnisearch eval`:
 *
 *  - text:  queries built from product attributes ("red nike running shoes", "蓝色马克杯");
 *           grade 3 = every attribute the query names matches, 2 = category and colour match,
 *           1 = category matches.
 *  - image: re-rendered shots of catalog products (another background, angle, size, position,
 *           sometimes sensor noise), so the query is never the indexed picture itself;
 *           grade 3 = that product, 2 = same category and colour.
 *  - mixed: such a shot plus a colour change ("like this but in red"); grade 3 = same category,
 *           new colour and same brand, 2 = same category and new colour.
 *  - voice: text queries spoken by espeak-ng (English; Mandarin where espeak-ng has it), graded
 *           like their text.
 *
 * Paths in qrels.jsonl are relative to outDir, as src/eval/qrels.ts expects. Same products and
 * seed give the same file and the same images (and the same audio with the same espeak-ng).
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { DEMO_BRANDS, DEMO_CATEGORIES, DEMO_COLORS, DEMO_IMAGE_SIZE, imageSpecOf, renderProductImage, type ImageVariant } from '../catalog/demo.ts';
import type { ProductInput } from '../catalog/types.ts';
import { Rng } from '../models/onnx/rng.ts';
import { writeFileAtomic } from '../util/atomic.ts';

const run = promisify(execFile);

export interface DemoQrelsOptions {
  products: ProductInput[];
  /** Where the products' images live; used for products the demo drawings do not cover. */
  imageRoot: string;
  outDir: string;
  seed?: number;
  /** Spoken queries (needs espeak-ng on PATH). Default true. */
  voice?: boolean;
  /** Queries per modality; default 48. */
  perModality?: number;
}

export interface DemoQrel {
  id: string;
  modality: 'text' | 'image' | 'voice' | 'mixed';
  text?: string;
  image?: string;
  audio?: string;
  /** What a voice query says (not sent to search; for reading the file and for WER). */
  transcript?: string;
  relevant: Record<string, number>;
}

const BACKGROUNDS = ['#f1ede4', '#e6eef6', '#eef3e8', '#f6e9ee', '#ececec', '#fdf6e3', '#e9e4f2', '#f4f0ea'];

export async function makeDemoQrels(opts: DemoQrelsOptions): Promise<string> {
  const n = opts.perModality ?? 48;
  const voice = opts.voice ?? true;
  const espeak = voice ? espeakVoices() : null; // fail before writing anything
  const products = opts.products.filter((p) => p.category && p.color);
  if (products.length === 0) throw new Error('makeDemoQrels needs products with a category and a colour');
  const rng = new Rng(opts.seed ?? 1);
  fs.mkdirSync(path.join(opts.outDir, 'images'), { recursive: true });

  const queries: DemoQrel[] = [];
  const nextId = () => `q${String(queries.length + 1).padStart(3, '0')}`;
  const seenText = new Set<string>();

  for (const q of textQueries(products, n, seenText, rng.fork('text'))) {
    queries.push({ id: nextId(), modality: 'text', text: q.text, relevant: q.relevant });
  }

  const imgRng = rng.fork('image');
  for (const p of sample(products, n, imgRng)) {
    const id = nextId();
    const image = `images/${id}.png`;
    await writeShot(p, opts, image, variantFor(imgRng));
    queries.push({ id, modality: 'image', image, relevant: photoRelevance(products, p) });
  }

  const mixRng = rng.fork('mixed');
  for (const p of sample(products, products.length, mixRng)) {
    if (queries.filter((q) => q.modality === 'mixed').length >= n) break;
    const target = recolourTarget(products, p, mixRng);
    if (!target) continue;
    const id = nextId();
    const image = `images/${id}.png`;
    await writeShot(p, opts, image, variantFor(mixRng));
    queries.push({ id, modality: 'mixed', image, text: recolourText(target, mixRng), relevant: recolourRelevance(products, p, target) });
  }

  if (espeak) {
    fs.mkdirSync(path.join(opts.outDir, 'audio'), { recursive: true });
    // Mandarin only where espeak-ng has it; about one spoken query in five.
    const spoken = textQueries(products, n, seenText, rng.fork('voice'), { zhShare: espeak.cmn ? 0.2 : 0, speech: true });
    for (const q of spoken) {
      const id = nextId();
      const audio = `audio/${id}.wav`;
      const lang = /\p{Script=Han}/u.test(q.text) ? 'cmn' : 'en';
      await run('espeak-ng', ['-v', lang, '-s', '150', '-w', path.join(opts.outDir, audio), q.text]);
      queries.push({ id, modality: 'voice', audio, transcript: q.text, relevant: q.relevant });
    }
  }

  const file = path.join(opts.outDir, 'qrels.jsonl');
  writeFileAtomic(file, queries.map((q) => JSON.stringify(q)).join('\n') + '\n');
  return file;
}

// ---------------------------------------------------------------------------------------
// Text (and spoken) queries

interface TextQuery {
  text: string;
  relevant: Record<string, number>;
}

interface Ask {
  category: string;
  color?: string;
  brand?: string;
}

function textQueries(products: ProductInput[], n: number, seen: Set<string>, rng: Rng, o: { zhShare?: number; speech?: boolean } = {}): TextQuery[] {
  const zhShare = o.zhShare ?? 0.3;
  // Mostly specific asks (they are what the grades separate); a few bare-category ones.
  const shapes: (keyof Ask)[][] = [['brand', 'color'], ['color'], ['brand', 'color'], ['brand'], ['color'], ['brand', 'color'], []];
  const out: TextQuery[] = [];
  const pool = sample(products, products.length, rng);
  for (let i = 0; out.length < n && i < pool.length * 3; i++) {
    const p = pool[i % pool.length]!;
    const shape = shapes[i % shapes.length]!;
    const ask: Ask = { category: p.category!, color: shape.includes('color') ? p.color : undefined, brand: shape.includes('brand') ? p.brand : undefined };
    const zh = rng.next() < zhShare ? phraseZh(ask) : null;
    const text = zh ?? phraseEn(ask, rng, o.speech ?? false);
    if (seen.has(text)) continue;
    seen.add(text);
    out.push({ text, relevant: textRelevance(products, ask) });
  }
  return out;
}

function phraseEn(a: Ask, rng: Rng, speech: boolean): string {
  const brand = a.brand?.toLowerCase();
  const forms = [
    [a.color, brand, a.category].filter(Boolean).join(' '),
    a.color ? `${[brand, a.category].filter(Boolean).join(' ')} in ${a.color}` : [brand, a.category].filter(Boolean).join(' '),
  ];
  const core = forms[Math.floor(rng.next() * forms.length)]!;
  // Spoken queries sound like speech: "show me ...", "I'm looking for ...".
  const lead = speech ? ['show me ', "i'm looking for ", 'find ', 'search for ', ''] : ['', '', '', 'show me '];
  return lead[Math.floor(rng.next() * lead.length)]! + core;
}

function phraseZh(a: Ask): string | null {
  const cat = DEMO_CATEGORIES.find((c) => c.name === a.category);
  const color = a.color ? DEMO_COLORS.find((c) => c.name === a.color) : undefined;
  const brand = a.brand ? DEMO_BRANDS.find((b) => b.name === a.brand) : undefined;
  if (!cat || (a.color && !color) || (a.brand && !brand)) return null; // not a demo vocabulary value
  return `${color?.zh ?? ''}${brand?.zh ?? ''}${cat.zh}`;
}

const same = (a?: string, b?: string) => a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

function textRelevance(products: ProductInput[], a: Ask): Record<string, number> {
  const rel: Record<string, number> = {};
  for (const p of products) {
    if (!same(p.category, a.category)) continue;
    const all = (!a.color || same(p.color, a.color)) && (!a.brand || same(p.brand, a.brand));
    rel[p.id] = all ? 3 : a.color && same(p.color, a.color) ? 2 : 1;
  }
  return rel;
}

// ---------------------------------------------------------------------------------------
// Photo and photo + colour queries

function photoRelevance(products: ProductInput[], shot: ProductInput): Record<string, number> {
  const rel: Record<string, number> = { [shot.id]: 3 };
  for (const p of products) if (p.id !== shot.id && same(p.category, shot.category) && same(p.color, shot.color)) rel[p.id] = 2;
  return rel;
}

/** A colour the shot's category is stocked in, other than the shot's own. */
function recolourTarget(products: ProductInput[], shot: ProductInput, rng: Rng): string | null {
  const colours = [...new Set(products.filter((p) => same(p.category, shot.category) && !same(p.color, shot.color)).map((p) => p.color!))].sort();
  return colours.length ? colours[Math.floor(rng.next() * colours.length)]! : null;
}

function recolourText(colour: string, rng: Rng): string {
  const zh = DEMO_COLORS.find((c) => c.name === colour)?.zh;
  const en = [`like this but in ${colour}`, `this in ${colour}`, `same thing in ${colour}`, `${colour} version of this`, `do you have this in ${colour}?`];
  const cn = zh ? [`这个的${zh}款`, `有没有${zh}的`, `同款${zh}`] : [];
  const forms = rng.next() < 0.25 && cn.length ? cn : en;
  return forms[Math.floor(rng.next() * forms.length)]!;
}

function recolourRelevance(products: ProductInput[], shot: ProductInput, colour: string): Record<string, number> {
  const rel: Record<string, number> = {};
  for (const p of products) {
    if (same(p.category, shot.category) && same(p.color, colour)) rel[p.id] = same(p.brand, shot.brand) ? 3 : 2;
  }
  return rel;
}

function variantFor(rng: Rng): ImageVariant {
  const r = (lo: number, hi: number) => lo + (hi - lo) * rng.next();
  return {
    background: BACKGROUNDS[Math.floor(rng.next() * BACKGROUNDS.length)],
    rotateDeg: Math.round(r(-30, 30)),
    scale: Math.round(r(0.65, 1.0) * 100) / 100,
    offset: [Math.round(r(-25, 25)), Math.round(r(-25, 25))],
    noise: rng.next() < 0.5,
  };
}

/** Demo products are re-drawn; any other product's own image file is re-shot with sharp. */
async function writeShot(p: ProductInput, o: DemoQrelsOptions, rel: string, v: ImageVariant): Promise<void> {
  const drawable = DEMO_CATEGORIES.some((c) => c.name === p.category) && DEMO_COLORS.some((c) => c.name === p.color);
  let png: Buffer;
  if (drawable) png = await renderProductImage(imageSpecOf(p), v);
  else if (p.image && fs.existsSync(path.join(o.imageRoot, p.image))) png = await reshoot(path.join(o.imageRoot, p.image), v);
  else throw new Error(`product ${p.id}: no demo drawing for ${p.category}/${p.color} and no image file under ${o.imageRoot}`);
  fs.writeFileSync(path.join(o.outDir, rel), png);
}

async function reshoot(file: string, v: ImageVariant): Promise<Buffer> {
  const S = DEMO_IMAGE_SIZE;
  const background = v.background ?? '#ffffff';
  const inner = Math.round(S * Math.min(1, v.scale ?? 1));
  const shot = await sharp(file).flatten({ background }).rotate(v.rotateDeg ?? 0, { background }).resize(inner, inner, { fit: 'contain', background }).toBuffer();
  const clamp = (x: number) => Math.max(0, Math.min(S - inner, Math.round(x)));
  const [dx, dy] = v.offset ?? [0, 0];
  return sharp({ create: { width: S, height: S, channels: 3, background } })
    .composite([{ input: shot, left: clamp((S - inner) / 2 + dx), top: clamp((S - inner) / 2 + dy) }])
    .png()
    .toBuffer();
}

// ---------------------------------------------------------------------------------------

/** Voices of the espeak-ng on PATH; throws a clear error when there is none. */
export function espeakVoices(): { cmn: boolean } {
  const res = spawnSync('espeak-ng', ['--voices=cmn'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new Error(
      'voice queries need espeak-ng on PATH (Debian/Ubuntu: apt-get install -y espeak-ng); ' +
        `pass voice: false to build the text, image and mixed queries only (${res.error?.message ?? `exit ${res.status}`})`,
    );
  }
  return { cmn: /\bcmn\b/.test(res.stdout) };
}

/** `k` distinct items in a seeded order (all of them when k >= length). */
function sample<T>(items: readonly T[], k: number, rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}
