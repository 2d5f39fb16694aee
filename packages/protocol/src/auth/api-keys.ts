/**
 * Meilisearch's API keys, storage-free: the key record, the default keys a fresh key store gets,
 * how a key is shown (`KeyView`), listed (newest first, paginated) and found (by uid or by value),
 * created and patched. The engine keeps keys in its SQLite table, the orchestrator in its state
 * store; both answer `/keys` with these rules.
 *
 * @see https://www.meilisearch.com/docs/reference/api/keys
 */
import { randomUUID } from 'node:crypto';
import { MeiliError } from '../errors.js';
import { formatRfc3339, invalidParameterError, notPositiveInteger, parseUsize, unknownParameterError } from '../tasks.js';
import { formatExpiration, type CreateKeyBody, type PatchKeyBody } from './key-body.js';
import { parseUuid } from './uuid.js';

/** An API key. Times in microseconds since the epoch. */
export interface ApiKey {
  uid: string;
  name: string | null;
  description: string | null;
  actions: string[];
  indexes: string[];
  expiresAt: number | null;
  /** UTC offset (minutes) `expiresAt` was given with; Meilisearch prints it back that way. */
  expiresOffset: number;
  createdAt: number;
  updatedAt: number;
}

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

/**
 * The keys Meilisearch creates when its key store is empty, in creation order
 * (`generate_default_keys`: chat, read-only admin, admin, search; every index, no expiry).
 */
export const DEFAULT_KEYS: readonly Pick<ApiKey, 'name' | 'description' | 'actions'>[] = [
  { name: 'Default Chat API Key', description: 'Use it to chat and search from the frontend', actions: ['chatCompletions', 'search'] },
  {
    name: 'Default Read-Only Admin API Key',
    description: 'Use it to read information across the whole database. Caution! Do not expose this key on a public frontend',
    actions: ['*.get', 'keys.get'],
  },
  {
    name: 'Default Admin API Key',
    description: 'Use it for anything that is not a search operation. Caution! Do not expose it on a public frontend',
    actions: ['*'],
  },
  { name: 'Default Search API Key', description: 'Use it to search from the frontend', actions: ['search'] },
];

/**
 * A fresh set of default keys with random uids. `nextMicros` must be strictly increasing, so that
 * the listing order (newest first) is the creation order reversed.
 */
export function defaultKeys(nextMicros: () => number): ApiKey[] {
  return DEFAULT_KEYS.map((d) => {
    const now = nextMicros();
    return { ...d, actions: [...d.actions], uid: randomUUID(), indexes: ['*'], expiresAt: null, expiresOffset: 0, createdAt: now, updatedAt: now };
  });
}

/** Renders a key with its value (`secret`: derived from the master key and the uid). */
export function keyView(k: ApiKey, secret: string): KeyView {
  return {
    name: k.name,
    description: k.description,
    key: secret,
    uid: k.uid,
    actions: k.actions,
    indexes: k.indexes,
    expiresAt: k.expiresAt === null ? null : formatExpiration(k.expiresAt, k.expiresOffset),
    createdAt: formatRfc3339(k.createdAt),
    updatedAt: formatRfc3339(k.updatedAt),
  };
}

/** Keys in Meilisearch's listing order: most recently created first (ties by uid, for stability). */
export function listingOrder(keys: Iterable<ApiKey>): ApiKey[] {
  return [...keys].sort((a, b) => b.createdAt - a.createdAt || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
}

const LIST_PARAMS = ['offset', 'limit'];

/** The `offset`/`limit` of `GET /keys` (defaults 0 and 20), with Meilisearch's errors. */
export function parseKeyListQuery(query: Record<string, unknown>): { offset: number; limit: number } {
  let offset = 0;
  let limit = 20;
  for (const [name, value] of Object.entries(query)) {
    if (!LIST_PARAMS.includes(name)) throw unknownParameterError(name, LIST_PARAMS);
    const text = String(Array.isArray(value) ? value[value.length - 1] : value);
    const n = parseUsize(text);
    if (n === undefined) throw invalidParameterError(`invalid_api_key_${name}`, name, notPositiveInteger(text));
    if (name === 'offset') offset = n;
    else limit = n;
  }
  return { offset, limit };
}

/** One page of `GET /keys`, from the keys in listing order. */
export function keyPage(ordered: readonly ApiKey[], query: Record<string, unknown>, secretOf: (uid: string) => string) {
  const { offset, limit } = parseKeyListQuery(query);
  return {
    results: ordered.slice(offset, offset + limit).map((k) => keyView(k, secretOf(k.uid))),
    offset,
    limit,
    total: ordered.length,
  };
}

/**
 * The key `/keys/{key}` names: a uid when the text parses as one, else a key value. Throws
 * Meilisearch's 404 `api_key_not_found` when there is none.
 */
export function findKey(lookup: { byUid(uid: string): ApiKey | undefined; bySecret(secret: string): ApiKey | undefined }, uidOrKey: string): ApiKey {
  const parsed = parseUuid(uidOrKey);
  const key = 'uuid' in parsed ? lookup.byUid(parsed.uuid) : lookup.bySecret(uidOrKey);
  if (key === undefined) {
    throw new MeiliError('api_key_not_found', `API key \`${'uuid' in parsed ? parsed.uuid : uidOrKey}\` not found.`);
  }
  return key;
}

/** Meilisearch's 409 for a `POST /keys` whose `uid` is taken. */
export function apiKeyAlreadyExists(uid: string): MeiliError {
  return new MeiliError('api_key_already_exists', `\`uid\` field value \`${uid}\` is already an existing API key.`);
}

/** The key a validated `POST /keys` body creates (a random uid when the body has none). */
export function newKey(body: CreateKeyBody, nowMicros: number): ApiKey {
  return {
    uid: body.uid ?? randomUUID(),
    name: body.name,
    description: body.description,
    actions: body.actions,
    indexes: body.indexes,
    expiresAt: body.expiresAt?.micros ?? null,
    expiresOffset: body.expiresAt?.offsetMinutes ?? 0,
    createdAt: nowMicros,
    updatedAt: nowMicros,
  };
}

/** A key after a validated `PATCH /keys/{key}` body (name and description only). */
export function patchedKey(key: ApiKey, patch: PatchKeyBody, nowMicros: number): ApiKey {
  return {
    ...key,
    name: patch.name === undefined ? key.name : patch.name,
    description: patch.description === undefined ? key.description : patch.description,
    updatedAt: nowMicros,
  };
}
