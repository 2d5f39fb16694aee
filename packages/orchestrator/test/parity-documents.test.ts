/**
 * Parity (spec S8): document writes, reads and deletes through Miroir (3 nodes, RF=2) answer as one
 * node answers — payload formats and their errors, primary-key resolution, task details, reads with
 * offset/limit/fields/filter and their errors.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertSame, assertSameError, startParity, type Pair, type Parity, type RequestSpec, writeBoth } from './parity-kit.js';

let p: Parity;

const MOVIES = [
  { id: 1, title: 'Alien', genre: 'horror', year: 1979 },
  { id: 2, title: 'Heat', genre: 'crime', year: 1995 },
  { id: 3, title: 'Amelie', genre: 'comedy', year: 2001 },
  { id: 4, title: 'Jaws', genre: 'horror', year: 1975 },
  { id: 5, title: 'Brazil', genre: 'comedy', year: 1985 },
  { id: 6, title: 'Ran', genre: 'drama', year: 1985 },
  { id: 7, title: 'Up', genre: 'animation' },
];

/** Runs a write on both sides; both tasks must end as the reference's does, with the same object. */
const write = (method: string, path: string, spec: RequestSpec, status?: 'succeeded' | 'failed') => writeBoth(p, method, path, spec, status);

/** The whole content of an index on both sides, compared by id (listing order is Miroir's own). */
async function sameContent(uid: string): Promise<Pair> {
  const pair = await p.both('GET', `/indexes/${uid}/documents?limit=1000`);
  assert.equal(pair.mir.status, pair.ref.status, pair.what);
  const byId = (a: { id: unknown }, b: { id: unknown }) => String(a.id).localeCompare(String(b.id), 'en', { numeric: true });
  const sorted = (body: any) => ({ ...body, results: [...body.results].sort(byId) });
  assertSame({ ...pair, ref: { ...pair.ref, body: sorted(pair.ref.body) }, mir: { ...pair.mir, body: sorted(pair.mir.body) } });
  return pair;
}

async function refuses(method: string, path: string, status: number, code: string, spec: RequestSpec = {}) {
  assertSameError(await p.both(method, path, spec), status, code);
}

let seq = 0;
/** A fresh index on both sides, optionally with a primary key and documents. */
async function fresh(primaryKey?: string, docs?: unknown[]): Promise<string> {
  const uid = `d${seq++}`;
  await write('POST', '/indexes', { json: primaryKey === undefined ? { uid } : { uid, primaryKey } });
  if (docs) await write('POST', `/indexes/${uid}/documents`, { json: docs });
  return uid;
}

before(async () => {
  p = await startParity();
  await write('POST', '/indexes', { json: { uid: 'movies', primaryKey: 'id' } });
  await write('PATCH', '/indexes/movies/settings', { json: { filterableAttributes: ['genre', 'year'], sortableAttributes: ['id', 'title', 'year'] } });
  await write('POST', '/indexes/movies/documents', { json: MOVIES });
  // Requests one side may wrongly accept go to this index, so that `movies` stays the same on both.
  await write('POST', '/indexes', { json: { uid: 'scratch', primaryKey: 'id' } });
});
after(async () => p?.stop());

