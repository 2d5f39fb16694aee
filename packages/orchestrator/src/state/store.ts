/**
 * The state store: everything that must outlive an orchestrator process (spec S4.1). One interface;
 * SQLite serves a single process. Methods are async so that a networked backend fits the same shape.
 */
import type { TaskRecord } from '@miroir/protocol';

/**
 * One Miroir task: the client-visible task (times in microseconds since the epoch, as the protocol
 * package renders them) plus the node tasks it stands for.
 */
export interface TaskRow extends TaskRecord {
  /**
   * node id → the node task uids this task stands for on that node, in the order they were sent
   * (e.g. an index creation plus the settings that make the shard field filterable).
   */
  nodeTasks: Record<string, number[]>;
  /**
   * Position, in each node's list, of the node task that carries the client's own operation: its
   * `details` are shown (settings updates, whose details a node normalizes). Absent: Miroir's own.
   */
  detailsFrom?: number;
  /** The Miroir `taskCancelation` that asked the nodes to cancel this task, if any. */
  cancelRequestedBy?: number;
  /** For a `taskCancelation`: the Miroir tasks it matched. */
  matchedUids?: number[];
  /** A settings change in flight (spec S13.5): its phase, kept so that a restart can finish it. */
  settingsBroadcast?: SettingsBroadcastState;
}

/** A request sent to nodes, as persisted (no signal, no raw bytes). */
export interface StoredNodeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
}

/** The persisted state of one settings broadcast (spec S13.5, S4.1 leases' "phase state"). */
export interface SettingsBroadcastState {
  strategy: 'two_phase' | 'sequential';
  /** propose → verify (→ repair) → commit → done; sequential: apply → (rollback) → done. */
  phase: 'propose' | 'verify' | 'repair' | 'commit' | 'apply' | 'rollback' | 'done';
  /** What each node is sent, in order (the client's change, node-side). */
  requests: StoredNodeRequest[];
  /** Top-level node-side settings the change sets (`null`: reset); verify checks them. */
  proposal: Record<string, unknown>;
  /** The version the commit writes, fixed before it is written so a resumed commit does not add one again. */
  commitVersion?: number;
  /** Sequential: each node's settings before the change (for the rollback), nodes already changed. */
  previous?: Record<string, unknown>;
  applied?: string[];
}

/** Per-index metadata Miroir keeps (spec S4.1 "also persisted"). */
export interface IndexMeta {
  uid: string;
  primaryKey: string | null;
  shards: number;
  settingsVersion: number;
  createdAt: string;
  /** Why writes to this index are refused, when they are (spec S13.5 `freeze_writes_on_unrepairable`). */
  writesFrozen?: string;
  /** Fingerprint of the committed node-side settings (spec S13.5): what the drift check compares against. */
  settingsFingerprint?: string;
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
  /** How many tasks the store holds. */
  countTasks(): Promise<number>;
  /** Deletes finished tasks that finished before `beforeMicros`; returns how many. */
  pruneTasks(beforeMicros: number): Promise<number>;

  getIndexMeta(uid: string): Promise<IndexMeta | undefined>;
  putIndexMeta(meta: IndexMeta): Promise<void>;
  deleteIndexMeta(uid: string): Promise<void>;
  listIndexMeta(): Promise<IndexMeta[]>;

  /** node_settings_version (S4.1 table 2): node id → the last settings version verified on it. */
  nodeSettingsVersions(indexUid: string): Promise<Map<string, number>>;
  putNodeSettingsVersion(indexUid: string, nodeId: string, version: number): Promise<void>;
  /** Forgets every node's version for an index (the index was deleted). */
  deleteNodeSettingsVersions(indexUid: string): Promise<void>;

  close(): Promise<void>;
}
