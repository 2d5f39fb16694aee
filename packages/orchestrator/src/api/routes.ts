/**
 * Every route Miroir serves, one module per Meilisearch resource plus `/_miroir`.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { registerAdminRoutes } from './admin.js';
import { SESSION_HEADER } from '../guarantees/sessions.js';
import { registerAliasRoutes } from '../aliases/routes.js';
import { registerDocumentRoutes } from './documents.js';
import { registerDumpRoutes } from './dumps.js';
import { registerFieldRoutes } from './fields.js';
import { registerIndexRoutes } from './indexes.js';
import { registerKeyRoutes } from './keys.js';
import { registerMiscRoutes } from './misc.js';
import { registerNetworkRoutes } from './network.js';
import { registerSearchRoutes } from './search.js';
import { registerExplainRoute } from '../reads/explain-route.js';
import { registerTenantRoutes } from '../reads/tenants.js';
import { registerSettingsRoutes } from './settings.js';
import { registerSimilarRoutes } from './similar.js';
import { registerSettingsHeaders } from './settings-consistency.js';
import { registerStatsRoutes } from './stats.js';
import { registerTaskRoutes } from './tasks.js';
import { registerTaskDocumentsRoute } from './task-documents.js';
import { registerUnsupportedRoutes } from './unsupported.js';
import { registerWebhookRoutes } from './webhooks.js';

/** Routes that read documents from the owners of shards: each holds a read ticket (work/fence.ts). */
const FENCED_READS: ReadonlySet<string> = new Set([
  'GET /indexes/:uid/search',
  'POST /indexes/:uid/search',
  'POST /indexes/:uid/facet-search',
  'POST /multi-search',
  'GET /indexes/:uid/similar',
  'POST /indexes/:uid/similar',
  'GET /indexes/:uid/documents',
  'POST /indexes/:uid/documents/fetch',
  'GET /indexes/:uid/documents/:id',
  'POST /indexes/:uid/explain',
]);

/**
 * A read holds a routing ticket until its answer is sent or its connection closes, so a barrier
 * before old owners are cleaned up waits for the reads that may use them.
 */
function fenceReads(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('onRequest', (req, reply, done) => {
    if (FENCED_READS.has(`${req.method} ${req.routeOptions.url}`)) {
      const ticket = ctx.fence.enterRead();
      reply.raw.once('close', () => ctx.fence.leave(ticket));
    }
    done();
  });
}

/**
 * `X-Miroir-Session` (spec S13.6): checked before anything runs, echoed on the answer, on the
 * routes of indexes and `/multi-search` (elsewhere it means nothing and is ignored, as a node
 * ignores it).
 */
function sessionHeader(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.headers[SESSION_HEADER] === undefined) return;
    const url = req.routeOptions.url;
    if (url === undefined || !(url.startsWith('/indexes') || url === '/multi-search')) return;
    const id = ctx.sessions.id(req);
    if (id !== undefined) reply.header(SESSION_HEADER, id);
  });
}

export function registerRoutes(app: FastifyInstance, ctx: AppContext): void {
  fenceReads(app, ctx);
  sessionHeader(app, ctx);
  // First: its hook resolves the aliases a request names before any other route sees the request.
  registerAliasRoutes(app, ctx);
  registerSettingsHeaders(app, ctx);
  registerMiscRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerKeyRoutes(app, ctx);
  registerIndexRoutes(app, ctx);
  registerSettingsRoutes(app, ctx);
  registerDocumentRoutes(app, ctx);
  registerSearchRoutes(app, ctx);
  registerExplainRoute(app, ctx);
  registerTenantRoutes(app, ctx);
  registerFieldRoutes(app, ctx);
  registerSimilarRoutes(app, ctx);
  registerTaskRoutes(app, ctx);
  registerTaskDocumentsRoute(app, ctx);
  registerStatsRoutes(app, ctx);
  registerDumpRoutes(app, ctx);
  registerNetworkRoutes(app, ctx);
  registerWebhookRoutes(app, ctx);
  registerUnsupportedRoutes(app, ctx);
}
