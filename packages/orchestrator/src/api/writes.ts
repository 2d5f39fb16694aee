/**
 * How writes reach the nodes. Every write becomes one Miroir task (integer uid from the store)
 * standing for the node tasks it caused. Writes to one index are dispatched one at a time, so the
 * order in which nodes enqueue them is the order of Miroir's task uids: a client may enqueue an
 * index creation, settings and documents without waiting, as on one node.
 */
import type { FastifyReply } from 'fastify';
import { MeiliError, toTaskSummary, type TaskSummary, type TaskType } from '@miroir/protocol';
import { evaluateQuorum, writeDegradedHeader } from '../core/documents.js';
import type { WriteRouter } from '../core/placement.js';
import { hasShardFilterable, nodeSettingsUpdate } from '../core/reserved-settings.js';
import { miroirError } from '../errors.js';
import type { AppContext } from '../main.js';
import { NodeHttpError, NodeTransportError, type NodeRequest } from '../nodes/node-client.js';
import type { SettingsBroadcastState, TaskRow } from '../state/store.js';
import type { MissedWrite } from '../work/handoff.js';
import { callEach } from './fanout.js';

export interface TaskIntent {
  indexUid: string | null;
  /** Every index the task touches when more than one (a swap, a rename). */
  indexes?: string[];
  type: TaskType;
  details: Record<string, unknown> | null;
  customMetadata?: string | null;
}

const summary = (row: TaskRow): TaskSummary => toTaskSummary(row);
const nowMicros = () => Date.now() * 1000;

function newRow(uid: number, intent: TaskIntent, nodeTasks: Record<string, number[]>, enqueuedAt = nowMicros()): TaskRow {
  return {
    uid,
    batchUid: null,
    indexUid: intent.indexUid,
    ...(intent.indexes ? { indexes: intent.indexes } : {}),
    type: intent.type,
    status: 'enqueued',
    canceledBy: null,
    details: intent.details,
    error: null,
    enqueuedAt,
    startedAt: null,
    finishedAt: null,
    customMetadata: intent.customMetadata ?? null,
    nodeTasks,
  };
}

interface NodeSend {
  nodeId: string;
  uids: number[];
  error: unknown;
  /** What the node did not get because it is down or behind, or a transport failure: replayed later. */
  missed: MissedWrite[];
}

/**
 * Sends each node its requests in order; resolves the node task uids, or the first failure. A node
 * that is failed or still catching up on missed writes is not sent anything: its requests are
 * returned as missed, to join its queue once the write is accepted (see work/handoff.ts).
 */
async function sendInOrder(ctx: AppContext, nodeIds: readonly string[], requests: (nodeId: string) => NodeRequest[]): Promise<NodeSend[]> {
  return Promise.all(
    nodeIds.map(async (nodeId): Promise<NodeSend> => {
      const reqs = requests(nodeId);
      if (ctx.handoff.deferring(nodeId)) {
        return { nodeId, uids: [], error: new NodeTransportError(nodeId, false, 'the node is down or catching up on missed writes'), missed: reqs.map((req) => ({ req })) };
      }
      const uids: number[] = [];
      for (let i = 0; i < reqs.length; i++) {
        const attemptedAt = Date.now();
        const [r] = await callEach<{ taskUid: number }>(ctx.cluster, [nodeId], reqs[i]!);
        if (r!.ok === undefined) {
          const missed = r!.error instanceof NodeTransportError ? [{ req: reqs[i]!, attemptedAt }, ...reqs.slice(i + 1).map((req) => ({ req }))] : [];
          return { nodeId, uids, error: r!.error, missed };
        }
        uids.push(r!.ok.body.taskUid);
      }
      return { nodeId, uids, error: undefined, missed: [] };
    }),
  );
}

/** Queues what each node missed of an accepted write, in the order the node must apply it. */
function keepMissed(ctx: AppContext, results: readonly NodeSend[]): void {
  for (const r of results) ctx.handoff.defer(r.nodeId, r.missed);
}

/**
 * Requests that make sure an index exists on every node with the shard field filterable, to run
 * before a write that may create the index (documents, settings): nodes create missing indexes on
 * such writes, and Miroir's read path needs `_miroir_shard` filterable from the first document on.
 * An index whose deletion is still pending counts as missing: the nodes delete it first, then
 * the write recreates it.
 */
async function setupRequests(ctx: AppContext, uid: string): Promise<NodeRequest[]> {
  // Behind a pending deletion the nodes meet no index: the write creates it anew, with defaults.
  const info = ctx.catalog.deletionPending(uid) ? undefined : await ctx.catalog.get(uid);
  if (info !== undefined && hasShardFilterable(info.settings)) return [];
  const filterable = info?.settings.filterableAttributes ?? [];
  return [
    {
      method: 'PATCH',
      path: `/indexes/${encodeURIComponent(uid)}/settings`,
      body: nodeSettingsUpdate({ filterableAttributes: filterable }),
    },
  ];
}

