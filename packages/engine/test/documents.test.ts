// Document routes (reference §3): additions in JSON/NDJSON/CSV, replace vs update, primary key
// resolution, all-or-nothing tasks, reads with fields/ids/filter/sort, deletions and their details.
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

const docs = (uid: string, query = '') => http(e.url, 'GET', `/indexes/${uid}/documents${query}`);

test('adding documents creates the index and infers the primary key', async () => {
  const enq = await http(e.url, 'POST', '/indexes/movies/documents', [
    { id: 1, title: 'Carol', genre: 'drama' },
    { id: 2, title: 'Wonder Woman', genre: 'action' },
  ]);
  assert.equal(enq.status, 202);
  assert.equal(enq.body.type, 'documentAdditionOrUpdate');
  const t = await waitTask(e.url, enq.body.taskUid);
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
  assert.deepEqual(t.details, { receivedDocuments: 2, indexedDocuments: 2 });
  assert.equal((await http(e.url, 'GET', '/indexes/movies')).body.primaryKey, 'id');
  const list = await docs('movies');
  assert.deepEqual(list.body, {
    results: [
      { id: 1, title: 'Carol', genre: 'drama' },
      { id: 2, title: 'Wonder Woman', genre: 'action' },
    ],
    offset: 0,
    limit: 20,
    total: 2,
  });
});

test('POST replaces a document, PUT merges its top-level fields', async () => {
  await e.client.index('rep').addDocuments([{ id: 'a', x: 1, y: 1 }]).waitTask();
  await e.client.index('rep').addDocuments([{ id: 'a', x: 2 }]).waitTask();
  assert.deepEqual((await http(e.url, 'GET', '/indexes/rep/documents/a')).body, { id: 'a', x: 2 });
  await e.client.index('rep').updateDocuments([{ id: 'a', y: 3 }]).waitTask();
  assert.deepEqual((await http(e.url, 'GET', '/indexes/rep/documents/a')).body, { id: 'a', x: 2, y: 3 });
  // Later duplicates in one payload win.
  await e.client.index('rep').addDocuments([{ id: 'b', v: 1 }, { id: 'b', v: 2 }]).waitTask();
  assert.deepEqual((await http(e.url, 'GET', '/indexes/rep/documents/b')).body, { id: 'b', v: 2 });
  // Documents keep their place (internal id) when replaced.
  const ids = (await docs('rep')).body.results.map((d: { id: string }) => d.id);
  assert.deepEqual(ids, ['a', 'b']);
});

test('NDJSON and CSV payloads, csvDelimiter and customMetadata', async () => {
  const nd = await http(e.url, 'POST', '/indexes/formats/documents?primaryKey=code&customMetadata=batch-1', '{"code":"a","n":1}\n{"code":"b","n":2}\n', {
    'content-type': 'application/x-ndjson',
  });
  assert.equal(nd.status, 202);
  const t = await waitTask(e.url, nd.body.taskUid);
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
  assert.equal(t.customMetadata, 'batch-1');
  const csv = await http(e.url, 'POST', '/indexes/formats/documents?csvDelimiter=;', 'code;n:number;ok:boolean\nc;3;true\nd;;false\n', {
    'content-type': 'text/csv',
  });
  const t2 = await waitTask(e.url, csv.body.taskUid);
  assert.equal(t2.status, 'succeeded', JSON.stringify(t2.error));
  assert.deepEqual((await docs('formats')).body.results, [
    { code: 'a', n: 1 },
    { code: 'b', n: 2 },
    { code: 'c', n: 3, ok: true },
    { code: 'd', n: null, ok: false },
  ]);
});

test('payload errors are synchronous', async () => {
  const noType = await http(e.url, 'POST', '/indexes/errs/documents', Buffer.from('[{"id":1}]'));
  assert.equal(noType.status, 415);
  assert.equal(noType.body.code, 'missing_content_type');
  const badType = await http(e.url, 'POST', '/indexes/errs/documents', '[{"id":1}]', { 'content-type': 'text/plain' });
  assert.equal(badType.status, 415);
  assert.deepEqual(
    badType.body,
    meiliError(
      'invalid_content_type',
      'The Content-Type `text/plain` is invalid. Accepted values for the Content-Type header are: `application/json`, `application/x-ndjson`, `text/csv`',
    ),
  );
  const empty = await http(e.url, 'POST', '/indexes/errs/documents', '', { 'content-type': 'application/json' });
  assert.equal(empty.status, 400);
  assert.equal(empty.body.code, 'missing_payload');
  const malformed = await http(e.url, 'POST', '/indexes/errs/documents', '[{"id":1', { 'content-type': 'application/json' });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.code, 'malformed_payload');
  const badUid = await http(e.url, 'POST', '/indexes/bad%20uid/documents', [{ id: 1 }]);
  assert.equal(badUid.status, 400);
  assert.equal(badUid.body.code, 'invalid_index_uid');
  const unknownParam = await http(e.url, 'POST', '/indexes/errs/documents?foo=1', [{ id: 1 }]);
  assert.equal(unknownParam.status, 400);
  assert.equal(unknownParam.body.code, 'bad_request');
  assert.equal((await http(e.url, 'GET', '/indexes/errs')).status, 404);
});

