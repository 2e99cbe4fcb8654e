/**
 * The slot lexicon: the catalog's own facet values plus built-in English/Chinese synonym
 * tables, compiled into lookup maps for `extractSlots`.
 *
 * Two kinds of entry:
 *  - `lexicon`: a catalog value itself ("running shoes", "navy", "li-ning"), with its
 *    singular/plural and joiner variants. Its filter is exactly that catalog value.
 *  - `synonym`: a word from the built-in tables ("crimson", "红色", "耐克", "跑鞋") that names
 *    a *concept*. The concept's filter is every catalog value that belongs to it: for colours
 *    and categories a catalog value belongs when it contains one of the concept's head terms
 *    as whole words ("dark red" is red, "trail running shoes" are running shoes and shoes);
 *    for brands when its spelling key matches an alias ("Li Ning" = "li-ning" = 李宁).
 *    A narrow category with no catalog value falls back to its parent ("跑鞋" in a catalog
 *    with only "sneakers" filters on the shoe categories it has). A concept that still has no
 *    catalog value yields a slot with an empty filter list: callers see it in
 *    `Understanding.unfiltered`.
 *
 * When a surface is both a catalog value and a synonym, the catalog value wins, unless the
 * surface is the concept's own name: "red" means the red concept (so "dark red" comes with
 * it) but "navy" in a catalog that stocks "navy" means just navy.
 */
import { createHash } from 'node:crypto';
import { hasCjk, joinerVariants, latinTokens, numberVariants, phraseKey, singular } from './text.ts';

/** Bump when the built-in tables or the matching rules change: lexicons built earlier are stale. */
export const lexiconVersion = 'lex-3';

export type FacetCount = { value: string; count: number };
export interface LexiconFacets {
  brands: FacetCount[];
  categories: FacetCount[];
  colors: FacetCount[];
  attributes: Record<string, FacetCount[]>;
  price: { min: number; max: number; p25: number; median: number } | null;
}

/** Slots the lexicon fills. brand/category/color become filters; the rest are read only. */
export type LexSlot = 'brand' | 'category' | 'color' | 'gender' | 'material' | 'none';
export const FILTERABLE: ReadonlySet<LexSlot> = new Set(['brand', 'category', 'color']);

export interface LexEntry {
  slot: LexSlot;
  /** Slot value: the catalog value for `lexicon` entries, the concept name for `synonym` ones. */
  value: string;
  /** Catalog values a filter on this entry selects; empty when the catalog has none. */
  filterValues: string[];
  source: 'lexicon' | 'synonym';
}

export interface Lexicon {
  /** Hash of `lexiconVersion` and the facet values: equal hashes mean an equal lexicon. */
  version: string;
  /** English phrases keyed by `phraseKey` (tokens joined by single spaces). */
  en: Map<string, LexEntry[]>;
  enMaxTokens: number;
  /** Surfaces holding CJK characters, matched by substring. */
  zh: Map<string, LexEntry[]>;
  zhLengths: number[];
  /** Brand and category phrases typo matching may correct towards (see slots.ts). */
  fuzzy: { term: string; letters: number; tokens: number; entries: LexEntry[] }[];
  price: { p25: number; median: number } | null;
}

// ---------------------------------------------------------------------------------------
// Built-in tables. `en`/`zh` are what users type; `match` (default: `en`) are the head
// terms a catalog value must contain, as whole words, to belong to the concept.

interface Concept {
  id: string;
  en: string[];
  zh: string[];
  match?: string[];
  parent?: string;
}

