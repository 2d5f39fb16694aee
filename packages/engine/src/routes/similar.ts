/**
 * `POST|GET /indexes/{uid}/similar`: documents whose embeddings are closest to a given
 * document's (reference §5.5). Parameter codes follow meilisearch `routes/indexes/similar.rs`
 * (`invalid_similar_*`); messages follow deserr as the search parameters do.
 *
 * @see https://www.meilisearch.com/docs/reference/api/similar/get-similar-documents-with-post
 */
import type { FastifyInstance } from 'fastify';
import { fuseFilters, parseSimilarBody, parseSimilarParams, ProgressTimer, withPerformanceDetails } from '@miroir/protocol';
import type { SimilarQuery } from '@miroir/protocol';
import type { EngineContext } from '../context.js';
import { checkIndexUid, jsonBody, param, type QueryParams } from '../http.js';
import { presentHits } from '../documents-view.js';
import { checkFilterFeatures } from '../features.js';

type UidParams = { indexUid: string };

/** Registers `POST` and `GET /indexes/:indexUid/similar` (action `search`). */
export function registerSimilarRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const run = (uid: string, q: SimilarQuery, auth: { searchFilter(uid: string): unknown } | null): unknown => {
    const timer = new ProgressTimer();
    const res = timer.step('search', () => {
      checkFilterFeatures(ctx, q.filter);
      const idx = ctx.registry.require(uid);
      const filter = fuseFilters(q.filter, auth?.searchFilter(uid));
      const found = idx.search.similar({ ...q, ...(filter === undefined ? {} : { filter }) }, idx.ids.get(q.id), uid);
      presentHits(found.hits, q.retrieveVectors === true, Object.keys(idx.settings.embedders));
      return found;
    });
    // Meilisearch's `SimilarResult` ends with `performanceDetails` when asked for.
    return q.showPerformanceDetails === true ? withPerformanceDetails(res, timer.trace()) : res;
  };

  app.post<{ Params: UidParams }>('/indexes/:indexUid/similar', { config: { action: 'search' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    return run(uid, parseSimilarBody(jsonBody(req)), req.authCtx);
  });

  app.get<{ Params: UidParams }>('/indexes/:indexUid/similar', { config: { action: 'search' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    const raw = req.query as QueryParams;
    const flat: Record<string, string> = {};
    for (const k of Object.keys(raw)) flat[k] = param(raw, k)!;
    return run(uid, parseSimilarParams(flat), req.authCtx);
  });
}
