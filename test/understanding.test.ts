import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLexicon, facetsFingerprint, type LexiconFacets } from '../src/understanding/lexicon.ts';
import { chineseNumber, parsePrice } from '../src/understanding/price.ts';
import { damerauLevenshtein, extractSlots, type Understanding } from '../src/understanding/slots.ts';
import { DEFAULT_INTENTS, routeForIntent } from '../src/understanding/routing.ts';

/** A small shoe / apparel / mug shop, as the catalog store would report its facets. */
const counts = (values: string[]) => values.map((value, i) => ({ value, count: 100 - i }));
const FACETS: LexiconFacets = {
  brands: counts(['nike', 'adidas', 'puma', 'new balance', 'li-ning', 'ikea', 'uniqlo']),
  categories: counts(['running shoes', 'sneakers', 'boots', 't-shirts', 'hoodies', 'jeans', 'mugs']),
  colors: counts(['red', 'dark red', 'blue', 'navy', 'black', 'white', 'green', 'grey']),
  attributes: { material: counts(['leather', 'cotton', 'ceramic']), gender: counts(['men', 'women']) },
  price: { min: 5, max: 250, p25: 18, median: 45 },
};
const lex = buildLexicon(FACETS);
const understand = (q: string) => extractSlots(q, lex);

const sorted = (xs: unknown) => (Array.isArray(xs) ? [...xs].sort() : xs);

test('the headline queries, English and Chinese, give the same filters', () => {
  const cases: { q: string; currency: string; text: string }[] = [
    { q: 'red nike running shoes under 80 dollars', currency: 'USD', text: 'red nike running shoes' },
    { q: '80元以下的红色耐克跑鞋', currency: 'CNY', text: '红色耐克跑鞋' },
  ];
  for (const c of cases) {
    const u = understand(c.q);
    assert.deepEqual(u.slots.brand, ['nike'], c.q);
    assert.deepEqual(u.slots.color, ['red'], c.q);
    assert.deepEqual(u.slots.category, ['running shoes'], c.q);
    assert.equal(u.slots.priceMax, 80, c.q);
    assert.equal(u.slots.currency, c.currency, c.q);
    // "red" is the red concept, so the catalog's "dark red" comes with it.
    assert.deepEqual(u.filters, { brand: ['nike'], color: ['red', 'dark red'], category: ['running shoes'], priceMax: 80 }, c.q);
    assert.equal(u.text, c.text, c.q);
    assert.equal(u.conceptText, 'red nike running shoes', c.q);
  }
});

test('matches report slot, surface, span on the original text, and source', () => {
  const q = '80元以下的红色耐克跑鞋';
  const u = understand(q);
  const bySlot = Object.fromEntries(u.matches.map((m) => [m.slot, m]));
  assert.deepEqual(bySlot.price.span, [0, 5]);
  assert.equal(bySlot.price.source, 'pattern');
  for (const [slot, surface] of [['color', '红色'], ['brand', '耐克'], ['category', '跑鞋']]) {
    assert.equal(bySlot[slot].surface, surface);
    assert.equal(q.slice(...bySlot[slot].span), surface);
    assert.equal(bySlot[slot].source, 'synonym');
  }
  // An English catalog word is a lexicon match.
  assert.equal(understand('nike mug').matches[0].source, 'lexicon');
});

