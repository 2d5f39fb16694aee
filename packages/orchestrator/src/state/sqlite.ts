/**
 * SQLite state store (better-sqlite3): synchronous, transactional, one file, for one process.
 * Leases, peers and jobs keep their rows here too (so phase state survives a restart), but with one
 * process the "lock" is this process's own transaction; the bus is an in-process emitter.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { readCanaryRun, readIndexMeta, readJobRow, readJson, readTableRow, readTaskRow } from './rows.js';
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  uid INTEGER PRIMARY KEY,
  status TEXT NOT NULL,
  finished_at INTEGER,
  row TEXT NOT NULL,
  cancel_requested_by INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_pending ON tasks (status) WHERE status IN ('enqueued', 'processing');
CREATE TABLE IF NOT EXISTS index_meta (uid TEXT PRIMARY KEY, row TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS node_settings_version (
  index_uid TEXT NOT NULL,
  node_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (index_uid, node_id)
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, row TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS migration_progress (move TEXT NOT NULL, index_uid TEXT NOT NULL, row TEXT NOT NULL, PRIMARY KEY (move, index_uid));
CREATE TABLE IF NOT EXISTS leader_lease (
  scope TEXT PRIMARY KEY,
  holder TEXT,
  token INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS peers (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS routing_acks (id TEXT PRIMARY KEY, epoch INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS write_holds (index_uid TEXT PRIMARY KEY, holder TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS missed_writes (seq INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL, entry TEXT NOT NULL, bytes INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS missed_writes_node ON missed_writes (node, seq);
CREATE TABLE IF NOT EXISTS missed_nodes (node TEXT PRIMARY KEY, bytes INTEGER NOT NULL, overflowed INTEGER NOT NULL, mark INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  params TEXT NOT NULL,
  state TEXT NOT NULL,
  claimed_by TEXT,
  claim_expires_at INTEGER,
  progress TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_claimable ON jobs (type, state, id);
CREATE TABLE IF NOT EXISTS keyed_rows (
  tbl TEXT NOT NULL,
  key TEXT NOT NULL,
  row TEXT NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (tbl, key)
);
CREATE TABLE IF NOT EXISTS canary_runs (
  canary_id TEXT NOT NULL,
  ran_at INTEGER NOT NULL,
  row TEXT NOT NULL,
  PRIMARY KEY (canary_id, ran_at)
);
CREATE TABLE IF NOT EXISTS cdc_cursors (
  sink_name TEXT NOT NULL,
  index_uid TEXT NOT NULL,
  last_event_seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (sink_name, index_uid)
);
`;

/** A task as selected: its row and the cancel mark kept beside it. */
interface TaskSql {
  row: string;
  mark: number | null;
}

interface JobSql {
  id: number;
  type: string;
  params: string;
  state: string;
  claimed_by: string | null;
  claim_expires_at: number | null;
  progress: string;
  created_at: number;
}

function jobOf(r: JobSql): JobRow {
  const key = String(r.id);
  return readJobRow(
    {
      id: r.id,
      type: r.type,
      params: readJson('jobs', key, r.params),
      state: r.state,
      claimedBy: r.claimed_by,
      claimExpiresAt: r.claim_expires_at,
      progress: readJson('jobs', key, r.progress),
      createdAt: r.created_at,
    },
    key,
  );
}

/** One bus per database file: every handle on a file (in this process) hears the others. */
const buses = new Map<string, EventEmitter>();

