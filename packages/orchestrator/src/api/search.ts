/**
 * Search (spec S2.6): one covering set, scatter with the shard filter, merge in single-node order.
 * Also facet search and `/multi-search` (plain form: each query is one scatter/gather).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  indexNotFound,
  insideQuery,
  MeiliError,
  parseFacetSearchQuery,
  parseMultiSearch,
  parseSearchQuery,
  searchMetadata,
  searchQueryFromGet,
  wantsSearchMetadata,
  type FacetSearchQuery,
  type FacetSearchResponse,
  type ComputedFacets,
  type SearchQuery,
  type SearchResponse,
  fuseFilters,
} from '@miroir/protocol';
import { isAttributeFilterable } from '@miroir/filter';
import type { IndexInfo } from '../catalog.js';
import { coveringSet, type CoveringSet } from '../core/covering.js';
import { aliasReservedParams, checkReservedFilter, mayMatchReserved, mentionsReserved, nodeSearchOn, type ReservedAliases } from '../core/reserved-search.js';
import { withoutReservedFilterable, withoutReservedInMessage } from '../core/reserved-settings.js';
import { mergeFacetSearch } from '../core/facets.js';
import { indexFacetsOf, mergeFederated, nodeFederatedBody, type FederatedQueryInput, type IndexFacetsInput } from '../core/federated.js';
import { ReadRoute } from '../core/read-key.js';
import {
  andShardFilter,
  keywordSideQuery,
  mergeHybridSearch,
  mergeSearch,
  nodeSearchBody,
  SearchKind,
  searchKind,
  type NodeSearchResponse,
  type SearchContext,
} from '../core/search-merge.js';
import { MAX_OVER_FETCH_FACTOR } from '../config.js';
import { withClusterTiming, type NodeTiming } from '../core/timing.js';
import { miroirError } from '../errors.js';
import type { AppContext } from './context.js';
import { NodeHttpError, type NodeRequest } from '../nodes/node-client.js';
import type { NodeCall } from '../reads/read-path.js';
import { noteAlias, type Access } from './auth.js';
import { callEach } from './fanout.js';
import { jsonBody } from './http.js';
import { awaitWrite, gatedCover, hedgeCover, readGate, type ReadGate } from './settings-consistency.js';
import { enc, uidParam } from './indexes.js';
import { aliasedQueries, multiAliasOf } from '../aliases/routes.js';
import { PlanCache, planShards, type ShardPlan } from '../core/planner.js';
import type { AliasRow } from '../aliases/registry.js';
import { CACHE_HEADER, type ReadAnswer, type ReadOutcome } from './read-cache.js';
import { BatchDeadline, type QueryRunner } from './batch-deadline.js';

/** Per index snapshot: an IndexInfo is replaced, never mutated, when its settings change. */
const contexts = new WeakMap<IndexInfo, SearchContext>();

/**
 * `query` with one parameter replaced (removed when undefined). A copy loop, not a spread plus an
 * assignment, for the reason given at `nodeSearchBody`.
 */
function withParam<Q extends object>(query: Q, key: string, value: unknown): Q {
  const out: Record<string, unknown> = {};
  const src = query as Record<string, unknown>;
  for (const k in src) if (k !== key) out[k] = src[k];
  if (value !== undefined) out[key] = value;
  return out as Q;
}

/** Per catalog (one per running Miroir), per index: the nodes' searchable field names and the generation they were read at. */
const fieldLists = new WeakMap<object, Map<string, { generation: number; at: number; fields: Promise<readonly string[] | null> }>>();

/** A field list is read again after this long even when no change was announced (a lost event). */
const FIELDS_MAX_AGE_MS = 60_000;

/**
 * Every searchable field name the nodes hold for the index (union over the healthy nodes, as
 * `POST /indexes/{uid}/fields` lists them), or null when no node answered. Read again when the
 * index's catalog generation moves (any task on it finished, here or on another orchestrator), so a
 * field brought by a document task is known before a client can see that task succeed.
 */
function searchableFields(ctx: AppContext, info: IndexInfo): Promise<readonly string[] | null> {
  const generation = ctx.catalog.generation(info.uid);
  let lists = fieldLists.get(ctx.catalog);
  if (lists === undefined) fieldLists.set(ctx.catalog, (lists = new Map()));
  const cached = lists.get(info.uid);
  if (cached !== undefined && cached.generation === generation && Date.now() - cached.at < FIELDS_MAX_AGE_MS) return cached.fields;
  const fields = loadSearchableFields(ctx, info.uid);
  lists.set(info.uid, { generation, at: Date.now(), fields });
  return fields;
}

/** The fields route pages; an index has at most 2^16 fields (milli field ids are u16). */
const MAX_FIELDS = 65_536;