const DOCUMENT_WRITES: ReadonlySet<TaskType> = new Set<TaskType>(['documentAdditionOrUpdate', 'documentDeletion', 'documentEdition']);

/** Refuses a document write to an index frozen by an unrepairable settings divergence (spec S13.5). */
async function assertWritable(ctx: AppContext, uid: string): Promise<void> {
  const frozen = (await ctx.versions.get(uid))?.frozen;
  if (frozen !== undefined) {
    throw miroirError(
      'miroir_writes_frozen',
      `Writes to index \`${uid}\` are frozen: ${frozen}. They resume once every node holds the committed settings (see GET /_miroir/settings/${uid}).`,
    );
  }
}

/**
 * A write every node must apply (index and settings changes, delete by filter, delete all…).
 * A request every node rejects at once is answered with the node's error and creates no task.
 * When some nodes cannot be reached, the task covers the nodes that enqueued it and the answer
 * says which nodes missed it (`X-Miroir-Degraded: nodes=…`).
 */
export async function broadcastWrite(
  ctx: AppContext,
  reply: FastifyReply,
  intent: TaskIntent,
  requests: NodeRequest[],
  opts: {
    setupIndex?: string;
    lockKeys?: string[];
    /** Show the details of the node task for `requests[detailsFrom]` (a node normalizes them). */
    detailsFrom?: number;
    /**
     * A settings change (spec S13.5): waits for the index's previous broadcast, then enqueues the
     * change (on every node for `two_phase`, on the first for `sequential`) and hands the task to
     * the broadcaster, which keeps it `processing` until commit.
     */
    settings?: Pick<SettingsBroadcastState, 'strategy' | 'proposal'>;
  } = {},
): Promise<TaskSummary> {
  const keys = opts.lockKeys ?? (intent.indexUid ? [intent.indexUid] : ['*']);
  return ctx.cluster.writeLock.run(keys, async () => {
    if (intent.indexUid && DOCUMENT_WRITES.has(intent.type)) await assertWritable(ctx, intent.indexUid);
    const uid = intent.indexUid;
    if (opts.settings === undefined || uid === null) return (await broadcastLocked(ctx, reply, intent, requests, opts)).summary;
    await ctx.broadcasts.idle(uid);
    const handle = ctx.broadcasts.begin(uid);
    try {
      const sequential = opts.settings.strategy === 'sequential';
      const previous = sequential ? await ctx.broadcasts.snapshot(uid) : undefined;
      const result = await broadcastLocked(ctx, reply, intent, requests, opts, (setup) => ({
        strategy: opts.settings!.strategy,
        phase: sequential ? 'apply' : 'propose',
        requests: [...setup, ...requests].map(({ method, path, body }) => ({ method, path, ...(body === undefined ? {} : { body }) })),
        proposal: opts.settings!.proposal,
        ...(previous ? { previous, applied: [] } : {}),
      }));
      handle.drive(result.row);
      return result.summary;
    } catch (e) {
      handle.cancel();
      throw e;
    }
  });
}

/** A document write split by shard: the shards it touches and each target node's request. */
export interface RoutedBatches {
  shards: readonly number[];
  batches: Map<string, NodeRequest>;
}

/**
 * The body of {@link broadcastWrite}, under the caller's lock: sends, records the task (with the
 * settings broadcast's state when `broadcast` is given) and returns its summary and row.
 */
async function broadcastLocked(
  ctx: AppContext,
  reply: FastifyReply,
  intent: TaskIntent,
  requests: NodeRequest[],
  opts: { setupIndex?: string; detailsFrom?: number; settings?: Pick<SettingsBroadcastState, 'strategy'> },
  broadcast?: (setup: NodeRequest[]) => SettingsBroadcastState,
): Promise<{ summary: TaskSummary; row: TaskRow }> {
  const enqueuedAt = nowMicros();
  const setup = opts.setupIndex ? await setupRequests(ctx, opts.setupIndex) : [];
  const all = [...ctx.cluster.nodes.keys()];
  const nodeIds = opts.settings?.strategy === 'sequential' ? all.slice(0, 1) : all;
  const results = await sendInOrder(ctx, nodeIds, () => [...setup, ...requests]);
  if (results.length === 0) throw miroirError('miroir_node_unavailable', 'No node is configured.');
  const accepted = results.filter((r) => r.error === undefined);
  if (accepted.length === 0) {
    const answered = results.find((r) => r.error instanceof NodeHttpError);
    throw (answered ?? results[0]!).error;
  }
  const missed = results.filter((r) => r.error !== undefined).map((r) => r.nodeId);
  if (results.some((r) => r.error instanceof NodeHttpError)) {
    // The nodes disagree (one refused what others enqueued): their states differ; say so loudly.
    ctx.log.warn({ nodes: missed, index: intent.indexUid }, 'a broadcast was refused by some nodes and enqueued by others');
  }
  if (missed.length > 0) reply.header('x-miroir-degraded', `nodes=${missed.join(',')}`);
  keepMissed(ctx, results);
  const uid = await ctx.cluster.store.nextTaskUid();
  const row = newRow(uid, intent, Object.fromEntries(accepted.map((r) => [r.nodeId, r.uids])), enqueuedAt);
  if (opts.detailsFrom !== undefined) row.detailsFrom = setup.length + opts.detailsFrom;
  if (broadcast) row.settingsBroadcast = broadcast(setup);
  // A deletion, or a rename (which takes the index away from its old uid).
  const removes = intent.type === 'indexDeletion' || (intent.type === 'indexUpdate' && intent.indexes !== undefined);
  if (removes && intent.indexUid !== null) ctx.catalog.deletionEnqueued(intent.indexUid, uid);
  await ctx.tasks.insert(row);
  if (opts.setupIndex) ctx.catalog.invalidate(opts.setupIndex);
  return { summary: summary(row), row };
}

