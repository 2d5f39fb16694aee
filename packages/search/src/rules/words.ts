/**
 * `words` rule. With `last`, terms are dropped from the end of the query: a document matching
 * the first k terms (and not the first k+1) has rank k of n (n = term count). With `all`
 * nothing can be dropped: rank 1 of 1. With `frequency`, the most frequent term (by document
 * count in this index) is dropped first.
 * Source: milli `search/new/ranking_rule_graph` + `score_details.rs` (`Words`).
 */
import type { MatchingStrategy } from '@miroir/protocol';
import type { Rank } from './types.js';

export interface WordsBucket extends Rank {
  /** Term indexes still required in this bucket, in query order. */
  active: number[];
}

/**
 * Removal order of the term indexes for a strategy: `last` removes from the end, `frequency`
 * removes the most frequent first (ties: later term first).
 */
export function removalOrder(strategy: MatchingStrategy, termCount: number, frequency: (t: number) => number): number[] {
  const idx = Array.from({ length: termCount }, (_, i) => i);
  if (strategy === 'frequency') {
    return idx.sort((a, b) => frequency(b) - frequency(a) || b - a).slice(0, Math.max(termCount - 1, 0));
  }
  if (strategy === 'all') return [];
  return idx.reverse().slice(0, Math.max(termCount - 1, 0));
}

/**
 * The bucket of a document given which terms it matches (`matched(t)`), or undefined when it
 * does not match at all.
 */
export function wordsBucket(
  strategy: MatchingStrategy,
  termCount: number,
  removal: readonly number[],
  matched: (t: number) => boolean,
): WordsBucket | undefined {
  const removed = new Set<number>();
  const max = strategy === 'all' ? 1 : termCount;
  for (let step = 0; step <= removal.length; step++) {
    let ok = true;
    for (let t = 0; t < termCount; t++) {
      if (!removed.has(t) && !matched(t)) {
        ok = false;
        break;
      }
    }
    if (ok) {
      const active: number[] = [];
      for (let t = 0; t < termCount; t++) if (!removed.has(t)) active.push(t);
      return { rank: max - step, max, active };
    }
    if (step < removal.length) removed.add(removal[step]);
  }
  return undefined;
}

export function wordsDetails(order: number, b: Rank): Record<string, unknown> {
  return { order, matchingWords: b.rank, maxMatchingWords: b.max, score: b.rank / b.max };
}