async function loadSearchableFields(ctx: AppContext, uid: string): Promise<readonly string[] | null> {
  const { cluster } = ctx;
  const ids = [...cluster.nodes.keys()].filter((id) => cluster.health.isHealthy(id));
  const results = await callEach<{ results: { name: string }[] }>(cluster, ids, {
    method: 'POST',
    path: `/indexes/${enc(uid)}/fields`,
    body: { offset: 0, limit: MAX_FIELDS, filter: { searchable: true } },
  });
  const names = new Set<string>();
  let answered = false;
  for (const r of results) {
    if (r.ok === undefined || !Array.isArray(r.ok.body.results)) continue;
    answered = true;
    for (const f of r.ok.body.results) if (typeof f?.name === 'string') names.add(f.name);
  }
  if (!answered) ctx.log.warn({ index: uid }, 'no node listed its fields: reserved fields may match this search');
  return answered ? [...names] : null;
}

type NodeQueryShape = { q?: string | null; attributesToSearchOn?: string[]; filter?: unknown; facets?: string[]; distinct?: string; facetName?: string };

/**
 * The query as the nodes get it, so that reserved fields play no part (core/reserved-search.ts):
 * a filter naming one is refused as one node refuses it; `facets`, `distinct` or `facetName`
 * naming one go under a stand-in name the nodes refuse (`restore` turns their message back); and
 * `attributesToSearchOn` leaves them out of what is searched. The merge still reads the client's
 * query.
 */
async function nodeQuery<Q extends NodeQueryShape>(ctx: AppContext, info: IndexInfo, query: Q): Promise<ReservedAliases<Q>> {
  const s = info.settings;
  let aliased: ReservedAliases<Q> = { query, restore: (m) => m };
  if (mentionsReserved(query.filter) || mentionsReserved(query.facets) || mentionsReserved(query.distinct) || mentionsReserved(query.facetName)) {
    const clientRules = withoutReservedFilterable(s.filterableAttributes);
    checkReservedFilter(query.filter, clientRules, info.uid, 'invalid_search_filter');
    aliased = aliasReservedParams(query, clientRules, s.filterableAttributes);
  }
  const synonyms = Object.keys(s.synonyms).length > 0;
  if (!mayMatchReserved(query.q, synonyms)) return aliased;
  const fields = s.searchableAttributes.includes('*') ? await searchableFields(ctx, info) : null;
  const on = nodeSearchOn(query, { searchableAttributes: s.searchableAttributes, fields, synonyms });
  return on === undefined ? aliased : { query: withParam(aliased.query, 'attributesToSearchOn', on), restore: aliased.restore };
}

/** Runs a scatter, a node's refusal reworded by `restore` (stand-in names back to the client's). */
async function restoring<T>(restore: (message: string) => string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof NodeHttpError) throw new NodeHttpError(e.nodeId, e.status, { ...e.body, message: restore(e.body.message) });
    throw e;
  }
}

export function searchContext(info: IndexInfo): SearchContext {
  let c = contexts.get(info);
  if (c === undefined) {
    c = buildSearchContext(info);
    contexts.set(info, c);
  }
  return c;
}

function buildSearchContext(info: IndexInfo): SearchContext {
  const distinct = info.settings.distinctAttribute;
  return {
    primaryKey: info.primaryKey ?? '',
    maxTotalHits: info.settings.pagination.maxTotalHits,
    distinctAttribute: distinct,
    distinctFilterable: distinct !== null && isAttributeFilterable(distinct, info.settings.filterableAttributes),
    maxValuesPerFacet: info.settings.faceting.maxValuesPerFacet,
    sortFacetValuesBy: info.settings.faceting.sortFacetValuesBy,
    customSortRules: info.settings.rankingRules.some((r) => r.endsWith(':asc') || r.endsWith(':desc')),
  };
}

/** Per-request override of `vector_search.over_fetch_factor` (spec S5.4, S13.12). */
export const OVER_FETCH_HEADER = 'x-miroir-over-fetch';

/**
 * The over-fetch factor of a search: `X-Miroir-Over-Fetch` when given (a number from 1 to
 * {@link MAX_OVER_FETCH_FACTOR}, else 400 `miroir_invalid_over_fetch`), else the configured one;
 * undefined while `vector_search` is disabled. Only semantic and hybrid queries use it.
 */
