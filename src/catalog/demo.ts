/**
 * The demo catalog: a few hundred products with their own pictures, generated from a seed.
 *
 * Every product image is an SVG drawing of the product's silhouette (a shoe is a sole, an
 * upper and laces; a mug is a body and a handle) in the product's colour, rendered to PNG by
 * sharp. The drawings are simple but honest, so a real CLIP model tells a red shoe from a blue
 * mug and the photo/mixed search paths have something meaningful to retrieve. No text is drawn:
 * font rendering differs between machines, and identical seeds must give identical PNG bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../models/onnx/rng.ts';
import type { ProductInput } from './types.ts';

export const DEMO_IMAGE_SIZE = 320;
const DEFAULT_COUNT = 300;
const DEFAULT_SEED = 20240611;
const RENDER_CONCURRENCY = 4;

// ---------------------------------------------------------------------------------------
// Vocabularies. Canonical names match the understanding lexicon's concepts (src/understanding/
// lexicon.ts), so "红色耐克跑鞋" finds these products through filters, not only through vectors.

export interface DemoColor {
  name: string;
  /** Three letters, used in SKUs. */
  code: string;
  hex: string;
  zh: string;
}

export const DEMO_COLORS: readonly DemoColor[] = [
  { name: 'red', code: 'RED', hex: '#d62828', zh: '红色' },
  { name: 'blue', code: 'BLU', hex: '#1f5fbf', zh: '蓝色' },
  { name: 'black', code: 'BLK', hex: '#1e1e1e', zh: '黑色' },
  { name: 'white', code: 'WHT', hex: '#f4f4f4', zh: '白色' },
  { name: 'green', code: 'GRN', hex: '#2e8b3d', zh: '绿色' },
  { name: 'yellow', code: 'YEL', hex: '#f2c318', zh: '黄色' },
  { name: 'pink', code: 'PNK', hex: '#f06fa8', zh: '粉色' },
  { name: 'purple', code: 'PUR', hex: '#7b3fb5', zh: '紫色' },
  { name: 'grey', code: 'GRY', hex: '#8a8d91', zh: '灰色' },
  { name: 'brown', code: 'BRN', hex: '#7a4a24', zh: '棕色' },
  { name: 'orange', code: 'ORG', hex: '#f07c1a', zh: '橙色' },
  { name: 'beige', code: 'BEI', hex: '#d9c3a0', zh: '米色' },
];

export interface DemoBrand {
  /** Display spelling, as stored in `brand`. */
  name: string;
  zh: string;
  /** Prefix of generated SKUs. */
  code: string;
  /** Price multiplier against the category's base range. */
  tier: number;
}

export const DEMO_BRANDS: readonly DemoBrand[] = [
  { name: 'Nike', zh: '耐克', code: 'NK', tier: 1.2 },
  { name: 'adidas', zh: '阿迪达斯', code: 'AD', tier: 1.15 },
  { name: 'Puma', zh: '彪马', code: 'PM', tier: 1 },
  { name: 'New Balance', zh: '新百伦', code: 'NB', tier: 1.1 },
  { name: 'ASICS', zh: '亚瑟士', code: 'AS', tier: 1.1 },
  { name: 'Uniqlo', zh: '优衣库', code: 'UQ', tier: 0.7 },
  { name: 'Zara', zh: 'Zara', code: 'ZR', tier: 0.9 },
  { name: 'Sony', zh: '索尼', code: 'SN', tier: 1.2 },
  { name: 'Apple', zh: '苹果', code: 'AP', tier: 1.4 },
  { name: 'Samsung', zh: '三星', code: 'SM', tier: 1.1 },
  { name: 'Casio', zh: '卡西欧', code: 'CS', tier: 0.8 },
  { name: 'IKEA', zh: '宜家', code: 'IK', tier: 0.5 },
  { name: 'Li-Ning', zh: '李宁', code: 'LN', tier: 0.8 },
  { name: 'Anta', zh: '安踏', code: 'AT', tier: 0.7 },
  { name: "Levi's", zh: '李维斯', code: 'LV', tier: 1.1 },
  { name: 'The North Face', zh: '北面', code: 'TNF', tier: 1.3 },
  { name: 'Xiaomi', zh: '小米', code: 'XM', tier: 0.6 },
  { name: 'Muji', zh: '无印良品', code: 'MJ', tier: 0.8 },
];

type Shape =
  | 'running-shoe' | 'sneaker' | 'boot' | 't-shirt' | 'hoodie' | 'jeans' | 'dress' | 'cap'
  | 'backpack' | 'handbag' | 'mug' | 'bottle' | 'watch' | 'headphones' | 'sunglasses';

export interface DemoCategory {
  /** Canonical lower-case category, as stored in `category`. */
  name: string;
  zh: string;
  shape: Shape;
  /** What a title calls one item ("running shoes", "T-shirt"). */
  noun: string;
  /** Base price range in USD before the brand tier. */
  price: [number, number];
  brands: readonly string[];
  colors: readonly string[];
  /** Product lines, used in titles; a brand's own lines first when it has them. */
  lines: Readonly<Record<string, readonly string[]>>;
}

const ALL_COLORS = DEMO_COLORS.map((c) => c.name);

