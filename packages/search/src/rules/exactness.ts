/**
 * `exactness` rule, two ranks as in milli: `ExactAttribute` (a field equal to the active terms:
 * 3/3; a field starting with them: 2/3; else 1/3) then `ExactWords` (terms present as the exact
 * query word: m + 1 of k + 1). Details show the `ExactAttribute` score alone unless
 * `noExactMatch`, where they show the merge of both (milli `score_details.rs`).
 */
import type { DocView, RankContext } from './types.js';
import { mergeRank } from './types.js';

export type MatchType = 'exactMatch' | 'matchesStart' | 'noExactMatch';

const MATCH_TYPES: readonly MatchType[] = ['noExactMatch', 'noExactMatch', 'matchesStart', 'exactMatch'];

/**
 * `ExactAttribute` rank: 3 exact field, 2 field start, 1 otherwise. Each active term must occur
 * exactly at its query position (relative to the first term; a phrase occupies its words'
 * positions) in one field; the field equals the query when its word count is the number of
 * query positions. The active terms must be the first ones with no hole, else 1 (milli
 * `exact_attribute.rs`).
 */
export function exactAttributeRank(ctx: RankContext, doc: DocView, active: readonly number[]): number {
  const k = active.length;
  if (k === 0) return 1;
  const { start, pos, exact } = doc;
  const terms = ctx.terms;
  for (let i = 0; i < k; i++) if (active[i] !== i) return 1;
  const base = terms[0].position ?? 0;
  let positions = 0;
  for (let i = 0; i < k; i++) positions += terms[i].span ?? 1;
  let result = 1;
  // Each field where the first active term is exact at position 0 is a candidate.
  const t0 = active[0];
  for (let x = start[t0]; x < start[t0 + 1]; x++) {
    if (exact[x] !== 1 || (pos[x] & 0xffff) !== 0) continue;
    const fid = pos[x] >>> 16;
    let ok = true;
    for (let i = 1; i < k && ok; i++) {
      const t = active[i];
      const want = ((fid << 16) | ((terms[t].position ?? i) - base)) >>> 0;
      ok = false;
      for (let y = start[t]; y < start[t + 1]; y++) {
        if (exact[y] === 1 && pos[y] === want) {
          ok = true;
          break;
        }
      }
    }
    if (!ok) continue;
    if (ctx.fieldLength(doc.iid, fid) === positions) return 3;
    result = 2;
  }
  return result;
}

/** `ExactWords`: number of active terms present as the exact query word. */
export function exactWordsCount(doc: DocView, active: readonly number[]): number {
  let m = 0;
  for (let i = 0; i < active.length; i++) {
    const t = active[i];
    for (let x = doc.start[t]; x < doc.start[t + 1]; x++) {
      if (doc.exact[x] === 1) {
        m++;
        break;
      }
    }
  }
  return m;
}

export function exactnessDetails(order: number, attributeRank: number, wordsRank: number, wordsMax: number): Record<string, unknown> {
  const matchType = MATCH_TYPES[attributeRank];
  if (matchType !== 'noExactMatch') return { order, matchType, score: attributeRank / 3 };
  const merged = mergeRank(mergeRank({ rank: 1, max: 1 }, { rank: attributeRank, max: 3 }), { rank: wordsRank, max: wordsMax });
  return { order, matchType, matchingWords: wordsRank - 1, maxMatchingWords: wordsMax - 1, score: merged.rank / merged.max };
}