export function overFetchFactor(ctx: AppContext, req: FastifyRequest | undefined): number | undefined {
  const raw = req?.headers[OVER_FETCH_HEADER];
  let given: number | undefined;
  if (raw !== undefined) {
    const text = Array.isArray(raw) ? '' : raw.trim();
    given = text === '' ? NaN : Number(text);
    if (!Number.isFinite(given) || given < 1 || given > MAX_OVER_FETCH_FACTOR) {
      throw miroirError('miroir_invalid_over_fetch', `\`X-Miroir-Over-Fetch\` must be one number from 1 to ${MAX_OVER_FETCH_FACTOR}, got \`${String(raw)}\`.`);
    }
  }
  const vs = ctx.cluster.config.vector_search;
  return vs.enabled ? (given ?? vs.over_fetch_factor) : undefined;
}

/**
 * A search query whose `hybrid` gives no `semanticRatio` takes `vector_search.hybrid_alpha_default`
 * (the parsed query holds Meilisearch's 0.5 then; `given` says whether the client sent one).
 */
function withAlphaDefault(ctx: AppContext, query: SearchQuery, given: boolean): SearchQuery {
  const alpha = ctx.cluster.config.vector_search.hybrid_alpha_default;
  if (query.hybrid === undefined || given || query.hybrid.semanticRatio === alpha) return query;
  return withParam(query, 'hybrid', { ...query.hybrid, semanticRatio: alpha });
}

export interface Scatter<T> {
  answers: T[];
  /** Shards no node answered for. */
  missing: number[];
}

/**
 * Plans the covering set and sends each node its body. A node's HTTP error is the answer one
 * node would give (invalid filter, unknown attribute…) and is relayed verbatim; shards whose node
 * could not be reached are reported missing.
 */
export async function scatter<T>(
  ctx: AppContext,
  info: IndexInfo,
  body: (shards: readonly number[] | null) => Record<string, unknown>,
  path: string,
  gate?: ReadGate,
  /** The shards the read needs (the query planner's); default all. */
  needed?: readonly number[],
): Promise<Scatter<T>> {
  const { cluster } = ctx;
  const placement = cluster.placement(info.shards);
  const floor = gate?.floor;
  // Nodes whose settings are known to be the committed ones first (spec S13.5).
  const cover: CoveringSet = gatedCover(ctx, placement, info.uid, gate, needed === undefined ? {} : { shards: needed });
  const nodeIds = [...cover.nodes.keys()];
  await awaitWrite(ctx, gate, nodeIds);
  ctx.metrics.scatterFanOut.observe(nodeIds.length);
  // Nodes answering for every shard they hold all get the same body: built and encoded once.
  let shared: string | undefined;
  const requestOf = (set: CoveringSet, id: string): NodeRequest => {
    if (set.needsShardFilter(id)) return { method: 'POST', path, body: body(set.nodes.get(id)!) };
    shared ??= JSON.stringify(body(null));
    return { method: 'POST', path, raw: shared };
  };
  const readPath = ctx.readPath;
  const budget = readPath.budget();
  // A hedge asks the same shards of other replicas (spec S13.2), under the same settings gate.
  const hedges = readPath.canHedge(placement);
  const hedgeFor = (id: string) => async (): Promise<NodeCall[] | undefined> => {
    const alt = hedgeCover(ctx, placement, info.uid, gate, cover.nodes.get(id)!, id);
    if (alt === undefined) return undefined;
    await awaitWrite(ctx, gate, alt.nodes.keys());
    return [...alt.nodes.keys()].map((a) => ({ nodeId: a, req: requestOf(alt, a) }));
  };
  const results = await Promise.all(
    nodeIds.map(async (nodeId) => {
      try {
        return { nodeId, ok: await readPath.hedged<T>({ nodeId, req: requestOf(cover, nodeId) }, budget, hedges ? hedgeFor(nodeId) : undefined), error: undefined };
      } catch (error) {
        return { nodeId, ok: undefined, error };
      }
    }),
  );
  const answers: T[] = [];
  let lost: number[] = [];
  const failed = new Set<string>();
  for (const r of results) {
    if (r.ok) answers.push(...r.ok);
    else if (r.error instanceof NodeHttpError) throw r.error;
    else {
      failed.add(r.nodeId);
      lost.push(...cover.nodes.get(r.nodeId)!);
    }
  }
  // The shards of a node that could not be reached are asked once more of their other replicas
  // (in the group or another one), before health checks have marked the node failed.
  if (lost.length > 0) {
    const retry = coveringSet(placement, {
      seq: cluster.nextSeq(),
      eligible: (id) => !failed.has(id) && cluster.health.isHealthy(id) && (floor === undefined || floor(id)),
      groupFallback: true,
      migrationInFlight: cluster.migrating,
      shards: lost,
    });
    const again = await Promise.all(
      [...retry.nodes.keys()].map((id) =>
        readPath.call<T>({ nodeId: id, req: { method: 'POST', path, body: body(retry.nodes.get(id)!) } }).then(
          (ok) => ({ nodeId: id, ok, error: undefined }),
          (error: unknown) => ({ nodeId: id, ok: undefined, error }),
        ),
      ),
    );
    lost = [...retry.uncovered];
    for (const r of again) {
      if (r.ok !== undefined) answers.push(r.ok);
      else if (r.error instanceof NodeHttpError) throw r.error;
      else lost.push(...retry.nodes.get(r.nodeId)!);
    }
    ctx.metrics?.scatterRetries.inc(retry.nodes.size);
  }
  const missing = [...cover.uncovered, ...lost].sort((a, b) => a - b);
  if (missing.length > 0 && cluster.config.scatter.unavailable_shard_policy === 'error') {
    throw miroirError('miroir_shard_unavailable', `No node can serve shard(s) ${missing.join(', ')} right now.`);
  }
  return { answers, missing };
}

