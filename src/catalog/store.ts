import Database from 'better-sqlite3';
import { badRequest } from '../errors.ts';
import { normFacet, type IndexFilter } from '../index/facets.ts';
import type { Product, ProductFacets, SearchFilters } from './types.ts';
import { ftsMatchQuery, ftsText, skuCandidates, skuKey } from './lexical.ts';

export type StoredProduct = Product & { updatedAt: string };

export interface UpsertItem {
  product: Product;
  textEmbedding: Float32Array;
  imageEmbedding?: Float32Array | null;
  /** The vector the ANN index holds. */
  vector: Float32Array;
}

export interface FacetCount {
  value: string;
  count: number;
}

export interface CatalogFacets {
  brands: FacetCount[];
  categories: FacetCount[];
  colors: FacetCount[];
  /** String-valued attributes: key -> its most frequent values (at most MAX_ATTRIBUTE_VALUES). */
  attributes: Record<string, FacetCount[]>;
  /** Over the prices in the most common currency (mixing currencies would make the quantiles meaningless). */
  price: { min: number; max: number; p25: number; median: number; currency: string } | null;
}

export interface Change {
  seq: number;
  id: string;
  deleted: boolean;
  vector?: Float32Array;
  facets?: ProductFacets;
}

export interface StoredEmbeddingRow {
  id: string;
  text: Float32Array;
  image: Float32Array | null;
  vector: Float32Array;
  facets: ProductFacets;
}

export interface LexicalHit {
  id: string;
  /** 1-based position in this list. */
  rank: number;
  /** BM25, higher is better. An exact SKU hit is lifted to the list's best score, so score order = rank order. */
  score: number;
  matchedSku: boolean;
}

const MAX_ATTRIBUTE_VALUES = 200;
const PAGE = 500;

/**
 * BM25 column weights, in the FTS table's column order: a word in the title or brand, or the SKU,
 * says far more about what the product is than the same word in its description.
 */
