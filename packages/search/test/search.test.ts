// Error messages are Meilisearch's (meilisearch `crates/meilisearch/tests/search/errors.rs`).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { defaultSettings, MeiliError } from '@miroir/protocol';
import { ids, makeIndex } from './helpers.js';

const MOVIES = [
  { id: 1, title: 'Batman Begins', genre: 'Action', year: 2005, price: 10 },
  { id: 2, title: 'The Dark Knight', genre: 'action', year: 2008, price: 12.5 },
  { id: 3, title: 'Batman Returns', genre: 'Drama', year: 1992, price: 5 },
  { id: 4, title: 'Joker', genre: 'Drama', year: 2019 },
  { id: 5, title: 'Batman', genre: 'Family', year: 1966, price: 3 },
];

function fails(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MeiliError, String(e));
    assert.deepEqual({ code: e.code, message: e.message }, { code, message });
    return true;
  });
}

test('placeholder search: all documents in iid order, offset/limit response keys in order', () => {
  const { index } = makeIndex(MOVIES);
  const res = index.search({ limit: 2, offset: 1 }, 'movies');
  assert.deepEqual(Object.keys(res), ['hits', 'query', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits']);
  assert.deepEqual(ids(res.hits), [2, 3]);
  assert.equal(res.query, '');
  assert.equal(res.estimatedTotalHits, 5);
});

test('page/hitsPerPage mode: exhaustive totals, page 0 returns no hits', () => {
  const { index } = makeIndex(MOVIES);
  const res = index.search({ page: 2, hitsPerPage: 2 }, 'movies');
  assert.deepEqual(Object.keys(res), ['hits', 'query', 'processingTimeMs', 'hitsPerPage', 'page', 'totalPages', 'totalHits']);
  assert.deepEqual(ids(res.hits), [3, 4]);
  assert.deepEqual([res.page, res.hitsPerPage, res.totalPages, res.totalHits], [2, 2, 3, 5]);
  const zero = index.search({ page: 0, hitsPerPage: 2 }, 'movies');
  assert.deepEqual([zero.hits.length, zero.totalHits, zero.totalPages], [0, 5, 3]);
  const none = index.search({ hitsPerPage: 0 }, 'movies');
  assert.deepEqual([none.hits.length, none.totalHits, none.totalPages], [0, 5, 0]);
});

test('maxTotalHits caps offset, limit and totals', () => {
  const { index } = makeIndex(MOVIES, { pagination: { maxTotalHits: 3 } });
  const res = index.search({ offset: 1, limit: 10 }, 'movies');
  assert.deepEqual([ids(res.hits), res.limit, res.offset, res.estimatedTotalHits], [[2, 3], 2, 1, 3]);
});

test('keyword search with prefix and typo, words bucket order', () => {
  const { index } = makeIndex(MOVIES);
  // A prefix match is never exact, so the three titles tie and keep iid order.
  assert.deepEqual(ids(index.search({ q: 'batm' }, 'movies').hits), [1, 3, 5]);
  assert.deepEqual(ids(index.search({ q: 'batmn ' }, 'movies').hits), [1, 3, 5]);
  // "last" keeps documents matching a prefix of the terms; "all" requires every term.
  // (only "batman" matches: "Batman", a whole field, ranks first by exactness)
  assert.deepEqual(ids(index.search({ q: 'batman knight' }, 'movies').hits), [5, 1, 3]);
  assert.deepEqual(ids(index.search({ q: 'batman begins', matchingStrategy: 'all' }, 'movies').hits), [1]);
});

test('filter and facets: distribution, stats, sortFacetValuesBy and maxValuesPerFacet', () => {
  const { index } = makeIndex(MOVIES, {
    filterableAttributes: ['genre', 'year', 'price'],
    faceting: { maxValuesPerFacet: 2, sortFacetValuesBy: { '*': 'alpha', genre: 'count' } },
  });
  const res = index.search({ filter: 'year > 1990', facets: ['genre', 'price', 'year'] }, 'movies');
  assert.deepEqual(ids(res.hits), [1, 2, 3, 4]);
  assert.deepEqual(res.facetDistribution, {
    genre: { Action: 2, Drama: 2 },
    price: { '5': 1, '10': 1 },
    year: { '1992': 1, '2005': 1 },
  });
  assert.deepEqual(res.facetStats, { price: { min: 5, max: 12.5 }, year: { min: 1992, max: 2019 } });
  const keys = Object.keys(res);
  assert.deepEqual(keys.slice(-2), ['facetDistribution', 'facetStats']);
  const wildcard = index.search({ q: 'batman', facets: ['*'] }, 'movies');
  assert.deepEqual(Object.keys(wildcard.facetDistribution!), ['genre', 'price', 'year']);
});

test('facets errors list the filterable patterns', () => {
  const { index } = makeIndex(MOVIES, { filterableAttributes: ['title', 'genre'] });
  fails(
    () => index.search({ facets: ['doggo'] }, 'movies'),
    'invalid_search_facets',
    'Invalid facet distribution: Attribute `doggo` is not filterable. Available filterable attributes patterns are: `genre, title`.',
  );
  fails(
    () => index.search({ facets: ['doggo', 'neko'] }, 'movies'),
    'invalid_search_facets',
    'Invalid facet distribution: Attributes `doggo, neko` are not filterable. Available filterable attributes patterns are: `genre, title`.',
  );
  const bare = makeIndex(MOVIES).index;
  fails(
    () => bare.search({ facets: ['doggo'] }, 'movies'),
    'invalid_search_facets',
    'Invalid facet distribution: Attribute `doggo` is not filterable. This index does not have configured filterable attributes.',
  );
});

test('filter errors: syntax without prefix, filterability with the index prefix', () => {
  const { index } = makeIndex(MOVIES, { filterableAttributes: ['title'] });
  fails(
    () => index.search({ filter: 'many = Glass' }, 'test'),
    'invalid_search_filter',
    'Index `test`: Attribute `many` is not filterable. Available filterable attribute patterns are: `title`.\n1:5 many = Glass',
  );
  fails(
    () => index.search({ filter: 'title = Glass XOR title = Glass' }, 'test'),
    'invalid_search_filter',
    'Found unexpected characters at the end of the filter: `XOR title = Glass`. You probably forgot an `OR` or an `AND` rule.\n15:32 title = Glass XOR title = Glass',
  );
  fails(
    () => index.search({ filter: true }, 'test'),
    'invalid_search_filter',
    'Invalid syntax for the filter parameter: `expected String, Array, found: true`.',
  );
});

test('sort: ascending/descending, missing values last, errors', () => {
  const { index } = makeIndex(MOVIES, { sortableAttributes: ['price', 'title'] });
  assert.deepEqual(ids(index.search({ sort: ['price:asc'] }, 'movies').hits), [5, 3, 1, 2, 4]);
  assert.deepEqual(ids(index.search({ sort: ['price:desc'] }, 'movies').hits), [2, 1, 3, 5, 4]);
  assert.deepEqual(ids(index.search({ q: 'batman', sort: ['price:desc'] }, 'movies').hits), [1, 3, 5]);
  fails(
    () => index.search({ sort: ['year:asc'] }, 'movies'),
    'invalid_search_sort',
    'Index `movies`: Attribute `year` is not sortable. Available sortable attributes are: `price, title`.',
  );
  fails(
    () => index.search({ sort: ['title'] }, 'movies'),
    'invalid_search_sort',
    'Invalid syntax for the sort parameter: expected expression ending by `:asc` or `:desc`, found `title`.',
  );
  fails(
    () => index.search({ sort: ['_geoDistance:asc'] }, 'movies'),
    'invalid_search_sort',
    "`_geoDistance` is a reserved keyword and thus can't be used as a sort expression.",
  );
  const noRule = makeIndex(MOVIES, { sortableAttributes: ['title'], rankingRules: ['proximity', 'exactness'] }).index;
  fails(
    () => noRule.search({ sort: ['title:asc'] }, 'movies'),
    'invalid_search_sort',
    'Index `movies`: You must specify where `sort` is listed in the rankingRules setting to use the sort parameter at search time.',
  );
});

test('custom ranking rule field:desc orders placeholder results', () => {
  const { index } = makeIndex(MOVIES, { rankingRules: ['words', 'year:desc', 'typo'] });
  assert.deepEqual(ids(index.search({}, 'movies').hits), [4, 2, 1, 3, 5]);
});

test('distinct: setting and parameter, totals count distinct values', () => {
  const { index } = makeIndex(MOVIES, { filterableAttributes: ['genre'], distinctAttribute: 'genre' });
  const res = index.search({}, 'movies');
  // "Action" and "action" are the same facet value.
  assert.deepEqual(ids(res.hits), [1, 3, 5]);
  assert.equal(res.estimatedTotalHits, 3);
  fails(
    () => index.search({ distinct: 'doggo.truc' }, 'test'),
    'invalid_search_distinct',
    'Index `test`: Attribute `doggo.truc` is not filterable and thus, cannot be used as distinct attribute. Available filterable attributes patterns are: `genre`.',
  );
  const plain = makeIndex(MOVIES, { filterableAttributes: ['genre'] }).index;
  const d = plain.search({ distinct: 'genre', page: 1, hitsPerPage: 10 }, 'movies');
  assert.deepEqual([ids(d.hits), d.totalHits], [[1, 3, 5], 3]);
});

test('rankingScoreThreshold drops lower hits and excludes them from totals', () => {
  const { index } = makeIndex(MOVIES);
  const all = index.search({ q: 'batman begins', showRankingScore: true }, 'movies');
  // Among one-word matches, "Batman" (whole field) beats "Batman Returns" (field start).
  assert.deepEqual(ids(all.hits), [1, 5, 3]);
  const cut = all.hits[0]._rankingScore!;
  const res = index.search({ q: 'batman begins', rankingScoreThreshold: cut }, 'movies');
  assert.deepEqual([ids(res.hits), res.estimatedTotalHits], [[1], 1]);
});

test('attributesToRetrieve ∩ displayedAttributes, highlight, crop and matches position', () => {
  const { index } = makeIndex([{ id: 1, title: 'Batman Begins', overview: 'A young Bruce Wayne travels to the Far East where he is trained in the martial arts', secret: 'x' }], {
    displayedAttributes: ['id', 'title', 'overview'],
  });
  const res = index.search(
    {
      q: 'wayne bat',
      attributesToRetrieve: ['title', 'secret', 'overview'],
      attributesToHighlight: ['title'],
      attributesToCrop: ['overview:4'],
      showMatchesPosition: true,
    },
    'movies',
  );
  assert.deepEqual(res.hits[0], {
    title: 'Batman Begins',
    overview: 'A young Bruce Wayne travels to the Far East where he is trained in the martial arts',
    // milli grows the crop window left first around the match (see format-crop tests).
    _formatted: { title: '<em>Bat</em>man Begins', overview: '…young Bruce Wayne travels…' },
    _matchesPosition: { title: [{ start: 0, length: 3 }], overview: [{ start: 14, length: 5 }] },
  });
});

test('attributesToSearchOn restricts matching fields and checks searchability', () => {
  const { index } = makeIndex(
    [
      { id: 1, title: 'joker', overview: 'batman' },
      { id: 2, title: 'batman', overview: 'joker' },
    ],
    { searchableAttributes: ['title', 'overview'] },
  );
  assert.deepEqual(ids(index.search({ q: 'batman', attributesToSearchOn: ['overview'] }, 'movies').hits), [1]);
  fails(
    () => index.search({ q: 'x', attributesToSearchOn: ['unknown'] }, 'test'),
    'invalid_search_attributes_to_search_on',
    'Index `test`: Attribute `unknown` is not searchable. Available searchable attributes are: `title, overview`.',
  );
});

test('stop words and synonyms', () => {
  const { index } = makeIndex(
    [
      { id: 1, t: 'the batman' },
      { id: 2, t: 'bruce wayne' },
    ],
    { stopWords: ['the'], synonyms: { batman: ['wayne'] } },
  );
  assert.deepEqual(ids(index.search({ q: 'the batman' }, 'movies').hits), [1, 2]);
});

test('typo tolerance settings: disabled, disableOnWords, minWordSizeForTypos', () => {
  const docs = [{ id: 1, t: 'batman' }];
  assert.equal(makeIndex(docs).index.search({ q: 'botman ' }, 'm').hits.length, 1);
  const off = (typoTolerance: Record<string, unknown>): number =>
    makeIndex(docs, {
      typoTolerance: {
        enabled: true,
        minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 },
        disableOnWords: [],
        disableOnAttributes: [],
        disableOnNumbers: false,
        ...typoTolerance,
      },
    }).index.search({ q: 'botman ' }, 'm').hits.length;
  assert.equal(off({ enabled: false }), 0);
  assert.equal(off({ disableOnWords: ['botman'] }), 0);
  assert.equal(off({ minWordSizeForTypos: { oneTypo: 7, twoTypos: 9 } }), 0);
  assert.equal(off({ disableOnAttributes: ['t'] }), 0);
});

test('add/remove/replace keep the index consistent', () => {
  const { index, docs } = makeIndex(MOVIES, { filterableAttributes: ['genre'] });
  index.remove(0, docs.get(0)!);
  assert.equal(index.size, 4);
  assert.deepEqual(ids(index.search({ q: 'batman' }, 'movies').hits), [5, 3]);
  const replaced = { id: 3, title: 'Superman', genre: 'Family' };
  index.remove(2, docs.get(2)!);
  docs.set(2, replaced);
  index.add(2, replaced);
  assert.deepEqual(ids(index.search({ q: 'batman' }, 'movies').hits), [5]);
  assert.deepEqual(ids(index.search({ q: 'superman' }, 'movies').hits), [3]);
  assert.deepEqual(index.search({ facets: ['genre'] }, 'movies').facetDistribution, { genre: { Action: 1, Drama: 1, Family: 2 } });
  index.clear();
  assert.equal(index.size, 0);
  assert.equal(index.search({ q: 'batman' }, 'movies').hits.length, 0);
});

test('setSettings re-derives structures', () => {
  const { index, docs } = makeIndex(MOVIES);
  index.setSettings({ ...defaultSettings(), searchableAttributes: ['genre'] }, docs.entries());
  assert.deepEqual(ids(index.search({ q: 'drama' }, 'movies').hits), [3, 4]);
  assert.equal(index.search({ q: 'batman' }, 'movies').hits.length, 0);
});


test('documents route: filter and sort helpers', () => {
  const { index } = makeIndex(MOVIES, { filterableAttributes: ['year'], sortableAttributes: ['price'] });
  assert.deepEqual(index.filter('year < 2006', 'invalid_document_filter', 'movies'), [0, 2, 4]);
  assert.deepEqual(index.sort([0, 1, 2, 3, 4], ['price:desc'], 'invalid_document_sort'), [1, 0, 2, 4, 3]);
  fails(
    () => index.filter('genre = x', 'invalid_document_filter', 'movies'),
    'invalid_document_filter',
    'Index `movies`: Attribute `genre` is not filterable. Available filterable attribute patterns are: `year`.\n1:6 genre = x',
  );
  fails(
    () => index.sort([0], ['year:asc'], 'invalid_document_sort'),
    'invalid_document_sort',
    'Attribute `year` is not sortable. Available sortable attributes are: `price`.',
  );
});

test('facet search: prefix on values, counts among matching documents', () => {
  const { index } = makeIndex(MOVIES, { filterableAttributes: ['genre'] });
  assert.deepEqual(index.facetSearch({ facetName: 'genre', facetQuery: 'ac' }, 'movies').facetHits, [{ value: 'Action', count: 2 }]);
  const res = index.facetSearch({ facetName: 'genre', q: 'batman' }, 'movies');
  assert.deepEqual(Object.keys(res), ['facetHits', 'facetQuery', 'processingTimeMs']);
  assert.deepEqual([res.facetHits, res.facetQuery], [
    [
      { value: 'Action', count: 1 },
      { value: 'Drama', count: 1 },
      { value: 'Family', count: 1 },
    ],
    null,
  ]);
  assert.throws(() => index.facetSearch({ facetName: 'title' }, 'movies'), { code: 'invalid_facet_search_facet_name' });
});

test('geo sort: _geoPoint distance order, details and _geoDistance', () => {
  const { index } = makeIndex(
    [
      { id: 'lyon', _geo: { lat: 45.764, lng: 4.8357 } },
      { id: 'nowhere' },
      { id: 'versailles', _geo: { lat: '48.8049', lng: '2.1204' } },
      { id: 'paris', _geo: { lat: 48.8566, lng: 2.3522 } },
    ],
    { sortableAttributes: ['_geo'] },
  );
  const res = index.search({ sort: ['_geoPoint(48.8566, 2.3522):asc'], showRankingScoreDetails: true }, 'places');
  assert.deepEqual(ids(res.hits), ['paris', 'versailles', 'lyon', 'nowhere']);
  assert.deepEqual(res.hits[0]._rankingScoreDetails, {
    '_geoPoint(48.8566, 2.3522):asc': { order: 0, value: { lat: 48.8566, lng: 2.3522 }, distance: 0 },
  });
  assert.equal(res.hits[0]._geoDistance, 0);
  const versailles = res.hits[1]._rankingScoreDetails!['_geoPoint(48.8566, 2.3522):asc'];
  assert.equal(res.hits[1]._geoDistance, Math.round(versailles.distance as number));
  // Paris–Versailles is about 17.5 km, Paris–Lyon about 392 km.
  assert.ok(Math.abs((res.hits[1]._geoDistance as number) - 17_500) < 500);
  assert.ok(Math.abs((res.hits[2]._geoDistance as number) - 392_000) < 2_000);
  assert.equal('_geoDistance' in res.hits[3], false);
  assert.deepEqual(res.hits[3]._rankingScoreDetails, { '_geoPoint(48.8566, 2.3522):asc': { order: 0, value: null, distance: null } });
  // Versailles, west of Paris, is the farthest from Lyon.
  assert.deepEqual(ids(index.search({ sort: ['_geoPoint(45.76, 4.83):desc'] }, 'places').hits), ['versailles', 'paris', 'lyon', 'nowhere']);
  const unsortable = makeIndex([{ id: 1 }]).index;
  fails(
    () => unsortable.search({ sort: ['_geoPoint(1, 2):asc'] }, 'places'),
    'invalid_search_sort',
    'Index `places`: Attribute `_geo` is not sortable. This index does not have configured sortable attributes.',
  );
});

test('hybrid with an unknown embedder is refused', () => {
  const { index } = makeIndex(MOVIES);
  fails(
    () => index.search({ q: 'x', hybrid: { embedder: 'default', semanticRatio: 0.5 } }, 'movies'),
    'invalid_search_embedder',
    'Cannot find embedder with name `default`.',
  );
});

test('_vectors is returned only with retrieveVectors', () => {
  const { index } = makeIndex([{ id: 1, t: 'a', _vectors: { e: [1, 2] } }]);
  assert.deepEqual(index.search({}, 'm').hits[0], { id: 1, t: 'a' });
  assert.deepEqual(index.search({ retrieveVectors: true }, 'm').hits[0], { id: 1, t: 'a', _vectors: { e: [1, 2] } });
  // Embeddings are not searchable text.
  assert.equal(index.search({ q: '2' }, 'm').hits.length, 0);
});

test('negated words exclude documents; a query of only negations is a placeholder', () => {
  const { index } = makeIndex(MOVIES);
  assert.deepEqual(ids(index.search({ q: 'batman -begins' }, 'movies').hits), [5, 3]);
  assert.deepEqual(ids(index.search({ q: '-batman' }, 'movies').hits), [2, 4]);
  // A hyphen inside a word is a separator, not a negation.
  assert.deepEqual(ids(index.search({ q: 'batman-begins' }, 'movies').hits), [1, 5, 3]);
});