test('parsePrice: English, Chinese, currencies, numerals', () => {
  const stats = { p25: 18, median: 45 };
  const cases: [string, { min?: number; max?: number; currency?: string; phrase: string }][] = [
    ['under 80 dollars', { max: 80, currency: 'USD', phrase: 'under 80 dollars' }],
    ['below $80', { max: 80, currency: 'USD', phrase: 'below $80' }],
    ['less than 80', { max: 80, phrase: 'less than 80' }],
    ['hoodies 80 or less', { max: 80, phrase: '80 or less' }],
    ['over 100', { min: 100, phrase: 'over 100' }],
    ['above $50', { min: 50, currency: 'USD', phrase: 'above $50' }],
    ['at least 50', { min: 50, phrase: 'at least 50' }],
    ['between 50 and 100', { min: 50, max: 100, phrase: 'between 50 and 100' }],
    ['50-100 usd', { min: 50, max: 100, currency: 'USD', phrase: '50-100 usd' }],
    ['$50 to $100', { min: 50, max: 100, currency: 'USD', phrase: '$50 to $100' }],
    ['over 50 and under 100', { min: 50, max: 100, phrase: 'over 50 and under 100' }],
    ['around 60', { min: 48, max: 72, phrase: 'around 60' }],
    ['cheap mugs', { max: 18, phrase: 'cheap' }],
    ['budget headphones', { max: 18, phrase: 'budget' }],
    ['affordable boots', { max: 18, phrase: 'affordable' }],
    ['cheap shoes under 30', { max: 30, phrase: 'under 30' }],
    ['80元以下', { max: 80, currency: 'CNY', phrase: '80元以下' }],
    ['80块以下', { max: 80, currency: 'CNY', phrase: '80块以下' }],
    ['不超过80元', { max: 80, currency: 'CNY', phrase: '不超过80元' }],
    ['低于80', { max: 80, phrase: '低于80' }],
    ['100元以上', { min: 100, currency: 'CNY', phrase: '100元以上' }],
    ['100到200元', { min: 100, max: 200, currency: 'CNY', phrase: '100到200元' }],
    ['100-200元', { min: 100, max: 200, currency: 'CNY', phrase: '100-200元' }],
    ['便宜的杯子', { max: 18, phrase: '便宜' }],
    ['¥80以内', { max: 80, currency: 'CNY', phrase: '¥80以内' }],
    ['８０元以下', { max: 80, currency: 'CNY', phrase: '８０元以下' }],
    ['八十元以下', { max: 80, currency: 'CNY', phrase: '八十元以下' }],
    ['两百元以内', { max: 200, currency: 'CNY', phrase: '两百元以内' }],
    ['一百五十元左右', { min: 120, max: 180, currency: 'CNY', phrase: '一百五十元左右' }],
    ['80 euros', { min: 64, max: 96, currency: 'EUR', phrase: '80 euros' }],
    ['£50', { min: 40, max: 60, currency: 'GBP', phrase: '£50' }],
    ['Nike Air Max 90 under $120', { max: 120, currency: 'USD', phrase: 'under $120' }],
    ['iPhone 15 under 1,000 usd', { max: 1000, currency: 'USD', phrase: 'under 1,000 usd' }],
  ];
  for (const [q, want] of cases) {
    const got = parsePrice(q, stats);
    assert.ok(got, q);
    assert.deepEqual({ min: got.min, max: got.max, currency: got.currency, phrase: got.phrase }, { min: undefined, max: undefined, currency: undefined, ...want }, q);
    assert.equal(q.slice(...got.span), got.phrase, q);
  }
});

test('parsePrice: sizes, model numbers and bare numbers are not prices', () => {
  for (const q of ['size 42 shoes', '42码', 'EU 42 boots', 'WH-1000XM5', 'iPhone 15', 'ps5 controller', 'shoes 50', 'kids under 3 years', '一双鞋', '三星手机', 'hello']) {
    assert.equal(parsePrice(q), null, q);
  }
  // "cheap" without catalog stats is reported but sets no bound.
  const cheap = parsePrice('cheap mugs');
  assert.equal(cheap?.kind, 'cheap');
  assert.equal(cheap?.max, undefined);
});

test('chineseNumber covers the simple numerals', () => {
  const cases: [string, number][] = [['八', 8], ['十', 10], ['十五', 15], ['八十', 80], ['九十九', 99], ['一百', 100], ['两百', 200], ['一百零五', 105], ['一百五', 150], ['两千', 2000], ['一千二百', 1200], ['三万', 30000]];
  for (const [cn, n] of cases) assert.equal(chineseNumber(cn), n, cn);
});

test('slots from price, size and numerals inside a full query', () => {
  const cases: { q: string; want: Partial<Understanding['slots']>; filters?: Partial<Understanding['filters']> }[] = [
    { q: 'nike shoes between 50 and 100', want: { brand: ['nike'], category: ['shoes'], priceMin: 50, priceMax: 100 } },
    { q: '李宁运动鞋100到200元', want: { brand: ['li-ning'], category: ['athletic shoes'], priceMin: 100, priceMax: 200, currency: 'CNY' } },
    { q: 'cheap mugs', want: { category: ['mugs'], priceMax: 18 }, filters: { category: ['mugs'], priceMax: 18 } },
    { q: '八十元以下的马克杯', want: { category: ['mugs'], priceMax: 80, currency: 'CNY' } },
    { q: 'size 42 shoes', want: { size: '42', category: ['shoes'] }, filters: { category: ['running shoes', 'sneakers', 'boots'] } },
    { q: '我想要一双42码的白色运动鞋', want: { size: '42', color: ['white'], category: ['athletic shoes'] } },
    { q: "women's leather boots EU 39", want: { gender: 'women', material: 'leather', category: ['boots'], size: 'EU 39' } },
    { q: 'WH-1000XM5', want: {} },
  ];
  for (const c of cases) {
    const u = understand(c.q);
    assert.deepEqual(u.slots, c.want, c.q);
    if (c.filters) assert.deepEqual(u.filters, c.filters, c.q);
    if (c.want.priceMax === undefined) assert.equal(u.filters.priceMax, undefined, c.q);
  }
});

