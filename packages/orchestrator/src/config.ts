/**
 * Configuration: one schema (spec S4.3), validated once at start, then frozen and injected.
 *
 * Sources, later wins: defaults ← YAML file ← `MIROIR_*` environment variables. Nested keys use a
 * double underscore in env names (`MIROIR_SERVER__PORT=7701`, `MIROIR_SCATTER__NODE_TIMEOUT_MS=2000`).
 * Secrets (`master_key`, `node_master_key`, `admin.api_key`) come from the environment only.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const nodeSchema = z.strictObject({
  id: z.string().min(1).regex(/^[A-Za-z0-9_.:-]+$/, 'node ids use letters, digits, `_ . : -`'),
  address: z.url({ protocol: /^https?$/ }),
  replica_group: z.int().min(0).default(0),
});

/** Largest over-fetch factor, in the config and in `X-Miroir-Over-Fetch`. */
export const MAX_OVER_FETCH_FACTOR = 100;

/** A config block: every key has a default, so an absent block parses as `{}`. */
const block = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape).prefault({} as z.input<z.ZodObject<T, z.core.$strict>>);

export const configSchema = z
  .strictObject({
    master_key: z.string().default(''),
    node_master_key: z.string().default(''),
    shards: z.int().min(1).max(65536).default(64),
    replication_factor: z.int().min(1).default(2),
    replica_groups: z.int().min(1).default(1),
    write_quorum: z.enum(['majority', 'one']).default('majority'),
    nodes: z.array(nodeSchema).default([]),
    task_store: block({
      backend: z.enum(['sqlite', 'redis']).default('sqlite'),
      path: z.string().default('./data/miroir-tasks.db'),
      /** Redis URL (`redis://[:password@]host:port[/db]`); empty means `redis://127.0.0.1:6379`. */
      url: z.string().default(''),
      /** Prepended to every Redis key and channel, so several clusters (or tests) share one Redis. */
      key_prefix: z.string().min(1).default('miroir:'),
    }),
    /**
     * How orchestrator processes find each other (spec S14.5), for Mode A ownership. `auto`: Redis
     * heartbeats with the redis backend, a single process with sqlite.
     */
    peer_discovery: block({
      mode: z.enum(['auto', 'single', 'static', 'dns', 'redis']).default('auto'),
      /** This process's peer id; empty: POD_NAME, else `<hostname>:<server.port>:<pid>`. */
      self: z.string().default(''),
      /** `static`: every orchestrator's base URL (this one's included, named by `self`). */
      peers: z.array(z.url({ protocol: /^https?$/ })).default([]),
      /** `dns`: the headless Service whose SRV records list the orchestrator pods. */
      service_name: z.string().min(1).default('miroir-headless'),
      refresh_interval_s: z.number().positive().default(15),
    }),
    /**
     * Mode B leader leases (spec S14.5). Always on: with one process (SQLite) a lease is a row this
     * process takes in its own transaction, so the spec's `enabled` switch has nothing to turn off.
     */
    leader_election: block({
      lease_ttl_s: z.number().positive().default(10),
      renew_interval_s: z.number().positive().default(3),
    }),
    /** Mode C job queue (spec S14.5): claims are leases kept alive by heartbeats. */
    jobs: block({
      claim_ttl_s: z.number().positive().default(30),
      heartbeat_interval_s: z.number().positive().default(10),
      poll_interval_ms: z.int().min(10).default(1000),
    }),
    admin: block({
      enabled: z.boolean().default(true),
      api_key: z.string().default(''),
    }),
    health: block({
      interval_ms: z.int().min(50).default(5000),
      timeout_ms: z.int().min(10).default(2000),
      unhealthy_threshold: z.int().min(1).default(3),
      recovery_threshold: z.int().min(1).default(2),
    }),
    scatter: block({
      node_timeout_ms: z.int().min(10).default(5000),
      retry_on_timeout: z.boolean().default(true),
      unavailable_shard_policy: z.enum(['partial', 'error']).default('partial'),
    }),
    /** Anti-entropy (spec S13.8): replicas compared shard by shard and repaired, newest copy wins. */
    anti_entropy: block({
      enabled: z.boolean().default(true),
      /** How often a pass starts: `every <n><ms|s|m|h>`. */
      schedule: z
        .string()
        .regex(/^every\s+\d+\s*(ms|s|m|h)$/, 'expected `every <number><ms|s|m|h>`, e.g. `every 6h`')
        .default('every 6h'),
      /** Shards compared per pass (0 = all); a rotating cursor covers the rest on later passes. */
      shards_per_pass: z.int().min(0).default(0),
      /** Replicas of a shard read at the same time. */
      max_read_concurrency: z.int().min(1).default(2),
      /** Documents per page when reading a replica. */
      fingerprint_batch_size: z.int().min(1).max(10_000).default(1000),
      /** false: divergence is counted and logged, never repaired. */
      auto_repair: z.boolean().default(true),
      /**
       * Share of wall time a pass spends reading (it sleeps the rest), keeping its load on the
       * nodes small (the spec targets under 2% of node CPU). 1 = no pause.
       */
      duty_cycle: z.number().gt(0).max(1).default(0.02),
    }),
    /** Writes a node missed while down or behind, kept to replay in order (docs/failures.md). */
    handoff: block({
      /** Bytes of missed writes kept per node; past it, the node is resynchronized by anti-entropy. */
      max_bytes: z.int().min(0).default(67_108_864),
    }),
    /** `Idempotency-Key` on client writes (spec S13.10; docs/guarantees.md). */
    idempotency: block({
      /** false: the header is ignored and every write runs. */
      enabled: z.boolean().default(true),
      /** How long a key is remembered after its write was accepted. */
      ttl_seconds: z.int().min(1).default(86_400),
      /** Keys each process keeps in memory (about 150 bytes each); older ones are read from the state store. */
      max_cached_keys: z.int().min(0).default(1_000_000),
    }),
    /** Read-your-writes sessions (spec S13.6, docs/guarantees.md): `X-Miroir-Session`. */
    session_pinning: block({
      enabled: z.boolean().default(true),
      /** How long a session's last write is remembered. */
      ttl_seconds: z.int().min(1).default(900),
      /** `block`: a read waits for the session's pending write on the nodes it reads; `route_pin`: it only reads its group. */
      wait_strategy: z.enum(['block', 'route_pin']).default('block'),
      max_wait_ms: z.int().min(0).default(5000),
    }),
    /** Causal reads (docs/guarantees.md): `X-Miroir-Write-Token` on writes, `X-Miroir-Read-After` on reads. */
    causal_reads: block({
      enabled: z.boolean().default(true),
      /** How long a read waits for its nodes to process the write it names; it is served anyway after. */
      max_wait_ms: z.int().min(0).default(5000),
    }),
    /** The shard-aware query planner (spec S13.4): reads whose filter pins primary keys ask only their shards. */
    query_planner: block({
      enabled: z.boolean().default(true),
      /** Past this many pinned keys, every shard is asked. */
      max_pk_literals_narrowable: z.int().min(1).default(128),
    }),
    /** How a read picks one replica of each shard (spec S13.3, docs/read-path.md). */
    replica_selection: block({
      /** `adaptive`: the lowest score (p95 latency, reads in flight, errors); `round_robin`; `random`. */
      strategy: z.enum(['adaptive', 'round_robin', 'random']).default('adaptive'),
      /** Score per ms of estimated p95 read latency. */
      latency_weight: z.number().min(0).default(1.0),
      /** Score per read in flight on the node. */
      inflight_weight: z.number().min(0).default(2.0),
      /** Score per percent of recent reads that failed. */
      error_weight: z.number().min(0).default(10.0),
      /** Latency and error averages lose half their weight this often. */
      ewma_half_life_ms: z.int().min(1).default(5000),
      /** Share of reads whose replicas are picked uniformly instead (so a healed replica is seen again). */
      exploration_epsilon: z.number().min(0).max(1).default(0.05),
    }),
    /** Hedged reads (spec S13.2, docs/read-path.md): a slow replica's shards asked of another replica. */
    hedging: block({
      enabled: z.boolean().default(true),
      /** A node call is hedged after `max(min_trigger_ms, p95_trigger_multiplier × p95)`. */
      p95_trigger_multiplier: z.number().min(1).default(1.2),
      min_trigger_ms: z.int().min(1).default(15),
      /** Hedges one search, listing or document read may send; past it, `miroir_hedge_budget_exhausted_total`. */
      max_hedges_per_query: z.int().min(0).default(2),
      /** A hedge may go to a replica in another group. */
      cross_group_fallback: z.boolean().default(true),
    }),
    /** Tenant-to-group affinity (spec S13.15, docs/read-path.md): one tenant's reads kept to one replica group. */
    tenant_affinity: block({
      enabled: z.boolean().default(true),
      /** `header`: the tenant is `header_name`; `api_key`: the tenant map keyed by the key's sha256; `explicit`: `static_map` only. */
      mode: z.enum(['header', 'api_key', 'explicit']).default('header'),
      header_name: z
        .string()
        .regex(/^[A-Za-z0-9-]+$/, 'an HTTP header name')
        .default('X-Miroir-Tenant'),
      /** Tenants not mapped to a group: hashed or random among the shared groups, or refused (403 `miroir_tenant_unknown`). */
      fallback: z.enum(['hash', 'random', 'reject']).default('hash'),
      /** Tenant id → replica group id. */
      static_map: z.record(z.string(), z.int().min(0)).default({}),
      /** Groups that serve only the tenants mapped to them. */
      dedicated_groups: z.array(z.int().min(0)).default([]),
    }),
    /** `POST /indexes/{uid}/explain` (spec S13.20, docs/read-path.md): a search's plan without running it. */
    explain: block({
      enabled: z.boolean().default(true),
      max_warnings: z.int().min(0).default(20),
      /** `?execute=true` also runs the search and returns its answer. */
      allow_execute_parameter: z.boolean().default(true),
    }),
    /** Index aliases (spec S13.7, docs/aliases.md): names that resolve to one index or several. */
    aliases: block({
      enabled: z.boolean().default(true),
      /** Flips kept in each alias's history. */
      history_retention: z.int().min(0).default(10),
      /** Refuse an alias (or a flip) whose target index does not exist (404 `index_not_found`). */
      require_target_exists: z.boolean().default(true),
    }),
    /** The rebalancer (spec S4.5): moves shards when nodes or groups are added, drained or removed. */
    rebalancer: block({
      /** Shard moves copied at the same time. */
      max_concurrent_migrations: z.int().min(1).default(4),
      /** Documents per page read from the source and written to the new owner. */
      batch_size: z.int().min(1).max(10_000).default(1000),
      /** Documents copied per second across all moves (0 = as fast as the nodes go). */
      throttle_docs_per_sec: z.int().min(0).default(0),
      /** How long a paused move (source or new owner unreachable or catching up) waits before it is retried. */
      retry_interval_ms: z.int().min(10).default(5000),
      /**
       * How long after the last cutover the old owners' copies are deleted: reads planned before a
       * cutover may still be answered from them.
       */
      cleanup_delay_ms: z.int().min(0).default(5000),
      /**
       * How long a write waits while a shard of its index is being cut over (in any orchestrator)
       * before it is refused with 503 `miroir_topology_changing`.
       */
      write_freeze_timeout_ms: z.int().min(1).default(30_000),
    }),
    server: block({
      port: z.int().min(0).max(65535).default(7700),
      bind: z.string().default('0.0.0.0'),
      // Meilisearch's default `--http-payload-size-limit` (100 MB, decimal), so both refuse the same bodies.
      max_body_bytes: z.int().min(1).default(100_000_000),
      max_concurrent_requests: z.int().min(1).default(500),
      request_timeout_ms: z.int().min(1).default(30_000),
    }),
    connection_pool_per_node: block({
      max_idle: z.int().min(1).default(32),
      max_total: z.int().min(1).default(128),
      idle_timeout_s: z.int().min(1).default(60),
    }),
    task_registry: block({
      cache_size: z.int().min(0).default(10_000),
      retention_days: z.number().positive().default(7),
      poll_interval_ms: z.int().min(10).default(250),
    }),
    log: block({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /**
       * 0 writes every line at once. Above 0, lines are buffered up to this many bytes (and at most
       * one second) and written asynchronously: cheaper under load, but a crash loses the buffer.
       */
      buffer_bytes: z.int().min(0).max(1_048_576).default(0),
      /**
       * Adds `node_count` (the request's fan-out) to request lines. It needs a request scope
       * (AsyncLocalStorage), which on Node 20 costs every promise a hook call: about +30% CPU per
       * proxied search, so it is off unless asked for (tracing turns the scope on anyway).
       */
      node_count: z.boolean().default(false),
    }),
    /** The separate Prometheus listener (spec S10.2); `/_miroir/metrics` is served regardless. */
    metrics: block({
      enabled: z.boolean().default(true),
      port: z.int().min(0).max(65535).default(9090),
      bind: z.string().min(1).default('0.0.0.0'),
      path: z.string().regex(/^\/[^?#]*$/, 'a path starting with `/`').default('/metrics'),
    }),
    /** How settings changes reach the nodes (spec S13.5). */
    settings_broadcast: block({
      /** `two_phase`: propose to all nodes, verify fingerprints, commit; `sequential`: node by node, rolled back on failure. */
      strategy: z.enum(['two_phase', 'sequential']).default('two_phase'),
      /** How long the nodes' tasks of one propose (or one repair) may take. */
      verify_timeout_s: z.number().positive().default(60),
      /** Re-sends to a divergent node before it is declared unrepairable. */
      max_repair_retries: z.int().min(0).default(3),
      /** Refuse document writes to an index whose settings could not be made identical. */
      freeze_writes_on_unrepairable: z.boolean().default(true),
      /** First repair backoff; each retry doubles it (tests use a few milliseconds). */
      repair_backoff_ms: z.int().min(0).default(1000),
    }),
    /** The settings drift reconciler (spec S13.5): always on; `auto_repair` decides whether it repairs. */
    settings_drift_check: block({
      interval_s: z.number().positive().default(300),
      auto_repair: z.boolean().default(true),
    }),
    /**
     * Identical searches arriving while one is in flight share its scatter (spec S13.10), per process
     * (docs/guarantees.md#coalesced-and-cached-reads).
     */
    query_coalescing: block({
      enabled: z.boolean().default(true),
      /** A search joins an identical one in flight only if that one started less than this long ago. */
      window_ms: z.int().min(1).max(60_000).default(50),
      /** Callers joined to one scatter; past it, the next identical search starts a scatter of its own. */
      max_subscribers: z.int().min(1).default(1000),
      /** Distinct searches open for joining at once; past it, a new search runs alone. */
      max_pending_queries: z.int().min(1).default(10_000),
    }),
    /** Short-lived per-process LRU of complete merged search answers (spec S13.10.1). */
    result_cache: block({
      enabled: z.boolean().default(true),
      /** How long an answer is served again: document writes are not seen for up to this long. */
      ttl_ms: z.int().min(250).max(2000).default(500),
      /** Answers kept; the least recently used goes first. */
      max_size: z.int().min(1).default(1000),
    }),
    /**
     * Semantic and hybrid search across shards (spec S13.12, docs/read-path.md#vector-and-hybrid-search).
     * `merge_strategy: rrf` and `rrf_k` are not offered: the nodes' hybrid answers do not carry the
     * ranks that reciprocal rank fusion needs (docs/read-path.md says why).
     */
    vector_search: block({
      /**
       * Hybrid queries get Meilisearch's "keyword results good enough" decision taken over the
       * whole index (a keyword scatter beside the hybrid one), and semantic and hybrid queries are
       * over-fetched. Off: the hybrid answers of the nodes are merged as they are.
       */
      enabled: z.boolean().default(true),
      /**
       * Per-node window of semantic and hybrid queries: `(offset + limit) × factor` (keyword
       * queries never). 1 asks nodes for exactly the client's window, which is already exact; a
       * larger factor only costs node work (docs/read-path.md). `X-Miroir-Over-Fetch` overrides it.
       */
      over_fetch_factor: z.number().min(1).max(MAX_OVER_FETCH_FACTOR).default(3),
      /** How hits of several nodes are merged; `convex` is the only strategy (single-node order). */
      merge_strategy: z.enum(['convex']).default('convex'),
      /** The semantic ratio of a hybrid query that gives none (Meilisearch's own default, 0.5). */
      hybrid_alpha_default: z.number().min(0).max(1).default(0.5),
    }),
    /** `POST /multi-search` (spec S13.11): plain and federated batches of searches. */
    multi_search: block({
      /** false: the route answers 501 `miroir_not_supported`. */
      enabled: z.boolean().default(true),
      /** A batch with more queries is refused with 400 `miroir_multi_search_too_many_queries`. */
      max_queries_per_batch: z.int().min(1).default(100),
      /** The whole batch must be answered within this; past it, 504 `miroir_multi_search_timeout`. */
      total_timeout_ms: z.int().min(1).default(30_000),
      /** Each query (its scatter and merge) must finish within this; past it, the batch fails with 504 `miroir_multi_search_timeout`. */
      per_query_timeout_ms: z.int().min(1).default(30_000),
    }),
    /** OpenTelemetry tracing (spec S4.3 `tracing.*`), off by default. */
    tracing: block({
      enabled: z.boolean().default(false),
      endpoint: z.url({ protocol: /^https?$/ }).default('http://tempo.monitoring.svc:4317'),
      service_name: z.string().min(1).default('miroir'),
      sample_rate: z.number().min(0).max(1).default(0.1),
    }),
  })
  .superRefine((c, ctx) => {
    // Spec S4.1 / S6: SQLite serves one orchestrator process; two or more need Redis.
    if (c.task_store.backend === 'sqlite') {
      const multi =
        c.peer_discovery.peers.length > 1
          ? `peer_discovery.peers lists ${c.peer_discovery.peers.length} orchestrators`
          : c.peer_discovery.mode === 'dns' || c.peer_discovery.mode === 'redis'
            ? `peer_discovery.mode \`${c.peer_discovery.mode}\` looks for other orchestrators`
            : undefined;
      if (multi !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['task_store', 'backend'],
          message: `the sqlite backend serves a single orchestrator process, but ${multi}; use \`task_store.backend: redis\` to run several`,
        });
      }
    }
    if (c.peer_discovery.mode === 'static' && c.peer_discovery.peers.length > 0 && !c.peer_discovery.peers.includes(c.peer_discovery.self)) {
      ctx.addIssue({ code: 'custom', path: ['peer_discovery', 'self'], message: 'with `mode: static`, `self` must be one of `peer_discovery.peers`' });
    }
    if (c.leader_election.renew_interval_s >= c.leader_election.lease_ttl_s) {
      ctx.addIssue({ code: 'custom', path: ['leader_election', 'renew_interval_s'], message: 'must be below `lease_ttl_s`' });
    }
    if (c.jobs.heartbeat_interval_s >= c.jobs.claim_ttl_s) {
      ctx.addIssue({ code: 'custom', path: ['jobs', 'heartbeat_interval_s'], message: 'must be below `claim_ttl_s`' });
    }
    const ids = new Set<string>();
    c.nodes.forEach((n, i) => {
      if (ids.has(n.id)) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'id'], message: `duplicate node id \`${n.id}\`` });
      ids.add(n.id);
      if (n.replica_group >= c.replica_groups) {
        ctx.addIssue({
          code: 'custom',
          path: ['nodes', i, 'replica_group'],
          message: `replica_group ${n.replica_group} is not below replica_groups (${c.replica_groups})`,
        });
      }
    });
  });

