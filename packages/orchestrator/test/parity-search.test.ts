/**
 * Parity (spec S8): search, facet search and multi-search through Miroir (3 nodes, RF=2) answer as
 * one node answers — whole responses (hits, facets, counts, formatting, scores), and the error bodies
 * of invalid parameters. The corpus avoids exact ties in the queries' orders (distinct years, ids in
 * insertion order), so that one node's order is the only right one.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertSame, assertSameError, startParity, type Parity, type RequestSpec } from './parity-kit.js';

let p: Parity;

const GENRES = ['drama', 'comedy', 'horror', 'documentary'];
const WORDS = ['river', 'mountain', 'city', 'night', 'storm', 'garden', 'winter', 'ocean'];
const MOVIES = Array.from({ length: 40 }, (_, i) => ({
  id: `m${String(i).padStart(2, '0')}`,
  title: `${WORDS[i % 8]} ${WORDS[(i * 3 + 1) % 8]}${i % 5 === 0 ? ' story' : ''}`,
  overview: `A long ${WORDS[(i + 2) % 8]} tale about the ${WORDS[(i * 5) % 8]} and a ${WORDS[(i + 5) % 8]} that nobody expected to see again`,
  genre: GENRES[i % 4],
  year: 1950 + i,
  rating: (i * 7) % 10,
  tags: i % 3 === 0 ? ['classic', 'restored'] : ['new'],
}));

async function write(method: string, path: string, spec: RequestSpec) {
  const { enqueued, done } = await p.task(method, path, spec);
  assertSame(enqueued);
  assertSame(done);
  assert.equal(done.ref.body.status, 'succeeded', JSON.stringify(done.ref.body));
}

before(async () => {
  p = await startParity();
  await write('POST', '/indexes', { json: { uid: 'movies', primaryKey: 'id' } });
  await write('PATCH', '/indexes/movies/settings', {
    json: {
      searchableAttributes: ['title', 'overview', 'genre'],
      filterableAttributes: ['genre', 'year', 'rating', 'tags'],
      sortableAttributes: ['rating', 'title', 'year'],
    },
  });
  await write('POST', '/indexes/movies/documents', { json: MOVIES });
});
after(async () => p?.stop());

/** Same request to both sides; a 200 is expected from the reference. */
async function same(method: 'GET' | 'POST', path: string, json?: unknown) {
  const pair = await p.both(method, path, json === undefined ? {} : { json });
  assertSame(pair);
  assert.equal(pair.ref.status, 200, `reference: ${pair.what}: ${JSON.stringify(pair.ref.body)}`);
  return pair;
}

async function refuses(method: string, path: string, status: number, code: string, json?: unknown) {
  assertSameError(await p.both(method, path, json === undefined ? {} : { json }), status, code);
}

