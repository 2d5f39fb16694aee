/**
 * API keys, persisted in the shared SQLite database. A key's secret is never stored: it is
 * `hex(HMAC-SHA256(masterKey, uid))`, so every node started with the same master key derives the
 * same secret for a uid (Meilisearch's `generate_key_as_hexa`).
 */
import type Database from 'better-sqlite3';
import { defaultKeys, deriveKey, listingOrder } from '@miroir/protocol';
import type { ApiKey } from '@miroir/protocol';
import { nextMicros } from '../tasks/clock.js';

export type { ApiKey };

interface KeyRow {
  uid: string;
  name: string | null;
  description: string | null;
  actions: string;
  indexes: string;
  expires_at: number | null;
  expires_offset: number;
  created_at: number;
  updated_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS auth_keys (
  uid TEXT PRIMARY KEY,
  name TEXT,
  description TEXT,
  actions TEXT NOT NULL,
  indexes TEXT NOT NULL,
  expires_at INTEGER,
  expires_offset INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
`;

function toKey(r: KeyRow): ApiKey {
  return {
    uid: r.uid,
    name: r.name,
    description: r.description,
    actions: JSON.parse(r.actions) as string[],
    indexes: JSON.parse(r.indexes) as string[],
    expiresAt: r.expires_at,
    expiresOffset: r.expires_offset,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The key table, with an in-memory index from secret to uid. */
export class KeyStore {
  readonly #masterKey: string | undefined;
  readonly #keys = new Map<string, ApiKey>();
  #bySecret: Map<string, string> | null = null;
  #s;

  constructor(db: Database.Database, masterKey: string | undefined) {
    this.#masterKey = masterKey;
    db.exec(SCHEMA);
    this.#s = {
      all: db.prepare<[], KeyRow>('SELECT * FROM auth_keys'),
      put: db.prepare(
        `INSERT OR REPLACE INTO auth_keys (uid, name, description, actions, indexes, expires_at, expires_offset, created_at, updated_at)
         VALUES (@uid, @name, @description, @actions, @indexes, @expires_at, @expires_offset, @created_at, @updated_at)`,
      ),
      delete: db.prepare('DELETE FROM auth_keys WHERE uid = ?'),
    };
    for (const row of this.#s.all.all()) {
      const k = toKey(row);
      this.#keys.set(k.uid, k);
    }
    if (this.#keys.size === 0) {
      db.transaction(() => {
        for (const k of defaultKeys(nextMicros)) this.put(k);
      })();
    }
  }

  /** The secret of a key (empty without a master key, as Meilisearch shows it). */
  secret(uid: string): string {
    return this.#masterKey === undefined ? '' : deriveKey(this.#masterKey, uid);
  }

  get(uid: string): ApiKey | undefined {
    return this.#keys.get(uid);
  }

  /** The key whose secret is `secret`, if any. */
  bySecret(secret: string): ApiKey | undefined {
    if (this.#masterKey === undefined) return undefined;
    if (this.#bySecret === null) {
      this.#bySecret = new Map();
      for (const uid of this.#keys.keys()) this.#bySecret.set(this.secret(uid), uid);
    }
    const uid = this.#bySecret.get(secret);
    return uid === undefined ? undefined : this.#keys.get(uid);
  }

  /** All keys, most recently created first (Meilisearch's listing order). */
  list(): ApiKey[] {
    return listingOrder(this.#keys.values());
  }

  put(k: ApiKey): void {
    this.#s.put.run({
      uid: k.uid,
      name: k.name,
      description: k.description,
      actions: JSON.stringify(k.actions),
      indexes: JSON.stringify(k.indexes),
      expires_at: k.expiresAt,
      expires_offset: k.expiresOffset,
      created_at: k.createdAt,
      updated_at: k.updatedAt,
    });
    if (!this.#keys.has(k.uid)) this.#bySecret = null;
    this.#keys.set(k.uid, k);
  }

  delete(uid: string): boolean {
    const existed = this.#keys.delete(uid);
    if (existed) {
      this.#s.delete.run(uid);
      this.#bySecret = null;
    }
    return existed;
  }
}
