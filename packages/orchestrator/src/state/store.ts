/**
 * The state store: everything that must outlive an orchestrator process (spec S4.1). One interface,
 * two implementations: SQLite (sqlite.ts) serves a single process; Redis (redis.ts) is shared by
 * several orchestrator processes. Both pass the same conformance suite (test/state-conformance.ts).
 */
import type { TaskRecord } from '@miroir/protocol';
import { z } from 'zod';
import type { CanaryRun, TableName, TableRow } from './tables.js';

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
  /**
   * Nodes still joining when a broadcast was sent: the rebalance gives them the index and its
   * documents later, so their node task failing with `index_not_found` does not decide the task.
   */
  joining?: string[];
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

/** The topology as persisted (spec S2.7): shards and RF come from the config, the rest from here. */
export const storedTopologySchema = z.object({
  /** Bumped by every change; a write names the version it replaces (compare-and-set). */
  version: z.int().min(1),
  nodes: z.array(
    z.object({
      id: z.string().min(1),
      address: z.string().min(1),
      group: z.int().min(0),
      state: z.enum(['joining', 'active', 'draining', 'failed', 'removed']),
      /** Drop the node from the topology once it is drained (`DELETE /_miroir/nodes/{id}`). */
      remove: z.boolean().optional(),
    }),
  ),
  groups: z.array(z.object({ id: z.int().min(0), state: z.enum(['initializing', 'active', 'draining']) })),
});
export type StoredTopology = z.infer<typeof storedTopologySchema>;

/** One shard whose owners change in one group, for indexes with `shards` shards. */
export const migrationMoveSchema = z.object({
  /** `<shards>/<group>/<shard>`. */
  key: z.string(),
  shards: z.int().min(1),
  groupId: z.int().min(0),
  shard: z.int().min(0),
  before: z.array(z.string()),
  after: z.array(z.string()),
  gained: z.array(z.string()),
  lost: z.array(z.string()),
  /**
   * pending → copying → (paused ↔ copying) → cutover → done; `cutover`: writes to indexes with this
   * shard count wait while the delta pass runs; `done` = cut over to `after`.
   */
  state: z.enum(['pending', 'copying', 'paused', 'cutover', 'done']),
  source: z.string().nullable(),
  /** Why the move is paused. */
  error: z.string().nullable(),
});
export type MigrationMove = z.infer<typeof migrationMoveSchema>;

/** A rebalance in progress (one at a time): the topology it started from and its moves. */
export const rebalanceStateSchema = z.object({
  id: z.string(),
  /** The topology version the moves were computed from; a finished rebalance commits version + 1. */
  fromVersion: z.int().min(1),
  phase: z.enum(['preparing', 'copying', 'finalizing']),
  startedAt: z.string(),
  moves: z.array(migrationMoveSchema),
});
export type RebalanceState = z.infer<typeof rebalanceStateSchema>;

/** How far the copy of one moving shard of one index went: the last committed page. */
export const migrationProgressSchema = z.object({
  move: z.string(),
  index: z.string(),
  /** Documents of the source read and written so far (the next page starts here). */
  offset: z.int().min(0),
  /** The source's document count for the shard when the copy began. */
  total: z.int().min(0),
  /** The copy of this index is complete (the cutover's delta pass remains). */
  complete: z.boolean(),
});
export type MigrationProgress = z.infer<typeof migrationProgressSchema>;

/**
 * The cluster's API keys (what `/keys` lists through Miroir; spec S9). Miroir keeps them here, not
 * on the nodes: one set, the same for every orchestrator and whatever nodes are up. No key value is
 * stored: a value is derived from Miroir's master key and the uid.
 */
export const apiKeySetSchema = z.object({
  /** Bumped by every change; a write names the version it replaces (compare-and-set). */
  version: z.int().min(1),
  keys: z.array(
    z.object({
      uid: z.string(),
      name: z.string().nullable(),
      description: z.string().nullable(),
      actions: z.array(z.string()),
      indexes: z.array(z.string()),
      /** Microseconds since the epoch, null: never expires. */
      expiresAt: z.number().nullable(),
      /** UTC offset (minutes) `expiresAt` was given with. */
      expiresOffset: z.int(),
      createdAt: z.number(),
      updatedAt: z.number(),
    }),
  ),
});
export type ApiKeySet = z.infer<typeof apiKeySetSchema>;

export interface StateStore {
  /** Allocates the next task uid: integer, unique and monotonic across the cluster. */
  nextTaskUid(): Promise<number>;
  putTask(row: TaskRow): Promise<void>;
  /**
   * Stores a folded row unless the stored one is gone or already terminal (atomically: of several
   * processes folding the same task, one finishes it). True when written — for a terminal row,
   * when this call finished the task.
   */
  putTaskIfPending(row: TaskRow): Promise<boolean>;
  /**
   * Sets `cancelRequestedBy` of a pending task and nothing else (atomically, and kept apart from the
   * row: a write of the row by another process, from a copy read before the mark, neither loses
   * the mark nor is undone by it). False when the task is gone or already terminal.
   */
  markTaskCancelRequested(uid: number, by: number): Promise<boolean>;
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

