/**
 * `/keys`: create (201), list (paginated), get, update (`name`/`description` only) and delete
 * (204) API keys, by uid or by key secret.
 *
 * @see https://www.meilisearch.com/docs/reference/api/keys
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { MeiliError, formatRfc3339, notPositiveInteger, parseUsize, unknownParameterError, invalidParameterError, parseUuid } from '@miroir/protocol';
import { nextMicros, nowMicros } from '../tasks/clock.js';
import type { Auth } from './auth.js';
import { jsonBody } from '../http.js';
import { meiliRoute } from './http.js';
import { formatExpiration, parseCreateKey, parsePatchKey } from './key-body.js';
import type { ApiKey, KeyStore } from './key-store.js';

/** A key as the API shows it (Meilisearch's `KeyView` field order). */
export interface KeyView {
  name: string | null;
  description: string | null;
  key: string;
  uid: string;
  actions: string[];
  indexes: string[];
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Renders a key. */
export function keyView(k: ApiKey, keys: KeyStore): KeyView {
  return {
    name: k.name,
    description: k.description,
    key: keys.secret(k.uid),
    uid: k.uid,
    actions: k.actions,
    indexes: k.indexes,
    expiresAt: k.expiresAt === null ? null : formatExpiration(k.expiresAt, k.expiresOffset),
    createdAt: formatRfc3339(k.createdAt),
    updatedAt: formatRfc3339(k.updatedAt),
  };
}

/** Finds a key by uid or by secret; 404 `api_key_not_found` otherwise. */
function findKey(keys: KeyStore, uidOrKey: string): ApiKey {
  const parsed = parseUuid(uidOrKey);
  const key = 'uuid' in parsed ? keys.get(parsed.uuid) : keys.bySecret(uidOrKey);
  if (key === undefined) {
    throw new MeiliError('api_key_not_found', `API key \`${'uuid' in parsed ? parsed.uuid : uidOrKey}\` not found.`);
  }
  return key;
}

// Each route declares its key action in `config.action`: an app that authorizes in an `onRequest`
// hook then checks the key before the body is read, as Meilisearch does. The handlers authorize
// again, so the routes stay closed in an app without that hook.
const LIST_PARAMS = ['offset', 'limit'];

/** Registers the `/keys` routes of an `Auth`. */
export function registerKeyRoutes(app: FastifyInstance, auth: Auth): void {
  const keys = auth.keys;
  const keyParam = (params: unknown): string => (params as { key?: string }).key ?? '';

  app.post(
    '/keys',
    { config: { action: 'keys.create' } },
    meiliRoute((req, reply) => {
      auth.authorize(req.headers.authorization, 'keys.create', null);
      const body = parseCreateKey(jsonBody(req), nowMicros());
      const uid = body.uid ?? randomUUID();
      if (keys.get(uid) !== undefined) {
        throw new MeiliError('api_key_already_exists', `\`uid\` field value \`${uid}\` is already an existing API key.`);
      }
      const now = nextMicros();
      const key: ApiKey = {
        uid,
        name: body.name,
        description: body.description,
        actions: body.actions,
        indexes: body.indexes,
        expiresAt: body.expiresAt?.micros ?? null,
        expiresOffset: body.expiresAt?.offsetMinutes ?? 0,
        createdAt: now,
        updatedAt: now,
      };
      keys.put(key);
      return reply.code(201).send(keyView(key, keys));
    }),
  );

  app.get(
    '/keys',
    { config: { action: 'keys.get' } },
    meiliRoute((req) => {
      auth.authorize(req.headers.authorization, 'keys.get', null);
      let offset = 0;
      let limit = 20;
      for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) {
        if (!LIST_PARAMS.includes(name)) throw unknownParameterError(name, LIST_PARAMS);
        const text = String(Array.isArray(value) ? value[value.length - 1] : value);
        const n = parseUsize(text);
        if (n === undefined) throw invalidParameterError(`invalid_api_key_${name}`, name, notPositiveInteger(text));
        if (name === 'offset') offset = n;
        else limit = n;
      }
      const all = keys.list();
      return {
        results: all.slice(offset, offset + limit).map((k) => keyView(k, keys)),
        offset,
        limit,
        total: all.length,
      };
    }),
  );

  app.get(
    '/keys/:key',
    { config: { action: 'keys.get' } },
    meiliRoute((req) => {
      auth.authorize(req.headers.authorization, 'keys.get', null);
      return keyView(findKey(keys, keyParam(req.params)), keys);
    }),
  );

  app.patch(
    '/keys/:key',
    { config: { action: 'keys.update' } },
    meiliRoute((req) => {
      auth.authorize(req.headers.authorization, 'keys.update', null);
      const patch = parsePatchKey(jsonBody(req));
      const key = { ...findKey(keys, keyParam(req.params)) };
      if (patch.name !== undefined) key.name = patch.name;
      if (patch.description !== undefined) key.description = patch.description;
      key.updatedAt = nextMicros();
      keys.put(key);
      return keyView(key, keys);
    }),
  );

  app.delete(
    '/keys/:key',
    { config: { action: 'keys.delete' } },
    meiliRoute((req, reply) => {
      auth.authorize(req.headers.authorization, 'keys.delete', null);
      const key = findKey(keys, keyParam(req.params));
      keys.delete(key.uid);
      return reply.code(204).send();
    }),
  );
}
