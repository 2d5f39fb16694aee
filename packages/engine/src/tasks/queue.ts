/**
 * The engine's task queue: every write is a persisted task, processed one at a time in uid
 * order by a processor the engine supplies, as Meilisearch's scheduler does (one task per batch
 * here; each batch gets a `batchUid`). Task cancelations and deletions are the queue's own
 * business and are processed first, as Meilisearch does.
 *
 * The queue knows nothing about documents or indexes: it hands the processor a task (and keeps
 * its payload until the task finishes) and records what the processor returns or throws.
 */
import type Database from 'better-sqlite3';
import {
  MeiliError,
  accumulateDetails,
  afterFrom,
  isSingleIndexType,
  orderDetails,
  paginateUids,
  taskMatches,
  toFailedDetails,
  toTaskSummary,
  toTaskView,
  formatDuration,
  formatProgressDuration,
  formatRfc3339,
  TASK_STATUSES,
  TASK_TYPES,
} from '@miroir/protocol';
import type {
  BatchStats,
  ProgressTrace,
  BatchView,
  TaskFilter,
  TaskRecord,
  TaskSummary,
  TaskType,
  TaskView,
  TasksPage,
  TasksQuery,
} from '@miroir/protocol';
import { nowMicros } from './clock.js';
import { TaskStore } from './task-store.js';
import type { BatchRecord } from './task-store.js';

/** A task as the processor receives it (times in microseconds since the epoch). */
export type Task = TaskRecord;

/**
 * Applies a task and returns its final `details`, or throws a `MeiliError` (the task fails with
 * that error). The signal aborts when a cancelation targets the task: a processor that can roll
 * back throws (any error) after it aborts and the task ends `canceled`; one that cannot simply
 * finishes and the task succeeds.
 */
export type TaskProcessor = (
  task: Task,
  signal: AbortSignal,
) => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;

/** What a write asks the queue to record. */
export interface EnqueueInput {
  type: TaskType;
  indexUid: string | null;
  /** null: the task type has no details (a snapshot creation). */
  details: Record<string, unknown> | null;
  payload?: Buffer | string;
  customMetadata?: string;
  /** Every index the task touches when more than `indexUid` (a rename, a swap). */
  indexes?: string[];
}

/** Which tasks a caller may see: Meilisearch's `AuthFilter` as far as tasks care. */
export interface TaskAccess {
  /** True when the key covers every index (`*`). */
  readonly allIndexes: boolean;
  allowsIndex(uid: string): boolean;
}

/** Sees everything (master key, or no master key). */
export const FULL_ACCESS: TaskAccess = { allIndexes: true, allowsIndex: () => true };

const UNBATCHABLE = new Set<TaskType>([
  'taskCancelation',
  'taskDeletion',
  'dumpCreation',
  'snapshotCreation',
  'indexSwap',
  'export',
  'upgradeDatabase',
  'networkTopologyChange',
]);

const TASK_SEQ = 'task';
const BATCH_SEQ = 'batch';

interface Current {
  task: TaskRecord;
  abort: AbortController;
  canceledBy: number | null;
}

function indexesOf(t: TaskRecord): readonly string[] {
  return t.indexes ?? (t.indexUid === null ? [] : [t.indexUid]);
}

/** Meilisearch's `get_task_ids_from_authorized_indexes` visibility rule. */
function visible(t: TaskRecord, access: TaskAccess): boolean {
  if (access.allIndexes) return true;
  if (!isSingleIndexType(t.type)) return false;
  return indexesOf(t).every((i) => access.allowsIndex(i));
}

function errorJson(e: unknown): TaskRecord['error'] {
  if (e instanceof MeiliError) return e.toJSON();
  const message = e instanceof Error ? e.message : String(e);
  return new MeiliError('internal', `An unexpected crash occurred when processing the task: ${message}`).toJSON();
}

/** The persisted, single-worker task queue. */
export class TaskQueue {
  readonly #store: TaskStore;
  readonly #processor: TaskProcessor;
  readonly #tasks = new Map<number, TaskRecord>();
  readonly #batches = new Map<number, BatchRecord>();
  // Enqueued uids per priority class; sets keep insertion (= uid) order.
  readonly #cancelations = new Set<number>();
  readonly #deletions = new Set<number>();
  readonly #others = new Set<number>();
  #nextTask: number;
  #nextBatch: number;
  #started = false;
  #closing = false;
  #loop: Promise<void> | null = null;
  #current: Current | null = null;
  #idleWaiters: (() => void)[] = [];
  readonly #finishedListeners: ((tasks: TaskView[]) => void)[] = [];

