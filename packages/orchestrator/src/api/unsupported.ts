/**
 * Meilisearch routes Miroir does not serve over a sharded fleet yet (spec S5.1 "unlisted routes"):
 * a clear 501 `miroir_not_supported`, rather than a node's partial answer.
 */
import type { FastifyInstance } from 'fastify';
import { miroirError } from '../errors.js';
import type { AppContext } from '../main.js';

const ROUTES: readonly [method: 'GET' | 'POST' | 'PATCH', path: string, what: string][] = [
  ['POST', '/export', 'Export'],
  ['POST', '/tasks/compact', 'Task queue compaction'],
  ['POST', '/indexes/:uid/documents/edit', 'Editing documents by function'],
  ['POST', '/indexes/:uid/compact', 'Index compaction'],
];

export function registerUnsupportedRoutes(app: FastifyInstance, ctx: AppContext): void {
  for (const [method, url, what] of ROUTES) {
    app.route({
      method,
      url,
      handler: async (req) => {
        const uid = (req.params as { uid?: string }).uid ?? null;
        await ctx.auth.client(req, ACTIONS[`${method} ${url}`] ?? '*', uid);
        throw miroirError('miroir_not_supported', `${what} is not supported by Miroir yet.`);
      },
    });
  }
}

/** The key action Meilisearch guards each route with, so that a key is judged as one node judges it. */
const ACTIONS: Readonly<Record<string, string>> = {
  'POST /dumps': 'dumps.create',
  'POST /snapshots': 'snapshots.create',
  'POST /export': 'export',
  'GET /network': 'network.get',
  'PATCH /network': 'network.update',
  'POST /tasks/compact': 'tasks.compact',
  'GET /indexes/:uid/similar': 'search',
  'POST /indexes/:uid/similar': 'search',
  'POST /indexes/:uid/documents/edit': 'documents.*',
  'POST /indexes/:uid/compact': 'indexes.compact',
  'POST /indexes/:uid/fields': 'fields.post',
};
