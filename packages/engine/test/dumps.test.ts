/**
 * `POST /dumps` and `POST /snapshots`: the task each enqueues, the files they write, and the
 * authorization they need, through the official client.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { Meilisearch } from 'meilisearch';
import { startTestEngine, type TestEngine } from './helpers.js';

const MASTER = 'dumps-master-key';
let e: TestEngine;

before(async () => {
  e = await startTestEngine({ masterKey: MASTER });
  await e.client.createIndex('movies', { primaryKey: 'id' }).waitTask();
  await e.client.index('movies').addDocuments([{ id: 1, title: 'Alien' }, { id: 2, title: 'Heat' }]).waitTask();
});
after(async () => e?.close());

test('a dump: the task, its dumpUid and the archive under the data dir', async () => {
  const enqueued = await e.client.createDump();
  assert.equal(enqueued.type, 'dumpCreation');
  assert.equal(enqueued.indexUid, null);
  const pending = await e.client.tasks.getTask(enqueued.taskUid);
  assert.deepEqual(pending.details === undefined ? undefined : Object.keys(pending.details), ['dumpUid']);
  const task = await e.client.tasks.waitForTask(enqueued.taskUid);
  assert.equal(task.status, 'succeeded');
  const dumpUid = (task.details as { dumpUid: string }).dumpUid;
  assert.match(dumpUid, /^\d{8}-\d{9}$/);
  const file = join(e.dataDir, 'dumps', `${dumpUid}.dump`);
  assert.ok(existsSync(file));
  const names = execFileSync('tar', ['tzf', file], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(names, ['metadata.json', 'keys.jsonl', 'tasks/queue.jsonl', 'indexes/movies/metadata.json', 'indexes/movies/settings.json', 'indexes/movies/documents.jsonl']);
  const docs = execFileSync('tar', ['xzOf', file, 'indexes/movies/documents.jsonl'], { encoding: 'utf8' });
  assert.deepEqual(docs.trim().split('\n').map((l) => JSON.parse(l)), [{ id: 1, title: 'Alien' }, { id: 2, title: 'Heat' }]);
});

test('a snapshot: the task (no details) and a copy of the database', async () => {
  const enqueued = await e.client.createSnapshot();
  assert.equal(enqueued.type, 'snapshotCreation');
  const task = await e.client.tasks.waitForTask(enqueued.taskUid);
  assert.equal(task.status, 'succeeded');
  assert.ok(!('details' in task));
  const dir = join(e.dataDir, 'snapshots');
  assert.deepEqual(readdirSync(dir), ['data.ms.snapshot']);
  const db = new Database(join(dir, 'data.ms.snapshot'), { readonly: true });
  try {
    const row = db.prepare('SELECT count(*) AS n FROM engine_documents').get() as { n: number };
    assert.equal(row.n, 2);
  } finally {
    db.close();
  }
});

test('authorization: a search key is refused, no key is refused', async () => {
  const keys = await e.client.getKeys();
  const search = keys.results.find((k) => k.actions.length === 1 && k.actions[0] === 'search')!;
  const asSearch = new Meilisearch({ host: e.url, apiKey: search.key });
  await assert.rejects(asSearch.createDump(), (err: any) => err.cause?.code === 'invalid_api_key');
  await assert.rejects(asSearch.createSnapshot(), (err: any) => err.cause?.code === 'invalid_api_key');
  const anonymous = new Meilisearch({ host: e.url });
  await assert.rejects(anonymous.createDump(), (err: any) => err.cause?.code === 'missing_authorization_header');
});