describe('document writes', () => {
  test('JSON array and single object', async () => {
    const uid = await fresh('id');
    await write('POST', `/indexes/${uid}/documents`, { json: MOVIES.slice(0, 3) });
    await write('POST', `/indexes/${uid}/documents`, { json: { id: 9, title: 'Solo' } });
    await sameContent(uid);
  });

  test('NDJSON', async () => {
    const uid = await fresh('id');
    const raw = MOVIES.map((m) => JSON.stringify(m)).join('\n') + '\n';
    const done = await write('POST', `/indexes/${uid}/documents`, { raw, contentType: 'application/x-ndjson' });
    assert.deepEqual(done.mir.body.details, { receivedDocuments: MOVIES.length, indexedDocuments: MOVIES.length });
    await sameContent(uid);
  });

  test('CSV with typed columns and with a delimiter', async () => {
    const uid = await fresh('id');
    const csv = 'id,title,year:number,seen:boolean\n1,Alien,1979,true\n2,"Heat, the movie",,false\n';
    await write('POST', `/indexes/${uid}/documents`, { raw: csv, contentType: 'text/csv' });
    await write('POST', `/indexes/${uid}/documents?csvDelimiter=%3B`, { raw: 'id;title\n3;Amelie\n', contentType: 'text/csv' });
    await sameContent(uid);
  });

  test('primary key inferred from the first document', async () => {
    const uid = await fresh(undefined, [{ movie_id: 'a1', title: 'x' }, { movie_id: 'a2', title: 'y' }]);
    assertSame(await p.both('GET', `/indexes/${uid}`));
    await sameContent(uid);
  });

  test('primary key given with ?primaryKey= on a new index', async () => {
    const uid = await fresh();
    await write('POST', `/indexes/${uid}/documents?primaryKey=title`, { json: [{ id: 1, title: 'one' }, { id: 2, title: 'two' }] });
    assertSame(await p.both('GET', `/indexes/${uid}`));
  });

  test('documents added to a missing index create it', async () => {
    await write('POST', '/indexes/autocreated/documents', { json: [{ id: 1 }] });
    assertSame(await p.both('GET', '/indexes/autocreated'));
  });

  test('customMetadata is kept on the task', async () => {
    const uid = await fresh('id');
    const done = await write('POST', `/indexes/${uid}/documents?customMetadata=batch-7`, { json: [{ id: 1 }] });
    assert.equal(done.mir.body.customMetadata, 'batch-7');
  });

  test('PUT updates fields, POST replaces the document', async () => {
    const uid = await fresh('id', MOVIES.slice(0, 2));
    await write('PUT', `/indexes/${uid}/documents`, { json: [{ id: 1, rating: 5 }, { id: 8, title: 'New' }] });
    assertSame(await p.both('GET', `/indexes/${uid}/documents/1`));
    await write('POST', `/indexes/${uid}/documents`, { json: [{ id: 2, rating: 3 }] });
    assertSame(await p.both('GET', `/indexes/${uid}/documents/2`));
    await sameContent(uid);
  });

  test('malformed JSON, NDJSON and CSV bodies', async () => {
    await refuses('POST', '/indexes/scratch/documents', 400, 'malformed_payload', { raw: '[{"id": 1,' });
    await refuses('POST', '/indexes/scratch/documents', 400, 'malformed_payload', { raw: '"just a string"' });
    await refuses('POST', '/indexes/scratch/documents', 400, 'malformed_payload', { raw: '[1, 2]' });
    await refuses('POST', '/indexes/scratch/documents', 400, 'malformed_payload', { raw: '{"id": 1}\n{"id": ', contentType: 'application/x-ndjson' });
    await refuses('POST', '/indexes/scratch/documents', 400, 'malformed_payload', { raw: '{"id": 1}\n[2]\n', contentType: 'application/x-ndjson' });
    await refuses('POST', '/indexes/scratch/documents', 400, 'malformed_payload', { raw: 'id,title\n1,a,extra\n', contentType: 'text/csv' });
    await refuses('POST', '/indexes/scratch/documents', 400, 'malformed_payload', { raw: 'id,year:number\n1,abc\n', contentType: 'text/csv' });
  });

  test('missing and wrong content types', async () => {
    await refuses('POST', '/indexes/scratch/documents', 415, 'missing_content_type', { raw: '[{"id":1}]', contentType: null });
    await refuses('POST', '/indexes/scratch/documents', 415, 'invalid_content_type', { raw: '[{"id":1}]', contentType: 'text/plain' });
    await refuses('PUT', '/indexes/scratch/documents', 415, 'invalid_content_type', { raw: '[{"id":1}]', contentType: 'application/xml' });
    await refuses('POST', '/indexes/scratch/documents?csvDelimiter=%3B', 415, 'invalid_content_type', { json: [{ id: 1 }] });
    await refuses('POST', '/indexes/scratch/documents?csvDelimiter=ab', 400, 'invalid_document_csv_delimiter', { raw: 'id\n1\n', contentType: 'text/csv' });
  });

  test('empty payloads', async () => {
    await refuses('POST', '/indexes/scratch/documents', 400, 'missing_payload', { raw: '' });
    await refuses('POST', '/indexes/scratch/documents', 400, 'missing_payload', { raw: '', contentType: 'application/x-ndjson' });
    await refuses('POST', '/indexes/scratch/documents', 400, 'missing_payload', { raw: '', contentType: 'text/csv' });
  });

  test('invalid index uid', async () => {
    await refuses('POST', '/indexes/bad%20uid/documents', 400, 'invalid_index_uid', { json: [{ id: 1 }] });
  });

  test('a CSV column with an unknown type suffix keeps its whole name', async () => {
    // Meilisearch's CSV header parser falls back to a string column named after the whole header.
    const uid = await fresh('id');
    await write('POST', `/indexes/${uid}/documents`, { raw: 'id,year:integer\n1,2\n', contentType: 'text/csv' });
    assertSame(await p.both('GET', `/indexes/${uid}/documents/1`));
  });

});

