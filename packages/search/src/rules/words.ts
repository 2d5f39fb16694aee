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
 * the `frequency` strategy only; ties drop the later term first). `words(t)` is the number of
 * query words term t stands for (a phrase counts its words; ranks count words) and `fixed(t)`
 * marks terms no strategy removes (phrases). Source: milli `search/new/tests/words_tms.rs`
 * ("Phrases are never deleted by the `last` term matching strategy"; a 9-word phrase alone
 * gives matching_words 9 of 9).
 */
export function wordsStages(
  strategy: MatchingStrategy,
  termCount: number,
  frequency: (t: number) => number,
  words: (t: number) => number = () => 1,
  fixed: (t: number) => boolean = () => false,
): WordsStage[] {
  const idx = Array.from({ length: termCount }, (_, i) => i);
  const removable = idx.filter((t) => !fixed(t));
  // At least one term stays: a fixed one, else the last one the strategy would remove.
  const keepOne = removable.length === termCount ? 1 : 0;
  let removal: number[];
  if (strategy === 'all') removal = [];
  else if (strategy === 'frequency') removal = [...removable].sort((a, b) => frequency(b) - frequency(a) || b - a);
  else removal = [...removable].reverse();
  removal = removal.slice(0, removal.length - keepOne);
  let total = 0;
  for (const t of idx) total += words(t);
  const max = strategy === 'all' ? 1 : total;
  const stages: WordsStage[] = [];
  let required = termCount >= 31 ? -1 : (1 << termCount) - 1;
  let rank = max;
  for (let s = 0; s <= removal.length; s++) {
    stages.push({ rank, max, required, active: idx.filter((t) => (required & (1 << t)) !== 0) });
    if (s < removal.length) {
      required &= ~(1 << removal[s]);
      rank -= words(removal[s]);
    }
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
