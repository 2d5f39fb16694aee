/**
 * `POST|GET /indexes/{uid}/search`, `POST /indexes/{uid}/facet-search`, `POST /multi-search`.
 * Tenant-token search rules are ANDed onto the query's filter.
 *
 * @see https://www.meilisearch.com/docs/reference/api/search/search-with-post
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  insideQuery,
  MeiliError,
  parseFacetSearchQuery,
  parseMultiSearch,
  parseSearchQuery,
  searchQueryFromGet,
  ProgressTimer,
  withPerformanceDetails,
  searchMetadata,
  wantsSearchMetadata,
  fuseFilters,
} from '@miroir/protocol';
import type { Federation, SearchQuery, SearchQueryWithIndex, SearchResponse } from '@miroir/protocol';
import { federatedMerge } from '@miroir/search';
import type { FederatedResponse, FederatedSource, SearchMatches } from '@miroir/search';
import type { EngineIndex } from '../registry.js';
import type { EngineContext } from '../context.js';
import { checkIndexUid, jsonBody } from '../http.js';
import type { QueryParams } from '../http.js';
import { presentHits } from '../documents-view.js';
import { checkFilterFeatures } from '../features.js';
import type { AuthContextPort } from '../ports.js';

type UidParams = { indexUid: string };

function withRules<Q extends { filter?: unknown }>(q: Q, auth: AuthContextPort | null, uid: string): Q {
  if (auth === null) return q;
  const rule = auth.searchFilter(uid);
  if (rule === null || rule === undefined) return q;
  return { ...q, filter: fuseFilters(q.filter, rule) };
}

export function registerSearchRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const { registry } = ctx;

  const search = (uid: string, q: SearchQuery, auth: AuthContextPort | null, metadata = false): SearchResponse => {
    const timer = new ProgressTimer();
    const res = timer.step('search', () => {
      checkFilterFeatures(ctx, q.filter);
      const idx = registry.require(uid);
      const found = idx.search.search(withRules(q, auth, uid), uid);
      presentHits(found.hits, q.retrieveVectors === true, Object.keys(idx.settings.embedders));
      if (metadata) (found as SearchResponse & { metadata?: unknown }).metadata = searchMetadata(uid, idx.primaryKey);
      return found;
    });
    return q.showPerformanceDetails === true ? withPerformanceDetails(res, timer.trace(), 'semanticHitCount') : res;
  };

  app.post<{ Params: UidParams }>('/indexes/:indexUid/search', { config: { action: 'search' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    return search(uid, parseSearchQuery(jsonBody(req)), req.authCtx, wantsSearchMetadata(req.headers['meili-include-metadata']));
  });

  app.get<{ Params: UidParams }>('/indexes/:indexUid/search', { config: { action: 'search' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    return search(uid, searchQueryFromGet(req.query as QueryParams), req.authCtx, wantsSearchMetadata(req.headers['meili-include-metadata']));
  });

  app.post<{ Params: UidParams }>('/indexes/:indexUid/facet-search', { config: { action: 'search' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    const q = parseFacetSearchQuery(jsonBody(req));
    checkFilterFeatures(ctx, q.filter);
    return registry.require(uid).search.facetSearch(withRules(q, req.authCtx, uid), uid);
  });

  app.post('/multi-search', { config: { action: 'search' } }, async (req) => {
    const started = Date.now();
    const multi = parseMultiSearch(jsonBody(req));
    const auth = req.authCtx;
    const metadata = multi.federation === undefined && wantsSearchMetadata(req.headers['meili-include-metadata']);
    const inside = <T>(i: number, f: () => T): T => {
      try {
        return f();
      } catch (err) {
        throw err instanceof MeiliError ? insideQuery(i, err) : err;
      }
    };
    const allowed = (uid: string): void => {
      if (auth !== null && !auth.allowsIndex(uid)) throw new MeiliError('invalid_api_key', 'The provided API key is invalid.');
    };
    if (multi.federation === undefined) {
      const run = (q: SearchQueryWithIndex, i: number): SearchResponse =>
        inside(i, () => {
          allowed(q.indexUid);
          const { indexUid, federationOptions: _f, ...query } = q;
          return search(indexUid, query, auth, metadata);
        });
      return { results: multi.queries.map((q, i) => ({ indexUid: q.indexUid, ...run(q, i) })) };
    }
    const part = (q: SearchQueryWithIndex, i: number): QueryPart =>
      inside(i, () => {
        allowed(q.indexUid);
        const { indexUid, federationOptions: _f, ...query } = q;
        checkFilterFeatures(ctx, query.filter);
        const idx = registry.require(indexUid);
        const matches = idx.search.searchMatches(withRules(query, auth, indexUid), indexUid);
        presentHits(matches.response.hits, query.retrieveVectors === true, Object.keys(idx.settings.embedders));
        return { position: i, index: idx, matches };
      });
    const timer = new ProgressTimer();
    const fed = multi.federation;
    const answer = timer.step('search', () => {
      // Every query is asked for enough hits to fill the federation's page, with ranking details.
      const want = federationWant(fed);
      const parts = multi.queries.map((q, i) => part({ ...q, offset: 0, limit: want, showRankingScore: true, showRankingScoreDetails: true }, i));
      const merged = federated(multi.queries, fed, parts, Date.now() - started);
      return { ...merged, ...federatedFacets(fed, parts, inside), processingTimeMs: Date.now() - started };
    });
    return fed.showPerformanceDetails === true ? withPerformanceDetails(answer, timer.trace()) : answer;
  });
}

/** One query of a federated search, run: its index and what it matched. */
interface QueryPart {
  position: number;
  index: EngineIndex;
  matches: SearchMatches;
}

