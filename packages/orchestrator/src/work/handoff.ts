/**
 * Missed writes (hinted handoff): a node that is down, or whose write failed in transport, keeps a
 * queue of the node requests it missed, in order. While the queue is not empty, every later write
 * for that node joins the queue instead of going to the node (so the node applies writes in their
 * original order), and the node serves no reads. When probes see the node answer again, the queue
 * is replayed; once it is empty the node catches up the normal way and serves again.
 *
 * A request that timed out may have been enqueued by the node anyway. Document writes carry a
 * marker (`customMetadata=miroir:<write id>`), so before resending one the replay looks for the
 * marker in the node's task list and does not send it twice (spec S4.6). Other writes (deletes,
 * settings, index changes) are idempotent: resending them is harmless.
 *
 * The queue lives in this process's memory, bounded by `handoff.max_bytes`. When it overflows, or
 * when the process restarts, the node is brought back by anti-entropy instead, which restores
 * missed upserts but cannot know about deletes it missed (they may come back): the bound is a
 * trade-off documented in docs/failures.md.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Cluster } from '../cluster.js';
import { NodeHttpError, NodeTransportError, type NodeRequest } from '../nodes/node-client.js';
import type { Metrics } from '../obs/metrics.js';

/** A node request a node missed. */
export interface MissedWrite {
  readonly req: NodeRequest;
  /** When an attempt that may have reached the node started (ms); absent when it was never sent. */
  readonly attemptedAt?: number;
}

interface Queue {
  entries: MissedWrite[];
  bytes: number;
  /** The queue overflowed: entries were dropped, the node needs anti-entropy to catch up. */
  overflowed: boolean;
  draining: boolean;
}

const sizeOf = (w: MissedWrite) => w.req.path.length + (w.req.raw?.length ?? (w.req.body === undefined ? 0 : JSON.stringify(w.req.body).length));

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

export class Handoff {
  readonly #cluster: Cluster;
  readonly #log: Logger;
  readonly #maxBytes: number;
  readonly #retryOnTimeout: boolean;
  readonly #queues = new Map<string, Queue>();
  readonly #replayed: Counter<'node_id'>;
  #timer: NodeJS.Timeout | undefined;

  /** Brings a node whose queue overflowed back in sync (an anti-entropy pass), if configured. */
  readonly #resync: (() => Promise<unknown>) | undefined;

