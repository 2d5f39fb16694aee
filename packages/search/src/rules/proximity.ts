/**
 * `proximity` rule: for each pair of consecutive active terms, cost = proximity − 1 capped at
 * 3 (milli `MAX_DISTANCE` = 4 since v1.6); M = 1 + 3 × (k − 1). The proximity of two positions
 * is their distance, one more when the words are in reverse order, and the cap across fields.
 * Checked against Meilisearch snapshots ("doc optional" on "unchanged-doc-with-optional" → 0.75,
 * "doc premier organic" on "organic-premier-doc-1" → 5/7).
 */
import type { DocView } from './types.js';

export const MAX_DISTANCE = 4;

export function positionProximity(a: number, b: number): number {
  if (a >>> 16 !== b >>> 16) return MAX_DISTANCE;
  if (a < b) return Math.min(b - a, MAX_DISTANCE);
  return Math.min(a - b + 1, MAX_DISTANCE);
}

export function proximityMax(active: readonly number[]): number {
  return 1 + (MAX_DISTANCE - 1) * Math.max(active.length - 1, 0);
}

/**
 * `lastOffset(t)` is how far the last word of term t lies after its recorded position (a
 * phrase of n words: n − 1): the pair's distance runs from the left term's last word (milli
 * `words_tms.rs`: "the proximity of the first and last word of a phrase to its adjacent terms").
 */
export function proximityCost(doc: DocView, active: readonly number[], lastOffset?: (t: number) => number): number {
  let cost = 0;
  const { start, pos } = doc;
  for (let i = 0; i + 1 < active.length; i++) {
    const l = active[i];
    const r = active[i + 1];
    const shift = lastOffset === undefined ? 0 : lastOffset(l);
    let best = MAX_DISTANCE;
    for (let x = start[l]; x < start[l + 1] && best > 1; x++) {
      const a = pos[x] + shift;
      for (let y = start[r]; y < start[r + 1]; y++) {
        const d = positionProximity(a, pos[y]);
        if (d < best) {
          best = d;
          if (best === 1) break;
        }
      }
    }
    cost += best - 1;
  }
  return cost;
}

export function proximityDetails(order: number, rank: number, max: number): Record<string, unknown> {
  return { order, score: rank / max };
}
