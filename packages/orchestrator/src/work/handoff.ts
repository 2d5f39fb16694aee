/**
 * Missed writes (hinted handoff): a node that is down, or whose write failed in transport, gets a
 * queue of the node requests it missed, in order, in the state store, shared by every
 * orchestrator. While the queue is not empty the node is *behind*: every orchestrator appends
 * later writes for it to the queue instead of sending them (so the node applies writes in their
 * original order), and reads skip it. When the node answers again, one orchestrator (the holder
 * of the lease `handoff:<node>`) replays the queue; once it is empty the node serves again.
 *
 * Order across orchestrators: the append that makes a node behind advances the routing epoch in
 * the same store step (work/fence.ts), and a write that appended for a node is acknowledged only
 * once every live orchestrator has acknowledged that epoch, i.e. has loaded the queues and
 * finished the writes it planned before. A write acknowledged after it therefore never reaches
 * the node ahead of the queue. (Writes sent at the same time through two orchestrators are not
 * ordered with each other; docs/limits.md.)
 *
 * A request that timed out may have been enqueued by the node anyway. Document writes carry a
 * marker (`customMetadata=miroir:<write id>`), so before resending one that may have reached the
 * node (its first attempt timed out, or an earlier replayer may have sent it before it stopped)
 * the replay looks for the marker in the node's task list and does not send it twice (spec S4.6).
 * Other writes (deletes, settings, index changes) are idempotent: resending them is harmless.
 *
 * A queue is bounded by `handoff.max_bytes`. When it overflows, the node is brought back by
 * anti-entropy instead, which restores missed upserts but cannot know about deletes it missed
 * (they may come back): the bound is a trade-off documented in docs/failures.md.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import type { Cluster } from '../cluster.js';
import { NodeHttpError, NodeTransportError, type NodeRequest } from '../nodes/node-client.js';
import type { Metrics } from '../obs/metrics.js';
import type { MissedQueue } from '../state/store.js';
import type { RoutingFence } from './fence.js';
import type { HeldLease, Leases } from './leases.js';

/** A node request a node missed. */
export interface MissedWrite {
  readonly req: NodeRequest;
  /** When an attempt that may have reached the node started (ms); absent when it was never sent. */
  readonly attemptedAt?: number;
}

/** A missed write as the store keeps it (checked when read back: the store is a boundary). */
const storedWriteSchema = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: z.string(),
  body: z.unknown().optional(),
  raw: z.string().optional(),
  raw64: z.string().optional(),
  contentType: z.string().optional(),
  attemptedAt: z.number().optional(),
  /** When it was queued (ms): a lower bound of when any attempt was made. */
  queuedAt: z.number(),
});
type StoredWrite = z.infer<typeof storedWriteSchema>;

function encode(w: MissedWrite, queuedAt: number): string {
  const { method, path, body, raw, contentType } = w.req;
  const stored: StoredWrite = { method, path, queuedAt };
  if (raw !== undefined) {
    if (typeof raw === 'string') stored.raw = raw;
    else stored.raw64 = raw.toString('base64');
  } else if (body !== undefined) stored.body = body;
  if (contentType !== undefined) stored.contentType = contentType;
  if (w.attemptedAt !== undefined) stored.attemptedAt = w.attemptedAt;
  return JSON.stringify(stored);
}

function decode(entry: string): { req: NodeRequest; attemptedAt?: number; queuedAt: number } {
  const s = storedWriteSchema.parse(JSON.parse(entry));
  const req: NodeRequest = { method: s.method, path: s.path };
  if (s.raw !== undefined) req.raw = s.raw;
  else if (s.raw64 !== undefined) req.raw = Buffer.from(s.raw64, 'base64');
  else if (s.body !== undefined) req.body = s.body;
  if (s.contentType !== undefined) req.contentType = s.contentType;
  return { req, queuedAt: s.queuedAt, ...(s.attemptedAt === undefined ? {} : { attemptedAt: s.attemptedAt }) };
}

interface TaskPage {
  results: { customMetadata?: string | null }[];
  next: number | null;
}

/** The marker Miroir puts in a document write's `customMetadata` so a retry can find it. */
export const MARKER_PREFIX = 'miroir:';

/** A fresh marker for one client write (`miroir:<uuid>`). */
export function newMarker(): string {
  return `${MARKER_PREFIX}${randomUUID()}`;
}

function markerOf(req: NodeRequest): string | undefined {
  const q = req.path.indexOf('?');
  const v = q < 0 ? null : new URLSearchParams(req.path.slice(q + 1)).get('customMetadata');
  return v !== null && v.startsWith(MARKER_PREFIX) ? v : undefined;
}

/** Entries read from the store per round of a replay. */
const PAGE = 32;

export interface HandoffDeps {
  cluster: Cluster;
  log: Logger;
  metrics: Metrics;
  fence: RoutingFence;
  leases: Leases;
  /** Brings a node whose queue overflowed back in sync (an anti-entropy pass), if configured. */
  resync?: () => Promise<unknown>;
}