const POST_QUERIES: Record<string, unknown>[] = [
  {},
  { q: 'river' },
  { q: 'river', sort: ['year:desc'] },
  { q: 'mountain city', matchingStrategy: 'all', sort: ['year:asc'] },
  { q: 'mountain city', matchingStrategy: 'last', sort: ['year:asc'], limit: 5, offset: 2 },
  { q: 'storm', filter: 'genre = drama', sort: ['year:asc'] },
  { q: '', filter: ['genre = comedy', ['year < 1960', 'year > 1985']], sort: ['year:desc'] },
  { filter: 'tags = classic AND rating >= 5', sort: ['rating:desc', 'year:asc'] },
  { q: 'garden', facets: ['genre', 'rating', 'tags'], sort: ['year:asc'] },
  { facets: ['*'], limit: 0 },
  { q: 'winter', sort: ['year:asc'], page: 2, hitsPerPage: 3 },
  { sort: ['year:asc'], page: 0, hitsPerPage: 5 },
  { q: 'ocean', sort: ['year:asc'], attributesToRetrieve: ['title', 'year'] },
  { q: 'ocean night', sort: ['year:asc'], attributesToHighlight: ['title'], highlightPreTag: '[', highlightPostTag: ']' },
  { q: 'tale', sort: ['year:asc'], attributesToCrop: ['overview:4'], cropMarker: '~', limit: 3 },
  { q: 'tale', sort: ['year:asc'], attributesToCrop: ['overview'], cropLength: 3, attributesToHighlight: ['*'], limit: 3 },
  { q: 'river', sort: ['year:asc'], showMatchesPosition: true },
  { q: 'river storm', showRankingScore: true },
  { q: 'river storm', showRankingScoreDetails: true, sort: ['year:asc'] },
  { q: 'river storm', rankingScoreThreshold: 0.5, showRankingScore: true },
  { q: 'drama', attributesToSearchOn: ['genre'], sort: ['year:asc'] },
  { q: 'city', locales: ['eng'], sort: ['year:asc'] },
  { q: 'rivr', sort: ['year:asc'] },
  { q: '"long river"', sort: ['year:asc'] },
  { q: 'city -night', sort: ['year:asc'] },
  { offset: 35, limit: 10, sort: ['year:asc'] },
  { q: 'story', retrieveVectors: true, sort: ['year:asc'] },
  { q: null, limit: 2, sort: ['title:asc', 'year:asc'] },
];

const GET_QUERIES = [
  '',
  '?q=river',
  '?q=river&sort=year:desc&limit=3&offset=1',
  '?q=storm&filter=genre%20%3D%20drama&sort=year:asc',
  '?filter=%5B%22genre%20%3D%20comedy%22%5D&sort=year:asc',
  '?facets=genre,tags&limit=0',
  '?q=winter&sort=year:asc&page=2&hitsPerPage=3',
  '?q=ocean&sort=year:asc&attributesToRetrieve=title,year&attributesToHighlight=title',
  '?q=tale&sort=year:asc&attributesToCrop=overview&cropLength=3&limit=2',
  '?q=river&showMatchesPosition=true&showRankingScore=true',
  '?q=city&matchingStrategy=all&sort=year:asc',
];