const COLORS: Concept[] = [
  { id: 'red', en: ['red', 'crimson', 'scarlet', 'maroon', 'burgundy', 'cherry red', 'ruby'], zh: ['红', '红色', '大红', '深红', '酒红', '酒红色', '枣红'] },
  { id: 'blue', en: ['blue', 'navy', 'navy blue', 'cobalt', 'azure', 'sky blue', 'royal blue', 'baby blue', 'turquoise', 'denim blue'], zh: ['蓝', '蓝色', '藏青', '藏青色', '深蓝', '浅蓝', '天蓝', '海军蓝', '宝蓝'] },
  { id: 'black', en: ['black', 'jet black', 'ebony'], zh: ['黑', '黑色', '纯黑'] },
  { id: 'white', en: ['white', 'ivory', 'off-white', 'snow white'], zh: ['白', '白色', '纯白', '米白'] },
  { id: 'green', en: ['green', 'olive', 'khaki green', 'emerald', 'mint', 'teal', 'lime'], zh: ['绿', '绿色', '军绿', '墨绿', '草绿'] },
  { id: 'yellow', en: ['yellow', 'mustard', 'lemon'], zh: ['黄', '黄色', '明黄'] },
  { id: 'pink', en: ['pink', 'rose', 'magenta', 'fuchsia', 'hot pink', 'blush'], zh: ['粉', '粉色', '粉红', '粉红色', '玫红'] },
  { id: 'purple', en: ['purple', 'violet', 'lavender', 'lilac', 'plum'], zh: ['紫', '紫色', '紫罗兰'] },
  { id: 'grey', en: ['grey', 'gray', 'charcoal', 'slate', 'silver grey'], zh: ['灰', '灰色', '深灰', '浅灰'] },
  { id: 'brown', en: ['brown', 'chocolate', 'tan', 'camel', 'coffee'], zh: ['棕', '棕色', '咖啡色', '咖色', '褐色'] },
  { id: 'orange', en: ['orange', 'coral', 'tangerine'], zh: ['橙', '橙色', '橘色', '桔色'] },
  { id: 'beige', en: ['beige', 'cream', 'khaki', 'sand', 'nude'], zh: ['米色', '卡其', '卡其色', '杏色'] },
  { id: 'gold', en: ['gold', 'golden', 'rose gold'], zh: ['金色', '玫瑰金'] },
  { id: 'silver', en: ['silver', 'metallic silver'], zh: ['银色'] },
  { id: 'multicolor', en: ['multicolor', 'multicolour', 'multi-color', 'multi-colour', 'rainbow'], zh: ['彩色', '多色'] },
];

