/**
 * `wordPosition` rule: each active term costs bucket(|word position in its field − term
 * position in the query|), best occurrence; M = 1 + 10 × k. Buckets from reference §7.2;
 * checked against Meilisearch snapshots ("doc premier organic" on "organic-premier-doc-1" →
 * 27/31).
 */
import type { DocView, RankContext } from './types.js';

export const MAX_POSITION_COST = 10;

export function positionBucket(d: number): number {
  if (d <= 1) return d;
  if (d <= 4) return 2;
  if (d <= 7) return 3;
  if (d <= 11) return 4;
  if (d <= 16) return 5;
  if (d <= 24) return 6;
  if (d <= 64) return 7;
  if (d <= 256) return 8;
  if (d <= 1024) return 9;
  return MAX_POSITION_COST;
}

export function wordPositionMax(active: readonly number[]): number {
  return 1 + MAX_POSITION_COST * active.length;
}

export function wordPositionCost(ctx: RankContext, doc: DocView, active: readonly number[]): number {
  let cost = 0;
  for (let i = 0; i < active.length; i++) {
    const t = active[i];
    const q = ctx.terms[t].index;
    let best = MAX_POSITION_COST;
    for (let x = doc.start[t]; x < doc.start[t + 1] && best > 0; x++) {
      const b = positionBucket(Math.abs((doc.pos[x] & 0xffff) - q));
      if (b < best) best = b;
    }
    cost += best;
  }
  return cost;
}

export function wordPositionDetails(order: number, rank: number, max: number): Record<string, unknown> {
  return { order, score: rank / max };
}