describe('search', () => {
  test('POST with many parameter sets', async () => {
    for (const q of POST_QUERIES) await same('POST', '/indexes/movies/search', q);
  });

  test('GET with many parameter sets', async () => {
    for (const q of GET_QUERIES) await same('GET', `/indexes/movies/search${q}`);
  });

  test('invalid POST parameters', async () => {
    const cases: [unknown, string][] = [
      [{ limit: 'ten' }, 'invalid_search_limit'],
      [{ offset: -1 }, 'invalid_search_offset'],
      [{ page: 'x' }, 'invalid_search_page'],
      [{ hitsPerPage: -3 }, 'invalid_search_hits_per_page'],
      [{ q: 12 }, 'invalid_search_q'],
      [{ filter: 'title = river' }, 'invalid_search_filter'],
      [{ filter: 'genre = ' }, 'invalid_search_filter'],
      [{ filter: 42 }, 'invalid_search_filter'],
      [{ sort: ['overview:asc'] }, 'invalid_search_sort'],
      [{ sort: 'year:asc' }, 'invalid_search_sort'],
      [{ facets: ['overview'] }, 'invalid_search_facets'],
      [{ attributesToRetrieve: 'title' }, 'invalid_search_attributes_to_retrieve'],
      [{ attributesToCrop: 'title' }, 'invalid_search_attributes_to_crop'],
      [{ cropLength: -1 }, 'invalid_search_crop_length'],
      [{ attributesToHighlight: 3 }, 'invalid_search_attributes_to_highlight'],
      [{ matchingStrategy: 'some' }, 'invalid_search_matching_strategy'],
      [{ showRankingScore: 'yes' }, 'invalid_search_show_ranking_score'],
      [{ rankingScoreThreshold: 2 }, 'invalid_search_ranking_score_threshold'],
      [{ attributesToSearchOn: ['rating'] }, 'invalid_search_attributes_to_search_on'],
      [{ distinct: 'overview' }, 'invalid_search_distinct'],
      [{ locales: 'eng' }, 'invalid_search_locales'],
      [{ hybrid: { semanticRatio: 0.5 } }, 'invalid_search_hybrid_query'],
      [{ color: 'red' }, 'bad_request'],
    ];
    for (const [json, code] of cases) await refuses('POST', '/indexes/movies/search', 400, code, json);
  });

  test('invalid GET parameters', async () => {
    await refuses('GET', '/indexes/movies/search?limit=ten', 400, 'invalid_search_limit');
    await refuses('GET', '/indexes/movies/search?offset=-1', 400, 'invalid_search_offset');
    await refuses('GET', '/indexes/movies/search?filter=title%20%3D%20x', 400, 'invalid_search_filter');
    await refuses('GET', '/indexes/movies/search?sort=overview:asc', 400, 'invalid_search_sort');
    await refuses('GET', '/indexes/movies/search?showRankingScore=maybe', 400, 'invalid_search_show_ranking_score');
    await refuses('GET', '/indexes/movies/search?hybridSemanticRatio=0.4', 400, 'invalid_search_hybrid_query');
    await refuses('GET', '/indexes/movies/search?color=red', 400, 'bad_request');
  });

  test('malformed bodies, unknown and invalid indexes', async () => {
    assertSameError(await p.both('POST', '/indexes/movies/search', { raw: '{"q": ' }), 400, 'malformed_payload');
    assertSameError(await p.both('POST', '/indexes/movies/search', { json: ['q'] }), 400, 'bad_request');
    await refuses('POST', '/indexes/nope/search', 404, 'index_not_found', { q: 'a' });
    await refuses('GET', '/indexes/nope/search?q=a', 404, 'index_not_found');
    await refuses('POST', '/indexes/bad%20uid/search', 400, 'invalid_index_uid', {});
  });
});

describe('facet search', () => {
  test('values, with a query, a filter and a search query', async () => {
    for (const json of [
      { facetName: 'genre' },
      { facetName: 'genre', facetQuery: 'dr' },
      { facetName: 'genre', facetQuery: 'comdy' },
      { facetName: 'tags', q: 'river' },
      { facetName: 'rating', filter: 'year > 1970' },
      { facetName: 'genre', q: 'city', matchingStrategy: 'all' },
      { facetName: 'genre', exhaustiveFacetCount: true },
    ]) {
      await same('POST', '/indexes/movies/facet-search', json);
    }
  });

  test('errors', async () => {
    await refuses('POST', '/indexes/movies/facet-search', 400, 'missing_facet_search_facet_name', {});
    await refuses('POST', '/indexes/movies/facet-search', 400, 'invalid_facet_search_facet_name', { facetName: 'overview' });
    await refuses('POST', '/indexes/movies/facet-search', 400, 'invalid_facet_search_facet_query', { facetName: 'genre', facetQuery: 3 });
    await refuses('POST', '/indexes/movies/facet-search', 400, 'invalid_search_filter', { facetName: 'genre', filter: 'title = x' });
    assertSameError(await p.both('POST', '/indexes/movies/facet-search', { raw: '{"facetName": ' }), 400, 'malformed_payload');
    await refuses('POST', '/indexes/nope/facet-search', 404, 'index_not_found', { facetName: 'genre' });
  });
});

