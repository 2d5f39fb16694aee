/**
 * The engine's durable state in one SQLite database under the data dir.
 *
 * Why SQLite (better-sqlite3): it is synchronous (no callback interleaving while a task mutates
 * an index), transactional (a failed task changes nothing), a fast single writer (the task queue
 * applies one task at a time anyway) and runs in-process, with no extra server to manage. The
 * search structures are not stored: they are rebuilt in memory from the documents at start.
 *
 * The task queue and the key store keep their own tables in the same database (`db`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Settings } from '@miroir/protocol';

/** One index row. `id` is an internal, never-reused key so renames and swaps touch one row. */
export interface IndexRow {
  id: number;
  uid: string;
  primaryKey: string | null;
  createdAt: string;
  updatedAt: string;
  settings: Settings;
  nextIid: number;
}

/** One stored document. */
export interface DocumentRow {
  iid: number;
  externalId: string;
  body: string;
}

interface RawIndexRow {
  id: number;
  uid: string;
  primary_key: string | null;
  created_at: string;
  updated_at: string;
  settings: string;
  next_iid: number;
}

/** Documents read per query when iterating a whole index. */
const DOCUMENT_PAGE = 2000;

/** File name of the database inside the data dir. */
export const DATABASE_FILE = 'engine.sqlite';

/** Typed access to the engine's tables; every statement is prepared once. */
export class Store {
  readonly db: Database.Database;
  readonly path: string;
  #stmts;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, DATABASE_FILE);
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only an OS crash may lose the
    // last transactions, which is the trade-off Meilisearch's LMDB setup also makes.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS engine_indexes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL UNIQUE,
        primary_key TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        settings TEXT NOT NULL,
        next_iid INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS engine_documents (
        index_id INTEGER NOT NULL,
        iid INTEGER NOT NULL,
        external_id TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (index_id, iid),
        UNIQUE (index_id, external_id)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS engine_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `);
    const db = this.db;
    this.#stmts = {
      listIndexes: db.prepare<[], RawIndexRow>('SELECT * FROM engine_indexes ORDER BY uid'),
      insertIndex: db.prepare<[string, string | null, string, string, string]>(
        'INSERT INTO engine_indexes (uid, primary_key, created_at, updated_at, settings, next_iid) VALUES (?, ?, ?, ?, ?, 0)',
      ),
      updateIndex: db.prepare<[string, string | null, string, string, number, number]>(
        'UPDATE engine_indexes SET uid = ?, primary_key = ?, updated_at = ?, settings = ?, next_iid = ? WHERE id = ?',
      ),
      deleteIndex: db.prepare<[number]>('DELETE FROM engine_indexes WHERE id = ?'),
      deleteIndexDocs: db.prepare<[number]>('DELETE FROM engine_documents WHERE index_id = ?'),
      docsAfter: db.prepare<[number, number, number], { iid: number; external_id: string; body: string }>(
        'SELECT iid, external_id, body FROM engine_documents WHERE index_id = ? AND iid > ? ORDER BY iid LIMIT ?',
      ),
      docPage: db.prepare<[number, number, number], { iid: number; body: string }>(
        'SELECT iid, body FROM engine_documents WHERE index_id = ? ORDER BY iid LIMIT ? OFFSET ?',
      ),
      docByIid: db.prepare<[number, number], { body: string }>(
        'SELECT body FROM engine_documents WHERE index_id = ? AND iid = ?',
      ),
      upsertDoc: db.prepare<[number, number, string, string]>(
        'INSERT INTO engine_documents (index_id, iid, external_id, body) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (index_id, iid) DO UPDATE SET body = excluded.body',
      ),
      deleteDoc: db.prepare<[number, number]>('DELETE FROM engine_documents WHERE index_id = ? AND iid = ?'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM engine_meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>(
        'INSERT INTO engine_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  /** Runs `fn` in one transaction (all or nothing). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  listIndexes(): IndexRow[] {
    return this.#stmts.listIndexes.all().map((r) => ({
      id: r.id,
      uid: r.uid,
      primaryKey: r.primary_key,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      settings: JSON.parse(r.settings) as Settings,
      nextIid: r.next_iid,
    }));
  }

  /** Inserts an index row and returns its internal id. */
  insertIndex(uid: string, primaryKey: string | null, createdAt: string, settings: Settings): number {
    const info = this.#stmts.insertIndex.run(uid, primaryKey, createdAt, createdAt, JSON.stringify(settings));
    return Number(info.lastInsertRowid);
  }

  updateIndex(row: Omit<IndexRow, 'createdAt'>): void {
    this.#stmts.updateIndex.run(row.uid, row.primaryKey, row.updatedAt, JSON.stringify(row.settings), row.nextIid, row.id);
  }

  deleteIndex(id: number): void {
    this.#stmts.deleteIndexDocs.run(id);
    this.#stmts.deleteIndex.run(id);
  }

  clearDocuments(indexId: number): void {
    this.#stmts.deleteIndexDocs.run(indexId);
  }

  /**
   * Every document of an index in iid order, read in pages: no statement stays open between
   * pages, so the caller may run other statements (e.g. fetch a document) while iterating.
   */
  *documents(indexId: number): IterableIterator<DocumentRow> {
    let after = -1;
    for (;;) {
      const page = this.#stmts.docsAfter.all(indexId, after, DOCUMENT_PAGE);
      for (const r of page) yield { iid: r.iid, externalId: r.external_id, body: r.body };
      if (page.length < DOCUMENT_PAGE) return;
      after = page[page.length - 1].iid;
    }
  }

  /** A page of documents in iid order. */
  documentPage(indexId: number, offset: number, limit: number): { iid: number; body: string }[] {
    return this.#stmts.docPage.all(indexId, limit, offset);
  }

  documentBody(indexId: number, iid: number): string | undefined {
    return this.#stmts.docByIid.get(indexId, iid)?.body;
  }

  putDocument(indexId: number, iid: number, externalId: string, body: string): void {
    this.#stmts.upsertDoc.run(indexId, iid, externalId, body);
  }

  deleteDocument(indexId: number, iid: number): void {
    this.#stmts.deleteDoc.run(indexId, iid);
  }

  getMeta(key: string): string | undefined {
    return this.#stmts.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.#stmts.setMeta.run(key, value);
  }

  /** Bytes in use inside the database file (pages minus free pages). */
  usedBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
