/**
 * Query coalescing and the result cache (spec S13.10, S13.10.1) against real engine nodes, every
 * node behind a recording proxy so that the node calls are counted: identical concurrent searches
 * share one scatter, a repeat within the TTL calls no node, a settings commit or the TTL's end does,
 * key order is irrelevant, credentials never share, errors are not kept, bypass headers bypass,
 * and with the features off nothing is shared.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { generateTenantToken } from 'meilisearch/token';
import { http, startCluster, type TestCluster } from './harness.js';

const MASTER = 'client-master-key-for-read-cache';
const FILMS = Array.from({ length: 30 }, (_, id) => ({ id, title: `film ${id}`, genre: id % 2 === 0 ? 'drama' : 'comedy', year: 1990 + (id % 7) }));
const SEARCH = '/indexes/films/search';

/** Search calls each node received since the last `clear`, by node index. */
function searchCalls(c: TestCluster, path = SEARCH): number[] {
  return [...c.recorders.values()].map((r) => r.requests.filter((q) => q.path === path).length);
}
const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
function clear(c: TestCluster): void {
  for (const r of c.recorders.values()) r.clear();
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function loadFilms(client: Meilisearch): Promise<void> {
  const index = client.index('films');
  assert.equal((await index.addDocuments(FILMS, { primaryKey: 'id' }).waitTask()).status, 'succeeded');
  assert.equal((await index.updateFilterableAttributes(['genre', 'year']).waitTask()).status, 'succeeded');
}

/** Headers a client sees, without those that differ on every answer. */
function stableHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of h) if (k !== 'date' && k !== 'x-request-id' && k !== 'x-miroir-cache') out[k] = v;
  return out;
}

