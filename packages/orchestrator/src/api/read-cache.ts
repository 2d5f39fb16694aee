/**
 * Query coalescing (spec S13.10) and the result cache (spec S13.10.1) for searches and facet
 * searches, per process. Both key a read by core/read-key.ts; what they promise is written in
 * docs/guarantees.md#coalesced-and-cached-reads.
 *
 * - Coalescing: a read identical to one in flight, arriving less than `window_ms` after that one
 *   started, waits for its answer (or its error) instead of scattering. The window closes when the
 *   answer arrives: a finished read is never joined, only cached.
 * - Cache: a complete 200 answer (no shard missing) is kept for `ttl_ms`, LRU-bounded to `max_size`.
 *   Errors and degraded answers are never kept.
 * - Reads that must see the freshest state bypass both: `X-Miroir-Session` (S13.6) and
 *   `X-Miroir-Read-After`.
 *
 * With both features off, `active` is false and the request path does nothing more than read it.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { IndexInfo } from '../catalog.js';
import type { Config } from '../config.js';
import { readKey, type ReadRoute } from '../core/read-key.js';
import { registerReadSharingMetrics, type Metrics } from '../obs/metrics.js';
import type { SettingsVersions } from '../work/settings-versions.js';
import type { Access } from './auth.js';

/** An answer as the read routes produce it: the merged response and the shards nobody answered for. */
export interface ReadAnswer<T> {
  response: T;
  missing: number[];
}

/** How a read was served: `hit` from the cache, `shared` from an identical read in flight, `miss` by its own scatter. */
export const ReadOutcome = { hit: 'hit', shared: 'shared', miss: 'miss' } as const;
export type ReadOutcome = (typeof ReadOutcome)[keyof typeof ReadOutcome];

/** The diagnostic answer header; absent when the read was not eligible (features off, or a bypass header). */
export const CACHE_HEADER = 'x-miroir-cache';

/** Headers whose reads must see the freshest state: never coalesced nor cached. */
const BYPASS_HEADERS = ['x-miroir-session', 'x-miroir-read-after'] as const;
const MIN_SETTINGS_HEADER = 'x-miroir-min-settings-version';

interface InFlight {
  readonly startedAt: number;
  subscribers: number;
  readonly answer: Promise<ReadAnswer<object>>;
}

