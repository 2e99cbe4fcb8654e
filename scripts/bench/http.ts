/**
 * bench:http — what HTTP adds to a text search: POST /v1/search over loopback (autocannon, one
 * connection, fixed request count, client on its own thread) against the same engine's search called in-process, same
 * queries in the same order. Tiny pack (so the model time does not drown the overhead), demo
 * catalog off, a few hundred demo products ingested. Rounds alternate in-process / HTTP so drift
 * in machine load hits both.
 */
import type { Worker } from 'node:worker_threads';
import { startServer } from '../../src/server/serve.ts';
import { generateDemoCatalog } from '../../src/catalog/demo.ts';
import { productInput } from '../../src/catalog/types.ts';
import { benchConfig, ensureFullPack, ensureTinyPack, fmt, goal, header, isMain, mean, percentile, table, tempDataDir, tsWorker } from './lib.ts';
import { benchQueries } from './naive.ts';

// The full-size pack is the default: the overhead that matters is against the pipeline users run.
// `--pack tiny` shows the same fixed cost against a pipeline a few ms long.
const PACK = process.argv.includes('--pack') ? process.argv[process.argv.indexOf('--pack') + 1] : 'full';
const PRODUCTS = PACK === 'full' ? 100 : 300;
// Short alternating rounds: this VM's speed drifts by 10-20% within a minute, and a 5% question
// (HTTP's share of a ~50 ms search) needs both sides to sample the same stretches of it.
const PER_ROUND = PACK === 'full' ? 40 : 125;
const ROUNDS = 8;

/** One autocannon run on the client thread. */
function cannon(client: Worker, url: string, bodies: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.once('message', (m: { latencies?: number[]; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m.latencies!)));
    client.postMessage({ url, bodies });
  });
}

export async function runHttp(): Promise<void> {
  header(`bench:http — POST /v1/search over loopback vs Engine.search in-process, concurrency 1, ${PACK} pack`);
  if (PACK !== 'full' && PACK !== 'tiny') throw new Error('--pack must be full or tiny');
  const packDir = PACK === 'full' ? await ensureFullPack() : await ensureTinyPack();
  const config = benchConfig(packDir, tempDataDir('http'));
  const running = await startServer(config);
  const client = tsWorker(new URL('./http-client-worker.ts', import.meta.url), null);
  try {
    const engine = await running.ready;
    const raw = await generateDemoCatalog({ imageRoot: config.imageRoot, count: PRODUCTS });
    const res = await engine.upsertProducts(raw.map((p) => productInput.parse(p)));
    await engine.saveIndex();
    console.log(`${res.upserted.length} products ingested; ${PER_ROUND * ROUNDS} requests per side`);
    const url = `http://127.0.0.1:${running.port}`;
    const qs = benchQueries(PER_ROUND * ROUNDS, 9);
    const bodies = qs.map((text) => JSON.stringify({ text, k: 10 }));

    await cannon(client, url, bodies.slice(0, 50)); // warm-up both paths
    for (const q of qs.slice(0, 50)) await engine.search({ text: q, k: 10 });
    const inproc: number[] = [];
    const http: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Same queries on both sides in each round; which side goes first alternates too.
      const round = qs.slice(r * PER_ROUND, (r + 1) * PER_ROUND);
      const local = async () => {
        for (const q of round) {
          const t = performance.now();
          await engine.search({ text: q, k: 10 });
          inproc.push(performance.now() - t);
        }
      };
      const remote = async () => http.push(...(await cannon(client, url, bodies.slice(r * PER_ROUND, (r + 1) * PER_ROUND))));
      if (r % 2 === 0) {
        await local();
        await remote();
      } else {
        await remote();
        await local();
      }
    }
    const rows = [
      ['in-process engine.search', inproc.length, percentile(inproc, 50), percentile(inproc, 99), mean(inproc)],
      ['HTTP POST /v1/search (autocannon, 1 connection)', http.length, percentile(http, 50), percentile(http, 99), mean(http)],
    ];
    table(['path', 'requests', 'p50 ms', 'p99 ms', 'mean ms'], rows);
    const p50 = (percentile(http, 50) / percentile(inproc, 50) - 1) * 100;
    const p99 = (percentile(http, 99) / percentile(inproc, 99) - 1) * 100;
    console.log(`overhead: p50 ${fmt(p50)}% (${fmt(percentile(http, 50) - percentile(inproc, 50))} ms), p99 ${fmt(p99)}%`);
    goal('http: p50 overhead <= 10% at concurrency 1', p50 <= 10, `HTTP p50 ${fmt(percentile(http, 50))} ms vs in-process ${fmt(percentile(inproc, 50))} ms = +${fmt(p50)}%`);
  } finally {
    await client.terminate();
    await running.close();
  }
}

if (isMain(import.meta.url)) await runHttp();
