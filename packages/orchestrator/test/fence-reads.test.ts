/**
 * Reads hold routing tickets (work/fence.ts, api/routes.ts): a search in flight through Miroir, one
 * of whose nodes answers slowly, keeps the orchestrator from acknowledging a newer routing epoch
 * until the search has answered; a barrier before old owners are cleaned up thus waits for the
 * reads that may still use them. Writes' tickets are covered by fence.test.ts.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

let c: TestCluster;
before(async () => {
  c = await startCluster({ nodes: 2, rf: 1, shards: 4, proxied: [1] });
  const r = await http(c.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: Array.from({ length: 20 }, (_, id) => ({ id })) });
  assert.equal((await c.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

test('a search in flight holds back the acknowledgement of a newer routing epoch', async () => {
  const store = c.miroir.cluster.store;
  const self = c.miroir.background.peers.self;
  c.proxies.get(1)!.set({ kind: 'delay', ms: 1500 });
  const search = http(c.url, 'POST', '/indexes/items/search', { body: { q: '' } });
  await new Promise((r) => setTimeout(r, 300));
  const epoch = await store.advanceRoutingEpoch();
  await store.publish({ kind: 'routing_changed', epoch });
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(((await store.routingAcks()).get(self) ?? 0) < epoch, 'the epoch is not acknowledged while the search runs');
  const res = await search;
  c.proxies.get(1)!.set({ kind: 'pass' });
  assert.equal(res.status, 200);
  assert.equal(res.body.estimatedTotalHits, 20);
  const end = Date.now() + 5000;
  while (((await store.routingAcks()).get(self) ?? 0) < epoch) {
    assert.ok(Date.now() < end, 'the epoch is acknowledged once the search answered');
    await new Promise((r) => setTimeout(r, 20));
  }
});
