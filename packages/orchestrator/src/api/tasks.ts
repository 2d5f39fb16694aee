/**
 * `/tasks` and `/batches` over Miroir's task registry: the same filters, pagination and objects as
 * one node (spec S3.3). Each Miroir task is its own batch (batch uid = task uid).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  afterFrom,
  batchNotFound,
  formatDuration,
  formatProgressDuration,
  formatRfc3339,
  invalidBatchUid,
  invalidTaskUid,
  missingTaskFilters,
  paginateUids,
  parseTasksQuery,
  parseU32,
  taskMatches,
  taskNotFound,
  toTaskView,
  type BatchView,
  type TasksQuery,
} from '@miroir/protocol';
import type { AppContext } from './context.js';
import type { TaskRow } from '../state/store.js';
import type { Access } from './auth.js';
import { callEach } from './fanout.js';
import { localTask, recordTask } from './writes.js';

/** How long a task deletion waits for a matched task that is being processed. */
const PROCESSING_WAIT_MS = 30_000;

/** Whether a key scoped to some indexes may see the task. */
export const visible = (access: Access, row: TaskRow) =>
  row.indexUid === null ? (row.indexes ?? []).every((i) => access.allowsIndex(i)) : access.allowsIndex(row.indexUid);

/** The `?…` of the request, as Meilisearch echoes it in `originalFilter`. */
function originalFilter(req: FastifyRequest): string {
  const i = req.url.indexOf('?');
  return i < 0 ? '' : req.url.slice(i);
}

export function toBatchView(row: TaskRow): BatchView {
  const started = row.startedAt ?? row.enqueuedAt;
  return {
    uid: row.uid,
    progress: null,
    details: row.details ?? {},
    stats: {
      totalNbTasks: 1,
      status: { [row.status]: 1 },
      types: { [row.type]: 1 },
      indexUids: row.indexUid === null ? {} : { [row.indexUid]: 1 },
      // A finished batch's step durations (omitted while empty, as Meilisearch does): the Miroir
      // task's one step, from its start to its end.
      ...(row.finishedAt === null ? {} : { progressTrace: { 'processing tasks': formatProgressDuration((row.finishedAt - started) * 1000) } }),
    },
    duration: row.finishedAt === null ? null : formatDuration(row.finishedAt - started),
    startedAt: formatRfc3339(started),
    finishedAt: row.finishedAt === null ? null : formatRfc3339(row.finishedAt),
    batchStrategy: 'batched all enqueued tasks',
  };
}

