/**
 * A node that joined but has not received its indexes yet (the rebalance prepares it) gets the
 * cluster's broadcasts from the moment it is registered: a delete by filter sent then fails there
 * with `index_not_found`, as the index does not exist on it yet. That node task does not decide
 * the Miroir task (the rebalance gives the node the index, and then documents read from a source
 * that applied the delete): the task succeeds, and the documents stay deleted everywhere.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FaultProxy } from './fault-proxy.js';
import { http, type TestCluster } from './harness.js';
import { MASTER_KEY, startLoadedCluster, until, waitRebalanced } from './topology-kit.js';

let c: TestCluster;
let proxy: FaultProxy | undefined;
before(async () => {
  c = await startLoadedCluster({ shards: 8, docs: 400, docsPerSec: 0 });
});
after(async () => {
  await proxy?.close();
  await c?.stop();
});

test('a delete by filter sent while a joining node lacks the index succeeds, and the rebalance keeps it applied', async () => {
  const set = await http(c.url, 'PATCH', '/indexes/items/settings', { key: MASTER_KEY, body: { filterableAttributes: ['id'] } });
  assert.equal((await c.client.tasks.waitForTask(set.body.taskUid)).status, 'succeeded');
  const added = await c.addEngine();
  // The new node refuses index creations until the fault is cleared: the rebalance cannot prepare it.
  proxy = await FaultProxy.start(added.address);
  proxy.fault = { kind: 'answer', request: /^POST \/indexes HTTP/, status: 503, reason: 'Service Unavailable' };
  const res = await http(c.url, 'POST', '/_miroir/nodes', { key: MASTER_KEY, body: { id: added.id, address: proxy.url } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  await until('the rebalance to be stuck preparing', async () => (await http(c.url, 'GET', '/_miroir/rebalance/status', { key: MASTER_KEY })).body.phase, (p) => p === 'preparing');

  const del = await http(c.url, 'POST', '/indexes/items/documents/delete', { key: MASTER_KEY, body: { filter: 'id < 100' } });
  assert.equal(del.status, 202, JSON.stringify(del.body));
  const task = await c.client.tasks.waitForTask(del.body.taskUid);
  assert.equal(task.status, 'succeeded', JSON.stringify(task.error));
  const onNew = await http(added.address, 'GET', '/indexes/items', { key: 'node-master-key-for-tests' });
  assert.equal(onNew.status, 404, 'the joining node does not have the index yet');

  proxy.fault = { kind: 'pass' };
  await waitRebalanced(c, MASTER_KEY);
  const docs = await http(c.url, 'GET', '/indexes/items/documents?limit=1000&fields=id', { key: MASTER_KEY });
  assert.equal(docs.body.total, 300);
  assert.ok(docs.body.results.every((d: { id: number }) => d.id >= 100));
  const held = await http(added.address, 'GET', '/indexes/items/documents?limit=1000&fields=id', { key: 'node-master-key-for-tests' });
  assert.ok(held.body.total > 0, 'the new node holds its shards');
  assert.ok(held.body.results.every((d: { id: number }) => d.id >= 100), 'and none of the deleted documents');
});
