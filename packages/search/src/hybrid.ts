/**
 * Which search a query asks for (keyword, semantic or hybrid) and the hybrid interleave of the
 * keyword and semantic result lists.
 *
 * Facts from meilisearch (`routes/indexes/search.rs` `search_kind`, milli `search/hybrid.rs`):
 * - no query text and no vector → keyword (placeholder) search, the embedder is not looked up;
 *   `semanticRatio` 1 → semantic only; 0 → keyword only; no `q` but a vector → semantic only;
 *   otherwise hybrid; a vector without `hybrid` → `missing_search_hybrid`;
 * - hybrid runs the keyword search for `offset + limit` hits and skips the semantic side when
 *   it returned that many and each global score × (1 − ratio) ≥ 0.45 ("good enough",
 *   `semanticHitCount` 0);
 * - otherwise both lists (each `offset + limit` long) are merged: hits compare value by value
 *   (runs of rank rules as one score, the vector similarity as a score, sort values), scores
 *   weighted by 1 − ratio (keyword) and ratio (semantic), ties going to the semantic hit; seen
 *   documents (and, with distinct, indistinct ones) are skipped, then offset/limit apply;
 * - `semanticHitCount` counts the returned hits coming from the semantic list; the candidate
 *   count is the union of both lists' candidates. Shown scores stay unweighted;
 * - the ratio is an `f32` (meilisearch `SemanticRatio(f32)`), and the keyword weight is
 *   `1.0 - ratio` computed in `f32`, both widened to `f64` only to multiply a score
 *   (`hybridWeights`, @miroir/protocol);
 * - a query text of only spaces is a placeholder: with `hybrid` and a vector it is a semantic
 *   search, as without `q`.
 */
import { hybridWeights, type SearchQuery } from '@miroir/protocol';
import type { SortValue } from './rules/sort.js';
import { compareSortValues } from './rules/sort.js';

/** What a search runs: keyword only, semantic only (one embedder), or both merged by `ratio`. */
export type SearchKind =
  | { kind: 'keyword' }
  | { kind: 'semantic'; embedder: string }
  | { kind: 'hybrid'; embedder: string; ratio: number };

/** meilisearch `search_kind` (without the embedder lookup, done by the caller). */
export function searchKind(q: SearchQuery): SearchKind | 'missingHybrid' {
  const text = q.q;
  const vector = q.vector;
  const h = q.hybrid;
  if (vector === undefined && (text === undefined || text.trim() === '')) return { kind: 'keyword' };
  if (h !== undefined && h.semanticRatio === 1) return { kind: 'semantic', embedder: h.embedder };
  if (h !== undefined && h.semanticRatio === 0) return { kind: 'keyword' };
  if (h !== undefined && (text === undefined || text.trim() === '')) return { kind: 'semantic', embedder: h.embedder };
  if (h === undefined && vector === undefined) return { kind: 'keyword' };
  if (h !== undefined) return { kind: 'hybrid', embedder: h.embedder, ratio: h.semanticRatio };
  return 'missingHybrid';
}

/**
 * One comparable value of a hit (milli `ScoreValue`): a score (a run of rank rules, or a
 * vector similarity), a sort value or a geo distance.
 */
export type ScoreValue =
  | { kind: 'score'; score: number }
  | { kind: 'sort'; ascending: boolean; value: SortValue }
  | { kind: 'geo'; ascending: boolean; distance: number | null };

/**
 * milli `hybrid.rs` `compare_scores`: positive when `a` (scores × `ra`) ranks before `b`
 * (scores × `rb`).
 */
export function compareScores(a: readonly ScoreValue[], ra: number, b: readonly ScoreValue[], rb: number): number {
  for (let i = 0; ; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined && y === undefined) return 0;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x.kind === 'score' && y.kind === 'score') {
      const l = x.score * ra;
      const r = y.score * rb;
      if (Math.abs(l - r) <= Number.EPSILON) continue;
      return l > r ? 1 : -1;
    }
    if (x.kind === 'sort' && y.kind === 'sort') {
      const c = compareSortValues(x.value, y.value, x.ascending);
      if (c !== 0) return -c;
      continue;
    }
    if (x.kind === 'geo' && y.kind === 'geo') {
      const c = compareSortValues(x.distance, y.distance, x.ascending);
      if (c !== 0) return -c;
      continue;
    }
    if (x.kind === 'score') return x.score === 0 ? -1 : 1;
    if (y.kind === 'score') return y.score === 0 ? 1 : -1;
    // A sort against a geo sort cannot happen with one rule list.
    return 0;
  }
}

/** A ranked hit of one side of a hybrid search. */
export interface SideHit<T> {
  iid: number;
  values: ScoreValue[];
  item: T;
}

/** The hybrid interleave: the page of merged hits and how many came from the semantic side. */
export function mergeHybrid<T>(
  semantic: readonly SideHit<T>[],
  keyword: readonly SideHit<T>[],
  ratio: number,
  offset: number,
  limit: number,
  distinctKeys: ((iid: number) => string[]) | null,
): { hits: Array<SideHit<T> & { semantic: boolean }>; semanticHitCount: number } {
  const [ws, wk] = hybridWeights(ratio);
  const seen = new Set<number>();
  const seenKeys = new Set<string>();
  const hits: Array<SideHit<T> & { semantic: boolean }> = [];
  let skipped = 0;
  let semanticHitCount = 0;
  let i = 0;
  let j = 0;
  while ((i < semantic.length || j < keyword.length) && hits.length < limit) {
    let fromSemantic: boolean;
    if (i >= semantic.length) fromSemantic = false;
    else if (j >= keyword.length) fromSemantic = true;
    else fromSemantic = compareScores(semantic[i].values, ws, keyword[j].values, wk) >= 0;
    const h = fromSemantic ? semantic[i++] : keyword[j++];
    if (seen.has(h.iid)) continue;
    seen.add(h.iid);
    if (distinctKeys !== null) {
      const keys = distinctKeys(h.iid);
      if (keys.some((k) => seenKeys.has(k))) continue;
      for (const k of keys) seenKeys.add(k);
    }
    if (skipped < offset) {
      skipped++;
      continue;
    }
    if (fromSemantic) semanticHitCount++;
    hits.push({ ...h, semantic: fromSemantic });
  }
  return { hits, semanticHitCount };
}
