/**
 * Node health: active probes of each node's `GET /health` plus passive signals from request
 * failures, folded into a per-node state machine with thresholds (spec S10.1, S4.3 `health.*`).
 *
 *   healthy ──(unhealthy_threshold consecutive failures)──▶ failed
 *   failed  ──(recovery_threshold consecutive successes)──▶ healthy
 */
import type { NodeClient } from './node-client.js';

export type HealthState = 'healthy' | 'failed';

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

  isHealthy(nodeId: string): boolean {
    return this.#nodes.get(nodeId)?.h.state === 'healthy';
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
    if (n && n.h.state === 'healthy') {
      n.h.failures = 0;
      n.h.lastSeenMs = Date.now();
    }
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
      if (h.state === 'failed' && h.successes >= this.#opts.recoveryThreshold) {
        h.state = 'healthy';
        h.lastError = null;
      }
    } else {
      h.successes = 0;
      h.failures++;
      h.lastError = error;
      if (h.state === 'healthy' && h.failures >= this.#opts.unhealthyThreshold) h.state = 'failed';
    }
    if (h.state !== before) for (const fn of this.#listeners) fn(id, h.state);
  }
}