test('primary key resolution errors fail the task', async () => {
  const none = await writeAndWait(e.url, 'POST', '/indexes/pk_none/documents', [{ title: 'x' }]);
  assert.equal(none.status, 'failed');
  assert.deepEqual(
    none.error,
    meiliError(
      'index_primary_key_no_candidate_found',
      'The primary key inference failed as the engine did not find any field ending with `id` in its name. Please specify the primary key manually using the `primaryKey` query parameter.',
    ),
  );
  assert.equal(none.details.indexedDocuments, 0);
  // The failed task changed nothing: not even the index creation.
  assert.equal((await http(e.url, 'GET', '/indexes/pk_none')).status, 404);

  const many = await writeAndWait(e.url, 'POST', '/indexes/pk_many/documents', [{ id: 1, a_id: 2 }]);
  assert.equal(many.status, 'failed');
  assert.equal(many.error.code, 'index_primary_key_multiple_candidates_found');

  await e.client.index('pk_set').addDocuments([{ id: 1 }]).waitTask();
  const conflict = await writeAndWait(e.url, 'POST', '/indexes/pk_set/documents?primaryKey=other', [{ id: 2, other: 3 }]);
  assert.equal(conflict.status, 'failed');
  assert.deepEqual(conflict.error, meiliError('index_primary_key_already_exists', 'Index already has a primary key: `id`.'));
});

test('one invalid document fails the whole task and changes nothing', async () => {
  await e.client.index('atomic').addDocuments([{ id: 1, v: 'orig' }]).waitTask();
  const t = await writeAndWait(e.url, 'POST', '/indexes/atomic/documents', [
    { id: 1, v: 'changed' },
    { id: 'not valid!', v: 'x' },
    { id: 3 },
  ]);
  assert.equal(t.status, 'failed');
  assert.equal(t.error.code, 'invalid_document_id');
  assert.deepEqual((await docs('atomic')).body.results, [{ id: 1, v: 'orig' }]);
  const missing = await writeAndWait(e.url, 'POST', '/indexes/atomic/documents', [{ id: 4 }, { v: 'no id' }]);
  assert.equal(missing.status, 'failed');
  assert.equal(missing.error.code, 'missing_document_id');
  assert.equal((await docs('atomic')).body.total, 1);
});

test('listing: offset/limit, fields, ids, filter, sort, retrieveVectors, displayedAttributes', async () => {
  const idx = e.client.index('browse');
  await idx
    .addDocuments([
      { id: 1, name: 'one', price: 30, tag: 'x', info: { a: 1, b: 2 }, _vectors: { emb: [0.1, 0.2] } },
      { id: 2, name: 'two', price: 10, tag: 'y', info: { a: 3, b: 4 } },
      { id: 3, name: 'three', price: 20, tag: 'x', info: { a: 5, b: 6 } },
    ])
    .waitTask();
  await idx.updateSettings({ filterableAttributes: ['tag', 'price'], sortableAttributes: ['price'] }).waitTask();

  const page = await docs('browse', '?offset=1&limit=1&fields=name');
  assert.deepEqual(page.body, { results: [{ name: 'two' }], offset: 1, limit: 1, total: 3 });
  const nested = await docs('browse', '?fields=id,info.a&limit=1');
  assert.deepEqual(nested.body.results, [{ id: 1, info: { a: 1 } }]);
  const byIds = await docs('browse', '?ids=3,1&fields=id');
  assert.deepEqual(byIds.body, { results: [{ id: 1 }, { id: 3 }], offset: 0, limit: 20, total: 2 });
  const filtered = await docs('browse', `?filter=${encodeURIComponent('tag = x')}&fields=id`);
  assert.deepEqual(filtered.body.results, [{ id: 1 }, { id: 3 }]);
  assert.equal(filtered.body.total, 2);
  const sorted = await docs('browse', '?sort=price:desc&fields=id');
  assert.deepEqual(sorted.body.results, [{ id: 1 }, { id: 3 }, { id: 2 }]);
  const fetched = await http(e.url, 'POST', '/indexes/browse/documents/fetch', { filter: 'price > 15', sort: ['price:asc'], fields: ['id'] });
  assert.equal(fetched.status, 200);
  assert.deepEqual(fetched.body, { results: [{ id: 3 }, { id: 1 }], offset: 0, limit: 20, total: 2 });

  const noVectors = await http(e.url, 'GET', '/indexes/browse/documents/1');
  assert.equal('_vectors' in noVectors.body, false);
  const withVectors = await http(e.url, 'GET', '/indexes/browse/documents/1?retrieveVectors=true&fields=id');
  assert.deepEqual(withVectors.body, { id: 1, _vectors: { emb: { embeddings: [[0.1, 0.2]], regenerate: false } } });

  const badFilter = await docs('browse', `?filter=${encodeURIComponent('name = one')}`);
  assert.equal(badFilter.status, 400);
  assert.equal(badFilter.body.code, 'invalid_document_filter');
  const badLimit = await docs('browse', '?limit=-1');
  assert.deepEqual(
    badLimit.body,
    meiliError('invalid_document_limit', 'Invalid value in parameter `limit`: could not parse `-1` as a positive integer'),
  );
  const badIds = await http(e.url, 'POST', '/indexes/browse/documents/fetch', { ids: [1, 'a b'] });
  assert.equal(badIds.status, 400);
  assert.equal(badIds.body.code, 'invalid_document_ids');
  assert.match(badIds.body.message, /^In `\.ids\[1\]`: Document identifier `"a b"` is invalid\./);
  const badFetch = await http(e.url, 'POST', '/indexes/browse/documents/fetch', { offset: 'a' });
  assert.deepEqual(
    badFetch.body,
    meiliError('invalid_document_offset', 'Invalid value type at `.offset`: expected a positive integer, but found a string: `"a"`'),
  );

  await idx.updateSettings({ displayedAttributes: ['id', 'name'] }).waitTask();
  assert.deepEqual((await http(e.url, 'GET', '/indexes/browse/documents/2')).body, { id: 2, name: 'two' });
  assert.deepEqual((await docs('browse', '?fields=name,price&limit=1')).body.results, [{ name: 'one' }]);
});

