/**
 * `attributeRank` rule: each active term costs the weight of the best field it occurs in
 * (weight = index in searchableAttributes; all 0 with `["*"]`); M = 1 + (A − 1) × k for A
 * weights. Source: reference §7.2, milli `ranking_rule_graph/fid`.
 */
import type { DocView, RankContext } from './types.js';

export function attributeRankMax(ctx: RankContext, active: readonly number[]): number {
  return 1 + (ctx.weightCount - 1) * active.length;
}

export function attributeRankCost(ctx: RankContext, doc: DocView, active: readonly number[]): number {
  const per = ctx.weightCount - 1;
  if (per === 0) return 0;
  let cost = 0;
  for (let i = 0; i < active.length; i++) {
    const t = active[i];
    let best = per;
    for (let x = doc.start[t]; x < doc.start[t + 1] && best > 0; x++) {
      const w = ctx.fidWeight(doc.pos[x] >>> 16);
      if (w < best) best = w;
    }
    cost += best;
  }
  return cost;
}

export function attributeRankDetails(order: number, rank: number, max: number): Record<string, unknown> {
  return { order, score: rank / max };
}
