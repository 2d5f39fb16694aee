/**
 * `/health`, `/version`, `/experimental-features`.
 *
 * @see https://www.meilisearch.com/docs/reference/api/health/get-health
 */
import type { FastifyInstance } from 'fastify';
import { invalidTypeError, isJsonObject, unknownFieldError } from '@miroir/protocol';
import type { EngineContext } from '../context.js';
import { jsonBody } from '../http.js';

/**
 * The Meilisearch version whose behaviour the engine reproduces (default ranking rules with
 * `attributeRank`/`wordPosition`, `disableOnNumbers`, `prefixSearch`, …).
 */
export const MEILISEARCH_COMPATIBLE_VERSION = '1.37.0';

/** Meilisearch's runtime-togglable experimental features, in its order. */
export const EXPERIMENTAL_FEATURES = [
  'metrics',
  'logsRoute',
  'editDocumentsByFunction',
  'containsFilter',
  'network',
  'getTaskDocumentsRoute',
  'compositeEmbedders',
  'chatCompletions',
  'multimodal',
  'vectorStoreSetting',
] as const;

const FEATURES_KEY = 'experimentalFeatures';

/** Current experimental features (all off on a fresh data dir). */
export function readFeatures(ctx: EngineContext): Record<string, boolean> {
  const stored = JSON.parse(ctx.store.getMeta(FEATURES_KEY) ?? '{}') as Record<string, boolean>;
  const out: Record<string, boolean> = {};
  for (const f of EXPERIMENTAL_FEATURES) out[f] = stored[f] === true;
  return out;
}

export function registerMiscRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.get('/health', async () => ({ status: 'available' }));

  app.get('/version', { config: { action: 'version' } }, async () => ({
    commitSha: 'unknown',
    commitDate: 'unknown',
    pkgVersion: MEILISEARCH_COMPATIBLE_VERSION,
  }));

  app.get('/experimental-features', { config: { action: 'experimental.get' } }, async () => readFeatures(ctx));

  app.patch('/experimental-features', { config: { action: 'experimental.update' } }, async (req) => {
    const body = jsonBody(req);
    if (!isJsonObject(body)) throw invalidTypeError('bad_request', '', 'an object', body);
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