test('get one document: 404 document_not_found', async () => {
  await e.client.index('one').addDocuments([{ id: 1 }]).waitTask();
  const r = await http(e.url, 'GET', '/indexes/one/documents/9');
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, meiliError('document_not_found', 'Document `9` not found.'));
  const ghost = await http(e.url, 'GET', '/indexes/ghost_idx/documents/1');
  assert.deepEqual(ghost.body, meiliError('index_not_found', 'Index `ghost_idx` not found.'));
});

test('deletions: one, batch, by filter, all — with their details', async () => {
  const idx = e.client.index('del');
  await idx.addDocuments([1, 2, 3, 4, 5, 6].map((id) => ({ id, even: id % 2 === 0 }))).waitTask();
  await idx.updateFilterableAttributes(['even']).waitTask();

  const one = await idx.deleteDocument(1).waitTask();
  assert.equal(one.type, 'documentDeletion');
  assert.deepEqual(one.details, { providedIds: 1, deletedDocuments: 1, originalFilter: null });

  const batch = await writeAndWait(e.url, 'POST', '/indexes/del/documents/delete-batch', [2, '3', 99]);
  assert.deepEqual(batch.details, { providedIds: 3, deletedDocuments: 2, originalFilter: null });

  const byFilter = await writeAndWait(e.url, 'POST', '/indexes/del/documents/delete', { filter: 'even = true' });
  assert.equal(byFilter.status, 'succeeded', JSON.stringify(byFilter.error));
  assert.deepEqual(byFilter.details, { providedIds: 0, deletedDocuments: 2, originalFilter: '"even = true"' });
  assert.deepEqual((await docs('del')).body.results, [{ id: 5, even: false }]);

  const all = await idx.deleteAllDocuments().waitTask();
  assert.deepEqual(all.details, { deletedDocuments: 1 });
  assert.equal((await docs('del')).body.total, 0);
});

test('delete by filter errors', async () => {
  await e.client.index('delf').addDocuments([{ id: 1, a: 1 }]).waitTask();
  const missing = await http(e.url, 'POST', '/indexes/delf/documents/delete', {});
  assert.deepEqual(missing.body, meiliError('missing_document_filter', 'Missing field `filter`'));
  const empty = await http(e.url, 'POST', '/indexes/delf/documents/delete', { filter: '' });
  assert.deepEqual(empty.body, meiliError('invalid_document_filter', 'Sending an empty filter is forbidden.'));
  const syntax = await http(e.url, 'POST', '/indexes/delf/documents/delete', { filter: 'a ==' });
  assert.equal(syntax.status, 400);
  assert.equal(syntax.body.code, 'invalid_document_filter');
  // Not filterable: the task fails with invalid_document_filter.
  const t = await writeAndWait(e.url, 'POST', '/indexes/delf/documents/delete', { filter: 'a = 1' });
  assert.equal(t.status, 'failed');
  assert.equal(t.error.code, 'invalid_document_filter');
  assert.equal((await docs('delf')).body.total, 1);
});

test('skipCreation=true only updates documents that already exist', async () => {
  await e.client.index('skip').addDocuments([{ id: 1, v: 'a' }]).waitTask();
  const t = await writeAndWait(e.url, 'PUT', '/indexes/skip/documents?skipCreation=true', [
    { id: 1, w: 'b' },
    { id: 2, v: 'new' },
  ]);
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
  assert.deepEqual((await docs('skip')).body.results, [{ id: 1, v: 'a', w: 'b' }]);
  const bad = await http(e.url, 'POST', '/indexes/skip/documents?skipCreation=maybe', [{ id: 3 }]);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body, meiliError('invalid_skip_creation', 'skipCreation must be either `true` or `false`. Found: `maybe`'));
  const upper = await writeAndWait(e.url, 'PUT', '/indexes/skip/documents?skipCreation=TRUE', [{ id: 3 }]);
  assert.equal(upper.status, 'succeeded');
  assert.equal((await docs('skip')).body.total, 1);
});
