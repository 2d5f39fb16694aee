/**
 * The Prometheus registry of one orchestrator (spec S10.2 core families): requests, nodes, shards,
 * tasks and scatter. Every name has the `miroir_` prefix. Label values are bounded: route templates
 * (never raw paths), node ids from the config, and fixed vocabularies for operations and errors.
 *
 * State the process already keeps (node health, placement, pending tasks) is read at scrape time by
 * `collect` callbacks; only events (requests, node calls, finished tasks, scatters) are counted as
 * they happen. The rebalance family is absent on purpose: no rebalancer runs in this build, and a
 * family that can only ever read zero would be a fake.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Resources } from './resources.js';
import type { Cluster } from '../cluster.js';
import type { NodeErrorType } from '../nodes/node-client.js';
import type { NodeOperation } from '../nodes/operation.js';
import type { TaskRow } from '../state/store.js';
import { shardItem } from '../core/rendezvous.js';
import type { Background } from '../work/background.js';
import type { TaskRegistry } from '../work/tasks.js';

/** Latency buckets (seconds) shared by client requests and node calls. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Task ages run from milliseconds to hours (the stuck alert fires at one hour). */
const TASK_AGE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400];
/** Fan-out is a node count: bounded by the fleet size. */
const FAN_OUT_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128];

/** Queries per multi-search batch: 1 up to `multi_search.max_queries_per_batch` (100 by default). */
const BATCH_BUCKETS = [1, 2, 3, 5, 10, 20, 50, 100, 200, 500];

/** Label value of a request that matched no route: raw paths never become labels. */
export const UNMATCHED_ROUTE = 'unmatched';

interface RequestSeries {
  duration: Histogram.Internal<string>;
  total: Counter.Internal;
}

export class Metrics {
  readonly registry = new Registry();

  readonly requestDuration: Histogram<'method' | 'path_template' | 'status'>;
  readonly requestsTotal: Counter<'method' | 'path_template' | 'status'>;
  readonly requestsInFlight: Gauge;
  /** Requests being served; a plain number on the hot path, published at scrape time. */
  inFlight = 0;
  readonly requestQueueDepth: Gauge;
  /** Requests waiting for a slot (`server.max_concurrent_requests`), published at scrape time. */
  queued = 0;
  readonly memoryPressure: Gauge;
  readonly cpuThrottled: Counter;

  readonly nodeHealthy: Gauge<'node_id'>;
  readonly nodeRequestDuration: Histogram<'node_id' | 'operation'>;
  readonly nodeErrors: Counter<'node_id' | 'error_type'>;

  readonly shardCoverage: Gauge;
  readonly degradedShards: Gauge;
  readonly shardDistribution: Gauge<'node_id'>;

  readonly taskProcessingAge: Histogram;
  readonly taskOldestPendingAge: Gauge;
  readonly tasksTotal: Counter<'status'>;
  readonly taskRegistrySize: Gauge;

  readonly scatterFanOut: Histogram;
  readonly scatterPartial: Counter;
  readonly scatterRetries: Counter;

  /** Spec S13.10.1: searches looked up in the result cache, by outcome (`hit`, `miss`). */
  readonly resultCacheRequests: Counter<'outcome'>;
  readonly resultCacheEvictions: Counter;
  /** Spec S13.10: searches answered by another identical search's scatter. */
  readonly coalescedRequests: Counter;

  /** Spec S13.12: semantic and hybrid searches sent to nodes with a window over-fetched (factor > 1). */
  readonly vectorOverFetched: Counter;
  /** Spec S13.12: nodes found with embedders that differ from the reference (a settings drift on `embedders`). */
  readonly vectorEmbedderDrift: Counter;
  /** Spec S13.12: 1 for the configured `vector_search.merge_strategy` (0 while vector_search is disabled). */
  readonly vectorMergeStrategy: Gauge<'strategy'>;
  /** Spec S13.11 (absent while `multi_search.enabled` is false): queries of each `/multi-search` batch. */
  readonly multisearchQueriesPerBatch: Histogram | undefined;
  /** Batches by form (`plain`, `federated`). */
  readonly multisearchBatches: Counter<'mode'> | undefined;
  /** Batches failed as a whole by one of their queries (its error, or its timeout). */
  readonly multisearchPartialFailures: Counter | undefined;

