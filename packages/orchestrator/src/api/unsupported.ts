/**
 * Meilisearch routes Miroir does not serve over a sharded fleet yet (spec S5.1 "unlisted routes"):
 * a clear 501 `miroir_not_supported`, rather than a node's partial answer.
 */
import type { FastifyInstance } from 'fastify';
import { miroirError } from '../errors.js';
import type { AppContext } from './context.js';

/** Each route with the key action Meilisearch guards it with, so that a key is judged as one node judges it. */
const ROUTES: readonly [method: 'GET' | 'POST' | 'PATCH', path: string, action: string, what: string][] = [
  ['POST', '/export', 'export', 'Export'],
  ['POST', '/tasks/compact', 'tasks.compact', 'Task queue compaction'],
  ['POST', '/indexes/:uid/documents/edit', 'documents.*', 'Editing documents by function'],
  ['POST', '/indexes/:uid/compact', 'indexes.compact', 'Index compaction'],
];

export function registerUnsupportedRoutes(app: FastifyInstance, ctx: AppContext): void {
  for (const [method, url, action, what] of ROUTES) {
    app.route({
      method,
      url,
      handler: async (req) => {
        const uid = (req.params as { uid?: string }).uid ?? null;
        await ctx.auth.client(req, action, uid);
        throw miroirError('miroir_not_supported', `${what} is not supported by Miroir yet.`);
      },
    });
  }
}

