/**
 * Query explain (spec S13.20; docs/read-path.md): `POST /indexes/{uid}/explain` answers the plan a
 * search would follow without any node call (counted at the nodes); a primary-key `IN` of 3 values
 * is narrowed to at most 3 shards; `?execute=true` returns the same hits as `/search`; an alias
 * shows its resolution; warnings name what would go wrong; only the master and the admin key may
 * ask, and operator warnings are for the admin key; `miroir-ctl explain` prints the plan.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

const MASTER = 'explain-test-master-key';
const ADMIN = 'explain-test-admin-key';
const bin = (name: string) => fileURLToPath(new URL(`../../bin/${name}.js`, import.meta.url));
let c: TestCluster;

/** Requests the nodes received other than health probes. */
const nodeCalls = () => [...c.recorders.values()].reduce((n, r) => n + r.requests.filter((q) => q.path !== '/health').length, 0);
const clear = () => {
  for (const r of c.recorders.values()) r.clear();
};
const explain = (body: unknown, opts: { key?: string; uid?: string; query?: string } = {}) =>
  http(c.url, 'POST', `/indexes/${opts.uid ?? 'items'}/explain${opts.query ?? ''}`, { body, key: opts.key ?? MASTER });

before(async () => {
  c = await startCluster({ nodes: 3, rf: 1, shards: 16, recorded: true, masterKey: MASTER, adminKey: ADMIN, config: { result_cache: { enabled: false } } });
  const docs = Array.from({ length: 100 }, (_, id) => ({ id, title: `item ${id}`, color: id % 2 === 0 ? 'red' : 'blue' }));
  const r = await http(c.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: docs, key: MASTER });
  assert.equal((await c.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
  const s = await http(c.url, 'PATCH', '/indexes/items/settings', { body: { filterableAttributes: ['id', 'color'] }, key: MASTER });
  assert.equal((await c.client.tasks.waitForTask(s.body.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

test('a primary-key IN of 3 values: narrowed to at most 3 shards, with zero node calls', async () => {
  // Explain uses the index description this orchestrator holds (a search read it).
  assert.equal((await http(c.url, 'POST', '/indexes/items/search', { body: {}, key: MASTER })).status, 200);
  clear();
  const e = await explain({ q: 'item', filter: 'id IN [3, 14, 77]' });
  assert.equal(nodeCalls(), 0, `explain asked no node: ${[...c.recorders.values()].flatMap((r) => r.requests.map((q) => q.method + ' ' + q.path))}`);
  assert.equal(e.status, 200, JSON.stringify(e.body));
  assert.equal(e.body.resolved_uid, 'items');
  const p = e.body.plan;
  assert.equal(p.narrowed, true);
  assert.equal(p.narrowing_reason, 'pinned');
  assert.ok(p.target_shards.length >= 1 && p.target_shards.length <= 3, `target shards ${p.target_shards}`);
  assert.deepEqual(Object.keys(p.target_nodes).map(Number), p.target_shards);
  assert.deepEqual(p.chosen_group, { id: 0, reason: 'round_robin' });
  assert.equal(p.alias_resolution, null);
  assert.equal(typeof p.hedging_armed, 'boolean');
  assert.equal(p.coalescing_eligible, true);
  assert.equal(p.cache_candidate, false, 'the result cache is off in this cluster');
  assert.equal(p.broadcast_pending, false);
  assert.ok(p.settings_version >= 1);
  assert.deepEqual(e.body.warnings, []);

  const all = await explain({ q: 'item', filter: 'id = 1 OR color = red' });
  assert.equal(all.body.plan.narrowed, false);
  assert.equal(all.body.plan.narrowing_reason, 'not_pinned');
  assert.equal(all.body.plan.target_shards.length, 16);
  assert.deepEqual(all.body.warnings.map((w: { code: string }) => w.code), ['not_narrowed']);
  assert.equal(nodeCalls(), 0);
});

test('?execute=true returns the hits /search returns', async () => {
  for (const body of [{ q: 'item', filter: 'id IN [3, 14, 77]' }, { q: 'item 1', limit: 7 }, { filter: 'color = blue', offset: 5, limit: 3 }]) {
    const e = await explain(body, { query: '?execute=true' });
    assert.equal(e.status, 200, JSON.stringify(e.body));
    const s = await http(c.url, 'POST', '/indexes/items/search', { body, key: MASTER });
    assert.deepEqual(e.body.result.hits, s.body.hits);
    assert.equal(e.body.result.estimatedTotalHits, s.body.estimatedTotalHits);
  }
  const bad = await explain({ q: 'x' }, { query: '?execute=maybe' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'bad_request');
});

test('warnings: an unfilterable attribute, an invalid filter, a deep page, an unbounded wildcard', async () => {
  const codes = async (body: unknown) => (await explain(body)).body.warnings.map((w: { code: string }) => w.code);
  assert.deepEqual(await codes({ q: 'x', filter: 'title = a' }), ['not_narrowed', 'unfilterable_attribute']);
  const unfilterable = (await explain({ q: 'x', filter: 'title = a' })).body.warnings[1].message as string;
  assert.ok(!unfilterable.includes('_miroir'), `Miroir's own fields are not named: ${unfilterable}`);
  assert.match(unfilterable, /Attribute `title` is not filterable\. Available filterable attribute patterns are: `color`, `id`\./);
  const invalid = await codes({ q: 'x', filter: 'id = ' });
  assert.ok(invalid.includes('invalid_filter'), `${invalid}`);
  assert.deepEqual(await codes({ q: 'x', offset: 900, limit: 100 }), ['large_window']);
  assert.deepEqual(await codes({}), ['unbounded_wildcard_query']);
  // The body is checked as a search body: a bad parameter is the search's own error.
  const bad = await explain({ limit: 'ten' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'invalid_search_limit');
});

test('an alias shows its resolution', async () => {
  const a = await http(c.url, 'POST', '/_miroir/aliases', { body: { name: 'current', target: 'items' }, key: ADMIN });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  const e = await explain({ q: 'item' }, { uid: 'current' });
  assert.equal(e.status, 200, JSON.stringify(e.body));
  assert.equal(e.body.resolved_uid, 'items');
  assert.deepEqual(e.body.plan.alias_resolution, { from: 'current', to: 'items', version: a.body.version });
});

test('explaining needs the admin key, or a key that may search the index and read its settings', async () => {
  const key = async (actions: string[]) => (await http(c.url, 'POST', '/keys', { body: { actions, indexes: ['items'], expiresAt: null }, key: MASTER })).body.key as string;
  const denied = await explain({ q: 'x' }, { key: await key(['search']) });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.code, 'invalid_api_key');
  assert.equal((await explain({ q: 'x' }, { key: await key(['search', 'settings.get']) })).status, 200);
  assert.equal((await explain({ q: 'x' }, { key: await key(['*']) })).status, 200);
  const none = await http(c.url, 'POST', '/indexes/items/explain', { body: { q: 'x' } });
  assert.equal(none.status, 401);
  assert.equal(none.body.code, 'missing_authorization_header');
  assert.equal((await explain({ q: 'x' }, { key: ADMIN })).status, 200);
  const missing = await explain({ q: 'x' }, { uid: 'nope' });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'index_not_found');
});

test('miroir-ctl explain prints the plan', async () => {
  const run = (...args: string[]) =>
    promisify(execFile)(process.execPath, [bin('miroir-ctl'), '--api-url', c.url, ...args], { env: { PATH: process.env.PATH, MIROIR_ADMIN_API_KEY: ADMIN } });
  const human = await run('explain', '--index', 'items', '--q', 'item', '--filter', 'id = 42');
  assert.match(human.stdout, /shards: \d+ \(narrowed: pinned\)/);
  assert.match(human.stdout, /group: 0 \(round_robin\)/);
  const json = JSON.parse((await run('--json', 'explain', '--index', 'items', '--filter', 'id = 42', '--execute')).stdout);
  assert.equal(json.plan.target_shards.length, 1);
  assert.deepEqual(json.result.hits, [{ id: 42, title: 'item 42', color: 'red' }]);
});
