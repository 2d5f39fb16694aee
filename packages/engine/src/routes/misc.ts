/**
 * `/health`, `/version`, `/experimental-features`.
 *
 * @see https://www.meilisearch.com/docs/reference/api/health/get-health
 */
import type { FastifyInstance } from 'fastify';
import { invalidTypeError, unknownFieldError } from '@miroir/protocol';
import type { EngineContext } from '../context.js';
import { EXPERIMENTAL_FEATURES, FEATURES_KEY, readFeatures } from '../features.js';
import { objectBody } from '../http.js';

/**
 * The Meilisearch version whose behaviour the engine reproduces (default ranking rules with
 * `attributeRank`/`wordPosition`, `disableOnNumbers`, `prefixSearch`, …).
 */
export const MEILISEARCH_COMPATIBLE_VERSION = '1.37.0';

export function registerMiscRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.get('/health', async () => ({ status: 'available' }));

  app.get('/version', { config: { action: 'version' } }, async () => ({
    commitSha: 'unknown',
    commitDate: 'unknown',
    pkgVersion: MEILISEARCH_COMPATIBLE_VERSION,
  }));

  app.get('/experimental-features', { config: { action: 'experimental.get' } }, async () => readFeatures(ctx));

  app.patch('/experimental-features', { config: { action: 'experimental.update' } }, async (req) => {
    const body = objectBody(req);
    const next = readFeatures(ctx);
    for (const [k, v] of Object.entries(body)) {
      if (!(EXPERIMENTAL_FEATURES as readonly string[]).includes(k)) throw unknownFieldError('bad_request', '', k, EXPERIMENTAL_FEATURES);
      if (v === null) continue;
      if (typeof v !== 'boolean') throw invalidTypeError('bad_request', `.${k}`, 'a boolean', v);
      next[k] = v;
    }
    ctx.store.setMeta(FEATURES_KEY, JSON.stringify(next));
    return next;
  });
}