describe('multi-search', () => {
  test('plain: results in query order', async () => {
    await same('POST', '/multi-search', {
      queries: [
        { indexUid: 'movies', q: 'river', sort: ['year:asc'] },
        { indexUid: 'movies', q: 'storm', facets: ['genre'], sort: ['year:desc'], limit: 3 },
        { indexUid: 'movies', filter: 'rating = 3', page: 1, hitsPerPage: 2, sort: ['year:asc'] },
      ],
    });
    await same('POST', '/multi-search', { queries: [] });
  });

  test('federated: one merged list', async () => {
    await same('POST', '/multi-search', {
      federation: { limit: 5 },
      queries: [
        { indexUid: 'movies', q: 'river', filter: 'year < 1960' },
        { indexUid: 'movies', q: 'storm', filter: 'year > 1980', federationOptions: { weight: 0.5 } },
      ],
    });
  });

  test('an error inside a query names the query', async () => {
    await refuses('POST', '/multi-search', 400, 'invalid_search_filter', {
      queries: [{ indexUid: 'movies', q: 'river' }, { indexUid: 'movies', filter: 'title = x' }],
    });
    await refuses('POST', '/multi-search', 404, 'index_not_found', { queries: [{ indexUid: 'movies' }, { indexUid: 'nope' }] });
    await refuses('POST', '/multi-search', 400, 'invalid_search_limit', { queries: [{ indexUid: 'movies', limit: -1 }] });
    await refuses('POST', '/multi-search', 400, 'missing_index_uid', { queries: [{ q: 'x' }] });
    await refuses('POST', '/multi-search', 400, 'invalid_index_uid', { queries: [{ indexUid: 'bad uid' }] });
    await refuses('POST', '/multi-search', 400, 'invalid_multi_search_federation_options', {
      queries: [{ indexUid: 'movies', federationOptions: { weight: 2 } }],
    });
    await refuses('POST', '/multi-search', 400, 'bad_request', { queries: [{ indexUid: 'movies' }], color: 1 });
    await refuses('POST', '/multi-search', 400, 'bad_request', {});
  });
});

/**
 * Several queries of a federated search on one index (spec S13.11): one node counts the union of
 * their matches in `estimatedTotalHits`, computes the index's facets over that union, and shows a
 * document two of them return once. Miroir asks each node one federated search holding the
 * index's queries (restricted to its shards) and adds up the nodes' counts. The queries overlap
 * (a document matched by two of them would be counted twice by a sum).
 */
