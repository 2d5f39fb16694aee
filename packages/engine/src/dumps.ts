/**
 * Dumps and snapshots, as the `dumpCreation` and `snapshotCreation` tasks produce them.
 *
 * - A dump is `dumps/{dumpUid}.dump` under the data dir: a gzipped tar in the layout of a
 *   Meilisearch v6 dump (`metadata.json`, `keys.jsonl`, `tasks/queue.jsonl`, and per index
 *   `indexes/{uid}/metadata.json`, `settings.json`, `documents.jsonl`). The dump uid is the start
 *   time as Meilisearch formats it (`YYYYMMDD-HHMMSSmmm`).
 * - A snapshot is `snapshots/data.ms.snapshot` under the data dir: a consistent copy of the whole
 *   database (SQLite `VACUUM INTO`), replaced by each new snapshot, as Meilisearch replaces its own.
 *
 * @see https://www.meilisearch.com/docs/reference/api/dump
 * @see https://www.meilisearch.com/docs/reference/api/snapshots
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Registry } from './registry.js';
import type { Store } from './store.js';
import { MEILISEARCH_COMPATIBLE_VERSION } from './routes/misc.js';

/** The dump uid of a dump started at `date` (UTC): `20250102-030405678`. */
export function dumpUid(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}${p(date.getUTCMilliseconds(), 3)}`
  );
}

/** One ustar header block for a regular file. */
function tarHeader(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, at: number, len: number) => h.write(s, at, len, 'utf8');
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  // Names longer than 100 bytes go to the ustar prefix field (split at a slash).
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  put(base, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(octal(sum, 7) + ' ', 148, 8);
  return h;
}

/** A tar archive of the given files (in order). */
function tar(files: readonly [name: string, body: Buffer][], mtime: number): Buffer {
  const parts: Buffer[] = [];
  for (const [name, body] of files) {
    parts.push(tarHeader(name, body.length, mtime), body);
    const pad = (512 - (body.length % 512)) % 512;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const jsonl = (rows: Iterable<unknown>): Buffer => {
  const lines: string[] = [];
  for (const r of rows) lines.push(JSON.stringify(r));
  return Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
};

/** The directory holding the database: dumps and snapshots go below it. */
export function dataDirOf(store: Store): string {
  return dirname(store.path);
}

/** Writes a dump of everything the engine holds; returns its uid. */
export function writeDump(store: Store, registry: Registry, started: Date): string {
  const uid = dumpUid(started);
  const mtime = Math.floor(started.getTime() / 1000);
  const files: [string, Buffer][] = [
    ['metadata.json', Buffer.from(JSON.stringify({ dumpVersion: 'V6', dbVersion: MEILISEARCH_COMPATIBLE_VERSION, dumpDate: started.toISOString() }))],
    ['keys.jsonl', jsonl(store.db.prepare('SELECT * FROM auth_keys ORDER BY created_at, uid').iterate())],
    ['tasks/queue.jsonl', jsonl(store.db.prepare('SELECT * FROM tasks ORDER BY uid').iterate())],
  ];
  for (const idx of registry.list()) {
    const dir = `indexes/${idx.uid}`;
    files.push(
      [`${dir}/metadata.json`, Buffer.from(JSON.stringify({ uid: idx.uid, primaryKey: idx.primaryKey, createdAt: idx.createdAt, updatedAt: idx.updatedAt }))],
      [`${dir}/settings.json`, Buffer.from(JSON.stringify(idx.settings))],
      [`${dir}/documents.jsonl`, jsonl((function* () {
        for (const [, doc] of idx.allDocuments()) yield doc;
      })())],
    );
  }
  const dir = join(dataDirOf(store), 'dumps');
  mkdirSync(dir, { recursive: true });
  // Written aside, then renamed: a dump file is complete or absent.
  const tmp = join(dir, `.${uid}.dump.tmp`);
  writeFileSync(tmp, gzipSync(tar(files, mtime)));
  renameSync(tmp, join(dir, `${uid}.dump`));
  return uid;
}

/** Replaces `snapshots/data.ms.snapshot` with a consistent copy of the database. */
export function writeSnapshot(store: Store): void {
  const dir = join(dataDirOf(store), 'snapshots');
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, '.data.ms.snapshot.tmp');
  rmSync(tmp, { force: true });
  store.db.prepare('VACUUM INTO ?').run(tmp);
  renameSync(tmp, join(dir, 'data.ms.snapshot'));
}
