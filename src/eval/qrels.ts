import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { readJsonl } from '../util/jsonl.ts';

/**
 * A labelled query: text, an image path, an audio path, or a mix, with graded relevant product
 * ids (grade > 0; higher is more relevant). Paths are relative to the qrels file.
 */
export const qrel = z
  .preprocess(
    // Training pairs may name one product instead of a graded map: {"text": ..., "product": "p1"}.
    (v) => (v && typeof v === 'object' && 'product' in v && !('relevant' in v) ? { ...v, relevant: { [String((v as { product: unknown }).product)]: 1 }, product: undefined } : v),
    z.object({
    id: z.string().min(1).optional(),
    modality: z.enum(['text', 'image', 'voice', 'mixed']).optional(),
    text: z.string().min(1).optional(),
    image: z.string().min(1).optional(),
    audio: z.string().min(1).optional(),
    weights: z.object({ text: z.number().min(0).optional(), image: z.number().min(0).optional() }).optional(),
    relevant: z.record(z.string(), z.number().positive()),
    product: z.undefined().optional(),
  })
  .refine((q) => q.text || q.image || q.audio, 'a query needs text, image or audio')
  .refine((q) => Object.keys(q.relevant).length > 0, 'a query needs at least one relevant id'));
export type Qrel = z.infer<typeof qrel> & { modality: 'text' | 'image' | 'voice' | 'mixed' };

export function modalityOf(q: { text?: string; image?: string; audio?: string }): Qrel['modality'] {
  const parts = [q.text, q.image, q.audio].filter(Boolean).length;
  if (parts > 1) return 'mixed';
  return q.image ? 'image' : q.audio ? 'voice' : 'text';
}

export function readQrels(file: string): { queries: Qrel[]; baseDir: string } {
  const baseDir = path.dirname(path.resolve(file));
  const queries = readJsonl(file, qrel).map((q, i) => {
    for (const key of ['image', 'audio'] as const) {
      const rel = q[key];
      if (rel && !fs.existsSync(path.resolve(baseDir, rel))) throw new Error(`${file}: query ${q.id ?? i + 1}: ${key} file not found: ${rel}`);
    }
    return { ...q, modality: q.modality ?? modalityOf(q) };
  });
  return { queries, baseDir };
}
