/**
 * Applies one task to the indexes and returns its final `details`. Every user error is thrown
 * before anything is written, and all writes of a task happen in one SQLite transaction, so a
 * failed task changes nothing (a batch with one invalid document fails whole).
 *
 * @see https://www.meilisearch.com/docs/reference/api/async-task-management/get-task
 */
import { validateVectors } from '@miroir/search';
import { applySettingsPatch, formatRfc3339, MeiliError } from '@miroir/protocol';
import type { SettingsPatch } from '@miroir/protocol';
import type { Document, DocumentsCodec, QueuedTask } from './ports.js';
import { compareUids } from './registry.js';
import type { EngineIndex, Registry } from './registry.js';
import type { Store } from './store.js';
import { writeDump, writeSnapshot } from './dumps.js';
import { nowMicros } from './tasks/index.js';

/** Now, as Meilisearch prints dates (RFC 3339, UTC, sub-second digits trimmed). */
function now(): string {
  return formatRfc3339(nowMicros());
}

/** Payload of a `documentAdditionOrUpdate` task. */
export interface DocumentsPayload {
  method: 'replace' | 'update';
  primaryKey?: string;
  skipCreation?: boolean;
  /** False when the caller's key may not create the index (it must then exist). */
  allowIndexCreation?: boolean;
  documents: Document[];
}

/** Payload of a `settingsUpdate` task. */
export interface SettingsPayload {
  patch: SettingsPatch;
  allowIndexCreation?: boolean;
}

/** Payload of a `documentDeletion` task. */
export type DeletionPayload =
  | { kind: 'ids'; ids: string[] }
  | { kind: 'filter'; filter: unknown }
  | { kind: 'all' };

/** Payload of an `indexCreation` / `indexUpdate` task. */
export interface IndexPayload {
  primaryKey?: string | null;
  uid?: string;
}

export interface SwapEntry {
  indexes: [string, string];
  rename: boolean;
}

/**
 * Meta key of the last applied task and its details, written in the task's own transaction: a
 * task the queue re-runs after a crash that happened once its changes were committed is not
 * applied twice (an index creation would otherwise fail with `index_already_exists`).
 */
export const LAST_APPLIED_KEY = 'lastAppliedTask';

export class Processor {
  readonly #store: Store;
  readonly #registry: Registry;
  readonly #codec: DocumentsCodec;
  /** uid of the index the task in progress works on (for `isIndexing`). */
  current: string | null = null;
  /** Set once a task starts changing state: a failure after that point reloads from the store. */
  #mutating = false;

  constructor(store: Store, registry: Registry, codec: DocumentsCodec) {
    this.#store = store;
    this.#registry = registry;
    this.#codec = codec;
  }