/** Each index's queries, in query order. */
function partsByIndex(parts: readonly QueryPart[]): Map<string, QueryPart[]> {
  const out = new Map<string, QueryPart[]>();
  for (const p of parts) {
    const list = out.get(p.index.uid);
    if (list === undefined) out.set(p.index.uid, [p]);
    else list.push(p);
  }
  return out;
}

/** The documents the queries of one index matched, together (meilisearch `candidates |= query_candidates`). */
function unionOf(parts: readonly QueryPart[]): Int32Array {
  const set = new Set<number>();
  for (const p of parts) for (let i = 0; i < p.matches.candidates.length; i++) set.add(p.matches.candidates[i]);
  return Int32Array.from(set).sort();
}

/** Hits each query of a federated search must give to fill the federation's page. */
function federationWant(fed: Federation): number {
  const finite = fed.page !== undefined || fed.hitsPerPage !== undefined;
  return finite ? (fed.page ?? 1) * (fed.hitsPerPage ?? 20) : (fed.offset ?? 0) + (fed.limit ?? 20);
}

/**
 * A federated multi-search (meilisearch `federated/perform.rs`) from its queries' answers, merged
 * in the order one index would give them. A document several queries of one index return is
 * shown once, and such an index counts the union of the queries' matches in the total.
 */
function federated(queries: SearchQueryWithIndex[], fed: Federation, parts: readonly QueryPart[], elapsed: number): FederatedResponse {
  const finite = fed.page !== undefined || fed.hitsPerPage !== undefined;
  const sources: FederatedSource[] = parts.map((p, i) => ({
    indexUid: queries[i].indexUid,
    queryPosition: queries[i].federationOptions?.queryPosition ?? i,
    weight: queries[i].federationOptions?.weight ?? 1,
    response: p.matches.response,
    hitKeys: p.matches.hitIids,
  }));
  let total = 0;
  for (const list of partsByIndex(parts).values()) {
    const r = list[0].matches.response;
    total +=
      list.length === 1
        ? (r.totalHits ?? r.estimatedTotalHits ?? 0)
        : Math.min(unionOf(list).length, list[0].index.settings.pagination.maxTotalHits);
  }
  const paging = finite
    ? { ...(fed.page === undefined ? {} : { page: fed.page }), ...(fed.hitsPerPage === undefined ? {} : { hitsPerPage: fed.hitsPerPage }) }
    : { ...(fed.offset === undefined ? {} : { offset: fed.offset }), ...(fed.limit === undefined ? {} : { limit: fed.limit }) };
  return federatedMerge(sources, paging, {
    showRankingScore: queries.some((q) => q.showRankingScore === true),
    showRankingScoreDetails: queries.some((q) => q.showRankingScoreDetails === true),
    processingTimeMs: elapsed,
    estimatedTotalHits: total,
  });
}

