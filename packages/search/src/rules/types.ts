/**
 * Shared shapes for the ranking rules. Every relevancy rule maps a document (its matches for
 * the query terms still active in its `words` bucket) to a rank `r` of `M`, where `M` depends
 * only on the query and the settings (milli `score_details.rs` `Rank`).
 */

/**
 * What the rules know about one document: the occurrences of each query term, as parallel
 * typed arrays (reused across documents, so the hot path allocates nothing). Occurrences of
 * term t are the indexes `start[t]` to `start[t + 1] - 1`.
 */
export interface DocView {
  iid: number;
  start: Int32Array;
  /** Encoded positions: `fid << 16 | wordPosition`. */
  pos: Uint32Array;
  typos: Uint8Array;
  /** 1 when the occurrence is the query word itself (no typo, not a longer prefix, not a synonym). */
  exact: Uint8Array;
  /** Lowest typo count per term (255 when absent). */
  minTypo: Uint8Array;
}

/** A query term. */
export interface Term {
  /** Normalized query word. */
  word: string;
  /** Index of the term in the query (0-based, stop words excluded). */
  index: number;
  prefix: boolean;
  /** Typo allowance from the settings (0, 1 or 2). */
  allowance: number;
  /** A quoted phrase (no typo, no prefix, no n-gram). */
  phrase?: boolean;
  /** Query words a phrase stands for (its positions, stop words included). */
  span?: number;
  /** Position in the query (stop words and separators counted, as milli); n-grams need consecutive ones. */
  position?: number;
}

/** What the rules know about the index and query. */
export interface RankContext {
  terms: Term[];
  /** Weight (0-based rank in searchableAttributes) per fid. */
  fidWeight: (fid: number) => number;
  /** Number of distinct weights (searchableAttributes length; 1 for `["*"]`). */
  weightCount: number;
  /** Word count of field `fid` in document `iid`. */
  fieldLength: (iid: number, fid: number) => number;
  /** Settings' `minWordSizeForTypos`, used for n-gram allowances. */
  typoAllowance: (word: string) => number;
  /** Offset of a term's last word from its recorded position (phrases: word count − 1). */
  lastOffset?: (t: number) => number;
}

export interface Rank {
  rank: number;
  max: number;
}

/** milli `Rank::merge`: fold an inner rank into an outer one (mixed radix). */
export function mergeRank(outer: Rank, inner: Rank): Rank {
  return { rank: Math.max(outer.rank - 1, 0) * inner.max + inner.rank, max: outer.max * inner.max };
}

/** milli `Rank::global_score`. */
export function globalScore(ranks: Iterable<Rank>): number {
  let r: Rank = { rank: 1, max: 1 };
  for (const x of ranks) r = mergeRank(r, x);
  return r.rank / r.max;
}