  /**
   * Applies `task` (its payload decoded from JSON) and returns its final details (undefined: the
   * task has none, as a snapshot creation).
   */
  process(task: QueuedTask, payload: Buffer | string | undefined): Record<string, unknown> | undefined {
    // Dumps and snapshots read everything and change nothing: no transaction (a snapshot copies
    // the database with `VACUUM INTO`, which cannot run inside one).
    if (task.type === 'dumpCreation') return { ...(task.details ?? {}), dumpUid: writeDump(this.#store, this.#registry, new Date()) };
    if (task.type === 'snapshotCreation') {
      writeSnapshot(this.#store);
      return undefined;
    }
    const applied = this.#store.getMeta(LAST_APPLIED_KEY);
    if (applied !== undefined) {
      const last = JSON.parse(applied) as { uid: number; details: Record<string, unknown> };
      if (last.uid === task.uid) return last.details;
    }
    const data: unknown = payload === undefined ? undefined : JSON.parse(payload.toString());
    const details = { ...(task.details ?? {}) };
    const uid = task.indexUid;
    this.current = uid;
    const created: string[] = [];
    this.#mutating = false;
    try {
      return this.#store.transaction(() => {
        const result = this.#apply(task.type, uid, data, details, created);
        this.#store.setMeta(LAST_APPLIED_KEY, JSON.stringify({ uid: task.uid, details: result }));
        return result;
      });
    } catch (err) {
      // The transaction rolled back: forget indexes created in memory by this task and, if the
      // failure came after changes began (an unexpected error), rebuild memory from the store.
      for (const c of created) this.#registry.forget(c);
      if (this.#mutating) this.#registry.reload();
      throw err;
    } finally {
      this.current = null;
    }
  }

  #apply(type: string, uid: string | null, data: unknown, details: Record<string, unknown>, created: string[]): Record<string, unknown> {
    const date = now();
    const getOrCreate = (u: string): EngineIndex => {
      const existing = this.#registry.get(u);
      if (existing !== undefined) return existing;
      created.push(u);
      return this.#registry.create(u, null, date);
    };
    switch (type) {
      case 'indexCreation': {
        const p = (data ?? {}) as IndexPayload;
        this.#registry.create(uid!, p.primaryKey ?? null, date);
        return details;
      }
      case 'indexUpdate':
        return this.#updateIndex(this.#registry.require(uid!), (data ?? {}) as IndexPayload, details, date);
      case 'indexDeletion': {
        const idx = this.#registry.require(uid!);
        const n = idx.numberOfDocuments;
        this.#registry.delete(idx);
        return { ...details, deletedDocuments: n };
      }
      case 'indexSwap':
        this.#swap((details.swaps ?? []) as SwapEntry[], date);
        return details;
      case 'documentAdditionOrUpdate': {
        const p = data as DocumentsPayload;
        const idx = p.allowIndexCreation === false ? this.#registry.require(uid!) : getOrCreate(uid!);
        const n = this.#addDocuments(idx, p, date);
        // Buffered additions move into the word lists now: the cost belongs to the task, not to
        // the next search.
        idx.search.flush();
        return { ...details, indexedDocuments: n };
      }
      case 'documentDeletion': {
        const idx = this.#registry.require(uid!);
        const n = this.#deleteDocuments(idx, data as DeletionPayload, date);
        return { ...details, deletedDocuments: n };
      }
      case 'settingsUpdate': {
        const p = data as SettingsPayload;
        const idx = p.allowIndexCreation === false ? this.#registry.require(uid!) : getOrCreate(uid!);
        const previous = idx.settings;
        const next = applySettingsPatch(previous, p.patch);
        this.#mutating = true;
        try {
          idx.search.setSettings(next, idx.allDocuments());
        } catch (err) {
          // Leave the search structures as they were: the task fails and changes nothing.
          idx.search.setSettings(previous, idx.allDocuments());
          throw err;
        }
        idx.settings = next;
        idx.updatedAt = date;
        idx.persist();
        return details;
      }
      default:
        throw new MeiliError('internal', `Task type \`${type}\` cannot be processed by this engine.`);
    }
  }

  #updateIndex(idx: EngineIndex, p: IndexPayload, details: Record<string, unknown>, now: string): Record<string, unknown> {
    const newPk = p.primaryKey !== undefined && p.primaryKey !== null && p.primaryKey !== idx.primaryKey ? p.primaryKey : null;
    if (newPk !== null && idx.numberOfDocuments > 0 && idx.primaryKey !== null) {
      throw new MeiliError('index_primary_key_already_exists', `Index already has a primary key: \`${idx.primaryKey}\`.`);
    }
    const newUid = p.uid !== undefined && p.uid !== idx.uid ? p.uid : null;
    if (newUid !== null && this.#registry.get(newUid) !== undefined) {
      throw new MeiliError('index_already_exists', `Index \`${newUid}\` already exists.`);
    }
    this.#mutating = true;
    if (newPk !== null) idx.primaryKey = newPk;
    if (newUid !== null) this.#registry.rename(idx, newUid);
    idx.updatedAt = now;
    idx.persist();
    return details;
  }