  constructor(db: Database.Database, processor: TaskProcessor) {
    this.#store = new TaskStore(db);
    this.#processor = processor;
    let maxTask = -1;
    let maxBatch = -1;
    for (const b of this.#store.loadBatches()) {
      this.#batches.set(b.uid, b);
      maxBatch = Math.max(maxBatch, b.uid);
    }
    const recovered: TaskRecord[] = [];
    for (const t of this.#store.loadTasks()) {
      this.#tasks.set(t.uid, t);
      maxTask = Math.max(maxTask, t.uid);
      if (t.status === 'processing') recovered.push(t);
      if (t.status === 'enqueued' || t.status === 'processing') this.#classOf(t.type).add(t.uid);
    }
    this.#nextTask = Math.max(this.#store.sequence(TASK_SEQ), maxTask + 1);
    this.#nextBatch = Math.max(this.#store.sequence(BATCH_SEQ), maxBatch + 1);
    if (recovered.length > 0) this.#requeue(recovered);
    // Sets must iterate in uid order even after recovery re-added older uids.
    for (const set of [this.#cancelations, this.#deletions, this.#others]) {
      const sorted = [...set].sort((a, b) => a - b);
      set.clear();
      for (const uid of sorted) set.add(uid);
    }
  }

  /** A task interrupted by a crash runs again from the start, in a new batch. */
  #requeue(tasks: TaskRecord[]): void {
    this.#store.transaction(() => {
      for (const t of tasks) {
        if (t.batchUid !== null) {
          const b = this.#batches.get(t.batchUid);
          if (b !== undefined && b.finishedAt === null) {
            this.#batches.delete(b.uid);
            this.#store.deleteBatch(b.uid);
          }
        }
        t.status = 'enqueued';
        t.batchUid = null;
        t.startedAt = null;
        this.#store.putTask(t);
      }
    });
  }

  #classOf(type: TaskType): Set<number> {
    return type === 'taskCancelation' ? this.#cancelations : type === 'taskDeletion' ? this.#deletions : this.#others;
  }

  /** Records a task (and its payload) and returns the 202 body. Processing starts after {@link start}. */
  enqueue(input: EnqueueInput): TaskSummary {
    if (this.#closing) throw new MeiliError('internal', 'The task queue is closed.');
    const uid = this.#nextTask;
    const task: TaskRecord = {
      uid,
      batchUid: null,
      indexUid: input.indexUid,
      indexes: input.indexes ?? (input.indexUid === null ? [] : [input.indexUid]),
      status: 'enqueued',
      type: input.type,
      canceledBy: null,
      details: input.details,
      error: null,
      enqueuedAt: nowMicros(),
      startedAt: null,
      finishedAt: null,
      customMetadata: input.customMetadata ?? null,
    };
    this.#store.transaction(() => {
      this.#store.putTask(task);
      if (input.payload !== undefined) {
        const data = typeof input.payload === 'string' ? Buffer.from(input.payload, 'utf8') : input.payload;
        this.#store.putPayload(uid, data);
      }
      this.#store.setSequence(TASK_SEQ, uid + 1);
    });
    // Only a persisted task consumes its uid.
    this.#nextTask = uid + 1;
    this.#tasks.set(uid, task);
    this.#classOf(task.type).add(uid);
    this.#kick();
    return toTaskSummary(task);
  }

  /**
   * Enqueues a `taskCancelation` for the given (already authorized) matched uids. A matched task
   * in progress is told to abort at once, as Meilisearch stops the batch in progress.
   */
  enqueueCancelation(originalFilter: string, matched: number[]): TaskSummary {
    const summary = this.enqueue({
      type: 'taskCancelation',
      indexUid: null,
      details: { matchedTasks: matched.length, canceledTasks: null, originalFilter },
      payload: JSON.stringify(matched),
    });
    const cur = this.#current;
    if (cur !== null && cur.canceledBy === null && matched.includes(cur.task.uid)) {
      cur.canceledBy = summary.taskUid;
      cur.abort.abort(new MeiliError('internal', `Task canceled by task ${summary.taskUid}.`));
    }
    return summary;
  }

  /** Enqueues a `taskDeletion` for the given (already authorized) matched uids. */
  enqueueDeletion(originalFilter: string, matched: number[]): TaskSummary {
    return this.enqueue({
      type: 'taskDeletion',
      indexUid: null,
      details: { matchedTasks: matched.length, deletedTasks: null, originalFilter },
      payload: JSON.stringify(matched),
    });
  }

  /** A task by uid, as `GET /tasks/{uid}` renders it (no authorization applied). */
  get(uid: number): TaskView | undefined {
    const t = this.#tasks.get(uid);
    return t === undefined ? undefined : toTaskView(t);
  }

  /** The raw record of a task (times in microseconds). */
  record(uid: number): Readonly<TaskRecord> | undefined {
    return this.#tasks.get(uid);
  }

  /** A task visible to `access`, rendered; undefined when absent or hidden. */
  view(uid: number, access: TaskAccess): TaskView | undefined {
    const t = this.#tasks.get(uid);
    return t !== undefined && visible(t, access) ? toTaskView(t) : undefined;
  }

  /** Whether a task touching this index is in progress (`isIndexing` of `/stats`). */
  isProcessing(indexUid: string): boolean {
    const cur = this.#current?.task;
    return cur !== undefined && indexesOf(cur).includes(indexUid);
  }

  /** The persisted payload of an enqueued (or processing) task. */
  payload(uid: number): Buffer | undefined {
    return this.#store.payload(uid);
  }

  /** Uids of the tasks matching a filter that `access` may see, ascending. */
  matching(filter: TaskFilter, access: TaskAccess): number[] {
    const out: number[] = [];
    for (const t of this.#tasks.values()) if (taskMatches(filter, t) && visible(t, access)) out.push(t.uid);
    return out;
  }

  /** `GET /tasks`: newest first unless `reverse`; `total` ignores `from`, `limit` and (as in Meilisearch) authorization. */
  list(query: TasksQuery, access: TaskAccess): TasksPage<TaskView> {
    const all = [...this.#tasks.values()];
    if (!query.reverse) all.reverse();
    let total = 0;
    const uids: number[] = [];
    for (const t of all) {
      if (!taskMatches(query.filter, t)) continue;
      total++;
      if (visible(t, access) && afterFrom(t.uid, query.from, query.reverse)) uids.push(t.uid);
    }
    const { page, next } = paginateUids(uids, query.limit);
    return {
      results: page.map((uid) => toTaskView(this.#tasks.get(uid)!)),
      total,
      limit: query.limit,
      from: page[0] ?? null,
      next,
    };
  }

  /** `GET /batches/{uid}`: the batch if it exists and `access` may see all of it. */
  batch(uid: number, access: TaskAccess): BatchView | undefined {
    const b = this.#batches.get(uid);
    return b !== undefined && this.#batchVisible(b, access) ? this.#batchView(b) : undefined;
  }

  /** `GET /batches`: same query language as `/tasks`, applied to batches. */
  listBatches(query: TasksQuery, access: TaskAccess): TasksPage<BatchView> {
    const all = [...this.#batches.values()];
    if (!query.reverse) all.reverse();
    let total = 0;
    const uids: number[] = [];
    for (const b of all) {
      if (!this.#batchMatches(query.filter, b)) continue;
      total++;
      if (this.#batchVisible(b, access) && afterFrom(b.uid, query.from, query.reverse)) uids.push(b.uid);
    }
    const { page, next } = paginateUids(uids, query.limit);
    return {
      results: page.map((uid) => this.#batchView(this.#batches.get(uid)!)),
      total,
      limit: query.limit,
      from: page[0] ?? null,
      next,
    };
  }

  /** Starts processing (enqueued tasks wait until then). */
  start(): void {
    if (this.#started || this.#closing) return;
    this.#started = true;
    this.#kick();
  }

  /** Stops taking work; resolves once the task in progress has finished. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#loop;
    this.#flushIdle();
  }

  /** Resolves when no task is enqueued or processing (or the queue is closed or not started). */
  waitIdle(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #idle(): boolean {
    return (
      !this.#started ||
      this.#closing ||
      (this.#current === null && this.#cancelations.size + this.#deletions.size + this.#others.size === 0)
    );
  }

  #flushIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #kick(): void {
    if (!this.#started || this.#closing || this.#loop !== null) return;
    this.#loop = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drain());
  }

  async #drain(): Promise<void> {
    let failed = false;
    try {
      for (;;) {
        if (this.#closing) break;
        const next = this.#pickNext();
        if (next === undefined) break;
        await this.#run(next);
        // A synchronous processor would otherwise keep the loop in microtasks until the queue
        // is empty, starving HTTP requests (task polling included).
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (e) {
      // The store itself failed (disk full, I/O error): the task's outcome may not be on disk.
      // Stop rather than spin; the next enqueue retries, and a restart re-runs what is unfinished.
      failed = true;
      process.emitWarning(`Task processing stopped: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.#loop = null;
      if (failed || this.#idle()) this.#flushIdle();
      else this.#kick();
    }
  }

  #pickNext(): TaskRecord | undefined {
    for (const set of [this.#cancelations, this.#deletions, this.#others]) {
      for (const uid of set) return this.#tasks.get(uid);
    }
    return undefined;
  }

  #strategy(t: TaskRecord): string {
    if (UNBATCHABLE.has(t.type)) {
      return `created batch containing only task with id ${t.uid} of type \`${t.type}\` that cannot be batched with any other task.`;
    }
    return this.#others.size > 1 ? 'batched up to configured batch limit of 1 tasks' : 'batched all enqueued tasks';
  }

  async #run(task: TaskRecord): Promise<void> {
    const startedAt = nowMicros();
    const batch: BatchRecord = {
      uid: this.#nextBatch++,
      startedAt,
      finishedAt: null,
      strategy: this.#strategy(task),
      details: task.details ?? {},
      stats: null,
      taskUids: [task.uid],
      enqueuedAt: task.enqueuedAt,
    };
    task.status = 'processing';
    task.batchUid = batch.uid;
    task.startedAt = startedAt;
    this.#batches.set(batch.uid, batch);
    this.#store.transaction(() => {
      this.#store.putBatch(batch);
      this.#store.putTask(task);
      this.#store.setSequence(BATCH_SEQ, this.#nextBatch);
    });

    const finished: TaskRecord[] = [task];
    const processing = process.hrtime.bigint();
    if (task.type === 'taskCancelation') {
      this.#cancel(task, batch, startedAt, finished);
    } else if (task.type === 'taskDeletion') {
      this.#delete(task);
    } else {
      const cur: Current = { task, abort: new AbortController(), canceledBy: null };
      this.#current = cur;
      try {
        const details = await this.#processor({ ...task }, cur.abort.signal);
        task.status = 'succeeded';
        if (details !== undefined && details !== null) task.details = details;
      } catch (e) {
        if (cur.abort.signal.aborted && cur.canceledBy !== null) {
          task.status = 'canceled';
          task.canceledBy = cur.canceledBy;
        } else {
          task.status = 'failed';
          task.error = errorJson(e);
        }
        task.details = toFailedDetails(task.details);
      } finally {
        this.#current = null;
      }
    }
    this.#classOf(task.type).delete(task.uid);
    this.#finish(batch, finished, { 'processing tasks': formatProgressDuration(Number(process.hrtime.bigint() - processing)) });
  }

  /** Called with the tasks of each batch once they are stored finished (webhooks). */
  onFinished(listener: (tasks: TaskView[]) => void): void {
    this.#finishedListeners.push(listener);
  }

  #finish(batch: BatchRecord, finished: TaskRecord[], progressTrace: ProgressTrace): void {
    const finishedAt = nowMicros();
    let details: Record<string, unknown> = {};
    for (const t of finished) {
      t.finishedAt = finishedAt;
      details = accumulateDetails(details, t.details ?? {});
    }
    batch.finishedAt = finishedAt;
    batch.details = details;
    batch.taskUids = finished.map((t) => t.uid);
    batch.stats = { ...this.#stats(finished), progressTrace };
    this.#store.transaction(() => {
      for (const t of finished) {
        if (this.#tasks.has(t.uid)) this.#store.putTask(t);
        this.#store.deletePayload(t.uid);
      }
      this.#store.putBatch(batch);
    });
    if (this.#finishedListeners.length === 0) return;
    const views = finished.filter((t) => this.#tasks.has(t.uid)).map((t) => toTaskView(t));
    for (const l of this.#finishedListeners) l(views);
  }

  /** Cancels the matched tasks still enqueued; they join the cancelation's batch. */
  #cancel(cancel: TaskRecord, batch: BatchRecord, startedAt: number, finished: TaskRecord[]): void {
    const matched = JSON.parse(this.#store.payload(cancel.uid)?.toString('utf8') ?? '[]') as number[];
    let canceled = 0;
    for (const t of this.#tasks.values()) {
      // Aborted while in progress before this cancelation ran.
      if (t.canceledBy === cancel.uid && t.status === 'canceled') canceled++;
    }
    for (const uid of matched) {
      const t = this.#tasks.get(uid);
      if (t === undefined || t.status !== 'enqueued') continue;
      t.status = 'canceled';
      t.canceledBy = cancel.uid;
      t.batchUid = batch.uid;
      t.startedAt = startedAt;
      t.details = toFailedDetails(t.details);
      this.#classOf(t.type).delete(t.uid);
      finished.push(t);
      canceled++;
    }
    cancel.status = 'succeeded';
    cancel.details = { ...(cancel.details ?? {}), canceledTasks: canceled };
  }

  /** Deletes the matched finished tasks (never itself), and batches left without tasks. */
  #delete(deletion: TaskRecord): void {
    const matched = JSON.parse(this.#store.payload(deletion.uid)?.toString('utf8') ?? '[]') as number[];
    let deleted = 0;
    const touched = new Set<number>();
    this.#store.transaction(() => {
      for (const uid of matched) {
        const t = this.#tasks.get(uid);
        if (t === undefined || uid === deletion.uid) continue;
        if (t.status === 'enqueued' || t.status === 'processing') continue;
        this.#tasks.delete(uid);
        this.#store.deleteTask(uid);
        if (t.batchUid !== null) touched.add(t.batchUid);
        deleted++;
      }
      for (const buid of touched) {
        const b = this.#batches.get(buid);
        if (b === undefined) continue;
        b.taskUids = b.taskUids.filter((u) => this.#tasks.has(u));
        if (b.taskUids.length === 0) {
          this.#batches.delete(buid);
          this.#store.deleteBatch(buid);
        } else {
          this.#store.putBatch(b);
        }
      }
    });
    deletion.status = 'succeeded';
    deletion.details = { ...(deletion.details ?? {}), deletedTasks: deleted };
  }

  #stats(tasks: readonly TaskRecord[]): BatchStats {
    const status: Record<string, number> = {};
    const types: Record<string, number> = {};
    const indexUids: Record<string, number> = {};
    for (const s of TASK_STATUSES) {
      const n = tasks.filter((t) => t.status === s).length;
      if (n > 0) status[s] = n;
    }
    for (const ty of TASK_TYPES) {
      const n = tasks.filter((t) => t.type === ty).length;
      if (n > 0) types[ty] = n;
    }
    const uids = tasks.flatMap((t) => (t.indexUid === null ? [] : [t.indexUid])).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const u of uids) indexUids[u] = (indexUids[u] ?? 0) + 1;
    return { totalNbTasks: tasks.length, status, types, indexUids };
  }

  #batchTasks(b: BatchRecord): TaskRecord[] {
    return b.taskUids.flatMap((u) => {
      const t = this.#tasks.get(u);
      return t === undefined ? [] : [t];
    });
  }

  #batchView(b: BatchRecord): BatchView {
    const processing = b.finishedAt === null;
    const tasks = this.#batchTasks(b);
    return {
      uid: b.uid,
      progress: processing ? { steps: [{ currentStep: 'processing tasks', finished: 0, total: 1 }], percentage: 0 } : null,
      details: orderDetails(processing ? (tasks[0]?.details ?? b.details) : b.details),
      stats: b.stats ?? this.#stats(tasks),
      duration: b.finishedAt === null ? null : formatDuration(b.finishedAt - b.startedAt),
      startedAt: formatRfc3339(b.startedAt),
      finishedAt: b.finishedAt === null ? null : formatRfc3339(b.finishedAt),
      batchStrategy: b.strategy,
    };
  }

  #batchVisible(b: BatchRecord, access: TaskAccess): boolean {
    if (access.allIndexes) return true;
    const stats = b.stats ?? this.#stats(this.#batchTasks(b));
    if (Object.keys(stats.types).some((t) => !isSingleIndexType(t as TaskType))) return false;
    return Object.keys(stats.indexUids).every((i) => access.allowsIndex(i));
  }

  #batchMatches(f: TaskFilter, b: BatchRecord): boolean {
    const stats = b.stats ?? this.#stats(this.#batchTasks(b));
    if (f.batchUids !== undefined && !f.batchUids.includes(b.uid)) return false;
    if (f.uids !== undefined && !b.taskUids.some((u) => f.uids!.includes(u))) return false;
    if (f.statuses !== undefined && !f.statuses.some((s) => (stats.status[s] ?? 0) > 0)) return false;
    if (f.types !== undefined && !f.types.some((t) => (stats.types[t] ?? 0) > 0)) return false;
    if (f.indexUids !== undefined && !f.indexUids.some((i) => (stats.indexUids[i] ?? 0) > 0)) return false;
    if (f.canceledBy !== undefined) {
      const tasks = this.#batchTasks(b);
      if (!tasks.some((t) => t.canceledBy !== null && f.canceledBy!.includes(t.canceledBy))) return false;
    }
    const within = (t: number | null, after?: number, before?: number): boolean =>
      (after === undefined && before === undefined) ||
      (t !== null && (after === undefined || t > after) && (before === undefined || t < before));
    return (
      within(b.enqueuedAt, f.afterEnqueuedAt, f.beforeEnqueuedAt) &&
      within(b.startedAt, f.afterStartedAt, f.beforeStartedAt) &&
      within(b.finishedAt, f.afterFinishedAt, f.beforeFinishedAt)
    );
  }
}