export const DEMO_CATEGORIES: readonly DemoCategory[] = [
  {
    name: 'running shoes', zh: '跑鞋', shape: 'running-shoe', noun: 'running shoes', price: [60, 150],
    brands: ['Nike', 'adidas', 'ASICS', 'New Balance', 'Puma', 'Li-Ning', 'Anta'],
    colors: ['red', 'blue', 'black', 'white', 'green', 'yellow', 'pink', 'orange', 'grey', 'purple'],
    lines: { Nike: ['Air Zoom Pegasus', 'Vomero', 'Invincible Run'], adidas: ['Ultraboost', 'Adizero Boston'], ASICS: ['Gel-Kayano', 'Gel-Nimbus', 'Novablast'], 'New Balance': ['Fresh Foam 1080', 'FuelCell Rebel'], Puma: ['Velocity Nitro', 'Deviate Nitro'], 'Li-Ning': ['Feidian', 'Red Rabbit'], Anta: ['C202', 'Mach'], '*': ['Road Runner'] },
  },
  {
    name: 'sneakers', zh: '板鞋', shape: 'sneaker', noun: 'sneakers', price: [50, 120],
    brands: ['Nike', 'adidas', 'Puma', 'New Balance', 'Li-Ning', 'Anta'],
    colors: ['white', 'black', 'red', 'blue', 'green', 'beige', 'grey', 'pink', 'yellow'],
    lines: { Nike: ['Air Force 1', 'Court Vision', 'Blazer Low'], adidas: ['Stan Smith', 'Samba', 'Superstar'], Puma: ['Suede Classic', 'Smash'], 'New Balance': ['550', '480'], 'Li-Ning': ['Wade Court'], Anta: ['Classic Court'], '*': ['Court Classic'] },
  },
  {
    name: 'boots', zh: '靴子', shape: 'boot', noun: 'boots', price: [80, 200],
    brands: ['Zara', 'The North Face', 'Nike', 'Uniqlo'],
    colors: ['brown', 'black', 'red', 'beige', 'grey', 'white', 'green'],
    lines: { 'The North Face': ['Chilkat', 'Back-to-Berkeley'], Nike: ['Manoa'], Zara: ['Lace-Up Ankle'], '*': ['Hiker'] },
  },
  {
    name: 't-shirts', zh: 'T恤', shape: 't-shirt', noun: 'T-shirt', price: [12, 40],
    brands: ['Uniqlo', 'Zara', 'Nike', 'adidas', 'Puma', 'Li-Ning', 'Anta', 'Muji'],
    colors: ALL_COLORS,
    lines: { Uniqlo: ['U Crew Neck', 'Supima Cotton'], Nike: ['Dri-FIT Legend', 'Sportswear Club'], adidas: ['Essentials 3-Stripes'], '*': ['Crew Neck', 'Everyday'] },
  },
  {
    name: 'hoodies', zh: '卫衣', shape: 'hoodie', noun: 'hoodie', price: [35, 90],
    brands: ['Nike', 'adidas', 'Uniqlo', 'Zara', 'The North Face', 'Li-Ning', 'Anta', 'Puma'],
    colors: ['grey', 'black', 'blue', 'red', 'green', 'beige', 'pink', 'purple', 'white', 'orange'],
    lines: { Nike: ['Club Fleece', 'Tech Fleece'], adidas: ['Trefoil'], 'The North Face': ['Drew Peak'], Uniqlo: ['Sweat'], '*': ['Pullover', 'Fleece'] },
  },
  {
    name: 'jeans', zh: '牛仔裤', shape: 'jeans', noun: 'jeans', price: [40, 110],
    brands: ["Levi's", 'Uniqlo', 'Zara', 'Muji'],
    colors: ['blue', 'black', 'grey', 'white', 'beige', 'brown'],
    lines: { "Levi's": ['501 Original', '511 Slim', '505 Regular'], Uniqlo: ['Ultra Stretch', 'Straight'], '*': ['Slim Fit', 'Straight Leg'] },
  },
  {
    name: 'dresses', zh: '连衣裙', shape: 'dress', noun: 'dress', price: [30, 120],
    brands: ['Zara', 'Uniqlo', 'Muji'],
    colors: ['red', 'black', 'blue', 'pink', 'green', 'yellow', 'white', 'purple', 'beige'],
    lines: { '*': ['Midi', 'Wrap', 'Slip', 'A-Line', 'Sundress'] },
  },
  {
    name: 'caps', zh: '棒球帽', shape: 'cap', noun: 'cap', price: [15, 40],
    brands: ['Nike', 'adidas', 'Puma', 'New Balance', 'The North Face', 'Li-Ning'],
    colors: ['black', 'white', 'red', 'blue', 'green', 'beige', 'grey', 'yellow', 'pink', 'orange'],
    lines: { Nike: ['Heritage86', 'Club Cap'], adidas: ['Trefoil Baseball'], 'New Balance': ['6-Panel Classic'], '*': ['Classic Six-Panel', 'Dad'] },
  },
  {
    name: 'backpacks', zh: '背包', shape: 'backpack', noun: 'backpack', price: [30, 130],
    brands: ['The North Face', 'Nike', 'adidas', 'Xiaomi', 'Puma', 'Anta'],
    colors: ['black', 'grey', 'blue', 'red', 'green', 'yellow', 'purple', 'orange', 'pink'],
    lines: { 'The North Face': ['Borealis', 'Jester', 'Recon'], Nike: ['Brasilia', 'Heritage'], Xiaomi: ['Mi Casual', 'Commuter'], '*': ['Everyday', 'Classic'] },
  },
  {
    name: 'handbags', zh: '手提包', shape: 'handbag', noun: 'handbag', price: [40, 160],
    brands: ['Zara', 'Uniqlo', 'Muji'],
    colors: ['black', 'brown', 'beige', 'red', 'pink', 'white', 'blue', 'green'],
    lines: { '*': ['Tote', 'Shoulder', 'City', 'Top-Handle'] },
  },
  {
    name: 'mugs', zh: '马克杯', shape: 'mug', noun: 'mug', price: [6, 20],
    brands: ['IKEA', 'Muji'],
    colors: ALL_COLORS,
    lines: { IKEA: ['FÄRGRIK', 'STRIMMIG', 'VARDAGEN'], Muji: ['Porcelain', 'Stoneware'], '*': ['Everyday'] },
  },
  {
    name: 'water bottles', zh: '水杯', shape: 'bottle', noun: 'water bottle', price: [12, 45],
    brands: ['IKEA', 'Muji', 'Xiaomi', 'Nike', 'The North Face'],
    colors: ['blue', 'black', 'white', 'green', 'pink', 'red', 'yellow', 'purple', 'orange', 'grey'],
    lines: { Nike: ['Hyperfuel', 'Recharge'], Xiaomi: ['Mijia Vacuum Flask'], IKEA: ['KORKEN', '365+'], '*': ['Insulated', 'Sport'] },
  },
  {
    name: 'watches', zh: '手表', shape: 'watch', noun: 'watch', price: [40, 320],
    brands: ['Casio', 'Apple', 'Samsung', 'Xiaomi'],
    colors: ['black', 'white', 'blue', 'red', 'green', 'pink', 'brown', 'grey', 'beige'],
    lines: { Casio: ['G-Shock GA-2100', 'F-91W', 'MTP-1302'], Apple: ['Watch SE', 'Watch Series 9'], Samsung: ['Galaxy Watch6', 'Galaxy Watch FE'], Xiaomi: ['Watch S3', 'Smart Band 8 Pro'], '*': ['Classic'] },
  },
  {
    name: 'headphones', zh: '耳机', shape: 'headphones', noun: 'headphones', price: [50, 330],
    brands: ['Sony', 'Apple', 'Samsung', 'Xiaomi'],
    colors: ['black', 'white', 'blue', 'grey', 'pink', 'red', 'beige', 'green'],
    lines: { Sony: ['WH-1000XM5', 'WH-CH720N', 'ULT Wear'], Apple: ['AirPods Max', 'Beats Solo 4'], Samsung: ['Level On Pro'], Xiaomi: ['Mi Headphones Comfort'], '*': ['Studio'] },
  },
  {
    name: 'sunglasses', zh: '墨镜', shape: 'sunglasses', noun: 'sunglasses', price: [20, 150],
    brands: ['Zara', 'Nike', 'adidas', 'Puma', 'Uniqlo'],
    colors: ['black', 'brown', 'red', 'blue', 'white', 'pink', 'green', 'grey', 'purple'],
    lines: { Nike: ['Windshield', 'Vision'], adidas: ['SP0056'], '*': ['Aviator', 'Wayfarer', 'Round'] },
  },
];

