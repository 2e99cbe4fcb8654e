/**
 * `models build`: writes a complete model pack (clip, intent, bert, whisper + manifest.json) with
 * random seeded weights. `tiny` builds in about a second for tests; `full` has the real
 * architectures (ViT-B/32 CLIP, multilingual BERT-base, Whisper-base) for honest timings.
 * The pack is written to a sibling temp folder and renamed into place, so an interrupted build
 * never leaves a half pack behind at `outDir`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PackManifest } from '../registry.ts';
import { buildClip } from './clip.ts';
import { buildBertEncoder, buildIntent } from './bert.ts';
import { buildWhisper } from './whisper.ts';

export interface BuildPackOptions {
  preset: 'tiny' | 'full';
  outDir: string;
  seed?: number;
  /** Also write `*_fp16.onnx` (float32 inputs/outputs, float16 inside) for GPU runs. */
  fp16?: boolean;
  onProgress?: (step: string, done: number, total: number) => void;
}

export const DEFAULT_SEED = 42;

export async function buildPack(opts: BuildPackOptions): Promise<PackManifest> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const outDir = path.resolve(opts.outDir);
  const tmp = `${outDir}.building-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const common = { preset: opts.preset, seed, fp16: opts.fp16 };
  const steps: [string, () => Promise<void>][] = [
    ['clip', () => buildClip(path.join(tmp, 'clip'), common)],
    ['intent', () => buildIntent(path.join(tmp, 'intent'), common)],
    ['bert', () => buildBertEncoder(path.join(tmp, 'bert'), common)],
    ['whisper', () => buildWhisper(path.join(tmp, 'whisper'), common)],
  ];
  try {
    for (const [i, [name, run]] of steps.entries()) {
      opts.onProgress?.(name, i, steps.length);
      await run();
    }
    opts.onProgress?.('done', steps.length, steps.length);
    const manifest: PackManifest = {
      name: path.basename(outDir),
      source: 'built',
      preset: opts.preset,
      seed,
      createdAt: new Date().toISOString(),
      models: {
        clip: { dir: 'clip', files: { text: 'onnx/text_model.onnx', vision: 'onnx/vision_model.onnx' } },
        intent: { dir: 'intent', files: { model: 'onnx/model.onnx' } },
        bert: { dir: 'bert', files: { model: 'onnx/model.onnx' } },
        whisper: { dir: 'whisper', files: { encoder: 'onnx/encoder_model.onnx', decoder: 'onnx/decoder_model_merged.onnx' } },
      },
    };
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.renameSync(tmp, outDir);
    return manifest;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
