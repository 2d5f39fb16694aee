/**
 * Wiring only: config → state → nodes → workers → api.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Authenticator } from './api/auth.js';
import type { AppContext } from './api/context.js';
import { acceptRawBodies, allowCrossOrigin, envelopeServerOptions, installErrorHandler } from './api/http.js';
import { Idempotency } from './api/idempotency.js';
import { registerRoutes } from './api/routes.js';
import { Catalog } from './catalog.js';
import { Cluster } from './cluster.js';
import type { Config } from './config.js';
import { loadHasher } from './core/hash.js';
import { KeyCache } from './api/keys.js';
import { ReadCache } from './api/read-cache.js';
import { ReadPath } from './reads/read-path.js';
import { Tenants } from './reads/tenants.js';
import { RedisStore } from './state/redis.js';
import { SqliteStore } from './state/sqlite.js';
import type { StateStore } from './state/store.js';
import { Background } from './work/background.js';
import { TaskRegistry } from './work/tasks.js';
import { AntiEntropy } from './work/anti-entropy.js';
import { Handoff } from './work/handoff.js';
import { Aliases } from './aliases/registry.js';
import { WriteTokens } from './guarantees/write-token.js';
import { Sessions } from './guarantees/sessions.js';
import { RoutingFence } from './work/fence.js';
import { Rebalancer } from './work/rebalancer.js';
import { SettingsBroadcaster } from './work/settings-broadcast.js';
import { SettingsDriftReconciler } from './work/settings-drift.js';
import { SettingsVersions } from './work/settings-versions.js';
import { createLogger, stdoutSink } from './obs/logging.js';
import { attachMetrics, Metrics, registerBackgroundMetrics } from './obs/metrics.js';
import { startMetricsServer, type MetricsServer } from './obs/metrics-server.js';
import { NodeObserver } from './obs/node-observer.js';
import { installRequestHooks, registerMetricsRoute, requestIdOf } from './obs/request-hooks.js';
import type { Tracing } from './obs/tracing.js';

export interface Miroir {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly cluster: Cluster;
  readonly metrics: Metrics;
  /** The separate metrics listener's scrape URL; undefined when disabled or it could not bind. */
  readonly metricsUrl: string | undefined;
  /** Background work shared with the other orchestrators (Mode A ownership, leases, jobs). */
  readonly background: Background;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Replaces the logger built from `config.log` (tests capture or silence logs). */
  logger?: Logger;
  /** Replaces the OTLP exporter when `tracing.enabled` (tests use an in-memory exporter). */
  spanExporter?: SpanExporter;
}


/** The configured state store: SQLite for one process, Redis for several. */
export async function openStore(config: Readonly<Config>): Promise<StateStore> {
  const ts = config.task_store;
  return ts.backend === 'redis' ? RedisStore.open({ url: ts.url, keyPrefix: ts.key_prefix }) : new SqliteStore(ts.path);
}

