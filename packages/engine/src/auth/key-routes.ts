/**
 * `/keys`: create (201), list (paginated), get, update (`name`/`description` only) and delete
 * (204) API keys, by uid or by key secret. The rules are `@miroir/protocol`'s (the orchestrator
 * answers `/keys` with the same ones); this file binds them to the engine's key table.
 *
 * @see https://www.meilisearch.com/docs/reference/api/keys
 */
import type { FastifyInstance } from 'fastify';
import { apiKeyAlreadyExists, findKey, keyPage, keyView as renderKey, newKey, parseCreateKey, parsePatchKey, patchedKey } from '@miroir/protocol';
import type { ApiKey, KeyView } from '@miroir/protocol';
import { nextMicros, nowMicros } from '../tasks/clock.js';
import type { Auth } from './auth.js';
import { jsonBody } from '../http.js';
import { meiliRoute } from './http.js';
import type { KeyStore } from './key-store.js';

export type { KeyView };

/** Renders a key of this engine. */
export function keyView(k: ApiKey, keys: KeyStore): KeyView {
  return renderKey(k, keys.secret(k.uid));
}

// Each route declares its key action in `config.action`: an app that authorizes in an `onRequest`
// hook then checks the key before the body is read, as Meilisearch does. The handlers authorize
// again, so the routes stay closed in an app without that hook.

/** Registers the `/keys` routes of an `Auth`. */
export function registerKeyRoutes(app: FastifyInstance, auth: Auth): void {
  const keys = auth.keys;
  const lookup = { byUid: (uid: string) => keys.get(uid), bySecret: (secret: string) => keys.bySecret(secret) };
  const keyParam = (params: unknown): string => (params as { key?: string }).key ?? '';

  app.post(
    '/keys',
    { config: { action: 'keys.create' } },
    meiliRoute((req, reply) => {
      auth.authorize(req.headers.authorization, 'keys.create', null);
      const body = parseCreateKey(jsonBody(req), nowMicros());
      const key = newKey(body, nextMicros());
      if (keys.get(key.uid) !== undefined) throw apiKeyAlreadyExists(key.uid);
      keys.put(key);
      return reply.code(201).send(keyView(key, keys));
    }),
  );

  app.get(
    '/keys',
    { config: { action: 'keys.get' } },
    meiliRoute((req) => {
      auth.authorize(req.headers.authorization, 'keys.get', null);
      return keyPage(keys.list(), req.query as Record<string, unknown>, (uid) => keys.secret(uid));
    }),
  );

  app.get(
    '/keys/:key',
    { config: { action: 'keys.get' } },
    meiliRoute((req) => {
      auth.authorize(req.headers.authorization, 'keys.get', null);
      return keyView(findKey(lookup, keyParam(req.params)), keys);
    }),
  );

  app.patch(
    '/keys/:key',
    { config: { action: 'keys.update' } },
    meiliRoute((req) => {
      auth.authorize(req.headers.authorization, 'keys.update', null);
      const patch = parsePatchKey(jsonBody(req));
      const key = patchedKey(findKey(lookup, keyParam(req.params)), patch, nextMicros());
      keys.put(key);
      return keyView(key, keys);
    }),
  );

  app.delete(
    '/keys/:key',
    { config: { action: 'keys.delete' } },
    meiliRoute((req, reply) => {
      auth.authorize(req.headers.authorization, 'keys.delete', null);
      const key = findKey(lookup, keyParam(req.params));
      keys.delete(key.uid);
      return reply.code(204).send();
    }),
  );
}
