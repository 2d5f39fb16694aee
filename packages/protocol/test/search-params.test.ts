// Expected messages come from meilisearch `crates/meilisearch/tests/search/errors.rs` snapshots
// and from the deserr crate's own message tests (`src/errors/json.rs`, `query_params.rs`).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  MeiliError,
  parseFacetSearchQuery,
  parseMultiSearch,
  parseSearchQuery,
  searchQueryFromGet,
  splitSortParam,
} from '../src/index.js';
import { fails } from './helpers.js';


test('POST body: values are kept, null optional values dropped', () => {
  const q = parseSearchQuery({
    q: 'hello',
    limit: 5,
    offset: 2,
    page: null,
    filter: ['a = 1'],
    sort: ['price:asc'],
    matchingStrategy: 'all',
    showRankingScore: true,
    rankingScoreThreshold: 0.5,
    hybrid: { embedder: 'default' },
  });
  assert.deepEqual(q, {
    q: 'hello',
    limit: 5,
    offset: 2,
    filter: ['a = 1'],
    sort: ['price:asc'],
    matchingStrategy: 'all',
    showRankingScore: true,
    rankingScoreThreshold: 0.5,
    hybrid: { embedder: 'default', semanticRatio: 0.5 },
  });
});

const TYPE_ERRORS: Array<[Record<string, unknown>, string, string]> = [
  [{ q: ['doggo'] }, 'invalid_search_q', 'Invalid value type at `.q`: expected a string, but found an array: `["doggo"]`'],
  [{ offset: 'doggo' }, 'invalid_search_offset', 'Invalid value type at `.offset`: expected a positive integer, but found a string: `"doggo"`'],
  [{ limit: 'doggo' }, 'invalid_search_limit', 'Invalid value type at `.limit`: expected a positive integer, but found a string: `"doggo"`'],
  [{ limit: -1 }, 'invalid_search_limit', 'Invalid value type at `.limit`: expected a positive integer, but found a negative integer: `-1`'],
  [{ limit: 1.5 }, 'invalid_search_limit', 'Invalid value type at `.limit`: expected a positive integer, but found a number: `1.5`'],
  [{ limit: null }, 'invalid_search_limit', 'Invalid value type at `.limit`: expected a positive integer, but found null'],
  [{ page: 'doggo' }, 'invalid_search_page', 'Invalid value type at `.page`: expected a positive integer, but found a string: `"doggo"`'],
  [{ hitsPerPage: 'doggo' }, 'invalid_search_hits_per_page', 'Invalid value type at `.hitsPerPage`: expected a positive integer, but found a string: `"doggo"`'],
  [{ attributesToRetrieve: 'doggo' }, 'invalid_search_attributes_to_retrieve', 'Invalid value type at `.attributesToRetrieve`: expected an array, but found a string: `"doggo"`'],
  [{ attributesToRetrieve: ['a', 1] }, 'invalid_search_attributes_to_retrieve', 'Invalid value type at `.attributesToRetrieve[1]`: expected a string, but found a positive integer: `1`'],
  [{ retrieveVectors: 'doggo' }, 'invalid_search_retrieve_vectors', 'Invalid value type at `.retrieveVectors`: expected a boolean, but found a string: `"doggo"`'],
  [{ retrieveVectors: [true] }, 'invalid_search_retrieve_vectors', 'Invalid value type at `.retrieveVectors`: expected a boolean, but found an array: `[true]`'],
  [{ attributesToCrop: 'doggo' }, 'invalid_search_attributes_to_crop', 'Invalid value type at `.attributesToCrop`: expected an array, but found a string: `"doggo"`'],
  [{ cropLength: 'doggo' }, 'invalid_search_crop_length', 'Invalid value type at `.cropLength`: expected a positive integer, but found a string: `"doggo"`'],
  [{ attributesToHighlight: 'doggo' }, 'invalid_search_attributes_to_highlight', 'Invalid value type at `.attributesToHighlight`: expected an array, but found a string: `"doggo"`'],
  [{ sort: 'doggo' }, 'invalid_search_sort', 'Invalid value type at `.sort`: expected an array, but found a string: `"doggo"`'],
  [{ showMatchesPosition: 'doggo' }, 'invalid_search_show_matches_position', 'Invalid value type at `.showMatchesPosition`: expected a boolean, but found a string: `"doggo"`'],
  [{ facets: 'doggo' }, 'invalid_search_facets', 'Invalid value type at `.facets`: expected an array, but found a string: `"doggo"`'],
  [{ rankingScoreThreshold: 'doggo' }, 'invalid_search_ranking_score_threshold', 'Invalid value type at `.rankingScoreThreshold`: expected a number, but found a string: `"doggo"`'],
  [{ rankingScoreThreshold: 42 }, 'invalid_search_ranking_score_threshold', 'Invalid value at `.rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`.'],
  [{ highlightPreTag: ['doggo'] }, 'invalid_search_highlight_pre_tag', 'Invalid value type at `.highlightPreTag`: expected a string, but found an array: `["doggo"]`'],
  [{ highlightPostTag: ['doggo'] }, 'invalid_search_highlight_post_tag', 'Invalid value type at `.highlightPostTag`: expected a string, but found an array: `["doggo"]`'],
  [{ cropMarker: ['doggo'] }, 'invalid_search_crop_marker', 'Invalid value type at `.cropMarker`: expected a string, but found an array: `["doggo"]`'],
  [{ matchingStrategy: 'doggo' }, 'invalid_search_matching_strategy', 'Unknown value `doggo` at `.matchingStrategy`: expected one of `last`, `all`, `frequency`'],
  [{ matchingStrategy: { doggo: 'doggo' } }, 'invalid_search_matching_strategy', 'Invalid value type at `.matchingStrategy`: expected a string, but found an object: `{"doggo":"doggo"}`'],
  [{ distinct: true }, 'invalid_search_distinct', 'Invalid value type at `.distinct`: expected a string, but found a boolean: `true`'],
  [{ hybrid: { semanticRatio: 2, embedder: 'e' } }, 'invalid_search_semantic_ratio', 'Invalid value at `.hybrid.semanticRatio`: the value of `semanticRatio` is invalid, expected a float between `0.0` and `1.0`.'],
  [{ hybrid: {} }, 'invalid_search_hybrid_query', 'Missing field `embedder` inside `.hybrid`'],
];