/**
 * A document write routed by shard: `route` maps each target node to its request, given where
 * writes go now. It runs under the index's write lock, so a migration's cutover (which holds the
 * lock while it flips ownership) never sees a write routed by the owners before the flip. Quorum
 * per spec S2.5: success when every shard has a group that met it (`X-Miroir-Degraded` names what
 * missed), else 503 `miroir_no_quorum` and no task.
 */
export async function routedWrite(
  ctx: AppContext,
  reply: FastifyReply,
  intent: TaskIntent & { indexUid: string },
  shardCount: number,
  route: (router: WriteRouter) => RoutedBatches,
  opts: { setupIndex: boolean },
): Promise<TaskSummary> {
  return ctx.cluster.writeLock.run([intent.indexUid], async () => {
    await assertWritable(ctx, intent.indexUid);
    const enqueuedAt = nowMicros();
    const placement = ctx.cluster.placement(shardCount);
    const { shards, batches } = route(ctx.cluster.writeRouter(shardCount));
    const setup = opts.setupIndex ? await setupRequests(ctx, intent.indexUid) : [];
    // Every node gets the setup, so an index exists everywhere even where no document lands.
    const nodeIds = [...new Set([...batches.keys(), ...(setup.length > 0 ? ctx.cluster.nodes.keys() : [])])];
    const results = await sendInOrder(ctx, nodeIds, (id) => {
      const b = batches.get(id);
      return b ? [...setup, b] : setup;
    });
    const acked = new Set(results.filter((r) => r.error === undefined && batches.has(r.nodeId)).map((r) => r.nodeId));
    const quorum = evaluateQuorum(shards, placement, (id) => acked.has(id), ctx.cluster.config.write_quorum);
    if (!quorum.ok) {
      const refusal = results.find((r) => r.error instanceof NodeHttpError && batches.has(r.nodeId));
      if (refusal && acked.size === 0) throw refusal.error;
      throw miroirError(
        'miroir_no_quorum',
        `No replica group reached the write quorum for shard(s) ${quorum.noQuorumShards.join(', ')}. Retry the request.`,
      );
    }
    const header = writeDegradedHeader(quorum);
    if (header) reply.header('x-miroir-degraded', header);
    keepMissed(ctx, results);
    const uid = await ctx.cluster.store.nextTaskUid();
    const nodeTasks: Record<string, number[]> = {};
    for (const r of results) if (r.error === undefined && r.uids.length > 0) nodeTasks[r.nodeId] = r.uids;
    const row = newRow(uid, intent, nodeTasks, enqueuedAt);
    await ctx.tasks.insert(row);
    if (setup.length > 0) ctx.catalog.invalidate(intent.indexUid);
    return summary(row);
  });
}

/** Records a task for node tasks already enqueued by the caller. */
export async function recordTask(
  ctx: AppContext,
  intent: TaskIntent,
  nodeTasks: Record<string, number[]>,
  extra: Partial<TaskRow> = {},
): Promise<TaskSummary> {
  const uid = await ctx.cluster.store.nextTaskUid();
  const row = { ...newRow(uid, intent, nodeTasks), ...extra };
  await ctx.tasks.insert(row);
  return summary(row);
}

/**
 * A write Miroir settles itself without any node (a document batch one node would accept and then
 * fail, e.g. a missing primary key): 202 now, a `failed` task with the node's error.
 */
export async function localTask(ctx: AppContext, intent: TaskIntent, error: MeiliError | null): Promise<TaskSummary> {
  const keys = intent.indexUid ? [intent.indexUid] : ['*'];
  return ctx.cluster.writeLock.run(keys, async () => {
    const uid = await ctx.cluster.store.nextTaskUid();
    const row = newRow(uid, intent, {});
    const now = nowMicros();
    row.batchUid = uid;
    row.status = error ? 'failed' : 'succeeded';
    row.error = error ? error.toJSON() : null;
    row.startedAt = now;
    row.finishedAt = now;
    await ctx.tasks.insert(row);
    return summary(row);
  });
}

