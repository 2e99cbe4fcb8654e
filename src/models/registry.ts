/**
 * Model pack manifests (`<pack>/manifest.json`) and file resolution. A pack is either built by
 * `models build` (random seeded weights, `source: "built"`) or downloaded by `models pull`
 * (`source: "pulled"`); both share the Hugging Face folder layout described in the manifest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export type Variant = 'fp32' | 'fp16' | 'quantized';

export const ModelEntry = z.object({
  /** Folder inside the pack. */
  dir: z.string().min(1),
  /** Role -> fp32 file path inside `dir` (e.g. text -> onnx/text_model.onnx). */
  files: z.record(z.string(), z.string().min(1)),
  /** Hugging Face repo it was pulled from, for pulled packs. */
  repo: z.string().optional(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

export const PackManifest = z.object({
  name: z.string(),
  source: z.enum(['built', 'pulled']),
  preset: z.enum(['tiny', 'full']).nullable(),
  seed: z.number().int().nullable(),
  createdAt: z.string(),
  models: z.record(z.string(), ModelEntry),
});
export type PackManifest = z.infer<typeof PackManifest>;

export function readManifest(packDir: string): PackManifest {
  const file = path.join(packDir, 'manifest.json');
  if (!fs.existsSync(file)) {
    throw new Error(`no model pack at ${path.resolve(packDir)} (manifest.json missing): run \`omnisearch models build\` or \`omnisearch models pull\``);
  }
  const parsed = PackManifest.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`invalid ${file}: ${parsed.error.message}`);
  return parsed.data;
}

/** The Hugging Face file name of a variant: onnx/model.onnx -> onnx/model_fp16.onnx. */
export function variantPath(file: string, variant: Variant): string {
  if (variant === 'fp32') return file;
  return file.replace(/\.onnx$/, `_${variant}.onnx`);
}

export interface ResolvedModelFile {
  /** Absolute path. */
  file: string;
  /** The variant actually found (fp32 when the requested one is missing). */
  variant: Variant;
  requested: Variant;
  /** Model folder (tokenizer/config files live here). */
  dir: string;
}

/**
 * Path of `model`'s `fileKey` file in `variant`, falling back to fp32 when that variant was not
 * built or pulled. The caller logs `variant !== requested` so a fallback is never silent.
 */
export function resolveModelFile(packDir: string, model: string, fileKey: string, variant: Variant = 'fp32', manifest?: PackManifest): ResolvedModelFile {
  const m = (manifest ?? readManifest(packDir)).models[model];
  if (!m) throw new Error(`model pack ${packDir} has no ${model} model`);
  const rel = m.files[fileKey];
  if (!rel) throw new Error(`model ${model} in ${packDir} has no ${fileKey} file (has ${Object.keys(m.files).join(', ')})`);
  const dir = path.resolve(packDir, m.dir);
  const wanted = path.join(dir, variantPath(rel, variant));
  if (fs.existsSync(wanted)) return { file: wanted, variant, requested: variant, dir };
  const fp32 = path.join(dir, rel);
  if (!fs.existsSync(fp32)) throw new Error(`model file missing: ${fp32}`);
  return { file: fp32, variant: 'fp32', requested: variant, dir };
}
