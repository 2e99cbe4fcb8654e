/**
 * bench:naive — what a Node developer would write first, against omnisearch's text path, both
 * in-process at 16 requests in flight on the full-size pack.
 *   naive: @huggingface/transformers' own CLIPTextModelWithProjection + AutoTokenizer loaded from
 *          the pack's clip/ folder (default session options, no batching), one model call per
 *          request, then hnswlib-node search over the same product vectors, products from a Map.
 *   omnisearch: Engine.search({ text }) — micro-batched CLIP text and intent models, query
 *          understanding, lexical + vector hybrid, fusion head, index search and hydration.
 * The goal compares the same work (embed the text, search the index, fetch products); the
 * end-to-end Engine.search row, which also runs the BERT intent model, slots and BM25, is shown too.
 */
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import { AutoTokenizer, CLIPTextModelWithProjection, type Tensor } from '@huggingface/transformers';
import '../../src/models/hf.ts'; // sets transformers.js to local files only
import { Engine } from '../../src/engine.ts';
import { generateDemoCatalog } from '../../src/catalog/demo.ts';
import { productInput } from '../../src/catalog/types.ts';
import { readManifest } from '../../src/models/registry.ts';
import { benchConfig, drive, ensureFullPack, fmt, goal, header, isMain, percentile, rng, table, tempDataDir, wantFp16 } from './lib.ts';

const CONCURRENCY = 16;
const REQUESTS = 96;
const PRODUCTS = 300;

export const QUERY_WORDS = {
  colour: ['red', 'blue', 'black', 'white', 'green', 'grey', 'pink'],
  thing: ['running shoes', 'leather bag', 'cotton t-shirt', 'wool sweater', 'rain jacket', 'backpack', 'summer dress', 'sneakers', 'watch'],
  extra: ['', 'for kids', 'under 80 dollars', 'waterproof', 'nike', 'adidas', 'size 42'],
};

export function benchQueries(n: number, seed = 3): string[] {
  const u = rng(seed);
  const pick = (a: string[]) => a[Math.floor(u() * a.length)]!;
  return Array.from({ length: n }, () => [pick(QUERY_WORDS.colour), pick(QUERY_WORDS.thing), pick(QUERY_WORDS.extra)].filter(Boolean).join(' '));
}

export async function runNaive(): Promise<void> {
  header(`bench:naive — per-request transformers.js CLIP + hnswlib vs omnisearch text search, concurrency ${CONCURRENCY}, full-size pack`);
  const packDir = await ensureFullPack();
  const config = benchConfig(packDir, tempDataDir('naive'));
  const engine = await Engine.open(config, packDir);
  try {
    // A few hundred products, text only: the query path is what is measured, not ingest.
    const raw = await generateDemoCatalog({ imageRoot: config.imageRoot, count: PRODUCTS });
    const res = await engine.upsertProducts(raw.map((p) => productInput.parse({ ...p, image: undefined })));
    console.log(`omnisearch: ${res.upserted.length} products ingested (text embeddings)`);

    // The naive service: its own model objects, its own index over the same product vectors.
    const clipDir = path.join(packDir, readManifest(packDir).models.clip!.dir);
    const device = process.env.OMNISEARCH_DEVICE === 'cuda' ? 'cuda' : 'cpu';
    const tokenizer = await AutoTokenizer.from_pretrained(clipDir, { local_files_only: true });
    const model = await CLIPTextModelWithProjection.from_pretrained(clipDir, { local_files_only: true, dtype: wantFp16() ? 'fp16' : 'fp32', device });
    const index = new hnswlib.HierarchicalNSW('cosine', engine.clip.dim);
    index.initIndex(PRODUCTS, 16, 200, 100);
    const ids: string[] = [];
    for (const e of engine.store.allEmbeddings()) {
      index.addPoint(Array.from(e.vector), ids.length);
      ids.push(e.id);
    }
    const products = engine.store.getMany(ids);
    const naiveSearch = async (text: string) => {
      const inputs = tokenizer([text], { padding: true, truncation: true });
      const { text_embeds } = (await model(inputs)) as { text_embeds: Tensor };
      const v = Array.from(text_embeds.data as Float32Array);
      const hits = index.searchKnn(v, 10);
      return hits.neighbors.map((l, i) => ({ id: ids[l]!, score: 1 - hits.distances[i]!, product: products.get(ids[l]!) }));
    };
    const omniSearch = (text: string) => engine.search({ text, k: 10 });
    // The same work as the naive service (text embedding -> ANN -> products), through omnisearch's
    // micro-batched CLIP session, fusion head, filtered HNSW index and store.
    const omniSameWork = async (text: string) => {
      const q = await engine.textQueue.run(text);
      const [v] = await engine.fusion.fuse([{ text: q, image: null, weights: { text: 1, image: 1 } }]);
      const hits = engine.index.search(v!, 10);
      const found = engine.store.getMany(hits.map((h) => h.id));
      return hits.map((h) => ({ ...h, product: found.get(h.id) }));
    };

    const qs = benchQueries(REQUESTS);
    const results: { name: string; r: Awaited<ReturnType<typeof drive>> }[] = [];
    for (const [name, fn] of [
      ['naive (transformers.js model per request + hnswlib)', naiveSearch],
      ['omnisearch text path, same work (batched CLIP + fusion + HNSW + store)', omniSameWork],
      ['omnisearch Engine.search end to end (+ BERT intent, slots, BM25, RRF)', omniSearch],
    ] as const) {
      await drive(CONCURRENCY, CONCURRENCY, (i) => fn(qs[i]!)); // warm-up
      results.push({ name, r: await drive(REQUESTS, CONCURRENCY, (i) => (fn as (t: string) => Promise<unknown>)(qs[i]!)) });
    }
    table(
      ['service', 'requests', 'requests/s', 'p50 ms', 'p99 ms'],
      results.map(({ name, r }) => [name, REQUESTS, r.perSec, percentile(r.latencies, 50), percentile(r.latencies, 99)]),
    );
    const [naive, omni, full] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
    goal(`naive: omnisearch >= 1.5x the naive service's throughput at concurrency ${CONCURRENCY} (same work)`, omni.r.perSec >= 1.5 * naive.r.perSec,
      `${fmt(omni.r.perSec)} vs ${fmt(naive.r.perSec)} requests/s = ${fmt(omni.r.perSec / naive.r.perSec)}x; end to end with intent + BM25: ${fmt(full.r.perSec)} requests/s = ${fmt(full.r.perSec / naive.r.perSec)}x`);
    await model.dispose();
  } finally {
    await engine.close();
  }
}

if (isMain(import.meta.url)) await runNaive();
