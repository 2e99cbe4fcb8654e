import fs from 'node:fs';
import type { z } from 'zod';

/** Reads a JSON-lines file, validating each non-empty line; errors name the file and line. */
export function readJsonl<T extends z.ZodTypeAny>(file: string, schema: T): z.output<T>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l, i) => [l, i + 1] as const)
    .filter(([l]) => l.trim())
    .map(([l, n]) => {
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        throw new Error(`${file}:${n}: not valid JSON`);
      }
      const p = schema.safeParse(v);
      if (!p.success) throw new Error(`${file}:${n}: ${p.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ')}`);
      return p.data as z.output<T>;
    });
}
