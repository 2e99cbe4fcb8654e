import path from 'node:path';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import type { Config } from '../config.ts';
import { trainedFusionFile, type Engine } from '../engine.ts';
import { readQrels } from '../eval/qrels.ts';
import { decodeImage } from '../media/image.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { FUSION_DEFAULTS, trainFusion, type FusionPair, type FusionTrainResult } from './fusion.ts';
import { fusionHeadToOnnx } from './onnx-heads.ts';

/**
 * Builds (query parts -> product vector) pairs the way search sees them: text goes through
 * understanding (the cleaned text is what CLIP embeds), audio through Whisper, images through the
 * same decoder and CLIP image encoder; the target is the product's indexed vector.
 */
export async function fusionPairs(engine: Engine, file: string, onProgress?: (done: number, total: number) => void): Promise<FusionPair[]> {
  const { queries, baseDir } = readQrels(file);
  const pairs: FusionPair[] = [];
  let done = 0;
  for (const q of queries) {
    let text = q.text ?? '';
    if (q.audio) text = `${text} ${(await engine.transcribe(new Uint8Array(fs.readFileSync(path.resolve(baseDir, q.audio))))).text}`.trim();
    const cleaned = text ? (await engine.understand(text)).text || text : '';
    const textVec = cleaned ? (await engine.clip.embedTexts([cleaned]))[0]! : null;
    let imageVec: Float32Array | null = null;
    if (q.image) {
      const img = await decodeImage(new Uint8Array(fs.readFileSync(path.resolve(baseDir, q.image))), {
        maxBytes: engine.config.OMNISEARCH_MAX_IMAGE_BYTES, maxPixels: engine.config.OMNISEARCH_MAX_IMAGE_PIXELS,
      });
      imageVec = (await engine.clip.embedImages([img]))[0]!;
    }
    // Each query pairs with its best-graded products (usually one).
    const best = Math.max(...Object.values(q.relevant));
    for (const [id, grade] of Object.entries(q.relevant)) {
      if (grade < best) continue;
      const e = engine.store.embeddings(id);
      if (!e) throw new Error(`${file}: product ${id} is not in the catalog; ingest it first`);
      if (textVec || imageVec) pairs.push({ text: textVec, image: imageVec, target: e.vector });
    }
    onProgress?.(++done, queries.length);
  }
  return pairs;
}

export async function runTrainFusionCli(args: string[], config: Config): Promise<void> {
  const { values } = parseArgs({ args, options: { data: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, epochs: { type: 'string' } } });
  if (!values.data) throw new Error('train-fusion needs --data FILE.jsonl (lines of {text?, image?, audio?, product} or qrels lines)');
  const seed = values.seed ? Number(values.seed) : 42;
  const epochs = values.epochs ? Number(values.epochs) : FUSION_DEFAULTS.epochs;
  if (!Number.isInteger(seed) || !Number.isInteger(epochs) || epochs < 1) throw new Error('--seed and --epochs must be integers');
  const { ensurePack } = await import('../models/packs.ts');
  const { Engine } = await import('../engine.ts');
  const engine = await Engine.open(config, await ensurePack(config, { progress: true }));
  try {
    const bar = new cliProgress.SingleBar({ format: ' embed {bar} {value}/{total} queries' }, cliProgress.Presets.shades_classic);
    bar.start(1, 0);
    const pairs = await fusionPairs(engine, values.data, (d, t) => (bar.setTotal(t), bar.update(d)));
    bar.stop();
    if (pairs.length < 10) throw new Error(`only ${pairs.length} usable pairs; train-fusion needs at least 10`);
    const ebar = new cliProgress.SingleBar({ format: ' train {bar} epoch {value}/{total} | val loss {loss} | val R@1 {r1}' }, cliProgress.Presets.shades_classic);
    ebar.start(epochs, 0, { loss: '-', r1: '-' });
    const result = trainFusion(pairs, { seed, epochs, onEpoch: (e) => ebar.update(e.epoch, { loss: e.valLoss.toFixed(4), r1: e.valRecall1.toFixed(3) }) });
    ebar.stop();
    const out = path.resolve(values.out ?? trainedFusionFile(config.dataDir));
    writeFileAtomic(out, fusionHeadToOnnx(result.weights));
    const md = fusionReport(result, seed);
    writeFileAtomic(path.join(path.dirname(out), 'report.json'), JSON.stringify({ seed, ...result.report, bestEpoch: result.bestEpoch, stoppedEarly: result.stoppedEarly, history: result.history }, null, 2) + '\n');
    writeFileAtomic(path.join(path.dirname(out), 'report.md'), md);
    process.stdout.write(`${md}\nwrote ${out}; a running server loads it with POST /v1/admin/reload (or kill -HUP)\n`);
  } finally {
    await engine.close();
  }
}

function fusionReport(r: FusionTrainResult, seed: number): string {
  const f = (v: number) => v.toFixed(3);
  return [
    '# Fusion head training report',
    '',
    `- pairs: train ${r.report.trainPairs}, held out ${r.report.valPairs}; seed ${seed}; best epoch ${r.bestEpoch}${r.stoppedEarly ? ' (stopped early)' : ''}`,
    '- held-out retrieval: each query\'s target ranked among all held-out targets',
    '',
    '| head | recall@1 | recall@5 | MRR |',
    '| --- | ---: | ---: | ---: |',
    `| untrained (weighted sum) | ${f(r.report.before.recall1)} | ${f(r.report.before.recall5)} | ${f(r.report.before.mrr)} |`,
    `| trained | ${f(r.report.after.recall1)} | ${f(r.report.after.recall5)} | ${f(r.report.after.mrr)} |`,
    '',
  ].join('\n');
}