export function registerTaskRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { cluster, tasks } = ctx;

  /** Matching rows in the requested order, with the total before pagination. */
  async function select(query: TasksQuery, access: Access, filterExtra?: (row: TaskRow) => boolean) {
    const matched: TaskRow[] = [];
    for await (const row of cluster.store.scanTasks({ reverse: query.reverse })) {
      if (!visible(access, row) || !taskMatches(query.filter, row)) continue;
      if (filterExtra && !filterExtra(row)) continue;
      matched.push(row);
    }
    return matched;
  }

  async function page<T>(req: FastifyRequest, mode: 'tasks' | 'batches', render: (row: TaskRow) => T) {
    const access = await ctx.auth.client(req, 'tasks.get', null);
    const query = parseTasksQuery(req.query as Record<string, unknown>, 'list');
    const rows = await select(query, access, mode === 'batches' ? (r) => r.batchUid !== null : undefined);
    const inWindow = rows.filter((r) => afterFrom(r.uid, query.from, query.reverse));
    const { page: uids, next } = paginateUids(inWindow.map((r) => r.uid), query.limit);
    const byUid = new Map(inWindow.map((r) => [r.uid, r]));
    return {
      results: uids.map((u) => render(byUid.get(u)!)),
      total: rows.length,
      limit: query.limit,
      from: uids.length > 0 ? uids[0]! : null,
      next,
    };
  }

  app.get('/tasks', (req) => page(req, 'tasks', toTaskView));

  app.get('/tasks/:uid', async (req) => {
    const access = await ctx.auth.client(req, 'tasks.get', null);
    const text = (req.params as { uid: string }).uid;
    const uid = parseU32(text);
    if (uid === undefined) throw invalidTaskUid(text);
    const row = await tasks.get(uid);
    if (row === undefined || !visible(access, row)) throw taskNotFound(uid);
    return toTaskView(row);
  });

  app.get('/batches', (req) => page(req, 'batches', toBatchView));

  app.get('/batches/:uid', async (req) => {
    const access = await ctx.auth.client(req, 'tasks.get', null);
    const text = (req.params as { uid: string }).uid;
    const uid = parseU32(text);
    if (uid === undefined) throw invalidBatchUid(text);
    const row = await tasks.get(uid);
    if (row === undefined || row.batchUid === null || !visible(access, row)) throw batchNotFound(uid);
    return toBatchView(row);
  });

  /** Cancels the node tasks behind every matching pending Miroir task (200, as Meilisearch answers). */
  app.post('/tasks/cancel', async (req, reply) => {
    const access = await ctx.auth.client(req, 'tasks.cancel', null);
    const query = parseTasksQuery(req.query as Record<string, unknown>, 'cancel');
    if (!query.hasFilters) throw missingTaskFilters('cancel');
    const pending = await select(query, access, (r) => r.status === 'enqueued' || r.status === 'processing');
    const perNode = new Map<string, number[]>();
    for (const row of pending) {
      for (const [nodeId, uids] of Object.entries(row.nodeTasks)) perNode.set(nodeId, [...(perNode.get(nodeId) ?? []), ...uids]);
    }
    const details = { matchedTasks: pending.length, canceledTasks: null, originalFilter: originalFilter(req) };
    if (perNode.size === 0) {
      return reply.code(200).send(await localTask(ctx, { indexUid: null, type: 'taskCancelation', details: { ...details, canceledTasks: 0 } }, null));
    }
    const results = await callEach<{ taskUid: number }>(cluster, [...perNode.keys()], (nodeId) => ({
      method: 'POST',
      path: `/tasks/cancel?uids=${perNode.get(nodeId)!.join(',')}`,
    }));
    const nodeTasks: Record<string, number[]> = {};
    for (const r of results) if (r.ok) nodeTasks[r.nodeId] = [r.ok.body.taskUid];
    const summary = await recordTask(ctx, { indexUid: null, type: 'taskCancelation', details }, nodeTasks, {
      matchedUids: pending.map((r) => r.uid),
    });
    // A task that finished meanwhile keeps its final row; a pending one gets the mark alone (a
    // concurrent refresh or broadcast phase write of its row, here or in another process, keeps it).
    for (const row of pending) await cluster.store.markTaskCancelRequested(row.uid, summary.taskUid);
    return reply.code(200).send(summary);
  });

  /**
   * Deletes Miroir tasks from the registry (node task lists are Miroir's own business). As on one
   * node, the filter is matched when the deletion is enqueued, and the deletion runs once the tasks
   * being processed are done: those are deleted too; tasks still enqueued are kept.
   */
  app.delete('/tasks', async (req, reply) => {
    const access = await ctx.auth.client(req, 'tasks.delete', null);
    const query = parseTasksQuery(req.query as Record<string, unknown>, 'delete');
    if (!query.hasFilters) throw missingTaskFilters('delete');
    const matched = await select(query, access);
    const deletable: number[] = [];
    for (const row of matched) if ((await finishedUnlessEnqueued(row)) !== undefined) deletable.push(row.uid);
    await cluster.store.deleteTasks(deletable);
    const details = { matchedTasks: matched.length, deletedTasks: deletable.length, originalFilter: originalFilter(req) };
    return reply.code(200).send(await localTask(ctx, { indexUid: null, type: 'taskDeletion', details }, null));
  });

  /**
   * The task once finished, when it is not still waiting in the queue: a task being processed is
   * waited for (refreshed from its nodes; up to {@link PROCESSING_WAIT_MS}); undefined for a task
   * that is enqueued, or still processing after that.
   */
  async function finishedUnlessEnqueued(row: TaskRow): Promise<TaskRow | undefined> {
    const deadline = Date.now() + PROCESSING_WAIT_MS;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      if (row.finishedAt !== null) return row;
      const fresh = await tasks.get(row.uid);
      if (fresh === undefined || fresh.status === 'enqueued') return undefined;
      if (fresh.finishedAt !== null) return fresh;
      if (Date.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, delay));
      row = fresh;
    }
  }

  // A cancelation reports how many of its matched tasks ended canceled.
  tasks.onFinished(async (row) => {
    if (row.type !== 'taskCancelation' || row.matchedUids === undefined) return;
    let canceled = 0;
    for (const uid of row.matchedUids) if ((await tasks.get(uid))?.status === 'canceled') canceled++;
    await cluster.store.putTask({ ...row, details: { ...row.details, canceledTasks: canceled } });
  });
}