const firstHeader = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export class ReadCache {
  /** Whether either feature is on: when false, reads go straight to their scatter. */
  readonly active: boolean;
  readonly #versions: SettingsVersions;
  readonly #cache: LRUCache<string, ReadAnswer<object>> | undefined;
  readonly #inFlight: Map<string, InFlight> | undefined;
  readonly #windowMs: number;
  readonly #maxSubscribers: number;
  readonly #maxPending: number;
  readonly #hits: { inc(): void } | undefined;
  readonly #misses: { inc(): void } | undefined;
  readonly #coalesced: { inc(): void };

  readonly #generation: (uid: string) => number;

  /** `generation`: the index's content generation (catalog.ts), part of every key. */
  constructor(config: Pick<Config, 'query_coalescing' | 'result_cache'>, versions: SettingsVersions, metrics: Metrics, generation: (uid: string) => number) {
    this.#generation = generation;
    const qc = config.query_coalescing;
    const rc = config.result_cache;
    this.active = qc.enabled || rc.enabled;
    this.#versions = versions;
    this.#windowMs = qc.window_ms;
    this.#maxSubscribers = qc.max_subscribers;
    this.#maxPending = qc.max_pending_queries;
    this.#inFlight = qc.enabled ? new Map() : undefined;
    const evictions = metrics.resultCacheEvictions;
    this.#cache = rc.enabled
      ? new LRUCache<string, ReadAnswer<object>>({
          max: rc.max_size,
          ttl: rc.ttl_ms,
          // Age counts from when the answer was computed: a popular entry still expires on time.
          updateAgeOnGet: false,
          allowStale: false,
          dispose: (_v, _k, reason) => {
            if (reason === 'evict') evictions.inc();
          },
        })
      : undefined;
    this.#hits = rc.enabled ? metrics.resultCacheRequests.labels('hit') : undefined;
    this.#misses = rc.enabled ? metrics.resultCacheRequests.labels('miss') : undefined;
    this.#coalesced = metrics.coalescedRequests;
    const cache = this.#cache;
    const inFlight = this.#inFlight;
    registerReadSharingMetrics(metrics, {
      get cacheSize() {
        return cache?.size ?? 0;
      },
      get pendingQueries() {
        return inFlight?.size ?? 0;
      },
    });
  }

  /** Whether a read with these headers may join an identical one in flight, and be answered from the cache. */
  sharing(req: FastifyRequest): { coalescing: boolean; cache: boolean } {
    const bypass = BYPASS_HEADERS.some((h) => req.headers[h] !== undefined);
    return { coalescing: !bypass && this.#inFlight !== undefined, cache: !bypass && this.#cache !== undefined };
  }

  /**
   * The key of a read (core/read-key.ts), or undefined when it must not be shared: a bypass header,
   * or both features off. Called after the request was authorized and its query parsed.
   */
  async keyOf(req: FastifyRequest, route: ReadRoute, info: IndexInfo, query: unknown, access: Access, metadata: boolean): Promise<string | undefined> {
    if (!this.active) return undefined;
    const headers = req.headers;
    for (const h of BYPASS_HEADERS) if (headers[h] !== undefined) return undefined;
    const cached = this.#versions.cached(info.uid);
    const view = cached === null ? await this.#versions.get(info.uid) : cached;
    const authorization = headers.authorization;
    return readKey({
      route,
      index: info.uid,
      indexCreatedAt: info.createdAt,
      settingsVersion: view?.version ?? -1,
      generation: this.#generation(info.uid),
      // A digest, so the cache holds no credential.
      credential: authorization === undefined ? '' : createHash('sha256').update(authorization).digest('base64url'),
      tenantFilter: access.searchFilter(info.uid),
      metadata,
      minSettingsVersion: firstHeader(headers[MIN_SETTINGS_HEADER])?.trim(),
      query,
    });
  }

  /**
   * The answer of a read: shared when it may be (see {@link keyOf}), else `run`'s. `outcome` is
   * undefined when the read was not eligible.
   */
  async read<T extends object>(
    req: FastifyRequest,
    route: ReadRoute,
    info: IndexInfo,
    query: unknown,
    access: Access,
    metadata: boolean,
    run: () => Promise<ReadAnswer<T>>,
  ): Promise<ReadAnswer<T> & { outcome?: ReadOutcome }> {
    const key = await this.keyOf(req, route, info, query, access, metadata);
    return key === undefined ? run() : this.serve(key, run);
  }

  /**
   * The answer of the read keyed `key`: from the cache, from an identical read in flight, or from
   * `run` (whose complete answer is then cached). An error of `run` reaches every caller that
   * joined it and is not cached.
   */
  async serve<T extends object>(key: string, run: () => Promise<ReadAnswer<T>>): Promise<ReadAnswer<T> & { outcome: ReadOutcome }> {
    const cache = this.#cache;
    if (cache !== undefined) {
      const hit = cache.get(key) as ReadAnswer<T> | undefined;
      if (hit !== undefined) {
        this.#hits!.inc();
        return { response: hit.response, missing: hit.missing, outcome: ReadOutcome.hit };
      }
      this.#misses!.inc();
    }
    const inFlight = this.#inFlight;
    if (inFlight === undefined) {
      const answer = await run();
      this.#keep(key, answer);
      return { response: answer.response, missing: answer.missing, outcome: ReadOutcome.miss };
    }
    const now = performance.now();
    const open = inFlight.get(key);
    if (open !== undefined && open.subscribers < this.#maxSubscribers && now - open.startedAt < this.#windowMs) {
      open.subscribers++;
      this.#coalesced.inc();
      const answer = (await open.answer) as ReadAnswer<T>;
      return { response: answer.response, missing: answer.missing, outcome: ReadOutcome.shared };
    }
    const answer = run();
    // A read that could not join (window passed, or subscribers full) takes the key over, so later
    // identical reads join the freshest scatter; a new key is admitted while there is room.
    if (open !== undefined || inFlight.size < this.#maxPending) {
      const entry: InFlight = { startedAt: now, subscribers: 0, answer };
      inFlight.set(key, entry);
      const close = () => {
        if (inFlight.get(key) === entry) inFlight.delete(key);
      };
      answer.then(close, close);
    }
    const done = await answer;
    this.#keep(key, done);
    return { response: done.response, missing: done.missing, outcome: ReadOutcome.miss };
  }

  /** Caches a complete answer; a degraded one (shards missing) would outlive the outage. */
  #keep(key: string, answer: ReadAnswer<object>): void {
    if (this.#cache !== undefined && answer.missing.length === 0) this.#cache.set(key, answer);
  }

  /** Answers cached now (expired ones included until looked up). */
  get size(): number {
    return this.#cache?.size ?? 0;
  }
}
