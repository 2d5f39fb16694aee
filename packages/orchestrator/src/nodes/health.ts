/**
 * Node health: active probes of each node's `GET /health` plus passive signals from request
 * failures, folded into a per-node state machine with thresholds (spec S10.1, S4.3 `health.*`).
 *
 *   healthy ──(a failure)──▶ degraded ──(unhealthy_threshold consecutive failures)──▶ failed
 *   degraded ──(a success)──▶ healthy
 *   failed ──(a success)──▶ recovering ──(recovery_threshold consecutive successes)──▶ healthy
 *   recovering ──(a failure)──▶ failed
 *
 * `healthy` and `degraded` nodes serve reads; `failed` and `recovering` ones are skipped. A node
 * that missed writes ({@link HealthChecker.markBehind}) goes to `recovering` and is not promoted
 * while the hold predicate says it is still catching up.
 */
import type { NodeClient } from './node-client.js';

export type HealthState = 'healthy' | 'degraded' | 'failed' | 'recovering';

export interface HealthOptions {
  intervalMs: number;
  timeoutMs: number;
  unhealthyThreshold: number;
  recoveryThreshold: number;
}

interface NodeHealth {
  state: HealthState;
  failures: number;
  successes: number;
  lastSeenMs: number | null;
  lastError: string | null;
}

export class HealthChecker {
  readonly #opts: HealthOptions;
  readonly #nodes = new Map<string, { client: NodeClient; h: NodeHealth }>();
  readonly #listeners = new Set<(nodeId: string, state: HealthState) => void>();
  #timer: NodeJS.Timeout | undefined;
  #probing = false;
  #hold: (nodeId: string) => boolean = () => false;

  constructor(opts: HealthOptions) {
    this.#opts = opts;
  }

  /** Nodes start healthy: a fleet is usable before the first probe completes. */
  add(client: NodeClient): void {
    this.#nodes.set(client.id, {
      client,
      h: { state: 'healthy', failures: 0, successes: 0, lastSeenMs: null, lastError: null },
    });
  }

  remove(nodeId: string): void {
    this.#nodes.delete(nodeId);
  }

  onChange(fn: (nodeId: string, state: HealthState) => void): void {
    this.#listeners.add(fn);
  }

  /** While `fn(nodeId)` is true the node is not promoted to healthy (it is catching up on writes). */
  holdWhile(fn: (nodeId: string) => boolean): void {
    this.#hold = fn;
  }

  /** The node missed writes: it stops serving reads until it has caught up and answers probes. */
  markBehind(nodeId: string): void {
    const n = this.#nodes.get(nodeId);
    if (n === undefined || n.h.state === 'failed' || n.h.state === 'recovering') return;
    n.h.state = 'recovering';
    n.h.successes = 0;
    for (const fn of this.#listeners) fn(nodeId, n.h.state);
  }

  /** Promotes a held node that has caught up, when its probes already allow it. */
  recheck(nodeId: string): void {
    const n = this.#nodes.get(nodeId);
    if (n === undefined || n.h.state !== 'recovering' || this.#hold(nodeId) || n.h.successes < this.#opts.recoveryThreshold) return;
    n.h.state = 'healthy';
    n.h.lastError = null;
    for (const fn of this.#listeners) fn(nodeId, n.h.state);
  }

  /** Whether the node may serve reads (healthy, or degraded below the failure threshold). */
  isHealthy(nodeId: string): boolean {
    const state = this.#nodes.get(nodeId)?.h.state;
    return state === 'healthy' || state === 'degraded';
  }

  view(nodeId: string): Readonly<NodeHealth> | undefined {
    return this.#nodes.get(nodeId)?.h;
  }

  /** A request to the node failed at the transport level. */
  reportFailure(nodeId: string, error: string): void {
    const n = this.#nodes.get(nodeId);
    if (n) this.#record(nodeId, n.h, false, error);
  }

  /** A request to the node got an HTTP answer. */
  reportSuccess(nodeId: string): void {
    const n = this.#nodes.get(nodeId);
    // Only probes bring a failed node back: one lucky request is not a recovery.
    if (n && (n.h.state === 'healthy' || n.h.state === 'degraded')) this.#record(nodeId, n.h, true, null);
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.probeAll(), this.#opts.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Probes every node once (also used by tests and at start). */
  async probeAll(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    try {
      await Promise.all(
        [...this.#nodes].map(async ([id, n]) => {
          try {
            await n.client.request({ method: 'GET', path: '/health', timeoutMs: this.#opts.timeoutMs });
            this.#record(id, n.h, true, null);
          } catch (e) {
            this.#record(id, n.h, false, (e as Error).message);
          }
        }),
      );
    } finally {
      this.#probing = false;
    }
  }

  #record(id: string, h: NodeHealth, ok: boolean, error: string | null): void {
    const before = h.state;
    if (ok) {
      h.lastSeenMs = Date.now();
      h.failures = 0;
      h.successes++;
      if (h.state === 'degraded') h.state = 'healthy';
      else if (h.state === 'failed' || h.state === 'recovering') {
        h.state = h.successes >= this.#opts.recoveryThreshold && !this.#hold(id) ? 'healthy' : 'recovering';
      }
      if (h.state === 'healthy') h.lastError = null;
    } else {
      h.successes = 0;
      h.failures++;
      h.lastError = error;
      if (h.state === 'recovering' || h.failures >= this.#opts.unhealthyThreshold) h.state = 'failed';
      else if (h.state === 'healthy') h.state = 'degraded';
    }
    if (h.state !== before) for (const fn of this.#listeners) fn(id, h.state);
  }
}
