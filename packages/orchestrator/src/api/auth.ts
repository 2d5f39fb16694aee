/**
 * Bearer dispatch (spec S5.5, without the search-UI JWT part): the admin key for `/_miroir/*`; for
 * the client API, Meilisearch's own decision (`authorize` of `@miroir/protocol`, the code the engine
 * runs) with Miroir's master key and the cluster's API keys (api/keys.ts), so every auth answer
 * (status, code, message) is the one a single node gives. Nodes are always reached with the node
 * master key, never with a client's credential.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { OPEN_CONTEXT, authorize, invalidApiKey } from '@miroir/protocol';
import type { AuthContext, KeyGrant, KeyLookup } from '@miroir/protocol';
import { miroirError } from '../errors.js';

/** What an authenticated request may touch. */
export type Access = AuthContext;

/** The master key's access: every index, no search rules. */
export const FULL_ACCESS: Access = OPEN_CONTEXT;

/** The cluster's API keys as this process knows them. */
export interface KeySource {
  /** The keys known now (no I/O). */
  current(): KeyLookup;
  /** Re-reads the keys when the copy is older than `maxAgeMs`; whether it did. */
  refreshIfOlder(maxAgeMs: number): Promise<boolean>;
}

/**
 * How long a copy of the keys is trusted without a `keys_changed` event: a change made by another
 * orchestrator whose event was lost reaches this one within this time.
 */
const KEYS_MAX_AGE_MS = 10_000;
/**
 * An unknown credential re-reads the keys at once (one store read, shared by concurrent requests):
 * a key created through another orchestrator works here before its event arrives.
 */
const MISS_REFRESH_MS = 0;

const NO_KEYS: KeyLookup = { byUid: () => undefined, bySecret: () => undefined, secretOf: () => undefined };

/**
 * The bearer token, '' for a bare `Bearer`, or undefined when there is no header or it uses
 * another scheme.
 */
export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer(?:\s+(.*))?$/i.exec(h.trim());
  return m ? (m[1] ?? '').trim() : undefined;
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Per request, the aliases it named: resolved index uid → the alias name the client used. */
const addressed = new WeakMap<FastifyRequest, Map<string, string>>();

/**
 * Records that the request named `uid` through the alias `name` (aliases/routes.ts): its key is
 * then checked, and its tenant token's search rules applied, for the name the client used when
 * the key covers it, else for the index itself.
 */
export function noteAlias(req: FastifyRequest, name: string, uid: string): void {
  let m = addressed.get(req);
  if (m === undefined) addressed.set(req, (m = new Map()));
  m.set(uid, name);
}

/** `access` deciding on `name` wherever it is asked about `uid`. */
function addressedAs(access: Access, uid: string, name: string): Access {
  const as = (u: string) => (u === uid ? name : u);
  return {
    allIndexes: access.allIndexes,
    allowsIndex: (u) => access.allowsIndex(as(u)),
    searchFilter: (u) => access.searchFilter(as(u)),
    allowIndexCreation: (u) => access.allowIndexCreation(as(u)),
  };
}

export class Authenticator {
  readonly #masterKey: string;
  readonly #adminKey: string;
  readonly #keys: KeySource | undefined;
  /** The route-level decision of each `/multi-search` request, reused by its queries. */
  readonly #multiSearch = new WeakMap<FastifyRequest, Promise<Access>>();

  /** `resolver`: where the API keys come from (none: only the master key opens the API). */
  constructor(opts: { masterKey: string; adminKey: string; resolver?: KeySource }) {
    this.#masterKey = opts.masterKey;
    this.#adminKey = opts.adminKey;
    this.#keys = opts.resolver;
  }

  get open(): boolean {
    return this.#masterKey === '';
  }

  /**
   * Client API: whether the request's `Authorization` header allows `action` (on `indexUid` when
   * the route names one). Throws Meilisearch's `missing_authorization_header`,
   * `missing_master_key` or `invalid_api_key` errors.
   */
  async client(req: FastifyRequest, action: string, indexUid: string | null): Promise<Access> {
    const alias = indexUid === null ? undefined : addressed.get(req)?.get(indexUid);
    if (alias !== undefined) {
      const byName = await this.#client(req, action, alias).catch(() => undefined);
      return byName !== undefined ? addressedAs(byName, indexUid!, alias) : this.#client(req, action, indexUid);
    }
    return this.#client(req, action, indexUid);
  }

