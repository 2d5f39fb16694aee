/**
 * API keys through Miroir (spec S9, key model B): the cluster has one key set, kept in the state
 * store, and Miroir answers `/keys` and decides every credential itself, with the rules one
 * Meilisearch node applies (`@miroir/protocol`). A key's value is derived from Miroir's master key
 * and the uid, as a node derives it from its own master key, so clients never see node keys and
 * the nodes (which Miroir reaches with the node master key) hold none of the cluster's keys.
 *
 * The set is seeded once, by the first orchestrator that needs it, with Meilisearch's default keys;
 * every change is a compare-and-set on its version, then a `keys_changed` event that makes the
 * other orchestrators re-read it.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  apiKeyAlreadyExists,
  defaultKeys,
  deriveKey,
  findKey,
  keyPage,
  keyView,
  listingOrder,
  newKey,
  parseCreateKey,
  parsePatchKey,
  patchedKey,
  nowMicros,
} from '@miroir/protocol';
import type { ApiKey, KeyLookup } from '@miroir/protocol';
import type { Cluster } from '../cluster.js';
import type { AppContext } from './context.js';
import type { ApiKeySet, StateStore } from '../state/store.js';
import type { KeySource } from './auth.js';
import { jsonBody } from './http.js';

/** A loaded key set, indexed by uid and by value. */
export class KeyBook {
  /** The version of the stored set this book was built from (0: none yet). */
  readonly version: number;
  readonly ordered: ApiKey[];
  readonly #byUid: Map<string, ApiKey>;
  readonly #bySecret: Map<string, ApiKey>;

  constructor(version: number, keys: readonly ApiKey[], secretOf: (uid: string) => string) {
    this.version = version;
    this.ordered = listingOrder(keys);
    this.#byUid = new Map(keys.map((k) => [k.uid, k]));
    // Without a master key there are no key values (and `/keys` answers `missing_master_key`).
    this.#bySecret = new Map(keys.map((k) => [secretOf(k.uid), k] as const).filter(([secret]) => secret !== ''));
  }

  byUid(uid: string): ApiKey | undefined {
    return this.#byUid.get(uid);
  }

  bySecret(secret: string): ApiKey | undefined {
    return this.#bySecret.get(secret);
  }
}

/** Microseconds since the epoch, strictly past `after` (so creation order is listing order). */
function micros(after: number): number {
  return Math.max(nowMicros(), after + 1);
}

