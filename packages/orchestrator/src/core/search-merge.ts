/**
 * Scatter/gather for `POST /indexes/{uid}/search` (spec S2.6 steps 4–10): the body sent to each
 * node, and the merge of their answers into exactly what one node holding all the data returns.
 *
 * @see https://www.meilisearch.com/docs/reference/api/search/search-with-post
 */
import { keywordScoreGoodEnough, SEARCH_DEFAULTS, setResultWindow } from '@miroir/protocol';
import type { FacetStats, Hit, ProgressTrace, SearchQuery, SearchResponse } from '@miroir/protocol';
import { isReservedField, SHARD_FIELD, stripDocument } from './documents.js';
import { mergeFacetDistributions, mergeFacetStats, type FacetingContext } from './facets.js';
import { HitComparator, type HitKey } from './hit-order.js';

/** Index facts the scatter and the merge depend on. */
export interface SearchContext extends FacetingContext {
  readonly primaryKey: string;
  /** `pagination.maxTotalHits`. */
  readonly maxTotalHits: number;
  /** `distinctAttribute` setting (a query's `distinct` overrides it). */
  readonly distinctAttribute: string | null;
  /**
   * The `distinctAttribute` setting is filterable, so nodes may be asked for its facet values to
   * count distinct values exactly across shards (a query's `distinct` is always filterable).
   */
  readonly distinctFilterable?: boolean;
  /**
   * Multiplier on the per-node window for semantic and hybrid queries (spec S13.12
   * `over_fetch_factor`, or `X-Miroir-Over-Fetch`). Keyword queries are never over-fetched.
   */
  readonly overFetchFactor?: number;
  /**
   * False when the index's ranking rules hold no custom `attr:asc|desc` rule. Unset counts as true
   * (nodes are then always asked for ranking details).
   */
  readonly customSortRules?: boolean;
}

/** The client's window resolved the way one node resolves it. */
export interface SearchWindow {
  /** Page mode (`page` or `hitsPerPage` given). */
  readonly paged: boolean;
  /** First hit returned, after capping at maxTotalHits. */
  readonly offset: number;
  /** Number of hits returned at most, after capping. */
  readonly limit: number;
}

/** Resolves offset/limit or page/hitsPerPage and caps them at `maxTotalHits`, as a node does. */
export function searchWindow(query: SearchQuery, maxTotalHits: number): SearchWindow {
  const paged = query.page !== undefined || query.hitsPerPage !== undefined;
  let offset: number;
  let limit: number;
  if (paged) {
    const hpp = query.hitsPerPage ?? SEARCH_DEFAULTS.limit;
    const page = query.page ?? 1;
    // page 0 asks for nothing.
    offset = page === 0 ? 0 : (page - 1) * hpp;
    limit = page === 0 ? 0 : hpp;
  } else {
    offset = query.offset ?? SEARCH_DEFAULTS.offset;
    limit = query.limit ?? SEARCH_DEFAULTS.limit;
  }
  offset = Math.min(offset, maxTotalHits);
  limit = Math.min(limit, Math.max(0, maxTotalHits - offset));
  return { paged, offset, limit };
}

/** `_miroir_shard IN [a, b, …]`. */
export function shardFilterExpression(shards: readonly number[]): string {
  return `${SHARD_FIELD} IN [${shards.join(', ')}]`;
}

/**
 * ANDs the shard filter onto a client filter. The result is always the array form (outer AND):
 * a string filter becomes `[filter, shardFilter]`, an array gets one more element. Keeping the
 * client's string whole, rather than writing `(filter) AND …`, keeps the node's error message for
 * an invalid filter — which quotes the filter and column positions — identical to one node's.
 * A filter of any other type is passed untouched: the node rejects it with Meilisearch's message.
 */
export function andShardFilter(filter: unknown, shards: readonly number[]): unknown {
  const extra = shardFilterExpression(shards);
  if (filter === undefined || filter === null) return [extra];
  if (typeof filter === 'string') return filter.trim() === '' ? [extra] : [filter, extra];
  if (Array.isArray(filter)) return [...filter, extra];
  return filter;
}

function isRestricted(attrs: readonly string[] | undefined): attrs is readonly string[] {
  return attrs !== undefined && !attrs.includes('*');
}

/** Attributes Miroir adds to a restricted `attributesToRetrieve` (to strip them again). */
export function addedAttributes(query: SearchQuery, ctx: SearchContext): string[] {
  const attrs = query.attributesToRetrieve;
  if (!isRestricted(attrs)) return [];
  const added: string[] = [];
  const distinct = query.distinct ?? ctx.distinctAttribute;
  for (const a of [ctx.primaryKey, distinct]) {
    if (a !== null && a !== undefined && !attrs.includes(a) && !added.includes(a)) added.push(a);
  }
  return added;
}