  async #client(req: FastifyRequest, action: string, indexUid: string | null): Promise<Access> {
    const header = req.headers.authorization;
    const source = this.#keys;
    if (source === undefined) return authorize({ masterKey: this.#masterKey, keys: NO_KEYS }, header, action, indexUid);
    let consulted = false;
    let missed = false;
    const note = <T>(found: T | undefined): T | undefined => {
      consulted = true;
      if (found === undefined) missed = true;
      return found;
    };
    const decide = (): Access => {
      const keys = source.current();
      const tracked: KeyLookup = {
        byUid: (uid): KeyGrant | undefined => note(keys.byUid(uid)),
        bySecret: (secret): KeyGrant | undefined => note(keys.bySecret(secret)),
        secretOf: (uid): string | undefined => note(keys.secretOf(uid)),
      };
      return authorize({ masterKey: this.#masterKey, keys: tracked }, header, action, indexUid);
    };
    // Decide on the cached keys; re-read them when they were consulted and are old, or when the
    // credential was unknown (it may be a key created through another orchestrator), then decide again.
    let access: Access | undefined;
    let refusal: unknown;
    try {
      access = decide();
    } catch (e) {
      refusal = e;
    }
    const settled = (): Access => {
      if (access === undefined) throw refusal;
      return access;
    };
    if (!consulted) return settled();
    let refreshed: boolean;
    try {
      refreshed = await source.refreshIfOlder(access === undefined && missed ? MISS_REFRESH_MS : KEYS_MAX_AGE_MS);
    } catch (e) {
      // The store cannot be read. Every key change goes through it, so none is being missed while
      // it is away: a decision on keys this process holds stands. A credential refused for want of
      // a key this process does not hold cannot be decided: the store's failure is the answer (503).
      if (access === undefined && missed) throw e;
      return settled();
    }
    if (!refreshed) return settled();
    return decide();
  }

  /**
   * `/multi-search` is authorized once for `search`, with no index, before its body is read (as one
   * node does); the decision is kept for the request's queries.
   */
  multiSearch(req: FastifyRequest): Promise<Access> {
    let route = this.#multiSearch.get(req);
    if (route === undefined) {
      route = this.client(req, 'search', null);
      this.#multiSearch.set(req, route);
    }
    return route;
  }

  /**
   * One query of a `/multi-search`: its index checked against the route's access. An uncovered
   * index gets the generic `invalid_api_key`, which the route prefixes with the query's position.
   */
  async multiSearchQuery(req: FastifyRequest, indexUid: string): Promise<Access> {
    const access = await this.multiSearch(req);
    const alias = addressed.get(req)?.get(indexUid);
    if (alias !== undefined && access.allowsIndex(alias)) return addressedAs(access, indexUid, alias);
    if (!access.allowsIndex(indexUid)) throw invalidApiKey();
    return access;
  }

  /**
   * `POST /indexes/{uid}/explain` (spec S13.20): Miroir's admin key (`operator`, who sees every
   * warning), else a key that may both search the index and read its settings — what an explain
   * reveals — such as the master key or Meilisearch's Default Admin API Key (`client`).
   * Meilisearch's errors otherwise.
   */
  async explain(req: FastifyRequest, indexUid: string): Promise<'operator' | 'client'> {
    try {
      this.admin(req);
      return 'operator';
    } catch {
      await this.client(req, 'search', indexUid);
      await this.client(req, 'settings.get', indexUid);
      return 'client';
    }
  }

  /** `/_miroir/*`: the admin key (bearer or `X-Admin-Key`); open only when no key at all is set. */
  admin(req: FastifyRequest): void {
    const expected = this.#adminKey || this.#masterKey;
    if (expected === '') return;
    const header = req.headers['x-admin-key'];
    const token = typeof header === 'string' ? header : bearer(req);
    if (token === undefined || token === '' || !safeEqual(token, expected)) {
      throw miroirError('miroir_invalid_auth', 'The admin API requires the admin key (`Authorization: Bearer <key>` or `X-Admin-Key`).');
    }
  }
}
