/**
 * `@miroir/engine`: a Meilisearch-compatible search node. {@link startEngine} opens (or creates)
 * a data dir, rebuilds every index in memory from SQLite, resumes the task queue and serves the
 * Meilisearch REST API.
 *
 * @see https://www.meilisearch.com/docs/reference/api/overview
 */
import { FilterError, parseFilter } from '@miroir/filter';
import { documentId, inferPrimaryKey, MeiliError, parseDocumentsPayload, validateDocumentIdValue } from '@miroir/protocol';
import { SearchIndex } from '@miroir/search';
import { Auth } from './auth/index.js';
import type { EngineContext } from './context.js';
import type { DocumentsCodec, FilterSyntaxCheck, SearchCoreFactory } from './ports.js';
import { Processor } from './processor.js';
import { Registry } from './registry.js';
import { registerDocumentRoutes } from './routes/documents.js';
import { registerDumpRoutes } from './routes/dumps.js';
import { registerFieldRoutes } from './routes/fields.js';
import { registerIndexRoutes } from './routes/indexes.js';
import { registerMiscRoutes } from './routes/misc.js';
import { registerSearchRoutes } from './routes/search.js';
import { registerSimilarRoutes } from './routes/similar.js';
import { registerSettingsRoutes } from './routes/settings.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { Webhooks } from './webhooks.js';
import { registerTaskDocumentsRoute } from './routes/task-documents.js';
import { createApp } from './server.js';
import { Store } from './store.js';
import { registerTaskRoutes, TaskQueue } from './tasks/index.js';

export interface EngineOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Directory holding the engine's database (created if missing). */
  dataDir: string;
  /** Master key; without one every route but `/keys` is open. */
  masterKey?: string;
  /** Structured JSON request logs on stdout (default false). */
  logger?: boolean;
}

export interface RunningEngine {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  /** Every route served, as `METHOD /path` (parameters as `:name`), in registration order. */
  readonly routes: readonly string[];
  /** Stops accepting requests, lets the task in progress finish, closes the database. */
  close(): Promise<void>;
}

const searchCore: SearchCoreFactory = (settings, opts) => new SearchIndex(settings, opts);

const codec: DocumentsCodec = { parseDocumentsPayload, inferPrimaryKey, documentId, validateDocumentIdValue };

const checkFilter: FilterSyntaxCheck = (filter, code) => {
  try {
    return parseFilter(filter) !== null;
  } catch (err) {
    if (err instanceof FilterError) throw new MeiliError(code, err.message);
    throw err;
  }
};

function checkOptions(opts: EngineOptions): void {
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new TypeError(`startEngine: \`port\` must be an integer in 0-65535, got ${String(opts.port)}`);
  }
  if (typeof opts.dataDir !== 'string' || opts.dataDir === '') {
    throw new TypeError('startEngine: `dataDir` must be a non-empty path');
  }
  if (opts.host !== undefined && (typeof opts.host !== 'string' || opts.host === '')) {
    throw new TypeError('startEngine: `host` must be a non-empty string');
  }
  if (opts.masterKey !== undefined && typeof opts.masterKey !== 'string') {
    throw new TypeError('startEngine: `masterKey` must be a string');
  }
}

/** Starts an engine node. */
export async function startEngine(opts: EngineOptions): Promise<RunningEngine> {
  checkOptions(opts);
  const store = new Store(opts.dataDir);
  const registry = new Registry(store, searchCore);
  registry.load();
  const processor = new Processor(store, registry, codec);
  const queue: TaskQueue = new TaskQueue(store.db, (task): Record<string, unknown> | undefined => processor.process(task, queue.payload(task.uid)));
  const auth = new Auth(store.db, opts.masterKey);
  const ctx: EngineContext = { store, registry, processor, queue, auth, codec, checkFilter };

  const app = await createApp({ logger: opts.logger ?? false, auth });
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) routes.push(`${m} ${r.url}`);
  });
  registerMiscRoutes(app, ctx);
  registerIndexRoutes(app, ctx);
  registerDocumentRoutes(app, ctx);
  registerSettingsRoutes(app, ctx);
  registerFieldRoutes(app, ctx);
  registerSearchRoutes(app, ctx);
  registerSimilarRoutes(app, ctx);
  registerDumpRoutes(app, ctx);
  const webhooks = new Webhooks(store);
  registerWebhookRoutes(app, webhooks);
  // Calls run in the background, one batch after the other: webhooks see tasks in order.
  let calls = Promise.resolve();
  queue.onFinished((tasks) => {
    calls = calls.then(() => webhooks.notify(tasks));
  });
  registerTaskRoutes(app, queue, auth);
  registerTaskDocumentsRoute(app, ctx);
  auth.registerKeyRoutes(app);

  const host = opts.host ?? '127.0.0.1';
  try {
    await app.listen({ port: opts.port, host });
  } catch (err) {
    store.close();
    throw err;
  }
  queue.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    routes,
    close() {
      closing ??= (async () => {
        await app.close();
        await queue.close();
        store.close();
      })();
      return closing;
    },
  };
}
