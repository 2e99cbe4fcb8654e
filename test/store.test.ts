import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CatalogStore, type UpsertItem } from '../src/catalog/store.ts';
import { productInput, type ProductInput } from '../src/catalog/types.ts';

const DIM = 8;

function tmpFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'omni-store-')), 'catalog.db');
}

/** A deterministic vector per seed, so round trips can be compared exactly. */
function vec(seed: number): Float32Array {
  return Float32Array.from({ length: DIM }, (_, i) => Math.sin(seed * 13.7 + i * 1.3));
}

function item(p: ProductInput, seed = 1, withImage = false): UpsertItem {
  return { product: productInput.parse(p), textEmbedding: vec(seed), imageEmbedding: withImage ? vec(seed + 100) : null, vector: vec(seed + 200) };
}

const CATALOG: ProductInput[] = [
  { id: 'p1', title: 'Nike Air Zoom Pegasus running shoes', brand: 'Nike', category: 'Running Shoes', color: 'red', price: 120, sku: 'NK-PEG-40', description: 'Responsive road running shoe.' },
  { id: 'p2', title: 'Trail hiking boots', brand: 'Salomon', category: 'Boots', color: 'brown', price: 160, description: 'Waterproof boots; great for running errands too.' },
  { id: 'p3', title: 'Sony WH-1000XM5 wireless headphones', brand: 'Sony', category: 'Headphones', color: 'black', price: 349, sku: 'WH-1000XM5' },
  { id: 'p4', title: 'Cotton t-shirt', brand: 'Uniqlo', category: 'T-Shirts', color: 'red', price: 15, description: 'Soft cotton tee, fits under a running jacket.' },
  { id: 'p5', title: '耐克红色跑鞋', brand: '耐克', category: '跑鞋', color: '红色', price: 499, currency: 'CNY', description: '轻便透气的运动鞋' },
  { id: 'p6', title: '李宁羽毛球拍', brand: 'Li-Ning', category: '球拍', price: 299, currency: 'CNY', attributes: { material: 'carbon', gender: 'unisex' } },
  { id: 'p7', title: 'Adidas Ultraboost running shoes', brand: 'Adidas', category: 'running shoes', color: 'Red', price: 180, attributes: { material: 'knit', waterproof: true } },
  { id: 'p8', title: 'Sony WH-1000XM4 headphones', brand: 'SONY', category: 'Headphones', color: 'silver', price: 249, sku: 'WH-1000XM4' },
];

function seeded(): CatalogStore {
  const s = CatalogStore.open(tmpFile());
  s.upsert(CATALOG.map((p, i) => item(p, i + 1, i % 2 === 0)));
  return s;
}

const ids = (hits: { id: string }[]) => hits.map((h) => h.id);

test('upsert, get, getMany, embeddings round-trip; re-upsert replaces; delete removes', () => {
  const s = seeded();
  try {
    assert.equal(s.count(), CATALOG.length);
    const p1 = s.get('p1')!;
    assert.equal(p1.title, CATALOG[0].title);
    assert.equal(p1.price, 120);
    assert.equal(p1.currency, 'USD');
    assert.deepEqual(p1.attributes, {});
    assert.match(p1.updatedAt, /^\d{4}-\d\d-\d\dT/);
    assert.equal('image' in p1, false, 'absent optional fields stay absent, not null');
    assert.deepEqual(s.get('p6')!.attributes, { material: 'carbon', gender: 'unisex' });

    const e = s.embeddings('p1')!;
    assert.deepEqual([...e.text], [...vec(1)]);
    assert.deepEqual([...e.image!], [...vec(101)]);
    assert.deepEqual([...e.vector], [...vec(201)]);
    assert.equal(s.embeddings('p2')!.image, null);

    const many = s.getMany(['p3', 'nope', 'p1', 'p3']);
    assert.deepEqual([...many.keys()], ['p3', 'p1']);

    s.upsert([item({ ...CATALOG[0], title: 'Nike Pegasus 41', price: 130 }, 42)]);
    assert.equal(s.count(), CATALOG.length);
    assert.equal(s.get('p1')!.title, 'Nike Pegasus 41');
    assert.deepEqual([...s.embeddings('p1')!.vector], [...vec(242)]);

    const d = s.delete(['p1', 'missing']);
    assert.deepEqual(d.deleted, ['p1']);
    assert.equal(s.get('p1'), undefined);
    assert.equal(s.embeddings('p1'), undefined);
    assert.equal(s.count(), CATALOG.length - 1);
  } finally {
    s.close();
  }
});

