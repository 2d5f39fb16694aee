/**
 * `proximity` rule: for each pair of consecutive active terms, cost = proximity − 1 capped at
 * 3 (milli `MAX_DISTANCE` = 4 since v1.6); M = 1 + 3 × (k − 1). The proximity of two positions
 * is their distance, one more when the words are in reverse order, and the cap across fields.
 * Checked against Meilisearch snapshots ("doc optional" on "unchanged-doc-with-optional" → 0.75,
 * "doc premier organic" on "organic-premier-doc-1" → 5/7).
 */
import { fidOf } from '../postings.js';
import type { DocMatch, Rank } from './types.js';

export const MAX_DISTANCE = 4;

export function positionProximity(a: number, b: number): number {
  if (fidOf(a) !== fidOf(b)) return MAX_DISTANCE;
  if (a < b) return Math.min(b - a, MAX_DISTANCE);
  return Math.min(a - b + 1, MAX_DISTANCE);
}

export function proximityRank(doc: DocMatch, active: readonly number[]): Rank {
  const pairs = Math.max(active.length - 1, 0);
  const max = 1 + (MAX_DISTANCE - 1) * pairs;
  let cost = 0;
  for (let i = 0; i + 1 < active.length; i++) {
    const left = doc.occ[active[i]];
    const right = doc.occ[active[i + 1]];
    let best = MAX_DISTANCE;
    for (let x = 0; x < left.length && best > 1; x++) {
      for (let y = 0; y < right.length; y++) {
        const d = positionProximity(left[x].p, right[y].p);
        if (d < best) best = d;
        if (best === 1) break;
      }
    }
    cost += best - 1;
  }
  return { rank: max - cost, max };
}

export function proximityDetails(order: number, r: Rank): Record<string, unknown> {
  return { order, score: r.rank / r.max };
}