  /** The persisted topology, undefined before the first start seeds it from the config. */
  getTopology(): Promise<StoredTopology | undefined>;
  /**
   * Writes the topology if the stored version is still `expectedVersion` (null: nothing is stored
   * yet); false when another writer got there first.
   */
  putTopology(topology: StoredTopology, expectedVersion: number | null): Promise<boolean>;

  /** The cluster's API keys, undefined before the first orchestrator records the default keys. */
  getApiKeys(): Promise<ApiKeySet | undefined>;
  /**
   * Writes the key set if the stored version is still `expectedVersion` (null: nothing is stored
   * yet); false when another writer got there first.
   */
  putApiKeys(keys: ApiKeySet, expectedVersion: number | null): Promise<boolean>;

  /** The rebalance in progress, if any. */
  getRebalance(): Promise<RebalanceState | undefined>;
  putRebalance(state: RebalanceState): Promise<void>;
  /** Forgets the rebalance and its copy progress (it finished). */
  deleteRebalance(): Promise<void>;
  /** Records a committed page of a shard copy (keyed by move and index). */
  putMigrationProgress(progress: MigrationProgress): Promise<void>;
  listMigrationProgress(): Promise<MigrationProgress[]>;

  /**
   * Creates the index's metadata unless a record exists (atomically: of two processes creating it
   * at once, one wins); returns the record the store holds.
   */
  createIndexMeta(meta: IndexMeta): Promise<IndexMeta>;