/**
 * The distinct attribute whose facet values Miroir asks nodes for, so that totals can count each
 * distinct value once across shards; null when distinct is off or the attribute may not be
 * faceted. Each node only removes duplicates among its own documents, so summing node totals
 * counts a value present on several shards several times.
 */
export function distinctCountFacet(query: SearchQuery, ctx: SearchContext): string | null {
  if (query.distinct !== undefined) return query.distinct;
  return ctx.distinctAttribute !== null && ctx.distinctFilterable === true ? ctx.distinctAttribute : null;
}

function facetsCover(facets: readonly string[] | undefined, attr: string): boolean {
  return facets !== undefined && (facets.includes('*') || facets.includes(attr));
}

function isSemantic(query: SearchQuery): boolean {
  return query.hybrid !== undefined || query.vector !== undefined || query.media !== undefined;
}

/** What a node runs for a query: Meilisearch's `SearchKind`. */
export const SearchKind = { keyword: 'keyword', semantic: 'semantic', hybrid: 'hybrid' } as const;
export type SearchKind = (typeof SearchKind)[keyof typeof SearchKind];

/**
 * meilisearch `routes/indexes/search.rs` `search_kind`, case for case: `semanticRatio` 0 and a
 * placeholder without vector or media are keyword searches; `semanticRatio` 1, or a `hybrid` with
 * no query text, semantic; a query text with `hybrid`, hybrid. A combination the node refuses
 * (`vector` or `media` without `hybrid`, media with a vector) counts as keyword: it is never
 * over-fetched, and the node's error is relayed.
 */
export function searchKind(query: SearchQuery): SearchKind {
  const h = query.hybrid;
  const media = query.media !== undefined;
  if (h === undefined || (media && query.vector !== undefined) || h.semanticRatio === 0) return SearchKind.keyword;
  const placeholder = query.q === undefined || query.q.trim() === '';
  if (placeholder && !media && query.vector === undefined) return SearchKind.keyword;
  if (h.semanticRatio === 1 || placeholder) return SearchKind.semantic;
  return SearchKind.hybrid;
}

/**
 * Whether the merge needs `_rankingScoreDetails` to order hits. With relevancy rules only (no sort
 * in the query, no custom sort rule, not semantic) `_rankingScore` order is the bucket order
 * (meilisearch-api §7.3), so the details, most of a hit's size in a node answer, are not asked for
 * unless the client wants them. The one order they would still refine is a search cut off by
 * `searchCutoffMs` (a `skipped` rule), where the node's own order is already approximate.
 */
export function needsDetails(query: SearchQuery, ctx: SearchContext): boolean {
  return (
    query.showRankingScoreDetails === true ||
    ctx.customSortRules !== false ||
    (query.sort !== undefined && query.sort.length > 0) ||
    isSemantic(query)
  );
}

/**
 * The body Miroir sends one node: window from 0 to the client's end (capped at maxTotalHits, and
 * over-fetched for semantic queries), page 1 in page mode, ranking scores on (and details when
 * the order needs them, see {@link needsDetails}), the
 * shard filter ANDed in when `shards` is given, pk and distinct attribute retrieved.
 */
export function nodeSearchBody(query: SearchQuery, ctx: SearchContext, shards: readonly number[] | null): Record<string, unknown> {
  const w = searchWindow(query, ctx.maxTotalHits);
  // A copy loop rather than `{ ...query }` and then additions: V8 gives a spread's result a map
  // that every later addition must leave, which made this function ~5 µs instead of ~0.1 µs
  // (bench/core-bench: "search request core").
  const body: Record<string, unknown> = {};
  const src = query as Record<string, unknown>;
  for (const k in src) if (!(w.paged && (k === 'offset' || k === 'limit'))) body[k] = src[k];
  let want = w.offset + w.limit;
  if (ctx.overFetchFactor !== undefined && ctx.overFetchFactor > 1 && searchKind(query) !== SearchKind.keyword) {
    want = Math.ceil(want * ctx.overFetchFactor);
  }
  if (w.paged) {
    body.page = 1;
    body.hitsPerPage = want;
  } else {
    body.offset = 0;
    body.limit = want;
  }
  body.showRankingScore = true;
  if (needsDetails(query, ctx)) body.showRankingScoreDetails = true;
  if (shards !== null) body.filter = andShardFilter(query.filter, shards);
  const added = addedAttributes(query, ctx);
  if (added.length > 0) body.attributesToRetrieve = [...(query.attributesToRetrieve as string[]), ...added];
  const df = distinctCountFacet(query, ctx);
  if (df !== null && !facetsCover(query.facets, df)) body.facets = [...(query.facets ?? []), df];
  return body;
}

