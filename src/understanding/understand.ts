import type { SearchFilters } from '../catalog/types.ts';
import { extractSlots } from './slots.ts';
import type { Lexicon } from './lexicon.ts';
import { routeForIntent } from './routing.ts';
import { mergeEntities } from './ner-merge.ts';
import type { NerEntity } from '../models/ner.ts';

export interface IntentResult {
  label: string;
  confidence: number;
  alternatives: { label: string; confidence: number }[];
}

/** What `/v1/understand` returns and every search response carries under `query.understanding`. */
export interface QueryUnderstanding {
  intent: IntentResult;
  route: ReturnType<typeof routeForIntent>;
  slots: ReturnType<typeof extractSlots>['slots'];
  filters: SearchFilters;
  /** The query with price phrases and filler words removed: what CLIP embeds. */
  text: string;
  /** The slots in English concept names ("红色耐克跑鞋" -> "red nike running shoes"). */
  conceptText: string;
  matches: ReturnType<typeof extractSlots>['matches'];
}

/**
 * Intent from the model, slots from the catalog lexicon; the two are independent reads of one text.
 * With the optional NER model (`entities`), its entities fill slots the lexicon left empty.
 */
export async function understandQuery(
  text: string,
  deps: { classify(text: string): Promise<IntentResult>; lexicon(): Lexicon; entities?(text: string): Promise<NerEntity[]> },
): Promise<QueryUnderstanding> {
  const lex = deps.lexicon();
  const [intent, read, entities] = await Promise.all([deps.classify(text), Promise.resolve(extractSlots(text, lex)), deps.entities?.(text) ?? []]);
  const slots = entities.length > 0 ? mergeEntities(read, entities, lex) : read;
  return { intent, route: routeForIntent(intent.label), slots: slots.slots, filters: slots.filters, text: slots.text, conceptText: slots.conceptText, matches: slots.matches };
}

/** Explicit request filters win over those read from the text, field by field. */
export function mergeFilters(fromText: SearchFilters, explicit: SearchFilters | undefined): SearchFilters {
  const out: SearchFilters = { ...fromText, ...(explicit ?? {}) };
  for (const k of Object.keys(out) as (keyof SearchFilters)[]) if (out[k] === undefined) delete out[k];
  return out;
}
