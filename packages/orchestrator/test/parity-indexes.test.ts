/**
 * Parity (spec S8): indexes, swaps and the task routes answer through Miroir (3 nodes, RF=2) as one
 * node answers — same statuses, error bodies, task objects and key order.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertSame, assertSameError, startParity, type Parity } from './parity-kit.js';

let p: Parity;

before(async () => {
  p = await startParity();
  // Shared fixtures: `movies` (pk id, one document), `empty` (no pk), `books` (pk isbn).
  for (const [method, path, json] of [
    ['POST', '/indexes', { uid: 'movies', primaryKey: 'id' }],
    ['POST', '/indexes/movies/documents', [{ id: 1, title: 'Alien' }]],
    ['POST', '/indexes', { uid: 'empty' }],
    ['POST', '/indexes', { uid: 'books', primaryKey: 'isbn' }],
  ] as const) {
    const { done } = await p.task(method, path, { json });
    assert.equal(done.ref.body.status, 'succeeded');
    assertSame(done);
  }
});
after(async () => p?.stop());

/** Requests that both sides must refuse at once with the same error. */
async function refuses(method: string, path: string, status: number, code: string, json?: unknown) {
  assertSameError(await p.both(method, path, json === undefined ? {} : { json }), status, code);
}

describe('indexes', () => {
  test('create: the 202 summary and the finished task', async () => {
    const { enqueued, done } = await p.task('POST', '/indexes', { json: { uid: 'created', primaryKey: 'ref' } });
    assertSame(enqueued);
    assert.deepEqual(Object.keys(enqueued.mir.body), ['taskUid', 'indexUid', 'status', 'type', 'enqueuedAt']);
    assertSame(done);
    assert.equal(done.mir.body.status, 'succeeded');
    assert.deepEqual(done.mir.body.details, { primaryKey: 'ref' });
  });

  test('create without a primary key', async () => {
    const { enqueued, done } = await p.task('POST', '/indexes', { json: { uid: 'nopk' } });
    assertSame(enqueued);
    assertSame(done);
  });

  test('create: invalid uid, missing uid, bad types, unknown field', async () => {
    await refuses('POST', '/indexes', 400, 'invalid_index_uid', { uid: 'bad uid!' });
    await refuses('POST', '/indexes', 400, 'invalid_index_uid', { uid: '' });
    await refuses('POST', '/indexes', 400, 'invalid_index_uid', { uid: 12 });
    await refuses('POST', '/indexes', 400, 'invalid_index_uid', { uid: 'a'.repeat(513) });
    await refuses('POST', '/indexes', 400, 'missing_index_uid', { primaryKey: 'id' });
    await refuses('POST', '/indexes', 400, 'invalid_index_primary_key', { uid: 'x1', primaryKey: 3 });
    await refuses('POST', '/indexes', 400, 'bad_request', { uid: 'x1', color: 'red' });
    await refuses('POST', '/indexes', 400, 'bad_request', ['x1']);
  });

  test('create: malformed and missing JSON bodies', async () => {
    assertSameError(await p.both('POST', '/indexes', { raw: '{"uid": ' }), 400, 'malformed_payload');
    assertSameError(await p.both('POST', '/indexes', { raw: '' }), 400, 'missing_payload');
  });

  test('create a duplicate: the task fails with index_already_exists', async () => {
    const { enqueued, done } = await p.task('POST', '/indexes', { json: { uid: 'movies' } });
    assertSame(enqueued);
    assertSame(done);
    assert.equal(done.mir.body.status, 'failed');
    assert.deepEqual(done.mir.body.error, {
      message: 'Index `movies` already exists.',
      code: 'index_already_exists',
      type: 'invalid_request',
      link: 'https://docs.meilisearch.com/errors#index_already_exists',
    });
  });

  test('get one, unknown, invalid uid', async () => {
    assertSame(await p.both('GET', '/indexes/movies'));
    await refuses('GET', '/indexes/nope', 404, 'index_not_found');
    await refuses('GET', '/indexes/bad%20uid', 400, 'invalid_index_uid');
  });

  test('list with offset and limit', async () => {
    for (const q of ['', '?limit=2', '?offset=1&limit=2', '?offset=100', '?limit=0', '?offset=2']) {
      const pair = await p.both('GET', `/indexes${q}`);
      assertSame(pair);
      assert.equal(pair.mir.status, 200);
    }
  });

  test('list with invalid offset and limit', async () => {
    await refuses('GET', '/indexes?offset=-1', 400, 'invalid_index_offset');
    await refuses('GET', '/indexes?offset=abc', 400, 'invalid_index_offset');
    await refuses('GET', '/indexes?limit=x', 400, 'invalid_index_limit');
    await refuses('GET', '/indexes?limit=1.5', 400, 'invalid_index_limit');
    await refuses('GET', '/indexes?color=red', 400, 'bad_request');
  });

  test('update the primary key of an index without documents', async () => {
    const { enqueued, done } = await p.task('PATCH', '/indexes/empty', { json: { primaryKey: 'sku' } });
    assertSame(enqueued);
    assertSame(done);
    assert.equal(done.mir.body.status, 'succeeded');
    assertSame(await p.both('GET', '/indexes/empty'));
  });

  test('update the primary key of an index with documents: the task fails', async () => {
    const { done } = await p.task('PATCH', '/indexes/movies', { json: { primaryKey: 'title' } });
    assertSame(done);
    assert.equal(done.mir.body.error?.code, 'index_primary_key_already_exists');
  });

  test('update an unknown index: the task fails with index_not_found', async () => {
    const { done } = await p.task('PATCH', '/indexes/ghost', { json: { primaryKey: 'id' } });
    assertSame(done);
    assert.equal(done.mir.body.error?.code, 'index_not_found');
  });

  test('update: invalid bodies', async () => {
    await refuses('PATCH', '/indexes/movies', 400, 'invalid_index_primary_key', { primaryKey: 1 });
    await refuses('PATCH', '/indexes/movies', 400, 'bad_request', { primaryKey: 'id', color: 1 });
    await refuses('PATCH', '/indexes/movies', 400, 'invalid_index_uid', { uid: 'bad uid' });
    await refuses('PATCH', '/indexes/bad%20uid', 400, 'invalid_index_uid', { primaryKey: 'id' });
  });

  test('rename with PATCH uid: the task details, then the index answers under its new name', async () => {
    const { done: made } = await p.task('POST', '/indexes', { json: { uid: 'oldname', primaryKey: 'id' } });
    assertSame(made);
    const { enqueued, done } = await p.task('PATCH', '/indexes/oldname', { json: { uid: 'newname' } });
    assertSame(enqueued);
    assertSame(done);
    assert.equal(done.ref.body.status, 'succeeded');
    assertSame(await p.both('GET', '/indexes/newname'));
    await refuses('GET', '/indexes/oldname', 404, 'index_not_found');
  });

  test('stats of one index and of all', async () => {
    // Sizes are the storage's own business; counts, field distribution and the key order are not.
    const sizes = { mask: ['rawDocumentDbSize', 'avgDocumentSize', 'databaseSize', 'usedDatabaseSize', 'lastUpdate'] };
    assertSame(await p.both('GET', '/indexes/movies/stats'), sizes);
    await refuses('GET', '/indexes/nope/stats', 404, 'index_not_found');
    assertSame(await p.both('GET', '/stats'), sizes);
  });

  test('stats with sizeFormat and showInternalDatabaseSizes', async () => {
    const sizes = { mask: ['rawDocumentDbSize', 'avgDocumentSize', 'databaseSize', 'usedDatabaseSize', 'lastUpdate', 'documents'] };
    for (const q of ['?sizeFormat=human', '?showInternalDatabaseSizes=true', '?sizeFormat=human&showInternalDatabaseSizes=true', '?sizeFormat=raw&showInternalDatabaseSizes=false']) {
      const one = await p.both('GET', `/indexes/movies/stats${q}`);
      assertSame(one, sizes);
      assert.equal(one.mir.status, 200);
      const all = await p.both('GET', `/stats${q}`);
      assertSame(all, sizes);
      if (q.includes('human')) {
        assert.match(all.mir.body.databaseSize, /^\d+(\.\d+)? (B|KiB|MiB|GiB)$/);
        assert.match(one.mir.body.rawDocumentDbSize, /^\d+(\.\d+)? (B|KiB|MiB|GiB)$/);
      }
      if (q.includes('Sizes=true')) assert.equal(typeof one.mir.body.internalDatabaseSizes, 'object');
    }
    await refuses('GET', '/stats?sizeFormat=humane', 400, 'invalid_stats_size_format');
    await refuses('GET', '/indexes/movies/stats?showInternalDatabaseSizes=yes', 400, 'invalid_stats_show_internal_database_sizes');
    await refuses('GET', '/stats?color=1', 400, 'bad_request');
  });

  test('version', async () => {
    assertSame(await p.both('GET', '/version'));
  });

  test('delete: the task and its details; then the index is gone', async () => {
    const { done: made } = await p.task('POST', '/indexes', { json: { uid: 'doomed', primaryKey: 'id' } });
    assertSame(made);
    const { done: filled } = await p.task('POST', '/indexes/doomed/documents', { json: [{ id: 1 }, { id: 2 }] });
    assertSame(filled);
    const { enqueued, done } = await p.task('DELETE', '/indexes/doomed');
    assertSame(enqueued);
    assertSame(done);
    assert.deepEqual(done.ref.body.details, { deletedDocuments: 2 });
    await refuses('GET', '/indexes/doomed', 404, 'index_not_found');
  });

  test('delete an unknown index: the task fails', async () => {
    const { done } = await p.task('DELETE', '/indexes/ghost');
    assertSame(done);
    assert.equal(done.mir.body.error?.code, 'index_not_found');
  });
});

