/**
 * bench:ingest — products/s through Engine.upsertProducts (image decode, CLIP image + text
 * embeddings, SQLite write, index upsert) on the full-size pack, with OMNISEARCH_INGEST_BATCH=1
 * against the default 16. Products and pictures come from the demo catalog generator.
 *
 * One engine serves both runs (loading the full pack twice would double the bench's time); the
 * batch size is the engine's config value, read per upsertProducts call, set before each run.
 * Each run inserts its own fresh ids, so both do inserts of the same kind of product.
 */
import { Engine } from '../../src/engine.ts';
import { generateDemoCatalog } from '../../src/catalog/demo.ts';
import { productInput, type Product } from '../../src/catalog/types.ts';
import { benchConfig, ensureFullPack, fmt, header, isMain, table, tempDataDir } from './lib.ts';

const COUNT = 64;

export async function runIngest(): Promise<void> {
  header(`bench:ingest — ${COUNT} demo products with images, full-size pack, ingest batch 1 vs 16`);
  const packDir = await ensureFullPack();
  const config = benchConfig(packDir, tempDataDir('ingest'));
  const raw = await generateDemoCatalog({ imageRoot: config.imageRoot, count: COUNT * 2 + 4 });
  const all = raw.map((p) => productInput.parse(p));
  const withImages = all.filter((p) => p.image).length;
  const engine = await Engine.open(config, packDir);
  try {
    await engine.upsertProducts(all.slice(0, 4)); // warm-up at the real shapes
    const runs: { batch: number; products: Product[] }[] = [
      { batch: 1, products: all.slice(4, 4 + COUNT) },
      { batch: config.OMNISEARCH_INGEST_BATCH, products: all.slice(4 + COUNT, 4 + 2 * COUNT) },
    ];
    const rows: (string | number)[][] = [];
    const rate: number[] = [];
    for (const r of runs) {
      engine.config.OMNISEARCH_INGEST_BATCH = r.batch;
      const t0 = performance.now();
      const res = await engine.upsertProducts(r.products);
      const ms = performance.now() - t0;
      if (res.errors.length) throw new Error(`ingest errors: ${JSON.stringify(res.errors.slice(0, 3))}`);
      rate.push((res.upserted.length * 1000) / ms);
      rows.push([`OMNISEARCH_INGEST_BATCH=${r.batch}`, res.upserted.length, r.products.filter((p) => p.image).length, ms / 1000, rate.at(-1)!, ms / res.upserted.length]);
    }
    console.log(`\n(${withImages}/${all.length} generated products have images)`);
    table(['config', 'products', 'with image', 'seconds', 'products/s', 'ms/product'], rows);
    console.log(`batch ${runs[1]!.batch} vs batch 1: ${fmt(rate[1]! / rate[0]!)}x (${fmt(rate[1]!)} vs ${fmt(rate[0]!)} products/s; the issue sets no numeric goal for ingest)`);
  } finally {
    await engine.close();
  }
}

if (isMain(import.meta.url)) await runIngest();
