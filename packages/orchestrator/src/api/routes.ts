/**
 * Every route Miroir serves, one module per Meilisearch resource plus `/_miroir`.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../main.js';
import { registerAdminRoutes } from './admin.js';
import { registerDocumentRoutes } from './documents.js';
import { registerDumpRoutes } from './dumps.js';
import { registerFieldRoutes } from './fields.js';
import { registerIndexRoutes } from './indexes.js';
import { registerKeyRoutes } from './keys.js';
import { registerMiscRoutes } from './misc.js';
import { registerNetworkRoutes } from './network.js';
import { registerSearchRoutes } from './search.js';
import { registerSettingsRoutes } from './settings.js';
import { registerSimilarRoutes } from './similar.js';
import { registerSettingsHeaders } from './settings-consistency.js';
import { registerStatsRoutes } from './stats.js';
import { registerTaskRoutes } from './tasks.js';
import { registerTaskDocumentsRoute } from './task-documents.js';
import { registerUnsupportedRoutes } from './unsupported.js';
import { registerWebhookRoutes } from './webhooks.js';

export function registerRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerSettingsHeaders(app, ctx);
  registerMiscRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerKeyRoutes(app, ctx);
  registerIndexRoutes(app, ctx);
  registerSettingsRoutes(app, ctx);
  registerDocumentRoutes(app, ctx);
  registerSearchRoutes(app, ctx);
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