  /** Spec S13.5: the phase of each index's settings broadcast (0 idle, 1 propose, 2 verify, 3 repair, 4 commit). */
  readonly settingsBroadcastPhase: Gauge<'index'>;
  readonly settingsHashMismatch: Counter<'index'>;
  readonly settingsDriftRepair: Counter<'index'>;
  readonly settingsVersion: Gauge<'index'>;
  /** 1 while writes to the index are frozen by an unrepairable settings divergence. */
  readonly settingsWritesFrozen: Gauge<'index'>;

  /** template → method → status → series: one lookup chain per request, no key strings built. */
  readonly #requestSeries = new Map<string, Map<string, Map<number, RequestSeries>>>();
  /** node id → operation → histogram child. */
  readonly #nodeSeries = new Map<string, Map<NodeOperation, Histogram.Internal<string>>>();

  constructor(cluster: Cluster, tasks: TaskRegistry, resources = new Resources()) {
    const registers = [this.registry];
    this.requestDuration = new Histogram({
      name: 'miroir_request_duration_seconds',
      help: 'Client request latency by method, route template and status.',
      labelNames: ['method', 'path_template', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.requestsTotal = new Counter({
      name: 'miroir_requests_total',
      help: 'Client requests by method, route template and status.',
      labelNames: ['method', 'path_template', 'status'],
      registers,
    });
    this.requestsInFlight = new Gauge({
      name: 'miroir_requests_in_flight',
      help: 'Client requests being served now.',
      registers,
      collect: () => this.requestsInFlight.set(this.inFlight),
    });
    this.requestQueueDepth = new Gauge({
      name: 'miroir_request_queue_depth',
      help: 'Client requests waiting because server.max_concurrent_requests are being served.',
      registers,
      collect: () => this.requestQueueDepth.set(this.queued),
    });
    this.memoryPressure = new Gauge({
      name: 'miroir_memory_pressure',
      help: 'Memory in use against the container limit: 0 below 75%, 1 above 75%, 2 above 90%.',
      registers,
      collect: () => this.memoryPressure.set(resources.memoryPressure()),
    });
    let throttled = 0;
    this.cpuThrottled = new Counter({
      name: 'miroir_cpu_throttled_seconds_total',
      help: 'Seconds the container CPU was throttled by its quota (cgroup cpu.stat).',
      registers,
      collect: () => {
        const now = resources.cpuThrottledSeconds();
        if (now !== undefined && now > throttled) {
          this.cpuThrottled.inc(now - throttled);
          throttled = now;
        }
      },
    });

    this.nodeHealthy = new Gauge({
      name: 'miroir_node_healthy',
      help: '1 when the node is healthy, 0 when it is failed (health probes and request failures).',
      labelNames: ['node_id'],
      registers,
      collect: () => {
        this.nodeHealthy.reset();
        for (const id of cluster.nodes.keys()) this.nodeHealthy.labels(id).set(cluster.health.isHealthy(id) ? 1 : 0);
      },
    });
    this.nodeRequestDuration = new Histogram({
      name: 'miroir_node_request_duration_seconds',
      help: 'Latency of calls to nodes by node and operation (health probes included).',
      labelNames: ['node_id', 'operation'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.nodeErrors = new Counter({
      name: 'miroir_node_errors_total',
      help: 'Failed node calls by node and error type (timeout, connection, invalid_response, http_5xx).',
      labelNames: ['node_id', 'error_type'],
      registers,
    });

    // Shard gauges describe the default shard count's placement, as /_miroir/topology does.
    const shardState = () => {
      const placement = cluster.placement(cluster.config.shards);
      let covered = 0;
      for (let s = 0; s < placement.shards; s++) {
        let ok = false;
        for (let gi = 0; gi < placement.groupCount && !ok; gi++) {
          ok = placement.owners(gi, s).some((id) => cluster.health.isHealthy(id));
        }
        if (ok) covered++;
      }
      return { placement, covered };
    };
    this.shardCoverage = new Gauge({
      name: 'miroir_shard_coverage',
      help: 'Shards with at least one healthy replica.',
      registers,
      collect: () => this.shardCoverage.set(shardState().covered),
    });
    this.degradedShards = new Gauge({
      name: 'miroir_degraded_shards_total',
      help: 'Shards with no healthy replica (a gauge, despite the name the spec gives it).',
      registers,
      collect: () => {
        const { placement, covered } = shardState();
        this.degradedShards.set(placement.shards - covered);
      },
    });
    this.shardDistribution = new Gauge({
      name: 'miroir_shard_distribution',
      help: 'Shards each node holds in the serving placement.',
      labelNames: ['node_id'],
      registers,
      collect: () => {
        const placement = cluster.placement(cluster.config.shards);
        this.shardDistribution.reset();
        for (const id of cluster.nodes.keys()) this.shardDistribution.labels(id).set(placement.shardsOf(id).length);
      },
    });

    this.taskProcessingAge = new Histogram({
      name: 'miroir_task_processing_age_seconds',
      help: 'Time from enqueue to a terminal state of each finished task.',
      buckets: TASK_AGE_BUCKETS,
      registers,
    });
    this.tasksTotal = new Counter({
      name: 'miroir_tasks_total',
      help: 'Tasks that reached a terminal state, by status.',
      labelNames: ['status'],
      registers,
    });
    // Both pending-task gauges come from one read of the store per scrape.
    let pending: Promise<TaskRow[]> | undefined;
    const pendingOnce = () => (pending ??= cluster.store.pendingTasks().finally(() => queueMicrotask(() => (pending = undefined))));
    this.taskOldestPendingAge = new Gauge({
      name: 'miroir_task_oldest_pending_age_seconds',
      help: 'Age of the oldest task not yet in a terminal state (0 when none): the task-stuck alert input.',
      registers,
      collect: async () => {
        const rows = await pendingOnce();
        const oldest = rows.reduce((m, r) => Math.min(m, r.enqueuedAt), Infinity);
        this.taskOldestPendingAge.set(oldest === Infinity ? 0 : Math.max(0, Date.now() / 1000 - oldest / 1e6));
      },
    });
    this.taskRegistrySize = new Gauge({
      name: 'miroir_task_registry_size',
      help: 'Tasks the registry holds (all statuses, until pruned).',
      registers,
      collect: async () => this.taskRegistrySize.set(await cluster.store.countTasks()),
    });
    // The registry runs completion hooks once per task.
    tasks.onFinished((row) => {
      this.tasksTotal.labels(row.status).inc();
      if (row.finishedAt !== null) this.taskProcessingAge.observe(Math.max(0, (row.finishedAt - row.enqueuedAt) / 1e6));
    });

    this.scatterFanOut = new Histogram({
      name: 'miroir_scatter_fan_out_size',
      help: 'Nodes each search scatter reached (its covering set).',
      buckets: FAN_OUT_BUCKETS,
      registers,
    });
    this.scatterPartial = new Counter({
      name: 'miroir_scatter_partial_responses_total',
      help: 'Search requests answered with shards missing (X-Miroir-Degraded): some node did not answer or none was eligible.',
      registers,
    });
    this.scatterRetries = new Counter({
      name: 'miroir_scatter_retries_total',
      help: 'Reads retried on another node after a node could not be reached.',
      registers,
    });

    this.resultCacheRequests = new Counter({
      name: 'miroir_result_cache_requests_total',
      help: 'Searches and facet searches looked up in the result cache: hit (answered from it) or miss (scattered).',
      labelNames: ['outcome'],
      registers,
    });
    this.resultCacheEvictions = new Counter({
      name: 'miroir_result_cache_evictions_total',
      help: 'Cached answers dropped to make room (max_size), not counting those that expired.',
      registers,
    });
    this.coalescedRequests = new Counter({
      name: 'miroir_coalesced_requests_total',
      help: 'Searches and facet searches answered by an identical one already in flight (no scatter of their own).',
      registers,
    });

    this.vectorOverFetched = new Counter({
      name: 'miroir_vector_search_over_fetched_total',
      help: 'Semantic and hybrid searches whose node window was over-fetched (vector_search.over_fetch_factor or X-Miroir-Over-Fetch above 1).',
      registers,
    });
    this.vectorEmbedderDrift = new Counter({
      name: 'miroir_vector_embedder_drift_total',
      help: 'Nodes the settings drift check found with embedders that differ from the committed settings (repaired like any drift).',
      registers,
    });
    this.vectorMergeStrategy = new Gauge({
      name: 'miroir_vector_merge_strategy',
      help: 'The merge strategy of semantic and hybrid searches: 1 for the configured one (0 while vector_search is disabled).',
      labelNames: ['strategy'],
      registers,
    });
    const vs = cluster.config.vector_search;
    this.vectorMergeStrategy.labels(vs.merge_strategy).set(vs.enabled ? 1 : 0);
    if (cluster.config.multi_search.enabled) {
      this.multisearchQueriesPerBatch = new Histogram({
        name: 'miroir_multisearch_queries_per_batch',
        help: 'Queries in each /multi-search batch.',
        buckets: BATCH_BUCKETS,
        registers,
      });
      this.multisearchBatches = new Counter({
        name: 'miroir_multisearch_batches_total',
        help: '/multi-search batches by form: plain (one result per query) or federated (one merged result).',
        labelNames: ['mode'],
        registers,
      });
      this.multisearchPartialFailures = new Counter({
        name: 'miroir_multisearch_partial_failures_total',
        help: '/multi-search batches failed as a whole by one query (its error, or its per-query or batch timeout).',
        registers,
      });
    } else {
      this.multisearchQueriesPerBatch = undefined;
      this.multisearchBatches = undefined;
      this.multisearchPartialFailures = undefined;
    }

    this.settingsBroadcastPhase = new Gauge({
      name: 'miroir_settings_broadcast_phase',
      help: 'Phase of the settings broadcast in flight per index: 0 idle, 1 propose, 2 verify, 3 repair, 4 commit.',
      labelNames: ['index'],
      registers,
    });
    this.settingsHashMismatch = new Counter({
      name: 'miroir_settings_hash_mismatch_total',
      help: 'Nodes found holding settings that differ from the reference (broadcast verify or drift check).',
      labelNames: ['index'],
      registers,
    });
    this.settingsDriftRepair = new Counter({
      name: 'miroir_settings_drift_repair_total',
      help: 'Nodes whose settings the drift reconciler brought back to the committed settings.',
      labelNames: ['index'],
      registers,
    });
    this.settingsVersion = new Gauge({
      name: 'miroir_settings_version',
      help: 'Committed settings version per index.',
      labelNames: ['index'],
      registers,
    });
    this.settingsWritesFrozen = new Gauge({
      name: 'miroir_settings_writes_frozen',
      help: '1 while document writes to the index are refused after an unrepairable settings divergence.',
      labelNames: ['index'],
      registers,
    });
  }

  /** Records one finished client request. */
  observeRequest(method: string, template: string, status: number, seconds: number): void {
    let byMethod = this.#requestSeries.get(template);
    if (byMethod === undefined) this.#requestSeries.set(template, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (series === undefined) {
      const labels = [method, template, String(status)];
      series = { duration: this.requestDuration.labels(...labels), total: this.requestsTotal.labels(...labels) };
      byStatus.set(status, series);
    }
    series.duration.observe(seconds);
    series.total.inc();
  }

  /** Records one node call. */
  observeNodeCall(nodeId: string, operation: NodeOperation, seconds: number, error: NodeErrorType | null): void {
    let byOp = this.#nodeSeries.get(nodeId);
    if (byOp === undefined) this.#nodeSeries.set(nodeId, (byOp = new Map()));
    let h = byOp.get(operation);
    if (h === undefined) byOp.set(operation, (h = this.nodeRequestDuration.labels(nodeId, operation)));
    h.observe(seconds);
    if (error !== null) this.nodeErrors.labels(nodeId, error).inc();
  }

  /** The exposition text and its content type. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * Background-work families (spec S10.2 / S14.9): `miroir_leader{scope}` (1 while this process holds
 * the scope's lease; 0 after it lost or released it), `miroir_peer_pod_count` (live orchestrators
 * this process sees) and `miroir_owned_shards_count` (the (index, shard) pairs this process owns for
 * Mode A work, over the indexes in the store).
 */
export function registerBackgroundMetrics(metrics: Metrics, cluster: Cluster, background: Background): void {
  const registers = [metrics.registry];
  const leader = new Gauge({ name: 'miroir_leader', help: 'Whether this process holds the leader lease of a scope.', labelNames: ['scope'], registers });
  background.leases.onChange((scope, held) => leader.labels(scope).set(held ? 1 : 0));
  new Gauge({
    name: 'miroir_peer_pod_count',
    help: 'Orchestrator processes this one sees alive (itself included).',
    registers,
    collect() {
      this.set(background.peers.peers.length);
    },
  });
  const depth = new Gauge({
    name: 'miroir_background_queue_depth',
    help: 'Queued jobs waiting for a claimant, by job type (read from the shared store: the same on every process).',
    labelNames: ['job_type'],
    registers,
    async collect() {
      depth.reset();
      for (const type of background.jobs.types) depth.labels(type).set(await cluster.store.queuedJobCount(type));
    },
  });
  new Gauge({
    name: 'miroir_owned_shards_count',
    help: 'Shards (index, shard pairs) whose periodic work this process owns.',
    registers,
    async collect() {
      const metas = await cluster.store.listIndexMeta();
      let n = 0;
      for (const m of metas) for (let s = 0; s < m.shards; s++) if (background.ownership.owns(shardItem(m.uid, s))) n++;
      this.set(n);
    },
  });
}

/** What the read-sharing gauges read at scrape time. */
export interface ReadSharingState {
  /** Answers in the result cache. */
  readonly cacheSize: number;
  /** Distinct searches open for joining. */
  readonly pendingQueries: number;
}

/** `miroir_result_cache_size` and `miroir_coalescing_pending_queries` (spec S13.10), read at scrape time. */
export function registerReadSharingMetrics(metrics: Metrics, state: ReadSharingState): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'miroir_result_cache_size',
    help: 'Answers held in the result cache (expired ones included until they are looked up or evicted).',
    registers,
    collect() {
      this.set(state.cacheSize);
    },
  });
  new Gauge({
    name: 'miroir_coalescing_pending_queries',
    help: 'Distinct searches in flight that identical searches may join.',
    registers,
    collect() {
      this.set(state.pendingQueries);
    },
  });
}

const byCluster = new WeakMap<Cluster, Metrics>();

/** Makes `metrics` the registry that code holding only the cluster (the fan-out helpers) records into. */
export function attachMetrics(cluster: Cluster, metrics: Metrics): void {
  byCluster.set(cluster, metrics);
}

/** The metrics of `cluster`, if it has any. */
export function metricsOf(cluster: Cluster): Metrics | undefined {
  return byCluster.get(cluster);
}