export async function startMiroir(config: Readonly<Config>, opts: StartOptions = {}): Promise<Miroir> {
  const sink = opts.logger === undefined ? stdoutSink(config.log.buffer_bytes) : undefined;
  const log = opts.logger ?? createLogger(config.log.level, sink!.stream);
  const store = await openStore(config);
  const hasher = await loadHasher();
  const cluster = new Cluster(config, hasher, store);
  const { readdressed } = await cluster.loadTopology();
  if (readdressed.length > 0) log.info({ nodes: readdressed, version: cluster.storedTopology.version }, 'node addresses taken from the config');
  const catalog = new Catalog(cluster);
  const background = new Background(store, config, hasher, log);
  const tasks = new TaskRegistry(cluster, catalog, log, background.ownership);
  const keys = new KeyCache(cluster);
  // What another orchestrator changed, this one's caches forget.
  let fence: RoutingFence | undefined;
  let handoff: Handoff | undefined;
  let aliases: Aliases | undefined;
  await store.subscribe((event) => {
    switch (event.kind) {
      case 'keys_changed':
        return keys.invalidate();
      case 'routing_changed':
        return fence?.onAdvanced(event.epoch);
      case 'handoff_drained':
        return void handoff?.reload().catch((e: unknown) => log.warn({ err: e }, 'could not read the queues of missed writes'));
      case 'index_deleting':
        return catalog.deletionEnqueued(event.indexUid, event.taskUid);
      case 'index_changed':
        for (const uid of event.indexUids) catalog.invalidate(uid);
        return;
      case 'events_missed':
        // The subscription was down: nothing cached is trusted, and the store is read again.
        log.warn('store events may have been missed: caches dropped');
        keys.invalidate();
        void catalog.resync().catch((e: unknown) => log.warn({ err: e }, 'could not read the pending index deletions'));
        void fence?.refresh().catch(() => {});
        void handoff?.reload().catch(() => {});
        return;
    }
  });
  const auth = new Authenticator({ masterKey: config.master_key, adminKey: config.admin.api_key, resolver: keys });
  if (auth.open) {
    log.warn('no master key is set (MIROIR_MASTER_KEY): the API is open to anyone who can reach it');
  }

  const envelope = envelopeServerOptions();
  const app = Fastify({
    ...envelope,
    loggerInstance: log as FastifyBaseLogger,
    // One log line per request comes from the onResponse hook below, not fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: config.server.max_body_bytes,
    requestTimeout: config.server.request_timeout_ms,
    routerOptions: { ...envelope.routerOptions, ignoreTrailingSlash: true },
    genReqId: requestIdOf,
  });
  const metrics = new Metrics(cluster, tasks);
  attachMetrics(cluster, metrics);
  registerBackgroundMetrics(metrics, cluster, background);
  // Loaded only when enabled: with tracing off, not even the OpenTelemetry modules are in memory.
  const tracing: Tracing | undefined = config.tracing.enabled
    ? new (await import('./obs/tracing.js')).Tracing(config.tracing, opts.spanExporter)
    : undefined;
  const observer = new NodeObserver(metrics, tracing);
  cluster.observeNodes(observer);
  installRequestHooks(app, metrics, tracing, { enabled: log.isLevelEnabled('info'), nodeCount: config.log.node_count }, config.server.max_concurrent_requests);
  await allowCrossOrigin(app);
  acceptRawBodies(app);
  installErrorHandler(app);
  const le = config.leader_election;
  fence = new RoutingFence(
    {
      store,
      self: background.peers.self,
      // A new epoch: the routing and the committed settings versions are read again.
      load: async () => {
        versions.invalidateAll();
        await handoff?.reload();
        await aliases?.reload();
        return rebalancer.reload();
      },
      frozen: (shards) => cluster.frozen(shards),
      log,
    },
    { ttlMs: le.lease_ttl_s * 1000, heartbeatMs: le.renew_interval_s * 1000, freezeTimeoutMs: config.rebalancer.write_freeze_timeout_ms },
  );
  // Nodes re-addressed from the config: where writes go changed, the other orchestrators follow.
  if (readdressed.length > 0) await fence.advance();
  let antiEntropy: AntiEntropy | undefined;
  handoff = new Handoff({ cluster, log, metrics, fence, leases: background.leases, resync: () => antiEntropy?.run() ?? Promise.resolve() });
  antiEntropy = config.anti_entropy.enabled
    ? new AntiEntropy({ cluster, ownership: background.ownership, log, metrics, fence, busy: (id) => handoff.pending(id) })
    : undefined;
  const versions = new SettingsVersions(store);
  const broadcasts = new SettingsBroadcaster({ cluster, catalog, tasks, versions, metrics, log, leases: background.leases, self: background.peers.self, fence });
  const drift = new SettingsDriftReconciler({ cluster, catalog, versions, broadcasts, ownership: background.ownership, metrics, log });
  aliases = new Aliases({
    store,
    fence,
    leases: background.leases,
    config: config.aliases,
    log,
    metrics,
    indexExists: async (uid) => (await catalog.get(uid)) !== undefined,
    leaseWaitMs: 2 * le.lease_ttl_s * 1000,
  });
  const rebalancer = new Rebalancer({ cluster, log, metrics, handoff, fence, leases: background.leases });
  const reads = new ReadCache(config, versions, metrics, (uid) => catalog.generation(uid));
  const idempotency = new Idempotency({ store: cluster.store, config: config.idempotency, registry: metrics.registry, log });
  const ctx: AppContext = {
    cluster,
    catalog,
    tasks,
    auth,
    keys,
    log,
    metrics,
    handoff,
    antiEntropy,
    broadcasts,
    versions,
    drift,
    rebalancer,
    fence,
    aliases,
    writeTokens: new WriteTokens(cluster, metrics),
    sessions: new Sessions(cluster, tasks, metrics),
    background,
    idempotency,
    reads,
    readPath: new ReadPath(cluster, metrics),
    tenants: new Tenants(config.tenant_affinity, cluster.store, hasher, metrics),
  };
  registerMetricsRoute(app, metrics, auth);
  registerRoutes(app, ctx);

  cluster.health.start();
  await background.start();
  tasks.start();
  await handoff.start();
  await aliases.reload();
  antiEntropy?.start();
  await broadcasts.start();
  drift.start();
  // A rebalance interrupted by a restart: its routing is restored before the first request.
  await rebalancer.resume();
  rebalancer.follow();
  // Registered once the routing is loaded: from now on, cutovers wait for this process.
  await fence.start();
  await app.listen({ port: config.server.port, host: config.server.bind });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.bind === '0.0.0.0' || config.server.bind === '::' ? '127.0.0.1' : config.server.bind;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const metricsServer: MetricsServer | undefined = config.metrics.enabled ? await startMetricsServer(config.metrics, metrics, log) : undefined;
  log.info({ url, metrics_url: metricsServer?.url ?? null, tracing: tracing !== undefined }, 'miroir listening');

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    app,
    cluster,
    metrics,
    metricsUrl: metricsServer?.url,
    background,
    close: () =>
      (closed ??= (async () => {
        await app.close();
        await metricsServer?.close();
        await tracing?.shutdown();
        handoff.stop();
        await rebalancer.close();
        await antiEntropy?.close();
        await drift.close();
        await broadcasts.close();
        // Last of the workers: their holds and barriers need this process's registration.
        await fence!.close();
        await tasks.close();
        await background.close();
        await cluster.close();
        await store.close();
        sink?.close();
      })()),
  };
}
