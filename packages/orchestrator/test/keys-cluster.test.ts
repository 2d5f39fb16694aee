/**
 * One cluster-wide key set (spec S9, key model B), through the official client: Miroir lists the
 * same keys on every call and on every orchestrator, none of its nodes' own keys; every listed key
 * (defaults included) and every tenant token signed with one works against Miroir, whose master key
 * differs from the nodes'; key CRUD works with a node down and survives a restart; a key deleted,
 * or expired, stops working on every orchestrator sharing the store.
 */
import * as assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Meilisearch, MeilisearchApiError, type Key } from 'meilisearch';
import { generateTenantToken } from 'meilisearch/token';
import { startFleet, type Fleet } from './fleet.js';
import { http, startCluster, type TestCluster } from './harness.js';
import { redisSkip } from './redis-kit.js';
import { until } from './topology-kit.js';

const MASTER = 'client-master-key-for-keys';
const NODE_MASTER = 'node-master-key-for-keys';
const FILMS = Array.from({ length: 30 }, (_, id) => ({ id, title: `film ${id}`, genre: id % 2 === 0 ? 'drama' : 'comedy' }));

/** What one Meilisearch with master key `master` shows as the value of key `uid`. */
const valueOf = (master: string, uid: string) => createHmac('sha256', master).update(uid).digest('hex');

