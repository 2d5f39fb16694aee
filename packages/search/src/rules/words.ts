/**
 * `words` rule. With `last`, terms are dropped from the end of the query: a document matching
 * the first k terms (and not the first k+1) has rank k of n (n = term count). With `all`
 * nothing can be dropped: rank 1 of 1. With `frequency`, the most frequent term (by document
 * count in this index) is dropped first. Checked against Meilisearch snapshots ("doc optional"
 * on a document with only "doc": matchingWords 1, maxMatchingWords 2).
 * Source: milli `search/new/ranking_rules` words rule, `score_details.rs` (`Words`).
 */
import type { MatchingStrategy } from '@miroir/protocol';
import type { Rank } from './types.js';

/** One bucket of the words rule: the terms still required and its rank. */
export interface WordsStage extends Rank {
  /** Bit mask of required term indexes. */
  required: number;
  /** Required term indexes, ascending. */
  active: number[];
}

/**
 * The successive buckets, best first. `frequency(t)` is the document count of term t (used by
 * the `frequency` strategy only; ties drop the later term first).
 */
export function wordsStages(strategy: MatchingStrategy, termCount: number, frequency: (t: number) => number): WordsStage[] {
  const idx = Array.from({ length: termCount }, (_, i) => i);
  let removal: number[];
  if (strategy === 'all') removal = [];
  else if (strategy === 'frequency') removal = [...idx].sort((a, b) => frequency(b) - frequency(a) || b - a).slice(0, termCount - 1);
  else removal = [...idx].reverse().slice(0, termCount - 1);
  const max = strategy === 'all' ? 1 : termCount;
  const stages: WordsStage[] = [];
  let required = termCount >= 31 ? -1 : (1 << termCount) - 1;
  for (let s = 0; s <= removal.length; s++) {
    stages.push({ rank: max - s, max, required, active: idx.filter((t) => (required & (1 << t)) !== 0) });
    if (s < removal.length) required &= ~(1 << removal[s]);
  }
  return stages;
}

/** Index of the first stage whose required terms are all in `mask`, or -1. */
export function stageOf(stages: readonly WordsStage[], mask: number): number {
  for (let s = 0; s < stages.length; s++) if ((mask & stages[s].required) === stages[s].required) return s;
  return -1;
}

export function wordsDetails(order: number, b: Rank): Record<string, unknown> {
  return { order, matchingWords: b.rank, maxMatchingWords: b.max, score: b.rank / b.max };
}
