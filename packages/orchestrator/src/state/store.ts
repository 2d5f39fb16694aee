/**
 * The state store: everything that must outlive an orchestrator process (spec S4.1). One interface;
 * SQLite serves a single process. Methods are async so that a networked backend fits the same shape.
 */
import type { ErrorBody } from '@miroir/protocol';

export type TaskStatus = 'enqueued' | 'processing' | 'succeeded' | 'failed' | 'canceled';

/** One Miroir task: the client-visible task plus the node tasks it stands for. */
export interface TaskRow {
  uid: number;
  indexUid: string | null;
  type: string;
  status: TaskStatus;
  canceledBy: number | null;
  /** Client-visible details as known at enqueue time; node results are folded in by the poller. */
  details: Record<string, unknown> | null;
  error: ErrorBody | null;
  enqueuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  customMetadata: string | null;
  /** node id → node task uid, for the nodes that acknowledged. */
  nodeTasks: Record<string, number>;
}

/** Per-index metadata Miroir keeps (spec S4.1 "also persisted"). */
export interface IndexMeta {
  uid: string;
  primaryKey: string | null;
  shards: number;
  settingsVersion: number;
  createdAt: string;
}

export interface StateStore {
  /** Allocates the next task uid: integer, unique and monotonic across the cluster. */
  nextTaskUid(): Promise<number>;
  putTask(row: TaskRow): Promise<void>;
  getTask(uid: number): Promise<TaskRow | undefined>;
  /** Tasks by uid, newest first, starting at `from` (inclusive) when given. */
  scanTasks(opts: { from?: number; reverse?: boolean }): AsyncIterable<TaskRow>;
  /** Uids of tasks not yet in a terminal state, oldest first. */
  pendingTasks(): Promise<TaskRow[]>;
  deleteTasks(uids: number[]): Promise<void>;
  /** Deletes finished tasks that finished before `before` (ISO date); returns how many. */
  pruneTasks(before: string): Promise<number>;

  getIndexMeta(uid: string): Promise<IndexMeta | undefined>;
  putIndexMeta(meta: IndexMeta): Promise<void>;
  deleteIndexMeta(uid: string): Promise<void>;
  listIndexMeta(): Promise<IndexMeta[]>;

  close(): Promise<void>;
}
