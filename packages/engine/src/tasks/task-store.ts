/**
 * Persistence of the task queue in the engine's shared SQLite database: tasks, their payloads
 * (document bodies, kept until the task finishes so an enqueued write survives a restart),
 * batches and the uid sequences. Every statement is prepared once.
 */
import type Database from 'better-sqlite3';
import type { BatchStats, TaskError, TaskRecord, TaskStatus, TaskType } from '@miroir/protocol';

/** A stored batch. Times in microseconds since the epoch. */
export interface BatchRecord {
  uid: number;
  startedAt: number;
  finishedAt: number | null;
  strategy: string;
  details: Record<string, unknown>;
  stats: BatchStats | null;
  taskUids: number[];
  enqueuedAt: number;
}

interface TaskRow {
  uid: number;
  batch_uid: number | null;
  index_uid: string | null;
  indexes: string;
  status: string;
  type: string;
  canceled_by: number | null;
  details: string | null;
  error: string | null;
  enqueued_at: number;
  started_at: number | null;
  finished_at: number | null;
  custom_metadata: string | null;
}

interface BatchRow {
  uid: number;
  started_at: number;
  finished_at: number | null;
  strategy: string;
  details: string;
  stats: string | null;
  task_uids: string;
  enqueued_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  uid INTEGER PRIMARY KEY,
  batch_uid INTEGER,
  index_uid TEXT,
  indexes TEXT NOT NULL,
  status TEXT NOT NULL,
  type TEXT NOT NULL,
  canceled_by INTEGER,
  details TEXT,
  error TEXT,
  enqueued_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  custom_metadata TEXT
);
CREATE TABLE IF NOT EXISTS task_payloads (
  uid INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS task_batches (
  uid INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  strategy TEXT NOT NULL,
  details TEXT NOT NULL,
  stats TEXT,
  task_uids TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS task_sequences (
  name TEXT PRIMARY KEY,
  next INTEGER NOT NULL
);
`;

function toRecord(r: TaskRow): TaskRecord {
  return {
    uid: r.uid,
    batchUid: r.batch_uid,
    indexUid: r.index_uid,
    indexes: JSON.parse(r.indexes) as string[],
    status: r.status as TaskStatus,
    type: r.type as TaskType,
    canceledBy: r.canceled_by,
    details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
    error: r.error === null ? null : (JSON.parse(r.error) as TaskError),
    enqueuedAt: r.enqueued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    customMetadata: r.custom_metadata,
  };
}

function toRow(t: TaskRecord): TaskRow {
  return {
    uid: t.uid,
    batch_uid: t.batchUid,
    index_uid: t.indexUid,
    indexes: JSON.stringify(t.indexes ?? (t.indexUid === null ? [] : [t.indexUid])),
    status: t.status,
    type: t.type,
    canceled_by: t.canceledBy,
    details: t.details === null ? null : JSON.stringify(t.details),
    error: t.error === null ? null : JSON.stringify(t.error),
    enqueued_at: t.enqueuedAt,
    started_at: t.startedAt,
    finished_at: t.finishedAt,
    custom_metadata: t.customMetadata,
  };
}

function toBatch(r: BatchRow): BatchRecord {
  return {
    uid: r.uid,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    strategy: r.strategy,
    details: JSON.parse(r.details) as Record<string, unknown>,
    stats: r.stats === null ? null : (JSON.parse(r.stats) as BatchStats),
    taskUids: JSON.parse(r.task_uids) as number[],
    enqueuedAt: r.enqueued_at,
  };
}

/** Typed access to the task tables. */
export class TaskStore {
  readonly db: Database.Database;
  #s;

  constructor(db: Database.Database) {
    this.db = db;
    db.exec(SCHEMA);
    this.#s = {
      allTasks: db.prepare<[], TaskRow>('SELECT * FROM tasks ORDER BY uid'),
      allBatches: db.prepare<[], BatchRow>('SELECT * FROM task_batches ORDER BY uid'),
      putTask: db.prepare(
        `INSERT OR REPLACE INTO tasks (uid, batch_uid, index_uid, indexes, status, type, canceled_by, details, error,
           enqueued_at, started_at, finished_at, custom_metadata)
         VALUES (@uid, @batch_uid, @index_uid, @indexes, @status, @type, @canceled_by, @details, @error,
           @enqueued_at, @started_at, @finished_at, @custom_metadata)`,
      ),
      deleteTask: db.prepare('DELETE FROM tasks WHERE uid = ?'),
      putPayload: db.prepare('INSERT OR REPLACE INTO task_payloads (uid, data) VALUES (?, ?)'),
      getPayload: db.prepare<[number], { data: Buffer }>('SELECT data FROM task_payloads WHERE uid = ?'),
      deletePayload: db.prepare('DELETE FROM task_payloads WHERE uid = ?'),
      putBatch: db.prepare(
        `INSERT OR REPLACE INTO task_batches (uid, started_at, finished_at, strategy, details, stats, task_uids, enqueued_at)
         VALUES (@uid, @started_at, @finished_at, @strategy, @details, @stats, @task_uids, @enqueued_at)`,
      ),
      deleteBatch: db.prepare('DELETE FROM task_batches WHERE uid = ?'),
      getSeq: db.prepare<[string], { next: number }>('SELECT next FROM task_sequences WHERE name = ?'),
      putSeq: db.prepare('INSERT OR REPLACE INTO task_sequences (name, next) VALUES (?, ?)'),
    };
  }

  /** Runs `fn` in one SQLite transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  loadTasks(): TaskRecord[] {
    return this.#s.allTasks.all().map(toRecord);
  }

  loadBatches(): BatchRecord[] {
    return this.#s.allBatches.all().map(toBatch);
  }

  putTask(t: TaskRecord): void {
    this.#s.putTask.run(toRow(t));
  }

  deleteTask(uid: number): void {
    this.#s.deleteTask.run(uid);
    this.#s.deletePayload.run(uid);
  }

  putPayload(uid: number, data: Buffer): void {
    this.#s.putPayload.run(uid, data);
  }

  payload(uid: number): Buffer | undefined {
    return this.#s.getPayload.get(uid)?.data;
  }

  deletePayload(uid: number): void {
    this.#s.deletePayload.run(uid);
  }

  putBatch(b: BatchRecord): void {
    this.#s.putBatch.run({
      uid: b.uid,
      started_at: b.startedAt,
      finished_at: b.finishedAt,
      strategy: b.strategy,
      details: JSON.stringify(b.details),
      stats: b.stats === null ? null : JSON.stringify(b.stats),
      task_uids: JSON.stringify(b.taskUids),
      enqueued_at: b.enqueuedAt,
    });
  }

  deleteBatch(uid: number): void {
    this.#s.deleteBatch.run(uid);
  }

  /** The next value of a sequence (stored, so uids are never reused after a restart). */
  sequence(name: string): number {
    return this.#s.getSeq.get(name)?.next ?? 0;
  }

  setSequence(name: string, next: number): void {
    this.#s.putSeq.run(name, next);
  }
}
