/**
 * Redis state store (ioredis), shared by every orchestrator process (spec S4.2). Keys carry a
 * configurable prefix (`task_store.key_prefix`, default `miroir:`). Lists use `_index` sorted sets,
 * never SCAN; anything that must be atomic across processes (uids, leases, job claims) is one
 * command or one Lua script, and expiries use the Redis server's clock.
 *
 * Keyspace, after the prefix:
 *   tasks:<uid>                       hash {row, status, finished_at, cancel_requested_by}
 *   tasks:_seq                        counter (INCR) of task uids
 *   tasks:_index / _pending / _finished  sorted sets: every uid, unfinished uids, uids by finished_at
 *   index_meta:<uid>                  JSON string; index_meta:_index set of uids
 *   node_settings_version:<index>:<node>  hash {version, updated_at}; ..._index:<index> set of nodes
 *   lease:<scope>                     "holder|token" string with a PX expiry; lease_token:<scope> counter
 *   peers                             sorted set: peer id scored by heartbeat expiry (ms)
 *   jobs:<id>                         hash; jobs:_seq, jobs:_index, jobs:_queued (all types: queue
 *                                     depth), jobs:_queued:<type>, jobs:_claimed:<type> (by claim expiry)
 *   events                            pub/sub channel of cache invalidations
 *   aliases:<name>, session:<id>, idemp:<key>, canary:<id>, tenant_map:<sha256>, rollover:<name>,
 *   search_ui_config:<index>, admin_session:<id>   hash {row} (EXPIREAT for rows with `expiresAt`),
 *                                     each with its <name>:_index set
 *   canary_runs:<canary>              sorted set of runs by ran_at, trimmed by rank
 *   cdc_cursor:<sink>:<index>         integer string, only ever raised
 *   routing:epoch, routing:acks, routing:expiries, routing:holds  the routing fence (work/fence.ts)
 *   handoff:<node>:queue              list of "<seq> <entry>": writes the node missed, oldest first
 *   handoff:<node>                    hash {seq, bytes, overflowed, mark}; handoff:_behind set of nodes
 *   api_keys                          hash {version, row}: the cluster's API keys
 */
import { Redis } from 'ioredis';
import { SCRIPTS, type ScriptName } from './redis-scripts.js';
import { readCanaryRun, readIndexMeta, readJobRow, readJson, readStoreEvent, readTableRow, readTaskRow } from './rows.js';
import { expiryOf, keyOf, type CanaryRun, type TableName, type TableRow } from './tables.js';
import {
  migrationProgressSchema,
  rebalanceStateSchema,
  storedTopologySchema,
  apiKeySetSchema,
  type IndexMeta,
  type JobRow,
  type Lease,
  type MigrationProgress,
  type MissedEntry,
  type MissedQueue,
  type RebalanceState,
  type StateStore,
  type StoreEvent,
  type StoredTopology,
  type ApiKeySet,
  type TaskRow,
} from './store.js';

/** Key names of the keyed tables (spec S4.2). */
const TABLE_KEYS: Record<TableName, string> = {
  aliases: 'aliases',
  sessions: 'session',
  idempotency: 'idemp',
  canaries: 'canary',
  tenant_map: 'tenant_map',
  rollover_policies: 'rollover',
  search_ui_config: 'search_ui_config',
  admin_sessions: 'admin_session',
  webhooks: 'webhook',
};

const PAGE = 200;
const isPending = (status: TaskRow['status']) => status === 'enqueued' || status === 'processing';

export interface RedisStoreOptions {
  /** `redis://[:password@]host:port[/db]`; empty means 127.0.0.1:6379. */
  url: string;
  /** Prepended to every key and channel. */
  keyPrefix: string;
}

export class RedisStore implements StateStore {
  readonly #r: Redis;
  #sub: Redis | undefined;
  #subscribed: Promise<void> | undefined;
  readonly #p: string;
  readonly #handlers: ((e: StoreEvent) => void)[] = [];

