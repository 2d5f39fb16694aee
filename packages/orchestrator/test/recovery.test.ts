/**
 * A node that misses writes while down (RG=1, RF=2, 3 nodes, `write_quorum: one`) and comes back:
 * it serves no reads until it has replayed, in order, every write it missed (upserts, deletes by id,
 * deletes by filter), then every replica holds exactly the acknowledged state; one anti-entropy pass
 * then finds nothing to repair. The queue is in the state store: an orchestrator restart in between
 * loses nothing of it.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';
import { antiEntropyPass, assertReplicasAgree, nodeContents } from './replica-kit.js';

type Doc = { id: number; title: string; n: number };

let c: TestCluster;
/** The acknowledged state: id → document. */
const expected = new Map<string, Doc>();
const INTERVAL = 300;

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const nodeHealth = async (id: string) =>
  ((await http(c.url, 'GET', '/_miroir/topology')).body.nodes as { id: string; health: string }[]).find((n) => n.id === id)!.health;

async function acknowledged(r: { status: number; body: { taskUid: number } }): Promise<void> {
  assert.equal(r.status, 202);
  assert.equal((await c.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
}

async function searchCount(): Promise<number> {
  const r = await http(c.url, 'POST', '/indexes/items/search', { body: { q: '', limit: 0 } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-miroir-degraded'), null);
  return r.body.estimatedTotalHits as number;
}

before(async () => {
  c = await startCluster({
    nodes: 3,
    rf: 2,
    shards: 16,
    config: { write_quorum: 'one', health: { interval_ms: INTERVAL, timeout_ms: 200, unhealthy_threshold: 2, recovery_threshold: 2 }, anti_entropy: { duty_cycle: 1 } },
  });
  const t = await c.client.index('items').updateSettings({ filterableAttributes: ['n'], pagination: { maxTotalHits: 10_000 } });
  assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
  const docs = Array.from({ length: 1000 }, (_, id) => ({ id, title: `item ${id}`, n: id }));
  await acknowledged(await http(c.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: docs }));
  for (const d of docs) expected.set(String(d.id), d);
});
after(async () => c?.stop());

test('writes missed by a dead node are replayed in order before it serves again', async (t) => {
  await c.engines[2]!.kill();
  assert.equal(await searchCount(), 1000);

  const added = Array.from({ length: 100 }, (_, i) => ({ id: 1000 + i, title: `new ${i}`, n: 1000 + i }));
  const write = await http(c.url, 'POST', '/indexes/items/documents', { body: added });
  assert.match(write.headers.get('x-miroir-degraded') ?? '', /^groups=0; shards=/);
  await acknowledged(write);
  for (const d of added) expected.set(String(d.id), d);

  const updated = Array.from({ length: 50 }, (_, i) => ({ id: i, title: `updated ${i}`, n: i }));
  await acknowledged(await http(c.url, 'PUT', '/indexes/items/documents', { body: updated.map(({ id, title }) => ({ id, title })) }));
  for (const d of updated) expected.set(String(d.id), d);

  const deleted = Array.from({ length: 30 }, (_, i) => 100 + i);
  await acknowledged(await http(c.url, 'POST', '/indexes/items/documents/delete-batch', { body: deleted }));
  for (const id of deleted) expected.delete(String(id));

  const byFilter = await http(c.url, 'POST', '/indexes/items/documents/delete', { body: { filter: 'n >= 900 AND n < 950' } });
  assert.equal(byFilter.headers.get('x-miroir-degraded'), 'nodes=node-2');
  await acknowledged(byFilter);
  for (let id = 900; id < 950; id++) expected.delete(String(id));

  assert.equal(await searchCount(), expected.size);
  await waitFor('node-2 to be marked failed', async () => (await nodeHealth('node-2')) === 'failed');

  await c.restartEngine(2);
  const restarted = Date.now();
  await waitFor('node-2 to serve again', async () => (await nodeHealth('node-2')) === 'healthy');
  t.diagnostic(`node-2 served again ${Date.now() - restarted} ms after its restart (health interval ${INTERVAL} ms)`);
  // Before any anti-entropy pass: the replayed writes alone brought it to the acknowledged state.
  await assertReplicasAgree(c, 'items', expected.keys());
  const contents = await nodeContents(c, 'items');
  for (const [i, m] of contents.entries()) {
    for (const id of m.keys()) assert.ok(expected.has(id), `node ${i} holds ${id}, which was deleted`);
    for (const [id, doc] of m) {
      const { _miroir_shard, _miroir_updated_at, ...own } = doc;
      assert.deepEqual(own, expected.get(id));
    }
  }
  const metrics = await (await fetch(c.miroir.metricsUrl!)).text();
  assert.match(metrics, /^miroir_handoff_replayed_total\{node_id="node-2"\} [1-9]\d*$/m);
  assert.equal(await searchCount(), expected.size);
  const pass = await antiEntropyPass(c);
  assert.deepEqual([pass.mismatches, pass.shardsSkipped, pass.errors], [0, 0, []]);
});

test('the queue of missed writes survives an orchestrator restart: deletes included, nothing left for anti-entropy', async () => {
  await c.engines[1]!.kill();
  const added = Array.from({ length: 200 }, (_, i) => ({ id: 2000 + i, title: `late ${i}`, n: 2000 + i }));
  await acknowledged(await http(c.url, 'POST', '/indexes/items/documents', { body: added }));
  for (const d of added) expected.set(String(d.id), d);
  const deleted = Array.from({ length: 40 }, (_, i) => 200 + i);
  await acknowledged(await http(c.url, 'POST', '/indexes/items/documents/delete-batch', { body: deleted }));
  for (const id of deleted) expected.delete(String(id));
  await c.restartMiroir();
  await c.restartEngine(1);
  await waitFor('node-1 to serve again', async () => (await nodeHealth('node-1')) === 'healthy');
  await assertReplicasAgree(c, 'items', expected.keys());
  for (const [i, m] of (await nodeContents(c, 'items')).entries()) for (const id of m.keys()) assert.ok(expected.has(id), `node ${i} holds ${id}, which was deleted`);
  const pass = await antiEntropyPass(c);
  assert.deepEqual([pass.mismatches, pass.shardsSkipped, pass.errors], [0, 0, []]);
});

test('a write whose answer was lost is found in the node task list on replay, not sent twice', async () => {
  const k = await startCluster({
    nodes: 2,
    rf: 2,
    shards: 4,
    proxied: [1],
    config: { write_quorum: 'one', scatter: { node_timeout_ms: 400 }, health: { interval_ms: INTERVAL, timeout_ms: 200, unhealthy_threshold: 2, recovery_threshold: 2 } },
  });
  try {
    await acknowledgedOn(k, await http(k.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: [{ id: 0, title: 'first' }] }));
    k.proxies.get(1)!.set({ kind: 'mute' });
    const docs = Array.from({ length: 37 }, (_, i) => ({ id: 100 + i, title: `muted ${i}` }));
    const r = await http(k.url, 'POST', '/indexes/items/documents', { body: docs });
    assert.equal(r.headers.get('x-miroir-degraded')?.startsWith('groups=0; shards='), true);
    await acknowledgedOn(k, r);
    const health = async () => ((await http(k.url, 'GET', '/_miroir/topology')).body.nodes as { health: string }[])[1]!.health;
    await waitFor('node-1 to fail', async () => (await health()) === 'failed');
    k.proxies.get(1)!.set({ kind: 'pass' });
    await waitFor('node-1 to serve again', async () => (await health()) === 'healthy');
    const tasks = await k.nodeClient(1).tasks.getTasks({ types: ['documentAdditionOrUpdate'], limit: 100 });
    // The node enqueued the muted write once; the replay found its marker and did not resend it.
    assert.deepEqual(
      tasks.results.map((t) => t.details?.receivedDocuments).sort(),
      [1, 37],
    );
    const held = await k.nodeClient(1).index('items').getDocuments({ limit: 100 });
    assert.equal(held.total, 38);
  } finally {
    await k.stop();
  }
});

async function acknowledgedOn(k: TestCluster, r: { status: number; body: { taskUid: number } }): Promise<void> {
  assert.equal(r.status, 202);
  assert.equal((await k.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
}