  // Mode B (spec S14.5): leader leases, one holder per scope, fenced by a token that grows with
  // every acquisition. The expiry is the store's clock, so processes' clocks need not agree.
  /** Takes the lease when nobody holds it (or the holder let it expire); undefined when held. */
  acquireLease(scope: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extends a lease still held under this token; false when it expired or another took it. */
  renewLease(lease: Lease, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if it is still this one. */
  releaseLease(lease: Lease): Promise<void>;
  /** The current holder of a scope, if any. */
  currentLease(scope: string): Promise<Lease | undefined>;

  // Peers (spec S14.5 discovery, Redis-heartbeat fallback).
  /** Marks `peerId` alive for `ttlMs`. */
  heartbeatPeer(peerId: string, ttlMs: number): Promise<void>;
  removePeer(peerId: string): Promise<void>;
  /** Peers whose heartbeat has not expired, sorted. */
  livePeers(): Promise<string[]>;

  // Routing fence (spec S4.5, S14): the epoch of the write routing (topology and migration), and
  // the epoch each live orchestrator acknowledged. Expiries use the store's clock.
  /** The current routing epoch (0 before the first change). */
  routingEpoch(): Promise<number>;
  /** Advances the routing epoch; returns the new one. */
  advanceRoutingEpoch(): Promise<number>;
  /**
   * Records that `peer` routes by `epoch` (and has no write in flight planned under an older one),
   * and keeps it live for `ttlMs`.
   */
  ackRouting(peer: string, epoch: number, ttlMs: number): Promise<void>;
  /** Live peers and the epoch each acknowledged last. */
  routingAcks(): Promise<Map<string, number>>;
  /** Forgets a peer (it stopped). */
  dropRoutingPeer(peer: string): Promise<void>;
  /**
   * Write holds: index uid → the process holding client writes to it (a repair that must not
   * interleave with them). A hold whose holder is no longer live is void.
   */
  writeHolds(): Promise<Map<string, string>>;
  putWriteHold(indexUid: string, holder: string): Promise<void>;
  dropWriteHold(indexUid: string, holder: string): Promise<void>;

  // Missed writes (hinted handoff, docs/failures.md): per node, the node requests it missed, in
  // the order it must apply them, shared by every orchestrator. A node is *behind* while its queue
  // holds entries or overflowed. The step that makes a node behind also advances the routing epoch
  // (its `mark`), so an appender can wait until every orchestrator knows before acknowledging.
  /**
   * Appends to the node's queue; past `maxBytes` in all, the queue's entries are dropped and it is
   * marked overflowed (later entries are dropped too, until the mark is cleared). `fresh`: the node
   * was not behind and this call advanced the routing epoch to `mark`.
   */
  appendMissed(nodeId: string, entries: readonly string[], maxBytes: number): Promise<{ mark: number; fresh: boolean }>;
  /** The node's oldest entries, up to `limit`, oldest first. */
  peekMissed(nodeId: string, limit: number): Promise<MissedEntry[]>;
  /** Removes the node's oldest entry if it is `seq`; false when it is not (another replayer moved on). */
  popMissed(nodeId: string, seq: number): Promise<boolean>;
  /** Clears the node's overflow mark; it stays behind while its queue holds entries. */
  clearMissedOverflow(nodeId: string): Promise<void>;
  /** Forgets the node's queue (the node left the topology). */
  dropMissed(nodeId: string): Promise<void>;
  /** Every node that is behind, with its queue's state. */
  missedQueues(): Promise<Map<string, MissedQueue>>;

  // Mode C (spec S4.1 table 6, S14.5): the job queue.
  enqueueJob(job: { type: string; params: unknown }): Promise<JobRow>;
  /**
   * Claims the oldest queued job of `type`, or else one whose claim expired (its claimant stopped
   * heartbeating): the job keeps its progress, so the new claimant resumes from the cursor.
   */
  claimJob(type: string, claimant: string, ttlMs: number): Promise<JobRow | undefined>;
  /** Extends a claim and records progress; false when the claim is no longer `claimant`'s. */
  heartbeatJob(id: number, claimant: string, ttlMs: number, progress?: unknown): Promise<boolean>;
  /** Ends a job held by `claimant`; false when the claim is no longer theirs. */
  finishJob(id: number, claimant: string, state: 'completed' | 'failed', progress?: unknown): Promise<boolean>;
  getJob(id: number): Promise<JobRow | undefined>;
  /** Jobs waiting for a claimant, of one type or of all (the HPA's `miroir_background_queue_depth`). */
  queuedJobCount(type?: string): Promise<number>;

  // Cluster events: what one process changes, the others' caches must forget.
  publish(event: StoreEvent): Promise<void>;
  /**
   * Every event published through this store, this process's own included; resolves once events
   * published from then on are delivered.
   */
  subscribe(handler: (event: StoreEvent) => void): Promise<void>;

  // The keyed tables of S4.1 (aliases, sessions, idempotency, canaries, tenant_map,
  // rollover_policies, search_ui_config, admin_sessions, webhooks): see tables.ts.
  getRow<T extends TableName>(table: T, key: string): Promise<TableRow<T> | undefined>;
  /** Inserts or replaces the row with its key; a row with `expiresAt` vanishes after it. */
  putRow<T extends TableName>(table: T, row: TableRow<T>): Promise<void>;
  /**
   * Inserts the row only when no live row has its key (an expired one counts as absent), in one
   * atomic step across processes; true when this call inserted it. The reservation primitive of
   * idempotency keys: of several processes claiming one key at once, exactly one gets true.
   */
  putRowIfAbsent<T extends TableName>(table: T, row: TableRow<T>): Promise<boolean>;
  deleteRow(table: TableName, key: string): Promise<void>;
  /** Every live row, by key. */
  listRows<T extends TableName>(table: T): Promise<TableRow<T>[]>;
  /** Records a canary run and keeps only the newest `keep` of that canary (S4.1 table 9). */
  addCanaryRun(run: CanaryRun, keep: number): Promise<void>;
  /** A canary's runs, newest first. */
  canaryRuns(canaryId: string): Promise<CanaryRun[]>;
  /** Moves a CDC cursor forward (never back); returns the cursor now stored (S4.1 table 10). */
  advanceCdcCursor(sink: string, indexUid: string, seq: number): Promise<number>;
  cdcCursor(sink: string, indexUid: string): Promise<number | undefined>;

  close(): Promise<void>;
}

/** One write a node missed (opaque to the store); `seq` grows with every append, never reused. */
export interface MissedEntry {
  seq: number;
  entry: string;
}

/** The state of a node's queue of missed writes. */
export interface MissedQueue {
  entries: number;
  /** The entries' size in bytes (UTF-8). */
  bytes: number;
  overflowed: boolean;
  /** The routing epoch at which the node became behind. */
  mark: number;
}

/** A leader lease (spec S4.1 table 7). */
export interface Lease {
  scope: string;
  holder: string;
  /** Fencing token: larger for every new acquisition of the scope. */
  token: number;
}

/** A background job (spec S4.1 table 6). */
export interface JobRow {
  id: number;
  type: string;
  params: unknown;
  state: 'queued' | 'in_progress' | 'completed' | 'failed';
  claimedBy: string | null;
  /** Milliseconds since the epoch (store clock). */
  claimExpiresAt: number | null;
  /** Whatever the job records to resume from (bytes processed, last cursor…). */
  progress: unknown;
  createdAt: number;
}

/** Cache invalidations broadcast between orchestrator processes. */
export type StoreEvent =
  /** The routing epoch advanced: the topology or a migration's routing changed. */
  | { kind: 'routing_changed'; epoch: number }
  /** A task reached a terminal state: settings, primary keys or the index itself may have changed. */
  | { kind: 'index_changed'; indexUids: string[] }
  /** A node caught up on the writes it missed: it is no longer behind. */
  | { kind: 'handoff_drained'; nodeId: string }
  /** An API key was created, updated or deleted. */
  | { kind: 'keys_changed' }
  /** An index deletion (or rename) was enqueued: until it finishes, a write to the index sets it up anew. */
  | { kind: 'index_deleting'; indexUid: string; taskUid: number }
  /**
   * Not published: delivered by the store itself when events may have been missed (its
   * subscription was down). Whatever the caches hold may be stale.
   */
  | { kind: 'events_missed' }
  /**
   * A settings broadcast on an index, driven by process `holder`, entered a phase (`idle`: it
   * ended or its driver let go): what the other processes show as `X-Miroir-Settings-Inconsistent`.
   */
  | { kind: 'settings_broadcast'; indexUid: string; phase: 'propose' | 'verify' | 'repair' | 'commit' | 'idle'; holder: string };