describe('swap-indexes', () => {
  test('a swap: the task, then the indexes have traded places', async () => {
    const { done: made } = await p.task('POST', '/indexes', { json: { uid: 'swapa', primaryKey: 'a' } });
    assertSame(made);
    const { done: made2 } = await p.task('POST', '/indexes', { json: { uid: 'swapb', primaryKey: 'b' } });
    assertSame(made2);
    const { enqueued, done } = await p.task('POST', '/swap-indexes', { json: [{ indexes: ['swapa', 'swapb'] }] });
    assertSame(enqueued);
    assertSame(done);
    assert.equal(done.mir.body.status, 'succeeded');
    const a = await p.both('GET', '/indexes/swapa');
    assertSame(a);
    assert.equal(a.mir.body.primaryKey, 'b');
  });

  test('a swap with rename: the first index takes the second name', async () => {
    const { done: made } = await p.task('POST', '/indexes', { json: { uid: 'draft', primaryKey: 'id' } });
    assertSame(made);
    const { enqueued, done } = await p.task('POST', '/swap-indexes', { json: [{ indexes: ['draft', 'published'], rename: true }] });
    assertSame(enqueued);
    assertSame(done);
    assert.equal(done.ref.body.status, 'succeeded');
    assertSame(await p.both('GET', '/indexes/published'));
    await refuses('GET', '/indexes/draft', 404, 'index_not_found');
  });

  test('a swap with an unknown index: the task fails', async () => {
    const { enqueued, done } = await p.task('POST', '/swap-indexes', { json: [{ indexes: ['movies', 'ghost'] }] });
    assertSame(enqueued);
    assertSame(done);
    assert.equal(done.mir.body.error?.code, 'index_not_found');
  });

  test('invalid swaps are refused at once', async () => {
    await refuses('POST', '/swap-indexes', 400, 'invalid_swap_indexes', [{ indexes: ['movies'] }]);
    await refuses('POST', '/swap-indexes', 400, 'invalid_swap_indexes', [{ indexes: ['movies', 'books', 'empty'] }]);
    await refuses('POST', '/swap-indexes', 400, 'missing_swap_indexes', [{}]);
    await refuses('POST', '/swap-indexes', 400, 'invalid_swap_duplicate_index_found', [
      { indexes: ['movies', 'books'] },
      { indexes: ['books', 'empty'] },
    ]);
    // A malformed uid inside `indexes` is reported with the index-uid error.
    await refuses('POST', '/swap-indexes', 400, 'invalid_index_uid', [{ indexes: ['movies', 'bad uid'] }]);
    await refuses('POST', '/swap-indexes', 400, 'bad_request', { indexes: ['movies', 'books'] });
    await refuses('POST', '/swap-indexes', 400, 'bad_request', [{ indexes: ['movies', 'books'], color: 1 }]);
  });
});