test('typos in brand and category names are corrected, within the documented limits', () => {
  const cases: { q: string; slot: 'brand' | 'category'; value: string | null }[] = [
    { q: 'addidas sneakers', slot: 'brand', value: 'adidas' }, // 7 letters, distance 1
    { q: 'nikr', slot: 'brand', value: 'nike' }, // 4 letters, distance 1
    { q: 'sneekers', slot: 'category', value: 'sneakers' }, // 8 letters
    { q: 'sneakres', slot: 'category', value: 'sneakers' }, // adjacent swap
    { q: 'adiddsa', slot: 'brand', value: null }, // 7 letters, distance 2: not tolerated
    { q: 'new balanse', slot: 'brand', value: 'new balance' }, // multi-word name
    { q: 'pmua', slot: 'brand', value: 'puma' }, // swap in a 4-letter word
    { q: 'nik', slot: 'brand', value: null }, // under 4 letters: never
    { q: 'like', slot: 'brand', value: null }, // common word, one edit from nike
    { q: 'mike', slot: 'brand', value: null }, // first letter differs
    { q: 'blck', slot: 'brand', value: null }, // colours are not typo-corrected
  ];
  for (const c of cases) {
    const u = understand(c.q);
    const fuzzy = u.matches.filter((m) => m.source === 'fuzzy');
    if (c.value === null) {
      assert.equal(fuzzy.length, 0, c.q);
      assert.equal(u.slots[c.slot], undefined, c.q);
    } else {
      assert.ok(u.slots[c.slot]?.includes(c.value), c.q);
      assert.ok(fuzzy.some((m) => m.value === c.value), c.q);
    }
  }
  const u = understand('Show me addidas sneekers please');
  assert.deepEqual(u.filters, { brand: ['adidas'], category: ['sneakers'] });
  assert.equal(u.text, 'adidas sneakers', 'typos are written corrected, filler dropped');
  assert.equal(damerauLevenshtein('nikr', 'nike'), 1);
  assert.equal(damerauLevenshtein('ab', 'ba'), 1);
  assert.equal(damerauLevenshtein('kitten', 'sitting'), 3);
});

test('English matching is whole-word and longest first; Chinese is longest substring', () => {
  const cases: { q: string; want: Partial<Understanding['slots']> }[] = [
    { q: 'new balance running shoes', want: { brand: ['new balance'], category: ['running shoes'] } },
    { q: "women's hoodie", want: { gender: 'women', category: ['hoodies'] } },
    { q: 'menu', want: {} }, // "men" inside a word is not a gender
    { q: 'redwood mug', want: { category: ['mugs'] } }, // "red" inside a word is not a colour
    { q: '红色耐克跑鞋', want: { color: ['red'], brand: ['nike'], category: ['running shoes'] } },
    { q: '牛仔裤', want: { category: ['jeans'] } }, // not material 牛仔 + category 裤
    { q: 't恤 白色 XL', want: { category: ['t-shirts'], color: ['white'], size: 'XL' } },
    { q: 'navy t-shirt', want: { color: ['navy'], category: ['t-shirts'] } },
    { q: 'black friday deals', want: {} },
  ];
  for (const c of cases) assert.deepEqual(understand(c.q).slots, c.want, c.q);
  // "navy" is a catalog colour of its own, so it does not widen to all blues; "blue" does.
  assert.deepEqual(understand('navy hoodie').filters.color, ['navy']);
  assert.deepEqual(understand('blue hoodie').filters.color, ['blue', 'navy']);
  // A generic word maps to every catalog category it covers.
  assert.deepEqual(sorted(understand('鞋').filters.category), ['boots', 'running shoes', 'sneakers']);
});

