// Index routes (reference §2): create/list/get/update/rename/delete, swap, uid validation, stats.
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { http, meiliError, startTestEngine, waitTask, writeAndWait } from './helpers.js';
import type { TestEngine } from './helpers.js';

let e: TestEngine;
before(async () => {
  e = await startTestEngine();
});
after(async () => {
  await e.close();
});

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const INVALID_UID = (uid: string) =>
  `\`${uid}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`;

test('create, get and list indexes', async () => {
  const enq = await http(e.url, 'POST', '/indexes', { uid: 'movies', primaryKey: 'id' });
  assert.equal(enq.status, 202);
  assert.deepEqual(Object.keys(enq.body), ['taskUid', 'indexUid', 'status', 'type', 'enqueuedAt']);
  assert.equal(enq.body.indexUid, 'movies');
  assert.equal(enq.body.status, 'enqueued');
  assert.equal(enq.body.type, 'indexCreation');
  const task = await waitTask(e.url, enq.body.taskUid);
  assert.equal(task.status, 'succeeded');
  assert.deepEqual(task.details, { primaryKey: 'id' });

  await e.client.createIndex('books').waitTask();
  await e.client.createIndex('authors').waitTask();

  const movies = await http(e.url, 'GET', '/indexes/movies');
  assert.equal(movies.status, 200);
  assert.deepEqual(Object.keys(movies.body), ['uid', 'createdAt', 'updatedAt', 'primaryKey']);
  assert.equal(movies.body.primaryKey, 'id');
  assert.match(movies.body.createdAt, RFC3339);

  const list = await http(e.url, 'GET', '/indexes?limit=2');
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.results.map((i: { uid: string }) => i.uid),
    ['authors', 'books'],
  );
  assert.equal(list.body.offset, 0);
  assert.equal(list.body.limit, 2);
  assert.ok(list.body.total >= 3);
  const page2 = await e.client.getIndexes({ offset: 2, limit: 1 });
  assert.equal(page2.results.length, 1);
  assert.equal(page2.offset, 2);
});

test('creating an existing index fails the task with index_already_exists', async () => {
  await e.client.createIndex('dup').waitTask();
  const t = await writeAndWait(e.url, 'POST', '/indexes', { uid: 'dup' });
  assert.equal(t.status, 'failed');
  assert.deepEqual(t.error, meiliError('index_already_exists', 'Index `dup` already exists.'));
});

test('create index validation errors', async () => {
  const badUid = await http(e.url, 'POST', '/indexes', { uid: 'the best doggo' });
  assert.equal(badUid.status, 400);
  assert.deepEqual(badUid.body, meiliError('invalid_index_uid', `Invalid value at \`.uid\`: ${INVALID_UID('the best doggo')}`));
  const missing = await http(e.url, 'POST', '/indexes', { primaryKey: 'id' });
  assert.deepEqual(missing.body, meiliError('missing_index_uid', 'Missing field `uid`'));
  const unknown = await http(e.url, 'POST', '/indexes', { uid: 'x', foo: 1 });
  assert.deepEqual(unknown.body, meiliError('bad_request', 'Unknown field `foo`: expected one of `uid`, `primaryKey`'));
  const pkType = await http(e.url, 'POST', '/indexes', { uid: 'x', primaryKey: 1 });
  assert.deepEqual(
    pkType.body,
    meiliError('invalid_index_primary_key', 'Invalid value type at `.primaryKey`: expected a string, but found a positive integer: `1`'),
  );
  const tooLong = await http(e.url, 'GET', `/indexes/${'a'.repeat(401)}`);
  assert.equal(tooLong.status, 400);
  assert.equal(tooLong.body.code, 'invalid_index_uid');
  const listBad = await http(e.url, 'GET', '/indexes?limit=abc');
  assert.deepEqual(
    listBad.body,
    meiliError('invalid_index_limit', 'Invalid value in parameter `limit`: could not parse `abc` as a positive integer'),
  );
});

test('a missing index is a 404 index_not_found', async () => {
  const r = await http(e.url, 'GET', '/indexes/ghost');
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, meiliError('index_not_found', 'Index `ghost` not found.'));
  const t = await writeAndWait(e.url, 'DELETE', '/indexes/ghost');
  assert.equal(t.status, 'failed');
  assert.deepEqual(t.error, meiliError('index_not_found', 'Index `ghost` not found.'));
});

test('update the primary key while empty; refuse once documents exist', async () => {
  await e.client.createIndex('pk_change').waitTask();
  const t1 = await writeAndWait(e.url, 'PATCH', '/indexes/pk_change', { primaryKey: 'sku' });
  assert.equal(t1.status, 'succeeded');
  assert.equal(t1.type, 'indexUpdate');
  assert.deepEqual(t1.details, { primaryKey: 'sku' });
  assert.equal((await http(e.url, 'GET', '/indexes/pk_change')).body.primaryKey, 'sku');
  await e.client.index('pk_change').addDocuments([{ sku: 'a1', name: 'x' }]).waitTask();
  const t2 = await writeAndWait(e.url, 'PATCH', '/indexes/pk_change', { primaryKey: 'name' });
  assert.equal(t2.status, 'failed');
  assert.deepEqual(t2.error, meiliError('index_primary_key_already_exists', 'Index already has a primary key: `sku`.'));
});