describe('document reads', () => {
  test('one document, with fields; unknown; invalid index', async () => {
    assertSame(await p.both('GET', '/indexes/movies/documents/1'));
    assertSame(await p.both('GET', '/indexes/movies/documents/1?fields=title,year'));
    assertSame(await p.both('GET', '/indexes/movies/documents/1?fields=nothing'));
    await refuses('GET', '/indexes/movies/documents/999', 404, 'document_not_found');
    await refuses('GET', '/indexes/nope/documents/1', 404, 'index_not_found');
    await refuses('GET', '/indexes/movies/documents/1?color=red', 400, 'bad_request');
  });

  test('list with offset, limit, fields, filter and sort', async () => {
    for (const q of [
      '?sort=id:asc',
      '?sort=id:asc&offset=2&limit=3',
      '?sort=year:desc&limit=4',
      '?sort=title:asc&fields=title',
      '?filter=genre%20%3D%20horror&sort=id:asc',
      '?filter=year%20%3E%201980&sort=id:desc&fields=id,year',
      '?limit=0',
      '?offset=100&sort=id:asc',
      '?ids=2,4,999&sort=id:asc',
      '?retrieveVectors=true&sort=id:asc&limit=2',
    ]) {
      const pair = await p.both('GET', `/indexes/movies/documents${q}`);
      assertSame(pair);
      assert.equal(pair.mir.status, 200);
    }
  });

  test('fetch with offset, limit, fields, filter and sort', async () => {
    for (const json of [
      { sort: ['id:asc'] },
      { sort: ['id:asc'], offset: 1, limit: 2 },
      { filter: 'genre = comedy', sort: ['year:asc'] },
      { filter: ['genre = horror', 'year < 1978'], fields: ['title'], sort: ['id:asc'] },
      { ids: [1, '3'], sort: ['id:asc'] },
      { limit: 0 },
    ]) {
      const pair = await p.both('POST', '/indexes/movies/documents/fetch', { json });
      assertSame(pair);
      assert.equal(pair.mir.status, 200);
    }
  });

  test('a listing without sort holds the same documents', async () => {
    await sameContent('movies');
  });

  test('list errors', async () => {
    await refuses('GET', '/indexes/movies/documents?limit=-1', 400, 'invalid_document_limit');
    await refuses('GET', '/indexes/movies/documents?offset=x', 400, 'invalid_document_offset');
    await refuses('GET', '/indexes/movies/documents?filter=title%20%3D%20x', 400, 'invalid_document_filter');
    await refuses('GET', '/indexes/movies/documents?filter=genre%20%3D', 400, 'invalid_document_filter');
    await refuses('GET', '/indexes/movies/documents?sort=genre:asc', 400, 'invalid_document_sort');
    await refuses('GET', '/indexes/movies/documents?color=red', 400, 'bad_request');
    await refuses('GET', '/indexes/nope/documents', 404, 'index_not_found');
  });

  test('fetch errors', async () => {
    await refuses('POST', '/indexes/movies/documents/fetch', 400, 'invalid_document_limit', { json: { limit: 'ten' } });
    await refuses('POST', '/indexes/movies/documents/fetch', 400, 'invalid_document_offset', { json: { offset: -2 } });
    await refuses('POST', '/indexes/movies/documents/fetch', 400, 'invalid_document_fields', { json: { fields: 'title' } });
    await refuses('POST', '/indexes/movies/documents/fetch', 400, 'invalid_document_filter', { json: { filter: 'title = x' } });
    await refuses('POST', '/indexes/movies/documents/fetch', 400, 'invalid_document_filter', { json: { filter: 3 } });
    await refuses('POST', '/indexes/movies/documents/fetch', 400, 'bad_request', { json: { color: 'red' } });
    await refuses('POST', '/indexes/nope/documents/fetch', 404, 'index_not_found', { json: {} });
  });
});

