/**
 * Index aliases (spec S13.7, docs/aliases.md) through one orchestrator (3 nodes, RF=2, a client
 * key apart from the node key), used with the official client as a user would: an alias resolves
 * wherever an index is named (search, documents, settings, stats, task filters, multi-search),
 * flips bump the version and record history, name collisions with indexes are refused both ways,
 * an index is never deleted or renamed through an alias, a multi alias searches its indexes as
 * one (federated merge) and refuses writes, keys and tenant tokens are checked on the name the
 * client used.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { generateTenantToken } from 'meilisearch/token';
import { http, startCluster, type TestCluster } from './harness.js';

const KEY = 'client-master-key-for-alias-tests';
let c: TestCluster;

const admin = (method: string, path: string, body?: unknown) => http(c.url, method, path, { key: KEY, ...(body === undefined ? {} : { body }) });

async function done(r: { taskUid: number }): Promise<void> {
  assert.equal((await c.client.tasks.waitForTask(r.taskUid)).status, 'succeeded');
}

before(async () => {
  c = await startCluster({ nodes: 3, rf: 2, shards: 8, masterKey: KEY });
  for (const v of [1, 2]) {
    await done(await c.client.createIndex(`movies_v${v}`, { primaryKey: 'id' }));
    await done(await c.client.index(`movies_v${v}`).updateSettings({ filterableAttributes: ['genre'] }));
    const docs = Array.from({ length: 10 }, (_, i) => ({ id: v * 100 + i, title: `film ${i} of v${v}`, v, genre: i % 2 === 0 ? 'comedy' : 'drama' }));
    await done(await c.client.index(`movies_v${v}`).addDocuments(docs));
  }
});
after(async () => c?.stop());

describe('a single alias', () => {
  test('created, resolved on every client route, flipped with history, deleted', async () => {
    const created = await admin('POST', '/_miroir/aliases', { name: 'movies', target: 'movies_v1' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual({ ...created.body, createdAt: undefined, history: created.body.history.length }, {
      name: 'movies',
      kind: 'single',
      target: 'movies_v1',
      version: 1,
      createdAt: undefined,
      history: 1,
    });
    const movies = c.client.index('movies');
    const found = await movies.search('film', { limit: 100 });
    assert.equal(found.hits.length, 10);
    assert.ok(found.hits.every((h) => h.v === 1));
    assert.equal((await movies.getDocument(103)).title, 'film 3 of v1');
    assert.equal((await movies.getStats()).numberOfDocuments, 10);
    assert.deepEqual(await movies.getFilterableAttributes(), ['genre']);
    assert.equal((await admin('GET', '/indexes/movies')).body.uid, 'movies_v1', 'the index an alias names');
    // A write through the alias lands in its index, and its task names the index.
    const added = await movies.addDocuments([{ id: 150, title: 'added through the alias', v: 1, genre: 'comedy' }]);
    assert.equal(added.indexUid, 'movies_v1');
    await done(added);
    assert.equal((await c.client.index('movies_v1').getDocument(150)).title, 'added through the alias');
    const tasks = await c.client.tasks.getTasks({ indexUids: ['movies'], limit: 100 });
    assert.ok(tasks.results.length > 0 && tasks.results.every((t) => t.indexUid === 'movies_v1'));
    const multi = await c.client.multiSearch({ queries: [{ indexUid: 'movies', q: 'added' }] });
    assert.equal(multi.results[0]!.hits[0]!.id, 150);

    const flipped = await admin('PUT', '/_miroir/aliases/movies', { target: 'movies_v2' });
    assert.equal(flipped.status, 200, JSON.stringify(flipped.body));
    assert.equal(flipped.body.version, 2);
    assert.deepEqual(
      flipped.body.history.map((h: { version: number; from: string[]; to: string[] }) => [h.version, h.from, h.to]),
      [
        [1, [], ['movies_v1']],
        [2, ['movies_v1'], ['movies_v2']],
      ],
    );
    const after = await movies.search('film', { limit: 100 });
    assert.equal(after.hits.length, 10);
    assert.ok(after.hits.every((h) => h.v === 2), 'the next search after the flip reads the new index');
    const listed = await admin('GET', '/_miroir/aliases');
    assert.deepEqual(listed.body.results.map((a: { name: string; target: string; version: number }) => [a.name, a.target, a.version]), [['movies', 'movies_v2', 2]]);

    assert.equal((await admin('DELETE', '/_miroir/aliases/movies')).status, 204);
    const gone = await http(c.url, 'POST', '/indexes/movies/search', { key: KEY, body: {} });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, 'index_not_found');
    assert.equal((await c.client.index('movies_v1').getStats()).numberOfDocuments, 11, 'deleting an alias leaves its index');
  });

  test('refusals: names taken, missing targets, bad bodies, the index itself through its alias', async () => {
    assert.equal((await admin('POST', '/_miroir/aliases', { name: 'films', target: 'movies_v1' })).status, 201);
    const again = await admin('POST', '/_miroir/aliases', { name: 'films', target: 'movies_v2' });
    assert.deepEqual([again.status, again.body.code], [409, 'miroir_alias_already_exists']);
    const onIndex = await admin('POST', '/_miroir/aliases', { name: 'movies_v2', target: 'movies_v1' });
    assert.deepEqual([onIndex.status, onIndex.body.code], [409, 'miroir_alias_name_conflict']);
    const missing = await admin('POST', '/_miroir/aliases', { name: 'ghost', target: 'no_such_index' });
    assert.deepEqual([missing.status, missing.body.code], [404, 'index_not_found']);
    const toAlias = await admin('POST', '/_miroir/aliases', { name: 'films2', target: 'films' });
    assert.deepEqual([toAlias.status, toAlias.body.code], [400, 'miroir_invalid_alias']);
    for (const body of [{ name: 'x' }, { name: 'x', target: 'movies_v1', targets: ['movies_v1'] }, { name: 'bad name!', target: 'movies_v1' }, []]) {
      const r = await admin('POST', '/_miroir/aliases', body);
      assert.deepEqual([r.status, r.body.code], [400, 'miroir_invalid_alias'], JSON.stringify(body));
    }
    const kind = await admin('PUT', '/_miroir/aliases/films', { targets: ['movies_v1', 'movies_v2'] });
    assert.deepEqual([kind.status, kind.body.code], [400, 'miroir_invalid_alias']);
    const unknown = await admin('GET', '/_miroir/aliases/nope');
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'miroir_alias_not_found']);
    assert.equal((await http(c.url, 'GET', '/_miroir/aliases')).status, 401, 'the admin API needs the admin key');

    const create = await http(c.url, 'POST', '/indexes', { key: KEY, body: { uid: 'films' } });
    assert.deepEqual([create.status, create.body.code], [409, 'miroir_alias_name_conflict']);
    const rename = await http(c.url, 'PATCH', '/indexes/movies_v2', { key: KEY, body: { uid: 'films' } });
    assert.deepEqual([rename.status, rename.body.code], [409, 'miroir_alias_name_conflict']);
    const del = await http(c.url, 'DELETE', '/indexes/films', { key: KEY });
    assert.deepEqual([del.status, del.body.code], [409, 'miroir_alias_name_conflict']);
    assert.equal((await admin('GET', '/indexes/movies_v1')).status, 200, 'the index is still there');
    assert.equal((await admin('DELETE', '/_miroir/aliases/films')).status, 204);
  });

  test('keys and tenant tokens are checked on the name the client used', async () => {
    assert.equal((await admin('POST', '/_miroir/aliases', { name: 'catalog', target: 'movies_v1' })).status, 201);
    const key = await c.client.createKey({ actions: ['search'], indexes: ['catalog'], expiresAt: null });
    const viaAlias = new Meilisearch({ host: c.url, apiKey: key.key });
    assert.ok((await viaAlias.index('catalog').search('film')).hits.length > 0);
    const direct = await http(c.url, 'POST', '/indexes/movies_v2/search', { key: key.key, body: {} });
    assert.equal(direct.status, 403, 'the key covers the alias, not other indexes');
    const token = await generateTenantToken({ apiKey: key.key, apiKeyUid: key.uid, searchRules: { catalog: { filter: 'genre = comedy' } } });
    const tenant = await new Meilisearch({ host: c.url, apiKey: token }).index('catalog').search('film', { limit: 100 });
    assert.ok(tenant.hits.length > 0 && tenant.hits.every((h) => h.genre === 'comedy'), 'the token filter of the alias name applies');
    assert.equal((await admin('DELETE', '/_miroir/aliases/catalog')).status, 204);
  });
});

describe('a multi alias', () => {
  test('searches its indexes as one, refuses writes', async () => {
    const created = await admin('POST', '/_miroir/aliases', { name: 'all_movies', targets: ['movies_v1', 'movies_v2'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.targets, ['movies_v1', 'movies_v2']);
    const all = c.client.index('all_movies');
    const res = await all.search('', { limit: 100, facets: ['genre'] });
    assert.equal(res.hits.length, 21);
    assert.equal(res.query, '');
    assert.ok(res.hits.every((h) => !('_federation' in h)));
    assert.deepEqual(res.facetDistribution, { genre: { comedy: 11, drama: 10 } });
    const page = await all.search('', { limit: 5, offset: 3 });
    assert.deepEqual([page.hits.length, page.limit, page.offset, page.estimatedTotalHits], [5, 5, 3, 21]);
    const write = await http(c.url, 'POST', '/indexes/all_movies/documents', { key: KEY, body: [{ id: 1 }] });
    assert.deepEqual([write.status, write.body.code], [409, 'miroir_multi_alias_not_writable']);
    const settings = await http(c.url, 'PATCH', '/indexes/all_movies/settings', { key: KEY, body: { searchableAttributes: ['title'] } });
    assert.deepEqual([settings.status, settings.body.code], [409, 'miroir_multi_alias_not_writable']);
    const docs = await http(c.url, 'GET', '/indexes/all_movies/documents', { key: KEY });
    assert.deepEqual([docs.status, docs.body.code], [501, 'miroir_not_supported']);
    const federated = await c.client.multiSearch({ federation: { limit: 100 }, queries: [{ indexUid: 'all_movies' }] });
    assert.equal(federated.hits.length, 21);
    const plain = await http(c.url, 'POST', '/multi-search', { key: KEY, body: { queries: [{ indexUid: 'all_movies', q: 'film' }] } });
    assert.deepEqual([plain.status, plain.body.code], [501, 'miroir_not_supported']);
    assert.equal((await admin('DELETE', '/_miroir/aliases/all_movies')).status, 204);
  });
});