test('rename an index with PATCH uid', async () => {
  await e.client.createIndex('old_name', { primaryKey: 'id' }).waitTask();
  await e.client.index('old_name').addDocuments([{ id: 1 }]).waitTask();
  const t = await writeAndWait(e.url, 'PATCH', '/indexes/old_name', { uid: 'new_name' });
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
  assert.deepEqual(t.details, { primaryKey: null, oldIndexUid: 'old_name', newIndexUid: 'new_name' });
  assert.equal((await http(e.url, 'GET', '/indexes/old_name')).status, 404);
  const docs = await http(e.url, 'GET', '/indexes/new_name/documents');
  assert.deepEqual(docs.body.results, [{ id: 1 }]);
});

test('delete an index reports the deleted documents', async () => {
  await e.client.index('doomed').addDocuments([{ id: 1 }, { id: 2 }]).waitTask();
  const t = await e.client.deleteIndex('doomed').waitTask();
  assert.equal(t.status, 'succeeded');
  assert.equal(t.type, 'indexDeletion');
  assert.deepEqual(t.details, { deletedDocuments: 2 });
  assert.equal((await http(e.url, 'GET', '/indexes/doomed')).status, 404);
});

test('swap indexes, swap with rename, and swap validation', async () => {
  await e.client.index('swap_a').addDocuments([{ id: 'a' }]).waitTask();
  await e.client.index('swap_b').addDocuments([{ id: 'b' }]).waitTask();
  const t = await e.client.swapIndexes([{ indexes: ['swap_a', 'swap_b'], rename: false }]).waitTask();
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
  assert.equal(t.type, 'indexSwap');
  assert.deepEqual(t.details, { swaps: [{ indexes: ['swap_a', 'swap_b'], rename: false }] });
  assert.deepEqual((await http(e.url, 'GET', '/indexes/swap_a/documents')).body.results, [{ id: 'b' }]);
  assert.deepEqual((await http(e.url, 'GET', '/indexes/swap_b/documents')).body.results, [{ id: 'a' }]);

  const r = await writeAndWait(e.url, 'POST', '/swap-indexes', [{ indexes: ['swap_a', 'swap_c'], rename: true }]);
  assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
  assert.equal((await http(e.url, 'GET', '/indexes/swap_a')).status, 404);
  assert.deepEqual((await http(e.url, 'GET', '/indexes/swap_c/documents')).body.results, [{ id: 'b' }]);

  const missing = await writeAndWait(e.url, 'POST', '/swap-indexes', [{ indexes: ['nope2', 'swap_b'] }, { indexes: ['nope1', 'swap_c'] }]);
  assert.equal(missing.status, 'failed');
  assert.deepEqual(missing.error, meiliError('index_not_found', 'Indexes `nope1`, `nope2` not found.'));
  const one = await writeAndWait(e.url, 'POST', '/swap-indexes', [{ indexes: ['swap_b', 'nope3'] }]);
  assert.deepEqual(one.error, meiliError('index_not_found', 'Index `nope3` not found.'));

  const three = await http(e.url, 'POST', '/swap-indexes', [{ indexes: ['a', 'b', 'c'] }]);
  assert.equal(three.status, 400);
  assert.deepEqual(
    three.body,
    meiliError('invalid_swap_indexes', 'Two indexes must be given for each swap. The list `["a", "b", "c"]` contains 3 indexes.'),
  );
  const dup = await http(e.url, 'POST', '/swap-indexes', [{ indexes: ['a', 'b'] }, { indexes: ['b', 'c'] }]);
  assert.deepEqual(
    dup.body,
    meiliError('invalid_swap_duplicate_index_found', 'Indexes must be declared only once during a swap. `b` was specified several times.'),
  );
  const noIndexes = await http(e.url, 'POST', '/swap-indexes', [{}]);
  assert.deepEqual(noIndexes.body, meiliError('missing_swap_indexes', 'Missing field `indexes` inside `[0]`'));
});

test('index stats and global stats', async () => {
  await e.client.index('stats_idx').addDocuments([{ id: 1, title: 'a', meta: { year: 2000 } }, { id: 2, title: 'b' }]).waitTask();
  const s = await http(e.url, 'GET', '/indexes/stats_idx/stats');
  assert.equal(s.status, 200);
  const raw = Buffer.byteLength(JSON.stringify({ id: 1, title: 'a', meta: { year: 2000 } })) + Buffer.byteLength(JSON.stringify({ id: 2, title: 'b' }));
  assert.deepEqual(s.body, {
    numberOfDocuments: 2,
    rawDocumentDbSize: raw,
    avgDocumentSize: Math.floor(raw / 2),
    isIndexing: false,
    numberOfEmbeddings: 0,
    numberOfEmbeddedDocuments: 0,
    fieldDistribution: { id: 2, meta: 1, 'meta.year': 1, title: 2 },
  });
  const all = await e.client.getStats();
  assert.ok(all.databaseSize > 0);
  assert.ok(all.usedDatabaseSize > 0 && all.usedDatabaseSize <= all.databaseSize);
  // lastUpdate is the latest updatedAt among the indexes: here the one just written to.
  const statsRaw = await http(e.url, 'GET', '/stats');
  assert.match(statsRaw.body.lastUpdate, RFC3339);
  assert.equal(statsRaw.body.lastUpdate, (await http(e.url, 'GET', '/indexes/stats_idx')).body.updatedAt);
  assert.deepEqual(all.indexes.stats_idx, s.body);
});
