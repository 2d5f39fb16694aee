/**
 * `typo` rule: r = maxTypoCount + 1 − typoCount of M = maxTypoCount + 1.
 * maxTypoCount is the costliest path of the query graph for the active terms, from the query
 * alone: a word costs max(its allowance, 1 for a split into two words) and a 2- or 3-word
 * concatenation costs (n − 1) plus its own allowance reduced by (n − 1) (milli
 * `query_term/parse_query.rs` `make_ngram`). Checked against Meilisearch snapshots: "doc optional"
 * → 2, "doc premier organic" → 3, "doc" alone (after `words` dropped "optional") → 1.
 * typoCount sums each active term's cheapest derivation present in the document.
 */
import type { DocView, RankContext, Term } from './types.js';

function wordCost(t: Term): number {
  if (t.phrase === true) return 0;
  const split = [...t.word].length >= 2 ? 1 : 0;
  return Math.max(t.allowance, split);
}

/** Largest typo cost over the segmentations of `active` into 1..3-grams. */
export function maxTypoCount(ctx: RankContext, active: readonly number[]): number {
  const terms = active.map((i) => ctx.terms[i]);
  const n = terms.length;
  const best = new Array<number>(n + 1).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let b = wordCost(terms[i]) + best[i + 1];
    for (let size = 2; size <= 3 && i + size <= n; size++) {
      const parts = terms.slice(i, i + size);
      // n-grams are only built from consecutive query words, never from phrases.
      if (parts.some((p, k) => p.phrase === true || (k > 0 && (p.position ?? p.index) !== (parts[k - 1].position ?? parts[k - 1].index) + 1))) continue;
      const concat = parts.map((p) => p.word).join('');
      const cost = size - 1 + Math.max(ctx.typoAllowance(concat) - (size - 1), 0);
      b = Math.max(b, cost + best[i + size]);
    }
    best[i] = b;
  }
  return best[0];
}

/** Typo count of a document (capped at `maxTypo`). */
export function typoCost(doc: DocView, active: readonly number[], maxTypo: number): number {
  let typos = 0;
  for (let i = 0; i < active.length; i++) typos += doc.minTypo[active[i]];
  return Math.min(typos, maxTypo);
}

export function typoDetails(order: number, rank: number, max: number): Record<string, unknown> {
  return { order, typoCount: max - rank, maxTypoCount: max - 1, score: rank / max };
}
