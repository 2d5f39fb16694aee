/**
 * The state store out of reach (Redis cut by a TCP proxy): requests that need it get 503
 * `miroir_store_unavailable` (retryable, Meilisearch's shape), never a 500, and the process stays
 * up; once the store is back, everything answers as before.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultProxy } from './fault-proxy.js';
import { http, startCluster, type TestCluster } from './harness.js';
import { REDIS_URL, redisSkip, testPrefix } from './redis-kit.js';

const MASTER = 'store-outage-client-key';
let proxy: FaultProxy | undefined;
let c: TestCluster | undefined;
const skip = await redisSkip();

before(async () => {
  if (skip) return;
  const target = new URL(REDIS_URL);
  proxy = await FaultProxy.start(`http://${target.hostname}:${target.port || 6379}`);
  const port = new URL(proxy.url).port;
  c = await startCluster({
    nodes: 2,
    rf: 1,
    shards: 4,
    masterKey: MASTER,
    nodeMasterKey: 'store-outage-node-key',
    config: { task_store: { backend: 'redis', url: `redis://127.0.0.1:${port}`, key_prefix: testPrefix() } },
  });
});
after(async () => {
  proxy?.set({ kind: 'pass' });
  await c?.stop();
  await proxy?.close();
});

test('a store outage is a 503 where the store is needed, never a 500', { skip }, async () => {
  const cluster = c!;
  const created = await http(cluster.url, 'POST', '/indexes/films/documents', { key: MASTER, body: [{ id: 1, title: 'Carol' }] });
  assert.equal(created.status, 202);
  await cluster.client.tasks.waitForTask(created.body.taskUid);
  const key = await http(cluster.url, 'POST', '/keys', { key: MASTER, body: { actions: ['search'], indexes: ['films'], expiresAt: null } });
  assert.equal(key.status, 201);
  const search = () => http(cluster.url, 'POST', '/indexes/films/search', { key: key.body.key, body: { q: 'carol' } });
  assert.equal((await search()).status, 200);

  proxy!.set({ kind: 'reset' });
  // A credential no one here knows cannot be decided without the store.
  const unknown = await http(cluster.url, 'POST', '/indexes/films/search', { key: 'a-key-created-elsewhere', body: {} });
  assert.equal(unknown.status, 503, JSON.stringify(unknown.body));
  assert.equal(unknown.body.code, 'miroir_store_unavailable');
  assert.deepEqual(Object.keys(unknown.body).sort(), ['code', 'link', 'message', 'type']);
  assert.equal(unknown.headers.get('retry-after'), '10');
  // A write needs the store (its task lives there).
  const write = await http(cluster.url, 'POST', '/keys', { key: MASTER, body: { actions: ['search'], indexes: ['*'], expiresAt: null } });
  assert.equal(write.status, 503, JSON.stringify(write.body));
  assert.equal(write.body.code, 'miroir_store_unavailable');
  // Reads need the store too (index metadata, settings versions): 503, or an answer; never a 500.
  for (const r of [await search(), await http(cluster.url, 'GET', '/indexes/films/documents/1', { key: MASTER }), await http(cluster.url, 'GET', '/tasks', { key: MASTER })]) {
    assert.ok(r.status < 300 || (r.status === 503 && r.body.code === 'miroir_store_unavailable'), `${r.status} ${JSON.stringify(r.body)}`);
  }
  assert.equal((await http(cluster.url, 'GET', '/health')).status, 200);

  proxy!.set({ kind: 'pass' });
  let back: Awaited<ReturnType<typeof http>> | undefined;
  for (let i = 0; i < 100; i++) {
    back = await http(cluster.url, 'POST', '/indexes/films/search', { key: 'a-key-created-elsewhere', body: {} });
    if (back.status !== 503) break;
    await sleep(100);
  }
  assert.equal(back!.status, 403, JSON.stringify(back!.body));
  assert.equal(back!.body.code, 'invalid_api_key');
  assert.equal((await search()).status, 200);
});