/** What one node answered (the fields the merge reads). */
export type NodeSearchResponse = Pick<SearchResponse, 'hits'> &
  Partial<
    Pick<SearchResponse, 'estimatedTotalHits' | 'totalHits' | 'facetDistribution' | 'facetStats' | 'semanticHitCount' | 'processingTimeMs'>
  > & { queryVector?: number[]; performanceDetails?: ProgressTrace };

/** Per-request values of the merge that are not in the query. */
export interface MergeExtras {
  /** Miroir's own elapsed time for the request. */
  readonly processingTimeMs: number;
  /** Echoed as `requestUid` when given. */
  readonly requestUid?: string;
  /** `Meili-Include-Metadata: true`: the query metadata object, echoed as `metadata`. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Search response fields newer than the shared type. */
export type MergedSearchResponse = SearchResponse & { queryVector?: number[]; metadata?: Readonly<Record<string, unknown>> };

/** Binary min-heap of list indexes, keyed by each list's current head. */
class HeadHeap {
  readonly #heap: number[] = [];
  readonly #less: (i: number, j: number) => boolean;

  constructor(less: (i: number, j: number) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#heap.length;
  }

  push(i: number): void {
    const h = this.#heap;
    h.push(i);
    let c = h.length - 1;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!this.#less(h[c], h[p])) break;
      [h[c], h[p]] = [h[p], h[c]];
      c = p;
    }
  }

  peek(): number {
    return this.#heap[0];
  }

  /** Re-sinks the top after its key changed; removes it when `drop`. */
  fix(drop: boolean): void {
    const h = this.#heap;
    if (drop) {
      const last = h.pop() as number;
      if (h.length === 0) return;
      h[0] = last;
    }
    let p = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * p + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#less(h[r], h[l]) ? r : l;
      if (!this.#less(h[c], h[p])) break;
      [h[c], h[p]] = [h[p], h[c]];
      p = c;
    }
  }
}

/** Distinct keys of a hit's distinct-attribute value (any shared key makes two hits duplicates). */
function distinctKeys(v: unknown, out: string[]): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    for (const x of v) distinctKeys(x, out);
    return;
  }
  if (typeof v === 'number') out.push(`n${v}`);
  else if (typeof v === 'string') out.push(`s${v.trim().toLowerCase()}`);
  else if (typeof v === 'boolean') out.push(`s${v}`);
}

function readPath(doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path];
  if (!path.includes('.')) return undefined;
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * k-way merge of per-node hit lists (each already in single-node order) into the first `want`
 * hits of the global order, with `distinct` re-applied across nodes (first hit per value wins;
 * hits without the attribute are all kept, as on one node).
 */
export function mergeHits(lists: readonly (readonly Hit[])[], want: number, cmp: HitComparator, distinct: string | null): Hit[] {
  const out: Hit[] = [];
  if (want <= 0) return out;
  const pos = new Int32Array(lists.length);
  // Each list's head with its comparison values extracted once (a head is compared many times).
  const heads: (HitKey | undefined)[] = new Array(lists.length);
  const heap = new HeadHeap((i, j) => {
    const c = cmp.compareKeys(heads[i] as HitKey, heads[j] as HitKey);
    return c < 0 || (c === 0 && i < j);
  });
  for (let i = 0; i < lists.length; i++) {
    if (lists[i].length > 0) {
      heads[i] = cmp.key(lists[i][0]);
      heap.push(i);
    }
  }
  const seen = distinct === null ? undefined : new Set<string>();
  const keys: string[] = [];
  while (heap.size > 0 && out.length < want) {
    const i = heap.peek();
    const hit = lists[i][pos[i]++];
    const more = pos[i] < lists[i].length;
    if (more) heads[i] = cmp.key(lists[i][pos[i]]);
    heap.fix(!more);
    if (seen !== undefined) {
      keys.length = 0;
      distinctKeys(readPath(hit, distinct as string), keys);
      let dup = false;
      for (const k of keys) if (seen.has(k)) dup = true;
      if (dup) continue;
      for (const k of keys) seen.add(k);
    }
    out.push(hit);
  }
  return out;
}