describe('federated: several queries on one index', () => {
  const facets = ['genre', 'rating', 'tags', 'year'];
  const two = [
    { indexUid: 'movies', q: 'river' },
    { indexUid: 'movies', q: 'river storm', filter: 'genre = drama OR rating > 6' },
  ];
  const three = [
    { indexUid: 'movies', q: 'storm' },
    { indexUid: 'movies', q: 'storm garden', filter: 'year > 1975', federationOptions: { weight: 0.8 } },
    { indexUid: 'movies', q: 'garden', filter: 'tags = classic' },
  ];

  test('two queries: totals, hits and facetsByIndex as one node', async () => {
    const { ref } = await same('POST', '/multi-search', { federation: { limit: 30, facetsByIndex: { movies: facets } }, queries: two });
    // The queries overlap: the sum of their own totals is more than the union's.
    const plain = await same('POST', '/multi-search', { queries: two });
    const sum = plain.ref.body.results.reduce((n: number, r: { estimatedTotalHits: number }) => n + r.estimatedTotalHits, 0);
    assert.ok(sum > ref.body.estimatedTotalHits, `${sum} > ${ref.body.estimatedTotalHits}`);
    const genres = Object.values(ref.body.facetsByIndex.movies.distribution.genre as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.equal(genres, ref.body.estimatedTotalHits, 'every matched document counted once in the facets');
    await same('POST', '/multi-search', { federation: { offset: 3, limit: 6, facetsByIndex: { movies: ['genre'] } }, queries: two });
    await same('POST', '/multi-search', { federation: { page: 2, hitsPerPage: 4, facetsByIndex: { movies: facets } }, queries: two });
    await same('POST', '/multi-search', { federation: { limit: 0, facetsByIndex: { movies: [] } }, queries: two });
  });

  test('three queries, with and without mergeFacets', async () => {
    await same('POST', '/multi-search', { federation: { limit: 12, facetsByIndex: { movies: facets } }, queries: three });
    await same('POST', '/multi-search', { federation: { limit: 12, facetsByIndex: { movies: facets }, mergeFacets: {} }, queries: three });
    await same('POST', '/multi-search', { federation: { limit: 5, facetsByIndex: { movies: ['*'] }, mergeFacets: { maxValuesPerFacet: 2 } }, queries: three });
    // Without facets the total is the union's too.
    await same('POST', '/multi-search', { federation: { limit: 40 }, queries: [...three, ...two] });
  });

  test('a facet one node refuses is refused inside the first query of the index', async () => {
    await refuses('POST', '/multi-search', 400, 'invalid_search_facets', { federation: { facetsByIndex: { movies: ['title'] } }, queries: two });
  });
});

/**
 * `showPerformanceDetails`: Miroir forwards the flag and answers the slowest node's trace, at the
 * place one node puts it (docs/search.md, "Processing time"). The durations are masked: the step
 * names, the key order and the value types still compare.
 */
describe('performanceDetails', () => {
  const timed = { mask: ['search'] };
  test('search (POST and GET), plain and federated multi-search', async () => {
    for (const pair of [
      await p.both('POST', '/indexes/movies/search', { json: { q: 'river', sort: ['year:asc'], showPerformanceDetails: true } }),
      await p.both('GET', '/indexes/movies/search?q=storm&showPerformanceDetails=true'),
      await p.both('POST', '/multi-search', {
        json: { queries: [{ indexUid: 'movies', q: 'river', showPerformanceDetails: true }, { indexUid: 'movies', q: 'storm' }] },
      }),
      await p.both('POST', '/multi-search', {
        json: { federation: { limit: 5, showPerformanceDetails: true }, queries: [{ indexUid: 'movies', q: 'river' }, { indexUid: 'movies', q: 'storm' }] },
      }),
    ]) {
      assertSame(pair, timed);
      assert.equal(pair.ref.status, 200, pair.what);
    }
    const one = await p.both('POST', '/indexes/movies/search', { json: { q: 'river', showPerformanceDetails: true } });
    assert.equal(typeof one.mir.body.performanceDetails?.search, 'string', JSON.stringify(one.mir.body));
    const without = await p.both('POST', '/indexes/movies/search', { json: { q: 'river', showPerformanceDetails: false } });
    assertSame(without);
    assert.equal('performanceDetails' in without.mir.body, false);
  });
});

/**
 * Regressions: cases where Miroir once answered otherwise than one node:
 * - with `distinct`, each node removes duplicates among its own shards only, and Miroir adds up
 *   their counts — one node counts each distinct value once;
 * - `Meili-Include-Metadata: true` gets no `metadata` object.
 */
describe('regressions', () => {
  test('Meili-Include-Metadata adds the query metadata', async () => {
    const headers = { 'meili-include-metadata': 'true' };
    const mask = { mask: ['queryUid'] };
    assertSame(await p.both('POST', '/indexes/movies/search', { json: { q: 'river', sort: ['year:asc'] }, headers }), mask);
    assertSame(await p.both('POST', '/multi-search', { json: { queries: [{ indexUid: 'movies', q: 'storm', sort: ['year:asc'] }] }, headers }), mask);
  });

  test('distinct: estimatedTotalHits counts each distinct value once', async () => {
    await same('POST', '/indexes/movies/search', { q: 'city', distinct: 'genre', sort: ['year:asc'] });
    await same('GET', '/indexes/movies/search?q=city&distinct=genre&sort=year:asc');
  });

  test('distinct: exhaustive totalHits counts each distinct value once', async () => {
    await same('POST', '/indexes/movies/search', { q: 'city', distinct: 'genre', sort: ['year:asc'], page: 1, hitsPerPage: 2 });
  });
});