test('POST body: type errors carry the parameter code and deserr message', () => {
  for (const [body, code, message] of TYPE_ERRORS) fails(() => parseSearchQuery(body), code, message);
});

test('POST body: unknown field lists every field in declaration order, with a suggestion', () => {
  const list =
    '`q`, `offset`, `limit`, `page`, `hitsPerPage`, `attributesToRetrieve`, `attributesToCrop`, `cropLength`, `cropMarker`, `attributesToHighlight`, `highlightPreTag`, `highlightPostTag`, `showMatchesPosition`, `filter`, `sort`, `distinct`, `facets`, `matchingStrategy`, `attributesToSearchOn`, `rankingScoreThreshold`, `locales`, `hybrid`, `vector`, `retrieveVectors`, `media`, `personalize`, `useNetwork`, `showRankingScore`, `showRankingScoreDetails`, `showPerformanceDetails`';
  fails(() => parseSearchQuery({ marin: 'hello' }), 'bad_request', `Unknown field \`marin\`: expected one of ${list}`);
  fails(() => parseSearchQuery({ filler: 'x' }), 'bad_request', `Unknown field \`filler\`: did you mean \`filter\`? expected one of ${list}`);
  // The first offending key in body order wins.
  fails(() => parseSearchQuery({ limit: 'x', marin: 1 }), 'invalid_search_limit', 'Invalid value type at `.limit`: expected a positive integer, but found a string: `"x"`');
  fails(() => parseSearchQuery('x'), 'bad_request', 'Invalid value type: expected an object, but found a string: `"x"`');
});

test('GET parameters: lists, filter JSON, hybrid, and query-param messages', () => {
  assert.deepEqual(
    searchQueryFromGet({
      q: 'a b',
      limit: '3',
      facets: 'genre, year',
      filter: '["a = 1"]',
      sort: '_geoPoint(1.0, 2.0):asc,price:desc',
      showRankingScore: 'true',
      hybridEmbedder: 'e',
      hybridSemanticRatio: '0.2',
    }),
    {
      q: 'a b',
      limit: 3,
      facets: ['genre', 'year'],
      filter: ['a = 1'],
      sort: ['_geoPoint(1.0,2.0):asc', 'price:desc'],
      showRankingScore: true,
      hybrid: { embedder: 'e', semanticRatio: 0.2 },
    },
  );
  assert.equal(searchQueryFromGet({ filter: 'a = 1' }).filter, 'a = 1');
  // A repeated parameter keeps its last value (a query string reader gives a list).
  assert.deepEqual(searchQueryFromGet({ q: ['a', 'b'], limit: ['3', '4'] }), { q: 'b', limit: 4 });
  fails(() => searchQueryFromGet({ offset: 'doggo' }), 'invalid_search_offset', 'Invalid value in parameter `offset`: could not parse `doggo` as a positive integer');
  fails(() => searchQueryFromGet({ hitsPerPage: 'doggo' }), 'invalid_search_hits_per_page', 'Invalid value in parameter `hitsPerPage`: could not parse `doggo` as a positive integer');
  fails(() => searchQueryFromGet({ retrieveVectors: '' }), 'invalid_search_retrieve_vectors', 'Invalid value in parameter `retrieveVectors`: could not parse `` as a boolean, expected either `true` or `false`');
  fails(() => searchQueryFromGet({ matchingStrategy: 'doggo' }), 'invalid_search_matching_strategy', 'Unknown value `doggo` for parameter `matchingStrategy`: expected one of `last`, `all`, `frequency`');
  fails(() => searchQueryFromGet({ hybridSemanticRatio: '0.3' }), 'invalid_search_hybrid_query', '`hybridEmbedder` is mandatory when `hybridSemanticRatio` is present');
  fails(() => searchQueryFromGet({ rankingScoreThreshold: '2' }), 'invalid_search_ranking_score_threshold', 'Invalid value in parameter `rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`.');
  assert.match(
    (() => {
      try {
        searchQueryFromGet({ marin: 'x' });
        return '';
      } catch (e) {
        return (e as MeiliError).message;
      }
    })(),
    /^Unknown parameter `marin`: expected one of `q`, `offset`, `limit`, `page`, `hitsPerPage`, .*`showRankingScoreDetails`, `showPerformanceDetails`$/,
  );
});