test('a batch with one invalid item writes nothing', () => {
  const s = CatalogStore.open(tmpFile());
  try {
    s.upsert([item(CATALOG[0], 1)]);
    const seq = s.lastSeq();
    const bad = item(CATALOG[2], 3);
    bad.vector = Float32Array.from(bad.vector, (x, i) => (i === 3 ? Number.NaN : x));
    assert.throws(() => s.upsert([item({ ...CATALOG[0], title: 'changed' }, 9), item(CATALOG[1], 2), bad]), /non-finite/);
    const short = item(CATALOG[3], 4);
    short.textEmbedding = new Float32Array(DIM - 1);
    assert.throws(() => s.upsert([item(CATALOG[1], 2), short]), /dimensions/);
    assert.equal(s.count(), 1);
    assert.equal(s.get('p1')!.title, CATALOG[0].title);
    assert.equal(s.get('p2'), undefined);
    assert.equal(s.lastSeq(), seq);
    assert.deepEqual(s.lexicalSearch('boots', { k: 5 }), [], 'the lexical index rolled back too');
  } finally {
    s.close();
  }
});

test('facets count values case-insensitively; price quantiles use the main currency', () => {
  const s = seeded();
  try {
    const f = s.facets();
    assert.deepEqual(
      f.brands.find((b) => b.value.toLowerCase() === 'sony'),
      { value: 'Sony', count: 2 },
    );
    assert.deepEqual(f.categories.slice(0, 2), [
      { value: 'Headphones', count: 2 },
      { value: 'Running Shoes', count: 2 },
    ]);
    assert.equal(f.colors.find((c) => c.value.toLowerCase() === 'red')!.count, 3);
    assert.deepEqual(f.attributes.material, [
      { value: 'carbon', count: 1 },
      { value: 'knit', count: 1 },
    ]);
    assert.equal(f.attributes.waterproof, undefined, 'booleans are not facet values');
    assert.deepEqual(f.brands[0], { value: 'Sony', count: 2 }, 'most frequent first; a tie shows the first-ingested spelling');
    // USD prices: 15, 120, 160, 180, 249, 349
    assert.deepEqual(f.price, { min: 15, max: 349, p25: 130, median: 170, currency: 'USD' });
  } finally {
    s.close();
  }
});

test('changesSince keeps the latest change per id in order; data survives close and reopen', () => {
  const file = tmpFile();
  const s = CatalogStore.open(file);
  s.upsert([item(CATALOG[0], 1), item(CATALOG[1], 2)]);
  const mark = s.lastSeq();
  assert.ok(mark >= 2);
  s.upsert([item(CATALOG[2], 3)]);
  s.upsert([item({ ...CATALOG[0], color: 'blue' }, 7)]);
  s.delete(['p2']);
  s.setVector('p3', vec(77));
  const changes = [...s.changesSince(mark)];
  assert.deepEqual(
    changes.map((c) => [c.id, c.deleted]),
    [
      ['p1', false],
      ['p2', true],
      ['p3', false],
    ],
  );
  assert.ok(changes.every((c, i) => i === 0 || c.seq > changes[i - 1].seq));
  assert.equal(changes.at(-1)!.seq, s.lastSeq());
  assert.deepEqual(changes[0].facets, { category: 'Running Shoes', brand: 'Nike', color: 'blue', price: 120, currency: 'USD' });
  assert.deepEqual([...changes[0].vector!], [...vec(207)]);
  assert.deepEqual([...changes[2].vector!], [...vec(77)]);
  assert.equal(changes[1].vector, undefined);
  assert.deepEqual([...s.changesSince(s.lastSeq())], []);
  const seq = s.lastSeq();
  s.close();

  const r = CatalogStore.open(file);
  try {
    assert.equal(r.count(), 2);
    assert.equal(r.lastSeq(), seq);
    assert.equal(r.get('p1')!.color, 'blue');
    assert.deepEqual([...r.embeddings('p3')!.vector], [...vec(77)]);
    assert.equal(r.lexicalSearch('headphones', { k: 3 })[0].id, 'p3');
    assert.deepEqual([...r.allEmbeddings()].map((e) => e.id).sort(), ['p1', 'p3']);
  } finally {
    r.close();
  }
});

