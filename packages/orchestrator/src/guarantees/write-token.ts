/**
 * Causal reads (docs/guarantees.md): every write answer carries `X-Miroir-Write-Token`, an opaque
 * signed value naming the index and, per node, the last node task the write created there. A read
 * of that index that sends it back in `X-Miroir-Read-After` first waits, for each node it is about
 * to read from, until that node has processed its task (bounded by `causal_reads.max_wait_ms`);
 * nodes the write did not reach are not waited for. No state is kept: any orchestrator verifies
 * the token (HMAC with a key every orchestrator derives from the cluster's keys) and waits.
 *
 * A node that missed the write (it was down or behind) is not in the token, and serves no reads
 * until it has replayed what it missed (work/handoff.ts): a read never waits for it, nor reads it.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import type { Cluster } from '../cluster.js';
import type { Config } from '../config.js';
import { miroirError } from '../errors.js';
import { NodeHttpError } from '../nodes/node-client.js';
import type { Metrics } from '../obs/metrics.js';

/** What a write left on the nodes: the index and, per node, its last node task. */
export interface WriteToken {
  index: string;
  tasks: Readonly<Record<string, number>>;
  /** How long a read waits for it (default `causal_reads.max_wait_ms`). */
  waitMs?: number;
}

export const WRITE_TOKEN_HEADER = 'x-miroir-write-token';
export const READ_AFTER_HEADER = 'x-miroir-read-after';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Statuses of a node task that is done (its effect is visible, or it never will be). */
const DONE = new Set(['succeeded', 'failed', 'canceled']);

export class WriteTokens {
  readonly #key: Buffer;
  readonly #cluster: Cluster;
  readonly #opts: Config['causal_reads'];
  readonly #waits: Counter<'outcome'>;
  /** A request's token, read once. */
  readonly #read = new WeakMap<FastifyRequest, WriteToken | null>();

  constructor(cluster: Cluster, metrics: Metrics) {
    const c = cluster.config;
    this.#cluster = cluster;
    this.#opts = c.causal_reads;
    // Every orchestrator of a cluster shares these keys, so each verifies the others' tokens.
    this.#key = createHash('sha256').update(`miroir write token\0${c.node_master_key}\0${c.master_key}`).digest();
    this.#waits = new Counter({
      name: 'miroir_read_after_waits_total',
      help: 'Reads that waited for the nodes they read from to process a write (X-Miroir-Read-After), by outcome.',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
  }

  get enabled(): boolean {
    return this.#opts.enabled;
  }

  /** The token of a write to `index` that created `nodeTasks` (undefined when it created none). */
  sign(index: string, nodeTasks: Readonly<Record<string, readonly number[]>>): string | undefined {
    const tasks: Record<string, number> = {};
    for (const [node, uids] of Object.entries(nodeTasks)) if (uids.length > 0) tasks[node] = uids[uids.length - 1]!;
    if (Object.keys(tasks).length === 0) return undefined;
    const payload = b64(JSON.stringify({ i: index, t: tasks }));
    return `${payload}.${b64(this.#mac(payload))}`;
  }

  /**
   * The token a read of index `uid` carries, if any (a token of another index is ignored); 400
   * `miroir_invalid_write_token` when it is not one Miroir signed.
   */
  read(req: FastifyRequest, uid: string): WriteToken | undefined {
    if (!this.enabled) return undefined;
    let token = this.#read.get(req);
    if (token === undefined) {
      const raw = req.headers[READ_AFTER_HEADER];
      token = raw === undefined ? null : this.#verify(Array.isArray(raw) ? raw[0]! : raw);
      this.#read.set(req, token);
    }
    return token !== null && token.index === uid ? token : undefined;
  }

  /** Waits until each of `nodeIds` the token names has processed its task, or `max_wait_ms` passed. */
  async wait(token: WriteToken, nodeIds: Iterable<string>): Promise<void> {
    const pending = [...nodeIds].filter((id) => token.tasks[id] !== undefined && this.#cluster.nodes.has(id));
    if (pending.length === 0) return;
    const deadline = Date.now() + (token.waitMs ?? this.#opts.max_wait_ms);
    const done = await Promise.all(pending.map((id) => this.#processed(id, token.tasks[id]!, deadline)));
    this.#waits.labels(done.every(Boolean) ? 'caught_up' : 'timeout').inc();
  }

  async #processed(nodeId: string, taskUid: number, deadline: number): Promise<boolean> {
    for (let delay = 25; ; delay = Math.min(delay * 2, 200)) {
      try {
        const r = await this.#cluster.node(nodeId).request<{ status: string }>({ method: 'GET', path: `/tasks/${taskUid}` });
        if (DONE.has(r.body.status)) return true;
      } catch (e) {
        // A task the node no longer lists (pruned) is long done.
        if (e instanceof NodeHttpError && e.status === 404) return true;
      }
      if (Date.now() + delay > deadline) return false;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  #mac(payload: string): Buffer {
    return createHmac('sha256', this.#key).update(payload).digest();
  }

  #verify(text: string): WriteToken {
    const dot = text.indexOf('.');
    const payload = dot < 0 ? '' : text.slice(0, dot);
    const mac = Buffer.from(dot < 0 ? '' : text.slice(dot + 1), 'base64url');
    const expected = this.#mac(payload);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw invalidToken();
    try {
      const body = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { i?: unknown; t?: unknown };
      if (typeof body.i !== 'string' || typeof body.t !== 'object' || body.t === null) throw invalidToken();
      return { index: body.i, tasks: body.t as Record<string, number> };
    } catch {
      throw invalidToken();
    }
  }
}

function invalidToken() {
  return miroirError('miroir_invalid_write_token', '`X-Miroir-Read-After` must be an `X-Miroir-Write-Token` value this cluster returned for a write.');
}