describe('coalescing and the result cache (3 nodes, RF=1, client key != node key)', () => {
  let c: TestCluster;
  const TTL = 2000;
  const post = (body: unknown, headers?: Record<string, string>, key = MASTER) => http(c.url, 'POST', SEARCH, { key, body, ...(headers ? { headers } : {}) });

  before(async () => {
    c = await startCluster({
      nodes: 3,
      shards: 8,
      masterKey: MASTER,
      recorded: true,
      // A wide window: the 100 concurrent searches below all arrive while the first is in flight.
      config: { query_coalescing: { window_ms: 5000 }, result_cache: { ttl_ms: TTL } },
    });
    await loadFilms(c.client);
  });
  after(async () => c?.stop());

  test('100 identical concurrent searches: one scatter (one search call per covering node)', async () => {
    clear(c);
    // Nodes answer slowly, so every search arrives while the first scatter is in flight.
    for (const r of c.recorders.values()) r.delayMs = 200;
    try {
      const answers = await Promise.all(Array.from({ length: 100 }, () => post({ q: 'film', limit: 5, filter: 'genre = drama' })));
      const calls = searchCalls(c);
      assert.ok(calls.every((n) => n <= 1), `search calls per node: ${calls}`);
      assert.equal(total(calls), calls.filter((n) => n === 1).length);
      assert.ok(total(calls) >= 1);
      const first = answers[0]!;
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.deepEqual(a.body, first.body);
      }
      const outcomes = answers.map((a) => a.headers.get('x-miroir-cache'));
      assert.equal(outcomes.filter((o) => o === 'miss').length, 1);
      // The rest joined it (or, arriving after its answer, found it cached).
      assert.equal(outcomes.filter((o) => o === 'shared' || o === 'hit').length, 99);
      assert.ok(outcomes.filter((o) => o === 'shared').length > 0);
    } finally {
      for (const r of c.recorders.values()) r.delayMs = 0;
    }
  });

  test('a repeat within the TTL calls no node; after the TTL it does', async () => {
    const body = { q: 'film 1', limit: 3 };
    clear(c);
    const first = await post(body);
    const started = performance.now();
    assert.ok(total(searchCalls(c)) > 0);
    assert.equal(first.headers.get('x-miroir-cache'), 'miss');
    clear(c);
    const again = await post(body);
    assert.ok(performance.now() - started < TTL);
    assert.equal(total(searchCalls(c)), 0);
    assert.equal(again.headers.get('x-miroir-cache'), 'hit');
    // The cached body is the original's, `processingTimeMs` included.
    assert.deepEqual(again.body, first.body);
    assert.deepEqual(stableHeaders(again.headers), stableHeaders(first.headers));
    await sleep(TTL + 100);
    clear(c);
    const late = await post(body);
    assert.ok(total(searchCalls(c)) > 0);
    assert.equal(late.headers.get('x-miroir-cache'), 'miss');
  });

  test('key order in the body (and in GET parameters) is irrelevant', async () => {
    clear(c);
    await post({ q: 'film', limit: 4, offset: 1, filter: ['genre = comedy', 'year > 1991'], sort: [] });
    const calls = total(searchCalls(c));
    assert.ok(calls > 0);
    const swapped = await http(c.url, 'POST', SEARCH, {
      key: MASTER,
      raw: '{ "sort": [], "filter": ["genre = comedy", "year > 1991"],\n "offset": 1, "limit": 4, "q": "film" }',
    });
    assert.equal(swapped.status, 200);
    assert.equal(swapped.headers.get('x-miroir-cache'), 'hit');
    assert.equal(total(searchCalls(c)), calls);
    clear(c);
    const get1 = await http(c.url, 'GET', `${SEARCH}?q=film&limit=2&attributesToRetrieve=title`, { key: MASTER });
    const get2 = await http(c.url, 'GET', `${SEARCH}?attributesToRetrieve=title&limit=2&q=film`, { key: MASTER });
    assert.equal(get1.headers.get('x-miroir-cache'), 'miss');
    assert.equal(get2.headers.get('x-miroir-cache'), 'hit');
    assert.deepEqual(get2.body, get1.body);
  });

  test('a settings commit is a miss within the TTL', async () => {
    const body = { q: 'film', limit: 30, attributesToRetrieve: ['id'] };
    clear(c);
    await post(body);
    const started = performance.now();
    const version = Number((await post(body)).headers.get('x-miroir-settings-version'));
    // A change that leaves the answer as it was: only the version moves.
    assert.equal((await c.client.index('films').updateSearchCutoffMs(5000).waitTask({ interval: 20 })).status, 'succeeded');
    clear(c);
    const after = await post(body);
    assert.ok(performance.now() - started < TTL, `the settings change took ${Math.round(performance.now() - started)} ms, longer than the TTL`);
    assert.equal(Number(after.headers.get('x-miroir-settings-version')), version + 1);
    assert.equal(after.headers.get('x-miroir-cache'), 'miss');
    assert.ok(total(searchCalls(c)) > 0);
    clear(c);
    assert.equal((await post(body)).headers.get('x-miroir-cache'), 'hit');
    assert.equal(total(searchCalls(c)), 0);
  });

  test('two tenant tokens with different filters, and two API keys, never share an entry', async () => {
    const made = await c.client.createKey({ actions: ['search'], indexes: ['films'], expiresAt: null });
    const other = await c.client.createKey({ actions: ['search'], indexes: ['films'], expiresAt: null });
    const comedy = await generateTenantToken({ apiKey: made.key, apiKeyUid: made.uid, searchRules: { films: { filter: 'genre = comedy' } } });
    const drama = await generateTenantToken({ apiKey: made.key, apiKeyUid: made.uid, searchRules: { films: { filter: 'genre = drama' } } });
    const body = { q: '', limit: 100, attributesToRetrieve: ['genre'] };
    clear(c);
    const a = await post(body, undefined, comedy);
    const b = await post(body, undefined, drama);
    assert.equal(a.headers.get('x-miroir-cache'), 'miss');
    assert.equal(b.headers.get('x-miroir-cache'), 'miss');
    assert.ok(a.body.hits.every((h: { genre: string }) => h.genre === 'comedy'));
    assert.ok(b.body.hits.every((h: { genre: string }) => h.genre === 'drama'));
    assert.equal((await post(body, undefined, comedy)).headers.get('x-miroir-cache'), 'hit');
    const k1 = await post(body, undefined, made.key);
    const k2 = await post(body, undefined, other.key);
    assert.equal(k1.headers.get('x-miroir-cache'), 'miss');
    assert.equal(k2.headers.get('x-miroir-cache'), 'miss');
    assert.equal(k1.body.estimatedTotalHits, 30);
    // A credential that stops working is refused even when its answer is cached.
    await c.client.deleteKey(other.uid);
    assert.equal((await post(body, undefined, other.key)).status, 403);
  });

  test('an error answer is not cached', async () => {
    clear(c);
    const body = { q: 'film', filter: 'title = "film 1"' };
    const first = await post(body);
    assert.equal(first.status, 400);
    assert.equal(first.body.code, 'invalid_search_filter');
    const calls = total(searchCalls(c));
    assert.ok(calls > 0);
    const again = await post(body);
    assert.deepEqual(again.body, first.body);
    assert.ok(total(searchCalls(c)) > calls);
    assert.equal(again.headers.get('x-miroir-cache'), null);
    const missing = await http(c.url, 'POST', '/indexes/nowhere/search', { key: MASTER, body: { q: '' } });
    assert.equal(missing.body.code, 'index_not_found');
  });

  test('facet search is cached like a search', async () => {
    const path = '/indexes/films/facet-search';
    const body = { facetName: 'genre', facetQuery: 'com' };
    clear(c);
    const first = await http(c.url, 'POST', path, { key: MASTER, body });
    assert.equal(first.status, 200);
    assert.ok(total(searchCalls(c, path)) > 0);
    clear(c);
    const again = await http(c.url, 'POST', path, { key: MASTER, body: { facetQuery: 'com', facetName: 'genre' } });
    assert.equal(again.headers.get('x-miroir-cache'), 'hit');
    assert.equal(total(searchCalls(c, path)), 0);
    assert.deepEqual(again.body, first.body);
    // A search with the same body is another route: not the facet search's entry.
    assert.notEqual((await post({ q: 'com', facetName: undefined })).headers.get('x-miroir-cache'), 'hit');
  });

  test('session and read-after reads bypass both; Meili-Include-Metadata is part of the key', async () => {
    const body = { q: 'film 2', limit: 2 };
    await post(body);
    // A write token of another index (ignored by the read, but a read-after read all the same).
    const write = await http(c.url, 'POST', '/indexes/elsewhere/documents?primaryKey=id', { key: MASTER, body: [{ id: 1 }] });
    const token = write.headers.get('x-miroir-write-token')!;
    const bypass: Record<string, string>[] = [{ 'X-Miroir-Session': '0b7a5e8e-4f4e-4b7e-9d7e-1c2b3a4d5e6f' }, { 'X-Miroir-Read-After': token }];
    for (const headers of bypass) {
      clear(c);
      const r = await post(body, headers);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-miroir-cache'), null);
      assert.ok(total(searchCalls(c)) > 0);
    }
    const plain = await post(body);
    const withMeta = await post(body, { 'Meili-Include-Metadata': 'true' });
    assert.equal(plain.headers.get('x-miroir-cache'), 'hit');
    assert.equal(withMeta.headers.get('x-miroir-cache'), 'miss');
    assert.ok(withMeta.body.metadata !== undefined);
    assert.equal(plain.body.metadata, undefined);
  });

  test('multi-search queries share entries with single searches', async () => {
    const query = { q: 'film 3', limit: 2 };
    const single = await post(query);
    clear(c);
    const multi = await http(c.url, 'POST', '/multi-search', { key: MASTER, body: { queries: [{ indexUid: 'films', ...query }] } });
    assert.equal(multi.status, 200);
    assert.equal(total(searchCalls(c)), 0);
    assert.deepEqual(multi.body.results[0], { indexUid: 'films', ...single.body });
  });
});

