/**
 * Wiring only: config → state → nodes → workers → api.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { Authenticator } from './api/auth.js';
import { acceptRawBodies, installErrorHandler } from './api/http.js';
import { registerRoutes } from './api/routes.js';
import { Catalog } from './catalog.js';
import { Cluster } from './cluster.js';
import type { Config } from './config.js';
import { loadHasher } from './core/hash.js';
import { KeyCache } from './api/keys.js';
import { SqliteStore } from './state/sqlite.js';
import { TaskRegistry } from './work/tasks.js';

export interface Miroir {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly cluster: Cluster;
  close(): Promise<void>;
}

/** Everything a route handler may use. */
export interface AppContext {
  readonly cluster: Cluster;
  readonly catalog: Catalog;
  readonly tasks: TaskRegistry;
  readonly auth: Authenticator;
  readonly keys: KeyCache;
  readonly log: Logger;
}

export async function startMiroir(config: Readonly<Config>, opts: { logger?: Logger } = {}): Promise<Miroir> {
  const log = opts.logger ?? pino({ level: config.log.level, base: { service: 'miroir' } });
  if (config.task_store.backend !== 'sqlite') {
    throw new Error('task_store.backend: only `sqlite` is available in this build');
  }
  const store = new SqliteStore(config.task_store.path);
  const hasher = await loadHasher();
  const cluster = new Cluster(config, hasher, store);
  const catalog = new Catalog(cluster);
  const tasks = new TaskRegistry(cluster, catalog, log);
  const keys = new KeyCache(cluster);
  const auth = new Authenticator({ masterKey: config.master_key, adminKey: config.admin.api_key, resolver: keys });
  if (auth.open) {
    log.warn('no master key is set (MIROIR_MASTER_KEY): the API is open to anyone who can reach it');
  }

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // One log line per request comes from the onResponse hook below, not fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.max_body_bytes,
    requestTimeout: config.server.request_timeout_ms,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && given.length > 0 && given.length <= 128 ? given : crypto.randomUUID();
    },
  });
  acceptRawBodies(app);
  installErrorHandler(app);
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      {
        method: req.method,
        path: req.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
  });
  const ctx: AppContext = { cluster, catalog, tasks, auth, keys, log };
  registerRoutes(app, ctx);

  cluster.health.start();
  tasks.start();
  await app.listen({ port: config.server.port, host: config.server.bind });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.bind === '0.0.0.0' || config.server.bind === '::' ? '127.0.0.1' : config.server.bind;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url }, 'miroir listening');

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    app,
    cluster,
    close: () =>
      (closed ??= (async () => {
        await app.close();
        await tasks.close();
        await cluster.close();
        await store.close();
      })()),
  };
}
