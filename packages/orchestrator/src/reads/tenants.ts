/**
 * Tenant-to-group affinity (spec S13.15): which replica groups a read may use, so that one tenant's
 * traffic stays in its group and dedicated groups serve only the tenants mapped to them. Writes are
 * not affected: they reach every group.
 *
 * - `header`: the tenant is the `header_name` header; its group is its `static_map` entry, else
 *   `hash(tenant)` over the shared groups.
 * - `api_key`: the tenant is the `tenant_map` row of the request key's sha256 (`groupId` null means
 *   hash routing); a key without a row is an unknown tenant.
 * - `explicit`: the tenant is the header; only `static_map` entries are known.
 *
 * An unknown tenant follows `fallback`: `hash` (by its id, among the shared groups), `random` (any
 * shared group) or `reject` (403 `miroir_tenant_unknown`). A read that names no tenant at all is
 * routed as usual among the shared groups.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../api/context.js';
import { jsonBody } from '../api/http.js';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config.js';
import { tenantGroupId } from '../core/covering.js';
import type { Hasher } from '../core/hash.js';
import { miroirError } from '../errors.js';
import type { Metrics } from '../obs/metrics.js';
import type { StateStore } from '../state/store.js';
import type { TableRow } from '../state/tables.js';

/** The groups one read may use. */
export interface TenantRoute {
  /** The tenant named by the request, or null. */
  readonly tenant: string | null;
  /** The tenant's own group (mapped or hashed); undefined: rotate over {@link groupIds}. */
  readonly groupId: number | undefined;
  /** Groups the read may use (rotation and fallback); undefined: every serving group. */
  readonly groupIds: readonly number[] | undefined;
  /** The tenant is mapped to a group (static map or tenant map). */
  readonly mapped: boolean;
}

const OPEN: TenantRoute = { tenant: null, groupId: undefined, groupIds: undefined, mapped: false };

/** Tenant map rows are read again after this long (spec: "lazily cached per pod"). */
const MAP_TTL_MS = 10_000;
/** Distinct tenant label values kept; others are counted as `other` (bounded cardinality). */
const MAX_TENANT_LABELS = 1000;

export type TenantMapRow = TableRow<'tenant_map'>;

