/**
 * One Miroir task over many node tasks (spec S3.3, meilisearch-api §4 and §12 item 9): status,
 * error, dates, duration and client-visible `details`.
 *
 * @see https://www.meilisearch.com/docs/reference/api/async-task-management/get-task
 */
import type { ErrorBody } from '@miroir/protocol';

export type TaskStatus = 'enqueued' | 'processing' | 'succeeded' | 'failed' | 'canceled';

/** A task as a node returns it from `GET /tasks/{uid}` (fields Miroir reads). */
export interface NodeTaskView {
  readonly uid: number;
  readonly status: TaskStatus;
  readonly type: string;
  readonly details?: Readonly<Record<string, unknown>> | null;
  readonly error?: ErrorBody | null;
  readonly enqueuedAt?: string;
  readonly startedAt?: string | null;
  readonly finishedAt?: string | null;
  readonly canceledBy?: number | null;
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
  /** The node's latest view of its task; `null` until first polled (counts as enqueued). */
  readonly task: NodeTaskView | null;
}

/** What Miroir recorded when it enqueued the task. */
export interface MiroirTaskRecord {
  readonly uid: number;
  readonly indexUid: string | null;
  readonly type: string;
  /** Miroir's own enqueue time (RFC 3339). */
  readonly enqueuedAt: string;
  /**
   * Client-visible details known at enqueue time, in Meilisearch's key order, with counters not
   * yet known set to `null` (e.g. `{receivedDocuments: 3, indexedDocuments: null}`). Settings
   * details must already have reserved attributes hidden.
   */
  readonly details: Readonly<Record<string, unknown>> | null;
  readonly customMetadata?: string;
  /** Miroir task uid that canceled this one, when known. */
  readonly canceledBy?: number | null;
}

/** The Meilisearch task object a client sees. */
export interface TaskView {
  uid: number;
  batchUid: number | null;
  indexUid: string | null;
  status: TaskStatus;
  type: string;
  canceledBy: number | null;
  details?: Record<string, unknown>;
  error: ErrorBody | null;
  duration: string | null;
  enqueuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  customMetadata?: string;
}

/** Counters that count documents: summed per group, divided by the group's copies, max over groups. */
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
 * RFC 3339 timestamp → nanoseconds since the epoch (BigInt), keeping the sub-millisecond digits
 * Meilisearch prints and `Date.parse` would drop. Returns null for an unparsable value.
 */
export function rfc3339ToNanos(s: string): bigint | null {
  const m = /^(.*?:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (m === null) return null;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return null;
  const frac = (m[2] ?? '').padEnd(9, '0');
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

/**
 * ISO 8601 duration as Meilisearch prints it: `P[nD]T<s>S` with the fraction in 3, 6 or 9 digits,
 * whichever is exact (`PT1S`, `PT0.184S`, `PT0.000123S`); whole days as `nD`.
 */
export function formatDuration(nanos: bigint): string | null {
  if (nanos < 0n) return null;
  const DAY = 86_400n;
  let secs = nanos / 1_000_000_000n;
  const sub = nanos % 1_000_000_000n;
  const days = secs / DAY;
  secs -= days * DAY;
  let out = 'P';
  if (days !== 0n) out += `${days}D`;
  if (secs !== 0n || sub !== 0n || days === 0n) {
    if (sub === 0n) out += `T${secs}S`;
    else if (sub % 1_000_000n === 0n) out += `T${secs}.${String(sub / 1_000_000n).padStart(3, '0')}S`;
    else if (sub % 1_000n === 0n) out += `T${secs}.${String(sub / 1_000n).padStart(6, '0')}S`;
    else out += `T${secs}.${String(sub).padStart(9, '0')}S`;
  }
  return out;
}

function pickTime(values: (string | null | undefined)[], pick: 'min' | 'max'): string | null {
  let best: string | null = null;
  let bestN: bigint | null = null;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const n = rfc3339ToNanos(v);
    if (n === null) continue;
    if (bestN === null || (pick === 'min' ? n < bestN : n > bestN)) {
      best = v;
      bestN = n;
    }
  }
  return best;
}

const TERMINAL: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'canceled']);

/**
 * Folds node tasks into the client's task. Nodes that became `failed` or `removed` must already be
 * left out by the caller (spec S3.3). Document counters (`indexedDocuments`, `deletedDocuments`,
 * `editedDocuments`) count each document once: per group, the nodes' counters are summed and
 * divided by the group's copies; the best group wins (a group that missed the write reports
 * fewer). They stay `null` until the task is finished, as on one node; other details come from
 * the record (what the client sent).
 */
export function aggregateTask(record: MiroirTaskRecord, nodes: readonly MappedNodeTask[]): TaskView {
  const statuses = nodes.map((n) => n.task?.status ?? 'enqueued');
  const status = aggregateStatus(statuses);
  const finished = TERMINAL.has(status);
  const error = status === 'failed' ? (nodes.find((n) => n.task?.status === 'failed')?.task?.error ?? null) : null;

  const startedAt = status === 'enqueued' ? null : pickTime(nodes.map((n) => n.task?.startedAt), 'min');
  const finishedAt = finished ? pickTime(nodes.map((n) => n.task?.finishedAt), 'max') : null;
  let duration: string | null = null;
  if (startedAt !== null && finishedAt !== null) {
    duration = formatDuration((rfc3339ToNanos(finishedAt) as bigint) - (rfc3339ToNanos(startedAt) as bigint));
  }

  const view: TaskView = {
    uid: record.uid,
    batchUid: null,
    indexUid: record.indexUid,
    status,
    type: record.type,
    canceledBy: record.canceledBy ?? null,
  } as TaskView;
  if (record.details !== null) view.details = aggregateDetails(record.details, nodes, finished);
  view.error = error;
  view.duration = duration;
  view.enqueuedAt = record.enqueuedAt;
  view.startedAt = startedAt;
  view.finishedAt = finishedAt;
  if (record.customMetadata !== undefined) view.customMetadata = record.customMetadata;
  return view;
}

/** Fills the record's document counters from the nodes (see {@link aggregateTask}). */
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
