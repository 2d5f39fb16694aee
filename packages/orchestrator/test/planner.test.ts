/**
 * The shard-aware query planner wired into reads (spec S13.4): a search, a facet search, a
 * federated query and a document fetch whose filter pins primary keys ask only the nodes of the
 * shards those keys hash to (counted at the nodes), and answer exactly as a full fan-out. The full fan-out is the same
 * filter ORed with a branch that matches nothing and is not on the primary key, which the planner
 * does not narrow (property test over random filters).
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { http, startCluster, type TestCluster } from './harness.js';

const SEARCH = '/indexes/items/search';
let c: TestCluster;

const searchCalls = () => [...c.recorders.values()].reduce((n, r) => n + r.requests.filter((q) => q.path === SEARCH).length, 0);
const clear = () => {
  for (const r of c.recorders.values()) r.clear();
};

before(async () => {
  c = await startCluster({ nodes: 4, rf: 1, shards: 16, recorded: true, config: { result_cache: { enabled: false }, query_coalescing: { enabled: false } } });
  const docs = Array.from({ length: 120 }, (_, id) => ({ id, title: `item ${id} ${id % 3 === 0 ? 'red' : 'blue'}`, color: id % 3 === 0 ? 'red' : 'blue', n: id % 10 }));
  const r = await http(c.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: docs });
  assert.equal((await c.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
  const s = await http(c.url, 'PATCH', '/indexes/items/settings', { body: { filterableAttributes: ['id', 'color', 'n'], sortableAttributes: ['n'] } });
  assert.equal((await c.client.tasks.waitForTask(s.body.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

/** A filter that pins primary keys: one, a list, or either ANDed with something else. */
const pinned = fc.oneof(
  fc.integer({ min: 0, max: 130 }).map((id) => `id = ${id}`),
  fc.array(fc.integer({ min: 0, max: 130 }), { minLength: 1, maxLength: 5 }).map((ids) => `id IN [${ids.join(', ')}]`),
  fc.tuple(fc.integer({ min: 0, max: 130 }), fc.constantFrom('red', 'blue')).map(([id, color]) => `id = "${id}" AND color = ${color}`),
  fc.tuple(fc.integer({ min: 0, max: 130 }), fc.integer({ min: 0, max: 130 }), fc.integer({ min: 0, max: 9 })).map(([a, b, n]) => `(id = ${a} OR id = ${b}) AND n >= ${n}`),
);

test('a search pinned to primary keys asks only their shards and answers as a full fan-out', async () => {
  await fc.assert(
    fc.asyncProperty(pinned, fc.constantFrom(undefined, ['color']), async (filter, facets) => {
      const body = { q: 'item', limit: 50, sort: ['n:asc'], ...(facets ? { facets } : {}) };
      clear();
      const narrow = await http(c.url, 'POST', SEARCH, { body: { ...body, filter } });
      const asked = searchCalls();
      clear();
      const full = await http(c.url, 'POST', SEARCH, { body: { ...body, filter: `(${filter}) OR color = "never-there"` } });
      assert.equal(narrow.status, 200, JSON.stringify(narrow.body));
      assert.equal(full.status, 200);
      const { processingTimeMs: _a, ...n } = narrow.body;
      const { processingTimeMs: _b, ...f } = full.body;
      assert.deepEqual(n, f, filter);
      assert.equal(searchCalls(), 4, 'the full fan-out asks every node');
      const keys = filter.match(/\d+/g)!.length;
      assert.ok(asked <= Math.min(4, keys), `${filter}: ${asked} nodes asked`);
    }),
    { numRuns: 40, seed: 16 },
  );
});

test('a document fetch pinned to primary keys asks only their shards and answers as a full listing', async () => {
  const FETCH = '/indexes/items/documents/fetch';
  const fetchCalls = () => [...c.recorders.values()].reduce((n, r) => n + r.requests.filter((q) => q.path === FETCH).length, 0);
  await fc.assert(
    fc.asyncProperty(pinned, fc.integer({ min: 0, max: 3 }), async (filter, offset) => {
      clear();
      const narrow = await http(c.url, 'POST', FETCH, { body: { filter, offset, limit: 3 } });
      const asked = new Set([...c.recorders.entries()].filter(([, r]) => r.requests.some((q) => q.path === FETCH)).map(([i]) => i)).size;
      clear();
      const full = await http(c.url, 'POST', FETCH, { body: { filter: `(${filter}) OR color = "never-there"`, offset, limit: 3 } });
      assert.equal(narrow.status, 200, JSON.stringify(narrow.body));
      assert.deepEqual(narrow.body, full.body, filter);
      assert.ok(fetchCalls() >= 4, 'the full listing asks every node');
      assert.ok(asked <= Math.min(4, filter.match(/\d+/g)!.length), `${filter}: ${asked} nodes asked`);
    }),
    { numRuns: 25, seed: 18 },
  );
});

test('facet search and federated queries are narrowed too', async () => {
  clear();
  const facet = await http(c.url, 'POST', '/indexes/items/facet-search', { body: { facetName: 'color', filter: 'id = 3' } });
  assert.equal(facet.status, 200);
  assert.deepEqual(facet.body.facetHits, [{ value: 'red', count: 1 }]);
  assert.equal([...c.recorders.values()].reduce((n, r) => n + r.requests.filter((q) => q.path === '/indexes/items/facet-search').length, 0), 1);
  clear();
  const fed = await http(c.url, 'POST', '/multi-search', { body: { federation: {}, queries: [{ indexUid: 'items', filter: 'id IN [4, 5]' }] } });
  assert.equal(fed.status, 200);
  assert.deepEqual(fed.body.hits.map((h: { id: number }) => h.id).sort(), [4, 5]);
  assert.ok(searchCalls() <= 2);
});

test('federated queries of one index pinned to primary keys ask only their shards for the union of their matches', async () => {
  const MULTI = '/multi-search';
  const unionCalls = () => [...c.recorders.values()].reduce((n, r) => n + r.requests.filter((q) => q.path === MULTI).length, 0);
  const body = (a: string, b: string) => ({
    federation: { facetsByIndex: { items: ['color', 'n'] } },
    queries: [
      { indexUid: 'items', filter: a },
      { indexUid: 'items', filter: b },
    ],
  });
  clear();
  const narrow = await http(c.url, 'POST', MULTI, { body: body('id IN [4, 5]', 'id = 5 OR id = 9') });
  const asked = unionCalls();
  clear();
  const full = await http(c.url, 'POST', MULTI, { body: body('id IN [4, 5] OR color = "never-there"', '(id = 5 OR id = 9) OR color = "never-there"') });
  assert.equal(narrow.status, 200, JSON.stringify(narrow.body));
  assert.equal(narrow.body.estimatedTotalHits, 3);
  assert.deepEqual(narrow.body.facetsByIndex.items.distribution.n, { '4': 1, '5': 1, '9': 1 });
  const { processingTimeMs: _a, ...n } = narrow.body;
  const { processingTimeMs: _b, ...f } = full.body;
  assert.deepEqual(n, f);
  assert.equal(unionCalls(), 4, 'the full union asks every node');
  assert.ok(asked <= 3, `${asked} nodes asked`);
});