/** sha256 (hex) of an API key: the tenant map's key. */
export function apiKeyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export class Tenants {
  readonly #cfg: Config['tenant_affinity'];
  readonly #store: StateStore;
  readonly #hasher: Pick<Hasher, 'shardOf'>;
  readonly #header: string;
  readonly #dedicated: ReadonlySet<number>;
  readonly #map = new Map<string, { row: TenantMapRow | undefined; at: number }>();
  readonly #queries: Counter<'tenant' | 'group'>;
  readonly #fallbacks: Counter<'reason'>;
  readonly #pinOverrides: Counter<'tenant'>;
  readonly #labels = new Set<string>();

  constructor(cfg: Config['tenant_affinity'], store: StateStore, hasher: Pick<Hasher, 'shardOf'>, metrics: Metrics) {
    this.#cfg = cfg;
    this.#store = store;
    this.#hasher = hasher;
    this.#header = cfg.header_name.toLowerCase();
    this.#dedicated = new Set(cfg.dedicated_groups);
    const registers = cfg.enabled ? [metrics.registry] : [];
    this.#queries = new Counter({
      name: 'miroir_tenant_queries_total',
      help: 'Reads that named a tenant, by tenant and by the replica group that served them.',
      labelNames: ['tenant', 'group'],
      registers,
    });
    this.#fallbacks = new Counter({
      name: 'miroir_tenant_fallback_total',
      help: 'Reads of tenants without a usable group: `hash`, `random` or `reject` (unknown tenant), `group_unavailable` (its group is not serving).',
      labelNames: ['reason'],
      registers,
    });
    this.#pinOverrides = new Counter({
      name: 'miroir_tenant_session_pin_override_total',
      help: 'Reads whose session pin chose another group than their tenant’s (the pin wins).',
      labelNames: ['tenant'],
      registers,
    });
    const staticMap = cfg.static_map;
    new Gauge({
      name: 'miroir_tenant_pinned_groups',
      help: 'The replica group each tenant of `tenant_affinity.static_map` is pinned to.',
      labelNames: ['tenant'],
      registers,
      collect() {
        for (const [tenant, group] of Object.entries(staticMap)) this.labels(tenant).set(group);
      },
    });
  }

  get enabled(): boolean {
    return this.#cfg.enabled;
  }

  /**
   * The groups a read of `req` (sent with the API key `key` returns) may use, `servingGroups` giving the ids of
   * the groups that take reads (ascending). Throws 403 `miroir_tenant_unknown` per `fallback: reject`.
   */
  route(req: FastifyRequest, key: () => string | undefined, servingGroups: () => readonly number[]): TenantRoute | Promise<TenantRoute> {
    const cfg = this.#cfg;
    if (!cfg.enabled) return OPEN;
    // The common case costs one header lookup and no promise: no tenant named, no dedicated group.
    if (cfg.mode !== 'api_key' && this.#dedicated.size === 0 && req.headers[this.#header] === undefined) return OPEN;
    return this.#route(req, key, servingGroups);
  }

  async #route(req: FastifyRequest, keyOf: () => string | undefined, servingGroups: () => readonly number[]): Promise<TenantRoute> {
    const cfg = this.#cfg;
    const dedicated = this.#dedicated;
    const apiKeyMode = cfg.mode === 'api_key';
    const key = apiKeyMode ? keyOf() : undefined;
    const serving = servingGroups();
    const shared = serving.filter((g) => !dedicated.has(g));
    let tenant: string | null;
    let group: number | null | undefined;
    let known: boolean;
    if (apiKeyMode) {
      const row = key === undefined ? undefined : await this.#row(apiKeyHash(key));
      tenant = row?.tenantId ?? null;
      // A key without a row names an unknown tenant; its hash stands for it.
      if (row === undefined && key !== undefined) tenant = `key:${apiKeyHash(key).slice(0, 12)}`;
      group = row === undefined ? undefined : (row.groupId ?? cfg.static_map[row.tenantId] ?? null);
      known = row !== undefined;
    } else {
      const raw = req.headers[this.#header];
      const text = (Array.isArray(raw) ? raw[0] : raw)?.trim();
      tenant = text === undefined || text === '' ? null : text;
      group = tenant === null ? undefined : cfg.static_map[tenant];
      known = group !== undefined || (cfg.mode === 'header' && tenant !== null);
      if (group === undefined && cfg.mode === 'header') group = null; // hash routing
    }
    if (tenant === null) return { tenant: null, groupId: undefined, groupIds: dedicated.size === 0 ? undefined : shared, mapped: false };
    if (typeof group === 'number') {
      if (!serving.includes(group)) this.#fallbacks.labels('group_unavailable').inc();
      return { tenant, groupId: group, groupIds: [group, ...shared.filter((g) => g !== group)], mapped: true };
    }
    if (known) return { tenant, groupId: this.#hashed(tenant, shared), groupIds: shared, mapped: false };
    this.#fallbacks.labels(cfg.fallback).inc();
    if (cfg.fallback === 'reject') {
      throw miroirError('miroir_tenant_unknown', `The tenant \`${tenant}\` is not mapped to a replica group, and \`tenant_affinity.fallback\` is \`reject\`.`);
    }
    if (cfg.fallback === 'hash') return { tenant, groupId: this.#hashed(tenant, shared), groupIds: shared, mapped: false };
    return { tenant, groupId: undefined, groupIds: shared, mapped: false };
  }

  #hashed(tenant: string, shared: readonly number[]): number | undefined {
    const g = tenantGroupId(this.#hasher, tenant, shared);
    return g < 0 ? undefined : g;
  }

  async #row(hash: string): Promise<TenantMapRow | undefined> {
    const hit = this.#map.get(hash);
    const now = Date.now();
    if (hit !== undefined && now - hit.at < MAP_TTL_MS) return hit.row;
    const row = await this.#store.getRow('tenant_map', hash);
    if (this.#map.size > 100_000) this.#map.clear();
    this.#map.set(hash, { row, at: now });
    return row;
  }

  /** Forgets cached tenant map rows (after the admin API changed the map). */
  forget(hash?: string): void {
    if (hash === undefined) this.#map.clear();
    else this.#map.delete(hash);
  }

  /** Counts a read of `route`'s tenant served by `groupId`. */
  served(route: TenantRoute, groupId: number): void {
    if (route.tenant === null) return;
    this.#queries.labels(this.#label(route), String(groupId)).inc();
  }

  /** A session pin chose another group than the tenant's. */
  pinOverride(route: TenantRoute): void {
    this.#pinOverrides.labels(this.#label(route)).inc();
  }

  /** Mapped tenants by id; others as `unmapped`, and past a bound as `other`. */
  #label(route: TenantRoute): string {
    if (!route.mapped) return 'unmapped';
    const t = route.tenant!;
    if (this.#labels.has(t)) return t;
    if (this.#labels.size >= MAX_TENANT_LABELS) return 'other';
    this.#labels.add(t);
    return t;
  }
}

const mappingBody = z
  .strictObject({
    api_key: z.string().min(1).optional(),
    api_key_hash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    tenant_id: z.string().min(1).max(256),
    group_id: z.int().min(0).nullable().default(null),
  })
  .refine((b) => (b.api_key === undefined) !== (b.api_key_hash === undefined));

/** A tenant map row as the admin API shows it. */
const mappingView = (r: TenantMapRow) => ({ api_key_hash: r.apiKeyHash, tenant_id: r.tenantId, group_id: r.groupId });

/**
 * The tenant map of `mode: api_key` (spec S4.1 table `tenant_map`), under the admin key:
 * `GET /_miroir/tenants`, `PUT /_miroir/tenants` (`{api_key | api_key_hash, tenant_id, group_id}`;
 * the key itself is never stored, only its sha256), `DELETE /_miroir/tenants/{api_key_hash}`.
 * Orchestrators read a changed row within {@link MAP_TTL_MS}.
 */
export function registerTenantRoutes(app: FastifyInstance, ctx: AppContext): void {
  const guard = { onRequest: async (req: FastifyRequest) => ctx.auth.admin(req) };
  const store = ctx.cluster.store;
  app.get('/_miroir/tenants', guard, async () => ({ results: (await store.listRows('tenant_map')).map(mappingView) }));
  app.put('/_miroir/tenants', guard, async (req) => {
    const r = mappingBody.safeParse(jsonBody(req));
    if (!r.success) {
      throw miroirError(
        'miroir_invalid_tenant_mapping',
        'The body must be `{"api_key": "<key>" or "api_key_hash": "<sha256 hex>", "tenant_id": "<id>", "group_id": <group id or null>}`.',
      );
    }
    const b = r.data;
    const row: TenantMapRow = { apiKeyHash: b.api_key_hash ?? apiKeyHash(b.api_key!), tenantId: b.tenant_id, groupId: b.group_id };
    await store.putRow('tenant_map', row);
    ctx.tenants.forget(row.apiKeyHash);
    return mappingView(row);
  });
  app.delete('/_miroir/tenants/:hash', guard, async (req, reply) => {
    const hash = (req.params as { hash: string }).hash;
    await store.deleteRow('tenant_map', hash);
    ctx.tenants.forget(hash);
    return reply.code(204).send();
  });
}