test('sort parameter splitting keeps geo points whole', () => {
  assert.deepEqual(splitSortParam('a:asc, _geoPoint(1, 2):desc, b:desc'), ['a:asc', '_geoPoint(1,2):desc', 'b:desc']);
});

test('facet search: facetName required, unknown fields ignored', () => {
  assert.deepEqual(parseFacetSearchQuery({ facetName: 'genre', facetQuery: 'ac', limit: 3, q: 'x' }), {
    facetName: 'genre',
    facetQuery: 'ac',
    q: 'x',
  });
  fails(() => parseFacetSearchQuery({ facetQuery: 'a' }), 'missing_facet_search_facet_name', 'Missing field `facetName`');
  fails(() => parseFacetSearchQuery({ facetName: 1 }), 'invalid_facet_search_facet_name', 'Invalid value type at `.facetName`: expected a string, but found a positive integer: `1`');
});

test('multi-search: plain and federated bodies with their checks', () => {
  assert.deepEqual(parseMultiSearch({ queries: [{ indexUid: 'movies', q: 'a', limit: 2 }] }), {
    queries: [{ indexUid: 'movies', q: 'a', limit: 2 }],
  });
  assert.deepEqual(
    parseMultiSearch({
      federation: { limit: 5, facetsByIndex: { movies: ['genre'] } },
      queries: [{ indexUid: 'movies', federationOptions: { weight: 2 } }],
    }),
    {
      queries: [{ indexUid: 'movies', federationOptions: { weight: 2 } }],
      federation: { limit: 5, facetsByIndex: { movies: ['genre'] } },
    },
  );
  fails(() => parseMultiSearch({ queries: [{ q: 'a' }] }), 'missing_index_uid', 'Missing field `indexUid` inside `.queries[0]`');
  fails(
    () => parseMultiSearch({ queries: [{ indexUid: 'a b' }] }),
    'invalid_index_uid',
    'Invalid value at `.queries[0].indexUid`: `a b` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 400 bytes.',
  );
  fails(
    () => parseMultiSearch({ queries: [{ indexUid: 'a', limit: 'x' }] }),
    'invalid_search_limit',
    'Invalid value type at `.queries[0].limit`: expected a positive integer, but found a string: `"x"`',
  );
  fails(
    () => parseMultiSearch({ queries: [{ indexUid: 'a' }, { indexUid: 'b', federationOptions: {} }] }),
    'invalid_multi_search_federation_options',
    'Inside `.queries[1]`: Using `federationOptions` is not allowed in a non-federated search.\n - Hint: remove `federationOptions` from query #1 or add `federation` to the request.',
  );
  fails(
    () => parseMultiSearch({ federation: {}, queries: [{ indexUid: 'a', limit: 3 }] }),
    'invalid_multi_search_query_pagination',
    'Inside `.queries[0]`: Using pagination options is not allowed in federated queries.\n - Hint: remove `limit` from query #0 or remove `federation` from the request\n - Hint: pass `federation.limit` and `federation.offset` for pagination in federated search',
  );
  fails(
    () => parseMultiSearch({ federation: {}, queries: [{ indexUid: 'movies', facets: ['genre', 'year'] }] }),
    'invalid_multi_search_query_facets',
    'Inside `.queries[0]`: Using facet options is not allowed in federated queries.\n - Hint: remove `facets` from query #0 or remove `federation` from the request\n - Hint: pass `federation.facetsByIndex.movies: ["genre", "year"]` for facets in federated search',
  );
  fails(
    () => parseMultiSearch({ federation: {}, queries: [{ indexUid: 'a', federationOptions: { weight: -1 } }] }),
    'invalid_multi_search_weight',
    'Invalid value at `.queries[0].federationOptions.weight`: the value of `weight` is invalid, expected a positive float (>= 0.0).',
  );
  fails(() => parseMultiSearch({ queries: [], foo: 1 }), 'bad_request', 'Unknown field `foo`: expected one of `queries`, `federation`');
  fails(
    () => parseMultiSearch({ queries: [], federation: 'x' }),
    'invalid_multi_search_federated',
    'Invalid value type at `.federation`: expected null or an object, but found a string: `"x"`',
  );
});