  constructor(deps: { cluster: Cluster; log: Logger; metrics: Metrics; resync?: () => Promise<unknown> }) {
    this.#cluster = deps.cluster;
    this.#resync = deps.resync;
    this.#log = deps.log.child({ component: 'handoff' });
    this.#maxBytes = deps.cluster.config.handoff.max_bytes;
    this.#retryOnTimeout = deps.cluster.config.scatter.retry_on_timeout;
    const registers = [deps.metrics.registry];
    const queued = new Gauge({
      name: 'miroir_handoff_queued_writes',
      help: 'Node writes waiting for a node that missed them.',
      labelNames: ['node_id'],
      registers,
      collect: () => {
        queued.reset();
        for (const [id, q] of this.#queues) queued.labels(id).set(q.entries.length);
      },
    });
    this.#replayed = new Counter({ name: 'miroir_handoff_replayed_total', help: 'Missed node writes replayed to a node.', labelNames: ['node_id'], registers });
    // A node held here serves no reads and is not promoted to healthy until it has caught up.
    deps.cluster.health.holdWhile((id) => this.pending(id));
    deps.cluster.health.onChange((id, state) => {
      if (state === 'recovering' || state === 'healthy') void this.drain(id);
    });
  }

  /** Replays on a timer too, for a node that came back between state changes. */
  start(): void {
    this.#timer ??= setInterval(() => {
      for (const id of this.#queues.keys()) if (this.#cluster.health.view(id)?.state !== 'failed') void this.drain(id);
    }, this.#cluster.config.health.interval_ms);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Whether writes for the node must join its queue rather than go to it. */
  pending(nodeId: string): boolean {
    return this.#queues.has(nodeId);
  }

  /** Whether the node has queued writes to apply (anti-entropy leaves it alone until then). */
  behind(nodeId: string): boolean {
    const q = this.#queues.get(nodeId);
    return q !== undefined && (q.entries.length > 0 || q.overflowed);
  }

  /** Whether writes should skip the node now: it is failed, or behind on writes. */
  deferring(nodeId: string): boolean {
    return this.pending(nodeId) || this.#cluster.health.view(nodeId)?.state === 'failed';
  }

  /** Records writes the node missed, in the order it must apply them. */
  defer(nodeId: string, writes: readonly MissedWrite[]): void {
    if (writes.length === 0) return;
    let q = this.#queues.get(nodeId);
    const fresh = q === undefined;
    if (q === undefined) {
      q = { entries: [], bytes: 0, overflowed: false, draining: false };
      this.#queues.set(nodeId, q);
    }
    if (!q.overflowed) {
      for (const w of writes) {
        q.entries.push(w);
        q.bytes += sizeOf(w);
      }
    }
    if (q.bytes > this.#maxBytes) {
      q.entries = [];
      q.bytes = 0;
      q.overflowed = true;
      this.#log.error({ node: nodeId, max_bytes: this.#maxBytes }, 'missed writes overflowed: the node will be resynchronized by anti-entropy');
    }
    // Last, once the entries are in: the state change starts a replay.
    if (fresh) this.#cluster.health.markBehind(nodeId);
  }

  /** Replays a node's queue in order; stops at the first transport failure (tried again later). */
  async drain(nodeId: string): Promise<void> {
    const q = this.#queues.get(nodeId);
    if (q === undefined || q.draining) return;
    // A node that left the topology (removed) gets nothing more.
    if (!this.#cluster.nodes.has(nodeId)) return void this.#queues.delete(nodeId);
    q.draining = true;
    const node = this.#cluster.node(nodeId);
    try {
      while (q.entries.length > 0) {
        const w = q.entries[0]!;
        if (w.attemptedAt === undefined || !(await this.#alreadyEnqueued(nodeId, w))) {
          try {
            await node.request(w.req);
          } catch (e) {
            if (e instanceof NodeTransportError) return;
            // The node answered: its refusal is final (what one node would have said).
            if (!(e instanceof NodeHttpError)) throw e;
            this.#log.warn({ node: nodeId, path: w.req.path, err: e.message }, 'a replayed write was refused by the node');
          }
        }
        q.entries.shift();
        q.bytes -= sizeOf(w);
        this.#replayed.labels(nodeId).inc();
      }
      if (q.overflowed) {
        // Writes arriving from now on are queued again; the pass restores what was dropped.
        q.overflowed = false;
        this.#log.warn({ node: nodeId, resync: this.#resync !== undefined }, 'node caught up on what was kept; anti-entropy restores the rest');
        await this.#resync?.();
        q.draining = false;
        return void (await this.drain(nodeId));
      }
      this.#queues.delete(nodeId);
      this.#log.info({ node: nodeId }, 'node caught up on missed writes');
      this.#cluster.health.recheck(nodeId);
    } catch (e) {
      if (!(e instanceof NodeTransportError)) throw e;
    } finally {
      q.draining = false;
    }
  }

  /**
   * Whether a write whose first attempt may have reached the node is in its task list already (the
   * marker in `customMetadata`). Without a marker, or with `retry_on_timeout` off, it is not looked
   * for: an unmarked write is idempotent, and with the option off a timed-out write is not retried.
   */
  async #alreadyEnqueued(nodeId: string, w: MissedWrite): Promise<boolean> {
    if (!this.#retryOnTimeout) return true;
    const marker = markerOf(w.req);
    if (marker === undefined) return false;
    const since = new Date(w.attemptedAt! - 60_000).toISOString();
    const index = /^\/indexes\/([^/]+)\//.exec(w.req.path)?.[1] ?? '';
    for (let from: number | null = null; ; ) {
      const res: { body: TaskPage } = await this.#cluster.node(nodeId).request<TaskPage>({
        method: 'GET',
        path: `/tasks?indexUids=${index}&afterEnqueuedAt=${encodeURIComponent(since)}&limit=1000${from === null ? '' : `&from=${from}`}`,
      });
      if (res.body.results.some((t) => t.customMetadata === marker)) return true;
      if (res.body.next === null) return false;
      from = res.body.next;
    }
  }
}
