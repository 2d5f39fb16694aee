/**
 * `wordPosition` rule: each active term costs bucket(|word position in its field − term
 * position in the query|), best occurrence; M = 1 + 10 × k. Buckets from reference §7.2;
 * checked against Meilisearch snapshots ("doc premier organic" on "organic-premier-doc-1" →
 * 27/31).
 */
import { wordPosOf } from '../postings.js';
import type { DocMatch, Rank, RankContext } from './types.js';

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

export function wordPositionRank(ctx: RankContext, doc: DocMatch, active: readonly number[]): Rank {
  const max = 1 + MAX_POSITION_COST * active.length;
  let cost = 0;
  for (const t of active) {
    const q = ctx.terms[t].index;
    let best = MAX_POSITION_COST;
    for (const o of doc.occ[t]) {
      const b = positionBucket(Math.abs(wordPosOf(o.p) - q));
      if (b < best) best = b;
      if (best === 0) break;
    }
    cost += best;
  }
  return { rank: max - cost, max };
}

export function wordPositionDetails(order: number, r: Rank): Record<string, unknown> {
  return { order, score: r.rank / r.max };
}
