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
import type { FederatedSource } from '@miroir/search';
import type { EngineContext } from '../context.js';
import { checkIndexUid, jsonBody, param } from '../http.js';
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
    const raw = req.query as QueryParams;
    const flat: Record<string, string> = {};
    for (const k of Object.keys(raw)) flat[k] = param(raw, k)!;
    return search(uid, searchQueryFromGet(flat), req.authCtx, wantsSearchMetadata(req.headers['meili-include-metadata']));
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
    const run = (q: SearchQueryWithIndex, i: number): SearchResponse => {
      try {
        if (auth !== null && !auth.allowsIndex(q.indexUid)) {
          throw new MeiliError('invalid_api_key', 'The provided API key is invalid.');
        }
        const { indexUid, federationOptions: _f, ...query } = q;
        return search(indexUid, query, auth, metadata);
      } catch (err) {
        throw err instanceof MeiliError ? insideQuery(i, err) : err;
      }
    };
    if (multi.federation === undefined) {
      return { results: multi.queries.map((q, i) => ({ indexUid: q.indexUid, ...run(q, i) })) };
    }
    const timer = new ProgressTimer();
    const fed = multi.federation;
    const answer = timer.step('search', () => {
      const merged = federated(multi.queries, fed, run, Date.now() - started) as Record<string, unknown>;
      const facets = federatedFacets(multi.queries, fed, run);
      return { ...merged, ...facets, processingTimeMs: Date.now() - started };
    });
    return fed.showPerformanceDetails === true ? withPerformanceDetails(answer, timer.trace()) : answer;
  });
}

/**
 * A federated multi-search: every query is asked for enough hits to fill the federation's page,
 * with ranking details so the hits can be merged in the order one index would give them.
 */
function federated(
  queries: SearchQueryWithIndex[],
  fed: Federation,
  run: (q: SearchQueryWithIndex, i: number) => SearchResponse,
  elapsed: number,
): unknown {
  const finite = fed.page !== undefined || fed.hitsPerPage !== undefined;
  const want = finite ? (fed.page ?? 1) * (fed.hitsPerPage ?? 20) : (fed.offset ?? 0) + (fed.limit ?? 20);
  const sources: FederatedSource[] = queries.map((q, i) => ({
    indexUid: q.indexUid,
    queryPosition: q.federationOptions?.queryPosition ?? i,
    weight: q.federationOptions?.weight ?? 1,
    response: run({ ...q, offset: 0, limit: want, showRankingScore: true, showRankingScoreDetails: true }, i),
  }));
  const paging = finite
    ? { ...(fed.page === undefined ? {} : { page: fed.page }), ...(fed.hitsPerPage === undefined ? {} : { hitsPerPage: fed.hitsPerPage }) }
    : { ...(fed.offset === undefined ? {} : { offset: fed.offset }), ...(fed.limit === undefined ? {} : { limit: fed.limit }) };
  return federatedMerge(sources, paging, {
    showRankingScore: queries.some((q) => q.showRankingScore === true),
    showRankingScoreDetails: queries.some((q) => q.showRankingScoreDetails === true),
    processingTimeMs: elapsed,
  });
}

type Distribution = Record<string, Record<string, number>>;
type Stats = Record<string, { min: number; max: number }>;

/**
 * `facetsByIndex` (and, with `mergeFacets`, the merged `facetDistribution`/`facetStats`) of a
 * federated search: each index's facets are computed on the first query that targets it.
 */
function federatedFacets(
  queries: SearchQueryWithIndex[],
  fed: Federation,
  run: (q: SearchQueryWithIndex, i: number) => SearchResponse,
): Record<string, unknown> {
  const byIndex = fed.facetsByIndex;
  if (byIndex === undefined || byIndex === null) return {};
  const out: Record<string, { distribution: Distribution; stats: Stats }> = {};
  for (const [uid, names] of Object.entries(byIndex)) {
    const i = queries.findIndex((q) => q.indexUid === uid);
    if (i < 0) {
      throw new MeiliError(
        'invalid_multi_search_facets_by_index',
        `Inside \`.federation.facetsByIndex.${uid}\`: Index \`${uid}\` is not used in queries.`,
      );
    }
    if (names === null || names.length === 0) {
      out[uid] = { distribution: {}, stats: {} };
      continue;
    }
    const { federationOptions: _f, ...q } = queries[i];
    const res = run({ ...q, facets: names, offset: 0, limit: 0 } as SearchQueryWithIndex, i);
    out[uid] = { distribution: res.facetDistribution ?? {}, stats: (res.facetStats ?? {}) as Stats };
  }
  if (fed.mergeFacets === undefined || fed.mergeFacets === null) return { facetsByIndex: out };
  const max = fed.mergeFacets.maxValuesPerFacet ?? 100;
  const dist: Distribution = {};
  const stats: Stats = {};
  for (const { distribution, stats: st } of Object.values(out)) {
    for (const [facet, values] of Object.entries(distribution)) {
      const d = (dist[facet] ??= {});
      for (const [v, n] of Object.entries(values)) d[v] = (d[v] ?? 0) + n;
    }
    for (const [facet, { min, max: mx }] of Object.entries(st)) {
      const cur = stats[facet];
      stats[facet] = cur === undefined ? { min, max: mx } : { min: Math.min(cur.min, min), max: Math.max(cur.max, mx) };
    }
  }
  for (const facet of Object.keys(dist)) {
    const sorted = Object.keys(dist[facet]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, max);
    const capped: Record<string, number> = {};
    for (const v of sorted) capped[v] = dist[facet][v];
    dist[facet] = capped;
  }
  return { facetsByIndex: out, facetDistribution: dist, facetStats: stats };
}
