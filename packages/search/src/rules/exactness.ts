/**
 * `exactness` rule, two ranks as in milli: `ExactAttribute` (a field equal to the active terms:
 * 3/3; a field starting with them: 2/3; else 1/3) then `ExactWords` (terms present as the exact
 * query word: m + 1 of k + 1). Details show the `ExactAttribute` score alone unless
 * `noExactMatch`, where they show the merge of both (milli `score_details.rs`).
 */
import { fidOf, wordPosOf } from '../postings.js';
import type { DocMatch, Rank, RankContext } from './types.js';
import { mergeRank } from './types.js';

export type MatchType = 'exactMatch' | 'matchesStart' | 'noExactMatch';

export interface ExactnessRank {
  attribute: Rank;
  words: Rank;
  matchType: MatchType;
  matchingWords: number;
}

const MATCH_RANK: Record<MatchType, number> = { exactMatch: 3, matchesStart: 2, noExactMatch: 1 };

export function exactnessRank(ctx: RankContext, doc: DocMatch, active: readonly number[]): ExactnessRank {
  const k = active.length;
  // Fields where the active terms appear exactly at positions 0..k-1.
  let matchType: MatchType = 'noExactMatch';
  if (k > 0) {
    const candidates = new Set<number>();
    for (const o of doc.occ[active[0]]) if (o.exact && wordPosOf(o.p) === 0) candidates.add(fidOf(o.p));
    for (let i = 1; i < k && candidates.size > 0; i++) {
      const ok = new Set<number>();
      for (const o of doc.occ[active[i]]) {
        if (o.exact && wordPosOf(o.p) === i && candidates.has(fidOf(o.p))) ok.add(fidOf(o.p));
      }
      for (const f of candidates) if (!ok.has(f)) candidates.delete(f);
    }
    for (const f of candidates) {
      if (ctx.fieldLength(doc.iid, f) === k) {
        matchType = 'exactMatch';
        break;
      }
      matchType = 'matchesStart';
    }
  }
  let m = 0;
  for (const t of active) if (doc.occ[t].some((o) => o.exact)) m++;
  return {
    attribute: { rank: MATCH_RANK[matchType], max: 3 },
    words: { rank: m + 1, max: k + 1 },
    matchType,
    matchingWords: m,
  };
}

export function exactnessDetails(order: number, r: ExactnessRank): Record<string, unknown> {
  if (r.matchType !== 'noExactMatch') return { order, matchType: r.matchType, score: r.attribute.rank / 3 };
  const merged = mergeRank(mergeRank({ rank: 1, max: 1 }, r.attribute), r.words);
  return {
    order,
    matchType: r.matchType,
    matchingWords: r.matchingWords,
    maxMatchingWords: r.words.max - 1,
    score: merged.rank / merged.max,
  };
}
