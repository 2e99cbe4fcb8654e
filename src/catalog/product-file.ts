import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { productInput, type Product } from './types.ts';

export interface LineError {
  line: number;
  message: string;
}

/**
 * Reads products from JSONL (one object per line) or CSV (header row; `attributes` as a JSON
 * cell or `attr_<name>` columns; `price` numeric). Bad lines are reported, not fatal.
 */
export function readProductFile(file: string): { products: Product[]; errors: LineError[] } {
  const text = fs.readFileSync(file, 'utf8');
  const rows: { line: number; value: unknown }[] = [];
  const errors: LineError[] = [];
  if (path.extname(file).toLowerCase() === '.csv') {
    const records = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
    records.forEach((r, i) => rows.push({ line: i + 2, value: csvRow(r) }));
  } else {
    text.split(/\r?\n/).forEach((l, i) => {
      if (!l.trim()) return;
      try {
        rows.push({ line: i + 1, value: JSON.parse(l) });
      } catch {
        errors.push({ line: i + 1, message: 'not valid JSON' });
      }
    });
  }
  const products: Product[] = [];
  const seen = new Map<string, number>();
  for (const r of rows) {
    const p = productInput.safeParse(r.value);
    if (!p.success) {
      errors.push({ line: r.line, message: p.error.issues.map((i) => `${i.path.join('.') || 'product'}: ${i.message}`).join('; ') });
      continue;
    }
    // A later line for the same id wins, as an upsert would.
    const at = seen.get(p.data.id);
    if (at !== undefined) products[at] = p.data;
    else {
      seen.set(p.data.id, products.length);
      products.push(p.data);
    }
  }
  return { products, errors };
}

function csvRow(r: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v === '') continue;
    if (k === 'price') out.price = Number(v);
    else if (k === 'attributes') Object.assign(attributes, JSON.parse(v));
    else if (k.startsWith('attr_')) attributes[k.slice(5)] = v;
    else out[k] = v;
  }
  out.attributes = attributes;
  return out;
}
