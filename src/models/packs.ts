import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { log } from '../log.ts';
import { pullModels } from './pull.ts';

export type PackPreset = 'tiny' | 'full';

/** Which pack OMNISEARCH_MODELS names: a preset folder under the models dir, or a folder path. */
export function packDirFor(config: Config): { dir: string; kind: 'real' | PackPreset | 'path' } {
  const m = config.OMNISEARCH_MODELS;
  if (m === 'real' || m === 'tiny' || m === 'full') return { dir: path.join(config.modelsDir, m), kind: m };
  return { dir: path.resolve(m), kind: 'path' };
}

export const packExists = (dir: string) => fs.existsSync(path.join(dir, 'manifest.json'));

/**
 * Makes sure the configured pack is on disk: tiny/full are built here (random weights), real is
 * pulled from the hub and its intent head trained on the shipped query set, a path must exist.
 */
export async function ensurePack(config: Config, opts: { progress: boolean }): Promise<string> {
  const { dir, kind } = packDirFor(config);
  if (packExists(dir)) return dir;
  if (kind === 'path') {
    throw new Error(`OMNISEARCH_MODELS=${config.OMNISEARCH_MODELS}: no manifest.json in ${dir}. Point it at a pack folder, or use tiny | full | real.`);
  }
  if (kind === 'real') {
    log.info({ dir }, 'real models not present; pulling them from the Hugging Face hub');
    await pullModels({ endpoint: config.OMNISEARCH_HF_ENDPOINT, packDir: dir, progress: opts.progress });
    const { trainDefaultIntent } = await import('../training/train-intent.ts');
    await trainDefaultIntent(dir, { device: config.OMNISEARCH_DEVICE, threads: config.OMNISEARCH_THREADS }, opts.progress);
    return dir;
  }
  log.info({ dir, preset: kind }, 'building random-weight model pack');
  const { buildPack } = await import('./build/pack.ts');
  const t0 = performance.now();
  await buildPack({ preset: kind, outDir: dir }); // builds beside `dir` and renames: never half a pack
  log.info({ dir, ms: Math.round(performance.now() - t0) }, 'model pack built');
  return dir;
}
