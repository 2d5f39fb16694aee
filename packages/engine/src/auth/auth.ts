/**
 * Authorization of every request for one engine: Meilisearch's decision (shared with the
 * orchestrator in `@miroir/protocol`) over this engine's key table.
 *
 * @see https://www.meilisearch.com/docs/learn/security/basic_security
 */
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { authorize } from '@miroir/protocol';
import type { AuthContext, AuthPolicy } from '@miroir/protocol';
import { nowMicros } from '../tasks/clock.js';
import { registerKeyRoutes } from './key-routes.js';
import { KeyStore } from './key-store.js';

/** API keys and authorization for one engine. */
export class Auth {
  readonly #masterKey: string | undefined;
  readonly #keys: KeyStore;
  readonly #policy: AuthPolicy;

  /** Creates the key table (and Meilisearch's default keys when it is empty). */
  constructor(db: Database.Database, masterKey?: string) {
    this.#masterKey = masterKey === '' ? undefined : masterKey;
    const keys = new KeyStore(db, this.#masterKey);
    this.#keys = keys;
    this.#policy = {
      masterKey: this.#masterKey,
      keys: { byUid: (uid) => keys.get(uid), bySecret: (s) => keys.bySecret(s), secretOf: (uid) => keys.secret(uid) },
      nowMicros,
    };
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
    return authorize(this.#policy, authorization, action, indexUid);
  }

  /** Registers `/keys` and `/keys/:key` (create, list, get, update, delete). */
  registerKeyRoutes(app: FastifyInstance): void {
    registerKeyRoutes(app, this);
  }
}
