/**
 * Soak (issue "Failures"): concurrent writers and searchers for a bounded time while one node is
 * killed and restarted twice. Acknowledged writes are never lost, the only 5xx are the specified
 * 503s, and every process survives.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

let c: TestCluster;
before(async () => {
  c = await startCluster({
    nodes: 3,
    rf: 2,
    shards: 8,
    config: { scatter: { node_timeout_ms: 1000 }, health: { interval_ms: 200, timeout_ms: 300, unhealthy_threshold: 2, recovery_threshold: 2 } },
  });
  const t = await c.client.createIndex('soak', { primaryKey: 'id' });
  assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

test('writes and searches through two kills and restarts of a node', async (t) => {
  const acknowledged = new Map<number, number>(); // doc id → the taskUid that acknowledged it
  const statuses = new Map<number, number>();
  let next = 0;
  let stop = false;
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

  const writer = async () => {
    while (!stop) {
      const batch = Array.from({ length: 5 }, () => ({ id: next++, title: `soak ${next}` }));
      const r = await http(c.url, 'POST', '/indexes/soak/documents', { body: batch });
      count(r.status);
      if (r.status === 202) for (const d of batch) acknowledged.set(d.id, r.body.taskUid);
      else assert.equal(r.body.code, 'miroir_no_quorum', JSON.stringify(r.body));
      await new Promise((res) => setTimeout(res, 10));
    }
  };
  const searcher = async () => {
    while (!stop) {
      const r = await http(c.url, 'POST', '/indexes/soak/search', { body: { q: 'soak', limit: 5 } });
      count(r.status);
      // With RF=2 and one node down, every search has a replica for every shard.
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.headers.get('x-miroir-degraded'), null);
      await new Promise((res) => setTimeout(res, 10));
    }
  };
  const chaos = async () => {
    for (let round = 0; round < 2; round++) {
      await new Promise((res) => setTimeout(res, 1500));
      await c.engines[1]!.kill();
      await new Promise((res) => setTimeout(res, 1500));
      await c.restartEngine(1);
    }
    await new Promise((res) => setTimeout(res, 1500));
    stop = true;
  };
  await Promise.all([writer(), writer(), searcher(), searcher(), chaos()]);

  // Every acknowledged write is there: through Miroir, and on both replicas of its shard.
  for (const uid of new Set(acknowledged.values())) {
    const task = await c.client.tasks.waitForTask(uid, { timeout: 30_000 });
    assert.equal(task.status, 'succeeded', JSON.stringify(task));
  }
  assert.ok(acknowledged.size > 50, `only ${acknowledged.size} acknowledged documents`);
  const ids = [...acknowledged.keys()];
  const found = await http(c.url, 'POST', '/indexes/soak/documents/fetch', { body: { ids, limit: ids.length + 10, fields: ['id'] } });
  assert.equal(found.body.total, ids.length);
  let copies = 0;
  for (let n = 0; n < 3; n++) {
    const r = await http(c.engines[n]!.url, 'POST', '/indexes/soak/documents/fetch', {
      body: { ids, limit: 0 },
      key: 'node-master-key-for-tests',
    });
    copies += r.body.total;
  }
  assert.equal(copies, 2 * ids.length, 'every acknowledged document is on both of its replicas');
  for (const status of statuses.keys()) assert.ok(status < 500 || status === 503, `status ${status}`);
  t.diagnostic(`acknowledged documents ${ids.length}; answers by status ${JSON.stringify(Object.fromEntries(statuses))}`);
  for (const e of c.engines) assert.equal(e.child.exitCode, null, 'every engine process is alive');
});
