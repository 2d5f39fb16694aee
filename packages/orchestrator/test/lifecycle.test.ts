/**
 * Index lifecycle across the fleet (spec S3.1): creation broadcast and rolled back when a node
 * refuses it, swaps, deletion; writes enqueued back to back keep their order.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

let c: TestCluster;
before(async () => {
  c = await startCluster({ nodes: 3, rf: 2, shards: 8 });
});
after(async () => c?.stop());

async function settle(taskUid: number) {
  return c.client.tasks.waitForTask(taskUid, { timeout: 20_000 });
}

test('a creation one node refuses fails with its error and leaves the index nowhere', async () => {
  const direct = await c.nodeClient(1).createIndex('clash', { primaryKey: 'id' });
  await c.nodeClient(1).tasks.waitForTask(direct.taskUid);
  const r = await http(c.url, 'POST', '/indexes', { body: { uid: 'clash', primaryKey: 'id' } });
  assert.equal(r.status, 202);
  const task = await settle(r.body.taskUid);
  assert.equal(task.status, 'failed');
  assert.equal(task.error?.code, 'index_already_exists');
  // The nodes that created it have it removed again; the node that already had it keeps it.
  for (const i of [0, 2]) {
    for (let tries = 0; ; tries++) {
      const res = await http(c.engines[i]!.url, 'GET', '/indexes/clash', { key: 'node-master-key-for-tests' });
      if (res.status === 404) break;
      assert.ok(tries < 100, `node ${i} still has the index`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
});

test('writes enqueued without waiting apply in order on every node', async () => {
  const uids: number[] = [];
  uids.push((await http(c.url, 'POST', '/indexes', { body: { uid: 'ordered', primaryKey: 'sku' } })).body.taskUid);
  uids.push((await http(c.url, 'PATCH', '/indexes/ordered/settings', { body: { filterableAttributes: ['kind'] } })).body.taskUid);
  uids.push((await http(c.url, 'POST', '/indexes/ordered/documents', { body: [{ sku: 'a', kind: 'x' }, { sku: 'b', kind: 'y' }] })).body.taskUid);
  uids.push((await http(c.url, 'POST', '/indexes/ordered/documents/delete', { body: { filter: 'kind = x' } })).body.taskUid);
  assert.deepEqual(uids, [...uids].sort((a, b) => a - b));
  for (const u of uids) assert.equal((await settle(u)).status, 'succeeded', `task ${u}`);
  const docs = await http(c.url, 'GET', '/indexes/ordered/documents');
  assert.deepEqual(docs.body.results, [{ sku: 'b', kind: 'y' }]);
  const del = await c.client.tasks.getTask(uids[3]!);
  assert.deepEqual(del.details, { providedIds: 0, deletedDocuments: 1, originalFilter: '"kind = x"' });
});

test('swap exchanges two indexes on every node; deletion removes one everywhere', async () => {
  for (const [uid, title] of [['left', 'L'], ['right', 'R']] as const) {
    const t = await c.client.index(uid).addDocuments([{ id: 1, title }], { primaryKey: 'id' });
    assert.equal((await settle(t.taskUid)).status, 'succeeded');
  }
  const swap = await http(c.url, 'POST', '/swap-indexes', { body: [{ indexes: ['left', 'right'] }] });
  assert.equal(swap.status, 202);
  assert.equal(swap.body.type, 'indexSwap');
  assert.equal((await settle(swap.body.taskUid)).status, 'succeeded');
  assert.equal((await c.client.index('left').getDocument(1)).title, 'R');
  assert.equal((await c.client.index('right').getDocument(1)).title, 'L');

  const del = await c.client.deleteIndex('left');
  const task = await settle(del.taskUid);
  assert.equal(task.status, 'succeeded');
  assert.deepEqual(task.details, { deletedDocuments: 1 });
  for (let i = 0; i < 3; i++) {
    assert.equal((await http(c.engines[i]!.url, 'GET', '/indexes/left', { key: 'node-master-key-for-tests' })).status, 404);
  }
});

test('routes Miroir does not serve answer 501 miroir_not_supported', async () => {
  for (const [method, path] of [['POST', '/export'], ['POST', '/tasks/compact'], ['POST', '/indexes/left/compact']] as const) {
    const r = await http(c.url, method, path, { body: {} });
    assert.equal(r.status, 501, path);
    assert.equal(r.body.code, 'miroir_not_supported');
    assert.deepEqual(Object.keys(r.body), ['message', 'code', 'type', 'link']);
  }
});
