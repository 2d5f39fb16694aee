/**
 * One Miroir task over many node tasks (spec S3.3, meilisearch-api §4 and §12 item 9): status,
 * error, times and client-visible `details`. Dates and durations are rendered by the protocol
 * package from the microsecond times kept here.
 *
 * @see https://www.meilisearch.com/docs/reference/api/async-task-management/get-task
 */
import { rfc3339ToMicros, type TaskError, type TaskStatus } from '@miroir/protocol';
import { clientSettings, withoutReservedInMessage } from './reserved-settings.js';

export type { TaskStatus };

/** A task as a node returns it from `GET /tasks` (fields Miroir reads). */
export interface NodeTaskView {
  readonly uid: number;
  readonly status: TaskStatus;
  readonly type: string;
  readonly details?: Readonly<Record<string, unknown>> | null;
  readonly error?: TaskError | null;
  readonly startedAt?: string | null;
  readonly finishedAt?: string | null;
}

/** One node task mapped under a Miroir task. */
export interface MappedNodeTask {
  readonly nodeId: string;
  /** Replica group of the node. */
  readonly groupId: number;
  /**
   * How many copies of each document this group holds (`min(RF, group members)`): a document
   * counter summed over a group's nodes is divided by this to count each document once.
   */
  readonly copies: number;
  /** The node's latest view of its task; `null` until first read (counts as enqueued). */
  readonly task: NodeTaskView | null;
  /**
   * The task is decided by the other nodes' tasks: the node has left the topology (a rebalance
   * removes a node only after its queues are drained and its shards are held by their new owners),
   * or it was joining and had no index yet (the rebalance gives it the index and its documents).
   */
  readonly gone?: boolean;
}

/** The fields of a Miroir task that folding node tasks changes (times in microseconds). */
export interface FoldableTask {
  readonly uid: number;
  status: TaskStatus;
  batchUid: number | null;
  canceledBy: number | null;
  details: Record<string, unknown> | null;
  error: TaskError | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Index of the node task (in each node's list) whose `details` are shown (settings updates). */
  readonly detailsFrom?: number;
  /** The Miroir cancelation that asked the nodes to cancel this task. */
  readonly cancelRequestedBy?: number;
}

export function isTerminal(status: TaskStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'canceled';
}

/** Counters that count documents: summed per group, divided by the group's copies, best group wins. */
const DOCUMENT_COUNTERS = new Set(['indexedDocuments', 'deletedDocuments', 'editedDocuments']);

/**
 * Status rule: `enqueued` when every node task is enqueued; `failed` as soon as one failed;
 * `canceled` when all were canceled; `succeeded` only when all succeeded; otherwise `processing`.
 * A finished mix of succeeded and canceled (a cancel that landed on some nodes only) is reported
 * `canceled`: the operation did not complete everywhere, and nothing is still running.
 */
export function aggregateStatus(statuses: readonly TaskStatus[]): TaskStatus {
  if (statuses.length === 0) return 'enqueued';
  let enq = 0;
  let succ = 0;
  let canc = 0;
  for (const s of statuses) {
    if (s === 'failed') return 'failed';
    if (s === 'enqueued') enq++;
    else if (s === 'succeeded') succ++;
    else if (s === 'canceled') canc++;
  }
  const n = statuses.length;
  if (enq === n) return 'enqueued';
  if (succ === n) return 'succeeded';
  if (canc === n || succ + canc === n) return 'canceled';
  return 'processing';
}

/**
 * Fills a task's document counters from its nodes: per group, the nodes' counters are summed and
 * divided by the group's copies; the best group wins (a group that missed the write reports
 * fewer). They stay `null` until the task is finished, as on one node; other details come from
 * `base` (what the client sent).
 */
export function aggregateDetails(
  base: Readonly<Record<string, unknown>>,
  nodes: readonly MappedNodeTask[],
  finished: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in base) {
    if (!DOCUMENT_COUNTERS.has(key)) {
      out[key] = base[key];
      continue;
    }
    if (!finished) {
      out[key] = null;
      continue;
    }
    const perGroup = new Map<number, { sum: number; copies: number }>();
    for (const n of nodes) {
      const v = n.task?.details?.[key];
      const g = perGroup.get(n.groupId) ?? { sum: 0, copies: Math.max(1, n.copies) };
      if (typeof v === 'number') g.sum += v;
      perGroup.set(n.groupId, g);
    }
    let best = 0;
    for (const g of perGroup.values()) best = Math.max(best, Math.round(g.sum / g.copies));
    out[key] = best;
  }
  return out;
}

const micros = (text: string | null | undefined): number | null => (text === null || text === undefined ? null : rfc3339ToMicros(text));

/**
 * The task after folding in its node tasks (`nodes`, in the order of the task's node lists); the
 * same object when nothing changed. Times: the earliest start, the latest finish. A failed task
 * carries the failing node's error, worded without Miroir's reserved fields.
 */
export function foldTask<T extends FoldableTask>(
  row: T,
  all: readonly MappedNodeTask[],
  shown?: NodeTaskView | null,
  /** A task whose every node task was on nodes that left the topology fails with `error` at `at` (µs). */
  allGone?: { error: TaskError; at: number },
): T {
  if (isTerminal(row.status) || all.length === 0) return row;
  const nodes = all.some((n) => n.gone === true) ? all.filter((n) => n.gone !== true) : all;
  if (nodes.length === 0) {
    if (allGone === undefined) return row;
    const details = row.details === null ? null : aggregateDetails(row.details, [], true);
    return { ...row, status: 'failed', batchUid: row.uid, error: allGone.error, details, startedAt: row.startedAt ?? allGone.at, finishedAt: allGone.at };
  }
  const status = aggregateStatus(nodes.map((n) => n.task?.status ?? 'enqueued'));
  const terminal = isTerminal(status);
  let startedAt: number | null = null;
  let finishedAt: number | null = null;
  for (const n of nodes) {
    const s = micros(n.task?.startedAt);
    if (s !== null && (startedAt === null || s < startedAt)) startedAt = s;
    const f = micros(n.task?.finishedAt);
    if (f !== null && (finishedAt === null || f > finishedAt)) finishedAt = f;
  }
  let details = row.details === null ? null : aggregateDetails(row.details, nodes, terminal);
  if (shown?.details) details = clientSettings(shown.details as Record<string, unknown>);
  const failed = status === 'failed' ? nodes.find((n) => n.task?.status === 'failed')?.task?.error ?? row.error : null;
  const next: T = {
    ...row,
    status,
    batchUid: status === 'enqueued' ? null : row.uid,
    startedAt: status === 'enqueued' ? null : (startedAt ?? finishedAt),
    finishedAt: terminal ? finishedAt : null,
    canceledBy: status === 'canceled' ? (row.cancelRequestedBy ?? null) : row.canceledBy,
    error: failed ? { ...failed, message: withoutReservedInMessage(failed.message) } : null,
    details,
  };
  const same =
    next.status === row.status &&
    next.startedAt === row.startedAt &&
    next.finishedAt === row.finishedAt &&
    JSON.stringify(next.details) === JSON.stringify(row.details);
  return same ? row : next;
}