/**
 * Runs `merge` over the nodes' answers and gives its result the cluster's `processingTimeMs` and,
 * with `details`, `performanceDetails` (core/timing.ts): the merge is the part Miroir times.
 */
export function timedMerge<R extends { processingTimeMs: number }>(answers: readonly NodeTiming[], merge: () => R, details?: { before?: string }): R {
  const t0 = performance.now();
  const res = merge();
  return withClusterTiming(res, answers, performance.now() - t0, details);
}

export async function indexFor(ctx: AppContext, uid: string): Promise<IndexInfo> {
  const info = await ctx.catalog.get(uid);
  if (info === undefined) throw indexNotFound(uid);
  return info;
}

/**
 * One search against one index, merged; `missing` lists shards nobody answered for. With `req`, the
 * answer may be shared with identical searches (api/read-cache.ts; `outcome` says how it was served).
 */
export async function searchIndex(
  ctx: AppContext,
  uid: string,
  query: SearchQuery,
  access: Access,
  metadata = false,
  gate?: ReadGate,
  req?: FastifyRequest,
): Promise<ReadAnswer<SearchResponse> & { outcome?: ReadOutcome }> {
  const info = await indexFor(ctx, uid);
  const overFetch = overFetchFactor(ctx, req);
  const run = () => searchOnce(ctx, info, query, access, metadata, gate, overFetch);
  if (req === undefined || !ctx.reads.active) return run();
  return ctx.reads.read(req, ReadRoute.search, info, query, access, metadata, run);
}

async function searchOnce(
  ctx: AppContext,
  info: IndexInfo,
  query: SearchQuery,
  access: Access,
  metadata: boolean,
  gate: ReadGate | undefined,
  overFetch: number | undefined,
): Promise<ReadAnswer<SearchResponse>> {
  const uid = info.uid;
  const tenant = access.searchFilter(uid);
  const filtered = tenant === null || tenant === undefined ? query : withParam(query, 'filter', fuseFilters(query.filter, tenant));
  const { query: q, restore } = await nodeQuery(ctx, info, filtered);
  const kind = searchKind(q);
  const base = searchContext(info);
  // Spec S13.12: semantic and hybrid queries are over-fetched, keyword queries never.
  const sctx = overFetch === undefined || kind === SearchKind.keyword ? base : { ...base, overFetchFactor: overFetch };
  if (sctx.overFetchFactor !== undefined && sctx.overFetchFactor > 1) ctx.metrics?.vectorOverFetched.inc();
  const needed = neededShards(ctx, info, filtered.filter);
  const path = `/indexes/${enc(uid)}/search`;
  const run = (nq: SearchQuery) => scatter<NodeSearchResponse>(ctx, info, (shards) => nodeSearchBody(nq, sctx, shards), path, gate, needed);
  const extras = { processingTimeMs: 0, ...(metadata ? { metadata: searchMetadata(uid, info.primaryKey) } : {}) };
  const timing = query.showPerformanceDetails === true ? { before: 'semanticHitCount' } : undefined;
  if (kind === SearchKind.hybrid && ctx.cluster.config.vector_search.enabled) {
    // The keyword half beside the hybrid search: the "good enough" decision is the index's.
    const [hy, kw] = await restoring(restore, () => Promise.all([run(q), run(keywordSideQuery(q))]));
    const response = timedMerge([...hy.answers, ...kw.answers], () => mergeHybridSearch(query, sctx, hy.answers, kw.answers, extras), timing);
    return { response, missing: [...new Set([...hy.missing, ...kw.missing])].sort((a, b) => a - b) };
  }
  const { answers, missing } = await restoring(restore, () => run(q));
  const response = timedMerge(answers, () => mergeSearch(query, sctx, answers, extras), timing);
  return { response, missing };
}

/**
 * One facet search, merged. Shared with identical facet searches like a search (facet polling is
 * what the result cache is for).
 */