/** The Meilisearch error code a call fails with. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MeilisearchApiError) return e.cause?.code ?? String(e.response.status);
    throw e;
  }
  return 'ok';
}

/** A JSON answer of `url` with the master key, as the wire has it (the client turns some dates into `Date`s). */
async function wire(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await http(url, method, path, { key: MASTER, ...(body === undefined ? {} : { body }) });
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function loadFilms(client: Meilisearch): Promise<void> {
  const index = client.index('films');
  assert.equal((await index.addDocuments(FILMS, { primaryKey: 'id' }).waitTask()).status, 'succeeded');
  assert.equal((await index.updateFilterableAttributes(['genre']).waitTask()).status, 'succeeded');
}

describe('one key set for the cluster (3 nodes, RF=2, client key != node key)', () => {
  let c: TestCluster;
  const as = (key: string) => new Meilisearch({ host: c.url, apiKey: key });
  const byName = (keys: Key[], name: string) => keys.find((k) => k.name === name)!;

  before(async () => {
    c = await startCluster({ nodes: 3, rf: 2, shards: 8, masterKey: MASTER, nodeMasterKey: NODE_MASTER });
    await loadFilms(c.client);
  });
  after(async () => c?.stop());

  test("Meilisearch's default keys, listed identically on every call, none of a node's own", async () => {
    const first = await wire(c.url, 'GET', '/keys');
    assert.deepEqual(
      first.results.map((k: Key) => [k.name, k.actions, k.indexes, k.expiresAt]),
      [
        ['Default Search API Key', ['search'], ['*'], null],
        ['Default Admin API Key', ['*'], ['*'], null],
        ['Default Read-Only Admin API Key', ['*.get', 'keys.get'], ['*'], null],
        ['Default Chat API Key', ['chatCompletions', 'search'], ['*'], null],
      ],
    );
    assert.deepEqual([first.offset, first.limit, first.total], [0, 20, 4]);
    for (let i = 0; i < 5; i++) assert.deepEqual(await wire(c.url, 'GET', '/keys'), first);
    for (const k of first.results) {
      assert.equal(k.key, valueOf(MASTER, k.uid), 'a value is derived from Miroir master key, as one node derives it from its own');
      assert.deepEqual(await wire(c.url, 'GET', `/keys/${k.uid}`), k);
      assert.deepEqual(await wire(c.url, 'GET', `/keys/${k.key}`), k);
    }
    const listed = new Set(first.results.map((k: Key) => k.uid));
    for (let i = 0; i < 3; i++) {
      for (const own of (await c.nodeClient(i).getKeys({ limit: 100 })).results) assert.ok(!listed.has(own.uid), `node ${i}'s key ${own.name} is listed`);
    }
  });

  test('pagination slices the listing as one node does', async () => {
    const all = (await c.client.getKeys({ limit: 100 })).results;
    for (const [offset, limit] of [[1, 2], [0, 1], [3, 5], [4, 1], [10, 2]] as const) {
      const page = await c.client.getKeys({ offset, limit });
      assert.deepEqual(page, { results: all.slice(offset, offset + limit), offset, limit, total: all.length });
    }
    const bad = await http(c.url, 'GET', '/keys?limit=-1', { key: MASTER });
    assert.deepEqual([bad.status, bad.body.code], [400, 'invalid_api_key_limit']);
  });

  test('each default key opens what it grants', async () => {
    const keys = (await c.client.getKeys()).results;
    const admin = as(byName(keys, 'Default Admin API Key').key);
    assert.ok((await admin.getIndexes()).results.some((i) => i.uid === 'films'));
    assert.equal((await admin.createIndex('made-by-admin-key').waitTask()).status, 'succeeded');
    const readOnly = as(byName(keys, 'Default Read-Only Admin API Key').key);
    assert.equal((await readOnly.getKeys()).total, 4);
    assert.equal(await codeOf(readOnly.createKey({ actions: ['search'], indexes: ['*'], expiresAt: null })), 'invalid_api_key');
    const search = as(byName(keys, 'Default Search API Key').key);
    assert.equal((await search.index('films').search('film', { filter: 'genre = drama' })).estimatedTotalHits, 15);
    assert.equal(await codeOf(search.getIndexes()), 'invalid_api_key');
    const chat = as(byName(keys, 'Default Chat API Key').key);
    assert.equal((await chat.index('films').search('')).estimatedTotalHits, 30);
  });

  test('keys created with and without a uid, patched, and deleted by uid and by value', async () => {
    const made = await wire(c.url, 'POST', '/keys', { name: 'films search', actions: ['search'], indexes: ['films'], expiresAt: null });
    assert.equal(made.key, valueOf(MASTER, made.uid));
    const uid = '5b0b1c9e-4d1c-4a8e-9a57-2f0d1e2c3b4a';
    const given = await wire(c.url, 'POST', '/keys', { uid, description: 'given uid', actions: ['documents.get', 'indexes.get'], indexes: ['fil*'], expiresAt: '2099-01-01T00:00:00+02:00' });
    assert.deepEqual([given.uid, given.key, given.expiresAt], [uid, valueOf(MASTER, uid), '2099-01-01T00:00:00+02:00']);
    assert.equal(await codeOf(c.client.createKey({ uid, actions: ['search'], indexes: ['*'], expiresAt: null })), 'api_key_already_exists');

    const listing = (await wire(c.url, 'GET', '/keys')).results;
    assert.deepEqual(listing.slice(0, 2), [given, made], 'newest first');
    assert.equal((await as(made.key).index('films').search('film')).estimatedTotalHits, 30);
    assert.equal(await codeOf(as(made.key).index('made-by-admin-key').search('')), 'invalid_api_key');
    assert.equal((await as(given.key).index('films').getDocument(3)).title, 'film 3');

    const patched = await wire(c.url, 'PATCH', `/keys/${made.uid}`, { name: 'renamed', description: 'now described' });
    assert.deepEqual([patched.name, patched.description, patched.createdAt], ['renamed', 'now described', made.createdAt]);
    assert.notEqual(patched.updatedAt, made.updatedAt);
    assert.deepEqual(await wire(c.url, 'GET', `/keys/${made.key}`), patched);
    const immutable = await http(c.url, 'PATCH', `/keys/${made.uid}`, { key: MASTER, body: { actions: ['*'] } });
    assert.deepEqual([immutable.status, immutable.body.code], [400, 'immutable_api_key_actions']);

    await c.client.deleteKey(made.key);
    assert.equal(await codeOf(c.client.getKey(made.uid)), 'api_key_not_found');
    assert.equal(await codeOf(as(made.key).index('films').search('')), 'invalid_api_key');
    await c.client.deleteKey(uid);
    assert.equal(await codeOf(c.client.getKey(given.key)), 'api_key_not_found');
    assert.equal(await codeOf(as(given.key).index('films').getDocument(3)), 'invalid_api_key');
    assert.equal((await c.client.getKeys()).total, 4);
  });

  test('tenant tokens signed with a listed key: default or created', async () => {
    const keys = (await c.client.getKeys()).results;
    const search = byName(keys, 'Default Search API Key');
    const wide = await generateTenantToken({ apiKey: search.key, apiKeyUid: search.uid });
    assert.equal((await as(wide).index('films').search('')).estimatedTotalHits, 30);
    const made = await c.client.createKey({ actions: ['search'], indexes: ['films'], expiresAt: null });
    const narrow = await generateTenantToken({ apiKey: made.key, apiKeyUid: made.uid, searchRules: { films: { filter: 'genre = comedy' } } });
    const hits = await as(narrow).index('films').search('', { limit: 100 });
    assert.equal(hits.estimatedTotalHits, 15);
    assert.ok(hits.hits.every((h) => h.genre === 'comedy'));
    const forged = await generateTenantToken({ apiKey: valueOf(NODE_MASTER, made.uid), apiKeyUid: made.uid });
    assert.equal(await codeOf(as(forged).index('films').search('')), 'invalid_api_key');
    await c.client.deleteKey(made.uid);
    assert.equal(await codeOf(as(narrow).index('films').search('')), 'invalid_api_key');
  });

  test('the key set survives a restart of the orchestrator', async () => {
    const made = await c.client.createKey({ actions: ['search'], indexes: ['*'], expiresAt: null });
    const before = await wire(c.url, 'GET', '/keys');
    await c.restartMiroir();
    assert.deepEqual(await wire(c.url, 'GET', '/keys'), before);
    assert.equal((await as(made.key).index('films').search('')).estimatedTotalHits, 30);
  });

  test('with a node down, keys are created, listed, used and deleted as usual', async () => {
    await c.engines[2]!.kill();
    const before = (await wire(c.url, 'GET', '/keys')).results;
    const made = await wire(c.url, 'POST', '/keys', { actions: ['search'], indexes: ['films'], expiresAt: null });
    assert.deepEqual((await wire(c.url, 'GET', '/keys')).results, [made, ...before].slice(0, 20));
    // RF=2: the two live nodes still cover every shard.
    assert.equal((await as(made.key).index('films').search('')).estimatedTotalHits, 30);
    await c.client.deleteKey(made.uid);
    assert.deepEqual((await wire(c.url, 'GET', '/keys')).results, before);
    await c.restartEngine(2);
  });
});

const skip = await redisSkip();

describe('one key set across 2 orchestrators on Redis', { skip }, () => {
  let f: Fleet;
  let a: string;
  let b: string;
  const on = (url: string, key: string) => new Meilisearch({ host: url, apiKey: key });

  before(async () => {
    f = await startFleet({ orchestrators: 2, nodes: 2, rf: 1, shards: 8, masterKey: MASTER });
    [a, b] = f.orchestrators.map((o) => o.url) as [string, string];
    await loadFilms(on(a, MASTER));
  });
  after(async () => f?.stop());

  test('both list the same keys, and a key created on one works at once on the other', async () => {
    const listing = await wire(a, 'GET', '/keys');
    assert.equal(listing.total, 4);
    assert.deepEqual(await wire(b, 'GET', '/keys'), listing);
    for (const k of listing.results as Key[]) assert.equal(k.key, valueOf(MASTER, k.uid));
    const admin = (listing.results as Key[]).find((k) => k.name === 'Default Admin API Key')!;
    assert.ok((await on(b, admin.key).getIndexes()).results.some((i) => i.uid === 'films'));

    const made = await on(a, MASTER).createKey({ actions: ['search'], indexes: ['films'], expiresAt: null });
    assert.equal((await on(b, made.key).index('films').search('')).estimatedTotalHits, 30);
    const token = await generateTenantToken({ apiKey: made.key, apiKeyUid: made.uid, searchRules: { films: { filter: 'genre = drama' } } });
    assert.equal((await on(b, token).index('films').search('')).estimatedTotalHits, 15);
    const renamed = await wire(b, 'PATCH', `/keys/${made.uid}`, { name: 'renamed on b' });
    assert.deepEqual(await wire(a, 'GET', `/keys/${made.key}`), renamed);
    assert.deepEqual(await wire(a, 'GET', '/keys'), await wire(b, 'GET', '/keys'));
  });

  test('a key deleted on one orchestrator stops working on the other', async () => {
    const made = await on(a, MASTER).createKey({ actions: ['search'], indexes: ['*'], expiresAt: null });
    const token = await generateTenantToken({ apiKey: made.key, apiKeyUid: made.uid });
    // Both orchestrators have the key in their copy.
    for (const url of [a, b]) assert.equal((await on(url, token).index('films').search('')).estimatedTotalHits, 30);
    await on(a, MASTER).deleteKey(made.key);
    assert.equal(await codeOf(on(a, made.key).index('films').search('')), 'invalid_api_key');
    // The other one forgets it when the `keys_changed` event arrives.
    await until('b refuses the deleted key', () => codeOf(on(b, made.key).index('films').search('')), (code) => code === 'invalid_api_key');
    assert.equal(await codeOf(on(b, token).index('films').search('')), 'invalid_api_key');
    assert.equal(await codeOf(on(b, MASTER).getKey(made.uid)), 'api_key_not_found');
  });

  test('an expired key stops working on every orchestrator', async () => {
    const expiresAt = new Date(Date.now() + 1500);
    const made = await on(b, MASTER).createKey({ actions: ['search'], indexes: ['films'], expiresAt });
    for (const url of [a, b]) assert.equal((await on(url, made.key).index('films').search('')).estimatedTotalHits, 30);
    await until('the key expired', async () => Date.now() > expiresAt.getTime());
    for (const url of [a, b]) assert.equal(await codeOf(on(url, made.key).index('films').search('')), 'invalid_api_key');
    // An expired key is still listed, as Meilisearch lists it.
    assert.equal((await on(a, MASTER).getKey(made.uid)).uid, made.uid);
  });
});
