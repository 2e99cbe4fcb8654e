/**
 * Folds entities from the optional NER model into the lexicon's reading of a query. The lexicon
 * stays the floor:
 *  - an entity overlapping any lexicon/pattern match is dropped (the match wins);
 *  - an entity only fills a slot type the lexicon found nothing for (a brand from the lexicon
 *    means NER brands are ignored; NER can still add the missing colour);
 *  - brand/category/colour text is canonicalised against the lexicon by reading the entity text
 *    alone with `extractSlots` (exact surface, synonym, then its typo rule). It filters only when
 *    that lands on catalog values; otherwise it is a slot reported in `unfiltered`, as slots.ts
 *    does for "purple" in a catalog with nothing purple.
 * Matches added here carry `source: 'ner'`. The embedding text is left as the lexicon made it:
 * it keeps slot words anyway.
 */
import type { NerEntity } from '../models/ner.ts';
import type { Lexicon } from './lexicon.ts';
import { extractSlots, type SlotMatch, type Understanding } from './slots.ts';

type NerSlot = 'brand' | 'category' | 'color' | 'size' | 'gender' | 'material';

/** Entity types (upper-cased) -> slots. Types outside this table (PER, LOC...) are ignored. */
const TYPE_SLOT: Record<string, NerSlot | undefined> = {
  BRAND: 'brand',
  CATEGORY: 'category',
  COLOR: 'color',
  COLOUR: 'color',
  SIZE: 'size',
  GENDER: 'gender',
  MATERIAL: 'material',
};

const isFilterSlot = (s: NerSlot): s is 'brand' | 'category' | 'color' => s === 'brand' || s === 'category' || s === 'color';

/** The lexicon's value for an entity's text, and the catalog values it filters on (may be none). */
function canonicalise(text: string, slot: NerSlot, lex: Lexicon): { value: string; filterValues: string[] } {
  const read = extractSlots(text, lex);
  const m = read.matches.find((x) => x.slot === slot && (x.filterValues?.length ?? 0) > 0) ?? read.matches.find((x) => x.slot === slot);
  if (m) return { value: m.value, filterValues: m.filterValues ?? [] };
  const value = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  return { value: slot === 'size' ? value.toUpperCase() : value, filterValues: [] };
}

export function mergeEntities(u: Understanding, entities: readonly NerEntity[], lex: Lexicon): Understanding {
  const out: Understanding = {
    ...u,
    slots: { ...u.slots, ...(u.slots.brand && { brand: [...u.slots.brand] }), ...(u.slots.category && { category: [...u.slots.category] }), ...(u.slots.color && { color: [...u.slots.color] }) },
    filters: { ...u.filters, ...(u.filters.brand && { brand: [...u.filters.brand] }), ...(u.filters.category && { category: [...u.filters.category] }), ...(u.filters.color && { color: [...u.filters.color] }) },
    matches: [...u.matches],
    unfiltered: [...u.unfiltered],
  };
  const lexiconSlots = new Set(u.matches.map((m) => m.slot));
  const overlaps = (a: number, b: number) => out.matches.some((m) => m.span[0] < b && a < m.span[1]);
  const note = (slot: string, value: string, reason: 'not-in-catalog' | 'not-filterable') => {
    if (!out.unfiltered.some((x) => x.slot === slot && x.value === value)) out.unfiltered.push({ slot, value, reason });
  };

  const added: SlotMatch[] = [];
  for (const e of [...entities].sort((a, b) => a.start - b.start || b.end - a.end)) {
    const slot = TYPE_SLOT[e.type.toUpperCase()];
    if (!slot || lexiconSlots.has(slot) || e.end <= e.start || overlaps(e.start, e.end)) continue;
    const { value, filterValues } = canonicalise(e.text, slot, lex);
    if (!value) continue;
    const m: SlotMatch = { slot, value, surface: e.text, span: [e.start, e.end], source: 'ner' };
    if (isFilterSlot(slot)) {
      m.filterValues = filterValues;
      const list = (out.slots[slot] ??= []);
      if (!list.includes(value)) list.push(value);
      if (filterValues.length === 0) note(slot, value, 'not-in-catalog');
      else {
        const f = (out.filters[slot] ??= []) as string[];
        for (const v of filterValues) if (!f.includes(v)) f.push(v);
      }
    } else {
      out.slots[slot] ??= value;
      note(slot, value, 'not-filterable');
    }
    out.matches.push(m);
    added.push(m);
  }
  if (added.length === 0) return u;
  out.matches.sort((a, b) => a.span[0] - b.span[0] || a.slot.localeCompare(b.slot));
  const s = out.slots;
  // Same order as slots.ts's concept text: colour, material, gender, brand, category.
  out.conceptText = [...(s.color ?? []), s.material, s.gender, ...(s.brand ?? []), ...(s.category ?? [])].filter(Boolean).join(' ');
  return out;
}
