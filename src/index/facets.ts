/**
 * Facet normalisation and filter matching shared by the ANN index (in memory) and the catalog
 * store (whose SQL compares the same normalised columns), so both honour a filter identically.
 * The types are structural copies of catalog/types.ts's ProductFacets and SearchFilters: index/
 * must not import catalog/ (catalog/index-sync.ts imports index/).
 */

export interface IndexFacets {
  category?: string;
  brand?: string;
  color?: string;
  price?: number;
  currency?: string;
}

export interface IndexFilter {
  category?: string | string[];
  brand?: string | string[];
  color?: string | string[];
  priceMin?: number;
  priceMax?: number;
  currency?: string;
}

/** "Li-Ning " and "li-ning", "ＮＩＫＥ" and "nike" compare equal; the lexicon uses the same rule. */
export function normFacet(v: string): string {
  return v.normalize('NFKC').trim().toLowerCase();
}

function wanted(v: string | string[] | undefined): Set<string> | null {
  if (v === undefined) return null;
  const list = (Array.isArray(v) ? v : [v]).map(normFacet).filter((s) => s.length > 0);
  return list.length > 0 ? new Set(list) : null;
}

/** Facets in the form predicates compare: values through `normFacet`, currency upper-case. */
export function normaliseFacets(f: IndexFacets): IndexFacets {
  const out: IndexFacets = {};
  if (f.category !== undefined) out.category = normFacet(f.category);
  if (f.brand !== undefined) out.brand = normFacet(f.brand);
  if (f.color !== undefined) out.color = normFacet(f.color);
  if (f.price !== undefined && Number.isFinite(f.price)) out.price = f.price;
  if (f.currency !== undefined) out.currency = f.currency.toUpperCase();
  return out;
}

/** A filter compiled once per query, over `normaliseFacets` output; `null` when it selects everything. */
export type FacetPredicate = (f: IndexFacets | undefined) => boolean;

export function compileFilter(filter: IndexFilter | undefined): FacetPredicate | null {
  if (!filter) return null;
  const category = wanted(filter.category);
  const brand = wanted(filter.brand);
  const color = wanted(filter.color);
  const { priceMin, priceMax } = filter;
  const currency = filter.currency?.toUpperCase();
  if (!category && !brand && !color && priceMin === undefined && priceMax === undefined && !currency) return null;
  const hit = (set: Set<string> | null, v: string | undefined) => !set || (v !== undefined && set.has(v));
  return (f) => {
    if (!f) return false;
    if (!hit(category, f.category) || !hit(brand, f.brand) || !hit(color, f.color)) return false;
    if (currency && f.currency !== currency) return false;
    // A price bound excludes products without a price: nothing says they satisfy it.
    if (priceMin !== undefined && !(f.price !== undefined && f.price >= priceMin)) return false;
    if (priceMax !== undefined && !(f.price !== undefined && f.price <= priceMax)) return false;
    return true;
  };
}
