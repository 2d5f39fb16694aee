// Search routes over HTTP (reference §5, §9): POST and GET search, facet search, multi-search
// (plain and federated), error prefixes, unknown index, tenant-token search rules.
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { generateTenantToken } from 'meilisearch/token';
import { http, meiliError, startTestEngine, writeAndWait } from './helpers.js';
import type { TestEngine } from './helpers.js';

const MASTER = 'search-routes-master-key-0123456789';
const master = { authorization: `Bearer ${MASTER}` };
let e: TestEngine;

const BOOKS = [
  { id: 1, title: 'The Hobbit', genre: 'fantasy', year: 1937, tenant: 'a' },
  { id: 2, title: 'Dune', genre: 'scifi', year: 1965, tenant: 'b' },
  { id: 3, title: 'The Silmarillion', genre: 'fantasy', year: 1977, tenant: 'a' },
  { id: 4, title: 'Hyperion', genre: 'scifi', year: 1989, tenant: 'b' },
];

before(async () => {
  e = await startTestEngine({ masterKey: MASTER });
  const s = await writeAndWait(e.url, 'PATCH', '/indexes/books/settings', {
    filterableAttributes: ['genre', 'year', 'tenant'],
    sortableAttributes: ['year'],
  }, master);
  assert.equal(s.status, 'succeeded', JSON.stringify(s.error));
  const d = await writeAndWait(e.url, 'POST', '/indexes/books/documents', BOOKS, master);
  assert.equal(d.status, 'succeeded', JSON.stringify(d.error));
  const m = await writeAndWait(e.url, 'POST', '/indexes/movies/documents', [{ id: 10, title: 'The Hobbit: An Unexpected Journey' }], master);
  assert.equal(m.status, 'succeeded', JSON.stringify(m.error));
});
after(async () => {
  await e.close();
});

const ids = (hits: { id: number }[]) => hits.map((h) => h.id);

test('POST search with filter, sort and facets', async () => {
  const r = await e.client.index('books').search('', { filter: 'genre = fantasy', sort: ['year:desc'], facets: ['genre'] });
  assert.deepEqual(ids(r.hits as { id: number }[]), [3, 1]);
  assert.equal(r.estimatedTotalHits, 2);
  assert.deepEqual(r.facetDistribution, { genre: { fantasy: 2 } });
  const q = await http(e.url, 'POST', '/indexes/books/search', { q: 'dune' }, master);
  assert.equal(q.status, 200);
  assert.deepEqual(ids(q.body.hits), [2]);
  assert.equal(q.body.query, 'dune');
});