describe('with coalescing and the cache disabled, nothing is shared', () => {
  let c: TestCluster;

  before(async () => {
    c = await startCluster({
      nodes: 2,
      shards: 4,
      masterKey: MASTER,
      recorded: true,
      config: { query_coalescing: { enabled: false }, result_cache: { enabled: false } },
    });
    await loadFilms(c.client);
  });
  after(async () => c?.stop());

  test('every search scatters, and no diagnostic header is sent', async () => {
    clear(c);
    for (const r of c.recorders.values()) r.delayMs = 100;
    let answers;
    try {
      answers = await Promise.all(Array.from({ length: 20 }, () => http(c.url, 'POST', SEARCH, { key: MASTER, body: { q: 'film' } })));
    } finally {
      for (const r of c.recorders.values()) r.delayMs = 0;
    }
    const calls = searchCalls(c);
    assert.equal(total(calls), 20 * calls.filter((n) => n > 0).length);
    assert.ok(calls.every((n) => n === 0 || n === 20), `search calls per node: ${calls}`);
    for (const a of answers) assert.equal(a.headers.get('x-miroir-cache'), null);
    clear(c);
    await http(c.url, 'POST', SEARCH, { key: MASTER, body: { q: 'film' } });
    assert.ok(total(searchCalls(c)) > 0);
  });
});