describe('document deletes', () => {
  test('delete-batch validation', async () => {
    await refuses('POST', '/indexes/movies/documents/delete-batch', 400, 'bad_request', { json: { ids: [1] } });
    await refuses('POST', '/indexes/movies/documents/delete-batch', 400, 'malformed_payload', { raw: '[1,' });
    await refuses('POST', '/indexes/movies/documents/delete-batch', 400, 'missing_payload', { raw: '' });
  });

  test('by filter, string and array forms', async () => {
    const uid = await fresh('id', MOVIES);
    await write('PATCH', `/indexes/${uid}/settings`, { json: { filterableAttributes: ['genre', 'year'] } });
    const done = await write('POST', `/indexes/${uid}/documents/delete`, { json: { filter: 'genre = horror' } });
    assert.deepEqual(done.mir.body.details, { providedIds: 0, deletedDocuments: 2, originalFilter: '"genre = horror"' });
    await write('POST', `/indexes/${uid}/documents/delete`, { json: { filter: ['genre = comedy', 'year < 1990'] } });
    await sameContent(uid);
  });

  test('by filter: validation and evaluation errors', async () => {
    await refuses('POST', '/indexes/movies/documents/delete', 400, 'missing_document_filter', { json: {} });
    await refuses('POST', '/indexes/movies/documents/delete', 400, 'invalid_document_filter', { json: { filter: '' } });
    await refuses('POST', '/indexes/movies/documents/delete', 400, 'invalid_document_filter', { json: { filter: 3 } });
    await refuses('POST', '/indexes/movies/documents/delete', 400, 'bad_request', { json: { filter: 'genre = x', color: 1 } });
  });

  test('all documents', async () => {
    const uid = await fresh('id', MOVIES);
    const done = await write('DELETE', `/indexes/${uid}/documents`, {});
    assert.deepEqual(done.mir.body.details, { deletedDocuments: MOVIES.length });
    await sameContent(uid);
  });

  test('deletes on a missing index fail their task', async () => {
    const a = await write('DELETE', '/indexes/ghost/documents', {}, 'failed');
    assert.equal(a.mir.body.error?.code, 'index_not_found');
  });
});

/**
 * Regressions: cases where Miroir once answered otherwise than one node (each test names the difference it guarded):
 * - a task Miroir fails or completes by itself, without the nodes, has `batchUid: null`; a node's
 *   task always has a batch once it ran;
 * - deletions by id lack `originalFilter: null` in their details;
 * - delete-batch ids are stringified by a node (`true` → "true") and only looked up when the task
 *   runs, so no id makes the request fail at once;
 * - a failed task's filter error names the reserved `_miroir_shard` attribute;
 * - a JSON parse error message differs from serde_json's;
 * - an unknown query parameter on a document write is ignored instead of refused;
 * - `skipCreation=true` is not passed on: documents with unknown ids are created.
 */