/** `obj` without the key `k` (a facet Miroir added for its own counting). */
function without<T>(obj: Readonly<Record<string, T>> | undefined, k: string): Record<string, T> | undefined {
  if (obj === undefined || !(k in obj)) return obj;
  const out: Record<string, T> = {};
  for (const key in obj) if (key !== k) out[key] = obj[key];
  return out;
}

/**
 * Total with `distinct`, counting each distinct value once: the union of the nodes' values of the
 * distinct attribute, plus each node's documents without it (node total − its value count).
 * Null (fall back to the sum) when a node's value list may be truncated at `maxValuesPerFacet`.
 */
function distinctTotal(responses: readonly NodeSearchResponse[], attr: string, paged: boolean, maxValues: number): number | null {
  const values = new Set<string>();
  let without = 0;
  for (const r of responses) {
    const dist = r.facetDistribution?.[attr];
    if (dist === undefined) return null;
    let n = 0;
    for (const v in dist) {
      values.add(v.toLowerCase());
      n++;
    }
    if (n >= maxValues) return null;
    without += Math.max(0, ((paged ? r.totalHits : r.estimatedTotalHits) ?? 0) - n);
  }
  return values.size + without;
}

/** Copies `hit` without reserved fields, added attributes and unrequested ranking fields. */
function cleanHit(hit: Hit, drop: ReadonlySet<string>, dropFormatted: ReadonlySet<string>): Hit {
  const out: Record<string, unknown> = {};
  for (const k in hit) {
    if (drop.has(k) || isReservedField(k)) continue;
    const v = hit[k];
    if (k === '_formatted' && v !== null && typeof v === 'object') {
      const f: Record<string, unknown> = {};
      const src = v as Record<string, unknown>;
      for (const fk in src) if (!dropFormatted.has(fk) && !isReservedField(fk)) f[fk] = src[fk];
      out[k] = f;
    } else if (k === '_matchesPosition' && v !== null && typeof v === 'object') {
      out[k] = stripDocument(v as Record<string, unknown>);
    } else out[k] = v;
  }
  return out as Hit;
}

function mentions(list: readonly string[] | undefined, attr: string): boolean {
  return list !== undefined && (list.includes('*') || list.includes(attr));
}

/**
 * Merges node answers into the client's response, with Meilisearch's (1.50) key order: `hits`,
 * `query`, (`queryVector`), `processingTimeMs`, the window fields, `facetDistribution`,
 * `facetStats`, (`requestUid`), (`metadata`), `semanticHitCount`.
 */
export function mergeSearch(
  query: SearchQuery,
  ctx: SearchContext,
  responses: readonly NodeSearchResponse[],
  extras: MergeExtras,
): MergedSearchResponse {
  const w = searchWindow(query, ctx.maxTotalHits);
  const cmp = new HitComparator({
    primaryKey: ctx.primaryKey,
    semanticRatio: query.hybrid !== undefined ? query.hybrid.semanticRatio ?? SEARCH_DEFAULTS.semanticRatio : undefined,
    sort: query.sort,
  });
  const distinct = query.distinct ?? ctx.distinctAttribute;
  const merged = mergeHits(
    responses.map((r) => r.hits),
    w.offset + w.limit,
    cmp,
    distinct,
  );

  const drop = new Set<string>();
  if (query.showRankingScore !== true) drop.add('_rankingScore');
  if (query.showRankingScoreDetails !== true) drop.add('_rankingScoreDetails');
  const added = addedAttributes(query, ctx);
  const dropFormatted = new Set<string>();
  for (const a of added) {
    drop.add(a);
    if (!mentions(query.attributesToHighlight, a) && !mentions(query.attributesToCrop, a)) dropFormatted.add(a);
  }
  // `semanticHitCount` (hybrid search) counts the semantic hits among the hits returned, as one
  // node counts the hits its merge took from the semantic side: those ranked by `vectorSort`.
  const hybrid = responses.some((r) => r.semanticHitCount !== undefined);
  let semantic: number | undefined = hybrid ? 0 : undefined;
  const hits: Hit[] = [];
  for (let i = w.offset; i < merged.length; i++) {
    if (hybrid && (merged[i]!._rankingScoreDetails as Record<string, unknown> | undefined)?.vectorSort !== undefined) semantic!++;
    hits.push(cleanHit(merged[i], drop, dropFormatted));
  }

  let total = 0;
  for (const r of responses) total += (w.paged ? r.totalHits : r.estimatedTotalHits) ?? 0;
  const df = distinctCountFacet(query, ctx);
  if (df !== null) total = distinctTotal(responses, df, w.paged, ctx.maxValuesPerFacet) ?? total;
  total = Math.min(total, ctx.maxTotalHits);

  const qv = responses.find((r) => r.queryVector !== undefined)?.queryVector;
  const res: MergedSearchResponse =
    qv === undefined
      ? { hits, query: query.q ?? '', processingTimeMs: extras.processingTimeMs }
      : { hits, query: query.q ?? '', queryVector: qv, processingTimeMs: extras.processingTimeMs };
  setResultWindow(
    res,
    w.paged,
    { hitsPerPage: query.hitsPerPage ?? SEARCH_DEFAULTS.limit, page: query.page ?? 1, limit: query.limit ?? SEARCH_DEFAULTS.limit, offset: w.offset },
    total,
  );
  if (query.facets !== undefined) {
    const hide = df !== null && !facetsCover(query.facets, df) ? df : null;
    res.facetDistribution = mergeFacetDistributions(
      responses.map((r) => (hide === null ? r.facetDistribution : without(r.facetDistribution, hide))),
      ctx,
    );
    res.facetStats = mergeFacetStats(
      responses.map((r) => (hide === null ? r.facetStats : without(r.facetStats, hide)) as Record<string, FacetStats> | undefined),
    );
  }
  // Meilisearch ≥ 1.50 order: requestUid, metadata, then semanticHitCount.
  if (extras.requestUid !== undefined) res.requestUid = extras.requestUid;
  if (extras.metadata !== undefined) res.metadata = extras.metadata;
  if (semantic !== undefined) res.semanticHitCount = semantic;
  return res;
}