  private constructor(redis: Redis, keyPrefix: string) {
    this.#r = redis;
    this.#p = keyPrefix;
    for (const [name, def] of Object.entries(SCRIPTS)) redis.defineCommand(name, def);
  }

  /** Connects (failing fast with a clear message when Redis cannot be reached). */
  static async open(opts: RedisStoreOptions): Promise<RedisStore> {
    // While Redis is away a command waits for at most three reconnection attempts, spaced 50, 100
    // and 150 ms (never more than 200 ms): a request that needs the store then fails within about
    // half a second (503 `miroir_store_unavailable`) instead of waiting for ioredis's default
    // backoff of up to 2 s per attempt.
    const redis = new Redis(opts.url || 'redis://127.0.0.1:6379', {
      lazyConnect: true,
      maxRetriesPerRequest: 3,
      retryStrategy: (times) => Math.min(times * 50, 200),
      connectTimeout: 2000,
    });
    redis.on('error', () => {}); // reconnects on its own; a failing command reports the error
    try {
      await redis.connect();
    } catch (e) {
      redis.disconnect();
      throw new Error(`task_store: cannot reach Redis at ${opts.url || 'redis://127.0.0.1:6379'}: ${(e as Error).message}`);
    }
    return new RedisStore(redis, opts.keyPrefix);
  }

