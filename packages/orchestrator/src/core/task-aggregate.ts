/**
 * Folding node tasks into one Miroir task (spec S3.3, meilisearch-api §12 item 9).
 *
 * Status: `enqueued` while every node task is enqueued; `failed` as soon as one failed (with that
 * node's error); `canceled` when all were canceled; `succeeded` only when all succeeded; otherwise
 * `processing`. Times: the earliest start, the latest finish. Counters in `details` count each
 * document once: a replica's count is not added to another's.
 */
import { rfc3339ToMicros, type TaskStatus, type TaskView } from '@miroir/protocol';
import type { TaskRow } from '../state/store.js';
import { clientSettings, withoutReservedInMessage } from './reserved-settings.js';

/** A node's error as one node without Miroir's reserved fields would word it. */
function hideReserved<T extends { message: string } | null>(error: T): T {
  return error === null ? error : { ...error, message: withoutReservedInMessage(error.message) };
}

export function isTerminal(status: TaskStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'canceled';
}

const micros = (text: string | null): number | null => (text === null ? null : rfc3339ToMicros(text));

/**
 * Per-type details for a finished task. Document counters (`indexedDocuments`, `deletedDocuments`)
 * are summed over one copy of the data: every shard is held by RF nodes in each of RG groups, so
 * the sum over all node tasks counts each document `RF × RG` times when every replica applied it.
 * `providedIds` and `receivedDocuments` are what the client sent, fixed at enqueue time.
 */
function finishedDetails(
  row: TaskRow,
  views: TaskView[],
  copies: number,
  status: TaskStatus,
): Record<string, unknown> | null {
  if (row.details === null) return null;
  const out: Record<string, unknown> = { ...row.details };
  for (const key of ['indexedDocuments', 'deletedDocuments', 'editedDocuments'] as const) {
    if (!(key in out)) continue;
    if (status !== 'succeeded') {
      out[key] = 0;
      continue;
    }
    let sum = 0;
    for (const v of views) {
      const n = v.details?.[key];
      if (typeof n === 'number') sum += n;
    }
    out[key] = Math.round(sum / copies);
  }
  return out;
}

/**
 * The row after folding in the node tasks `lookup` knows; the same object when nothing changed.
 * A node task the lookup cannot see (node unreachable) keeps the row where it is.
 */
export function aggregateTask(
  row: TaskRow,
  lookup: (nodeId: string, uid: number) => TaskView | undefined,
  copies = 1,
): TaskRow {
  if (isTerminal(row.status)) return row;
  const views: TaskView[] = [];
  for (const [nodeId, uids] of Object.entries(row.nodeTasks)) {
    for (const uid of uids) {
      const v = lookup(nodeId, uid);
      if (v === undefined) return row;
      views.push(v);
    }
  }
  if (views.length === 0) return row;
  let allEnqueued = true;
  let allSucceeded = true;
  let allCanceled = true;
  let allTerminal = true;
  let failed: TaskView | undefined;
  let startedAt: number | null = null;
  let finishedAt: number | null = null;
  for (const v of views) {
    if (v.status !== 'enqueued') allEnqueued = false;
    if (v.status !== 'succeeded') allSucceeded = false;
    if (v.status !== 'canceled') allCanceled = false;
    if (!isTerminal(v.status)) allTerminal = false;
    if (v.status === 'failed' && failed === undefined) failed = v;
    const s = micros(v.startedAt);
    if (s !== null && (startedAt === null || s < startedAt)) startedAt = s;
    const f = micros(v.finishedAt);
    if (f !== null && (finishedAt === null || f > finishedAt)) finishedAt = f;
  }
  const status: TaskStatus = allEnqueued
    ? 'enqueued'
    : failed && allTerminal
      ? 'failed'
      : allCanceled
        ? 'canceled'
        : allSucceeded
          ? 'succeeded'
          : allTerminal
            ? 'failed'
            : 'processing';
  const terminal = isTerminal(status);
  let details = terminal ? finishedDetails(row, views, copies, status) : row.details;
  if (row.detailsFrom !== undefined) {
    const first = Object.keys(row.nodeTasks)[0];
    const shown = first === undefined ? undefined : lookup(first, row.nodeTasks[first]![row.detailsFrom]!)?.details;
    if (shown !== undefined) details = clientSettings(shown);
  }
  if (status === row.status && !terminal && row.startedAt === startedAt && JSON.stringify(details) === JSON.stringify(row.details)) return row;
  return {
    ...row,
    status,
    batchUid: status === 'enqueued' ? null : row.uid,
    startedAt: status === 'enqueued' ? null : startedAt ?? finishedAt,
    finishedAt: terminal ? finishedAt : null,
    canceledBy: status === 'canceled' ? (row.cancelRequestedBy ?? null) : row.canceledBy,
    error: status === 'failed' ? hideReserved(failed?.error ?? row.error) : null,
    details,
  };
}
