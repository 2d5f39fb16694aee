/**
 * Exact totals under `distinct` (spec S15 item 10 closed where possible). Each node removes
 * duplicates among its own shards only, so the sum of node totals over-counts values present on
 * several nodes. A node's distinct total is (its distinct values) + (its matches lacking the
 * attribute); with the distinct attribute's facet distribution from every node, the global total
 * is (the union of values) + Σ (node total − node's value count) — exact as long as no node cut
 * its value list at `maxValuesPerFacet`.
 */
import type { NodeSearchResponse } from './search-merge.js';

/**
 * The exact total, or undefined when some node's list may be truncated (the caller keeps the sum,
 * an upper bound). `paged` picks `totalHits` over `estimatedTotalHits`.
 */
export function distinctTotal(
  responses: readonly NodeSearchResponse[],
  attribute: string,
  paged: boolean,
  maxValuesPerFacet: number,
): number | undefined {
  const union = new Set<string>();
  let lacking = 0;
  for (const r of responses) {
    const values = r.facetDistribution?.[attribute] ?? {};
    const keys = Object.keys(values);
    if (keys.length >= maxValuesPerFacet) return undefined;
    for (const k of keys) union.add(k.toLowerCase());
    const total = (paged ? r.totalHits : r.estimatedTotalHits) ?? 0;
    lacking += Math.max(0, total - keys.length);
  }
  return union.size + lacking;
}
