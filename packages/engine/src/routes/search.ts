/**
 * `POST|GET /indexes/{uid}/search`, `POST /indexes/{uid}/facet-search`, `POST /multi-search`.
 * Tenant-token search rules are ANDed onto the query's filter.
 *
 * @see https://www.meilisearch.com/docs/reference/api/search/search-with-post
 */
import type { FastifyInstance } from 'fastify';
import {
  insideQuery,
  MeiliError,
  parseFacetSearchQuery,
  parseMultiSearch,
  parseSearchQuery,
  searchQueryFromGet,
} from '@miroir/protocol';
import type { Federation, SearchQuery, SearchQueryWithIndex, SearchResponse } from '@miroir/protocol';
import { federatedMerge } from '@miroir/search';
import type { FederatedSource } from '@miroir/search';
import type { EngineContext } from '../context.js';
import { checkIndexUid, jsonBody, param } from '../http.js';
import type { QueryParams } from '../http.js';
import { presentHits } from '../documents-view.js';
import type { AuthContextPort } from '../ports.js';

type UidParams = { indexUid: string };

/** ANDs two filters (string or array form) as one array-form filter. */
export function andFilters(a: unknown, b: unknown): unknown {
  const empty = (f: unknown) => f === null || f === undefined || f === '' || (Array.isArray(f) && f.length === 0);
  if (empty(a)) return b;
  if (empty(b)) return a;
  const parts = (f: unknown): unknown[] => (Array.isArray(f) ? f : [f]);
  return [...parts(a), ...parts(b)];
}

function withRules<Q extends { filter?: unknown }>(q: Q, auth: AuthContextPort | null, uid: string): Q {
  if (auth === null) return q;
  const rule = auth.searchFilter(uid);
  if (rule === null || rule === undefined) return q;
  return { ...q, filter: andFilters(rule, q.filter) };
}

export function registerSearchRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const { registry } = ctx;

  const search = (uid: string, q: SearchQuery, auth: AuthContextPort | null): SearchResponse => {
    const res = registry.require(uid).search.search(withRules(q, auth, uid), uid);
    presentHits(res.hits, q.retrieveVectors === true);
    return res;
  };

  app.post<{ Params: UidParams }>('/indexes/:indexUid/search', { config: { action: 'search' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    return search(uid, parseSearchQuery(jsonBody(req)), req.authCtx);
  });

  app.get<{ Params: UidParams }>('/indexes/:indexUid/search', { config: { action: 'search' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    const raw = req.query as QueryParams;
    const flat: Record<string, string> = {};
    for (const k of Object.keys(raw)) flat[k] = param(raw, k)!;
    return search(uid, searchQueryFromGet(flat), req.authCtx);
  });

  app.post<{ Params: UidParams }>('/indexes/:indexUid/facet-search', { config: { action: 'search' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    const q = parseFacetSearchQuery(jsonBody(req));
    return registry.require(uid).search.facetSearch(withRules(q, req.authCtx, uid), uid);
  });

  app.post('/multi-search', { config: { action: 'search' } }, async (req) => {
    const started = Date.now();
    const multi = parseMultiSearch(jsonBody(req));
    const auth = req.authCtx;
    const run = (q: SearchQueryWithIndex, i: number): SearchResponse => {
      try {
        if (auth !== null && !auth.allowsIndex(q.indexUid)) {
          throw new MeiliError('invalid_api_key', 'The provided API key is invalid.');
        }
        const { indexUid, federationOptions: _f, ...query } = q;
        return search(indexUid, query, auth);
      } catch (err) {
        throw err instanceof MeiliError ? insideQuery(i, err) : err;
      }
    };
    if (multi.federation === undefined) {
      return { results: multi.queries.map((q, i) => ({ indexUid: q.indexUid, ...run(q, i) })) };
    }
    return federated(multi.queries, multi.federation, run, Date.now() - started);
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