describe('regressions', () => {
  test('skipCreation ignores unknown ids', async () => {
    const uid = await fresh('id', MOVIES.slice(0, 2));
    await write('PUT', `/indexes/${uid}/documents?skipCreation=true`, { json: [{ id: 1, extra: true }, { id: 55, title: 'skipped' }] });
    await sameContent(uid);
  });

  test('documents: unknown query parameter on a write', async () => {
    await refuses('POST', '/indexes/scratch/documents?color=red', 400, 'bad_request', { json: [{ id: 1 }] });
  });

  test('fetch: a truncated JSON body', async () => {
    await refuses('POST', '/indexes/movies/documents/fetch', 400, 'malformed_payload', { raw: '{' });
  });

  test('delete-batch: a boolean id is an id like any other', async () => {
    const uid = await fresh('id', MOVIES);
    await write('POST', `/indexes/${uid}/documents/delete-batch`, { json: [true, 1] });
    await sameContent(uid);
  });

  test('delete by filter: the failed task names no reserved attribute', async () => {
    const done = await write('POST', '/indexes/movies/documents/delete', { json: { filter: 'title = Alien' } }, 'failed');
    assert.equal(done.mir.body.error?.code, 'invalid_document_filter');
  });

  test('delete one document of a missing index: task details', async () => {
    const b = await write('DELETE', '/indexes/ghost/documents/1', {}, 'failed');
    assert.equal(b.mir.body.error?.code, 'index_not_found');
  });

  test('batchUid: an empty array enqueues a task that indexes nothing', async () => {
    const uid = await fresh('id');
    await write('POST', `/indexes/${uid}/documents`, { json: [] });
  });

  test('batchUid: invalid document ids fail the task', async () => {
    const uid = await fresh('id');
    for (const doc of [{ id: 'a b' }, { id: 1.5 }, { id: true }, { id: '' }, { id: 'x'.repeat(512) }, { id: ['a'] }]) {
      const done = await write('POST', `/indexes/${uid}/documents`, { json: [{ id: 100 }, doc] }, 'failed');
      assert.equal(done.mir.body.error?.code, 'invalid_document_id');
    }
    await sameContent(uid);
  });

  test('batchUid: a document without the primary key fails the task', async () => {
    const uid = await fresh('id');
    const done = await write('POST', `/indexes/${uid}/documents`, { json: [{ id: 1 }, { title: 'no id' }] }, 'failed');
    assert.equal(done.mir.body.error?.code, 'missing_document_id');
    await sameContent(uid);
  });

  test('batchUid: no primary key candidate', async () => {
    const uid = await fresh();
    const done = await write('POST', `/indexes/${uid}/documents`, { json: [{ title: 'x' }] }, 'failed');
    assert.equal(done.mir.body.error?.code, 'index_primary_key_no_candidate_found');
    assertSame(await p.both('GET', `/indexes/${uid}`));
  });

  test('batchUid: several primary key candidates', async () => {
    const uid = await fresh();
    const done = await write('POST', `/indexes/${uid}/documents`, { json: [{ id: 1, movie_id: 2, uuid: 'u' }] }, 'failed');
    assert.equal(done.mir.body.error?.code, 'index_primary_key_multiple_candidates_found');
  });

  test('batchUid: ?primaryKey= that conflicts with the index primary key', async () => {
    const done = await write('POST', '/indexes/movies/documents?primaryKey=title', { json: [{ id: 50, title: 'x' }] }, 'failed');
    assert.equal(done.mir.body.error?.code, 'index_primary_key_already_exists');
  });

  test('originalFilter: delete one document, and an unknown one', async () => {
    const uid = await fresh('id', MOVIES);
    const done = await write('DELETE', `/indexes/${uid}/documents/3`, {});
    assert.deepEqual(done.mir.body.details, { providedIds: 1, deletedDocuments: 1, originalFilter: null });
    await write('DELETE', `/indexes/${uid}/documents/999`, {});
    await sameContent(uid);
  });

  test('originalFilter: delete a batch of ids, numbers and strings, some unknown', async () => {
    const uid = await fresh('id', MOVIES);
    await write('POST', `/indexes/${uid}/documents/delete-batch`, { json: [1, '2', 77] });
    await sameContent(uid);
  });

  test('delete-batch: a malformed id is looked up when the task runs', async () => {
    const uid = await fresh('id', MOVIES);
    await write('POST', `/indexes/${uid}/documents/delete-batch`, { json: [1, 'a b'] });
    await sameContent(uid);
  });
});
