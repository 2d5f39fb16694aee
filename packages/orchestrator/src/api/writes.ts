/**
 * How writes reach the nodes. Every write becomes one Miroir task (integer uid from the store)
 * standing for the node tasks it caused. Writes to one index are dispatched one at a time, so the
 * order in which nodes enqueue them is the order of Miroir's task uids: a client may enqueue an
 * index creation, settings and documents without waiting, as on one node.
 *
 * Every client write enters through {@link broadcastWrite}, {@link routedWrite} or
 * {@link localTask}, which run it under its `Idempotency-Key` (api/idempotency.ts): the one place
 * where a retry is answered with the first task instead of reaching the nodes again.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { indexNotFound, MeiliError, nowMicros, toFailedDetails, toTaskSummary, type TaskSummary, type TaskType } from '@miroir/protocol';
import { evaluateQuorum, writeDegradedHeader } from '../core/documents.js';
import type { WriteRouter } from '../core/placement.js';
import { hasShardFilterable, nodeSettingsUpdate } from '../core/reserved-settings.js';
import { miroirError } from '../errors.js';
import type { AppContext } from './context.js';
import { NodeHttpError, NodeTransportError, type NodeRequest } from '../nodes/node-client.js';
import type { SettingsBroadcastState, TaskRow } from '../state/store.js';
import { newMarker, type Handoff, type MissedWrite } from '../work/handoff.js';
import { waitTask } from '../work/node-io.js';
import { WRITE_TOKEN_HEADER } from '../guarantees/write-token.js';
import { callEach } from './fanout.js';
import type { WriteAnswer } from './idempotency.js';

export interface TaskIntent {
  indexUid: string | null;
  /** Every index the task touches when more than one (a swap, a rename). */
  indexes?: string[];
  type: TaskType;
  details: Record<string, unknown> | null;
  customMetadata?: string | null;
}

const summary = (row: TaskRow): TaskSummary => toTaskSummary(row);

/** A write answered with its task summary: a replay answers the original one. */
const SUMMARY_ANSWER: WriteAnswer<TaskSummary> = { summary: (s) => s, replay: (s) => s };
/** A routed write: a replay sent nothing this time. */
const ROUTED_ANSWER: WriteAnswer<{ summary: TaskSummary; sent: boolean }> = { summary: (r) => r.summary, replay: (s) => ({ summary: s, sent: false }) };

/**
 * The `customMetadata` of a client's write and the query string its node requests carry instead:
 * the client's parameters (so a node validates them as it would alone) with `customMetadata`
 * replaced by a fresh marker (`miroir:<uuid>`), by which a write retried after a timeout is found
 * in a node's task list (work/handoff.ts). The client's own value lives in Miroir's task only, so
 * the client reads back exactly what it sent, or nothing.
 */
export function markedWrite(req: FastifyRequest): { customMetadata: string | null; query: string } {
  const i = req.url.indexOf('?');
  const params = new URLSearchParams(i < 0 ? '' : req.url.slice(i + 1));
  const customMetadata = params.get('customMetadata');
  params.delete('customMetadata');
  params.set('customMetadata', newMarker());
  return { customMetadata, query: `?${params.toString()}` };
}

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

/**
 * Queues what each node missed of an accepted write, in the order the node must apply it; returns
 * what {@link Handoff.settle} must wait for before the write is acknowledged (once it left its
 * routing ticket).
 */
async function keepMissed(ctx: AppContext, results: readonly NodeSend[]): Promise<Settle> {
  const missed = results.filter((r) => r.missed.length > 0);
  const marks = await Promise.all(missed.map((r) => ctx.handoff.defer(r.nodeId, r.missed)));
  return { marks, nodes: missed.map((r) => r.nodeId) };
}

interface Settle {
  marks: (number | undefined)[];
  nodes: string[];
}

function addSettle(into: Settle, more: Settle): void {
  into.marks.push(...more.marks);
  into.nodes.push(...more.nodes);
}