test('a concept the catalog lacks is a slot without a filter, and says so', () => {
  const cases: { q: string; slot: 'color' | 'brand' | 'category'; value: string }[] = [
    { q: 'purple hoodie', slot: 'color', value: 'purple' },
    { q: '紫色卫衣', slot: 'color', value: 'purple' },
    { q: 'sony hoodie', slot: 'brand', value: 'sony' },
    { q: 'nike watch', slot: 'category', value: 'watches' },
  ];
  for (const c of cases) {
    const u = understand(c.q);
    assert.deepEqual(u.slots[c.slot], [c.value], c.q);
    assert.equal(u.filters[c.slot], undefined, c.q);
    assert.deepEqual(u.unfiltered.find((x) => x.slot === c.slot), { slot: c.slot, value: c.value, reason: 'not-in-catalog' }, c.q);
    assert.deepEqual(u.matches.find((m) => m.slot === c.slot)?.filterValues, [], c.q);
  }
  assert.deepEqual(understand('purple hoodie').filters, { category: ['hoodies'] });
});

test('full-width text is normalised (NFKC) before matching', () => {
  const cases: { q: string; want: Partial<Understanding['slots']> }[] = [
    { q: 'ＲＥＤ', want: { color: ['red'] } },
    { q: 'ＲＥＤ　ＮＩＫＥ ｍｕｇ', want: { color: ['red'], brand: ['nike'], category: ['mugs'] } },
    { q: '耐克跑鞋８０元以下', want: { brand: ['nike'], category: ['running shoes'], priceMax: 80, currency: 'CNY' } },
  ];
  for (const c of cases) assert.deepEqual(understand(c.q).slots, c.want, c.q);
  const u = understand('ＲＥＤ mug');
  assert.equal(u.matches[0].surface, 'ＲＥＤ');
  assert.deepEqual(u.matches[0].span, [0, 3]);
  assert.equal(u.text, 'red mug');
});

test('the embedding text drops price, size and filler but keeps visual words', () => {
  const cases: [string, string][] = [
    ['Show me red nike running shoes under 80 dollars please', 'red nike running shoes'],
    ["I'd like a navy t-shirt, size M", 'navy t-shirt'],
    ['给我看看李宁的鞋子', '李宁鞋子'],
    ['cheap mugs', 'mugs'],
    ['between 50 and 100 leather boots', 'leather boots'],
  ];
  for (const [q, text] of cases) assert.equal(understand(q).text, text, q);
});

test('routing covers every default intent label, and unknown labels search', () => {
  const want: Record<string, [string, boolean]> = {
    product_search: ['search', true],
    brand_navigation: ['brand_page', true],
    price_deal: ['deals', true],
    product_question: ['product_qa', true],
    order_delivery: ['order_status', false],
    returns_complaints: ['returns', false],
    other: ['chat', false],
  };
  assert.deepEqual([...DEFAULT_INTENTS].sort(), Object.keys(want).sort());
  for (const [label, [route, searches]] of Object.entries(want)) {
    const r = routeForIntent(label);
    assert.equal(r.route, route, label);
    assert.equal(r.searches, searches, label);
    assert.ok(r.message.length > 0, label);
  }
  assert.deepEqual({ ...routeForIntent('gift_ideas'), message: '' }, { route: 'search', searches: true, message: '' });
});

test('the lexicon is rebuilt from new facets and its version says when', () => {
  const before = buildLexicon(FACETS);
  assert.equal(before.version, buildLexicon({ ...FACETS, brands: [...FACETS.brands].reverse() }).version, 'order and counts do not matter');
  assert.deepEqual(understand('asics sneakers').filters, { category: ['sneakers'] });
  assert.equal(extractSlots('acme sneakers', before).slots.brand, undefined);

  const grown: LexiconFacets = { ...FACETS, brands: [...FACETS.brands, { value: 'ASICS', count: 3 }, { value: 'Acme', count: 1 }] };
  const after = buildLexicon(grown);
  assert.notEqual(after.version, before.version);
  assert.equal(after.version, facetsFingerprint(grown));
  assert.deepEqual(extractSlots('亚瑟士 sneakers', after).filters, { brand: ['asics'], category: ['sneakers'] });
  assert.deepEqual(extractSlots('acme sneakers', after).filters, { brand: ['acme'], category: ['sneakers'] });
  assert.deepEqual(extractSlots('acmee sneakers', after).slots.brand, ['acme'], 'new brands are typo targets too');
});