test('GET search reads the same parameters from the query string', async () => {
  const r = await http(e.url, 'GET', `/indexes/books/search?q=&filter=${encodeURIComponent('year > 1960')}&sort=year:asc&limit=1`, undefined, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(ids(r.body.hits), [2]);
  assert.equal(r.body.limit, 1);
});

test('search errors: bad parameter, unknown index', async () => {
  const bad = await http(e.url, 'POST', '/indexes/books/search', { limit: 'doggo' }, master);
  assert.equal(bad.status, 400);
  assert.deepEqual(
    bad.body,
    meiliError('invalid_search_limit', 'Invalid value type at `.limit`: expected a positive integer, but found a string: `"doggo"`'),
  );
  const ghost = await http(e.url, 'POST', '/indexes/ghost/search', { q: 'x' }, master);
  assert.equal(ghost.status, 404);
  assert.deepEqual(ghost.body, meiliError('index_not_found', 'Index `ghost` not found.'));
});

test('facet search', async () => {
  const r = await http(e.url, 'POST', '/indexes/books/facet-search', { facetName: 'genre', facetQuery: 'sci' }, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.facetHits, [{ value: 'scifi', count: 2 }]);
  assert.equal(r.body.facetQuery, 'sci');
});

test('multi-search: plain results in query order, errors prefixed with the query', async () => {
  const r = await http(e.url, 'POST', '/multi-search', {
    queries: [
      { indexUid: 'movies', q: 'hobbit' },
      { indexUid: 'books', q: 'hobbit' },
    ],
  }, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(
    r.body.results.map((x: { indexUid: string; hits: { id: number }[] }) => [x.indexUid, ids(x.hits)]),
    [
      ['movies', [10]],
      ['books', [1]],
    ],
  );
  const err = await http(e.url, 'POST', '/multi-search', { queries: [{ indexUid: 'books' }, { indexUid: 'nope' }] }, master);
  assert.equal(err.status, 404);
  assert.deepEqual(err.body, meiliError('index_not_found', 'Inside `.queries[1]`: Index `nope` not found.'));
});

test('multi-search: federated hits carry _federation and are merged', async () => {
  const r = await http(e.url, 'POST', '/multi-search', {
    federation: { limit: 5 },
    queries: [
      { indexUid: 'books', q: 'hobbit' },
      { indexUid: 'movies', q: 'hobbit' },
    ],
  }, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.hits.length, 2);
  assert.equal(r.body.limit, 5);
  assert.equal(r.body.offset, 0);
  assert.equal(r.body.estimatedTotalHits, 2);
  for (const h of r.body.hits) {
    assert.deepEqual(Object.keys(h._federation), ['indexUid', 'queriesPosition', 'weightedRankingScore']);
    assert.equal('_rankingScore' in h, false);
  }
  assert.deepEqual(
    r.body.hits.map((h: { _federation: { indexUid: string } }) => h._federation.indexUid).sort(),
    ['books', 'movies'],
  );
});

test('tenant token search rules are ANDed onto the query filter', async () => {
  const created = await http(e.url, 'POST', '/keys', { actions: ['search'], indexes: ['books'], expiresAt: null }, master);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const token = await generateTenantToken({
    apiKey: created.body.key,
    apiKeyUid: created.body.uid,
    searchRules: { books: { filter: 'tenant = a' } },
  });
  const auth = { authorization: `Bearer ${token}` };
  const all = await http(e.url, 'POST', '/indexes/books/search', { q: '' }, auth);
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assert.deepEqual(ids(all.body.hits), [1, 3]);
  const narrowed = await http(e.url, 'POST', '/indexes/books/search', { q: '', filter: ['year > 1950'] }, auth);
  assert.deepEqual(ids(narrowed.body.hits), [3]);
  const other = await http(e.url, 'POST', '/indexes/movies/search', { q: '' }, auth);
  assert.equal(other.status, 403);
  const multi = await http(e.url, 'POST', '/multi-search', { queries: [{ indexUid: 'books' }, { indexUid: 'movies' }] }, auth);
  assert.equal(multi.status, 403);
  assert.equal(multi.body.code, 'invalid_api_key');
  assert.match(multi.body.message, /^Inside `\.queries\[1\]`: /);
});

test('search hits show _vectors only with retrieveVectors', async () => {
  const t = await writeAndWait(e.url, 'POST', '/indexes/vec/documents', [{ id: 1, name: 'with vector', _vectors: { emb: [0.5, 0.25] } }], master);
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
  const plain = await http(e.url, 'POST', '/indexes/vec/search', { q: 'vector' }, master);
  assert.deepEqual(plain.body.hits, [{ id: 1, name: 'with vector' }]);
  const withVectors = await http(e.url, 'POST', '/indexes/vec/search', { q: 'vector', retrieveVectors: true }, master);
  assert.deepEqual(withVectors.body.hits, [{ id: 1, name: 'with vector', _vectors: { emb: { embeddings: [[0.5, 0.25]], regenerate: false } } }]);
});

test('federated facetsByIndex and mergeFacets', async () => {
  const r = await http(e.url, 'POST', '/multi-search', {
    federation: { facetsByIndex: { books: ['genre'] }, mergeFacets: {} },
    queries: [{ indexUid: 'books', q: '' }, { indexUid: 'movies', q: 'hobbit' }],
  }, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // Merged facets replace `facetsByIndex` (meilisearch `FacetOrder::merge` leaves it empty, and
  // an empty one is not serialized).
  assert.equal(r.body.facetsByIndex, undefined);
  assert.deepEqual(r.body.facetDistribution, { genre: { fantasy: 2, scifi: 2 } });
  assert.deepEqual(r.body.facetStats, {});
  const byIndex = await http(e.url, 'POST', '/multi-search', {
    federation: { facetsByIndex: { books: ['genre'] } },
    queries: [{ indexUid: 'books', q: '' }, { indexUid: 'movies', q: 'hobbit' }],
  }, master);
  assert.deepEqual(byIndex.body.facetsByIndex, { books: { distribution: { genre: { fantasy: 2, scifi: 2 } }, stats: {} } });
  const unused = await http(e.url, 'POST', '/multi-search', {
    federation: { facetsByIndex: { movies: ['genre'] } },
    queries: [{ indexUid: 'books' }],
  }, master);
  assert.equal(unused.status, 400);
  assert.equal(unused.body.code, 'invalid_multi_search_facets_by_index');
});

// Meilisearch (crates/meilisearch/src/search/federated/perform.rs) runs the queries of one index
// together: `candidates |= query_candidates`, the index's `estimatedTotalHits` is the size of that
// union and its facets are computed over it; a document two of its queries return is shown once
// (`documents_seen`), at its best place.
test('federated queries of one index: union of matches for the total and the facets, each document once', async () => {
  const queries = [
    { indexUid: 'books', filter: 'genre = fantasy', sort: ['year:asc'] },
    { indexUid: 'books', filter: 'year > 1960', sort: ['year:asc'] },
  ];
  const r = await http(e.url, 'POST', '/multi-search', { federation: { facetsByIndex: { books: ['genre', 'year'] } }, queries }, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // fantasy: 1, 3; after 1960: 2, 3, 4. The Silmarillion (3) is matched by both.
  assert.equal(r.body.estimatedTotalHits, 4);
  assert.deepEqual(ids(r.body.hits).sort(), [1, 2, 3, 4]);
  assert.deepEqual(r.body.facetsByIndex, {
    books: { distribution: { genre: { fantasy: 2, scifi: 2 }, year: { '1937': 1, '1965': 1, '1977': 1, '1989': 1 } }, stats: { year: { min: 1937, max: 1989 } } },
  });
  const merged = await http(e.url, 'POST', '/multi-search', { federation: { facetsByIndex: { books: ['genre'] }, mergeFacets: {} }, queries: [...queries, { indexUid: 'books', q: 'dune' }] }, master);
  assert.equal(merged.status, 200, JSON.stringify(merged.body));
  assert.equal(merged.body.estimatedTotalHits, 4);
  assert.deepEqual(merged.body.facetDistribution, { genre: { fantasy: 2, scifi: 2 } });
  const bad = await http(e.url, 'POST', '/multi-search', { federation: { facetsByIndex: { books: ['title'] } }, queries }, master);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'invalid_search_facets');
  assert.match(bad.body.message, /^Inside `\.queries\[0\]`: /);
});

test('CONTAINS needs the containsFilter experimental feature', async () => {
  const body = { q: '', filter: 'genre CONTAINS fant' };
  const off = await http(e.url, 'POST', '/indexes/books/search', body, master);
  assert.equal(off.status, 400);
  assert.deepEqual(
    off.body,
    meiliError(
      'feature_not_enabled',
      'Using `CONTAINS` in a filter requires enabling the `contains filter` experimental feature. See https://github.com/orgs/meilisearch/discussions/763',
    ),
  );
  const docsOff = await http(e.url, 'POST', '/indexes/books/documents/fetch', { filter: 'genre CONTAINS fant' }, master);
  assert.equal(docsOff.body.code, 'feature_not_enabled');
  await http(e.url, 'PATCH', '/experimental-features', { containsFilter: true }, master);
  try {
    const on = await http(e.url, 'POST', '/indexes/books/search', body, master);
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.deepEqual(ids(on.body.hits), [1, 3]);
  } finally {
    await http(e.url, 'PATCH', '/experimental-features', { containsFilter: false }, master);
  }
});

test('Meili-Include-Metadata adds a metadata object with a UUIDv7 queryUid', async () => {
  const r = await http(e.url, 'POST', '/indexes/books/search', { q: 'dune' }, { ...master, 'Meili-Include-Metadata': 'true' });
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.body.metadata), ['queryUid', 'indexUid', 'primaryKey']);
  assert.match(r.body.metadata.queryUid, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(r.body.metadata.indexUid, 'books');
  assert.equal(r.body.metadata.primaryKey, 'id');
  const plain = await http(e.url, 'POST', '/indexes/books/search', { q: 'dune' }, master);
  assert.equal('metadata' in plain.body, false);
  const multi = await http(e.url, 'POST', '/multi-search', { queries: [{ indexUid: 'books', q: 'dune' }] }, { ...master, 'meili-include-metadata': '1' });
  assert.equal(multi.body.results[0].metadata.indexUid, 'books');
});