  #k(...parts: (string | number)[]): string {
    return this.#p + parts.join(':');
  }

  #script(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    return (this.#r as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<unknown>>)[name](...args);
  }

  // --- tasks -------------------------------------------------------------------------------------

  async nextTaskUid(): Promise<number> {
    return (await this.#r.incr(this.#k('tasks', '_seq'))) - 1;
  }

  async putTask(row: TaskRow): Promise<void> {
    const m = this.#r.multi();
    m.hset(this.#k('tasks', row.uid), { row: JSON.stringify(row), status: row.status, finished_at: row.finishedAt ?? '' });
    m.zadd(this.#k('tasks', '_index'), row.uid, String(row.uid));
    if (isPending(row.status)) m.zadd(this.#k('tasks', '_pending'), row.uid, String(row.uid));
    else m.zrem(this.#k('tasks', '_pending'), String(row.uid));
    if (row.finishedAt !== null) m.zadd(this.#k('tasks', '_finished'), row.finishedAt, String(row.uid));
    else m.zrem(this.#k('tasks', '_finished'), String(row.uid));
    await m.exec();
  }

  async putTaskIfPending(row: TaskRow): Promise<boolean> {
    const r = await this.#script(
      'taskPutIfPending',
      this.#k('tasks', row.uid),
      this.#k('tasks', '_pending'),
      this.#k('tasks', '_finished'),
      JSON.stringify(row),
      row.status,
      row.finishedAt ?? '',
      row.uid,
    );
    return r === 1;
  }

  async markTaskCancelRequested(uid: number, by: number): Promise<boolean> {
    return (await this.#script('taskMarkCancel', this.#k('tasks', uid), by)) === 1;
  }

  async getTask(uid: number): Promise<TaskRow | undefined> {
    const [text, mark] = await this.#r.hmget(this.#k('tasks', uid), 'row', 'cancel_requested_by');
    return text === null || text === undefined ? undefined : readTaskRow(text, String(uid), mark);
  }

  async #rows(uids: string[]): Promise<TaskRow[]> {
    if (uids.length === 0) return [];
    const p = this.#r.pipeline();
    for (const u of uids) p.hmget(this.#k('tasks', u), 'row', 'cancel_requested_by');
    const out: TaskRow[] = [];
    for (const [i, [err, fields]] of (await p.exec())!.entries()) {
      if (err) throw err;
      const [text, mark] = fields as (string | null)[];
      // Deleted between the index read and this one: skipped, as a later scan would.
      if (typeof text === 'string') out.push(readTaskRow(text, uids[i]!, mark));
    }
    return out;
  }

  async *scanTasks(opts: { from?: number; reverse?: boolean }): AsyncIterable<TaskRow> {
    const key = this.#k('tasks', '_index');
    let from = opts.from;
    for (;;) {
      const uids = opts.reverse
        ? await this.#r.zrangebyscore(key, from ?? '-inf', '+inf', 'LIMIT', 0, PAGE)
        : await this.#r.zrevrangebyscore(key, from ?? '+inf', '-inf', 'LIMIT', 0, PAGE);
      for (const row of await this.#rows(uids)) yield row;
      if (uids.length < PAGE) return;
      const last = Number(uids[uids.length - 1]);
      from = opts.reverse ? last + 1 : last - 1;
    }
  }

  async pendingTasks(): Promise<TaskRow[]> {
    const rows = await this.#rows(await this.#r.zrange(this.#k('tasks', '_pending'), '0', '-1'));
    // A row finished between the two reads is not pending any more.
    return rows.filter((r) => isPending(r.status));
  }

  async deleteTasks(uids: number[]): Promise<void> {
    for (let i = 0; i < uids.length; i += 1000) {
      const chunk = uids.slice(i, i + 1000).map(String);
      if (chunk.length === 0) continue;
      const m = this.#r.multi();
      m.del(...chunk.map((u) => this.#k('tasks', u)));
      for (const set of ['_index', '_pending', '_finished']) m.zrem(this.#k('tasks', set), ...chunk);
      await m.exec();
    }
  }

  async countTasks(): Promise<number> {
    return this.#r.zcard(this.#k('tasks', '_index'));
  }

  async pruneTasks(beforeMicros: number): Promise<number> {
    let n = 0;
    for (;;) {
      const uids = await this.#r.zrangebyscore(this.#k('tasks', '_finished'), '-inf', `(${beforeMicros}`, 'LIMIT', 0, 1000);
      if (uids.length === 0) return n;
      await this.deleteTasks(uids.map(Number));
      n += uids.length;
    }
  }

  // --- index metadata ----------------------------------------------------------------------------

  async getIndexMeta(uid: string): Promise<IndexMeta | undefined> {
    const text = await this.#r.get(this.#k('index_meta', uid));
    return text === null ? undefined : readIndexMeta(text, uid);
  }

  async putIndexMeta(meta: IndexMeta): Promise<void> {
    await this.#r.multi().set(this.#k('index_meta', meta.uid), JSON.stringify(meta)).sadd(this.#k('index_meta', '_index'), meta.uid).exec();
  }

  async createIndexMeta(meta: IndexMeta): Promise<IndexMeta> {
    const [[, created], , [, text]] = (await this.#r
      .multi()
      .set(this.#k('index_meta', meta.uid), JSON.stringify(meta), 'NX')
      .sadd(this.#k('index_meta', '_index'), meta.uid)
      .get(this.#k('index_meta', meta.uid))
      .exec())! as [unknown, unknown][];
    return created === 'OK' ? meta : readIndexMeta(text as string, meta.uid);
  }

  async deleteIndexMeta(uid: string): Promise<void> {
    await this.#r.multi().del(this.#k('index_meta', uid)).srem(this.#k('index_meta', '_index'), uid).exec();
  }

  async listIndexMeta(): Promise<IndexMeta[]> {
    const uids = (await this.#r.smembers(this.#k('index_meta', '_index'))).sort();
    if (uids.length === 0) return [];
    const texts = await this.#r.mget(...uids.map((u) => this.#k('index_meta', u)));
    return texts.flatMap((t, i) => (t === null ? [] : [readIndexMeta(t, uids[i]!)]));
  }

  async nodeSettingsVersions(indexUid: string): Promise<Map<string, number>> {
    const nodes = await this.#r.smembers(this.#k('node_settings_version', '_index', indexUid));
    const p = this.#r.pipeline();
    for (const n of nodes) p.hget(this.#k('node_settings_version', indexUid, n), 'version');
    const out = new Map<string, number>();
    for (const [i, [err, v]] of ((await p.exec()) ?? []).entries()) {
      if (err) throw err;
      if (typeof v === 'string') out.set(nodes[i]!, Number(v));
    }
    return out;
  }

  async putNodeSettingsVersion(indexUid: string, nodeId: string, version: number): Promise<void> {
    await this.#r
      .multi()
      .hset(this.#k('node_settings_version', indexUid, nodeId), { version, updated_at: Date.now() })
      .sadd(this.#k('node_settings_version', '_index', indexUid), nodeId)
      .exec();
  }

  async deleteNodeSettingsVersions(indexUid: string): Promise<void> {
    const idx = this.#k('node_settings_version', '_index', indexUid);
    const nodes = await this.#r.smembers(idx);
    await this.#r.del(idx, ...nodes.map((n) => this.#k('node_settings_version', indexUid, n)));
  }

  // --- leases (Mode B) ---------------------------------------------------------------------------

  /** A versioned row (topology, key set): read and validated. */
  async #getVersioned<T>(name: string, schema: { parse(v: unknown): T }): Promise<T | undefined> {
    const text = await this.#r.hget(this.#k(name), 'row');
    return text === null ? undefined : schema.parse(readJson(name, name, text));
  }

  /** A versioned row written only when the stored version is `expectedVersion` (null: none yet). */
  async #putVersioned<T extends { version: number }>(name: string, schema: { parse(v: unknown): T }, value: T, expectedVersion: number | null): Promise<boolean> {
    const row = JSON.stringify(schema.parse(value));
    return (await this.#script('versionCas', this.#k(name), expectedVersion === null ? '' : String(expectedVersion), String(value.version), row)) === 1;
  }

  getTopology(): Promise<StoredTopology | undefined> {
    return this.#getVersioned('topology', storedTopologySchema);
  }

  putTopology(topology: StoredTopology, expectedVersion: number | null): Promise<boolean> {
    return this.#putVersioned('topology', storedTopologySchema, topology, expectedVersion);
  }

  getApiKeys(): Promise<ApiKeySet | undefined> {
    return this.#getVersioned('api_keys', apiKeySetSchema);
  }

  putApiKeys(keys: ApiKeySet, expectedVersion: number | null): Promise<boolean> {
    return this.#putVersioned('api_keys', apiKeySetSchema, keys, expectedVersion);
  }

  async getRebalance(): Promise<RebalanceState | undefined> {
    const text = await this.#r.get(this.#k('rebalance'));
    return text === null ? undefined : rebalanceStateSchema.parse(readJson('rebalance', 'rebalance', text));
  }

  async putRebalance(state: RebalanceState): Promise<void> {
    await this.#r.set(this.#k('rebalance'), JSON.stringify(rebalanceStateSchema.parse(state)));
  }

  async deleteRebalance(): Promise<void> {
    await this.#r.del(this.#k('rebalance'), this.#k('migration_progress'));
  }

  async putMigrationProgress(progress: MigrationProgress): Promise<void> {
    await this.#r.hset(this.#k('migration_progress'), `${progress.move}\u0000${progress.index}`, JSON.stringify(migrationProgressSchema.parse(progress)));
  }

  async listMigrationProgress(): Promise<MigrationProgress[]> {
    const all = await this.#r.hgetall(this.#k('migration_progress'));
    return Object.keys(all)
      .sort()
      .map((f) => migrationProgressSchema.parse(readJson('migration_progress', f, all[f]!)));
  }

  async acquireLease(scope: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    const token = await this.#script('leaseAcquire', this.#k('lease', scope), this.#k('lease_token', scope), holder, ttlMs);
    return token === null ? undefined : { scope, holder, token: Number(token) };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    return (await this.#script('leaseRenew', this.#k('lease', lease.scope), `${lease.holder}|${lease.token}`, ttlMs)) === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.#script('leaseRelease', this.#k('lease', lease.scope), `${lease.holder}|${lease.token}`);
  }

  async currentLease(scope: string): Promise<Lease | undefined> {
    const v = await this.#r.get(this.#k('lease', scope));
    const at = v?.lastIndexOf('|') ?? -1;
    return v === null || v === undefined || at < 0 ? undefined : { scope, holder: v.slice(0, at), token: Number(v.slice(at + 1)) };
  }

  // --- peers -------------------------------------------------------------------------------------

  async heartbeatPeer(peerId: string, ttlMs: number): Promise<void> {
    await this.#script('peers', this.#k('peers'), peerId, ttlMs);
  }

  async removePeer(peerId: string): Promise<void> {
    await this.#r.zrem(this.#k('peers'), peerId);
  }

  async livePeers(): Promise<string[]> {
    return ((await this.#script('peers', this.#k('peers'), '', 0)) as string[]).sort();
  }

  // --- routing fence ----------------------------------------------------------------------------

  async routingEpoch(): Promise<number> {
    return Number((await this.#r.get(this.#k('routing', 'epoch'))) ?? 0);
  }

  async advanceRoutingEpoch(): Promise<number> {
    return this.#r.incr(this.#k('routing', 'epoch'));
  }

  async ackRouting(peer: string, epoch: number, ttlMs: number): Promise<void> {
    await this.#script('routingAcks', this.#k('routing', 'expiries'), this.#k('routing', 'acks'), peer, epoch, ttlMs);
  }

  async routingAcks(): Promise<Map<string, number>> {
    const flat = (await this.#script('routingAcks', this.#k('routing', 'expiries'), this.#k('routing', 'acks'), '', 0, 0)) as string[];
    const out = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i]!, Number(flat[i + 1]));
    return out;
  }

  async writeHolds(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.#r.hgetall(this.#k('routing', 'holds'))));
  }

  async putWriteHold(indexUid: string, holder: string): Promise<void> {
    await this.#r.hset(this.#k('routing', 'holds'), indexUid, holder);
  }

  async dropWriteHold(indexUid: string, holder: string): Promise<void> {
    await this.#script('holdDrop', this.#k('routing', 'holds'), indexUid, holder);
  }

  async dropRoutingPeer(peer: string): Promise<void> {
    await this.#r.multi().zrem(this.#k('routing', 'expiries'), peer).hdel(this.#k('routing', 'acks'), peer).exec();
  }

  // --- missed writes (hinted handoff) -----------------------------------------------------------

  #missedKeys(nodeId: string): [string, string, string] {
    return [this.#k('handoff', nodeId, 'queue'), this.#k('handoff', nodeId), this.#k('handoff', '_behind')];
  }

  async appendMissed(nodeId: string, entries: readonly string[], maxBytes: number): Promise<{ mark: number; fresh: boolean }> {
    const [mark, fresh] = (await this.#script('missedAppend', ...this.#missedKeys(nodeId), this.#k('routing', 'epoch'), nodeId, maxBytes, ...entries)) as [number, number];
    return { mark, fresh: fresh === 1 };
  }

  async peekMissed(nodeId: string, limit: number): Promise<MissedEntry[]> {
    const items = await this.#r.lrange(this.#missedKeys(nodeId)[0], 0, limit - 1);
    return items.map((item) => {
      const sp = item.indexOf(' ');
      return { seq: Number(item.slice(0, sp)), entry: item.slice(sp + 1) };
    });
  }

  async popMissed(nodeId: string, seq: number): Promise<boolean> {
    return (await this.#script('missedPop', ...this.#missedKeys(nodeId), nodeId, seq)) === 1;
  }

  async clearMissedOverflow(nodeId: string): Promise<void> {
    await this.#script('missedClear', ...this.#missedKeys(nodeId), nodeId, '0');
  }

  async dropMissed(nodeId: string): Promise<void> {
    await this.#script('missedClear', ...this.#missedKeys(nodeId), nodeId, '1');
  }

  async missedQueues(): Promise<Map<string, MissedQueue>> {
    const nodes = (await this.#r.smembers(this.#k('handoff', '_behind'))).sort();
    const out = new Map<string, MissedQueue>();
    if (nodes.length === 0) return out;
    const m = this.#r.multi();
    for (const id of nodes) {
      const [queue, meta] = this.#missedKeys(id);
      m.llen(queue).hmget(meta, 'bytes', 'overflowed', 'mark');
    }
    const res = (await m.exec()) ?? [];
    nodes.forEach((id, i) => {
      const entries = Number(res[2 * i]?.[1] ?? 0);
      const [bytes, overflowed, mark] = (res[2 * i + 1]?.[1] ?? []) as (string | null)[];
      out.set(id, { entries, bytes: Number(bytes ?? 0), overflowed: overflowed === '1', mark: Number(mark ?? 0) });
    });
    return out;
  }

  // --- jobs (Mode C) -----------------------------------------------------------------------------

  #job(flat: string[], key: string): JobRow {
    const h: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
    return readJobRow(
      {
        id: Number(h.id),
        type: h.type,
        params: readJson('jobs', key, h.params ?? ''),
        state: h.state,
        claimedBy: h.claimed_by || null,
        claimExpiresAt: h.claim_expires_at ? Number(h.claim_expires_at) : null,
        progress: readJson('jobs', key, h.progress ?? ''),
        createdAt: Number(h.created_at),
      },
      key,
    );
  }

  async enqueueJob(job: { type: string; params: unknown }): Promise<JobRow> {
    const id = await this.#r.incr(this.#k('jobs', '_seq'));
    const row: JobRow = { id, type: job.type, params: job.params ?? null, state: 'queued', claimedBy: null, claimExpiresAt: null, progress: null, createdAt: Date.now() };
    await this.#r
      .multi()
      .hset(this.#k('jobs', id), {
        id,
        type: row.type,
        params: JSON.stringify(row.params),
        state: row.state,
        claimed_by: '',
        claim_expires_at: '',
        progress: 'null',
        created_at: row.createdAt,
      })
      .zadd(this.#k('jobs', '_index'), id, String(id))
      .zadd(this.#k('jobs', '_queued', job.type), id, String(id))
      .zadd(this.#k('jobs', '_queued'), id, String(id))
      .exec();
    return row;
  }

  async claimJob(type: string, claimant: string, ttlMs: number): Promise<JobRow | undefined> {
    const flat = (await this.#script('jobClaim', this.#p, type, claimant, ttlMs)) as string[] | null;
    return flat === null ? undefined : this.#job(flat, 'claim');
  }

  async heartbeatJob(id: number, claimant: string, ttlMs: number, progress?: unknown): Promise<boolean> {
    const p = progress === undefined ? '' : JSON.stringify(progress);
    return (await this.#script('jobUpdate', this.#p, id, claimant, ttlMs, p, '')) === 1;
  }

  async finishJob(id: number, claimant: string, state: 'completed' | 'failed', progress?: unknown): Promise<boolean> {
    const p = progress === undefined ? '' : JSON.stringify(progress);
    return (await this.#script('jobUpdate', this.#p, id, claimant, 0, p, state)) === 1;
  }

  async getJob(id: number): Promise<JobRow | undefined> {
    const flat = await this.#r.hgetall(this.#k('jobs', id));
    return Object.keys(flat).length === 0 ? undefined : this.#job(Object.entries(flat).flat(), String(id));
  }

  async queuedJobCount(type?: string): Promise<number> {
    return this.#r.zcard(type === undefined ? this.#k('jobs', '_queued') : this.#k('jobs', '_queued', type));
  }

  // --- keyed tables ------------------------------------------------------------------------------

  async getRow<T extends TableName>(table: T, key: string): Promise<TableRow<T> | undefined> {
    const text = await this.#r.hget(this.#k(TABLE_KEYS[table], key), 'row');
    return text === null ? undefined : readTableRow(table, text, key);
  }

  async putRow<T extends TableName>(table: T, row: TableRow<T>): Promise<void> {
    const key = keyOf(table, row);
    const m = this.#r.multi().hset(this.#k(TABLE_KEYS[table], key), 'row', JSON.stringify(row));
    const expiresAt = expiryOf(row);
    if (expiresAt !== undefined) m.pexpireat(this.#k(TABLE_KEYS[table], key), Math.max(1, Math.floor(expiresAt)));
    await m.sadd(this.#k(TABLE_KEYS[table], '_index'), key).exec();
  }

  async putRowIfAbsent<T extends TableName>(table: T, row: TableRow<T>): Promise<boolean> {
    const key = keyOf(table, row);
    const expiresAt = expiryOf(row);
    const expiry = expiresAt === undefined ? '' : Math.max(1, Math.floor(expiresAt));
    const r = await this.#script('rowPutIfAbsent', this.#k(TABLE_KEYS[table], key), this.#k(TABLE_KEYS[table], '_index'), JSON.stringify(row), expiry, key);
    return r === 1;
  }

  async deleteRow(table: TableName, key: string): Promise<void> {
    await this.#r.multi().del(this.#k(TABLE_KEYS[table], key)).srem(this.#k(TABLE_KEYS[table], '_index'), key).exec();
  }

  async listRows<T extends TableName>(table: T): Promise<TableRow<T>[]> {
    const index = this.#k(TABLE_KEYS[table], '_index');
    const keys = (await this.#r.smembers(index)).sort();
    const p = this.#r.pipeline();
    for (const k of keys) p.hget(this.#k(TABLE_KEYS[table], k), 'row');
    const out: TableRow<T>[] = [];
    const expired: string[] = [];
    for (const [i, [err, text]] of ((await p.exec()) ?? []).entries()) {
      if (err) throw err;
      if (typeof text === 'string') out.push(readTableRow(table, text, keys[i]!));
      else expired.push(keys[i]!);
    }
    if (expired.length > 0) await this.#r.srem(index, ...expired);
    return out;
  }

  async addCanaryRun(run: CanaryRun, keep: number): Promise<void> {
    const key = this.#k('canary_runs', run.canaryId);
    await this.#r
      .multi()
      .zremrangebyscore(key, run.ranAt, run.ranAt)
      .zadd(key, run.ranAt, JSON.stringify(run))
      .zremrangebyrank(key, 0, -(keep + 1))
      .exec();
  }

  async canaryRuns(canaryId: string): Promise<CanaryRun[]> {
    return (await this.#r.zrevrange(this.#k('canary_runs', canaryId), 0, -1)).map((t) => readCanaryRun(t, canaryId));
  }

  async advanceCdcCursor(sink: string, indexUid: string, seq: number): Promise<number> {
    return Number(await this.#script('cdcAdvance', this.#k('cdc_cursor', sink, indexUid), seq));
  }

  async cdcCursor(sink: string, indexUid: string): Promise<number | undefined> {
    const v = await this.#r.get(this.#k('cdc_cursor', sink, indexUid));
    return v === null ? undefined : Number(v);
  }

  // --- events ------------------------------------------------------------------------------------

  async publish(event: StoreEvent): Promise<void> {
    await this.#r.publish(this.#k('events'), JSON.stringify(event));
  }

  subscribe(handler: (event: StoreEvent) => void): Promise<void> {
    this.#handlers.push(handler);
    if (this.#subscribed === undefined) {
      const sub = (this.#sub = this.#r.duplicate());
      sub.on('error', () => {});
      sub.on('message', (_channel: string, text: string) => {
        const event = readStoreEvent(text);
        if (event !== undefined) for (const h of this.#handlers) h(event);
      });
      // ioredis subscribes again after a reconnection; what was published meanwhile is lost.
      let ready = 0;
      sub.on('ready', () => {
        if (ready++ > 0) for (const h of this.#handlers) h({ kind: 'events_missed' });
      });
      this.#subscribed = sub.subscribe(this.#k('events')).then(() => undefined);
    }
    return this.#subscribed;
  }

  /** Deletes every key under this store's prefix (tests, each on its own prefix). */
  async destroy(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.#r.scan(cursor, 'MATCH', `${this.#p}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await this.#r.del(...keys);
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    this.#handlers.length = 0;
    await this.#sub?.quit().catch(() => {});
    await this.#r.quit().catch(() => {});
  }
}
