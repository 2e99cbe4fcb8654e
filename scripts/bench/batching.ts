/**
 * bench:batching — micro-batching of concurrent requests (src/models/batcher.ts) on the
 * full-size CLIP encoders. The same loaded model runs behind Batchers with maxBatch 1 (batching
 * off: every request is its own session.run) and maxBatch 16 / 32 with a 2 ms wait, at 1, 8 and
 * 32 requests in flight. Fixed work per cell, so every configuration does the same job.
 */
import { Batcher } from '../../src/models/batcher.ts';
import { ClipModel } from '../../src/models/clip.ts';
import { readManifest } from '../../src/models/registry.ts';
import type { DecodedImage } from '../../src/media/types.ts';
import { drive, ensureFullPack, fmt, goal, header, isMain, rng, table, wantFp16 } from './lib.ts';

const CONCURRENCY = [1, 8, 32];
const CONFIGS = [
  { name: 'off (maxBatch 1)', maxBatch: 1, maxWaitMs: 0 },
  { name: 'on (maxBatch 16, 2 ms)', maxBatch: 16, maxWaitMs: 2 },
  { name: 'on (maxBatch 32, 2 ms)', maxBatch: 32, maxWaitMs: 2 },
];

const WORDS = 'red blue black white running shoes leather bag cotton shirt wool sweater nike adidas puma dress jacket under 80 dollars waterproof kids summer'.split(' ');

function queries(n: number): string[] {
  const u = rng(11);
  return Array.from({ length: n }, () => Array.from({ length: 2 + Math.floor(u() * 5) }, () => WORDS[Math.floor(u() * WORDS.length)]).join(' '));
}

function images(n: number): DecodedImage[] {
  const u = rng(12);
  return Array.from({ length: n }, () => {
    const data = new Uint8Array(256 * 256 * 3);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(u() * 256);
    return { data, width: 256, height: 256, channels: 3 };
  });
}

async function measure<I>(label: string, run: (items: I[]) => Promise<Float32Array[]>, inputs: I[], total: (c: number) => number): Promise<number[][]> {
  const rows: (string | number)[][] = [];
  const perSec: number[][] = [];
  await run(inputs.slice(0, 2)); // warm-up
  for (const cfg of CONFIGS) {
    const row: number[] = [];
    for (const c of CONCURRENCY) {
      const b = new Batcher(run, { name: label, maxBatch: cfg.maxBatch, maxWaitMs: cfg.maxWaitMs, maxQueue: 10_000 });
      const r = await drive(total(c), c, (i) => b.run(inputs[i % inputs.length]!));
      row.push(r.perSec);
      rows.push([cfg.name, c, total(c), r.perSec, fmt(r.ms / total(c)), b.stats.batches > 0 ? b.stats.items / b.stats.batches : 0]);
    }
    perSec.push(row);
  }
  console.log(`\n${label}`);
  table(['batching', 'concurrency', 'requests', 'requests/s', 'ms/request (wall)', 'mean batch'], rows);
  return perSec;
}

export async function runBatching(): Promise<void> {
  header('bench:batching — full-size CLIP ViT-B/32 text and image encoders, micro-batching off vs on');
  const packDir = await ensureFullPack();
  const variant = wantFp16() ? 'fp16' : 'fp32';
  const device = (process.env.OMNISEARCH_DEVICE ?? 'auto') as 'auto' | 'cpu' | 'cuda';
  const clip = await ClipModel.load(packDir, readManifest(packDir), { device, threads: Number(process.env.OMNISEARCH_THREADS ?? 0) }, variant);
  console.log(`model: ${packDir} (${variant}), onnxruntime provider ${clip.sessions()[0]!.provider}`);

  const text = await measure('CLIP text encoder', (t: string[]) => clip.embedTexts(t), queries(256), (c) => (c === 1 ? 24 : 96));
  const image = await measure('CLIP image encoder (256x256 input, preprocessing included)', (i: DecodedImage[]) => clip.embedImages(i), images(16), (c) => (c === 1 ? 8 : 32));

  const c32 = CONCURRENCY.indexOf(32);
  const bestOn = (m: number[][]) => Math.max(m[1]![c32]!, m[2]![c32]!);
  goal('batching: text encoder >= 2x throughput at concurrency 32', bestOn(text) >= 2 * text[0]![c32]!,
    `${fmt(bestOn(text))} req/s batched vs ${fmt(text[0]![c32]!)} unbatched = ${fmt(bestOn(text) / text[0]![c32]!)}x`);
  console.log(`(image encoder at concurrency 32: ${fmt(bestOn(image))} vs ${fmt(image[0]![c32]!)} req/s = ${fmt(bestOn(image) / image[0]![c32]!)}x; no goal set)`);
  for (const s of clip.sessions()) await s.session.release();
}

if (isMain(import.meta.url)) await runBatching();