export type Config = z.infer<typeof configSchema>;

/** Milliseconds of a schedule string (`every 6h`), already validated by the schema. */
export function scheduleMs(schedule: string): number {
  const m = /^every\s+(\d+)\s*(ms|s|m|h)$/.exec(schedule);
  if (m === null) throw new Error(`not a schedule: ${schedule}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}
export type NodeConfig = Config['nodes'][number];

/** A configuration problem; the message names the offending key. */
export class ConfigError extends Error {
  readonly code = 'MIROIR_CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const SECRET_ENV: Readonly<Record<string, string>> = {
  master_key: 'MIROIR_MASTER_KEY',
  node_master_key: 'MIROIR_NODE_MASTER_KEY',
  'admin.api_key': 'MIROIR_ADMIN_API_KEY',
};

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Blocks may sit at top level or under `miroir:` (spec S4.3, resolved): both are accepted and merged,
 * a key given in both places is an error.
 */
function unnest(raw: Raw, problems: string[]): Raw {
  const { miroir, ...rest } = raw;
  if (miroir === undefined) return rest;
  if (!isObject(miroir)) {
    problems.push('miroir: expected a mapping');
    return rest;
  }
  for (const k of Object.keys(miroir)) {
    if (k in rest) problems.push(`${k}: given both at top level and under \`miroir:\``);
  }
  return { ...rest, ...miroir };
}