async function facetSearch(ctx: AppContext, req: FastifyRequest, uid: string, query: FacetSearchQuery, access: Access): Promise<ReadAnswer<FacetSearchResponse> & { outcome?: ReadOutcome }> {
  const info = await indexFor(ctx, uid);
  const gate = await readGate(ctx, req, uid);
  const run = async (): Promise<ReadAnswer<FacetSearchResponse>> => {
    const filter = fuseFilters(query.filter, access.searchFilter(uid));
    const forNodes = await nodeQuery(ctx, info, query);
    const { answers, missing } = await restoring(forNodes.restore, () =>
      scatter<FacetSearchResponse>(
        ctx,
        info,
        (shards) => {
          const body: Record<string, unknown> = { ...forNodes.query };
          const f = shards === null ? filter : andShardFilter(filter, shards);
          if (f === undefined) delete body.filter;
          else body.filter = f;
          return body;
        },
        `/indexes/${enc(uid)}/facet-search`,
        gate,
        neededShards(ctx, info, filter),
      ),
    );
    return { response: timedMerge(answers, () => mergeFacetSearch(query.facetName, query.facetQuery, answers, searchContext(info), 0)), missing };
  };
  if (!ctx.reads.active) return run();
  return ctx.reads.read(req, ReadRoute.facetSearch, info, query, access, false, run);
}

/** The diagnostic header of a shared read (api/read-cache.ts). */
function noteOutcome(reply: FastifyReply, outcome: ReadOutcome | undefined): void {
  if (outcome !== undefined) reply.header(CACHE_HEADER, outcome);
}

export function degrade(reply: FastifyReply, missing: readonly number[]): void {
  if (missing.length > 0) reply.header('x-miroir-degraded', `shards=${missing.join(',')}`);
}

export function registerSearchRoutes(app: FastifyInstance, ctx: AppContext): void {
  /** The key is checked before the query is read, as Meilisearch's extractors do. */
  const run = async (req: FastifyRequest, reply: FastifyReply, readQuery: () => SearchQuery) => {
    const uid = uidParam(req);
    const multi = multiAliasOf(req);
    if (multi !== undefined) return searchMultiAlias(ctx, req, reply, multi, readQuery);
    const access = await ctx.auth.client(req, 'search', uid);
    const query = readQuery();
    const gate = await readGate(ctx, req, uid);
    const { response, missing, outcome } = await searchIndex(ctx, uid, query, access, wantsSearchMetadata(req.headers['meili-include-metadata']), gate, req);
    degrade(reply, missing);
    noteOutcome(reply, outcome);
    return response;
  };

  app.post('/indexes/:uid/search', async (req, reply) => {
    return run(req, reply, () => {
      const raw = jsonBody(req) as { hybrid?: { semanticRatio?: unknown } } | null;
      return withAlphaDefault(ctx, parseSearchQuery(raw), raw?.hybrid?.semanticRatio !== undefined);
    });
  });

  app.get('/indexes/:uid/search', async (req, reply) => {
    const params = req.query as Record<string, string | string[] | undefined>;
    return run(req, reply, () => withAlphaDefault(ctx, searchQueryFromGet(params), params.hybridSemanticRatio !== undefined));
  });

  app.post('/indexes/:uid/facet-search', async (req, reply) => {
    const uid = uidParam(req);
    const access = await ctx.auth.client(req, 'search', uid);
    const query: FacetSearchQuery = parseFacetSearchQuery(jsonBody(req));
    const { response, missing, outcome } = await facetSearch(ctx, req, uid, query, access);
    degrade(reply, missing);
    noteOutcome(reply, outcome);
    return response;
  });

  /**
   * Plain form: each query is its own scatter/gather, answers in query order. Federated form: each
   * query is merged across its nodes, then the queries are merged by weighted score values, as one
   * node merges them. The first failing query fails the whole request. Each query runs within
   * `multi_search.per_query_timeout_ms`, the batch within `total_timeout_ms` (api/batch-deadline.ts).
   */
  app.post('/multi-search', async (req, reply) => {
    await ctx.auth.multiSearch(req);
    const limits = ctx.cluster.config.multi_search;
    if (!limits.enabled) throw miroirError('miroir_not_supported', 'Multi-search is disabled (`multi_search.enabled: false`).');
    const body = parseMultiSearch(jsonBody(req));
    const count = body.queries.length;
    if (count > limits.max_queries_per_batch) {
      throw miroirError(
        'miroir_multi_search_too_many_queries',
        `A multi-search holds at most ${limits.max_queries_per_batch} queries (\`multi_search.max_queries_per_batch\`); this one holds ${count}. Send them in several requests.`,
      );
    }
    const missingAll = new Set<number>();
    const federation = body.federation ?? null;
    const metrics = ctx.metrics;
    metrics?.multisearchQueriesPerBatch?.observe(count);
    metrics?.multisearchBatches?.labels(federation === null ? 'plain' : 'federated').inc();
    const deadline = new BatchDeadline(limits);
    try {
      if (federation !== null) {
        return await federatedSearch(ctx, req, reply, federation, aliasedQueries(ctx, req, body.queries, true), (uid) => ctx.auth.multiSearchQuery(req, uid), deadline.run);
      }
      const metadata = wantsSearchMetadata(req.headers['meili-include-metadata']);
      const results = await Promise.all(
        aliasedQueries(ctx, req, body.queries, false).map((q, i) =>
          deadline.run(i, () =>
            inQuery(i, async () => {
              const { indexUid, federationOptions: _f, ...query } = q;
              const access = await ctx.auth.multiSearchQuery(req, indexUid);
              const { response, missing } = await searchIndex(ctx, indexUid, query, access, metadata, await readGate(ctx, req, indexUid), req);
              for (const s of missing) missingAll.add(s);
              return { indexUid, ...response };
            }),
          ),
        ),
      );
      degrade(reply, [...missingAll].sort((a, b) => a - b));
      return { results };
    } catch (e) {
      metrics?.multisearchPartialFailures?.inc();
      throw e;
    } finally {
      deadline.close();
    }
  });
}