// ---------------------------------------------------------------------------------------
// Drawing

/** What a product picture depends on: the same spec always renders the same picture. */
export interface DemoImageSpec {
  category: string;
  color: string;
  /** Picks small design details (accent colour, trims); any integer. */
  style?: number;
}

export interface ImageVariant {
  background?: string;
  rotateDeg?: number;
  scale?: number;
  /** Pixels, applied after rotation and scaling. */
  offset?: [number, number];
  /** Seeded pixel noise (the seed is the spec's style), like a camera's sensor noise. */
  noise?: boolean;
}

/** The picture spec of a generated product (its style comes from its id). */
export function imageSpecOf(p: Pick<ProductInput, 'id' | 'category' | 'color'>): DemoImageSpec {
  if (!p.category || !p.color) throw new Error(`product ${p.id} has no category or colour to draw`);
  return { category: p.category, color: p.color, style: hashString(p.id) };
}

/** Renders a product picture as a PNG (DEMO_IMAGE_SIZE square), optionally as a variant shot. */
export async function renderProductImage(spec: DemoImageSpec, variant: ImageVariant = {}): Promise<Buffer> {
  const svg = productSvg(spec, variant);
  const img = sharp(Buffer.from(svg)).flatten({ background: variant.background ?? '#ffffff' });
  if (!variant.noise) return img.png({ compressionLevel: 9 }).toBuffer();
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  const rng = new Rng(((spec.style ?? 0) ^ 0x5eed) >>> 0);
  for (let i = 0; i < data.length; i++) data[i] = clamp255(data[i]! + Math.round((rng.next() - 0.5) * 36));
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

export function productSvg(spec: DemoImageSpec, variant: ImageVariant = {}): string {
  const category = DEMO_CATEGORIES.find((c) => c.name === spec.category);
  if (!category) throw new Error(`no drawing for category "${spec.category}"`);
  const color = DEMO_COLORS.find((c) => c.name === spec.color);
  if (!color) throw new Error(`no colour "${spec.color}" in DEMO_COLORS`);
  const style = (spec.style ?? 0) >>> 0;
  const pal = palette(color.hex, style);
  const c = DEMO_IMAGE_SIZE / 2;
  const [dx, dy] = variant.offset ?? [0, 0];
  const transform = `translate(${dx + c} ${dy + c}) rotate(${variant.rotateDeg ?? 0}) scale(${variant.scale ?? 1}) translate(${-c} ${-c})`;
  const body = DRAW[category.shape](pal, style);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${DEMO_IMAGE_SIZE}" height="${DEMO_IMAGE_SIZE}" viewBox="0 0 320 320">` +
    `<g transform="${transform}" stroke-linejoin="round" stroke-linecap="round">${body}</g></svg>`
  );
}

interface Palette {
  main: string;
  /** Outline and seams: darker than main (lighter when main is nearly black). */
  line: string;
  shade: string;
  light: string;
  /** A contrasting trim colour (stripes, logos, caps). */
  accent: string;
}

function palette(hex: string, style: number): Palette {
  const rgb = hexToRgb(hex);
  const lum = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255;
  const dark = lum < 0.2;
  const accents = dark ? ['#f4f4f4', '#d62828', '#8a8d91'] : lum > 0.85 ? ['#1e1e1e', '#1f5fbf', '#d62828'] : ['#f4f4f4', '#1e1e1e', '#f4f4f4'];
  return {
    main: hex,
    line: dark ? '#000000' : mix(rgb, [0, 0, 0], lum > 0.85 ? 0.45 : 0.4),
    shade: dark ? mix(rgb, [255, 255, 255], 0.12) : mix(rgb, [0, 0, 0], 0.22),
    light: mix(rgb, [255, 255, 255], dark ? 0.3 : 0.45),
    accent: accents[style % accents.length]!,
  };
}

const SW = 'stroke-width="3"';
const fillLine = (p: Palette, fill: string) => `fill="${fill}" stroke="${p.line}" ${SW}`;