const CATEGORIES: Concept[] = [
  { id: 'shoes', en: ['shoes', 'footwear'], zh: ['鞋', '鞋子'], match: ['shoe', 'sneaker', 'trainer', 'boot', 'sandal', 'loafer', 'slipper', 'heel', 'footwear', 'runner'] },
  { id: 'running shoes', en: ['running shoes', 'runners', 'running sneakers', 'jogging shoes'], zh: ['跑鞋', '跑步鞋', '慢跑鞋'], match: ['running shoe', 'runner', 'running sneaker'], parent: 'shoes' },
  { id: 'sneakers', en: ['sneakers', 'trainers', 'kicks'], zh: ['球鞋', '板鞋'], match: ['sneaker', 'trainer'], parent: 'shoes' },
  { id: 'athletic shoes', en: ['athletic shoes', 'sports shoes', 'sport shoes', 'gym shoes'], zh: ['运动鞋'], match: ['sneaker', 'trainer', 'running shoe', 'athletic shoe', 'sport shoe', 'basketball shoe', 'tennis shoe'], parent: 'shoes' },
  { id: 'boots', en: ['boots'], zh: ['靴', '靴子'], parent: 'shoes' },
  { id: 'sandals', en: ['sandals', 'flip-flops', 'slides'], zh: ['凉鞋', '拖鞋'], parent: 'shoes' },
  { id: 't-shirts', en: ['t-shirt', 'tee', 'tees', 'tee shirt'], zh: ['t恤', 't恤衫', '短袖'], match: ['t-shirt', 'tshirt', 't shirt', 'tee'] },
  { id: 'shirts', en: ['shirt', 'button-down', 'blouse'], zh: ['衬衫', '衬衣'] },
  { id: 'hoodies', en: ['hoodie', 'hoody', 'sweatshirt'], zh: ['卫衣', '连帽衫'] },
  { id: 'sweaters', en: ['sweater', 'jumper', 'pullover', 'cardigan'], zh: ['毛衣', '针织衫', '开衫'] },
  { id: 'jackets', en: ['jacket', 'coat', 'parka', 'windbreaker', 'outerwear'], zh: ['夹克', '外套', '大衣', '风衣', '羽绒服'] },
  { id: 'jeans', en: ['jeans', 'denims'], zh: ['牛仔裤'] },
  { id: 'pants', en: ['pants', 'trousers', 'chinos', 'leggings', 'joggers'], zh: ['裤', '裤子', '长裤', '休闲裤', '运动裤'] },
  { id: 'shorts', en: ['shorts'], zh: ['短裤'] },
  { id: 'dresses', en: ['dress', 'gown', 'sundress'], zh: ['连衣裙', '裙子', '长裙'] },
  { id: 'skirts', en: ['skirt'], zh: ['半身裙', '短裙'] },
  { id: 'socks', en: ['socks'], zh: ['袜', '袜子'] },
  { id: 'mugs', en: ['mug', 'cup', 'coffee mug', 'coffee cup', 'tea cup', 'teacup'], zh: ['马克杯', '杯子', '咖啡杯', '茶杯'], match: ['mug', 'cup', 'teacup'] },
  { id: 'bottles', en: ['bottle', 'water bottle', 'flask', 'tumbler', 'thermos'], zh: ['水杯', '水瓶', '保温杯', '水壶'] },
  { id: 'bags', en: ['bag', 'bags'], zh: ['包', '包包'], match: ['bag', 'backpack', 'handbag', 'tote', 'purse', 'rucksack', 'satchel'] },
  { id: 'backpacks', en: ['backpack', 'rucksack', 'daypack', 'school bag'], zh: ['背包', '双肩包', '书包'], parent: 'bags' },
  { id: 'handbags', en: ['handbag', 'purse', 'tote', 'tote bag', 'shoulder bag', 'clutch'], zh: ['手提包', '手袋', '挎包', '单肩包'], parent: 'bags' },
  { id: 'wallets', en: ['wallet', 'card holder'], zh: ['钱包', '卡包'] },
  { id: 'hats', en: ['hat', 'cap', 'baseball cap', 'beanie', 'bucket hat'], zh: ['帽子', '帽', '棒球帽', '鸭舌帽', '渔夫帽'], match: ['hat', 'cap', 'beanie'] },
  { id: 'watches', en: ['watch', 'wristwatch', 'smartwatch'], zh: ['手表', '腕表', '智能手表'] },
  { id: 'headphones', en: ['headphones', 'headphone', 'earphones', 'earbuds', 'headset'], zh: ['耳机', '蓝牙耳机', '头戴式耳机'], match: ['headphone', 'earphone', 'earbud', 'headset'] },
  { id: 'sunglasses', en: ['sunglasses', 'shades', 'sunnies'], zh: ['墨镜', '太阳镜'] },
  { id: 'phones', en: ['phone', 'smartphone', 'mobile phone', 'cellphone'], zh: ['手机'] },
  { id: 'laptops', en: ['laptop', 'notebook computer'], zh: ['笔记本电脑', '笔记本'] },
];

