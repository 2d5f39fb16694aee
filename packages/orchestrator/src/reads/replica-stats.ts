/**
 * What adaptive replica selection (spec S13.3) and hedged reads (S13.2) know about each node, per
 * process (orchestrators do not share it): time-decayed averages of the latency of its reads and of
 * its error rate, and the reads it has in flight right now.
 *
 * Each average is an EWMA over time: a sample taken `dt` ms after the previous one moves the average
 * by `1 − 2^(−dt / half-life)` of the difference, so old information loses half its weight every
 * half-life whatever the request rate. The p95 is estimated as `mean + 2 × mean absolute deviation`
 * (for a normal distribution, 1.645 σ ≈ 2.06 MAD): two numbers per node instead of a histogram,
 * cheap enough to read on every request.
 */

/** `replica_selection.*` weights and decay. */
export interface ReplicaScoring {
  readonly latencyWeight: number;
  readonly inflightWeight: number;
  readonly errorWeight: number;
  readonly halfLifeMs: number;
}

/** How a timed read ended. */
export type ReadOutcome = 'ok' | 'error' | 'aborted';

/** Per node. */
class NodeStats {
  meanMs = 0;
  devMs = 0;
  /** Share of failed reads, 0…1. */
  errors = 0;
  inFlight = 0;
  /** When the last sample was taken (ms, monotonic); 0 = none yet. */
  at = 0;

  /** The decay weight of a sample taken now. */
  weight(now: number, halfLifeMs: number): number {
    if (this.at === 0) return 1;
    const dt = Math.max(0, now - this.at);
    return 1 - Math.pow(2, -dt / halfLifeMs);
  }
}

/**
 * A node's score is `latency_weight · p95_ms + inflight_weight · in_flight + error_weight ·
 * error_rate`, with the error rate in percent (0…100) so that a node failing every read weighs like
 * a p95 of `100 × error_weight` ms. Lower is better; a node never measured scores 0, so it is tried.
 */
export class ReplicaStats {
  readonly #nodes = new Map<string, NodeStats>();
  readonly #cfg: ReplicaScoring;
  readonly #now: () => number;

  constructor(cfg: ReplicaScoring, now: () => number = () => performance.now()) {
    this.#cfg = cfg;
    this.#now = now;
  }

  #of(nodeId: string): NodeStats {
    let s = this.#nodes.get(nodeId);
    if (s === undefined) this.#nodes.set(nodeId, (s = new NodeStats()));
    return s;
  }

  /** A read is sent to the node; returns its start time for {@link end}. */
  start(nodeId: string): number {
    this.#of(nodeId).inFlight++;
    return this.#now();
  }

  /**
   * The read ended. An `aborted` read (the loser of a hedge) counts its elapsed time as a latency
   * sample: the node took at least that long, which is what made it lose.
   */
  end(nodeId: string, startedAt: number, outcome: ReadOutcome): void {
    const s = this.#of(nodeId);
    s.inFlight = Math.max(0, s.inFlight - 1);
    const now = this.#now();
    const w = s.weight(now, this.#cfg.halfLifeMs);
    const failed = outcome === 'error' ? 1 : 0;
    s.errors += w * (failed - s.errors);
    if (outcome !== 'error') {
      const ms = now - startedAt;
      if (s.at === 0) {
        s.meanMs = ms;
        s.devMs = ms / 2;
      } else {
        s.devMs += w * (Math.abs(ms - s.meanMs) - s.devMs);
        s.meanMs += w * (ms - s.meanMs);
      }
    }
    s.at = now;
  }

  /** The node's estimated p95 read latency (ms); 0 when never measured. */
  p95(nodeId: string): number {
    const s = this.#nodes.get(nodeId);
    return s === undefined ? 0 : s.meanMs + 2 * s.devMs;
  }

  /** The node's average read latency (ms); 0 when never measured. */
  meanMs(nodeId: string): number {
    return this.#nodes.get(nodeId)?.meanMs ?? 0;
  }

  inFlight(nodeId: string): number {
    return this.#nodes.get(nodeId)?.inFlight ?? 0;
  }

  /** Share of the node's recent reads that failed, 0…1. */
  errorRate(nodeId: string): number {
    return this.#nodes.get(nodeId)?.errors ?? 0;
  }

  score(nodeId: string): number {
    const s = this.#nodes.get(nodeId);
    if (s === undefined) return 0;
    const c = this.#cfg;
    return c.latencyWeight * (s.meanMs + 2 * s.devMs) + c.inflightWeight * s.inFlight + c.errorWeight * 100 * s.errors;
  }

  /** The median over `nodeIds` of a per-node value (0 for an empty list). */
  static median(nodeIds: Iterable<string>, value: (id: string) => number): number {
    const xs = [...nodeIds].map(value).sort((a, b) => a - b);
    if (xs.length === 0) return 0;
    const m = xs.length >> 1;
    return xs.length % 2 === 1 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
  }

  /** Nodes measured so far. */
  nodeIds(): IterableIterator<string> {
    return this.#nodes.keys();
  }

  /** Forgets a node that left the topology. */
  forget(nodeId: string): void {
    this.#nodes.delete(nodeId);
  }
}