type MultiSearch = ReturnType<typeof parseMultiSearch>;

/** What a search's result window and facets become in a federated search. */
const WINDOW_AND_FACETS = new Set(['limit', 'offset', 'page', 'hitsPerPage', 'facets']);

/**
 * A search through an alias of several indexes (spec S13.7): one federated search over them
 * (every index weighted 1, facets merged), answered in the shape of one index's search (hits
 * without `_federation`, the `query` echoed).
 */
async function searchMultiAlias(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, alias: AliasRow, readQuery: () => SearchQuery) {
  await ctx.auth.client(req, 'search', null);
  const query = readQuery();
  for (const t of alias.targetUids) noteAlias(req, alias.name, t);
  const federation: NonNullable<MultiSearch['federation']> = {};
  for (const k of ['limit', 'offset', 'page', 'hitsPerPage'] as const) if (query[k] !== undefined) federation[k] = query[k];
  if (query.facets !== undefined) {
    federation.facetsByIndex = Object.fromEntries(alias.targetUids.map((t) => [t, query.facets!]));
    federation.mergeFacets = {};
  }
  const perIndex: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) if (!WINDOW_AND_FACETS.has(k)) perIndex[k] = v;
  const queries = alias.targetUids.map((indexUid) => ({ ...(perIndex as SearchQuery), indexUid }));
  const merged = (await federatedSearch(ctx, req, reply, federation, queries, (t) => ctx.auth.client(req, 'search', t))) as unknown as Record<string, unknown>;
  const { hits, processingTimeMs, facetsByIndex: _byIndex, ...rest } = merged;
  const plain = (hits as Record<string, unknown>[]).map(({ _federation: _f, ...hit }) => hit);
  return { hits: plain, query: query.q ?? '', processingTimeMs, ...rest };
}

/** Runs one query of a multi-search: its error names its position, as one node's does. */
async function inQuery<T>(i: number, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof NodeHttpError) {
      throw insideQuery(i, new MeiliError(e.body.code, withoutReservedInMessage(e.body.message), { status: e.status, type: e.body.type }));
    }
    throw e instanceof MeiliError ? insideQuery(i, e) : e;
  }
}

/** Runs a query's work without a time limit (a search through a multi-index alias). */
const unlimited: QueryRunner = (_i, work) => work();

/** One query of a federated search, as sent to its nodes and answered. */
interface PreparedQuery {
  /** Position in the request. */
  readonly position: number;
  readonly info: IndexInfo;
  readonly gate: ReadGate | undefined;
  /** The query as the nodes get it (reserved names under stand-ins, the tenant's filter fused). */
  readonly forNodes: SearchQuery;
  /** The client's filter fused with the tenant's (what the query planner reads). */
  readonly filter: unknown;
  /** Turns a node's message back into the client's names. */
  readonly restore: (message: string) => string;
  /** The index's `facetsByIndex` list as the nodes get it. */
  readonly facets: string[] | null | undefined;
  readonly input: FederatedQueryInput;
}

/**
 * A federated search: each query is merged across its nodes, then the queries are merged by
 * weighted score values, as one node merges them. `accessOf` decides each query's index, `limit`
 * runs each query under its time limits. The first failing query fails the whole request.
 */