/**
 * How a write keeps an index usable by Miroir (the shard field filterable on every node, spec
 * S5.3), as side work of the client's requests. Side work is only sent where the client's
 * operation will succeed, so that a failed task changes nothing:
 * - `write` (documents, settings: nodes create a missing index on these): before the client's
 *   requests, when the index does not exist yet or lacks the shard field;
 * - `create` (an index creation): after the creation, only when the index will not exist when the
 *   creation runs (else the creation fails, and the index is left exactly as it is).
 */
export interface IndexSetup {
  index: string;
  kind: 'write' | 'create';
  /**
   * A `write` whose credential may create the index (`indexes.create` on it): when false and the
   * index will not exist, the write fails with `index_not_found`, as one node fails it, and no
   * node is sent anything.
   */
  mayCreate?: boolean;
}

/** Time allowed for the tasks already queued on an index to finish before a setup is decided. */
const SETTLE_TIMEOUT_MS = 30_000;

/**
 * The index as it will be when the next write to it runs: the Miroir tasks already queued on it
 * (under the caller's write lock no new one appears) are waited for, then it is read afresh. Nodes
 * that do not answer within {@link SETTLE_TIMEOUT_MS} leave the decision to what is known then.
 */
async function settledIndex(ctx: AppContext, uid: string) {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    const pending = (await ctx.cluster.store.pendingTasks()).filter((r) => r.indexUid === uid || r.indexes?.includes(uid));
    if (pending.length === 0) break;
    // A read refreshes a task from its nodes.
    for (const r of pending) await ctx.tasks.get(r.uid);
    if (Date.now() > deadline) {
      ctx.log.warn({ index: uid, tasks: pending.map((r) => r.uid) }, 'deciding an index setup while tasks on it are still pending');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  ctx.catalog.invalidate(uid);
  return ctx.catalog.get(uid);
}

/** The side requests of a write: sent before and after the client's; `creates` when they create the index. */
interface SetupPlan {
  before: NodeRequest[];
  after: NodeRequest[];
  creates: boolean;
  /** The write may not create the missing index: it fails with this error, sending nothing. */
  refused?: MeiliError;
}

const NO_SETUP: SetupPlan = { before: [], after: [], creates: false };

async function setupRequests(ctx: AppContext, setup: IndexSetup): Promise<SetupPlan> {
  const uid = setup.index;
  // The fast path: an index Miroir already set up stays set up (every settings write keeps the
  // field), unless its deletion is pending: the nodes then delete it before this write recreates it.
  if (setup.kind === 'write' && !ctx.catalog.deletionPending(uid)) {
    const cached = await ctx.catalog.get(uid);
    if (cached !== undefined && hasShardFilterable(cached.settings)) return NO_SETUP;
  }
  let info: Awaited<ReturnType<typeof settledIndex>>;
  try {
    info = await settledIndex(ctx, uid);
    // No task on the index is pending any more: neither is a deletion another process announced.
    ctx.catalog.deletionsSettled(uid);
  } catch (e) {
    // An index the nodes cannot read (an invalid uid…): the creation gets their error, alone.
    if (setup.kind === 'create' && e instanceof NodeHttpError) return NO_SETUP;
    throw e;
  }
  if (setup.kind === 'create' ? info !== undefined : info !== undefined && hasShardFilterable(info.settings)) return NO_SETUP;
  if (setup.kind === 'write' && info === undefined && setup.mayCreate === false) return { ...NO_SETUP, refused: indexNotFound(uid) };
  const request: NodeRequest = {
    method: 'PATCH',
    path: `/indexes/${encodeURIComponent(uid)}/settings`,
    body: nodeSettingsUpdate({ filterableAttributes: info?.settings.filterableAttributes ?? [] }),
  };
  return setup.kind === 'create' ? { before: [], after: [request], creates: false } : { before: [request], after: [], creates: info === undefined };
}

/**
 * A client's request every node refused at once after the setup before it was enqueued: an index
 * the setup created is deleted again (under the same write lock, so nothing ran in between), and
 * the refusal changes nothing. A setup that only made the shard field filterable is invisible.
 */
async function undoSetup(ctx: AppContext, uid: string, plan: SetupPlan, results: readonly NodeSend[]): Promise<void> {
  if (!plan.creates) return;
  const created = results.filter((r) => r.uids.length > 0).map((r) => r.nodeId);
  if (created.length === 0) return;
  const deleted = await callEach<{ taskUid?: number }>(ctx.cluster, created, { method: 'DELETE', path: `/indexes/${encodeURIComponent(uid)}` });
  // The deletions finish before the lock is released: a write behind this one must not find the
  // setup's index still there (it would skip its own setup) and then see it deleted under it.
  await Promise.all(
    deleted.map(async (d) => {
      const taskUid = d.ok?.body.taskUid;
      if (typeof taskUid === 'number') await waitTask(ctx.cluster.node(d.nodeId), taskUid).catch(() => {});
    }),
  );
  ctx.catalog.invalidate(uid);
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

/** How {@link broadcastWrite} sends and records a write. */
export interface BroadcastOptions {
  /** The index this write may create (documents, settings): set up for Miroir first when needed. */
  setupIndex?: string;
  /** Whether the credential may create `setupIndex` (see {@link IndexSetup.mayCreate}). */
  mayCreate?: boolean;
  /** This write is the creation of an index: set up for Miroir after it, when it will succeed. */
  creates?: { index: string; primaryKey: string | null };
  lockKeys?: string[];
  /** Show the details of the node task for `requests[detailsFrom]` (a node normalizes them). */
  detailsFrom?: number;
  /**
   * A settings change (spec S13.5): waits for the index's previous broadcast, in any
   * orchestrator, and takes the index's broadcast lease, then enqueues the change (on every node
   * for `two_phase`, on the first for `sequential`) and hands the task to the broadcaster, which
   * keeps it `processing` until commit.
   */
  settings?: Pick<SettingsBroadcastState, 'strategy' | 'proposal'>;
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
  opts: BroadcastOptions = {},
): Promise<TaskSummary> {
  const keys = opts.lockKeys ?? (intent.indexUid ? [intent.indexUid] : ['*']);
  return ctx.idempotency.run(reply.request, () => broadcastUnder(ctx, reply, keys, intent, requests, opts), SUMMARY_ANSWER);
}

/** {@link broadcastWrite} under its write lock (and settings lease). */
async function broadcastUnder(
  ctx: AppContext,
  reply: FastifyReply,
  keys: string[],
  intent: TaskIntent,
  requests: NodeRequest[],
  opts: BroadcastOptions,
): Promise<TaskSummary> {
  return ctx.cluster.writeLock.run(keys, async () => {
    if (intent.indexUid && DOCUMENT_WRITES.has(intent.type)) await assertWritable(ctx, intent.indexUid);
    const uid = intent.indexUid;
    if (opts.settings === undefined || uid === null) return (await broadcastLocked(ctx, reply, intent, requests, opts)).summary;
    const settings = opts.settings;
    return ctx.broadcasts.change(uid, async () => {
      const sequential = settings.strategy === 'sequential';
      const previous = sequential ? await ctx.broadcasts.snapshot(uid) : undefined;
      const result = await broadcastLocked(ctx, reply, intent, requests, opts, (all) => ({
        strategy: settings.strategy,
        phase: sequential ? 'apply' : 'propose',
        requests: all.map(({ method, path, body }) => ({ method, path, ...(body === undefined ? {} : { body }) })),
        proposal: settings.proposal,
        ...(previous ? { previous, applied: [] } : {}),
      }));
      // A write refused before any node call (see IndexSetup.mayCreate) has nothing to drive.
      return { value: result.summary, row: result.row.status === 'failed' ? undefined : result.row };
    });
  });
}

/** A document write split by shard: the shards it touches and each target node's request. */
export interface RoutedBatches {
  shards: readonly number[];
  batches: Map<string, NodeRequest>;
  /** The ids of the documents the write creates or updates (not of those it deletes). */
  placed?: readonly string[];
}

/** How many times a write is planned again when the routing keeps changing under it. */
const MAX_PLANS = 4;

/**
 * Runs `send` under a routing ticket (work/fence.ts) until the fence confirms it: when the routing
 * moved past the ticket before that, the fence is refreshed and `send` runs again with the next
 * attempt number, up to {@link MAX_PLANS} times.
 */
async function fenced(ctx: AppContext, shards: number | null, index: string | null, what: string, send: (attempt: number) => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const ticket = await ctx.fence.enter(shards, index);
    let confirmed: boolean;
    try {
      await send(attempt);
      confirmed = await ctx.fence.confirm(ticket);
    } finally {
      ctx.fence.leave(ticket);
    }
    if (confirmed) return;
    if (attempt >= MAX_PLANS) throw routingChanged();
    ctx.log.info({ index, attempt, epoch: ticket.epoch }, `the routing changed under ${what}: planning it again`);
    await ctx.fence.refresh();
  }
}

function routingChanged(): MeiliError {
  return miroirError('miroir_topology_changing', 'The routing of the index changed several times while the write was sent; retry the request.');
}

/**
 * Deletes, on the nodes that no longer own them, the documents an earlier plan of the same write
 * placed there under a routing since retired (work/fence.ts): a stale copy on a non-owner would be
 * read as a duplicate once the migration's shard filters are lifted. A node the earlier plan
 * queued the documents for gets the deletion queued behind them.
 */
async function dropStrays(ctx: AppContext, uid: string, placed: readonly string[], before: WriteRouter, now: WriteRouter): Promise<Settle> {
  const perNode = new Map<string, string[]>();
  for (const id of placed) {
    const shard = ctx.cluster.hasher.shardOf(id, now.shards);
    const keep = now.writeTargets(shard);
    for (const n of before.writeTargets(shard)) {
      if (keep.includes(n) || !ctx.cluster.nodes.has(n)) continue;
      let list = perNode.get(n);
      if (list === undefined) perNode.set(n, (list = []));
      list.push(id);
    }
  }
  const results = await sendInOrder(ctx, [...perNode.keys()], (n) => [
    { method: 'POST', path: `/indexes/${encodeURIComponent(uid)}/documents/delete-batch`, body: perNode.get(n)! },
  ]);
  const refused = results.filter((r) => r.error instanceof NodeHttpError);
  if (refused.length > 0) ctx.log.warn({ index: uid, nodes: refused.map((r) => r.nodeId) }, 'could not delete the copies a re-planned write left on former owners');
  return keepMissed(ctx, results);
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
  opts: {
    setupIndex?: string;
    mayCreate?: boolean;
    creates?: { index: string; primaryKey: string | null };
    detailsFrom?: number;
    settings?: Pick<SettingsBroadcastState, 'strategy'>;
  },
  broadcast?: (all: NodeRequest[]) => SettingsBroadcastState,
): Promise<{ summary: TaskSummary; row: TaskRow }> {
  const enqueuedAt = nowMicros();
  const setup = opts.creates
    ? await setupRequests(ctx, { index: opts.creates.index, kind: 'create' })
    : opts.setupIndex
      ? await setupRequests(ctx, { index: opts.setupIndex, kind: 'write', mayCreate: opts.mayCreate ?? true })
      : NO_SETUP;
  if (setup.refused) return settledLocally(ctx, intent, setup.refused);
  const sent = [...setup.before, ...requests, ...setup.after];
  const sequential = opts.settings?.strategy === 'sequential';
  const shards = intent.indexUid === null ? null : ((await ctx.cluster.store.getIndexMeta(intent.indexUid))?.shards ?? null);
  const results: NodeSend[] = [];
  // Sent to every node of the routing it is confirmed under: when the routing moved past it
  // meanwhile, the nodes it did not know of get it too.
  await fenced(ctx, shards, intent.indexUid, 'a broadcast', async (attempt) => {
    const all = [...ctx.cluster.nodes.keys()].filter((id) => !results.some((r) => r.nodeId === id));
    const nodeIds = sequential ? (attempt === 1 ? all.slice(0, 1) : []) : all;
    results.push(...(await sendInOrder(ctx, nodeIds, () => sent)));
  });
  if (results.length === 0) throw miroirError('miroir_node_unavailable', 'No node is configured.');
  const accepted = results.filter((r) => r.error === undefined);
  if (accepted.length === 0) {
    if (opts.setupIndex) await undoSetup(ctx, opts.setupIndex, setup, results);
    const answered = results.find((r) => r.error instanceof NodeHttpError);
    throw (answered ?? results[0]!).error;
  }
  const missed = results.filter((r) => r.error !== undefined).map((r) => r.nodeId);
  if (results.some((r) => r.error instanceof NodeHttpError)) {
    // The nodes disagree (one refused what others enqueued): their states differ; say so loudly.
    ctx.log.warn({ nodes: missed, index: intent.indexUid }, 'a broadcast was refused by some nodes and enqueued by others');
  }
  if (missed.length > 0) reply.header('x-miroir-degraded', `nodes=${missed.join(',')}`);
  const kept = await keepMissed(ctx, results);
  await ctx.handoff.settle(kept.marks, kept.nodes);
  const uid = await ctx.cluster.store.nextTaskUid();
  const row = newRow(uid, intent, Object.fromEntries(accepted.map((r) => [r.nodeId, r.uids])), enqueuedAt);
  if (opts.detailsFrom !== undefined) row.detailsFrom = setup.before.length + opts.detailsFrom;
  const joining = ctx.cluster.storedTopology.nodes.filter((n) => n.state === 'joining' && row.nodeTasks[n.id] !== undefined).map((n) => n.id);
  if (joining.length > 0) row.joining = joining;
  if (broadcast) row.settingsBroadcast = broadcast(sent);
  // A deletion, or a rename (which takes the index away from its old uid).
  const removes = intent.type === 'indexDeletion' || (intent.type === 'indexUpdate' && intent.indexes !== undefined);
  if (removes && intent.indexUid !== null) ctx.catalog.deletionEnqueued(intent.indexUid, uid);
  await ctx.tasks.insert(row);
  await writeToken(ctx, reply, row);
  if (removes && intent.indexUid !== null) await ctx.cluster.store.publish({ kind: 'index_deleting', indexUid: intent.indexUid, taskUid: uid });
  // The index Miroir expects this creation to make gets its record (shard count, primary key).
  if (opts.creates && setup.after.length > 0) await ctx.catalog.meta(opts.creates.index, opts.creates.primaryKey);
  const setupIndex = opts.creates?.index ?? opts.setupIndex;
  if (setupIndex) ctx.catalog.invalidate(setupIndex);
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
  opts: { setupIndex: boolean; mayCreate?: boolean },
): Promise<{ summary: TaskSummary; sent: boolean }> {
  return ctx.idempotency.run(reply.request, () => routedUnder(ctx, reply, intent, shardCount, route, opts), ROUTED_ANSWER);
}

/** {@link routedWrite} under the index's write lock. */
async function routedUnder(...[ctx, reply, intent, shardCount, route, opts]: Parameters<typeof routedWrite>): Promise<{ summary: TaskSummary; sent: boolean }> {
  return ctx.cluster.writeLock.run([intent.indexUid], async () => {
    await assertWritable(ctx, intent.indexUid);
    const enqueuedAt = nowMicros();
    const plan = opts.setupIndex ? await setupRequests(ctx, { index: intent.indexUid, kind: 'write', mayCreate: opts.mayCreate ?? true }) : NO_SETUP;
    if (plan.refused) return { summary: (await settledLocally(ctx, intent, plan.refused)).summary, sent: false };
    const nodeTasks: Record<string, number[]> = {};
    let earlier: { router: WriteRouter; placed: readonly string[] } | undefined;
    const kept: Settle = { marks: [], nodes: [] };
    await fenced(ctx, shardCount, intent.indexUid, 'a write', async (attempt) => {
      const placement = ctx.cluster.placement(shardCount);
      const router = ctx.cluster.writeRouter(shardCount);
      const { shards, batches, placed } = route(router);
      if (earlier !== undefined) addSettle(kept, await dropStrays(ctx, intent.indexUid, earlier.placed, earlier.router, router));
      earlier = { router, placed: placed ?? [] };
      const setup = attempt === 1 ? plan.before : [];
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
        if (refusal && acked.size === 0 && attempt === 1) {
          await undoSetup(ctx, intent.indexUid, plan, results);
          throw refusal.error;
        }
        throw miroirError(
          'miroir_no_quorum',
          `No replica group reached the write quorum for shard(s) ${quorum.noQuorumShards.join(', ')}. Retry the request.`,
        );
      }
      const header = writeDegradedHeader(quorum);
      if (header) reply.header('x-miroir-degraded', header);
      addSettle(kept, await keepMissed(ctx, results));
      for (const r of results) if (r.error === undefined && r.uids.length > 0) (nodeTasks[r.nodeId] ??= []).push(...r.uids);
    });
    await ctx.handoff.settle(kept.marks, kept.nodes);
    const uid = await ctx.cluster.store.nextTaskUid();
    const row = newRow(uid, intent, nodeTasks, enqueuedAt);
    await ctx.tasks.insert(row);
    await writeToken(ctx, reply, row);
    if (plan.before.length > 0) ctx.catalog.invalidate(intent.indexUid);
    return { summary: summary(row), sent: true };
  });
}

