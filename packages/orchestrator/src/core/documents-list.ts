/**
 * Global pagination for `GET …/documents` and `POST …/documents/fetch` (spec S3.2).
 *
 * Without `sort`: shards are walked in order 0…S−1; the per-shard totals (a `limit=0` read of each
 * shard, filter ANDed with `_miroir_shard = s`) say which shards overlap the window
 * `[offset, offset+limit)`, and only those are read, each at its own offset. The order is
 * deterministic and stable across pages, though not a single node's insertion order. A node that
 * holds every shard lists alone instead, in exactly one node's order ({@link wholeIndexHolder}).
 *
 * With `sort`: every node reads `[0, offset+limit)` of its shards and the lists are merged by the
 * sort values, as a single node orders them.
 *
 * @see https://www.meilisearch.com/docs/reference/api/documents/list-documents-with-post
 */
import { stripDocument } from './documents.js';
import { compareSortValues, comparePk } from './hit-order.js';
import type { Placement } from './placement.js';

/**
 * The first of `candidates` that owns every shard of the index in group `groupIndex`, or
 * undefined. Such a node received every write in Miroir's order, so it numbers documents as one
 * node holding all the data does: its own listing (without `sort`) is one node's order, exactly
 * (until a rebalance or a repair rewrites documents on it).
 */
export function wholeIndexHolder(placement: Placement, groupIndex: number, candidates: Iterable<string>): string | undefined {
  if (groupIndex < 0) return undefined;
  for (const id of candidates) {
    let all = true;
    for (let s = 0; s < placement.shards && all; s++) all = placement.owners(groupIndex, s).includes(id);
    if (all) return id;
  }
  return undefined;
}

/** One shard read needed for the window. */
export interface ShardRead {
  readonly shard: number;
  /** Offset inside the shard's own (filtered) document list. */
  readonly offset: number;
  readonly limit: number;
}

/** The reads covering `[offset, offset+limit)`, and the global total. */
export interface DocumentsPlan {
  readonly total: number;
  readonly reads: ShardRead[];
}

/**
 * Plans the shard reads for a window. `totals[s]` is shard `s`'s matching-document count;
 * shards with no entry (unavailable) count as empty.
 */
export function planDocumentReads(totals: readonly (number | undefined)[], offset: number, limit: number): DocumentsPlan {
  let total = 0;
  for (const t of totals) total += t ?? 0;
  const reads: ShardRead[] = [];
  const end = offset + limit;
  let start = 0;
  for (let s = 0; s < totals.length && start < end; s++) {
    const n = totals[s] ?? 0;
    const stop = start + n;
    if (n > 0 && stop > offset) {
      const from = Math.max(0, offset - start);
      const to = Math.min(n, end - start);
      if (to > from) reads.push({ shard: s, offset: from, limit: to - from });
    }
    start = stop;
  }
  return { total, reads };
}

/** `{results, offset, limit, total}`, Meilisearch's listing shape. */
export interface DocumentsPage {
  results: Record<string, unknown>[];
  offset: number;
  limit: number;
  total: number;
}

/**
 * Assembles the page from the planned reads: `pages.get(shard)` is what that read returned.
 * Results follow shard order; reserved fields are stripped.
 */
export function assembleDocuments(
  plan: DocumentsPlan,
  pages: ReadonlyMap<number, readonly Record<string, unknown>[]>,
  offset: number,
  limit: number,
): DocumentsPage {
  const results: Record<string, unknown>[] = [];
  for (const r of plan.reads) {
    const docs = pages.get(r.shard) ?? [];
    for (let i = 0; i < docs.length && i < r.limit; i++) results.push(stripDocument(docs[i]));
  }
  return { results, offset, limit, total: plan.total };
}

/** A parsed `sort` entry of a document listing (`field:asc|desc`). */
export interface SortCriterion {
  readonly field: string;
  readonly dir: 1 | -1;
}

/** Parses `["price:asc", "title:desc"]`; the syntax was already validated by a node or the API layer. */
export function parseSortCriteria(sort: readonly string[]): SortCriterion[] {
  return sort.map((s) => {
    const i = s.lastIndexOf(':');
    return { field: s.slice(0, i), dir: s.slice(i + 1) === 'desc' ? -1 : 1 };
  });
}

function fieldValue(doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path];
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** A multi-valued field sorts at its best value in the sort direction. */
function sortValue(v: unknown, dir: 1 | -1): unknown {
  if (!Array.isArray(v)) return v;
  let best: unknown;
  for (const x of v) {
    const sx = sortValue(x, dir);
    if (best === undefined || compareSortValues(sx, best, dir) < 0) best = sx;
  }
  return best;
}

/**
 * Merges per-node document lists (each sorted by `criteria`) and returns the page
 * `[offset, offset+limit)`. Ties fall back to the primary key, ascending.
 */
export function mergeSortedDocuments(
  lists: readonly (readonly Record<string, unknown>[])[],
  criteria: readonly SortCriterion[],
  primaryKey: string,
  offset: number,
  limit: number,
  total: number,
  drop?: ReadonlySet<string>,
): DocumentsPage {
  const cmp = (a: Record<string, unknown>, b: Record<string, unknown>): number => {
    for (const c of criteria) {
      const d = compareSortValues(sortValue(fieldValue(a, c.field), c.dir), sortValue(fieldValue(b, c.field), c.dir), c.dir);
      if (d !== 0) return d;
    }
    return comparePk(a[primaryKey], b[primaryKey]);
  };
  const pos = new Array<number>(lists.length).fill(0);
  const results: Record<string, unknown>[] = [];
  const end = offset + limit;
  for (let taken = 0; taken < end; taken++) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      if (pos[i] >= lists[i].length) continue;
      if (best < 0 || cmp(lists[i][pos[i]], lists[best][pos[best]]) < 0) best = i;
    }
    if (best < 0) break;
    const doc = lists[best][pos[best]++];
    if (taken >= offset) results.push(stripDocument(doc, drop));
  }
  return { results, offset, limit, total };
}
