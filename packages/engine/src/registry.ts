/**
 * The engine's indexes in memory: metadata, the external-id → iid map, statistics and the
 * search structures, mirrored from the store. Mutations are planned first (where user errors
 * are thrown), then written to SQLite in one transaction, then applied in memory, so a failed
 * task changes nothing.
 */
import { defaultSettings, indexNotFound, MeiliError } from '@miroir/protocol';
import type { Settings } from '@miroir/protocol';
import type { Document, SearchCore, SearchCoreFactory } from './ports.js';
import type { Store } from './store.js';

/** One index held by the engine. */
export class EngineIndex {
  readonly id: number;
  uid: string;
  primaryKey: string | null;
  readonly createdAt: string;
  updatedAt: string;
  settings: Settings;
  nextIid: number;
  readonly search: SearchCore;
  /** external document id → iid */
  readonly ids = new Map<string, number>();
  /** field path → number of documents having it */
  readonly fieldDistribution = new Map<string, number>();
  rawDocumentSize = 0;
  readonly #store: Store;

  constructor(store: Store, row: { id: number; uid: string; primaryKey: string | null; createdAt: string; updatedAt: string; settings: Settings; nextIid: number }, factory: SearchCoreFactory) {
    this.#store = store;
    this.id = row.id;
    this.uid = row.uid;
    this.primaryKey = row.primaryKey;
    this.createdAt = row.createdAt;
    this.updatedAt = row.updatedAt;
    this.settings = row.settings;
    this.nextIid = row.nextIid;
    this.search = factory(row.settings, { getDocument: (iid) => this.document(iid) });
  }

  get numberOfDocuments(): number {
    return this.ids.size;
  }

  /** The stored document with this iid. */
  document(iid: number): Document | undefined {
    const body = this.#store.documentBody(this.id, iid);
    return body === undefined ? undefined : (JSON.parse(body) as Document);
  }

  /** Every document, in iid order. */
  *allDocuments(): IterableIterator<[number, Document]> {
    for (const d of this.#store.documents(this.id)) yield [d.iid, JSON.parse(d.body) as Document];
  }

  /** Records a document in the id map, statistics and search structures. */
  track(iid: number, externalId: string, doc: Document, bodyBytes: number): void {
    this.ids.set(externalId, iid);
    this.rawDocumentSize += bodyBytes;
    for (const f of fieldPaths(doc)) this.fieldDistribution.set(f, (this.fieldDistribution.get(f) ?? 0) + 1);
    this.search.add(iid, doc);
  }

  /** Reverses {@link track}. */
  untrack(iid: number, externalId: string, doc: Document, bodyBytes: number): void {
    this.ids.delete(externalId);
    this.rawDocumentSize -= bodyBytes;
    for (const f of fieldPaths(doc)) {
      const n = (this.fieldDistribution.get(f) ?? 0) - 1;
      if (n <= 0) this.fieldDistribution.delete(f);
      else this.fieldDistribution.set(f, n);
    }
    this.search.remove(iid, doc);
  }

  /** Forgets every document (after the store was cleared). */
  untrackAll(): void {
    this.ids.clear();
    this.fieldDistribution.clear();
    this.rawDocumentSize = 0;
    this.search.clear();
  }

  /** `{uid, createdAt, updatedAt, primaryKey}` as `GET /indexes/{uid}` shows it. */
  view(): { uid: string; createdAt: string; updatedAt: string; primaryKey: string | null } {
    return { uid: this.uid, createdAt: this.createdAt, updatedAt: this.updatedAt, primaryKey: this.primaryKey };
  }

  /** Writes the metadata row. */
  persist(): void {
    this.#store.updateIndex({
      id: this.id,
      uid: this.uid,
      primaryKey: this.primaryKey,
      updatedAt: this.updatedAt,
      settings: this.settings,
      nextIid: this.nextIid,
    });
  }
}

/**
 * Field paths of a document as Meilisearch's field distribution counts them: every top-level
 * field plus the dotted path of every nested object field.
 */
export function fieldPaths(doc: Document): string[] {
  const out: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(o)) {
      const p = prefix === '' ? k : `${prefix}.${k}`;
      out.push(p);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) walk(v as Record<string, unknown>, p);
    }
  };
  walk(doc, '');
  return [...new Set(out)];
}

/** Compares uids bytewise, the order in which Meilisearch lists indexes. */
export function compareUids(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** All indexes of the engine, by uid. */
export class Registry {
  readonly #store: Store;
  readonly #factory: SearchCoreFactory;
  readonly #byUid = new Map<string, EngineIndex>();

  constructor(store: Store, factory: SearchCoreFactory) {
    this.#store = store;
    this.#factory = factory;
  }

  /** Drops the in-memory state and loads it again from the store. */
  reload(): void {
    this.#byUid.clear();
    this.load();
  }

  /** Loads every index from the store and rebuilds its search structures. */
  load(): void {
    for (const row of this.#store.listIndexes()) {
      const idx = new EngineIndex(this.#store, row, this.#factory);
      for (const d of this.#store.documents(row.id)) {
        idx.track(d.iid, d.externalId, JSON.parse(d.body) as Document, Buffer.byteLength(d.body));
      }
      this.#byUid.set(row.uid, idx);
    }
  }

  get(uid: string): EngineIndex | undefined {
    return this.#byUid.get(uid);
  }

  /** The index, or the 404 `index_not_found` error. */
  require(uid: string): EngineIndex {
    const idx = this.#byUid.get(uid);
    if (idx === undefined) throw indexNotFound(uid);
    return idx;
  }

  /** Every index, ordered by uid. */
  list(): EngineIndex[] {
    return [...this.#byUid.values()].sort((a, b) => compareUids(a.uid, b.uid));
  }

  /** Creates an index; `index_already_exists` if the uid is taken. */
  create(uid: string, primaryKey: string | null, now: string): EngineIndex {
    if (this.#byUid.has(uid)) throw new MeiliError('index_already_exists', `Index \`${uid}\` already exists.`);
    const settings = defaultSettings();
    const id = this.#store.insertIndex(uid, primaryKey, now, settings);
    const idx = new EngineIndex(this.#store, { id, uid, primaryKey, createdAt: now, updatedAt: now, settings, nextIid: 0 }, this.#factory);
    this.#byUid.set(uid, idx);
    return idx;
  }

  /** Deletes an index and its documents. */
  delete(idx: EngineIndex): void {
    this.#store.deleteIndex(idx.id);
    this.#byUid.delete(idx.uid);
  }

  /** Gives an index a new uid (the target must be free). */
  rename(idx: EngineIndex, newUid: string): void {
    this.#byUid.delete(idx.uid);
    idx.uid = newUid;
    this.#byUid.set(newUid, idx);
  }

  /** Exchanges the uids of two indexes. */
  swap(a: EngineIndex, b: EngineIndex): void {
    const ua = a.uid;
    const ub = b.uid;
    // The uid column is UNIQUE: move one row aside first.
    a.uid = `\u0000swap-${a.id}`;
    a.persist();
    b.uid = ua;
    b.persist();
    a.uid = ub;
    a.persist();
    this.#byUid.set(ua, b);
    this.#byUid.set(ub, a);
  }

  /** Drops the in-memory map (the store stays as it is). */
  forget(uid: string): void {
    this.#byUid.delete(uid);
  }
}
