/**
 * `attributeRank` rule: each active term costs the weight of the best field it occurs in
 * (weight = index in searchableAttributes; all 0 with `["*"]`); M = 1 + (A − 1) × k for A
 * weights. Source: reference §7.2, milli `ranking_rule_graph/fid`.
 */
import { fidOf } from '../postings.js';
import type { DocMatch, Rank, RankContext } from './types.js';

export function attributeRankRank(ctx: RankContext, doc: DocMatch, active: readonly number[]): Rank {
  const per = ctx.weightCount - 1;
  const max = 1 + per * active.length;
  let cost = 0;
  for (const t of active) {
    let best = per;
    for (const o of doc.occ[t]) {
      const w = ctx.fidWeight(fidOf(o.p));
      if (w < best) best = w;
      if (best === 0) break;
    }
    cost += best;
  }
  return { rank: max - cost, max };
}

export function attributeRankDetails(order: number, r: Rank): Record<string, unknown> {
  return { order, score: r.rank / r.max };
}