describe('tasks', () => {
  test('the list and every filter', async () => {
    for (const q of [
      '',
      '?limit=3',
      '?statuses=failed',
      '?statuses=succeeded,failed&limit=50',
      '?types=indexCreation',
      '?types=indexDeletion,indexSwap',
      '?indexUids=movies',
      '?indexUids=movies,books',
      '?uids=0,1,2',
      '?batchUids=0',
      '?canceledBy=0',
      '?reverse=true&limit=4',
      '?afterEnqueuedAt=2000-01-01',
      '?beforeEnqueuedAt=2000-01-01',
      '?afterStartedAt=2000-01-01T00:00:00Z&limit=2',
      '?beforeFinishedAt=2999-01-01&statuses=failed',
      '?statuses=*&types=*&indexUids=*',
      '?from=2&limit=2',
    ]) {
      const pair = await p.both('GET', `/tasks${q}`);
      assertSame(pair);
      assert.equal(pair.mir.status, 200, q);
    }
  });

  test('invalid filters', async () => {
    await refuses('GET', '/tasks?statuses=sleeping', 400, 'invalid_task_statuses');
    await refuses('GET', '/tasks?types=indexMaking', 400, 'invalid_task_types');
    await refuses('GET', '/tasks?uids=a', 400, 'invalid_task_uids');
    await refuses('GET', '/tasks?uids=-1', 400, 'invalid_task_uids');
    await refuses('GET', '/tasks?batchUids=x', 400, 'invalid_batch_uids');
    await refuses('GET', '/tasks?canceledBy=x', 400, 'invalid_task_canceled_by');
    await refuses('GET', '/tasks?indexUids=bad%20uid', 400, 'invalid_index_uid');
    await refuses('GET', '/tasks?limit=-1', 400, 'invalid_task_limit');
    await refuses('GET', '/tasks?from=x', 400, 'invalid_task_from');
    await refuses('GET', '/tasks?reverse=maybe', 400, 'invalid_task_reverse');
    await refuses('GET', '/tasks?afterEnqueuedAt=yesterday', 400, 'invalid_task_after_enqueued_at');
    await refuses('GET', '/tasks?beforeFinishedAt=2020-13-01', 400, 'invalid_task_before_finished_at');
    await refuses('GET', '/tasks?color=red', 400, 'bad_request');
  });

  test('one task: unknown and invalid uids', async () => {
    await refuses('GET', '/tasks/999999', 404, 'task_not_found');
    // Meilisearch maps a path uid that is not a u32 to the list filter's code (`InvalidTaskUids`).
    await refuses('GET', '/tasks/abc', 400, 'invalid_task_uids');
    await refuses('GET', '/tasks/-1', 400, 'invalid_task_uids');
  });

  test('batches: one finished batch, unknown and invalid', async () => {
    const list = await p.both('GET', '/batches?limit=1&statuses=succeeded');
    assert.equal(list.mir.status, 200);
    assert.deepEqual(Object.keys(list.mir.body), Object.keys(list.ref.body));
    // A finished batch's stats: the same keys, in the same order, a progress trace of durations.
    const [ref, mir] = [list.ref.body.results[0], list.mir.body.results[0]];
    assert.deepEqual(Object.keys(mir), Object.keys(ref));
    assert.deepEqual(Object.keys(mir.stats), Object.keys(ref.stats));
    assert.deepEqual(Object.keys(mir.stats.progressTrace), ['processing tasks']);
    assert.match(mir.stats.progressTrace['processing tasks'], /^\d+\.\d\d(s|ms|µs|ns)$/);
    const one = await p.both('GET', `/batches/${mir.uid}`);
    assert.deepEqual(one.mir.body.stats.progressTrace, mir.stats.progressTrace);
    await refuses('GET', '/batches/999999', 404, 'batch_not_found');
    await refuses('GET', '/batches/abc', 400, 'invalid_batch_uids');
  });
});