/** The cluster's key set: read from the store, kept for a while, changed by compare-and-set. */
export class KeyCache implements KeySource {
  readonly #store: StateStore;
  readonly #masterKey: string;
  #book: KeyBook;
  #loadedAt = 0;
  /** Bumped by every key change: a read begun before it is stale. */
  #generation = 0;
  #loading: { generation: number; done: Promise<KeyBook> } | undefined;
  readonly #lookup: KeyLookup = {
    byUid: (uid) => this.#book.byUid(uid),
    bySecret: (secret) => this.#book.bySecret(secret),
    // Meilisearch derives the signing secret of any uid from its master key, listed or not.
    secretOf: (uid) => this.secretOf(uid),
  };

  constructor(cluster: Cluster) {
    this.#store = cluster.store;
    this.#masterKey = cluster.config.master_key;
    this.#book = new KeyBook(0, [], (uid) => this.secretOf(uid));
  }

  /** The value of the key with this uid (what a node with Miroir's master key would show). */
  secretOf(uid: string): string {
    return this.#masterKey === '' ? '' : deriveKey(this.#masterKey, uid);
  }

  /** Forgets the age of the cache: the next credential check re-reads the keys. */
  invalidate(): void {
    this.#generation++;
    this.#loadedAt = 0;
  }

  current(): KeyLookup {
    return this.#lookup;
  }

  async refreshIfOlder(maxAgeMs: number): Promise<boolean> {
    if (Date.now() - this.#loadedAt < maxAgeMs) return false;
    await this.load();
    return true;
  }

  /** The key set as the store holds it now (concurrent callers share one read). */
  async load(): Promise<KeyBook> {
    if (this.#loading === undefined || this.#loading.generation !== this.#generation) {
      const generation = this.#generation;
      const loading = { generation, done: this.#read(generation) };
      this.#loading = loading;
      void loading.done
        .finally(() => {
          if (this.#loading === loading) this.#loading = undefined;
        })
        .catch(() => {});
    }
    return this.#loading.done;
  }

  async #read(generation: number): Promise<KeyBook> {
    const set = await this.#stored();
    // An unchanged set keeps its book (no key value is derived again).
    const book = set.version === this.#book.version ? this.#book : new KeyBook(set.version, set.keys, (uid) => this.secretOf(uid));
    if (generation === this.#generation) {
      this.#book = book;
      this.#loadedAt = Date.now();
    }
    return book;
  }

  /** The stored set; the first reader of an empty store records Meilisearch's default keys. */
  async #stored(): Promise<ApiKeySet> {
    for (;;) {
      const set = await this.#store.getApiKeys();
      if (set !== undefined) return set;
      let last = 0;
      const seed = { version: 1, keys: defaultKeys(() => (last = micros(last))) };
      if (await this.#store.putApiKeys(seed, null)) return seed;
    }
  }

  /**
   * Applies `change` to the stored set (retried on a concurrent writer: `change` must be pure),
   * then tells every orchestrator. `change` returns the new keys and its answer, or throws a
   * Meilisearch error that leaves the set as it was.
   */
  async update<T>(change: (book: KeyBook, nowMicros: number) => { keys: ApiKey[]; answer: T }): Promise<T> {
    for (;;) {
      const set = await this.#stored();
      const latest = set.keys.reduce((m, k) => Math.max(m, k.createdAt, k.updatedAt), 0);
      const { keys, answer } = change(new KeyBook(set.version, set.keys, (uid) => this.secretOf(uid)), micros(latest));
      if (await this.#store.putApiKeys({ version: set.version + 1, keys }, set.version)) {
        this.invalidate();
        await this.#store.publish({ kind: 'keys_changed' });
        return answer;
      }
    }
  }
}

export function registerKeyRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { keys } = ctx;
  const param = (req: { params: unknown }) => (req.params as { key: string }).key;
  const view = (k: ApiKey) => keyView(k, keys.secretOf(k.uid));

  app.get('/keys', async (req) => {
    await ctx.auth.client(req, 'keys.get', null);
    const book = await keys.load();
    return keyPage(book.ordered, req.query as Record<string, unknown>, (uid) => keys.secretOf(uid));
  });

  app.get('/keys/:key', async (req) => {
    await ctx.auth.client(req, 'keys.get', null);
    return view(findKey(await keys.load(), param(req)));
  });

  app.post('/keys', async (req, reply) => {
    await ctx.auth.client(req, 'keys.create', null);
    const parsed = parseCreateKey(jsonBody(req), nowMicros());
    const body = { ...parsed, uid: parsed.uid ?? randomUUID() };
    const created = await keys.update((book, now) => {
      const key = newKey(body, now);
      if (book.byUid(key.uid) !== undefined) throw apiKeyAlreadyExists(key.uid);
      return { keys: [...book.ordered, key], answer: key };
    });
    return reply.code(201).send(view(created));
  });

  app.patch('/keys/:key', async (req) => {
    await ctx.auth.client(req, 'keys.update', null);
    const patch = parsePatchKey(jsonBody(req));
    const updated = await keys.update((book, now) => {
      const key = patchedKey(findKey(book, param(req)), patch, now);
      return { keys: book.ordered.map((k) => (k.uid === key.uid ? key : k)), answer: key };
    });
    return view(updated);
  });

  app.delete('/keys/:key', async (req, reply) => {
    await ctx.auth.client(req, 'keys.delete', null);
    await keys.update((book) => {
      const gone = findKey(book, param(req));
      return { keys: book.ordered.filter((k) => k.uid !== gone.uid), answer: gone };
    });
    return reply.code(204).send();
  });
}
