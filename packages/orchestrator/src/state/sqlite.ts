/**
 * SQLite state store (better-sqlite3): synchronous, transactional, one file, for one process.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  migrationProgressSchema,
  rebalanceStateSchema,
  storedTopologySchema,
  type IndexMeta,
  type MigrationProgress,
  type RebalanceState,
  type StateStore,
  type StoredTopology,
  type TaskRow,
} from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  uid INTEGER PRIMARY KEY,
  status TEXT NOT NULL,
  finished_at INTEGER,
  row TEXT NOT NULL
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
`;

export class SqliteStore implements StateStore {
  readonly #db: Database.Database;
  readonly #stmts;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(SCHEMA);
    const db = this.#db;
    this.#stmts = {
      nextUid: db.prepare(
        `INSERT INTO meta (key, value) VALUES ('task_seq', 0)
         ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value`,
      ),
      putTask: db.prepare('INSERT OR REPLACE INTO tasks (uid, status, finished_at, row) VALUES (?, ?, ?, ?)'),
      getTask: db.prepare('SELECT row FROM tasks WHERE uid = ?'),
      scanDesc: db.prepare('SELECT row FROM tasks WHERE uid <= ? ORDER BY uid DESC'),
      scanAsc: db.prepare('SELECT row FROM tasks WHERE uid >= ? ORDER BY uid ASC'),
      pending: db.prepare(`SELECT row FROM tasks WHERE status IN ('enqueued', 'processing') ORDER BY uid`),
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
    };
  }

  async nextTaskUid(): Promise<number> {
    return (this.#stmts.nextUid.get() as { value: number }).value;
  }

  async putTask(row: TaskRow): Promise<void> {
    this.#stmts.putTask.run(row.uid, row.status, row.finishedAt, JSON.stringify(row));
  }

  async getTask(uid: number): Promise<TaskRow | undefined> {
    const r = this.#stmts.getTask.get(uid) as { row: string } | undefined;
    return r ? (JSON.parse(r.row) as TaskRow) : undefined;
  }

  async *scanTasks(opts: { from?: number; reverse?: boolean }): AsyncIterable<TaskRow> {
    const stmt = opts.reverse ? this.#stmts.scanAsc : this.#stmts.scanDesc;
    const from = opts.from ?? (opts.reverse ? 0 : Number.MAX_SAFE_INTEGER);
    for (const r of stmt.iterate(from) as Iterable<{ row: string }>) yield JSON.parse(r.row) as TaskRow;
  }

  async pendingTasks(): Promise<TaskRow[]> {
    return (this.#stmts.pending.all() as { row: string }[]).map((r) => JSON.parse(r.row) as TaskRow);
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
    return r ? (JSON.parse(r.row) as IndexMeta) : undefined;
  }

  async putIndexMeta(meta: IndexMeta): Promise<void> {
    this.#stmts.putMeta.run(meta.uid, JSON.stringify(meta));
  }

  async deleteIndexMeta(uid: string): Promise<void> {
    this.#stmts.deleteMeta.run(uid);
  }

  async listIndexMeta(): Promise<IndexMeta[]> {
    return (this.#stmts.listMeta.all() as { row: string }[]).map((r) => JSON.parse(r.row) as IndexMeta);
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
    return this.#db.transaction(() => {
      const current = this.#getKv('topology', storedTopologySchema);
      if ((current?.version ?? null) !== expectedVersion) return false;
      this.#stmts.putKv.run('topology', JSON.stringify(storedTopologySchema.parse(topology)));
      return true;
    })();
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

  async close(): Promise<void> {
    this.#db.close();
  }
}