test('allEmbeddings pages through more rows than one page while setVector writes', () => {
  const s = CatalogStore.open(tmpFile());
  try {
    const n = 1203;
    s.upsert(Array.from({ length: n }, (_, i) => item({ id: `x${i}`, title: `item ${i}` }, i)));
    let seen = 0;
    for (const e of s.allEmbeddings()) {
      s.setVector(e.id, vec(seen + 5000));
      seen++;
    }
    assert.equal(seen, n);
    assert.deepEqual([...s.embeddings('x1202')!.vector], [...vec(1202 + 5000)]);
    assert.equal([...s.changesSince(0)].length, n);
  } finally {
    s.close();
  }
});

test('BM25 ranks title and brand matches above description matches', () => {
  const s = seeded();
  try {
    const hits = s.lexicalSearch('running shoes', { k: 10 });
    const order = ids(hits);
    // p1 and p7 say it in the title and category; p2 and p4 only mention running in the description.
    assert.deepEqual(new Set(order.slice(0, 2)), new Set(['p1', 'p7']));
    assert.ok(order.includes('p2') && order.includes('p4'));
    assert.ok(order.indexOf('p2') > 1 && order.indexOf('p4') > 1);
    assert.deepEqual(
      hits.map((h) => h.rank),
      hits.map((_, i) => i + 1),
    );
    assert.ok(hits.every((h, i) => i === 0 || h.score <= hits[i - 1].score), 'scores descend');
    assert.ok(hits.every((h) => !h.matchedSku && h.score > 0));
    // Stemming: the singular finds the plural.
    assert.ok(ids(s.lexicalSearch('shoe', { k: 10 })).includes('p7'));
    assert.deepEqual(ids(s.lexicalSearch('sony', { k: 10 })).sort(), ['p3', 'p8']);
  } finally {
    s.close();
  }
});

test('an exact SKU match comes first and is flagged, ignoring case, dashes and spaces', () => {
  const s = seeded();
  try {
    for (const q of ['WH-1000XM5', 'wh1000xm5', 'wh 1000xm5', 'sony wh-1000xm5 headphones']) {
      const hits = s.lexicalSearch(q, { k: 5 });
      assert.equal(hits[0].id, 'p3', q);
      assert.equal(hits[0].matchedSku, true, q);
      assert.ok(hits.slice(1).every((h) => !h.matchedSku), q);
      assert.ok(hits.every((h, i) => i === 0 || h.score <= hits[i - 1].score), `${q}: score order = rank order`);
    }
    // An accessory naming the model twice out-scores the product on BM25; the SKU hit still leads.
    s.upsert([item({ id: 'c1', title: 'Carry case for WH1000XM5 headphones', description: 'Hard case that fits the wh1000xm5.' }, 50)]);
    const withCase = s.lexicalSearch('wh1000xm5 case', { k: 5 });
    assert.deepEqual(ids(withCase).slice(0, 2), ['p3', 'c1']);
    assert.deepEqual(withCase.map((h) => h.matchedSku).slice(0, 2), [true, false]);
    assert.deepEqual(ids(s.lexicalSearch('carry case wh1000xm5', { k: 5, filters: { brand: 'bose' } })), []);

    const xm4 = s.lexicalSearch('wh1000xm4', { k: 5 });
    assert.equal(xm4[0].id, 'p8');
    assert.equal(xm4[0].matchedSku, true);
    // 'headphones' matches both titles but is no SKU.
    assert.ok(s.lexicalSearch('headphones', { k: 5 }).every((h) => !h.matchedSku));
    // A SKU match that the filter excludes is not returned (p8 still shares the word "wh").
    assert.deepEqual(s.lexicalSearch('WH-1000XM5', { k: 5, filters: { priceMax: 300 } }).map((h) => [h.id, h.matchedSku]), [['p8', false]]);
  } finally {
    s.close();
  }
});