async function federatedSearch(
  ctx: AppContext,
  req: FastifyRequest,
  reply: FastifyReply,
  federation: NonNullable<MultiSearch['federation']>,
  queries: MultiSearch['queries'],
  accessOf: (indexUid: string) => Promise<Access>,
  limit: QueryRunner = unlimited,
) {
  const missingAll = new Set<number>();
  const facetsByIndex = federation.facetsByIndex ?? {};
  const targeted = new Map<string, number>();
  for (const q of queries) targeted.set(q.indexUid, (targeted.get(q.indexUid) ?? 0) + 1);
  const prepared: PreparedQuery[] = await Promise.all(
    queries.map((q, i) =>
      limit(i, () =>
        inQuery(i, async (): Promise<PreparedQuery> => {
          const { indexUid, federationOptions, ...rest } = q;
          const access = await accessOf(indexUid);
          const info = await indexFor(ctx, indexUid);
          const query: SearchQuery = { ...rest, filter: fuseFilters(rest.filter, access.searchFilter(indexUid)) };
          if (query.filter === undefined) delete query.filter;
          const forNodes = await nodeQuery(ctx, info, query);
          // The index's `facetsByIndex` list is sent as the query's `facets`: reserved names get stand-ins too.
          const byIndex = facetsByIndex[indexUid];
          const facetsFor =
            byIndex !== undefined && byIndex !== null && mentionsReserved(byIndex)
              ? aliasReservedParams({ facets: byIndex }, withoutReservedFilterable(info.settings.filterableAttributes), info.settings.filterableAttributes)
              : undefined;
          const facets = facetsFor?.query.facets ?? byIndex;
          const restore = facetsFor === undefined ? forNodes.restore : (m: string) => facetsFor.restore(forNodes.restore(m));
          // An index several queries target gets its facets from the union of their matches (below).
          const ownFacets = targeted.get(indexUid) === 1 ? facets : undefined;
          const sctx = searchContext(info);
          const gate = await readGate(ctx, req, indexUid);
          const { answers, missing } = await restoring(restore, () =>
            scatter<NodeSearchResponse>(
              ctx,
              info,
              (shards) => {
                const b = nodeFederatedBody({ query: forNodes.query, ctx: sctx }, federation, shards);
                if (ownFacets) b.facets = ownFacets;
                if (federation.showPerformanceDetails === true) b.showPerformanceDetails = true;
                return b;
              },
              `/indexes/${enc(indexUid)}/search`,
              gate,
              neededShards(ctx, info, query.filter),
            ),
          );
          for (const s of missing) missingAll.add(s);
          return {
            position: i,
            info,
            gate,
            forNodes: forNodes.query,
            filter: query.filter,
            restore,
            facets,
            input: {
              indexUid,
              queriesPosition: federationOptions?.queryPosition ?? i,
              weight: federationOptions?.weight ?? 1,
              query,
              ctx: sctx,
              responses: answers,
            },
          };
        }),
      ),
    ),
  );
  const inputs = prepared.map((p) => p.input);
  // An index several queries target: its share of the total and its facets come from the union of
  // the documents the queries match, as one node computes them (asked of its nodes in one request).
  const byIndex = new Map<string, PreparedQuery[]>();
  for (const p of prepared) if ((targeted.get(p.input.indexUid) ?? 0) > 1) byIndex.set(p.input.indexUid, [...(byIndex.get(p.input.indexUid) ?? []), p]);
  const unions = new Map<string, IndexUnion>();
  await Promise.all(
    [...byIndex].map(async ([uid, parts]) => {
      const union = await limit(parts[0].position, () => indexUnion(ctx, parts, uid in facetsByIndex));
      for (const s of union.missing) missingAll.add(s);
      unions.set(uid, union);
    }),
  );
  const facetsOfIndexes = (): Record<string, IndexFacetsInput> => {
    const indexFacets: Record<string, IndexFacetsInput> = {};
    for (const uid of Object.keys(facetsByIndex)) {
      const input = inputs.find((x) => x.indexUid === uid);
      if (input === undefined) continue;
      const union = unions.get(uid);
      const responses: readonly NodeSearchResponse[] =
        union === undefined
          ? input.responses
          : union.answers.map((a) => ({ hits: [], facetDistribution: a.facetsByIndex?.[uid]?.distribution, facetStats: a.facetsByIndex?.[uid]?.stats }));
      indexFacets[uid] = {
        facets: indexFacetsOf(responses, input.ctx),
        sortFacetValuesBy: input.ctx.sortFacetValuesBy,
      };
    }
    return indexFacets;
  };
  degrade(reply, [...missingAll].sort((a, b) => a - b));
  const all = inputs.flatMap((x) => x.responses);
  const indexTotals = new Map([...unions].map(([uid, u]) => [uid, u.total]));
  return timedMerge(
    all,
    () => mergeFederated(federation, inputs, 0, facetsOfIndexes(), { indexTotals }),
    federation.showPerformanceDetails === true ? {} : undefined,
  );
}

