/**
 * A node that dies between health probes: a search that reaches it is answered by the other
 * replicas of its shards in the same request, complete and without a degraded header (RF=2).
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

let c: TestCluster;
const docs = Array.from({ length: 200 }, (_, id) => ({ id, title: `item ${id}`, kind: id % 2 === 0 ? 'even' : 'odd' }));

before(async () => {
  // Probes far apart, so the kill below is only seen by the search itself.
  c = await startCluster({ nodes: 3, rf: 2, shards: 8, config: { health: { interval_ms: 60_000, timeout_ms: 500 } } });
  const t1 = await c.client.createIndex('items', { primaryKey: 'id' });
  const t2 = await c.client.index('items').updateSettings({ filterableAttributes: ['kind'] });
  const t3 = await c.client.index('items').addDocuments(docs);
  for (const t of [t1, t2, t3]) assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

test('searches stay complete when a replica dies between probes', async () => {
  await c.engines[1]!.kill();
  for (let i = 0; i < 6; i++) {
    const r = await http(c.url, 'POST', '/indexes/items/search', { body: { q: 'item', limit: 0, facets: ['kind'] } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-miroir-degraded'), null);
    assert.equal(r.body.estimatedTotalHits, 200);
    assert.deepEqual(r.body.facetDistribution, { kind: { even: 100, odd: 100 } });
  }
});

test('with a replica down, majority writes to its shards answer 503 miroir_no_quorum', async () => {
  const r = await http(c.url, 'POST', '/indexes/items/documents', { body: docs.map((d) => ({ ...d, title: `new ${d.id}` })) });
  assert.equal(r.status, 503);
  assert.equal(r.body.code, 'miroir_no_quorum');
  assert.equal(r.headers.get('retry-after'), '10');
});

test('write_quorum one keeps RF=2 writable with a node down, and says what missed it', async () => {
  const one = await startCluster({ nodes: 3, rf: 2, shards: 8, config: { write_quorum: 'one', health: { interval_ms: 60_000, timeout_ms: 500 } } });
  try {
    const t = await one.client.createIndex('items', { primaryKey: 'id' });
    assert.equal((await one.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
    await one.engines[2]!.kill();
    const r = await http(one.url, 'POST', '/indexes/items/documents', { body: docs });
    assert.equal(r.status, 202);
    assert.match(r.headers.get('x-miroir-degraded') ?? '', /^groups=0; shards=\d+(,\d+)*$/);
    const task = await one.client.tasks.waitForTask(r.body.taskUid);
    assert.equal(task.status, 'succeeded');
    const all = await http(one.url, 'POST', '/indexes/items/search', { body: { q: '', limit: 0 } });
    assert.equal(all.body.estimatedTotalHits, 200);
  } finally {
    await one.stop();
  }
});

test('two of three nodes down at RF=2: partial answers with the header, or 503 under policy error', async () => {
  for (const policy of ['partial', 'error'] as const) {
    const k = await startCluster({
      nodes: 3,
      rf: 2,
      shards: 8,
      config: { scatter: { unavailable_shard_policy: policy }, health: { interval_ms: 60_000, timeout_ms: 500 } },
    });
    try {
      const t = await k.client.index('items').addDocuments(docs, { primaryKey: 'id' });
      assert.equal((await k.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
      await Promise.all([k.engines[0]!.kill(), k.engines[1]!.kill()]);
      const r = await http(k.url, 'POST', '/indexes/items/search', { body: { q: '', limit: 0 } });
      if (policy === 'partial') {
        assert.equal(r.status, 200);
        const header = r.headers.get('x-miroir-degraded') ?? '';
        assert.match(header, /^shards=\d+(,\d+)*$/);
        // Node 2 answers for its shards; the shards only nodes 0 and 1 held are named.
        const held = new Set(header.slice('shards='.length).split(',').map(Number));
        assert.ok(held.size > 0 && held.size < 8);
        assert.ok(r.body.estimatedTotalHits > 0 && r.body.estimatedTotalHits < 200);
      } else {
        assert.equal(r.status, 503);
        assert.equal(r.body.code, 'miroir_shard_unavailable');
      }
    } finally {
      await k.stop();
    }
  }
});

test('RG=2, RF=1: a dead node in group 0 is covered by group 1, results complete', async () => {
  const k = await startCluster({ nodes: 4, groups: 2, rf: 1, shards: 8, config: { health: { interval_ms: 60_000, timeout_ms: 500 } } });
  try {
    const t = await k.client.index('items').addDocuments(docs, { primaryKey: 'id' });
    assert.equal((await k.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
    await k.engines[0]!.kill();
    for (let i = 0; i < 4; i++) {
      const r = await http(k.url, 'POST', '/indexes/items/search', { body: { q: '', limit: 0 } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-miroir-degraded'), null);
      assert.equal(r.body.estimatedTotalHits, 200);
    }
  } finally {
    await k.stop();
  }
});