export class SqliteStore implements StateStore {
  readonly #db: Database.Database;
  readonly #stmts;
  readonly #bus: EventEmitter;
  readonly #listeners: ((e: StoreEvent) => void)[] = [];

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    let bus = path === ':memory:' ? undefined : buses.get(resolve(path));
    if (bus === undefined) {
      bus = new EventEmitter().setMaxListeners(0);
      if (path !== ':memory:') buses.set(resolve(path), bus);
    }
    this.#bus = bus;
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(SCHEMA);
    // A file written before the cancel mark had its own column.
    const columns = this.#db.prepare('PRAGMA table_info(tasks)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'cancel_requested_by')) this.#db.exec('ALTER TABLE tasks ADD COLUMN cancel_requested_by INTEGER');
    const db = this.#db;
    this.#stmts = {
      nextUid: db.prepare(
        `INSERT INTO meta (key, value) VALUES ('task_seq', 0)
         ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value`,
      ),
      // The cancel mark is kept: only markCancel writes it.
      putTask: db.prepare(
        `INSERT INTO tasks (uid, status, finished_at, row) VALUES (?, ?, ?, ?)
         ON CONFLICT (uid) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at, row = excluded.row`,
      ),
      getTask: db.prepare('SELECT row, cancel_requested_by AS mark FROM tasks WHERE uid = ?'),
      markCancel: db.prepare(`UPDATE tasks SET cancel_requested_by = ? WHERE uid = ? AND status IN ('enqueued', 'processing')`),
      putPending: db.prepare(`UPDATE tasks SET status = ?, finished_at = ?, row = ? WHERE uid = ? AND status IN ('enqueued', 'processing')`),
      scanDesc: db.prepare('SELECT row, cancel_requested_by AS mark FROM tasks WHERE uid <= ? ORDER BY uid DESC'),
      scanAsc: db.prepare('SELECT row, cancel_requested_by AS mark FROM tasks WHERE uid >= ? ORDER BY uid ASC'),
      pending: db.prepare(`SELECT row, cancel_requested_by AS mark FROM tasks WHERE status IN ('enqueued', 'processing') ORDER BY uid`),
      deleteTask: db.prepare('DELETE FROM tasks WHERE uid = ?'),
      countTasks: db.prepare('SELECT COUNT(*) AS n FROM tasks'),
      prune: db.prepare(`DELETE FROM tasks WHERE finished_at IS NOT NULL AND finished_at < ?`),
      getMeta: db.prepare('SELECT row FROM index_meta WHERE uid = ?'),
      putMeta: db.prepare('INSERT OR REPLACE INTO index_meta (uid, row) VALUES (?, ?)'),
      deleteMeta: db.prepare('DELETE FROM index_meta WHERE uid = ?'),
      listMeta: db.prepare('SELECT row FROM index_meta ORDER BY uid'),
      nodeVersions: db.prepare('SELECT node_id, version FROM node_settings_version WHERE index_uid = ?'),
      putNodeVersion: db.prepare('INSERT OR REPLACE INTO node_settings_version (index_uid, node_id, version, updated_at) VALUES (?, ?, ?, ?)'),
      deleteNodeVersions: db.prepare('DELETE FROM node_settings_version WHERE index_uid = ?'),
      getKv: db.prepare('SELECT row FROM kv WHERE key = ?'),
      putKv: db.prepare('INSERT OR REPLACE INTO kv (key, row) VALUES (?, ?)'),
      deleteKv: db.prepare('DELETE FROM kv WHERE key = ?'),
      putProgress: db.prepare('INSERT OR REPLACE INTO migration_progress (move, index_uid, row) VALUES (?, ?, ?)'),
      listProgress: db.prepare('SELECT row FROM migration_progress ORDER BY move, index_uid'),
      clearProgress: db.prepare('DELETE FROM migration_progress'),
      createMeta: db.prepare('INSERT OR IGNORE INTO index_meta (uid, row) VALUES (?, ?)'),
      getLease: db.prepare('SELECT holder, token, expires_at FROM leader_lease WHERE scope = ?'),
      putLease: db.prepare(
        `INSERT INTO leader_lease (scope, holder, token, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (scope) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at`,
      ),
      renewLease: db.prepare('UPDATE leader_lease SET expires_at = ? WHERE scope = ? AND holder = ? AND token = ? AND expires_at > ?'),
      releaseLease: db.prepare('UPDATE leader_lease SET holder = NULL, expires_at = 0 WHERE scope = ? AND holder = ? AND token = ?'),
      heartbeat: db.prepare('INSERT OR REPLACE INTO peers (id, expires_at) VALUES (?, ?)'),
      removePeer: db.prepare('DELETE FROM peers WHERE id = ?'),
      livePeers: db.prepare('SELECT id FROM peers WHERE expires_at > ? ORDER BY id'),
      routingEpoch: db.prepare(`SELECT value FROM meta WHERE key = 'routing_epoch'`),
      advanceRouting: db.prepare(
        `INSERT INTO meta (key, value) VALUES ('routing_epoch', 1)
         ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value`,
      ),
      ackRouting: db.prepare('INSERT OR REPLACE INTO routing_acks (id, epoch, expires_at) VALUES (?, ?, ?)'),
      routingAcks: db.prepare('SELECT id, epoch FROM routing_acks WHERE expires_at > ? ORDER BY id'),
      dropRouting: db.prepare('DELETE FROM routing_acks WHERE id = ?'),
      writeHolds: db.prepare('SELECT index_uid, holder FROM write_holds ORDER BY index_uid'),
      putHold: db.prepare('INSERT OR REPLACE INTO write_holds (index_uid, holder) VALUES (?, ?)'),
      dropHold: db.prepare('DELETE FROM write_holds WHERE index_uid = ? AND holder = ?'),
      missedNode: db.prepare('SELECT bytes, overflowed, mark FROM missed_nodes WHERE node = ?'),
      putMissedNode: db.prepare('INSERT OR REPLACE INTO missed_nodes (node, bytes, overflowed, mark) VALUES (?, ?, ?, ?)'),
      dropMissedNode: db.prepare('DELETE FROM missed_nodes WHERE node = ?'),
      missedNodes: db.prepare('SELECT m.node, m.bytes, m.overflowed, m.mark, (SELECT count(*) FROM missed_writes w WHERE w.node = m.node) AS entries FROM missed_nodes m ORDER BY m.node'),
      insertMissed: db.prepare('INSERT INTO missed_writes (node, entry, bytes) VALUES (?, ?, ?)'),
      peekMissed: db.prepare('SELECT seq, entry, bytes FROM missed_writes WHERE node = ? ORDER BY seq LIMIT ?'),
      deleteMissed: db.prepare('DELETE FROM missed_writes WHERE seq = ?'),
      clearMissed: db.prepare('DELETE FROM missed_writes WHERE node = ?'),
      insertJob: db.prepare(`INSERT INTO jobs (type, params, state, progress, created_at) VALUES (?, ?, 'queued', 'null', ?) RETURNING *`),
      claimable: db.prepare(
        `SELECT * FROM jobs WHERE type = ? AND (state = 'queued' OR (state = 'in_progress' AND claim_expires_at <= ?))
         ORDER BY state = 'queued', id LIMIT 1`,
      ),
      claim: db.prepare(`UPDATE jobs SET state = 'in_progress', claimed_by = ?, claim_expires_at = ? WHERE id = ? RETURNING *`),
      heartbeatJob: db.prepare(
        `UPDATE jobs SET claim_expires_at = ?, progress = coalesce(?, progress)
         WHERE id = ? AND claimed_by = ? AND state = 'in_progress' AND claim_expires_at > ?`,
      ),
      finishJob: db.prepare(
        `UPDATE jobs SET state = ?, claim_expires_at = NULL, progress = coalesce(?, progress)
         WHERE id = ? AND claimed_by = ? AND state = 'in_progress' AND claim_expires_at > ?`,
      ),
      getJob: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      queuedJobs: db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued'`),
      queuedJobsOf: db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued' AND type = ?`),
      getRow: db.prepare('SELECT row FROM keyed_rows WHERE tbl = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)'),
      putRow: db.prepare('INSERT OR REPLACE INTO keyed_rows (tbl, key, row, expires_at) VALUES (?, ?, ?, ?)'),
      // A live row wins; an expired one (not yet deleted) is replaced.
      putRowIfAbsent: db.prepare(
        `INSERT INTO keyed_rows (tbl, key, row, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (tbl, key) DO UPDATE SET row = excluded.row, expires_at = excluded.expires_at
         WHERE keyed_rows.expires_at IS NOT NULL AND keyed_rows.expires_at <= ?`,
      ),
      deleteRow: db.prepare('DELETE FROM keyed_rows WHERE tbl = ? AND key = ?'),
      listRows: db.prepare('SELECT key, row FROM keyed_rows WHERE tbl = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key'),
      expireRows: db.prepare('DELETE FROM keyed_rows WHERE tbl = ? AND expires_at <= ?'),
      addRun: db.prepare('INSERT OR REPLACE INTO canary_runs (canary_id, ran_at, row) VALUES (?, ?, ?)'),
      trimRuns: db.prepare(
        'DELETE FROM canary_runs WHERE canary_id = ? AND ran_at NOT IN (SELECT ran_at FROM canary_runs WHERE canary_id = ? ORDER BY ran_at DESC LIMIT ?)',
      ),
      runs: db.prepare('SELECT row FROM canary_runs WHERE canary_id = ? ORDER BY ran_at DESC'),
      advanceCdc: db.prepare(
        `INSERT INTO cdc_cursors (sink_name, index_uid, last_event_seq, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (sink_name, index_uid) DO UPDATE SET last_event_seq = max(last_event_seq, excluded.last_event_seq),
         updated_at = excluded.updated_at RETURNING last_event_seq`,
      ),
      cdc: db.prepare('SELECT last_event_seq FROM cdc_cursors WHERE sink_name = ? AND index_uid = ?'),
    };
  }

  async nextTaskUid(): Promise<number> {
    return (this.#stmts.nextUid.get() as { value: number }).value;
  }

  async putTask(row: TaskRow): Promise<void> {
    this.#stmts.putTask.run(row.uid, row.status, row.finishedAt, JSON.stringify(row));
  }

  async putTaskIfPending(row: TaskRow): Promise<boolean> {
    return this.#stmts.putPending.run(row.status, row.finishedAt, JSON.stringify(row), row.uid).changes === 1;
  }

  async markTaskCancelRequested(uid: number, by: number): Promise<boolean> {
    return this.#stmts.markCancel.run(by, uid).changes === 1;
  }

  async getTask(uid: number): Promise<TaskRow | undefined> {
    const r = this.#stmts.getTask.get(uid) as TaskSql | undefined;
    return r ? readTaskRow(r.row, String(uid), r.mark) : undefined;
  }

  async *scanTasks(opts: { from?: number; reverse?: boolean }): AsyncIterable<TaskRow> {
    const stmt = opts.reverse ? this.#stmts.scanAsc : this.#stmts.scanDesc;
    const from = opts.from ?? (opts.reverse ? 0 : Number.MAX_SAFE_INTEGER);
    for (const r of stmt.iterate(from) as Iterable<TaskSql>) yield readTaskRow(r.row, 'scan', r.mark);
  }

  async pendingTasks(): Promise<TaskRow[]> {
    return (this.#stmts.pending.all() as TaskSql[]).map((r) => readTaskRow(r.row, 'pending', r.mark));
  }

  async deleteTasks(uids: number[]): Promise<void> {
    this.#db.transaction(() => {
      for (const uid of uids) this.#stmts.deleteTask.run(uid);
    })();
  }

  async countTasks(): Promise<number> {
    return (this.#stmts.countTasks.get() as { n: number }).n;
  }

  async pruneTasks(beforeMicros: number): Promise<number> {
    return this.#stmts.prune.run(beforeMicros).changes;
  }

  async getIndexMeta(uid: string): Promise<IndexMeta | undefined> {
    const r = this.#stmts.getMeta.get(uid) as { row: string } | undefined;
    return r ? readIndexMeta(r.row, uid) : undefined;
  }

  async putIndexMeta(meta: IndexMeta): Promise<void> {
    this.#stmts.putMeta.run(meta.uid, JSON.stringify(meta));
  }

  async deleteIndexMeta(uid: string): Promise<void> {
    this.#stmts.deleteMeta.run(uid);
  }

  async listIndexMeta(): Promise<IndexMeta[]> {
    return (this.#stmts.listMeta.all() as { row: string }[]).map((r) => readIndexMeta(r.row, 'list'));
  }

  async nodeSettingsVersions(indexUid: string): Promise<Map<string, number>> {
    const rows = this.#stmts.nodeVersions.all(indexUid) as { node_id: string; version: number }[];
    return new Map(rows.map((r) => [r.node_id, r.version]));
  }

  async putNodeSettingsVersion(indexUid: string, nodeId: string, version: number): Promise<void> {
    this.#stmts.putNodeVersion.run(indexUid, nodeId, version, Date.now());
  }

  async deleteNodeSettingsVersions(indexUid: string): Promise<void> {
    this.#stmts.deleteNodeVersions.run(indexUid);
  }

  #getKv<T>(key: string, schema: { parse(v: unknown): T }): T | undefined {
    const r = this.#stmts.getKv.get(key) as { row: string } | undefined;
    return r ? schema.parse(JSON.parse(r.row)) : undefined;
  }

  async getTopology(): Promise<StoredTopology | undefined> {
    return this.#getKv('topology', storedTopologySchema);
  }

  async putTopology(topology: StoredTopology, expectedVersion: number | null): Promise<boolean> {
    return this.#putVersionedKv('topology', storedTopologySchema, topology, expectedVersion);
  }

  /** A versioned row written only when the stored version is `expectedVersion` (null: none yet). */
  #putVersionedKv<T extends { version: number }>(key: string, schema: { parse(v: unknown): T }, value: T, expectedVersion: number | null): boolean {
    return this.#db.transaction(() => {
      const current = this.#getKv(key, schema);
      if ((current?.version ?? null) !== expectedVersion) return false;
      this.#stmts.putKv.run(key, JSON.stringify(schema.parse(value)));
      return true;
    })();
  }

  async getApiKeys(): Promise<ApiKeySet | undefined> {
    return this.#getKv('api_keys', apiKeySetSchema);
  }

  async putApiKeys(keys: ApiKeySet, expectedVersion: number | null): Promise<boolean> {
    return this.#putVersionedKv('api_keys', apiKeySetSchema, keys, expectedVersion);
  }


  async getRebalance(): Promise<RebalanceState | undefined> {
    return this.#getKv('rebalance', rebalanceStateSchema);
  }

  async putRebalance(state: RebalanceState): Promise<void> {
    this.#stmts.putKv.run('rebalance', JSON.stringify(rebalanceStateSchema.parse(state)));
  }

  async deleteRebalance(): Promise<void> {
    this.#db.transaction(() => {
      this.#stmts.deleteKv.run('rebalance');
      this.#stmts.clearProgress.run();
    })();
  }

  async putMigrationProgress(progress: MigrationProgress): Promise<void> {
    this.#stmts.putProgress.run(progress.move, progress.index, JSON.stringify(migrationProgressSchema.parse(progress)));
  }

  async listMigrationProgress(): Promise<MigrationProgress[]> {
    return (this.#stmts.listProgress.all() as { row: string }[]).map((r) => migrationProgressSchema.parse(JSON.parse(r.row)));
  }

  async createIndexMeta(meta: IndexMeta): Promise<IndexMeta> {
    this.#stmts.createMeta.run(meta.uid, JSON.stringify(meta));
    return (await this.getIndexMeta(meta.uid))!;
  }

  async acquireLease(scope: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    return this.#db.transaction(() => {
      const now = Date.now();
      const cur = this.#stmts.getLease.get(scope) as { holder: string | null; token: number; expires_at: number } | undefined;
      if (cur && cur.holder !== null && cur.expires_at > now) return undefined;
      const token = (cur?.token ?? 0) + 1;
      this.#stmts.putLease.run(scope, holder, token, now + ttlMs);
      return { scope, holder, token };
    })();
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    return this.#stmts.renewLease.run(now + ttlMs, lease.scope, lease.holder, lease.token, now).changes === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.#stmts.releaseLease.run(lease.scope, lease.holder, lease.token);
  }

  async currentLease(scope: string): Promise<Lease | undefined> {
    const cur = this.#stmts.getLease.get(scope) as { holder: string | null; token: number; expires_at: number } | undefined;
    return cur && cur.holder !== null && cur.expires_at > Date.now() ? { scope, holder: cur.holder, token: cur.token } : undefined;
  }

  async heartbeatPeer(peerId: string, ttlMs: number): Promise<void> {
    this.#stmts.heartbeat.run(peerId, Date.now() + ttlMs);
  }

  async removePeer(peerId: string): Promise<void> {
    this.#stmts.removePeer.run(peerId);
  }

  async livePeers(): Promise<string[]> {
    return (this.#stmts.livePeers.all(Date.now()) as { id: string }[]).map((r) => r.id);
  }

  async routingEpoch(): Promise<number> {
    return (this.#stmts.routingEpoch.get() as { value: number } | undefined)?.value ?? 0;
  }

  async advanceRoutingEpoch(): Promise<number> {
    return (this.#stmts.advanceRouting.get() as { value: number }).value;
  }

  async ackRouting(peer: string, epoch: number, ttlMs: number): Promise<void> {
    this.#stmts.ackRouting.run(peer, epoch, Date.now() + ttlMs);
  }

  async routingAcks(): Promise<Map<string, number>> {
    return new Map((this.#stmts.routingAcks.all(Date.now()) as { id: string; epoch: number }[]).map((r) => [r.id, r.epoch]));
  }

  async dropRoutingPeer(peer: string): Promise<void> {
    this.#stmts.dropRouting.run(peer);
  }

  async writeHolds(): Promise<Map<string, string>> {
    return new Map((this.#stmts.writeHolds.all() as { index_uid: string; holder: string }[]).map((r) => [r.index_uid, r.holder]));
  }

  async putWriteHold(indexUid: string, holder: string): Promise<void> {
    this.#stmts.putHold.run(indexUid, holder);
  }

  async dropWriteHold(indexUid: string, holder: string): Promise<void> {
    this.#stmts.dropHold.run(indexUid, holder);
  }

  async appendMissed(nodeId: string, entries: readonly string[], maxBytes: number): Promise<{ mark: number; fresh: boolean }> {
    const st = this.#stmts;
    return this.#db.transaction(() => {
      const row = st.missedNode.get(nodeId) as { bytes: number; overflowed: number; mark: number } | undefined;
      const mark = row?.mark ?? (st.advanceRouting.get() as { value: number }).value;
      if (row?.overflowed === 1) return { mark, fresh: false };
      let bytes = row?.bytes ?? 0;
      for (const e of entries) {
        const size = Buffer.byteLength(e);
        st.insertMissed.run(nodeId, e, size);
        bytes += size;
      }
      const overflowed = bytes > maxBytes;
      if (overflowed) st.clearMissed.run(nodeId);
      st.putMissedNode.run(nodeId, overflowed ? 0 : bytes, overflowed ? 1 : 0, mark);
      return { mark, fresh: row === undefined };
    })();
  }

  async peekMissed(nodeId: string, limit: number): Promise<MissedEntry[]> {
    return (this.#stmts.peekMissed.all(nodeId, limit) as { seq: number; entry: string }[]).map(({ seq, entry }) => ({ seq, entry }));
  }

  async popMissed(nodeId: string, seq: number): Promise<boolean> {
    const st = this.#stmts;
    return this.#db.transaction(() => {
      const head = st.peekMissed.get(nodeId, 1) as { seq: number; bytes: number } | undefined;
      if (head?.seq !== seq) return false;
      st.deleteMissed.run(seq);
      const row = st.missedNode.get(nodeId) as { bytes: number; overflowed: number; mark: number };
      if (st.peekMissed.get(nodeId, 1) === undefined && row.overflowed === 0) st.dropMissedNode.run(nodeId);
      else st.putMissedNode.run(nodeId, Math.max(0, row.bytes - head.bytes), row.overflowed, row.mark);
      return true;
    })();
  }

  async clearMissedOverflow(nodeId: string): Promise<void> {
    const st = this.#stmts;
    this.#db.transaction(() => {
      const row = st.missedNode.get(nodeId) as { bytes: number; mark: number } | undefined;
      if (row === undefined) return;
      if (st.peekMissed.get(nodeId, 1) === undefined) st.dropMissedNode.run(nodeId);
      else st.putMissedNode.run(nodeId, row.bytes, 0, row.mark);
    })();
  }

  async dropMissed(nodeId: string): Promise<void> {
    this.#db.transaction(() => {
      this.#stmts.clearMissed.run(nodeId);
      this.#stmts.dropMissedNode.run(nodeId);
    })();
  }

  async missedQueues(): Promise<Map<string, MissedQueue>> {
    const rows = this.#stmts.missedNodes.all() as { node: string; bytes: number; overflowed: number; mark: number; entries: number }[];
    return new Map(rows.map((r) => [r.node, { entries: r.entries, bytes: r.bytes, overflowed: r.overflowed === 1, mark: r.mark }]));
  }

  async enqueueJob(job: { type: string; params: unknown }): Promise<JobRow> {
    return jobOf(this.#stmts.insertJob.get(job.type, JSON.stringify(job.params ?? null), Date.now()) as JobSql);
  }

  async claimJob(type: string, claimant: string, ttlMs: number): Promise<JobRow | undefined> {
    return this.#db.transaction(() => {
      const now = Date.now();
      const r = this.#stmts.claimable.get(type, now) as JobSql | undefined;
      return r ? jobOf(this.#stmts.claim.get(claimant, now + ttlMs, r.id) as JobSql) : undefined;
    })();
  }

  async heartbeatJob(id: number, claimant: string, ttlMs: number, progress?: unknown): Promise<boolean> {
    const now = Date.now();
    const p = progress === undefined ? null : JSON.stringify(progress);
    return this.#stmts.heartbeatJob.run(now + ttlMs, p, id, claimant, now).changes === 1;
  }

  async finishJob(id: number, claimant: string, state: 'completed' | 'failed', progress?: unknown): Promise<boolean> {
    const p = progress === undefined ? null : JSON.stringify(progress);
    return this.#stmts.finishJob.run(state, p, id, claimant, Date.now()).changes === 1;
  }

  async getJob(id: number): Promise<JobRow | undefined> {
    const r = this.#stmts.getJob.get(id) as JobSql | undefined;
    return r ? jobOf(r) : undefined;
  }

  async queuedJobCount(type?: string): Promise<number> {
    return ((type === undefined ? this.#stmts.queuedJobs.get() : this.#stmts.queuedJobsOf.get(type)) as { n: number }).n;
  }

  async getRow<T extends TableName>(table: T, key: string): Promise<TableRow<T> | undefined> {
    const r = this.#stmts.getRow.get(table, key, Date.now()) as { row: string } | undefined;
    return r ? readTableRow(table, r.row, key) : undefined;
  }

  async putRow<T extends TableName>(table: T, row: TableRow<T>): Promise<void> {
    this.#stmts.putRow.run(table, keyOf(table, row), JSON.stringify(row), expiryOf(row) ?? null);
  }

  async putRowIfAbsent<T extends TableName>(table: T, row: TableRow<T>): Promise<boolean> {
    return this.#stmts.putRowIfAbsent.run(table, keyOf(table, row), JSON.stringify(row), expiryOf(row) ?? null, Date.now()).changes === 1;
  }

  async deleteRow(table: TableName, key: string): Promise<void> {
    this.#stmts.deleteRow.run(table, key);
  }

  async listRows<T extends TableName>(table: T): Promise<TableRow<T>[]> {
    const now = Date.now();
    this.#stmts.expireRows.run(table, now);
    return (this.#stmts.listRows.all(table, now) as { key: string; row: string }[]).map((r) => readTableRow(table, r.row, r.key));
  }

  async addCanaryRun(run: CanaryRun, keep: number): Promise<void> {
    this.#db.transaction(() => {
      this.#stmts.addRun.run(run.canaryId, run.ranAt, JSON.stringify(run));
      this.#stmts.trimRuns.run(run.canaryId, run.canaryId, keep);
    })();
  }

  async canaryRuns(canaryId: string): Promise<CanaryRun[]> {
    return (this.#stmts.runs.all(canaryId) as { row: string }[]).map((r) => readCanaryRun(r.row, canaryId));
  }

  async advanceCdcCursor(sink: string, indexUid: string, seq: number): Promise<number> {
    return (this.#stmts.advanceCdc.get(sink, indexUid, seq, Date.now()) as { last_event_seq: number }).last_event_seq;
  }

  async cdcCursor(sink: string, indexUid: string): Promise<number | undefined> {
    return (this.#stmts.cdc.get(sink, indexUid) as { last_event_seq: number } | undefined)?.last_event_seq;
  }

  async publish(event: StoreEvent): Promise<void> {
    this.#bus.emit('event', event);
  }

  async subscribe(handler: (event: StoreEvent) => void): Promise<void> {
    this.#listeners.push(handler);
    this.#bus.on('event', handler);
  }

  async close(): Promise<void> {
    for (const l of this.#listeners) this.#bus.off('event', l);
    this.#db.close();
  }
}