/**
 * What a read must wait for to see this write: `X-Miroir-Write-Token` (guarantees/write-token.ts),
 * and the session's last write when the request names a session (guarantees/sessions.ts).
 */
async function writeToken(ctx: AppContext, reply: FastifyReply, row: TaskRow): Promise<void> {
  if (row.indexUid === null) return;
  if (ctx.writeTokens.enabled) {
    const token = ctx.writeTokens.sign(row.indexUid, row.nodeTasks);
    if (token !== undefined) reply.header(WRITE_TOKEN_HEADER, token);
  }
  await ctx.sessions.wrote(reply.request, row);
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
 * fail, e.g. a missing primary key): 202 now, a `failed` task with the node's error. With `req`, the
 * client's `Idempotency-Key` applies (a client write); without, it does not (task cancelation and
 * deletion, which act on the task list as it is when they are sent).
 */
export async function localTask(ctx: AppContext, intent: TaskIntent, error: MeiliError | null, req?: FastifyRequest): Promise<TaskSummary> {
  const keys = intent.indexUid ? [intent.indexUid] : ['*'];
  const settle = () => ctx.cluster.writeLock.run(keys, async () => (await settledLocally(ctx, intent, error)).summary);
  return req === undefined ? settle() : ctx.idempotency.run(req, settle, SUMMARY_ANSWER);
}

/** The body of {@link localTask}, under the caller's write lock. */
async function settledLocally(ctx: AppContext, intent: TaskIntent, error: MeiliError | null): Promise<{ summary: TaskSummary; row: TaskRow }> {
  const uid = await ctx.cluster.store.nextTaskUid();
  const row = newRow(uid, intent, {});
  const now = nowMicros();
  row.batchUid = uid;
  row.status = error ? 'failed' : 'succeeded';
  row.error = error ? error.toJSON() : null;
  // A failed task reports its pending counters as 0, as a node's does (`Details::to_failed`).
  if (error) row.details = toFailedDetails(row.details);
  row.startedAt = now;
  row.finishedAt = now;
  await ctx.tasks.insert(row);
  return { summary: summary(row), row };
}