/**
 * Regressions: cases where Miroir once answered otherwise than one node:
 * - Meilisearch's `cancel_tasks` and `delete_tasks` handlers refuse an empty filter set with
 *   `missing_task_filters` (routes/tasks.rs), as the reference engine does; Miroir enqueues a
 *   cancelation of every pending task;
 * - the tasks Miroir completes by itself (a cancelation or deletion of Miroir tasks) have
 *   `batchUid: null`, where a node's finished task always belongs to a batch.
 */
describe('regressions', () => {
  test('cancel and delete without filters: missing_task_filters', async () => {
    await refuses('POST', '/tasks/cancel', 400, 'missing_task_filters');
    await refuses('DELETE', '/tasks', 400, 'missing_task_filters');
    await refuses('POST', '/tasks/cancel?statuses=sleeping', 400, 'invalid_task_statuses');
    await refuses('DELETE', '/tasks?limit=2', 400, 'bad_request');
  });

  test('cancel matching nothing: a taskCancelation task', async () => {
    const { enqueued, done } = await p.task('POST', '/tasks/cancel?uids=999999');
    assertSame(enqueued);
    assertSame(done);
    assert.deepEqual(done.mir.body.details, { matchedTasks: 0, canceledTasks: 0, originalFilter: '?uids=999999' });
  });

  test('delete finished tasks of a filter: a taskDeletion task', async () => {
    const { enqueued, done } = await p.task('DELETE', '/tasks?types=indexSwap');
    assertSame(enqueued);
    assertSame(done);
    assert.equal(done.mir.body.type, 'taskDeletion');
    const after = await p.both('GET', '/tasks?types=indexSwap');
    assertSame(after);
    assert.equal(after.mir.body.total, 0);
  });
});