/** What a node answers to the federated search of one index's queries (`limit: 0`). */
interface NodeUnionAnswer {
  estimatedTotalHits?: number;
  facetsByIndex?: Record<string, Partial<ComputedFacets>>;
}

/** The union of the matches of an index's queries: nodes' answers, the exact total, shards nobody answered for. */
interface IndexUnion {
  readonly answers: readonly NodeUnionAnswer[];
  readonly total: number;
  readonly missing: readonly number[];
}

/** The prefix a node gives the error of one query of a multi-search. */
const INSIDE_QUERY = /^Inside `\.queries\[(\d+)\]`: /;

/**
 * Asks each node of the covering set one federated search holding all `parts` (the queries of one
 * index, each restricted to the node's shards) with `limit: 0`: its total and facets are those of
 * the union of the queries' matches on its shards. A document lives on one shard, so the nodes'
 * totals add up to the union's and their facet counts merge as a search's do.
 */
async function indexUnion(ctx: AppContext, parts: readonly PreparedQuery[], withFacets: boolean): Promise<IndexUnion> {
  const { info, gate, input } = parts[0];
  const uid = input.indexUid;
  const facets = parts[0].facets;
  let needed: number[] | undefined = [];
  for (const p of parts) {
    const shards = neededShards(ctx, info, p.filter);
    needed = needed === undefined || shards === undefined ? undefined : [...new Set([...needed, ...shards])].sort((a, b) => a - b);
  }
  const restore = (m: string) => parts.reduce((acc, p) => p.restore(acc), m);
  try {
    const { answers, missing } = await scatter<NodeUnionAnswer>(
      ctx,
      info,
      (shards) => ({
        federation: { offset: 0, limit: 0, ...(withFacets ? { facetsByIndex: { [uid]: facets ?? null } } : {}) },
        queries: parts.map((p) => {
          const q: Record<string, unknown> = { indexUid: uid, ...p.forNodes };
          if (shards !== null) q.filter = andShardFilter(p.forNodes.filter, shards);
          return q;
        }),
      }),
      '/multi-search',
      gate,
      needed,
    );
    let total = 0;
    for (const a of answers) total += a.estimatedTotalHits ?? 0;
    return { answers, total: Math.min(total, input.ctx.maxTotalHits), missing };
  } catch (e) {
    if (!(e instanceof NodeHttpError)) throw e;
    // The node names a query by its place in the request it got: the client's is the part's.
    const inside = INSIDE_QUERY.exec(e.body.message);
    const part = inside === null ? parts[0] : (parts[Number(inside[1])] ?? parts[0]);
    const message = withoutReservedInMessage(restore(inside === null ? e.body.message : e.body.message.slice(inside[0].length)));
    throw insideQuery(part.position, new MeiliError(e.body.code, message, { status: e.status, type: e.body.type }));
  }
}

/** Per cluster (one per running Miroir): the query planner's cached plans (spec S13.4). */
const plans = new WeakMap<object, PlanCache>();

/**
 * The shards a read of `info` with this filter needs (spec S13.4): only those its pinned primary
 * keys hash to, when it pins them; undefined: every shard. The other shards hold no document the
 * filter can match, so the merged answer is the full fan-out's.
 */
export function neededShards(ctx: AppContext, info: IndexInfo, filter: unknown): number[] | undefined {
  const plan = shardPlan(ctx, info, filter);
  // A filter that can match nothing still asks every shard: the merge of no answer is not built.
  return plan.shards === null || plan.shards.length === 0 ? undefined : plan.shards;
}

/** The query planner's plan for a read of `info` with this filter (cached per index and filter). */
export function shardPlan(ctx: AppContext, info: IndexInfo, filter: unknown): ShardPlan {
  const cfg = ctx.cluster.config.query_planner;
  const pk = info.primaryKey;
  if (!cfg.enabled) return { shards: null, pinnedKeys: null, reason: 'disabled' };
  if (pk === null || filter === undefined || filter === null) return { shards: null, pinnedKeys: null, reason: 'no_filter' };
  let cache = plans.get(ctx.cluster);
  if (cache === undefined) plans.set(ctx.cluster, (cache = new PlanCache()));
  return cache.get(`${info.uid}\u0000${pk}`, info.shards, filter, () =>
    planShards(filter, pk, info.shards, ctx.cluster.hasher, { enabled: true, maxPkLiterals: cfg.max_pk_literals_narrowable }),
  );
}
