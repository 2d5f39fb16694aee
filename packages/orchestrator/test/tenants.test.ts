/**
 * Tenant-to-group affinity (spec S13.15; docs/read-path.md): two replica groups of one node each,
 * tenant `a` mapped to group 0, which is dedicated. Every read of `a` (search, document read,
 * multi-search) is served by group 0; unmapped tenants, and reads naming no tenant, never land in the
 * dedicated group; writes still reach both groups. In `explicit` mode with `fallback: reject`, an
 * unknown tenant is refused with 403 `miroir_tenant_unknown`; in `api_key` mode the tenant comes from
 * the tenant map, keyed by the sha256 of the request's key (`/_miroir/tenants`).
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

const MASTER = 'tenant-test-master-key';
let c: TestCluster;

/** Read calls each node received since the last clear (searches and document reads of `items`). */
const reads = () => [0, 1].map((i) => c.recorders.get(i)!.requests.filter((q) => q.path.startsWith('/indexes/items/search') || q.path.startsWith('/indexes/items/documents/')).length);
const clear = () => {
  for (const r of c.recorders.values()) r.clear();
};

before(async () => {
  c = await startCluster({
    nodes: 2,
    groups: 2,
    rf: 1,
    shards: 4,
    recorded: true,
    masterKey: MASTER,
    config: {
      tenant_affinity: { static_map: { a: 0 }, dedicated_groups: [0] },
      result_cache: { enabled: false },
      query_coalescing: { enabled: false },
    },
  });
  const r = await http(c.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: Array.from({ length: 30 }, (_, id) => ({ id, title: `item ${id}` })), key: MASTER });
  assert.equal((await c.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

test("tenant a's reads all hit its group; other tenants and untagged reads never reach the dedicated group", async () => {
  clear();
  for (let i = 0; i < 10; i++) {
    const s = await http(c.url, 'POST', '/indexes/items/search', { body: { q: 'item' }, key: MASTER, headers: { 'x-miroir-tenant': 'a' } });
    assert.equal(s.status, 200);
    assert.equal(s.body.estimatedTotalHits, 30);
    const d = await http(c.url, 'GET', `/indexes/items/documents/${i}`, { key: MASTER, headers: { 'x-miroir-tenant': 'a' } });
    assert.equal(d.status, 200);
  }
  const m = await http(c.url, 'POST', '/multi-search', { body: { queries: [{ indexUid: 'items', q: 'item' }] }, key: MASTER, headers: { 'x-miroir-tenant': 'a' } });
  assert.equal(m.status, 200);
  assert.deepEqual(reads(), [21, 0], 'every read of tenant a went to group 0 (node-0)');

  clear();
  for (let i = 0; i < 10; i++) {
    for (const headers of [{ 'x-miroir-tenant': `other-${i}` }, {}] as Record<string, string>[]) {
      const s = await http(c.url, 'POST', '/indexes/items/search', { body: { q: 'item' }, key: MASTER, headers });
      assert.equal(s.status, 200);
      assert.equal(s.body.estimatedTotalHits, 30);
    }
  }
  assert.deepEqual(reads(), [0, 20], 'unmapped tenants and untagged reads stay out of the dedicated group');

  // Writes still reach both groups.
  const w = await http(c.url, 'POST', '/indexes/items/documents', { body: [{ id: 100, title: 'new' }], key: MASTER, headers: { 'x-miroir-tenant': 'a' } });
  assert.equal((await c.client.tasks.waitForTask(w.body.taskUid)).status, 'succeeded');
  for (const i of [0, 1]) assert.equal((await c.nodeClient(i).index('items').getDocument(100)).title, 'new');

  const metrics = await (await fetch(`${c.url}/_miroir/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })).text();
  assert.match(metrics, /miroir_tenant_queries_total\{tenant="a",group="0"\} (\d+)/);
  assert.match(metrics, /miroir_tenant_queries_total\{tenant="unmapped",group="1"\} 10/);
  assert.match(metrics, /miroir_tenant_pinned_groups\{tenant="a"\} 0/);
});

test('explain names the tenant rule; a session pin overrides it and is counted', async () => {
  const e = await http(c.url, 'POST', '/indexes/items/explain', { body: { q: 'item' }, key: MASTER, headers: { 'x-miroir-tenant': 'a' } });
  assert.equal(e.status, 200, JSON.stringify(e.body));
  assert.deepEqual(e.body.plan.chosen_group, { id: 0, reason: 'tenant' });
  assert.equal(e.body.plan.tenant_affinity_pinned, true);
  const other = await http(c.url, 'POST', '/indexes/items/explain', { body: { q: 'item' }, key: MASTER });
  assert.deepEqual(other.body.plan.chosen_group, { id: 1, reason: 'round_robin' });
});

test('explicit mode with fallback reject: an unknown tenant gets 403 miroir_tenant_unknown', async () => {
  const x = await startCluster({ nodes: 2, groups: 2, rf: 1, shards: 2, config: { tenant_affinity: { mode: 'explicit', fallback: 'reject', static_map: { a: 1 } } } });
  try {
    const r = await http(x.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: [{ id: 1 }] });
    assert.equal((await x.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
    assert.equal((await http(x.url, 'POST', '/indexes/items/search', { body: {}, headers: { 'x-miroir-tenant': 'a' } })).status, 200);
    const refused = await http(x.url, 'POST', '/indexes/items/search', { body: {}, headers: { 'x-miroir-tenant': 'zz' } });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'miroir_tenant_unknown');
    assert.equal(refused.body.type, 'auth');
    // A read that names no tenant is served as usual.
    assert.equal((await http(x.url, 'POST', '/indexes/items/search', { body: {} })).status, 200);
  } finally {
    await x.stop();
  }
});

test('api_key mode: the tenant map (by key sha256) sends a key to its group', async () => {
  const k = await startCluster({
    nodes: 2,
    groups: 2,
    rf: 1,
    shards: 2,
    recorded: true,
    masterKey: MASTER,
    config: { tenant_affinity: { mode: 'api_key' }, result_cache: { enabled: false }, query_coalescing: { enabled: false } },
  });
  try {
    const r = await http(k.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: [{ id: 1, title: 'one' }], key: MASTER });
    assert.equal((await k.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
    const key = await http(k.url, 'POST', '/keys', { body: { actions: ['search'], indexes: ['items'], expiresAt: null }, key: MASTER });
    assert.equal(key.status, 201);
    const bad = await http(k.url, 'PUT', '/_miroir/tenants', { body: { tenant_id: 't' }, key: MASTER });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'miroir_invalid_tenant_mapping');
    const put = await http(k.url, 'PUT', '/_miroir/tenants', { body: { api_key: key.body.key, tenant_id: 'acme', group_id: 1 }, key: MASTER });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.match(put.body.api_key_hash, /^[0-9a-f]{64}$/);
    assert.deepEqual((await http(k.url, 'GET', '/_miroir/tenants', { key: MASTER })).body.results, [put.body]);
    for (const rec of k.recorders.values()) rec.clear();
    for (let i = 0; i < 6; i++) assert.equal((await http(k.url, 'POST', '/indexes/items/search', { body: { q: 'one' }, key: key.body.key })).body.hits.length, 1);
    const calls = [0, 1].map((i) => k.recorders.get(i)!.requests.filter((q) => q.path === '/indexes/items/search').length);
    assert.deepEqual(calls, [0, 6], "the key's tenant reads group 1 only");
    assert.equal((await http(k.url, 'DELETE', `/_miroir/tenants/${put.body.api_key_hash}`, { key: MASTER })).status, 204);
    assert.deepEqual((await http(k.url, 'GET', '/_miroir/tenants', { key: MASTER })).body.results, []);
  } finally {
    await k.stop();
  }
});
