/**
 * `/health`, `/version`, `/experimental-features`.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../main.js';
import { broadcast, firstAnswer } from './fanout.js';
import { jsonBody } from './http.js';

/**
 * Whether the experimental feature `flag` is on: the nodes hold the features (every change is
 * broadcast to them), so one node's answer is the cluster's.
 */
export async function nodeFeatureOn(ctx: AppContext, flag: string): Promise<boolean> {
  const features = await firstAnswer<Record<string, unknown>>(ctx.cluster, { method: 'GET', path: '/experimental-features' });
  return features[flag] === true;
}

export function registerMiscRoutes(app: FastifyInstance, ctx: AppContext): void {
  /** Liveness: answered by Miroir itself, never proxied (spec S10.1). */
  app.get('/health', async () => ({ status: 'available' }));

  app.get('/version', async (req) => {
    await ctx.auth.client(req, 'version', null);
    return firstAnswer(ctx.cluster, { method: 'GET', path: '/version' });
  });

  app.get('/experimental-features', async (req) => {
    await ctx.auth.client(req, 'experimental.get', null);
    return firstAnswer(ctx.cluster, { method: 'GET', path: '/experimental-features' });
  });

  /** Broadcast: every node must run with the same features, or merged answers would differ. */
  app.patch('/experimental-features', async (req) => {
    await ctx.auth.client(req, 'experimental.update', null);
    const body = jsonBody(req);
    const answers = await broadcast(ctx.cluster, { method: 'PATCH', path: '/experimental-features', body });
    return answers[0]!.body;
  });
}