/** Brand aliases. Catalog brands match by spelling key, so "Li Ning" and "li-ning" are one brand. */
const BRANDS: Concept[] = [
  { id: 'nike', en: ['nike'], zh: ['耐克'] },
  { id: 'adidas', en: ['adidas'], zh: ['阿迪达斯', '阿迪'] },
  { id: 'puma', en: ['puma'], zh: ['彪马'] },
  { id: 'new balance', en: ['new balance'], zh: ['新百伦'] },
  { id: 'asics', en: ['asics'], zh: ['亚瑟士'] },
  { id: 'uniqlo', en: ['uniqlo'], zh: ['优衣库'] },
  { id: 'sony', en: ['sony'], zh: ['索尼'] },
  { id: 'apple', en: ['apple'], zh: ['苹果'] },
  { id: 'samsung', en: ['samsung'], zh: ['三星'] },
  { id: 'casio', en: ['casio'], zh: ['卡西欧'] },
  { id: 'ikea', en: ['ikea'], zh: ['宜家'] },
  { id: 'li-ning', en: ['li-ning', 'li ning', 'lining'], zh: ['李宁'] },
  { id: 'anta', en: ['anta'], zh: ['安踏'] },
  { id: 'reebok', en: ['reebok'], zh: ['锐步'] },
  { id: 'converse', en: ['converse'], zh: ['匡威'] },
  { id: 'vans', en: ['vans'], zh: ['范斯'] },
  { id: 'skechers', en: ['skechers'], zh: ['斯凯奇'] },
  { id: 'under armour', en: ['under armour', 'under armor'], zh: ['安德玛'] },
  { id: 'the north face', en: ['the north face', 'north face'], zh: ['北面'] },
  { id: 'xiaomi', en: ['xiaomi'], zh: ['小米'] },
  { id: 'huawei', en: ['huawei'], zh: ['华为'] },
  { id: 'muji', en: ['muji'], zh: ['无印良品'] },
  { id: "levi's", en: ["levi's", 'levis', 'levi'], zh: ['李维斯'] },
];

const GENDERS: Concept[] = [
  { id: 'men', en: ["men's", 'mens', 'men', 'man', 'male', 'for him', 'gentlemen'], zh: ['男', '男士', '男款', '男式', '男生', '男装'] },
  { id: 'women', en: ["women's", 'womens', 'women', 'woman', 'female', 'ladies', "ladies'", 'for her'], zh: ['女', '女士', '女款', '女式', '女生', '女装'] },
  { id: 'kids', en: ["kids'", 'kids', 'kid', "children's", 'children', 'child', 'boys', "boys'", 'girls', "girls'", 'toddler', 'baby'], zh: ['童', '儿童', '童装', '孩子', '宝宝', '小孩'] },
  { id: 'unisex', en: ['unisex'], zh: ['男女同款', '中性'] },
];

const MATERIALS: Concept[] = [
  { id: 'leather', en: ['leather', 'genuine leather', 'faux leather'], zh: ['皮', '真皮', '皮革', '牛皮'] },
  { id: 'suede', en: ['suede'], zh: ['麂皮', '翻毛皮'] },
  { id: 'cotton', en: ['cotton', 'organic cotton'], zh: ['棉', '纯棉', '全棉'] },
  { id: 'wool', en: ['wool', 'merino', 'merino wool'], zh: ['羊毛', '毛呢'] },
  { id: 'cashmere', en: ['cashmere'], zh: ['羊绒'] },
  { id: 'denim', en: ['denim'], zh: ['牛仔', '牛仔布'] },
  { id: 'linen', en: ['linen'], zh: ['亚麻'] },
  { id: 'silk', en: ['silk'], zh: ['丝绸', '真丝'] },
  { id: 'polyester', en: ['polyester'], zh: ['涤纶', '聚酯纤维'] },
  { id: 'nylon', en: ['nylon'], zh: ['尼龙'] },
  { id: 'canvas', en: ['canvas'], zh: ['帆布'] },
  { id: 'ceramic', en: ['ceramic', 'porcelain', 'stoneware'], zh: ['陶瓷', '瓷'] },
  { id: 'glass', en: ['glass'], zh: ['玻璃'] },
  { id: 'stainless steel', en: ['stainless steel', 'steel', 'stainless'], zh: ['不锈钢', '钢'] },
  { id: 'aluminium', en: ['aluminium', 'aluminum'], zh: ['铝', '铝合金'] },
  { id: 'plastic', en: ['plastic'], zh: ['塑料'] },
  { id: 'wood', en: ['wood', 'wooden', 'bamboo'], zh: ['木', '木质', '实木', '竹'] },
  { id: 'mesh', en: ['mesh'], zh: ['网面'] },
];

/**
 * Phrases that contain a slot word but do not mean it ("black friday" is a sale, 网红 is
 * "influencer", not red). They consume their text and fill nothing.
 */
