/**
 * How a read picks its replicas and how it calls them (spec S13.2, S13.3):
 * - adaptive replica selection: the lowest-scoring eligible replica of each shard, except that one
 *   request in `exploration_epsilon` picks uniformly (so a healed replica is noticed again);
 * - hedged reads: when a replica is slower than the trigger, the same shards are asked of other
 *   replicas; the first complete answer wins and the other call is aborted. Writes never come here.
 *
 * Per process: orchestrators do not share scores (the spec's "scores are kept per pod").
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Cluster } from '../cluster.js';
import type { Config } from '../config.js';
import { chooseAdaptive, type CoveringOptions } from '../core/covering.js';
import { NodeHttpError, NodeTransportError, type NodeRequest } from '../nodes/node-client.js';
import type { Metrics } from '../obs/metrics.js';
import type { Placement } from '../core/placement.js';
import { addFanOut } from '../obs/request-scope.js';
import { ReplicaStats } from './replica-stats.js';

/** A shard is served by another group when all its replicas score above this many fleet medians. */
const SLOW_FACTOR = 5;
const SLOW_RECHECK_MS = 50;

/** One node call of a read. */
export interface NodeCall {
  readonly nodeId: string;
  readonly req: NodeRequest;
}

/** The hedges left to one query (`hedging.max_hedges_per_query`). */
export interface HedgeBudget {
  left: number;
}

/** The replica choice of one read, as covering-set options. */
export type ReplicaChoice = Pick<CoveringOptions, 'seq' | 'choose' | 'avoid'>;

/** Read-path families of spec S10.2 (13.2, 13.3). */
class ReadPathMetrics {
  readonly exploration: Counter;
  readonly hedgeFired: Counter<'outcome'>;
  readonly hedgeSavings: Histogram;
  readonly hedgeBudgetExhausted: Counter;

  constructor(metrics: Metrics, stats: ReplicaStats, cluster: Cluster, adaptive: boolean, hedging: boolean) {
    const registers = [metrics.registry];
    if (adaptive) {
      new Gauge({
        name: 'miroir_replica_selection_score',
        help: 'Adaptive replica selection score per node (lower is preferred): weighted p95 latency, reads in flight and error rate.',
        labelNames: ['node_id'],
        registers,
        collect() {
          this.reset();
          for (const id of cluster.nodes.keys()) this.labels(id).set(stats.score(id));
        },
      });
    }
    this.exploration = new Counter({
      name: 'miroir_replica_selection_exploration_total',
      help: 'Reads whose replicas were picked uniformly at random (exploration) rather than by score.',
      registers: adaptive ? registers : [],
    });
    const hedgeRegisters = hedging ? registers : [];
    this.hedgeFired = new Counter({
      name: 'miroir_hedge_fired_total',
      help: 'Hedged node calls: `winner` when the hedge answered first, `loser` when the first replica did.',
      labelNames: ['outcome'],
      registers: hedgeRegisters,
    });
    this.hedgeSavings = new Histogram({
      name: 'miroir_hedge_latency_savings_seconds',
      help: 'Estimated time a winning hedge saved: the slow replica’s average read latency minus the time the hedged read took.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: hedgeRegisters,
    });
    this.hedgeBudgetExhausted = new Counter({
      name: 'miroir_hedge_budget_exhausted_total',
      help: 'Node calls slower than the hedge trigger that were not hedged: the query had used `max_hedges_per_query`.',
      registers: hedgeRegisters,
    });
  }
}

export class ReadPath {
  readonly stats: ReplicaStats;
  readonly #cluster: Cluster;
  readonly #sel: Config['replica_selection'];
  readonly #hedge: Config['hedging'];
  readonly #metrics: ReadPathMetrics;
  readonly #random: () => number;
  #slow: Set<string> | undefined;
  #slowAt = -Infinity;