/** One drawing per shape, in a 320x320 box, facing right where that matters. */
const DRAW: Record<Shape, (p: Palette, style: number) => string> = {
  'running-shoe': (p, s) =>
    // Rocker midsole, dark outsole, low sleek upper with a swoosh-like stripe, laces and heel tab.
    `<path d="M47 234 Q50 258 76 258 L262 258 Q294 256 294 228 L288 236 Q282 247 262 247 L74 247 Q52 247 47 234 Z" fill="#3a3a3a" stroke="#222" ${SW}/>` +
    `<path d="M52 212 L284 204 Q300 214 294 230 Q288 246 262 246 L74 246 Q48 246 46 230 Q44 218 52 212 Z" fill="#f7f7f7" stroke="#8c8c8c" ${SW}/>` +
    `<path d="M56 214 L54 148 Q56 126 84 122 Q104 132 126 126 Q150 122 172 150 Q204 178 250 184 Q292 190 286 206 L282 211 Z" ${fillLine(p, p.main)}/>` +
    `<path d="M78 130 Q104 144 130 130" fill="none" stroke="${p.line}" stroke-width="7"/>` +
    `<path d="M92 204 Q176 206 256 176 Q182 192 104 186 Z" fill="${p.accent}" stroke="${p.line}" stroke-width="1.5"/>` +
    [0, 1, 2, 3].map((i) => `<line x1="${142 + i * 14}" y1="${136 + i * 11}" x2="${156 + i * 14}" y2="${126 + i * 11}" stroke="#f4f4f4" stroke-width="5"/>`).join('') +
    `<path d="M54 150 L44 150 Q40 176 56 186 Z" fill="${s % 2 ? p.accent : p.shade}" stroke="${p.line}" stroke-width="2"/>`,
  sneaker: (p, s) =>
    // Flat vulcanised cupsole with a foxing stripe, boxy upper, toe cap and eyelets.
    `<rect x="44" y="214" width="252" height="40" rx="12" fill="#f7f7f7" stroke="#8c8c8c" ${SW}/>` +
    `<rect x="46" y="230" width="248" height="7" fill="${s % 2 ? '#1e1e1e' : p.main}"/>` +
    `<path d="M50 216 L50 156 Q52 138 80 136 Q104 146 128 140 Q146 140 158 158 L184 174 Q236 180 266 190 Q294 198 292 216 Z" ${fillLine(p, p.main)}/>` +
    `<path d="M228 184 Q280 190 292 214 L230 216 Q222 200 228 184 Z" fill="${p.shade}" stroke="${p.line}" stroke-width="2"/>` +
    `<path d="M86 142 Q108 154 130 142" fill="none" stroke="${p.line}" stroke-width="6"/>` +
    [0, 1, 2, 3].map((i) => `<circle cx="${150 + i * 14}" cy="${156 + i * 6}" r="3.5" fill="#f4f4f4" stroke="${p.line}" stroke-width="1.5"/>`).join('') +
    [0, 1, 2].map((i) => `<line x1="${146 + i * 14}" y1="${150 + i * 6}" x2="${166 + i * 14}" y2="${164 + i * 6}" stroke="#f4f4f4" stroke-width="4"/>`).join('') +
    `<path d="M96 196 L176 192 L190 206 L96 206 Z" fill="${p.accent}" stroke="${p.line}" stroke-width="1.5"/>`,
  boot: (p) =>
    // Tall shaft, lace-up front, block heel and a thick lugged sole.
    `<path d="M84 232 L300 232 L300 250 Q300 262 288 262 L96 262 L84 262 Z" fill="#2b2018" stroke="#111" ${SW}/>` +
    `<path d="M86 60 L168 60 L174 170 Q222 178 262 196 Q296 210 292 232 L86 232 Z" ${fillLine(p, p.main)}/>` +
    `<path d="M86 60 L168 60 L168 76 L86 76 Z" fill="${p.shade}" stroke="${p.line}" stroke-width="2"/>` +
    [0, 1, 2, 3, 4, 5].map((i) => `<line x1="${150 + (i % 2) * 18}" y1="${86 + i * 16}" x2="${168 - (i % 2) * 18}" y2="${100 + i * 16}" stroke="#e9dcc3" stroke-width="4"/>`).join('') +
    `<path d="M90 60 Q80 40 100 42 L104 60" fill="none" stroke="${p.line}" stroke-width="5"/>` +
    `<path d="M176 176 Q230 186 266 206 Q286 218 288 230 L200 230 Q186 204 176 176 Z" fill="${p.shade}" stroke="${p.line}" stroke-width="2"/>` +
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `<rect x="${100 + i * 24}" y="258" width="12" height="8" fill="#111"/>`).join(''),
  't-shirt': (p, s) =>
    // T silhouette: short sleeves, ribbed crew neck, hem, small chest logo.
    `<path d="M112 56 Q160 82 208 56 L272 90 L248 144 L220 130 L222 276 L98 276 L100 130 L72 144 L48 90 Z" ${fillLine(p, p.main)}/>` +
    `<path d="M112 56 Q160 100 208 56" fill="none" stroke="${p.shade}" stroke-width="9"/>` +
    `<path d="M112 56 Q160 100 208 56" fill="none" stroke="${p.line}" stroke-width="2"/>` +
    `<path d="M72 144 L84 118 M248 144 L236 118" stroke="${p.line}" stroke-width="2"/>` +
    `<line x1="100" y1="264" x2="220" y2="264" stroke="${p.line}" stroke-width="1.5"/>` +
    (s % 3 === 0 ? `<rect x="100" y="170" width="120" height="14" fill="${p.accent}"/>` : `<circle cx="188" cy="112" r="9" fill="${p.accent}" stroke="${p.line}" stroke-width="1"/>`),
  hoodie: (p) =>
    // Long sleeves with cuffs, hood behind the neck, drawstrings, kangaroo pocket, waistband.
    `<path d="M112 78 Q160 14 208 78 Z" fill="${p.shade}" stroke="${p.line}" ${SW}/>` +
    `<path d="M100 70 L220 70 L272 106 L294 248 L262 256 L240 142 L234 272 L86 272 L80 142 L58 256 L26 248 L48 106 Z" ${fillLine(p, p.main)}/>` +
    `<path d="M116 70 Q160 112 204 70 Q160 86 116 70 Z" fill="${p.shade}" stroke="${p.line}" stroke-width="2"/>` +
    `<path d="M146 92 L142 140 M174 92 L178 140" stroke="#f4f4f4" stroke-width="4"/>` +
    `<path d="M118 206 L202 206 L216 256 L104 256 Z" fill="${p.main}" stroke="${p.line}" stroke-width="2.5"/>` +
    `<rect x="86" y="258" width="148" height="14" fill="${p.shade}" stroke="${p.line}" stroke-width="2"/>` +
    `<path d="M58 256 L26 248 L29 234 L61 242 Z M262 256 L294 248 L291 234 L259 242 Z" fill="${p.shade}" stroke="${p.line}" stroke-width="2"/>`,
  jeans: (p) =>
    // Waistband with loops and button, two legs, fly stitch, front pockets, contrast stitching.
    `<path d="M96 70 L224 70 L236 282 L176 282 L160 134 L144 282 L84 282 Z" ${fillLine(p, p.main)}/>` +
    `<rect x="96" y="50" width="128" height="22" ${fillLine(p, p.shade)}/>` +
    [112, 146, 174, 208].map((x) => `<rect x="${x}" y="48" width="6" height="26" fill="${p.shade}" stroke="${p.line}" stroke-width="1.5"/>`).join('') +
    `<circle cx="160" cy="61" r="5" fill="#c9a24a" stroke="#7a5c1e" stroke-width="1.5"/>` +
    `<path d="M160 72 L160 118 Q160 128 150 130" fill="none" stroke="#d9a441" stroke-width="2" stroke-dasharray="5 3"/>` +
    `<path d="M100 76 Q118 104 132 74 M220 76 Q202 104 188 74" fill="none" stroke="#d9a441" stroke-width="2" stroke-dasharray="5 3"/>` +
    `<path d="M86 262 L144 262 M176 262 L234 262" stroke="${p.line}" stroke-width="2"/>`,
  dress: (p, s) =>
    // Straps, fitted bodice, waist seam, flared skirt with folds.
    `<path d="M130 72 L124 30 M190 72 L196 30" stroke="${p.line}" stroke-width="5"/>` +
    `<path d="M126 70 Q160 84 194 70 L202 142 L118 142 Z" ${fillLine(p, p.main)}/>` +
    `<path d="M118 142 L202 142 L262 280 Q160 296 58 280 Z" ${fillLine(p, p.main)}/>` +
    `<rect x="116" y="136" width="88" height="12" fill="${s % 2 ? p.accent : p.shade}" stroke="${p.line}" stroke-width="2"/>` +
    `<path d="M140 150 L118 282 M160 150 L160 288 M180 150 L202 282" stroke="${p.shade}" stroke-width="3" fill="none"/>`,
  cap: (p, s) =>
    // Side view: six-panel crown, top button, curved brim to the right, front logo.
    `<path d="M64 206 Q62 88 168 86 Q258 88 262 206 Z" ${fillLine(p, p.main)}/>` +
    `<path d="M246 200 Q302 198 310 218 Q304 236 262 232 Q226 226 204 212 Z" ${fillLine(p, s % 2 ? p.accent : p.shade)}/>` +
    `<path d="M166 88 Q136 140 128 206 M168 88 Q214 130 232 206" fill="none" stroke="${p.line}" stroke-width="2"/>` +
    `<ellipse cx="167" cy="86" rx="12" ry="6" fill="${p.shade}" stroke="${p.line}" stroke-width="2"/>` +
    `<rect x="62" y="196" width="200" height="12" fill="${p.shade}" stroke="${p.line}" stroke-width="2"/>` +
    `<circle cx="206" cy="150" r="14" fill="${p.accent === p.main ? p.shade : p.accent}" stroke="${p.line}" stroke-width="2"/>`,
  backpack: (p) =>
    // Rounded body, top carry loop, shoulder straps at the sides, front pocket with zip.
    `<path d="M140 62 Q160 30 180 62" fill="none" stroke="${p.line}" stroke-width="9"/>` +
    `<path d="M86 110 Q70 190 84 270 M234 110 Q250 190 236 270" fill="none" stroke="${p.shade}" stroke-width="14"/>` +
    `<rect x="88" y="60" width="144" height="222" rx="46" ${fillLine(p, p.main)}/>` +
    `<path d="M96 112 Q160 80 224 112" fill="none" stroke="${p.line}" stroke-width="3" stroke-dasharray="6 3"/>` +
    `<rect x="108" y="170" width="104" height="92" rx="20" ${fillLine(p, p.shade)}/>` +
    `<line x1="116" y1="186" x2="204" y2="186" stroke="${p.line}" stroke-width="3" stroke-dasharray="6 3"/>` +
    `<rect x="196" y="180" width="8" height="22" rx="3" fill="${p.accent}" stroke="${p.line}" stroke-width="1.5"/>`,
  handbag: (p) =>
    // Arched top handles, trapezoid body, front flap and a gold clasp.
    `<path d="M116 146 Q120 52 160 52 Q200 52 204 146" fill="none" stroke="${p.line}" stroke-width="12"/>` +
    `<path d="M116 146 Q120 52 160 52 Q200 52 204 146" fill="none" stroke="${p.shade}" stroke-width="7"/>` +
    `<path d="M82 140 L238 140 L264 268 Q264 276 254 276 L66 276 Q56 276 56 268 Z" ${fillLine(p, p.main)}/>` +
    `<path d="M82 140 L238 140 L232 198 Q160 220 88 198 Z" ${fillLine(p, p.shade)}/>` +
    `<rect x="150" y="196" width="20" height="18" rx="3" fill="#d4af37" stroke="#8a6d1e" stroke-width="2"/>`,
  mug: (p, s) =>
    // Cylinder body with rim and dark interior, round handle on the right.
    `<path d="M214 128 Q276 126 274 176 Q272 226 214 224" fill="none" stroke="${p.line}" stroke-width="24"/>` +
    `<path d="M214 128 Q276 126 274 176 Q272 226 214 224" fill="none" stroke="${p.main}" stroke-width="17"/>` +
    `<path d="M84 96 L216 96 L216 252 Q216 272 196 272 L104 272 Q84 272 84 252 Z" ${fillLine(p, p.main)}/>` +
    `<ellipse cx="150" cy="96" rx="66" ry="16" fill="${p.shade}" stroke="${p.line}" ${SW}/>` +
    `<ellipse cx="150" cy="98" rx="56" ry="11" fill="#3b2414"/>` +
    (s % 2 ? `<rect x="86" y="170" width="128" height="16" fill="${p.accent}"/>` : `<path d="M100 120 L100 240" stroke="${p.light}" stroke-width="8" opacity="0.6"/>`),
  bottle: (p) =>
    // Tall body with rounded shoulders, narrow neck, screw cap with carry loop, grip band.
    `<path d="M146 30 Q130 30 134 48" fill="none" stroke="${p.line}" stroke-width="6"/>` +
    `<rect x="134" y="40" width="52" height="40" rx="8" fill="#2a2a2a" stroke="#111" ${SW}/>` +
    `<rect x="142" y="78" width="36" height="16" fill="${p.shade}" stroke="${p.line}" stroke-width="2"/>` +
    `<path d="M124 126 Q124 96 150 92 L170 92 Q196 96 196 126 L198 276 Q198 290 184 290 L136 290 Q122 290 122 276 Z" ${fillLine(p, p.main)}/>` +
    `<rect x="123" y="176" width="74" height="44" fill="${p.accent}" opacity="0.85" stroke="${p.line}" stroke-width="1.5"/>` +
    `<path d="M136 120 L136 270" stroke="${p.light}" stroke-width="7" opacity="0.6"/>`,
  watch: (p, s) =>
    // Strap above and below (product colour), round case, dial with markers and hands, crown.
    `<rect x="132" y="16" width="56" height="100" rx="8" ${fillLine(p, p.main)}/>` +
    `<rect x="132" y="204" width="56" height="100" rx="8" ${fillLine(p, p.main)}/>` +
    [0, 1, 2].map((i) => `<circle cx="160" cy="${238 + i * 18}" r="3.5" fill="${p.line}"/>`).join('') +
    `<rect x="222" y="150" width="14" height="20" rx="3" fill="#b0b3b8" stroke="#555" stroke-width="2"/>` +
    `<circle cx="160" cy="160" r="66" fill="#b0b3b8" stroke="#4d4f52" stroke-width="4"/>` +
    `<circle cx="160" cy="160" r="54" fill="${s % 2 ? '#1e1e1e' : '#fafafa'}" stroke="#4d4f52" stroke-width="2"/>` +
    Array.from({ length: 12 }, (_, i) => {
      const a = (i * Math.PI) / 6;
      return `<line x1="${r2(160 + 44 * Math.sin(a))}" y1="${r2(160 - 44 * Math.cos(a))}" x2="${r2(160 + 50 * Math.sin(a))}" y2="${r2(160 - 50 * Math.cos(a))}" stroke="${s % 2 ? '#f4f4f4' : '#222'}" stroke-width="3"/>`;
    }).join('') +
    `<line x1="160" y1="160" x2="160" y2="122" stroke="${s % 2 ? '#f4f4f4' : '#222'}" stroke-width="5"/>` +
    `<line x1="160" y1="160" x2="190" y2="172" stroke="${s % 2 ? '#f4f4f4' : '#222'}" stroke-width="4"/>` +
    `<circle cx="160" cy="160" r="5" fill="${p.main}"/>`,
  headphones: (p) =>
    // Headband arc with padding, yokes, two large over-ear cups with cushions.
    `<path d="M78 196 Q70 56 160 50 Q250 56 242 196" fill="none" stroke="${p.line}" stroke-width="22"/>` +
    `<path d="M78 196 Q70 56 160 50 Q250 56 242 196" fill="none" stroke="${p.main}" stroke-width="15"/>` +
    `<path d="M112 70 Q160 48 208 70" fill="none" stroke="${p.shade}" stroke-width="10"/>` +
    `<rect x="48" y="170" width="50" height="94" rx="24" fill="${p.shade}" stroke="${p.line}" ${SW}/>` +
    `<rect x="62" y="160" width="50" height="112" rx="25" ${fillLine(p, p.main)}/>` +
    `<rect x="222" y="170" width="50" height="94" rx="24" fill="${p.shade}" stroke="${p.line}" ${SW}/>` +
    `<rect x="208" y="160" width="50" height="112" rx="25" ${fillLine(p, p.main)}/>`,
  sunglasses: (p) =>
    // Front view: two dark lenses in a frame of the product colour, bridge, hinges, temple arms.
    `<path d="M30 126 L14 110 M290 126 L306 110" stroke="${p.line}" stroke-width="10"/>` +
    `<path d="M40 120 L146 120 Q150 190 112 202 Q62 210 46 170 Q36 144 40 120 Z" fill="#1d2530" stroke="${p.main}" stroke-width="11"/>` +
    `<path d="M174 120 L280 120 Q284 144 274 170 Q258 210 208 202 Q170 190 174 120 Z" fill="#1d2530" stroke="${p.main}" stroke-width="11"/>` +
    `<path d="M146 128 Q160 112 174 128" fill="none" stroke="${p.main}" stroke-width="9"/>` +
    `<path d="M40 120 L146 120 Q150 190 112 202 Q62 210 46 170 Q36 144 40 120 Z M174 120 L280 120 Q284 144 274 170 Q258 210 208 202 Q170 190 174 120 Z" fill="none" stroke="${p.line}" stroke-width="1.5"/>` +
    `<path d="M62 136 L92 136 M196 136 L226 136" stroke="#5a6a80" stroke-width="5" opacity="0.8"/>`,
};