  #swap(swaps: SwapEntry[], now: string): void {
    // Reported sorted and de-duplicated (Meilisearch collects them in a BTreeSet).
    const missingSet = new Set<string>();
    for (const s of swaps) {
      const [a, b] = s.indexes;
      if (this.#registry.get(a) === undefined) missingSet.add(a);
      if (!s.rename && this.#registry.get(b) === undefined) missingSet.add(b);
    }
    const missing = [...missingSet].sort(compareUids);
    if (missing.length === 1) throw new MeiliError('index_not_found', `Index \`${missing[0]}\` not found.`);
    if (missing.length > 1) throw new MeiliError('index_not_found', `Indexes \`${missing.join('`, `')}\` not found.`);
    for (const s of swaps) {
      if (s.rename && this.#registry.get(s.indexes[1]) !== undefined) {
        throw new MeiliError('index_already_exists', `Index \`${s.indexes[1]}\` already exists.`);
      }
    }
    this.#mutating = true;
    for (const s of swaps) {
      const [a, b] = s.indexes;
      const ia = this.#registry.require(a);
      if (s.rename) {
        this.#registry.rename(ia, b);
        ia.updatedAt = now;
        ia.persist();
      } else {
        const ib = this.#registry.require(b);
        ia.updatedAt = now;
        ib.updatedAt = now;
        this.#registry.swap(ia, ib);
      }
    }
  }

  /** Validates every document, then writes them all. Returns the number of documents indexed. */
  #addDocuments(idx: EngineIndex, p: DocumentsPayload, now: string): number {
    const docs = p.documents;
    let pk = idx.primaryKey;
    if (p.primaryKey !== undefined) {
      if (pk !== null && pk !== p.primaryKey) {
        throw new MeiliError('index_primary_key_already_exists', `Index already has a primary key: \`${pk}\`.`);
      }
      pk = p.primaryKey;
    }
    if (docs.length === 0) return 0;
    if (pk === null) pk = this.#codec.inferPrimaryKey(docs[0]);

    // Plan: resolve every id first (any invalid document fails the whole task).
    const planned = new Map<string, Document>();
    for (const doc of docs) {
      const id = this.#codec.documentId(doc, pk);
      validateVectors(doc, idx.settings.embedders, id);
      const prev = planned.get(id);
      planned.set(id, p.method === 'update' && prev !== undefined ? { ...prev, ...doc } : doc);
    }

    this.#mutating = true;
    if (idx.primaryKey !== pk) idx.primaryKey = pk;
    for (const [id, doc] of planned) {
      const iid = idx.ids.get(id);
      if (iid === undefined) {
        if (p.skipCreation === true) continue;
        const newIid = idx.nextIid++;
        const body = JSON.stringify(doc);
        this.#store.putDocument(idx.id, newIid, id, body);
        idx.track(newIid, id, doc, Buffer.byteLength(body));
        continue;
      }
      const oldBody = this.#store.documentBody(idx.id, iid)!;
      const old = JSON.parse(oldBody) as Document;
      const next = p.method === 'update' ? { ...old, ...doc } : doc;
      const body = JSON.stringify(next);
      this.#store.putDocument(idx.id, iid, id, body);
      idx.untrack(iid, id, old, Buffer.byteLength(oldBody));
      idx.track(iid, id, next, Buffer.byteLength(body));
    }
    idx.updatedAt = now;
    idx.persist();
    return docs.length;
  }

  #deleteDocuments(idx: EngineIndex, p: DeletionPayload, now: string): number {
    let iids: number[];
    if (p.kind === 'all') {
      this.#mutating = true;
      const n = idx.numberOfDocuments;
      this.#store.clearDocuments(idx.id);
      idx.untrackAll();
      idx.updatedAt = now;
      idx.persist();
      return n;
    }
    const externalOf = new Map<number, string>();
    if (p.kind === 'ids') {
      iids = [];
      for (const id of p.ids) {
        const iid = idx.ids.get(id);
        if (iid !== undefined && !externalOf.has(iid)) {
          iids.push(iid);
          externalOf.set(iid, id);
        }
      }
    } else {
      iids = idx.search.filter(p.filter, 'invalid_document_filter', idx.uid);
      if (iids.length > 0) for (const [ext, iid] of idx.ids) externalOf.set(iid, ext);
    }
    this.#mutating = true;
    for (const iid of iids) {
      const body = this.#store.documentBody(idx.id, iid);
      if (body === undefined) continue;
      this.#store.deleteDocument(idx.id, iid);
      idx.untrack(iid, externalOf.get(iid)!, JSON.parse(body) as Document, Buffer.byteLength(body));
    }
    idx.updatedAt = now;
    idx.persist();
    return iids.length;
  }
}