type Distribution = Record<string, Record<string, number>>;
type Stats = Record<string, { min: number; max: number }>;

/** Code-point order of two strings (Rust's `str` order). */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `facetsByIndex` of a federated search, or with `mergeFacets` the merged `facetDistribution` and
 * `facetStats` instead: each index's facets are computed over the union of the documents matched
 * by the queries that target it (meilisearch `federated/perform.rs`); merged, counts add up per
 * value, values are ordered as the facet's `sortFacetValuesBy` says and cut to
 * `mergeFacets.maxValuesPerFacet` only when it is given (`federated/types.rs`).
 */
function federatedFacets(
  fed: Federation,
  parts: readonly QueryPart[],
  inside: <T>(i: number, f: () => T) => T,
): Record<string, unknown> {
  const byIndex = fed.facetsByIndex;
  if (byIndex === undefined || byIndex === null) return {};
  const ofIndex = partsByIndex(parts);
  const out: Record<string, { distribution: Distribution; stats: Stats }> = {};
  for (const [uid, names] of Object.entries(byIndex)) {
    const list = ofIndex.get(uid);
    if (list === undefined) {
      throw new MeiliError(
        'invalid_multi_search_facets_by_index',
        `Inside \`.federation.facetsByIndex.${uid}\`: Index \`${uid}\` is not used in queries.`,
      );
    }
    if (names === null || names.length === 0) {
      out[uid] = { distribution: {}, stats: {} };
      continue;
    }
    out[uid] = inside(list[0].position, () => list[0].index.search.facetsOf(names, unionOf(list)));
  }
  if (fed.mergeFacets === undefined || fed.mergeFacets === null) return { facetsByIndex: out };
  const max = fed.mergeFacets.maxValuesPerFacet;
  const dist: Distribution = {};
  const stats: Stats = {};
  const order = new Map<string, 'alpha' | 'count'>();
  for (const [uid, { distribution, stats: st }] of Object.entries(out)) {
    const sortBy = ofIndex.get(uid)![0].index.settings.faceting.sortFacetValuesBy;
    for (const [facet, values] of Object.entries(distribution)) {
      if (!order.has(facet)) order.set(facet, sortBy[facet] ?? sortBy['*'] ?? 'alpha');
      const d = (dist[facet] ??= {});
      for (const [v, n] of Object.entries(values)) d[v] = (d[v] ?? 0) + n;
    }
    for (const [facet, { min, max: mx }] of Object.entries(st)) {
      const cur = stats[facet];
      stats[facet] = cur === undefined ? { min, max: mx } : { min: Math.min(cur.min, min), max: Math.max(cur.max, mx) };
    }
  }
  const sorted: Distribution = {};
  for (const facet of Object.keys(dist).sort(byCodePoint)) {
    const entries = Object.entries(dist[facet]);
    if (order.get(facet) === 'count') entries.sort((a, b) => b[1] - a[1] || byCodePoint(a[0], b[0]));
    else entries.sort((a, b) => byCodePoint(a[0], b[0]));
    sorted[facet] = Object.fromEntries(max === undefined ? entries : entries.slice(0, max));
  }
  const sortedStats: Stats = {};
  for (const facet of Object.keys(stats).sort(byCodePoint)) sortedStats[facet] = stats[facet];
  return { facetDistribution: sorted, facetStats: sortedStats };
}