const FTS_COLUMNS = ['title', 'brand', 'category', 'description', 'sku', 'attrs'] as const;
const BM25_WEIGHTS = [10, 6, 3, 1, 8, 2];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS products (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  brand TEXT, category TEXT, color TEXT, sku TEXT,
  price REAL,
  currency TEXT NOT NULL,
  image TEXT,
  attributes TEXT NOT NULL DEFAULT '{}',
  -- normalised copies (normFacet, skuKey) that filters and SKU lookups compare against
  brand_norm TEXT, category_norm TEXT, color_norm TEXT, sku_norm TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS products_sku_norm ON products(sku_norm) WHERE sku_norm IS NOT NULL;
CREATE TABLE IF NOT EXISTS embeddings (
  id TEXT PRIMARY KEY,
  text_embedding BLOB NOT NULL,
  image_embedding BLOB,
  vector BLOB NOT NULL
);
-- One row per id, its latest upsert or delete; AUTOINCREMENT keeps seq growing even when the
-- newest row is replaced, so "changes after seq N" is always well defined.
CREATE TABLE IF NOT EXISTS changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  deleted INTEGER NOT NULL
);
-- Contentless: the indexed text is a normalised copy (see lexical.ts), never read back.
CREATE VIRTUAL TABLE IF NOT EXISTS products_fts USING fts5(
  ${FTS_COLUMNS.join(', ')},
  content='', contentless_delete=1,
  tokenize='porter unicode61 remove_diacritics 2'
);
`;

/**
 * The catalog: products, their embeddings, a change log for the ANN index and the lexical (FTS5)
 * index, all in one SQLite file so one transaction covers every write of a batch.
 *
 * Durability: WAL with synchronous=NORMAL. A commit is in the WAL file (the OS page cache) before
 * the transaction returns, and the page cache outlives the process, so a kill -9 loses nothing
 * acknowledged. Only an OS crash or power cut can drop the last commits (NORMAL fsyncs at
 * checkpoints, not per commit), and even then the database stays consistent; pass
 * `{synchronous: 'FULL'}` where that matters more than write latency.
 */
export class CatalogStore {
  private readonly stmt;

  private constructor(private readonly db: Database.Database) {
    const s = (sql: string) => db.prepare(sql);
    this.stmt = {
      upsertProduct: s(`
        INSERT INTO products (id, title, description, brand, category, color, sku, price, currency, image, attributes,
                              brand_norm, category_norm, color_norm, sku_norm, created_at, updated_at)
        VALUES (@id, @title, @description, @brand, @category, @color, @sku, @price, @currency, @image, @attributes,
                @brand_norm, @category_norm, @color_norm, @sku_norm, @now, @now)
        ON CONFLICT(id) DO UPDATE SET
          title=excluded.title, description=excluded.description, brand=excluded.brand, category=excluded.category,
          color=excluded.color, sku=excluded.sku, price=excluded.price, currency=excluded.currency, image=excluded.image,
          attributes=excluded.attributes, brand_norm=excluded.brand_norm, category_norm=excluded.category_norm,
          color_norm=excluded.color_norm, sku_norm=excluded.sku_norm, updated_at=excluded.updated_at
        RETURNING rid`).pluck(),
      upsertEmbedding: s(`INSERT OR REPLACE INTO embeddings (id, text_embedding, image_embedding, vector) VALUES (?, ?, ?, ?)`),
      setVector: s(`UPDATE embeddings SET vector = ? WHERE id = ?`),
      ftsDelete: s(`DELETE FROM products_fts WHERE rowid = ?`),
      ftsInsert: s(`INSERT INTO products_fts (rowid, ${FTS_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      logChange: s(`INSERT OR REPLACE INTO changes (id, deleted) VALUES (?, ?)`),
      ridOf: s(`SELECT rid FROM products WHERE id = ?`).pluck(),
      deleteProduct: s(`DELETE FROM products WHERE rid = ?`),
      deleteEmbedding: s(`DELETE FROM embeddings WHERE id = ?`),
      get: s(`SELECT * FROM products WHERE id = ?`),
      count: s(`SELECT count(*) FROM products`).pluck(),
      lastSeq: s(`SELECT coalesce(max(seq), 0) FROM changes`).pluck(),
      embeddings: s(`SELECT text_embedding, image_embedding, vector FROM embeddings WHERE id = ?`),
      changes: s(`
        SELECT c.seq, c.id, c.deleted, p.rid AS prid, e.vector, p.category, p.brand, p.color, p.price, p.currency
        FROM changes c LEFT JOIN products p ON p.id = c.id LEFT JOIN embeddings e ON e.id = c.id
        WHERE c.seq > ? ORDER BY c.seq LIMIT ${PAGE}`),
      allEmbeddings: s(`
        SELECT p.rid, p.id, e.text_embedding, e.image_embedding, e.vector, p.category, p.brand, p.color, p.price, p.currency
        FROM products p JOIN embeddings e ON e.id = p.id
        WHERE p.rid > ? ORDER BY p.rid LIMIT ${PAGE}`),
    };
  }

  static open(file: string, opts: { synchronous?: 'NORMAL' | 'FULL' } = {}): CatalogStore {
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
      return new CatalogStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Writes the whole batch in one transaction: any invalid item and nothing is written. */
  upsert(items: UpsertItem[]): { seq: number } {
    const run = this.db.transaction((batch: UpsertItem[]) => {
      const now = new Date().toISOString();
      for (const item of batch) this.upsertOne(item, now);
      return this.stmt.lastSeq.get() as number;
    });
    return { seq: run(items) };
  }

  private upsertOne(item: UpsertItem, now: string): void {
    const p = item.product;
    if (!p || typeof p.id !== 'string' || p.id.length === 0) throw badRequest('invalid_product', 'product id is missing');
    if (typeof p.title !== 'string' || p.title.length === 0) throw badRequest('invalid_product', `product ${p.id}: title is missing`);
    const dim = item.vector?.length;
    checkVector(p.id, 'vector', item.vector, dim);
    checkVector(p.id, 'textEmbedding', item.textEmbedding, dim);
    if (item.imageEmbedding) checkVector(p.id, 'imageEmbedding', item.imageEmbedding, dim);
    const attributes = p.attributes ?? {};
    const rid = this.stmt.upsertProduct.get({
      id: p.id,
      title: p.title,
      description: p.description ?? '',
      brand: p.brand ?? null,
      category: p.category ?? null,
      color: p.color ?? null,
      sku: p.sku ?? null,
      price: p.price ?? null,
      currency: p.currency ?? 'USD',
      image: p.image ?? null,
      attributes: JSON.stringify(attributes),
      brand_norm: p.brand ? normFacet(p.brand) : null,
      category_norm: p.category ? normFacet(p.category) : null,
      color_norm: p.color ? normFacet(p.color) : null,
      sku_norm: p.sku ? skuKey(p.sku) || null : null,
      now,
    }) as number;
    this.stmt.ftsDelete.run(rid);
    const sku = p.sku ? `${p.sku} ${skuKey(p.sku)}` : '';
    this.stmt.ftsInsert.run(
      rid,
      ftsText(p.title),
      ftsText(p.brand ?? ''),
      ftsText(p.category ?? ''),
      ftsText(p.description ?? ''),
      ftsText(sku),
      ftsText(attributeText(attributes)),
    );
    this.stmt.upsertEmbedding.run(p.id, blob(item.textEmbedding), item.imageEmbedding ? blob(item.imageEmbedding) : null, blob(item.vector));
    this.stmt.logChange.run(p.id, 0);
  }

  delete(ids: string[]): { deleted: string[]; seq: number } {
    const run = this.db.transaction((list: string[]) => {
      const deleted: string[] = [];
      for (const id of new Set(list)) {
        const rid = this.stmt.ridOf.get(id) as number | undefined;
        if (rid === undefined) continue;
        this.stmt.ftsDelete.run(rid);
        this.stmt.deleteProduct.run(rid);
        this.stmt.deleteEmbedding.run(id);
        this.stmt.logChange.run(id, 1);
        deleted.push(id);
      }
      return { deleted, seq: this.stmt.lastSeq.get() as number };
    });
    return run(ids);
  }

  /** Replaces the ANN vector of a stored product (after a product-vector setting change). */
  setVector(id: string, vector: Float32Array): { seq: number } {
    const run = this.db.transaction(() => {
      checkVector(id, 'vector', vector, vector.length);
      if (this.stmt.setVector.run(blob(vector), id).changes === 0) throw badRequest('not_found', `no product ${id}`);
      this.stmt.logChange.run(id, 0);
      return this.stmt.lastSeq.get() as number;
    });
    return { seq: run() };
  }

  get(id: string): StoredProduct | undefined {
    const row = this.stmt.get.get(id) as ProductRow | undefined;
    return row ? toProduct(row) : undefined;
  }

  getMany(ids: string[]): Map<string, StoredProduct> {
    const out = new Map<string, StoredProduct>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += PAGE) {
      const chunk = unique.slice(i, i + PAGE);
      const rows = this.db.prepare(`SELECT * FROM products WHERE id IN (${chunk.map(() => '?').join(',')})`).all(...chunk) as ProductRow[];
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of chunk) {
        const r = byId.get(id);
        if (r) out.set(id, toProduct(r));
      }
    }
    return out;
  }

  count(): number {
    return this.stmt.count.get() as number;
  }

  lastSeq(): number {
    return this.stmt.lastSeq.get() as number;
  }

  facets(): CatalogFacets {
    const column = (col: 'brand' | 'category' | 'color') =>
      mergeSpellings(
        this.db.prepare(`SELECT ${col} AS value, count(*) AS count FROM products WHERE ${col}_norm <> '' GROUP BY ${col} ORDER BY min(rid)`).all() as FacetCount[],
      );
    const attributes: Record<string, FacetCount[]> = {};
    const attrRows = this.db
      .prepare(
        `SELECT j.key AS key, j.value AS value, count(*) AS count FROM products p, json_each(p.attributes) j
         WHERE j.type = 'text' AND trim(j.value) <> '' GROUP BY j.key, j.value ORDER BY min(p.rid)`,
      )
      .all() as { key: string; value: string; count: number }[];
    const byKey = new Map<string, FacetCount[]>();
    for (const r of attrRows) {
      const list = byKey.get(r.key) ?? [];
      list.push({ value: r.value, count: r.count });
      byKey.set(r.key, list);
    }
    for (const [key, list] of byKey) attributes[key] = mergeSpellings(list).slice(0, MAX_ATTRIBUTE_VALUES);

    const top = this.db
      .prepare(`SELECT currency FROM products WHERE price IS NOT NULL GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1`)
      .pluck()
      .get() as string | undefined;
    let price: CatalogFacets['price'] = null;
    if (top !== undefined) {
      const prices = this.db.prepare(`SELECT price FROM products WHERE price IS NOT NULL AND currency = ? ORDER BY price`).pluck().all(top) as number[];
      price = { min: prices[0], max: prices[prices.length - 1], p25: quantile(prices, 0.25), median: quantile(prices, 0.5), currency: top };
    }
    return { brands: column('brand'), categories: column('category'), colors: column('color'), attributes, price };
  }

  /**
   * Latest change per id after `seq`, oldest first. Paged (not a live cursor), so callers may
   * write to the store while iterating.
   */
  *changesSince(seq: number): Iterable<Change> {
    let after = seq;
    for (;;) {
      const rows = this.stmt.changes.all(after) as ChangeRow[];
      for (const r of rows) {
        after = r.seq;
        // An upsert whose row is gone cannot happen (same transaction), but reads as a delete if it did.
        if (r.deleted || r.prid === null || r.vector === null) yield { seq: r.seq, id: r.id, deleted: true };
        else yield { seq: r.seq, id: r.id, deleted: false, vector: floats(r.vector), facets: facetsOfRow(r) };
      }
      if (rows.length < PAGE) return;
    }
  }

  embeddings(id: string): { text: Float32Array; image: Float32Array | null; vector: Float32Array } | undefined {
    const r = this.stmt.embeddings.get(id) as { text_embedding: Buffer; image_embedding: Buffer | null; vector: Buffer } | undefined;
    if (!r) return undefined;
    return { text: floats(r.text_embedding), image: r.image_embedding ? floats(r.image_embedding) : null, vector: floats(r.vector) };
  }

  /** Every product's embeddings and facets, paged so the caller may call setVector meanwhile. */
  *allEmbeddings(): Iterable<StoredEmbeddingRow> {
    let after = 0;
    for (;;) {
      const rows = this.stmt.allEmbeddings.all(after) as (FacetRow & { rid: number; id: string; text_embedding: Buffer; image_embedding: Buffer | null; vector: Buffer })[];
      for (const r of rows) {
        after = r.rid;
        yield {
          id: r.id,
          text: floats(r.text_embedding),
          image: r.image_embedding ? floats(r.image_embedding) : null,
          vector: floats(r.vector),
          facets: facetsOfRow(r),
        };
      }
      if (rows.length < PAGE) return;
    }
  }

  /**
   * BM25 search over the FTS index, filters applied in SQL. Exact SKU matches (the query, or a
   * run of up to 3 of its words, equal to a SKU ignoring case, spaces and punctuation) come first
   * and are flagged. A query with no searchable words returns nothing.
   */
  lexicalSearch(query: string, opts: { k: number; filters?: SearchFilters }): LexicalHit[] {
    const k = Math.max(0, Math.floor(opts.k));
    if (k === 0 || typeof query !== 'string') return [];
    const filter = filterSql(opts.filters);

    const skus = skuCandidates(query);
    const skuIds = skus.length
      ? (this.db
          .prepare(`SELECT p.id FROM products p WHERE p.sku_norm IN (${skus.map(() => '?').join(',')})${filter.sql} ORDER BY p.rid LIMIT ?`)
          .pluck()
          .all(...skus, ...filter.params, k) as string[])
      : [];

    const match = ftsMatchQuery(query);
    const weights = BM25_WEIGHTS.join(', ');
    const bm25Rows = match
      ? (this.db
          .prepare(
            `SELECT p.id AS id, -bm25(products_fts, ${weights}) AS score
             FROM products_fts JOIN products p ON p.rid = products_fts.rowid
             WHERE products_fts MATCH ?${filter.sql}
             ORDER BY score DESC, p.rid LIMIT ?`,
          )
          .all(match, ...filter.params, k + skuIds.length) as { id: string; score: number }[])
      : [];

    const scoreOf = new Map(bm25Rows.map((r) => [r.id, r.score]));
    const best = bm25Rows.length ? bm25Rows[0].score : 0;
    const skuSet = new Set(skuIds);
    const skuHits = skuIds
      .map((id) => ({ id, score: Math.max(scoreOf.get(id) ?? best, best), own: scoreOf.get(id) ?? -Infinity }))
      .sort((a, b) => b.own - a.own);
    const hits: Omit<LexicalHit, 'rank'>[] = [
      ...skuHits.map((h) => ({ id: h.id, score: h.score, matchedSku: true })),
      ...bm25Rows.filter((r) => !skuSet.has(r.id)).map((r) => ({ id: r.id, score: r.score, matchedSku: false })),
    ];
    return hits.slice(0, k).map((h, i) => ({ ...h, rank: i + 1 }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

// ---- rows and conversions ------------------------------------------------------------------

interface FacetRow {
  category: string | null;
  brand: string | null;
  color: string | null;
  price: number | null;
  currency: string | null;
}

interface ChangeRow extends Partial<FacetRow> {
  seq: number;
  id: string;
  deleted: number;
  prid: number | null;
  vector: Buffer | null;
}

interface ProductRow {
  id: string;
  title: string;
  description: string;
  brand: string | null;
  category: string | null;
  color: string | null;
  sku: string | null;
  price: number | null;
  currency: string;
  image: string | null;
  attributes: string;
  updated_at: string;
}

function toProduct(r: ProductRow): StoredProduct {
  const p: StoredProduct = {
    id: r.id,
    title: r.title,
    description: r.description,
    currency: r.currency,
    attributes: JSON.parse(r.attributes) as Product['attributes'],
    updatedAt: r.updated_at,
  };
  if (r.brand !== null) p.brand = r.brand;
  if (r.category !== null) p.category = r.category;
  if (r.color !== null) p.color = r.color;
  if (r.sku !== null) p.sku = r.sku;
  if (r.price !== null) p.price = r.price;
  if (r.image !== null) p.image = r.image;
  return p;
}

function facetsOfRow(r: Partial<FacetRow>): ProductFacets {
  const f: ProductFacets = {};
  if (r.category != null) f.category = r.category;
  if (r.brand != null) f.brand = r.brand;
  if (r.color != null) f.color = r.color;
  if (r.price != null) f.price = r.price;
  if (r.currency != null) f.currency = r.currency;
  return f;
}

/** Float32 little-endian, the layout of every platform Node supports in practice (x64, arm64). */
function blob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Copies: a Buffer from SQLite need not be 4-byte aligned, which a Float32Array view requires. */
function floats(b: Buffer): Float32Array {
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function checkVector(id: string, name: string, v: Float32Array | undefined, dim: number | undefined): void {
  if (!(v instanceof Float32Array) || v.length === 0) throw badRequest('invalid_embedding', `product ${id}: ${name} is not a non-empty Float32Array`);
  if (v.length !== dim) throw badRequest('invalid_embedding', `product ${id}: ${name} has ${v.length} dimensions, expected ${dim}`);
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw badRequest('invalid_embedding', `product ${id}: ${name} holds a non-finite value`);
}

/** Attribute values as searchable words; a `true` flag contributes its key ("waterproof"). */
function attributeText(attrs: Record<string, string | number | boolean>): string {
  const parts: string[] = [];
  for (const [key, v] of Object.entries(attrs)) {
    if (typeof v === 'boolean') {
      if (v) parts.push(key);
    } else parts.push(String(v));
  }
  return parts.join(' ; ');
}

/** Groups spellings that normalise alike ("Nike", "NIKE"), shown as the most frequent one (ties: the first ingested). */
function mergeSpellings(rows: FacetCount[]): FacetCount[] {
  const groups = new Map<string, { total: number; best: FacetCount }>();
  for (const r of rows) {
    const key = normFacet(r.value);
    if (!key) continue;
    const g = groups.get(key);
    if (!g) groups.set(key, { total: r.count, best: r });
    else {
      g.total += r.count;
      if (r.count > g.best.count) g.best = r;
    }
  }
  return [...groups.values()]
    .map((g) => ({ value: g.best.value, count: g.total }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The same filter semantics as index/facets.ts compileFilter, as SQL over the normalised columns. */
function filterSql(f: IndexFilter | undefined): { sql: string; params: (string | number)[] } {
  if (!f) return { sql: '', params: [] };
  let sql = '';
  const params: (string | number)[] = [];
  const inList = (col: string, v: string | string[] | undefined) => {
    if (v === undefined) return;
    const vals = [...new Set((Array.isArray(v) ? v : [v]).map(normFacet).filter((s) => s.length > 0))];
    if (vals.length === 0) return;
    sql += ` AND p.${col} IN (${vals.map(() => '?').join(',')})`;
    params.push(...vals);
  };
  inList('category_norm', f.category);
  inList('brand_norm', f.brand);
  inList('color_norm', f.color);
  // NULL price compares as unknown, so products without a price fail a price bound (as in the index).
  if (f.priceMin !== undefined) {
    sql += ' AND p.price >= ?';
    params.push(f.priceMin);
  }
  if (f.priceMax !== undefined) {
    sql += ' AND p.price <= ?';
    params.push(f.priceMax);
  }
  if (f.currency) {
    sql += ' AND p.currency = ?';
    params.push(f.currency.toUpperCase());
  }
  return { sql, params };
}