test('Chinese titles match two-character and longer Chinese queries', () => {
  const s = seeded();
  try {
    assert.equal(s.lexicalSearch('跑鞋', { k: 5 })[0].id, 'p5');
    assert.equal(s.lexicalSearch('红色', { k: 5 })[0].id, 'p5');
    assert.equal(s.lexicalSearch('耐克红色跑鞋', { k: 5 })[0].id, 'p5');
    assert.equal(s.lexicalSearch('80元以下的红色耐克跑鞋', { k: 5 })[0].id, 'p5');
    assert.equal(s.lexicalSearch('羽毛球拍', { k: 5 })[0].id, 'p6');
    assert.equal(s.lexicalSearch('球拍', { k: 5 })[0].id, 'p6');
    // Two characters that never stand next to each other in any title find nothing.
    assert.deepEqual(s.lexicalSearch('鞋耐', { k: 5 }), []);
    // Mixed script: the Latin brand and the Chinese product word both count.
    assert.deepEqual(ids(s.lexicalSearch('Li-Ning 球拍', { k: 5 })), ['p6']);
  } finally {
    s.close();
  }
});

test('FTS5 syntax in user text never throws', () => {
  const s = seeded();
  try {
    const nasty = [
      '"',
      '""',
      '"unbalanced',
      "it's",
      'running AND',
      'OR',
      'NOT shoes',
      'AND OR NOT',
      'NEAR(running shoes, 2)',
      'NEAR',
      'run*',
      '*',
      '^title',
      '(shoes',
      'shoes)',
      '((()))',
      'title:running',
      '{title brand}: nike',
      '- -- +',
      'col:"x" OR y*',
      '',
      '   ',
      '\u0000',
      '🙂👟',
      'a'.repeat(3000),
      'shoes '.repeat(500),
      '跑鞋" OR "x',
    ];
    for (const q of nasty) {
      assert.doesNotThrow(() => s.lexicalSearch(q, { k: 5 }), q.slice(0, 40));
      assert.doesNotThrow(() => s.lexicalSearch(q, { k: 5, filters: { brand: q, category: [q] } }), q.slice(0, 40));
    }
    // Operators are read as words, so the real word in them still matches.
    assert.ok(ids(s.lexicalSearch('NEAR(running shoes, 2)', { k: 5 })).includes('p1'));
    assert.ok(ids(s.lexicalSearch('title:running', { k: 5 })).includes('p7'));
    assert.deepEqual(s.lexicalSearch('', { k: 5 }), []);
  } finally {
    s.close();
  }
});

test('filters apply to lexical hits in SQL, case-insensitively', () => {
  const s = seeded();
  try {
    const q = 'running shoes';
    assert.deepEqual(ids(s.lexicalSearch(q, { k: 10, filters: { brand: 'nike' } })), ['p1']);
    assert.deepEqual(ids(s.lexicalSearch(q, { k: 10, filters: { brand: ['ADIDAS', 'Nike'] } })).sort(), ['p1', 'p7']);
    assert.deepEqual(ids(s.lexicalSearch(q, { k: 10, filters: { color: 'RED' } })).sort(), ['p1', 'p4', 'p7']);
    assert.deepEqual(ids(s.lexicalSearch(q, { k: 10, filters: { category: 'running shoes', priceMax: 150 } })), ['p1']);
    assert.deepEqual(ids(s.lexicalSearch(q, { k: 10, filters: { priceMin: 150 } })).sort(), ['p2', 'p7']);
    assert.deepEqual(ids(s.lexicalSearch('跑鞋', { k: 10, filters: { currency: 'CNY', brand: '耐克' } })), ['p5']);
    assert.deepEqual(s.lexicalSearch('跑鞋', { k: 10, filters: { currency: 'USD' } }), []);
    assert.deepEqual(ids(s.lexicalSearch('headphones', { k: 10, filters: { brand: 'sony', color: ['silver'] } })), ['p8']);
    assert.equal(s.lexicalSearch(q, { k: 1 }).length, 1);
  } finally {
    s.close();
  }
});

test('delete and re-upsert keep the lexical index in step', () => {
  const s = seeded();
  try {
    assert.ok(ids(s.lexicalSearch('pegasus', { k: 5 })).includes('p1'));
    s.delete(['p1']);
    assert.deepEqual(s.lexicalSearch('pegasus', { k: 5 }), []);
    assert.deepEqual(s.lexicalSearch('NK-PEG-40', { k: 5 }), []);
    s.upsert([item({ id: 'p3', title: 'Bose QuietComfort headphones', brand: 'Bose', category: 'Headphones' }, 3)]);
    assert.deepEqual(s.lexicalSearch('wh1000xm5', { k: 5 }), [], 'the old SKU and title are gone');
    assert.deepEqual(ids(s.lexicalSearch('quietcomfort', { k: 5 })), ['p3']);
  } finally {
    s.close();
  }
});