function envValue(text: string): unknown {
  // Env values are YAML scalars, so `5000`, `true` and `[a, b]` get their natural types.
  try {
    return parseYaml(text) ?? text;
  } catch {
    return text;
  }
}

/** Applies `MIROIR_*` overrides; returns the names of variables that match no key. */
function applyEnv(raw: Raw, env: NodeJS.ProcessEnv, problems: string[]): void {
  const known = configSchema.shape;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('MIROIR_') || value === undefined) continue;
    const secret = Object.entries(SECRET_ENV).find(([, v]) => v === name);
    const path = secret ? secret[0].split('.') : name.slice(7).toLowerCase().split('__');
    if (!(path[0]! in known)) continue; // other MIROIR_* variables belong to other tools (e.g. ctl)
    let target = raw;
    for (const seg of path.slice(0, -1)) {
      const next = target[seg];
      if (next !== undefined && !isObject(next)) {
        problems.push(`${name}: ${path.join('.')} is not a block`);
        return;
      }
      target = (target[seg] ??= {}) as Raw;
    }
    target[path[path.length - 1]!] = secret ? value : envValue(value);
  }
}

/** Loads, validates and freezes the configuration. Throws {@link ConfigError} naming every bad key. */
export function loadConfig(opts: { file?: string; text?: string; env?: NodeJS.ProcessEnv; overrides?: Raw } = {}): Readonly<Config> {
  const problems: string[] = [];
  let raw: Raw = {};
  const text = opts.text ?? (opts.file ? readFileSync(opts.file, 'utf8') : undefined);
  if (text !== undefined) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw new ConfigError([`${opts.file ?? 'config'}: not valid YAML: ${(e as Error).message}`]);
    }
    if (doc != null && !isObject(doc)) throw new ConfigError(['config: the top level must be a mapping']);
    raw = unnest(doc ?? {}, problems);
  }
  for (const [key, envName] of Object.entries(SECRET_ENV)) {
    const [a, b] = key.split('.') as [string, string | undefined];
    const v = b ? (raw[a] as Raw | undefined)?.[b] : raw[a];
    if (v !== undefined) problems.push(`${key}: secrets are read from the environment only; set ${envName}`);
  }
  if (opts.overrides) raw = { ...raw, ...opts.overrides };
  applyEnv(raw, opts.env ?? process.env, problems);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const at = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) problems.push(`${at ? `${at}.` : ''}${k}: unknown key`);
      } else {
        problems.push(`${at || 'config'}: ${issue.message}`);
      }
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems.sort());
  return deepFreeze(parsed.data);
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
