/**
 * Facet merging (spec S2.6 step 9, meilisearch-api §5.2, §5.4, §12 items 5 and 16): counts summed
 * per value, re-sorted per `sortFacetValuesBy`, truncated to `maxValuesPerFacet`; stats as min of
 * mins and max of maxes. Reserved `_miroir_*` facets never reach the client.
 *
 * Known limit: each node returns only its own first `maxValuesPerFacet` values, so under `count`
 * ordering a value that is in no node's top list is missed and a value below the cut on some nodes
 * is under-counted. Under `alpha` ordering the merged first values are exact.
 */
import type { FacetHit, FacetSearchResponse, FacetStats } from '@miroir/protocol';
import { isReservedField } from './documents.js';
import { compareCodePoints } from './hit-order.js';

/** `faceting` settings that shape merged facets. */
export interface FacetingContext {
  readonly maxValuesPerFacet: number;
  /** Facet name or `*` → order. Missing → `alpha`. */
  readonly sortFacetValuesBy: Readonly<Record<string, 'alpha' | 'count'>>;
}

/** The order used for `facet`: its own entry, else `*`, else `alpha`. */
export function facetOrder(ctx: FacetingContext, facet: string): 'alpha' | 'count' {
  return ctx.sortFacetValuesBy[facet] ?? ctx.sortFacetValuesBy['*'] ?? 'alpha';
}

/**
 * Key under which values from different nodes are summed. Facet values are stored normalized
 * (lowercased), and each node shows the original casing it met first, which may differ by node.
 */
function valueKey(v: string): string {
  return v.toLowerCase();
}

const NUMERIC = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * Meilisearch's `alpha` facet order: numeric values (reported as strings) first in numeric order,
 * then strings by their normalized form.
 */
export function compareFacetValuesAlpha(a: string, b: string): number {
  const na = NUMERIC.test(a);
  const nb = NUMERIC.test(b);
  if (na !== nb) return na ? -1 : 1;
  if (na) {
    const d = Number(a) - Number(b);
    if (d !== 0) return d;
  }
  return compareCodePoints(valueKey(a), valueKey(b));
}

interface Acc {
  value: string;
  count: number;
  /** Normalized value (the summing key). */
  key: string;
  /** The value as a number when it is numeric (sorted before strings), else NaN. */
  num: number;
}

function acc(value: string, key: string, count: number): Acc {
  return { value, count, key, num: NUMERIC.test(value) ? Number(value) : NaN };
}

/** {@link compareFacetValuesAlpha} on precomputed keys (sorting calls it n log n times). */
function alphaAcc(a: Acc, b: Acc): number {
  const na = !Number.isNaN(a.num);
  const nb = !Number.isNaN(b.num);
  if (na !== nb) return na ? -1 : 1;
  if (na && a.num !== b.num) return a.num - b.num;
  return compareCodePoints(a.key, b.key);
}

function sortAndCut(entries: Acc[], order: 'alpha' | 'count', max: number): Acc[] {
  if (order === 'count') entries.sort((x, y) => y.count - x.count || alphaAcc(x, y));
  else entries.sort(alphaAcc);
  if (entries.length > max) entries.length = max;
  return entries;
}

function byName(a: string, b: string): number {
  return compareCodePoints(a, b);
}

/**
 * Sums `facetDistribution` objects. Facet names come out in byte order (Meilisearch serializes a
 * sorted map); values in the facet's order, at most `maxValuesPerFacet`.
 */
export function mergeFacetDistributions(
  parts: readonly (Readonly<Record<string, Readonly<Record<string, number>>>> | undefined)[],
  ctx: FacetingContext,
): Record<string, Record<string, number>> {
  const byFacet = new Map<string, Map<string, Acc>>();
  for (const dist of parts) {
    if (dist === undefined) continue;
    for (const facet in dist) {
      if (isReservedField(facet)) continue;
      let accs = byFacet.get(facet);
      if (accs === undefined) {
        accs = new Map();
        byFacet.set(facet, accs);
      }
      const values = dist[facet];
      for (const value in values) {
        const key = valueKey(value);
        const cur = accs.get(key);
        if (cur === undefined) accs.set(key, acc(value, key, values[value]));
        else cur.count += values[value];
      }
    }
  }
  const out: Record<string, Record<string, number>> = {};
  for (const facet of [...byFacet.keys()].sort(byName)) {
    const entries = sortAndCut([...(byFacet.get(facet) as Map<string, Acc>).values()], facetOrder(ctx, facet), ctx.maxValuesPerFacet);
    const obj: Record<string, number> = {};
    for (const e of entries) obj[e.value] = e.count;
    out[facet] = obj;
  }
  return out;
}

/** Min of mins and max of maxes per facet, names in byte order; reserved facets dropped. */
export function mergeFacetStats(parts: readonly (Readonly<Record<string, FacetStats>> | undefined)[]): Record<string, FacetStats> {
  const merged = new Map<string, FacetStats>();
  for (const stats of parts) {
    if (stats === undefined) continue;
    for (const facet in stats) {
      if (isReservedField(facet)) continue;
      const s = stats[facet];
      const cur = merged.get(facet);
      if (cur === undefined) merged.set(facet, { min: s.min, max: s.max });
      else {
        if (s.min < cur.min) cur.min = s.min;
        if (s.max > cur.max) cur.max = s.max;
      }
    }
  }
  const out: Record<string, FacetStats> = {};
  for (const facet of [...merged.keys()].sort(byName)) out[facet] = merged.get(facet) as FacetStats;
  return out;
}

/**
 * Merges `POST …/facet-search` answers: `facetHits` summed per value, ordered per the facet's
 * `sortFacetValuesBy`, capped at `maxValuesPerFacet`.
 */
export function mergeFacetSearch(
  facetName: string,
  facetQuery: string | null | undefined,
  responses: readonly Pick<FacetSearchResponse, 'facetHits'>[],
  ctx: FacetingContext,
  processingTimeMs: number,
): FacetSearchResponse {
  const accs = new Map<string, Acc>();
  for (const r of responses) {
    for (const h of r.facetHits) {
      const key = valueKey(h.value);
      const cur = accs.get(key);
      if (cur === undefined) accs.set(key, acc(h.value, key, h.count));
      else cur.count += h.count;
    }
  }
  const entries = sortAndCut([...accs.values()], facetOrder(ctx, facetName), ctx.maxValuesPerFacet);
  const facetHits: FacetHit[] = entries.map((e) => ({ value: e.value, count: e.count }));
  return { facetHits, facetQuery: facetQuery ?? null, processingTimeMs };
}
