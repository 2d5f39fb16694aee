/**
 * Read-your-writes sessions (spec S13.6, docs/guarantees.md): a client sends `X-Miroir-Session:
 * <id>` on its writes and reads, and Miroir echoes it (api/routes.ts). A write records, in the state store's
 * `sessions` table (so every orchestrator sees it), the session's last write (its Miroir task) and
 * the replica group to pin (the lowest group that took it). A read of that write's index while the
 * write is still pending goes to the pinned group only, and with `wait_strategy: block` first waits
 * until the nodes it reads from have processed the write (as a write token does,
 * guarantees/write-token.ts), at most `max_wait_ms`; with `route_pin` it does not wait. Once the
 * write is finished, or with no session header, reads are routed as usual.
 */
import type { FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import type { Cluster } from '../cluster.js';
import type { Config } from '../config.js';
import { miroirError } from '../errors.js';
import type { Metrics } from '../obs/metrics.js';
import type { TaskRow } from '../state/store.js';
import type { TaskRegistry } from '../work/tasks.js';
import type { WriteToken } from './write-token.js';

export const SESSION_HEADER = 'x-miroir-session';

/** What a read in a session must honour: the group to read from, and the write to wait for (block). */
export interface SessionPin {
  group: number;
  after?: WriteToken;
}

const PENDING = new Set(['enqueued', 'processing']);
const SESSION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export class Sessions {
  readonly #cluster: Cluster;
  readonly #tasks: TaskRegistry;
  readonly #opts: Config['session_pinning'];
  readonly #pins: Counter<'strategy'>;
  readonly #ids = new WeakMap<FastifyRequest, string | null>();

  constructor(cluster: Cluster, tasks: TaskRegistry, metrics: Metrics) {
    this.#cluster = cluster;
    this.#tasks = tasks;
    this.#opts = cluster.config.session_pinning;
    this.#pins = new Counter({
      name: 'miroir_session_pinned_reads_total',
      help: 'Reads in a session whose last write was still pending: pinned to its group (and waiting for it with `block`).',
      labelNames: ['strategy'],
      registers: [metrics.registry],
    });
  }

  /** The request's session id, if any; 400 `miroir_invalid_session` when malformed. */
  id(req: FastifyRequest): string | undefined {
    if (!this.#opts.enabled) return undefined;
    let id = this.#ids.get(req);
    if (id === undefined) {
      const raw = req.headers[SESSION_HEADER];
      const text = raw === undefined ? null : (Array.isArray(raw) ? raw[0]! : raw).trim();
      if (text !== null && !SESSION_ID.test(text)) {
        throw miroirError('miroir_invalid_session', '`X-Miroir-Session` must be 1 to 128 letters, digits, `_`, `-`, `.` or `:` (a UUID, say).');
      }
      id = text;
      this.#ids.set(req, id);
    }
    return id ?? undefined;
  }

  /** Records a write of the session: its task and the group to pin reads to. */
  async wrote(req: FastifyRequest, row: TaskRow): Promise<void> {
    const id = this.id(req);
    if (id === undefined || row.indexUid === null) return;
    const groups = Object.entries(row.nodeTasks)
      .filter(([, uids]) => uids.length > 0)
      .map(([node]) => this.#cluster.topology.nodes.find((n) => n.id === node)?.group)
      .filter((g): g is number => g !== undefined);
    if (groups.length === 0) return;
    const now = Date.now();
    await this.#cluster.store.putRow('sessions', {
      sessionId: id,
      lastWriteTaskUid: row.uid,
      lastWriteAt: now,
      pinnedGroup: Math.min(...groups),
      minSettingsVersion: 0,
      expiresAt: now + this.#opts.ttl_seconds * 1000,
    });
  }

  /** How a read of index `uid` in the request's session must be served; undefined: as usual. */
  async pin(req: FastifyRequest, uid: string): Promise<SessionPin | undefined> {
    const id = this.id(req);
    if (id === undefined) return undefined;
    const session = await this.#cluster.store.getRow('sessions', id);
    if (session?.lastWriteTaskUid == null || session.pinnedGroup === null) return undefined;
    const task = await this.#tasks.get(session.lastWriteTaskUid);
    if (task === undefined || task.indexUid !== uid || !PENDING.has(task.status)) return undefined;
    // A pinned group with no healthy node is no pin (spec S13.6: the pin is cleared).
    const group = session.pinnedGroup;
    if (!this.#cluster.topology.nodes.some((n) => n.group === group && this.#cluster.health.isHealthy(n.id))) return undefined;
    const block = this.#opts.wait_strategy === 'block';
    this.#pins.labels(this.#opts.wait_strategy).inc();
    if (!block) return { group };
    const tasks: Record<string, number> = {};
    for (const [node, uids] of Object.entries(task.nodeTasks)) if (uids.length > 0) tasks[node] = uids[uids.length - 1]!;
    return { group, after: { index: uid, tasks, waitMs: this.#opts.max_wait_ms } };
  }
}
