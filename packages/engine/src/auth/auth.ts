/**
 * Authorization of every request, as Meilisearch's `GuardedData`/`ActionPolicy` do it: the
 * master key, API keys (actions with wildcards, index patterns, expiry) and tenant tokens on
 * search routes. Errors carry Meilisearch's codes and texts.
 *
 * @see https://www.meilisearch.com/docs/learn/security/basic_security
 */
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { MeiliError } from '@miroir/protocol';
import { nowMicros } from '../tasks/clock.js';
import { expandActions, isAction, isKeysAction } from './actions.js';
import type { AuthContext } from './context.js';
import { OPEN_CONTEXT } from './context.js';
import { anyPatternMatches } from './index-pattern.js';
import { registerKeyRoutes } from './key-routes.js';
import { KeyStore } from './key-store.js';
import type { ApiKey } from './key-store.js';
import {
  readTenantClaims,
  rulesAllow,
  rulesAllowAll,
  rulesFilter,
  rulesPatterns,
  verifyTenantSignature,
} from './tenant-token.js';
import type { SearchRules } from './tenant-token.js';

const MISSING_HEADER = 'The Authorization header is missing. It must use the bearer authorization method.';
const MISSING_MASTER_KEY =
  'Meilisearch is running without a master key. To access this API endpoint, you must have set a master key at launch.';
const INVALID_KEY = 'The provided API key is invalid.';

function invalidApiKey(message: string = INVALID_KEY): MeiliError {
  return new MeiliError('invalid_api_key', message);
}

/** Rust's `{:?}` of a `Vec<String>`: `["a", "b"]`. */
function debugList(xs: readonly string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
}

/** The permissions of a key, optionally narrowed by a tenant token's rules. */
class KeyContext implements AuthContext {
  readonly allIndexes: boolean;
  readonly #key: ApiKey;
  readonly #rules: SearchRules | null;
  readonly #canCreate: boolean;

  constructor(key: ApiKey, rules: SearchRules | null, canCreate: boolean) {
    this.#key = key;
    this.#rules = rules;
    this.#canCreate = canCreate;
    this.allIndexes = key.indexes.includes('*') && (rules === null || rulesAllowAll(rules));
  }

  allowsIndex(uid: string): boolean {
    return anyPatternMatches(this.#key.indexes, uid) && (this.#rules === null || rulesAllow(this.#rules, uid));
  }

  searchFilter(indexUid: string): unknown | null {
    if (!this.allowsIndex(indexUid) || this.#rules === null) return null;
    return rulesFilter(this.#rules, indexUid);
  }

  allowIndexCreation(uid: string): boolean {
    return this.#canCreate && this.allowsIndex(uid);
  }
}

/** API keys and authorization for one engine. */
export class Auth {
  readonly #masterKey: string | undefined;
  readonly #keys: KeyStore;
  readonly #expanded = new WeakMap<ApiKey, ReadonlySet<string>>();

  /** Creates the key table (and Meilisearch's default keys when it is empty). */
  constructor(db: Database.Database, masterKey?: string) {
    this.#masterKey = masterKey === '' ? undefined : masterKey;
    this.#keys = new KeyStore(db, this.#masterKey);
  }

  /** The key store (for the `/keys` routes). */
  get keys(): KeyStore {
    return this.#keys;
  }

  /** Whether a master key protects this engine. */
  get hasMasterKey(): boolean {
    return this.#masterKey !== undefined;
  }

  /**
   * Checks that the `Authorization` header allows `action` (on `indexUid`, when the route has
   * one). Returns what the caller may see; throws `missing_authorization_header` (401),
   * `missing_master_key` (401) or `invalid_api_key` (403).
   */
  authorize(authorization: string | undefined, action: string, indexUid: string | null): AuthContext {
    if (!isAction(action)) throw new MeiliError('internal', `Invalid action \`${action}\`.`);
    let token: string | null = null;
    if (authorization !== undefined) {
      // actix splits the header once on a space: the scheme must be exactly `Bearer`.
      const space = authorization.indexOf(' ');
      const scheme = space === -1 ? authorization : authorization.slice(0, space);
      if (scheme !== 'Bearer') throw new MeiliError('missing_authorization_header', MISSING_HEADER);
      if (space === -1) throw invalidApiKey();
      token = authorization.slice(space + 1);
    }
    if (this.#masterKey === undefined) {
      if (!isKeysAction(action)) return OPEN_CONTEXT;
      throw new MeiliError('missing_master_key', MISSING_MASTER_KEY);
    }
    if (token === null) throw new MeiliError('missing_authorization_header', MISSING_HEADER);
    if (token === this.#masterKey) return OPEN_CONTEXT;
    return this.#authorizeToken(token, action, indexUid);
  }

  #authorizeToken(token: string, action: string, indexUid: string | null): AuthContext {
    let key: ApiKey | undefined;
    let rules: SearchRules | null = null;
    if (action === 'search' || action === 'chatCompletions') {
      const claims = readTenantClaims(token);
      if ('notAToken' in claims) {
        if (!claims.notAToken) throw invalidApiKey(`Could not decode tenant token, ${claims.message}.`);
      } else {
        const failure = verifyTenantSignature(token, claims.alg, this.#keys.secret(claims.apiKeyUid));
        if (failure !== null) throw invalidApiKey(`Could not decode tenant token, ${failure}.`);
        if (claims.exp !== null) {
          const now = Math.floor(Date.now() / 1000);
          if (now > claims.exp) throw invalidApiKey(`Tenant token expired. Was valid up to \`${claims.exp}\` and we're now \`${now}\`.`);
        }
        key = this.#keys.get(claims.apiKeyUid);
        if (key === undefined) throw invalidApiKey();
        rules = claims.searchRules;
      }
    }
    key ??= this.#keys.bySecret(token);
    if (key === undefined) throw invalidApiKey();

    if (indexUid !== null) {
      if (rules !== null && !rulesAllow(rules, indexUid)) {
        throw invalidApiKey(
          `The provided tenant token cannot acces the index \`${indexUid}\`, allowed indexes are ${debugList(rulesPatterns(rules))}.`,
        );
      }
      if (!anyPatternMatches(key.indexes, indexUid)) {
        if (rules !== null) throw invalidApiKey(`The API key used to generate this tenant token cannot acces the index \`${indexUid}\`.`);
        throw invalidApiKey(
          `The API key cannot acces the index \`${indexUid}\`, authorized indexes are ${debugList([...new Set(key.indexes)].sort())}.`,
        );
      }
    }
    if (!this.#grants(key, action)) throw invalidApiKey();
    return new KeyContext(key, rules, this.#grants(key, 'indexes.create'));
  }

  #grants(key: ApiKey, action: string): boolean {
    let actions = this.#expanded.get(key);
    if (actions === undefined) {
      actions = expandActions(key.actions);
      this.#expanded.set(key, actions);
    }
    return actions.has(action) && (key.expiresAt === null || nowMicros() < key.expiresAt);
  }

  /** Registers `/keys` and `/keys/:key` (create, list, get, update, delete). */
  registerKeyRoutes(app: FastifyInstance): void {
    registerKeyRoutes(app, this);
  }
}
