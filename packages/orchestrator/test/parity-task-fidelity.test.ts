/**
 * Task fidelity (spec S3.3): what a client reads back about its tasks through Miroir (3 nodes,
 * RF=2) is what one node shows — its own `customMetadata` on every route that takes one (and none
 * where it sent none), no trace of Miroir's own node-task markers, deleted tasks gone, dates with
 * the nodes' precision.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertSame, assertSameError, send, startParity, type Parity } from './parity-kit.js';

let p: Parity;

before(async () => {
  p = await startParity();
  for (const [method, path, json] of [
    ['POST', '/indexes', { uid: 'meta', primaryKey: 'id' }],
    ['PATCH', '/indexes/meta/settings', { filterableAttributes: ['id', 'genre'] }],
  ] as const) {
    const { done } = await p.task(method, path, { json });
    assert.equal(done.mir.body.status, 'succeeded');
  }
});
after(async () => p?.stop());

const docs = (ids: number[]) => ids.map((id) => ({ id, title: `t${id}`, genre: id % 2 === 0 ? 'even' : 'odd' }));

describe('customMetadata', () => {
  const calls: [string, string, unknown][] = [
    ['POST', '/indexes/meta/documents', docs([1, 2, 3, 4, 5, 6])],
    ['PUT', '/indexes/meta/documents', [{ id: 1, title: 'one' }]],
    ['DELETE', '/indexes/meta/documents/2', undefined],
    ['POST', '/indexes/meta/documents/delete-batch', [3, '4']],
    ['POST', '/indexes/meta/documents/delete', { filter: 'id = 5' }],
    ['DELETE', '/indexes/meta/documents', undefined],
  ];

  for (const value of ['job-42: nightly import', undefined]) {
    test(`every document write shows ${value === undefined ? 'no' : 'its own'} customMetadata, enqueued and finished`, async () => {
      if (value === undefined) {
        const { done } = await p.task('POST', '/indexes/meta/documents', { json: docs([1, 2, 3, 4, 5, 6]) });
        assert.equal(done.mir.body.status, 'succeeded');
      }
      for (const [method, path, json] of calls) {
        const q = value === undefined ? '' : `?customMetadata=${encodeURIComponent(value)}`;
        const { enqueued, done } = await p.task(method, `${path}${q}`, json === undefined ? {} : { json });
        assertSame(enqueued);
        assertSame(done);
        assert.equal(done.mir.body.status, 'succeeded', JSON.stringify(done.mir.body));
        assert.equal(enqueued.mir.body.customMetadata, value, `summary of ${enqueued.what}`);
        assert.equal(done.mir.body.customMetadata, value, `task of ${enqueued.what}`);
        // The list shows the same object.
        const mirList = await send(p.mir, 'GET', `/tasks?uids=${done.mir.body.uid}`);
        assert.deepEqual(mirList.body.results[0], done.mir.body);
      }
    });
  }

  test('an unknown parameter next to customMetadata is refused as one node refuses it', async () => {
    for (const [method, path] of [
      ['DELETE', '/indexes/meta/documents/1'],
      ['POST', '/indexes/meta/documents/delete-batch'],
      ['POST', '/indexes/meta/documents/delete'],
      ['DELETE', '/indexes/meta/documents'],
    ] as const) {
      const json = path.endsWith('delete-batch') ? [1] : path.endsWith('/delete') ? { filter: 'id = 1' } : undefined;
      const pair = await p.both(method, `${path}?customMetadata=x&color=red`, json === undefined ? {} : { json });
      assertSameError(pair, 400, 'bad_request');
    }
  });

  test('no node task marker reaches the client', async () => {
    const all = await send(p.mir, 'GET', '/tasks?limit=1000');
    assert.equal(all.status, 200);
    for (const t of all.body.results) assert.ok(!String(t.customMetadata ?? '').startsWith('miroir:'), JSON.stringify(t));
  });
});

describe('task deletion', () => {
  test('a finished task, once deleted, is gone from GET /tasks/{uid} and from the list', async () => {
    const { done } = await p.task('POST', '/indexes/meta/documents', { json: docs([7]) });
    const { done: deletion } = await p.task('DELETE', `/tasks?uids=${done.mir.body.uid}`);
    assertSame(deletion);
    assert.deepEqual(deletion.mir.body.details, { matchedTasks: 1, deletedTasks: 1, originalFilter: `?uids=${done.mir.body.uid}` });
    assert.equal((await send(p.mir, 'GET', `/tasks/${done.mir.body.uid}`)).body.code, 'task_not_found');
    assert.equal((await send(p.mir, 'GET', `/tasks?uids=${done.mir.body.uid}`)).body.total, 0);
  });

  test('a task being processed when the deletion is enqueued is deleted once done (the client does not wait for it)', async () => {
    // Sent without waiting, as the official client's tests do: one node has started it by the time
    // the deletion runs, so it is done and deleted; the same holds through Miroir.
    const sides = [p.ref, p.mir];
    for (const side of sides) {
      const added = await send(side, 'POST', '/indexes/meta/documents', { json: docs([8, 9]) });
      assert.equal(added.status, 202);
      const deletion = await send(side, 'DELETE', `/tasks?uids=${added.body.taskUid}`);
      assert.equal(deletion.status, 200);
      const finished = await p.wait(side, deletion.body.taskUid);
      assert.equal(finished.body.status, 'succeeded');
      const after = await send(side, 'GET', `/tasks/${added.body.taskUid}`);
      if (finished.body.details.deletedTasks === 1) assert.equal(after.body.code, 'task_not_found', `${side.name}: ${JSON.stringify(after.body)}`);
      else assert.equal(after.body.status, 'enqueued', `${side.name}: kept only while still enqueued`);
      assert.equal(finished.body.details.matchedTasks, 1);
    }
  });
});

describe('task dates', () => {
  test('Miroir prints its task dates with sub-millisecond digits, as a node does', async () => {
    const list = await send(p.mir, 'GET', '/tasks?limit=1000');
    const dates: string[] = list.body.results.flatMap((t: Record<string, string | null>) => [t.enqueuedAt, t.startedAt, t.finishedAt]).filter((d: string | null) => d !== null);
    assert.ok(dates.length > 20);
    for (const d of dates) assert.match(d, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    // Millisecond dates would all have at most 3 fractional digits.
    const fine = dates.filter((d) => (/\.(\d+)Z$/.exec(d)?.[1]?.length ?? 0) > 3);
    assert.ok(fine.length > dates.length / 2, `dates: ${dates.slice(0, 10).join(' ')}`);
  });
});