export class Handoff {
  readonly #d: HandoffDeps;
  readonly #log: Logger;
  readonly #maxBytes: number;
  readonly #retryOnTimeout: boolean;
  /** The nodes behind, as last read from the store (and as this process appended since). */
  #behind = new Map<string, MissedQueue>();
  /** Per node, the count of this process's appends when it last appended (see {@link reload}). */
  readonly #appended = new Map<string, number>();
  #appends = 0;
  /** Per node, the newest mark every live orchestrator is known to have acknowledged. */
  readonly #settled = new Map<string, number>();
  readonly #draining = new Set<string>();
  readonly #replayed: Counter<'node_id'>;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: HandoffDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ component: 'handoff' });
    this.#maxBytes = deps.cluster.config.handoff.max_bytes;
    this.#retryOnTimeout = deps.cluster.config.scatter.retry_on_timeout;
    const registers = [deps.metrics.registry];
    const queued = new Gauge({
      name: 'miroir_handoff_queued_writes',
      help: 'Node writes waiting for a node that missed them (as last read from the state store).',
      labelNames: ['node_id'],
      registers,
      collect: () => {
        queued.reset();
        for (const [id, q] of this.#behind) queued.labels(id).set(q.entries);
      },
    });
    this.#replayed = new Counter({ name: 'miroir_handoff_replayed_total', help: 'Missed node writes replayed to a node.', labelNames: ['node_id'], registers });
    // A node held here serves no reads and is not promoted to healthy until it has caught up.
    deps.cluster.health.holdWhile((id) => this.pending(id));
    deps.cluster.health.onChange((id, state) => {
      if ((state === 'recovering' || state === 'healthy') && this.#behind.has(id)) void this.drain(id);
    });
  }

  /** Reads the queues, then follows them: replays on a timer too, for a node that came back between state changes. */
  async start(): Promise<void> {
    await this.reload();
    this.#timer ??= setInterval(() => {
      if (this.#behind.size === 0) return;
      void this.reload()
        .then(() => {
          for (const id of this.#behind.keys()) if (this.#d.cluster.health.view(id)?.state !== 'failed') void this.drain(id);
        })
        .catch((e: unknown) => this.#log.warn({ err: e }, 'could not read the queues of missed writes'));
    }, this.#d.cluster.config.health.interval_ms);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Reads which nodes are behind from the store (at every routing epoch, at a `handoff_drained`
   * event, and on the timer). A node this process appended for while the read was under way stays
   * behind: the read may have been answered before the append.
   */
  async reload(): Promise<void> {
    const appendsBefore = this.#appends;
    const queues = await this.#d.cluster.store.missedQueues();
    const before = this.#behind;
    for (const [id, q] of before) if (!queues.has(id) && (this.#appended.get(id) ?? 0) > appendsBefore) queues.set(id, q);
    this.#behind = queues;
    for (const id of queues.keys()) if (!before.has(id)) this.#d.cluster.health.markBehind(id);
    // Caught up: it may serve again once its probes agree.
    for (const id of before.keys()) if (!queues.has(id)) this.#d.cluster.health.recheck(id);
  }

  /**
   * Whether the node is behind: writes for it join its queue rather than go to it, and
   * anti-entropy leaves it alone until it has applied them.
   */
  pending(nodeId: string): boolean {
    return this.#behind.has(nodeId);
  }

  /** Whether writes should skip the node now: it is failed, or behind on writes. */
  deferring(nodeId: string): boolean {
    return this.pending(nodeId) || this.#d.cluster.health.view(nodeId)?.state === 'failed';
  }

  /**
   * Appends writes the node missed to its queue, in the order it must apply them. Returns the
   * routing epoch every orchestrator must have acknowledged before the write is acknowledged
   * ({@link settle}), or undefined when that is known already.
   */
  async defer(nodeId: string, writes: readonly MissedWrite[]): Promise<number | undefined> {
    if (writes.length === 0) return undefined;
    // Known here before the store answers: this process's later writes for the node queue too.
    this.#appended.set(nodeId, ++this.#appends);
    const local = this.#behind.get(nodeId) ?? { entries: 0, bytes: 0, overflowed: false, mark: 0 };
    this.#behind.set(nodeId, local);
    const now = Date.now();
    const entries = writes.map((w) => encode(w, now));
    const { mark, fresh } = await this.#d.cluster.store.appendMissed(nodeId, entries, this.#maxBytes);
    local.entries += entries.length;
    local.mark = mark;
    if (fresh) {
      this.#log.warn({ node: nodeId, epoch: mark }, 'node missed writes: they are queued for it, and it serves no reads until it has applied them');
      this.#d.cluster.health.markBehind(nodeId);
      await this.#d.cluster.store.publish({ kind: 'routing_changed', epoch: mark });
    }
    return (this.#settled.get(nodeId) ?? 0) >= mark ? undefined : mark;
  }

  /**
   * Waits until every live orchestrator has acknowledged the marks {@link defer} returned: from
   * then on, each of them queues its writes for those nodes too. Called once the write left its
   * routing ticket (the barrier waits for the tickets of older epochs).
   */
  async settle(marks: readonly (number | undefined)[], nodes: readonly string[]): Promise<void> {
    const mark = Math.max(0, ...marks.filter((m): m is number => m !== undefined));
    if (mark === 0) return;
    await this.#d.fence.barrier(mark);
    for (const id of nodes) if ((this.#settled.get(id) ?? 0) < mark) this.#settled.set(id, mark);
  }

  /** Replays a node's queue, under the node's lease, unless another process does already. */
  async drain(nodeId: string): Promise<void> {
    if (this.#draining.has(nodeId)) return;
    this.#draining.add(nodeId);
    try {
      // A node that left the topology gets nothing more.
      if (!this.#d.cluster.nodes.has(nodeId)) {
        await this.#d.cluster.store.dropMissed(nodeId);
        await this.#drained(nodeId);
        return;
      }
      await this.#d.leases.run(`handoff:${nodeId}`, (lease) => this.#replay(nodeId, lease));
    } catch (e) {
      if (!(e instanceof NodeTransportError)) this.#log.warn({ err: e, node: nodeId }, 'replaying missed writes failed; tried again shortly');
    } finally {
      this.#draining.delete(nodeId);
    }
  }

  /** Replays in order; stops at the first transport failure or when the lease is lost (tried again later). */
  async #replay(nodeId: string, lease: HeldLease): Promise<void> {
    const store = this.#d.cluster.store;
    const node = this.#d.cluster.node(nodeId);
    // The head may have been sent by an earlier replayer that stopped before popping it.
    let head = true;
    for (;;) {
      const page = await store.peekMissed(nodeId, PAGE);
      if (page.length === 0) {
        const q = (await store.missedQueues()).get(nodeId);
        if (q?.overflowed !== true) break;
        // Writes arriving from now on are queued again. The node serves again (the pass reads
        // only nodes that do) and the pass restores the upserts that were dropped.
        await store.clearMissedOverflow(nodeId);
        await this.#drained(nodeId);
        this.#log.warn({ node: nodeId, resync: this.#d.resync !== undefined }, 'node caught up on what was kept; anti-entropy restores the rest');
        await this.#d.resync?.();
        continue;
      }
      for (const { seq, entry } of page) {
        if (lease.signal.aborted) return;
        const w = decode(entry);
        const maybeSent = w.attemptedAt !== undefined || head;
        head = false;
        if (!maybeSent || !(await this.#alreadyEnqueued(nodeId, w))) {
          try {
            await node.request(w.req);
          } catch (e) {
            if (e instanceof NodeTransportError) return;
            // The node answered: its refusal is final (what one node would have said).
            if (!(e instanceof NodeHttpError)) throw e;
            this.#log.warn({ node: nodeId, path: w.req.path, err: e.message }, 'a replayed write was refused by the node');
          }
        }
        if (!(await store.popMissed(nodeId, seq))) return;
        this.#replayed.labels(nodeId).inc();
      }
    }
    this.#log.info({ node: nodeId }, 'node caught up on missed writes');
    await this.#drained(nodeId);
  }

  /** The queue is empty: every orchestrator reads the queues again (the node serves once they agree). */
  async #drained(nodeId: string): Promise<void> {
    await this.#d.cluster.store.publish({ kind: 'handoff_drained', nodeId });
    await this.reload();
  }

  /**
   * Whether a write that may have reached the node is in its task list already (the marker in
   * `customMetadata`). With `retry_on_timeout` off, a write whose first attempt timed out is not
   * sent again; an unmarked write is idempotent and is sent again.
   */
  async #alreadyEnqueued(nodeId: string, w: { req: NodeRequest; attemptedAt?: number; queuedAt: number }): Promise<boolean> {
    if (w.attemptedAt !== undefined && !this.#retryOnTimeout) return true;
    const marker = markerOf(w.req);
    if (marker === undefined) return false;
    const since = new Date(Math.min(w.attemptedAt ?? w.queuedAt, w.queuedAt) - 60_000).toISOString();
    const index = /^\/indexes\/([^/]+)\//.exec(w.req.path)?.[1] ?? '';
    for (let from: number | null = null; ; ) {
      const res: { body: TaskPage } = await this.#d.cluster.node(nodeId).request<TaskPage>({
        method: 'GET',
        path: `/tasks?indexUids=${index}&afterEnqueuedAt=${encodeURIComponent(since)}&limit=1000${from === null ? '' : `&from=${from}`}`,
      });
      if (res.body.results.some((t) => t.customMetadata === marker)) return true;
      if (res.body.next === null) return false;
      from = res.body.next;
    }
  }
}