const BLOCKERS = { en: ['black friday', 'cyber monday', 'apple pay', 'red carpet'], zh: ['网红', '明白', '粉丝', '红包', '黑五', '白菜价'] };

// ---------------------------------------------------------------------------------------

/** Spelling key for brands: letters, digits and CJK only ("Li Ning", "li-ning" -> "lining"). */
const brandKey = (s: string) => s.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** Latin words of a phrase, singularised, so "Trail Running Shoes" -> ["trail","running","shoe"]. */
const headWords = (s: string) => latinTokens(s.normalize('NFKC').toLowerCase()).map((t) => singular(t.text));

function containsWords(haystack: string[], needle: string[]): boolean {
  if (needle.length === 0 || needle.length > haystack.length) return false;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Does catalog value `v` belong to colour/category concept `c`? */
function belongs(v: string, c: Concept): boolean {
  const words = headWords(v);
  const terms = c.match ?? [c.id, ...c.en];
  if (terms.some((t) => containsWords(words, headWords(t)))) return true;
  // Chinese catalog values: contain one of the concept's Chinese surfaces.
  const nv = v.normalize('NFKC').toLowerCase();
  return hasCjk(nv) && c.zh.some((z) => nv.includes(z));
}

function conceptValues(concepts: Concept[], catalog: string[], slot: 'brand' | 'category' | 'color'): Map<string, string[]> {
  const direct = new Map<string, string[]>();
  for (const c of concepts) {
    if (slot === 'brand') {
      const keys = new Set([c.id, ...c.en, ...c.zh].map(brandKey));
      direct.set(c.id, catalog.filter((v) => keys.has(brandKey(v))));
    } else {
      direct.set(c.id, catalog.filter((v) => belongs(v, c)));
    }
  }
  // Narrow concepts the catalog lacks fall back to their parent's values.
  const out = new Map<string, string[]>();
  for (const c of concepts) {
    let vals = direct.get(c.id) ?? [];
    if (vals.length === 0 && c.parent) vals = direct.get(c.parent) ?? [];
    out.set(c.id, vals);
  }
  return out;
}

const uniq = (xs: string[]) => [...new Set(xs)];
const clean = (vals: FacetCount[]) =>
  uniq(vals.map((v) => v.value.normalize('NFKC').trim().toLowerCase()).filter((v) => v.length > 0));

/** A stable fingerprint of the facet values the lexicon depends on (counts do not matter). */
export function facetsFingerprint(f: LexiconFacets): string {
  const sorted = (xs: FacetCount[]) => clean(xs).sort();
  const attrs = Object.keys(f.attributes)
    .filter((k) => ATTRIBUTE_SLOTS[k.toLowerCase()])
    .sort()
    .map((k) => [k.toLowerCase(), sorted(f.attributes[k] ?? [])]);
  const body = JSON.stringify([
    lexiconVersion,
    sorted(f.brands),
    sorted(f.categories),
    sorted(f.colors),
    attrs,
    f.price ? [f.price.p25, f.price.median] : null,
  ]);
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

/** Attribute facets whose values become (read-only) slot vocabulary. */
const ATTRIBUTE_SLOTS: Record<string, LexSlot | undefined> = { material: 'material', gender: 'gender' };

export function buildLexicon(facets: LexiconFacets): Lexicon {
  const en = new Map<string, LexEntry[]>();
  const zh = new Map<string, LexEntry[]>();

  /** Adds `entry` under every spelling of `surface`; a catalog entry displaces a synonym for the same slot. */
  const add = (surface: string, entry: LexEntry, variants: boolean) => {
    const s = surface.normalize('NFKC').toLowerCase().trim();
    if (!s) return;
    const spellings = hasCjk(s) ? [s] : uniq((variants ? numberVariants(phraseKey(s)) : [phraseKey(s)]).flatMap(joinerVariants).map(phraseKey));
    for (const sp of spellings) {
      if (!sp) continue;
      const map = hasCjk(sp) ? zh : en;
      const list = map.get(sp) ?? [];
      const same = list.findIndex((e) => e.slot === entry.slot);
      if (same === -1) list.push(entry);
      else if (list[same].source === 'synonym' && entry.source === 'lexicon') list[same] = entry;
      map.set(sp, list);
    }
  };

  const catalog = { brand: clean(facets.brands), category: clean(facets.categories), color: clean(facets.colors) };

  // Synonyms first, so catalog values added afterwards displace them where both exist.
  const tables: [Concept[], 'brand' | 'category' | 'color'][] = [
    [BRANDS, 'brand'],
    [CATEGORIES, 'category'],
    [COLORS, 'color'],
  ];
  const conceptEntry = new Map<string, LexEntry>();
  for (const [concepts, slot] of tables) {
    const values = conceptValues(concepts, catalog[slot], slot);
    for (const c of concepts) {
      const entry: LexEntry = { slot, value: c.id, filterValues: values.get(c.id) ?? [], source: 'synonym' };
      conceptEntry.set(`${slot}:${phraseKey(c.id)}`, entry);
      for (const s of [c.id, ...c.en, ...c.zh]) add(s, entry, slot === 'category');
    }
  }
  for (const [concepts, slot] of [
    [GENDERS, 'gender'],
    [MATERIALS, 'material'],
  ] as const) {
    for (const c of concepts) {
      const entry: LexEntry = { slot, value: c.id, filterValues: [], source: 'synonym' };
      for (const s of [c.id, ...c.en, ...c.zh]) add(s, entry, false);
    }
  }

  for (const slot of ['brand', 'category', 'color'] as const) {
    for (const v of catalog[slot]) add(v, { slot, value: v, filterValues: [v], source: 'lexicon' }, slot === 'category');
  }
  for (const [key, vals] of Object.entries(facets.attributes)) {
    const slot = ATTRIBUTE_SLOTS[key.toLowerCase()];
    if (!slot) continue;
    for (const v of clean(vals)) add(v, { slot, value: v, filterValues: [], source: 'lexicon' }, false);
  }

  // A concept's own name means the whole concept, even where the catalog has that exact value.
  for (const [key, entry] of conceptEntry) {
    const [slot, name] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    for (const sp of slot === 'category' ? numberVariants(name) : [name]) {
      const list = en.get(sp);
      const i = list?.findIndex((e) => e.slot === slot) ?? -1;
      // Still a catalog word, so the match reports source 'lexicon'.
      if (list && i >= 0 && list[i].source === 'lexicon' && entry.filterValues.length > 0) list[i] = { ...entry, source: 'lexicon' };
    }
  }

  for (const b of BLOCKERS.en) en.set(phraseKey(b), [{ slot: 'none', value: b, filterValues: [], source: 'synonym' }]);
  for (const b of BLOCKERS.zh) zh.set(b, [{ slot: 'none', value: b, filterValues: [], source: 'synonym' }]);

  const letters = (s: string) => s.replace(/[^\p{L}\p{N}]/gu, '').length;
  // Typo targets: the final brand/category entries of every English surface.
  const fuzzy = [...en.entries()]
    .map(([term, entries]) => [term, entries.filter((e) => e.slot === 'brand' || e.slot === 'category')] as const)
    .filter(([term, entries]) => entries.length > 0 && letters(term) >= 4);
  return {
    version: facetsFingerprint(facets),
    en,
    enMaxTokens: Math.max(1, ...[...en.keys()].map((k) => k.split(' ').length)),
    zh,
    zhLengths: uniq([...zh.keys()].map((k) => k.length).map(String))
      .map(Number)
      .sort((a, b) => b - a),
    fuzzy: fuzzy
      .map(([term, entries]) => ({ term, letters: letters(term), tokens: term.split(' ').length, entries }))
      .sort((a, b) => (a.term < b.term ? -1 : a.term > b.term ? 1 : 0)),
    price: facets.price ? { p25: facets.price.p25, median: facets.price.median } : null,
  };
}