  constructor(cluster: Cluster, metrics: Metrics, random: () => number = Math.random) {
    this.#cluster = cluster;
    this.#sel = cluster.config.replica_selection;
    this.#hedge = cluster.config.hedging;
    this.#random = random;
    this.stats = new ReplicaStats({
      latencyWeight: this.#sel.latency_weight,
      inflightWeight: this.#sel.inflight_weight,
      errorWeight: this.#sel.error_weight,
      halfLifeMs: this.#sel.ewma_half_life_ms,
    });
    this.#metrics = new ReadPathMetrics(metrics, this.stats, cluster, this.#sel.strategy === 'adaptive', this.#hedge.enabled);
  }

  get crossGroupHedges(): boolean {
    return this.#hedge.cross_group_fallback;
  }

  /** Whether reads under `placement` can be hedged: hedging is on and a shard has another replica. */
  canHedge(placement: Placement): boolean {
    return this.#hedge.enabled && (placement.replicationFactor > 1 || placement.groupCount > 1);
  }

  /** A fresh hedge budget for one query. */
  budget(): HedgeBudget {
    return { left: this.#hedge.max_hedges_per_query };
  }

  /**
   * How one read picks replicas. `stable` reads (document listings, whose pages must come from the
   * same replicas) keep the first replica in rendezvous order while it is healthy.
   */
  choice(stable = false): ReplicaChoice {
    if (stable) return { seq: 0 };
    const strategy = this.#sel.strategy;
    if (strategy === 'round_robin') return { seq: this.#cluster.nextSeq() };
    const u = this.#random();
    // One draw per request: exploring picks uniformly (a random rotation) for every shard at once,
    // so an explored replica costs one request, not a share of every request's shards.
    if (strategy === 'random' || u < this.#sel.exploration_epsilon) {
      if (strategy === 'adaptive') this.#metrics.exploration.inc();
      return { seq: Math.floor(this.#random() * 1_000_000) };
    }
    const slow = this.#slowNodes();
    const seq = this.#cluster.nextSeq();
    return slow === undefined ? { seq, choose: this.#best } : { seq, choose: this.#best, avoid: this.#isSlow };
  }

  /** The lowest-scoring of a shard's eligible replicas (ties: the better rendezvous rank). */
  readonly #best = (eligible: readonly string[]): string => chooseAdaptive(eligible, this.#score);
  readonly #score = (id: string): number => this.stats.score(id);
  readonly #isSlow = (id: string): boolean => this.#slow?.has(id) === true;

  /**
   * Nodes scoring above {@link SLOW_FACTOR} × the fleet median, or undefined when none does.
   * Computed at most every {@link SLOW_RECHECK_MS}: scores move with samples, not per request.
   */
  #slowNodes(): Set<string> | undefined {
    const now = performance.now();
    if (now - this.#slowAt < SLOW_RECHECK_MS) return this.#slow;
    this.#slowAt = now;
    const ids = [...this.#cluster.nodes.keys()];
    const stats = this.stats;
    const median = ids.length < 2 ? 0 : ReplicaStats.median(ids, (id) => stats.score(id));
    let slow: Set<string> | undefined;
    if (median > 0) for (const id of ids) if (stats.score(id) > SLOW_FACTOR * median) (slow ??= new Set()).add(id);
    this.#slow = slow;
    return slow;
  }

  /**
   * After how many ms a read of `nodeId` is hedged: `max(min_trigger_ms, multiplier × p95)`, where
   * the p95 is the lower of the node's own and the best p95 in the fleet: what the read would
   * likely take elsewhere. The node's own alone would never hedge the one replica that needs it: a
   * slow node's p95 is its slowness.
   */
  hedgeTriggerMs(nodeId: string): number {
    const stats = this.stats;
    let p95 = stats.p95(nodeId);
    for (const id of this.#cluster.nodes.keys()) {
      const other = stats.p95(id);
      if (other > 0 && other < p95) p95 = other;
    }
    return Math.max(this.#hedge.min_trigger_ms, this.#hedge.p95_trigger_multiplier * p95);
  }

  /**
   * One node call of a read, timed into the node's score; transport failures feed its health. An
   * aborted call (a hedge's loser) rejects with the abort and is not a failure of the node.
   */
  async call<T>(call: NodeCall): Promise<T> {
    const { nodeId, req } = call;
    const cluster = this.#cluster;
    addFanOut(1);
    const t0 = this.stats.start(nodeId);
    try {
      const res = await cluster.node(nodeId).request<T>(req);
      this.stats.end(nodeId, t0, 'ok');
      cluster.health.reportSuccess(nodeId);
      return res.body;
    } catch (e) {
      if (req.signal?.aborted === true) {
        this.stats.end(nodeId, t0, 'aborted');
        throw e;
      }
      // An HTTP error is the node's answer (a bad filter…), not a sign of a bad replica.
      this.stats.end(nodeId, t0, e instanceof NodeHttpError ? 'ok' : 'error');
      if (e instanceof NodeTransportError) cluster.health.reportFailure(nodeId, e.message);
      throw e;
    }
  }

  /**
   * Calls `primary`; if it has not answered within the node's hedge trigger and `budget` allows,
   * asks `alternative()` (other replicas covering the same shards, or undefined when there are none)
   * and returns whichever complete answer comes first, aborting the other. A node's HTTP error is
   * its answer and is thrown at once; when one side fails to answer, the other side's answer is
   * awaited; when both fail, the primary's failure is thrown.
   */
  async hedged<T>(primary: NodeCall, budget: HedgeBudget, alternative: (() => Promise<NodeCall[] | undefined>) | undefined): Promise<T[]> {
    if (!this.#hedge.enabled || alternative === undefined) return [await this.call<T>(primary)];
    const first = new AbortController();
    const started = performance.now();
    const primaryDone = this.call<T>({ nodeId: primary.nodeId, req: { ...primary.req, signal: first.signal } }).then((r) => [r]);
    let timer: NodeJS.Timeout | undefined;
    const fired = new Promise<'fire'>((resolve) => {
      timer = setTimeout(() => resolve('fire'), this.hedgeTriggerMs(primary.nodeId));
    });
    const early = await Promise.race([primaryDone.then(() => 'done' as const, () => 'failed' as const), fired]);
    clearTimeout(timer);
    if (early !== 'fire') return primaryDone;
    if (budget.left <= 0) {
      this.#metrics.hedgeBudgetExhausted.inc();
      return primaryDone;
    }
    // The alternative may wait (a write the read must see); the primary may answer meanwhile.
    let settled = false;
    const primarySettled = primaryDone.then(
      () => (settled = true),
      () => (settled = true),
    );
    const calls = await Promise.race([alternative().catch(() => undefined), primarySettled.then(() => undefined)]);
    if (settled || calls === undefined || calls.length === 0) return primaryDone;
    budget.left--;
    const second = new AbortController();
    const hedgeDone = Promise.all(calls.map((c) => this.call<T>({ nodeId: c.nodeId, req: { ...c.req, signal: second.signal } })));
    const outcome = await firstSettled(primaryDone, hedgeDone);
    if (outcome.winner === 'b') {
      first.abort();
      this.#metrics.hedgeFired.labels('winner').inc();
      const took = performance.now() - started;
      this.#metrics.hedgeSavings.observe(Math.max(0, this.stats.meanMs(primary.nodeId) - took) / 1000);
    } else {
      second.abort();
      this.#metrics.hedgeFired.labels('loser').inc();
    }
    // The aborted side's rejection is expected; nobody else awaits it.
    primaryDone.catch(() => undefined);
    hedgeDone.catch(() => undefined);
    return outcome.value;
  }
}

/**
 * The first of two promises to fulfil (with which), or — when one rejects with a transport
 * failure — the other's outcome. A node HTTP error rejects at once: it is the answer.
 */
async function firstSettled<T>(a: Promise<T>, b: Promise<T>): Promise<{ winner: 'a' | 'b'; value: T }> {
  return new Promise((resolve, reject) => {
    let failures = 0;
    let firstError: unknown;
    const settle = (winner: 'a' | 'b', p: Promise<T>) =>
      p.then(
        (value) => resolve({ winner, value }),
        (e) => {
          if (e instanceof NodeHttpError) return reject(e);
          if (winner === 'a' || firstError === undefined) firstError = e;
          if (++failures === 2) reject(firstError);
        },
      );
    settle('a', a);
    settle('b', b);
  });
}
