/**
 * Network faults in front of one replica (issue "Failures"): a delayed, blackholed or resetting node
 * costs the client at most the node timeout — never an error, a hang or an incomplete answer while
 * another replica holds its shards — and repeated faults mark it failed.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

let c: TestCluster;
const docs = Array.from({ length: 120 }, (_, id) => ({ id, title: `thing ${id}` }));

before(async () => {
  c = await startCluster({
    nodes: 3,
    rf: 2,
    shards: 8,
    proxied: [1],
    config: { scatter: { node_timeout_ms: 400 }, health: { interval_ms: 150, timeout_ms: 150, unhealthy_threshold: 2, recovery_threshold: 2 } },
  });
  const t = await c.client.index('things').addDocuments(docs, { primaryKey: 'id' });
  assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

async function complete(): Promise<void> {
  const r = await http(c.url, 'POST', '/indexes/things/search', { body: { q: 'thing', limit: 0 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.headers.get('x-miroir-degraded'), null);
  assert.equal(r.body.estimatedTotalHits, 120);
}

async function nodeHealth(): Promise<string> {
  const t = await http(c.url, 'GET', '/_miroir/topology');
  return t.body.nodes.find((n: { id: string }) => n.id === 'node-1').health;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never: ${what}`);
}

test('a delayed replica slows answers but they stay complete', async () => {
  c.proxies.get(1)!.set({ kind: 'delay', ms: 100 });
  for (let i = 0; i < 3; i++) await complete();
  c.proxies.get(1)!.set({ kind: 'pass' });
});

test('a blackholed replica: answers stay complete, and the node is marked failed, then recovers', async () => {
  c.proxies.get(1)!.set({ kind: 'blackhole' });
  for (let i = 0; i < 3; i++) await complete();
  await until('node-1 failed', async () => (await nodeHealth()) === 'failed');
  await complete();
  c.proxies.get(1)!.set({ kind: 'pass' });
  await until('node-1 healthy again', async () => (await nodeHealth()) === 'healthy');
  await complete();
});

test('a replica that resets connections: answers stay complete', async () => {
  c.proxies.get(1)!.set({ kind: 'reset' });
  for (let i = 0; i < 3; i++) await complete();
  c.proxies.get(1)!.set({ kind: 'pass' });
  await until('node-1 healthy again', async () => (await nodeHealth()) === 'healthy');
});