/**
 * The keyword half of a hybrid query: the same query without `hybrid`, `vector` and `media`, which
 * a node answers exactly as the keyword search its hybrid search starts with (milli
 * `execute_hybrid`: same filter, sort, distinct, window and threshold).
 */
export function keywordSideQuery(query: SearchQuery): SearchQuery {
  const out: Record<string, unknown> = {};
  const src = query as Record<string, unknown>;
  for (const k in src) if (k !== 'hybrid' && k !== 'vector' && k !== 'media') out[k] = src[k];
  return out as SearchQuery;
}

/**
 * milli `results_good_enough` over a merged keyword window: it is whole (`want` hits) and every
 * hit's `_rankingScore` is good enough ({@link keywordScoreGoodEnough}). Then a node answers the
 * keyword results alone, with `semanticHitCount: 0`.
 */
export function keywordGoodEnough(hits: readonly Hit[], want: number, ratio: number): boolean {
  if (hits.length < want) return false;
  for (const h of hits) if (!keywordScoreGoodEnough(h._rankingScore ?? 0, ratio)) return false;
  return true;
}

/**
 * Merges a hybrid search (spec S13.12) from the nodes' hybrid answers and their answers to the
 * {@link keywordSideQuery}, so that Meilisearch's "keyword results good enough" decision is taken
 * over the whole index, as one node takes it, instead of by each node over its own shards.
 *
 * A node decides from its own keyword results: a node whose top hits all score high skips its
 * semantic side while the index as a whole would not, and a node holding few of the index's
 * strong matches runs it while the index would not. Either way its hits and its
 * `estimatedTotalHits` (the keyword matches alone when skipped, keyword ∪ semantic candidates
 * otherwise) differ from what the one node would answer. Here the global keyword top window is
 * merged first: when it is good enough the answer is the keyword merge with `semanticHitCount: 0`
 * (what one node returns then); otherwise the hybrid answers are merged.
 *
 * Without sort rules a node skips only when the whole index does (its top window, all good, is
 * at least as good as the global one), so the hybrid answers hold no skipped node. With a sort
 * rule, keyword hits are not in score order and a node can still skip alone; its answer is then
 * merged as it is (docs/read-path.md).
 */
export function mergeHybridSearch(
  query: SearchQuery,
  ctx: SearchContext,
  hybrid: readonly NodeSearchResponse[],
  keyword: readonly NodeSearchResponse[],
  extras: MergeExtras,
): MergedSearchResponse {
  const w = searchWindow(query, ctx.maxTotalHits);
  const want = w.offset + w.limit;
  const cmp = new HitComparator({ primaryKey: ctx.primaryKey, sort: query.sort });
  const top = mergeHits(
    keyword.map((r) => r.hits),
    want,
    cmp,
    query.distinct ?? ctx.distinctAttribute,
  );
  const ratio = query.hybrid?.semanticRatio ?? SEARCH_DEFAULTS.semanticRatio;
  if (!keywordGoodEnough(top, want, ratio)) return mergeSearch(query, ctx, hybrid, extras);
  const res = mergeSearch(query, ctx, keyword, extras);
  res.semanticHitCount = 0;
  return res;
}
