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
