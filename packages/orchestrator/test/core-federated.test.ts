import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Hit } from '@miroir/protocol';
import { indexFacetsOf, mergeFederated, mergeIndexFacets, nodeFederatedBody, type FederatedQueryInput } from '../src/core/federated.js';
import { compareCodePoints } from '../src/core/hit-order.js';
import type { SearchContext } from '../src/core/search-merge.js';

const ctx: SearchContext = { primaryKey: 'id', maxTotalHits: 1000, distinctAttribute: null, maxValuesPerFacet: 100, sortFacetValuesBy: {} };

function kw(id: number | string, score: number, extra: Record<string, unknown> = {}): Hit {
  return { id, _miroir_shard: 1, ...extra, _rankingScore: score, _rankingScoreDetails: { words: { order: 0, matchingWords: 1, maxMatchingWords: 1, score } } };
}

function input(indexUid: string, queriesPosition: number, weight: number, lists: Hit[][], extra: Partial<FederatedQueryInput> = {}): FederatedQueryInput {
  return {
    indexUid,
    queriesPosition,
    weight,
    query: { q: 'x' },
    ctx,
    responses: lists.map((hits) => ({ hits, estimatedTotalHits: hits.length })),
    ...extra,
  };
}

describe('federated multi-search merge', () => {
  it('merges queries by weighted score, ties by query position, with _federation on each hit', () => {
    const movies = input('movies', 0, 1, [[kw(1, 0.9), kw(2, 0.4)], [kw(3, 0.6)]]);
    const books = input('books', 1, 0.5, [[kw(10, 1), kw(11, 0.8)]]);
    const res = mergeFederated({ limit: 4 }, [movies, books], 5);
    assert.deepEqual(res, {
      hits: [
        { id: 1, _federation: { indexUid: 'movies', queriesPosition: 0, weightedRankingScore: 0.9 } },
        { id: 3, _federation: { indexUid: 'movies', queriesPosition: 0, weightedRankingScore: 0.6 } },
        { id: 10, _federation: { indexUid: 'books', queriesPosition: 1, weightedRankingScore: 0.5 } },
        { id: 2, _federation: { indexUid: 'movies', queriesPosition: 0, weightedRankingScore: 0.4 } },
      ],
      processingTimeMs: 5,
      limit: 4,
      offset: 0,
      estimatedTotalHits: 5,
    });
    const tie = mergeFederated({}, [input('a', 0, 1, [[kw(1, 0.5)]]), input('b', 1, 1, [[kw(1, 0.5)]])], 0);
    assert.deepEqual(tie.hits.map((h) => (h._federation as { indexUid: string }).indexUid), ['a', 'b']);
  });

  it('places _federation before the ranking fields and keeps them when asked', () => {
    const q = input('movies', 0, 2, [[kw(1, 0.25, { title: 'T' })]], { query: { q: 'x', showRankingScore: true } });
    const [hit] = mergeFederated({}, [q], 0).hits;
    assert.deepEqual(Object.keys(hit), ['id', 'title', '_federation', '_rankingScore']);
    assert.deepEqual(hit._federation, { indexUid: 'movies', queriesPosition: 0, weightedRankingScore: 0.5 });
  });

  it('returns a document reached by two queries of one index once, at its best position', () => {
    const a = input('movies', 0, 1, [[kw(1, 0.5), kw(2, 0.4)]]);
    const b = input('movies', 1, 1, [[kw(2, 0.9)]]);
    const res = mergeFederated({ offset: 0, limit: 10 }, [a, b], 0);
    assert.deepEqual(res.hits.map((h) => [h.id, (h._federation as { queriesPosition: number }).queriesPosition]), [
      [2, 1],
      [1, 0],
    ]);
  });

  it('compares sort values across queries, then later relevancy runs', () => {
    const mk = (id: number, price: number, typoCount: number): Hit => ({
      id,
      _rankingScore: 1,
      _rankingScoreDetails: {
        words: { order: 0, matchingWords: 2, maxMatchingWords: 2, score: 1 },
        'price:asc': { order: 1, value: price },
        typo: { order: 2, typoCount, maxTypoCount: 2, score: (3 - typoCount) / 3 },
      },
    });
    const a = input('a', 0, 1, [[mk(1, 5, 1), mk(2, 9, 0)]]);
    const b = input('b', 1, 1, [[mk(3, 5, 0), mk(4, 7, 2)]]);
    const res = mergeFederated({}, [a, b], 0);
    assert.deepEqual(res.hits.map((h) => h.id), [3, 1, 4, 2]);
  });

  it('pages the merged list and counts semantic hits for hybrid queries', () => {
    const sem = (id: number, s: number): Hit => ({ id, _rankingScore: s, _rankingScoreDetails: { vectorSort: { order: 0, similarity: s } } });
    const q = input('m', 0, 1, [[sem(1, 0.9), kw(2, 0.8), sem(3, 0.7)]], { query: { q: 'x', hybrid: { embedder: 'e', semanticRatio: 0.5 } } });
    const res = mergeFederated({ page: 2, hitsPerPage: 2 }, [q], 0);
    assert.deepEqual(res.hits.map((h) => h.id), [3]);
    assert.deepEqual(Object.keys(res), ['hits', 'processingTimeMs', 'hitsPerPage', 'page', 'totalPages', 'totalHits', 'semanticHitCount']);
    assert.equal(res.totalHits, 3);
    assert.equal(res.totalPages, 2);
    assert.equal(res.semanticHitCount, 1);
  });

  it('asks each node for the whole federation window', () => {
    assert.deepEqual(nodeFederatedBody({ query: { q: 'x' }, ctx }, { offset: 5, limit: 10 }, [0, 2]), {
      q: 'x',
      offset: 0,
      limit: 15,
      showRankingScore: true,
      showRankingScoreDetails: true,
      filter: ['_miroir_shard IN [0, 2]'],
    });
  });

  it('reports facets by index, or merged across indexes with mergeFacets', () => {
    const facets = {
      movies: { facets: { distribution: { genre: { Drama: 3, Action: 1 } }, stats: { year: { min: 1990, max: 2000 } } }, sortFacetValuesBy: { '*': 'count' as const } },
      books: { facets: { distribution: { genre: { Drama: 1, Poetry: 5 } }, stats: { year: { min: 1800, max: 1995 } } }, sortFacetValuesBy: {} },
    };
    const byIndex = mergeFederated({}, [], 0, facets);
    assert.deepEqual(byIndex.facetsByIndex, { books: facets.books.facets, movies: facets.movies.facets });
    assert.deepEqual(Object.keys(byIndex.facetsByIndex ?? {}), ['books', 'movies']);
    const merged = mergeFederated({ mergeFacets: { maxValuesPerFacet: 2 } }, [], 0, facets);
    assert.deepEqual(merged.facetDistribution, { genre: { Action: 1, Drama: 4 } });
    assert.deepEqual(merged.facetStats, { year: { min: 1800, max: 2000 } });
    assert.deepEqual(mergeIndexFacets({ movies: facets.movies }, undefined).distribution, { genre: { Drama: 3, Action: 1 } });
    const withUid = mergeFederated({}, [], 0, facets, { requestUid: 'r', metadata: [{ queryUid: 'q', indexUid: 'movies', primaryKey: 'id' }] });
    assert.deepEqual(Object.keys(withUid), ['hits', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits', 'facetsByIndex', 'requestUid', 'metadata']);
  });
});

describe('code point order', () => {
  it('orders astral characters after the end of the BMP, like UTF-8 bytes', () => {
    const words = ['\u{1F600}', '\uFFFD', 'a', 'ab', '\uE000', ''];
    const sorted = [...words].sort(compareCodePoints);
    assert.deepEqual(sorted, ['', 'a', 'ab', '\uE000', '\uFFFD', '\u{1F600}']);
    const bytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(sorted, bytes);
  });
});

describe('index facets for facetsByIndex', () => {
  it('sums one index’s node facets', () => {
    const f = indexFacetsOf(
      [
        { hits: [], facetDistribution: { genre: { Drama: 1 }, _miroir_shard: { '0': 1 } }, facetStats: { year: { min: 2, max: 3 } } },
        { hits: [], facetDistribution: { genre: { drama: 2, Action: 1 } }, facetStats: { year: { min: 1, max: 2 } } },
      ],
      { maxValuesPerFacet: 100, sortFacetValuesBy: {} },
    );
    assert.deepEqual(f, { distribution: { genre: { Action: 1, Drama: 3 } }, stats: { year: { min: 1, max: 3 } } });
  });
});