// ---------------------------------------------------------------------------------------
// Products

export interface DemoCatalogOptions {
  imageRoot: string;
  count?: number;
  seed?: number;
}

/**
 * Generates `count` products (default 300), writes their pictures under `<imageRoot>/demo/`
 * and returns the products with `image` relative to imageRoot. Same seed -> same products and
 * byte-identical PNGs. About one product in ten has a Chinese title and description.
 */
export async function generateDemoCatalog(opts: DemoCatalogOptions): Promise<ProductInput[]> {
  const count = opts.count ?? DEFAULT_COUNT;
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer, got ${count}`);
  const rng = new Rng(opts.seed ?? DEFAULT_SEED);
  const products = buildProducts(count, rng);
  const dir = path.join(opts.imageRoot, 'demo');
  fs.mkdirSync(dir, { recursive: true });
  await mapLimit(products, RENDER_CONCURRENCY, async (p) => {
    const png = await renderProductImage(imageSpecOf(p));
    const file = path.join(opts.imageRoot, p.image!);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, png);
    fs.renameSync(tmp, file); // a reader never sees half a picture
  });
  return products;
}

function buildProducts(count: number, rng: Rng): ProductInput[] {
  // Categories are dealt round-robin over shuffled decks so counts stay balanced, and each
  // category cycles through its own shuffled colour deck so it shows many colours.
  const catOrder = shuffled(DEMO_CATEGORIES.map((_, i) => i), rng);
  const colorDecks = DEMO_CATEGORIES.map((c) => ({ deck: shuffled([...c.colors], rng), at: 0 }));
  const skus = new Set<string>();
  const products: ProductInput[] = [];
  for (let i = 0; i < count; i++) {
    const cat = DEMO_CATEGORIES[catOrder[i % catOrder.length]!]!;
    const decks = colorDecks[DEMO_CATEGORIES.indexOf(cat)]!;
    const colorName = decks.deck[decks.at++ % decks.deck.length];
    const color = DEMO_COLORS.find((c) => c.name === colorName)!;
    const chinese = i % 10 === 3;
    // Chinese listings lean towards the Chinese brands where the category has them.
    const cnBrands = cat.brands.filter((b) => b === 'Li-Ning' || b === 'Anta' || b === 'Xiaomi');
    let brandName = chinese && cnBrands.length && rng.next() < 0.6 ? pick(cnBrands, rng) : pick(cat.brands, rng);
    // The README's showcase query ("red nike running shoes under 80 dollars") must have answers:
    // the English red running shoes are Nike, and priced under 80 below.
    const showcase = cat.name === 'running shoes' && colorName === 'red' && !chinese && cat.brands.includes('Nike');
    if (showcase) brandName = 'Nike';
    const brand = DEMO_BRANDS.find((b) => b.name === brandName)!;
    const line = pick(cat.lines[brand.name] ?? cat.lines['*']!, rng);
    const id = `p${String(i + 1).padStart(4, '0')}`;
    const attributes = attributesFor(cat, rng);
    const price = showcase ? Math.min(priceFor(cat, brand, rng), 79.99) : priceFor(cat, brand, rng);
    const sku = uniqueSku(skuFor(brand, line, color, rng), skus);
    products.push({
      id,
      title: chinese ? `${brand.zh} ${color.zh} ${cat.zh} ${line}` : titleEn(brand, line, cat, color),
      description: chinese ? describeZh(cat, color, brand, attributes) : describeEn(cat, color, brand, line, attributes),
      brand: brand.name,
      category: cat.name,
      color: color.name,
      sku,
      price,
      currency: 'USD',
      image: `demo/${id}.png`,
      attributes,
    });
  }
  return products;
}

/** "Nike Air Zoom Pegasus running shoes, red"; a line that names the item already keeps it ("Apple Watch SE, black"). */
function titleEn(brand: DemoBrand, line: string, cat: DemoCategory, color: DemoColor): string {
  const named = line.toLowerCase().includes(cat.noun.toLowerCase().split(' ').at(-1)!);
  return `${brand.name} ${line}${named ? '' : ` ${cat.noun}`}, ${color.name}`;
}

type Attrs = Record<string, string | number | boolean>;

function attributesFor(cat: DemoCategory, rng: Rng): Attrs {
  const gender = pick(['men', 'women', 'unisex'], rng);
  switch (cat.shape) {
    case 'running-shoe':
    case 'sneaker':
    case 'boot':
      return { size: `US ${pick(['6', '7', '8', '8.5', '9', '9.5', '10', '11', '12'], rng)}`, gender, material: pick(cat.shape === 'running-shoe' ? ['mesh', 'knit'] : cat.shape === 'boot' ? ['leather', 'suede'] : ['leather', 'canvas', 'suede'], rng) };
    case 't-shirt':
    case 'hoodie':
      return { size: pick(['XS', 'S', 'M', 'L', 'XL', 'XXL'], rng), gender, material: pick(cat.shape === 't-shirt' ? ['cotton', 'organic cotton', 'polyester'] : ['cotton', 'fleece', 'polyester'], rng) };
    case 'jeans':
      return { size: `W${pick([28, 29, 30, 31, 32, 33, 34, 36], rng)} L${pick([30, 32, 34], rng)}`, gender, material: 'denim', fit: pick(['slim', 'straight', 'relaxed'], rng) };
    case 'dress':
      return { size: pick(['XS', 'S', 'M', 'L', 'XL'], rng), gender: 'women', material: pick(['cotton', 'linen', 'viscose', 'silk'], rng) };
    case 'cap':
      return { size: 'one size', gender: 'unisex', material: pick(['cotton', 'polyester'], rng) };
    case 'backpack':
      return { capacity_l: pick([15, 20, 22, 26, 30], rng), material: pick(['nylon', 'polyester'], rng), laptop_sleeve: rng.next() < 0.6 };
    case 'handbag':
      return { gender: 'women', material: pick(['leather', 'faux leather', 'canvas'], rng) };
    case 'mug':
      return { capacity_ml: pick([250, 300, 350, 400], rng), material: pick(['ceramic', 'stoneware', 'porcelain'], rng), dishwasher_safe: true };
    case 'bottle':
      return { capacity_ml: pick([500, 600, 750, 1000], rng), material: pick(['stainless steel', 'plastic'], rng), insulated: rng.next() < 0.5 };
    case 'watch':
      return { gender, material: pick(['resin', 'stainless steel', 'silicone'], rng), water_resistance: pick(['50 m', '100 m', '200 m'], rng) };
    case 'headphones':
      return { type: pick(['over-ear', 'on-ear'], rng), wireless: rng.next() < 0.85, noise_cancelling: rng.next() < 0.5 };
    case 'sunglasses':
      return { gender, material: pick(['acetate', 'metal', 'nylon'], rng), uv400: true };
  }
}

function priceFor(cat: DemoCategory, brand: DemoBrand, rng: Rng): number {
  const [lo, hi] = cat.price;
  const raw = (lo + (hi - lo) * rng.next()) * brand.tier;
  return Math.max(1, Math.round(raw)) - (rng.next() < 0.5 ? 0.01 : 0); // 79.99 or 80
}

function skuFor(brand: DemoBrand, line: string, color: DemoColor, rng: Rng): string {
  // Model-number style: lines that already look like one ("WH-1000XM5") keep it; others take
  // the initials and digits of the line name ("Air Zoom Pegasus" -> AZP), then colour and a run.
  const letters = line.normalize('NFKD').replace(/[^\w\s-]/g, '').toUpperCase();
  const modelish = /^(?=.*\d)[A-Z0-9]+(-[A-Z0-9]+)+$/.test(letters) ? letters : letters.split(/[\s-]+/).map((w) => (/\d/.test(w) ? w : w[0] ?? '')).join('');
  return `${brand.code}-${modelish}-${color.code}${100 + Math.floor(rng.next() * 900)}`;
}

function uniqueSku(sku: string, seen: Set<string>): string {
  let out = sku;
  for (let n = 2; seen.has(out); n++) out = `${sku}-${n}`;
  seen.add(out);
  return out;
}

const WHAT_EN: Record<Shape, string> = {
  'running-shoe': 'Lightweight road running shoes with a cushioned foam midsole and a breathable upper.',
  sneaker: 'Low-top court sneakers with a rubber cupsole for everyday wear.',
  boot: 'Lace-up ankle boots with a lugged rubber sole for city and trail.',
  't-shirt': 'A classic crew-neck T-shirt with short sleeves and a relaxed fit.',
  hoodie: 'A pullover hoodie with a lined hood, drawcord and kangaroo pocket.',
  jeans: 'Five-pocket jeans with a button fly and contrast stitching.',
  dress: 'A sleeveless dress with a fitted bodice and a flowing skirt.',
  cap: 'A six-panel baseball cap with a curved brim and adjustable strap.',
  backpack: 'A padded backpack with a front zip pocket and comfortable shoulder straps.',
  handbag: 'A structured top-handle handbag with a front flap and metal clasp.',
  mug: 'A coffee mug with a comfortable handle, good for coffee or tea.',
  bottle: 'A reusable water bottle with a leak-proof screw cap and carry loop.',
  watch: 'A wristwatch with a round case, clear dial and comfortable strap.',
  headphones: 'Over-ear headphones with soft cushions and long battery life.',
  sunglasses: 'Sunglasses with UV400 lenses and a lightweight frame.',
};

const WHAT_ZH: Record<Shape, string> = {
  'running-shoe': '轻量缓震跑鞋，透气鞋面，适合日常跑步训练。',
  sneaker: '经典低帮板鞋，橡胶大底，百搭日常穿着。',
  boot: '系带短靴，防滑橡胶大底，城市户外两相宜。',
  't-shirt': '经典圆领短袖T恤，版型宽松舒适。',
  hoodie: '套头连帽卫衣，抽绳帽子，前置袋鼠口袋。',
  jeans: '经典五袋款牛仔裤，纽扣门襟。',
  dress: '无袖连衣裙，修身上身，飘逸裙摆。',
  cap: '六片式棒球帽，弯檐设计，可调节后扣。',
  backpack: '双肩背包，前置拉链口袋，肩带加厚舒适。',
  handbag: '手提包，翻盖设计，金属扣。',
  mug: '陶瓷马克杯，手柄舒适，适合咖啡和茶。',
  bottle: '便携水杯，防漏旋盖，带提环。',
  watch: '圆形表盘手表，表带舒适。',
  headphones: '头戴式耳机，柔软耳罩，续航持久。',
  sunglasses: '墨镜，UV400防紫外线镜片，轻盈镜框。',
};

function describeEn(cat: DemoCategory, color: DemoColor, brand: DemoBrand, line: string, a: Attrs): string {
  const bits = [`${brand.name} ${line} in ${color.name}.`, WHAT_EN[cat.shape]];
  if (a.material) bits.push(`Material: ${a.material}.`);
  if (a.gender && a.gender !== 'unisex') bits.push(`For ${a.gender}.`);
  return bits.join(' ');
}

function describeZh(cat: DemoCategory, color: DemoColor, brand: DemoBrand, a: Attrs): string {
  const gender = a.gender === 'men' ? '男款。' : a.gender === 'women' ? '女款。' : '';
  return `${brand.zh}${color.zh}${cat.zh}。${WHAT_ZH[cat.shape]}${gender}`;
}

// ---------------------------------------------------------------------------------------
// Small helpers

function pick<T>(items: readonly T[], rng: Rng): T {
  return items[Math.floor(rng.next() * items.length)]!;
}

function shuffled<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** FNV-1a: a stable small integer per id, for picture styles. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function mix(rgb: [number, number, number], to: [number, number, number], t: number): string {
  return `#${rgb.map((v, i) => Math.round(v + (to[i]! - v) * t).toString(16).padStart(2, '0')).join('')}`;
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
const r2 = (v: number) => Math.round(v * 100) / 100;
