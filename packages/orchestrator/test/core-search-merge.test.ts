import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Hit, SearchQuery } from '@miroir/protocol';
import {
  andShardFilter,
  mergeHits,
  mergeSearch,
  nodeSearchBody,
  searchWindow,
  type NodeSearchResponse,
  type SearchContext,
} from '../src/core/search-merge.js';
import { HitComparator, compareSortValues, orderedRuleNames } from '../src/core/hit-order.js';
import { mergeFacetSearch } from '../src/core/facets.js';

const ctx: SearchContext = {
  primaryKey: 'id',
  maxTotalHits: 1000,
  distinctAttribute: null,
  maxValuesPerFacet: 100,
  sortFacetValuesBy: { '*': 'alpha' },
};

/** A synthetic hit's ranking facts: words, typo, a sort value (price:asc), exactness. */
interface Facts {
  id: number;
  words: number;
  typo: number;
  price: number | string | null;
  exactness: number;
}

function hitOf(f: Facts, dir: 'asc' | 'desc' = 'asc'): Hit {
  const score = (f.words * 4 + f.typo * 2 + f.exactness) / 7;
  return {
    id: f.id,
    title: `doc ${f.id}`,
    _miroir_shard: f.id % 7,
    _rankingScore: score,
    _rankingScoreDetails: {
      words: { order: 0, matchingWords: 2, maxMatchingWords: 3, score: f.words },
      typo: { order: 1, typoCount: 0, maxTypoCount: 2, score: f.typo },
      [`price:${dir}`]: f.price === null ? { order: 2 } : { order: 2, value: f.price },
      exactness: { order: 3, matchType: 'noExactMatch', score: f.exactness },
    },
  };
}

/** The single-node order, written from the facts directly (bucket sort = lexicographic rules). */
function referenceOrder(a: Facts, b: Facts, dir: 'asc' | 'desc' = 'asc'): number {
  if (a.words !== b.words) return b.words - a.words;
  if (a.typo !== b.typo) return b.typo - a.typo;
  const rank = (v: Facts['price']): number => (typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);
  const sign = dir === 'asc' ? 1 : -1;
  if (rank(a.price) !== rank(b.price)) return rank(a.price) - rank(b.price);
  if (typeof a.price === 'number' && typeof b.price === 'number' && a.price !== b.price) return (a.price - b.price) * sign;
  if (typeof a.price === 'string' && typeof b.price === 'string' && a.price !== b.price) return (a.price < b.price ? -1 : 1) * sign;
  if (a.exactness !== b.exactness) return b.exactness - a.exactness;
  const sa = (a.words * 4 + a.typo * 2 + a.exactness) / 7;
  const sb = (b.words * 4 + b.typo * 2 + b.exactness) / 7;
  if (sa !== sb) return sb - sa;
  return a.id - b.id;
}

const score = fc.constantFrom(0, 0.25, 0.5, 0.75, 1);
const factsArb = fc
  .array(
    fc.record({
      words: score,
      typo: score,
      price: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('a', 'b', 'B', 'z'), fc.constant(null)),
      exactness: score,
    }),
    { maxLength: 80 },
  )
  .map((xs) => xs.map((x, i) => ({ ...x, id: i })));

/** Splits a sorted list across k nodes (each node keeps the global order of its own hits). */
function split<T>(sorted: T[], assignment: number[], k: number): T[][] {
  const lists: T[][] = Array.from({ length: k }, () => []);
  sorted.forEach((x, i) => lists[assignment[i % assignment.length] % k].push(x));
  return lists;
}

describe('merge order', () => {
  it('equals the order of one sorted list, for random rule scores and sort values', () => {
    fc.assert(
      fc.property(factsArb, fc.integer({ min: 1, max: 8 }), fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), (facts, k, assignment) => {
        const sorted = [...facts].sort((a, b) => referenceOrder(a, b));
        const lists = split(sorted.map((f) => hitOf(f)), assignment, k);
        const merged = mergeHits(lists, facts.length, new HitComparator({ primaryKey: 'id' }), null);
        assert.deepEqual(
          merged.map((h) => h.id),
          sorted.map((f) => f.id),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('a descending sort merges the same way, and any offset/limit window is a slice of the one list', () => {
    fc.assert(
      fc.property(
        factsArb,
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        fc.nat({ max: 90 }),
        fc.nat({ max: 40 }),
        (facts, k, assignment, offset, limit) => {
          const sorted = [...facts].sort((a, b) => referenceOrder(a, b, 'desc'));
          const lists = split(sorted.map((f) => hitOf(f, 'desc')), assignment, k);
          const responses = lists.map((hits) => ({ hits, estimatedTotalHits: hits.length }));
          const res = mergeSearch({ offset, limit }, ctx, responses, { processingTimeMs: 0 });
          assert.deepEqual(
            res.hits.map((h) => h.id),
            sorted.slice(offset, offset + limit).map((f) => f.id),
          );
          assert.equal(res.estimatedTotalHits, facts.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('relevancy-only rules: the folded _rankingScore gives the bucket order (fast path)', () => {
    // Ranks r of M per rule (words M=3, typo M=3, proximity M=4, exactness M=3); the global score
    // is milli's mixed-radix fold, and the single-node order is lexicographic over the ranks.
    const M = [3, 3, 4, 3];
    const names = ['words', 'typo', 'proximity', 'exactness'];
    const ranks = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }));
    fc.assert(
      fc.property(fc.array(ranks, { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(), { minLength: 1, maxLength: 20 }), (rs, k, assignment) => {
        const docs = rs.map((r, id) => ({ id, r }));
        const lex = (a: (typeof docs)[0], b: (typeof docs)[0]): number => {
          for (let i = 0; i < 4; i++) if (a.r[i] !== b.r[i]) return b.r[i] - a.r[i];
          return a.id - b.id;
        };
        const sorted = [...docs].sort(lex);
        const toHit = (d: (typeof docs)[0]): Hit => {
          let r = 1;
          let m = 1;
          const details: Record<string, Record<string, unknown>> = {};
          d.r.forEach((ri, i) => {
            r = (r - 1) * M[i] + ri;
            m *= M[i];
            details[names[i]] = { order: i, score: ri / M[i] };
          });
          return { id: d.id, _rankingScore: r / m, _rankingScoreDetails: details };
        };
        const lists = split(sorted.map(toHit), assignment, k);
        const merged = mergeHits(lists, docs.length, new HitComparator({ primaryKey: 'id' }), null);
        assert.deepEqual(
          merged.map((h) => h.id),
          sorted.map((d) => d.id),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('sort values: numbers before strings in both directions, missing last', () => {
    const asc = [3, 'b', null, 1, 'a', undefined, 2].sort((a, b) => compareSortValues(a, b, 1));
    assert.deepEqual(asc.slice(0, 5), [1, 2, 3, 'a', 'b']);
    const desc = [3, 'b', null, 1, 'a', 2].sort((a, b) => compareSortValues(a, b, -1));
    assert.deepEqual(desc.slice(0, 5), [3, 2, 1, 'b', 'a']);
    assert.equal(desc[5], null);
  });

  it('geo sort by distance, vector by similarity', () => {
    const geo = (id: number, distance: number): Hit => ({
      id,
      _rankingScore: 1,
      _rankingScoreDetails: { '_geoPoint(48.8, 2.3):asc': { order: 0, value: { lat: 0, lng: 0 }, distance } },
    });
    const cmp = new HitComparator({ primaryKey: 'id' });
    const m = mergeHits([[geo(1, 10), geo(2, 500)], [geo(3, 20), geo(4, 30)]], 4, cmp, null);
    assert.deepEqual(m.map((h) => h.id), [1, 3, 4, 2]);
    const vec = (id: number, similarity: number): Hit => ({
      id,
      _rankingScore: similarity,
      _rankingScoreDetails: { vectorSort: { order: 0, similarity } },
    });
    const v = mergeHits([[vec(1, 0.9), vec(2, 0.5)], [vec(3, 0.95), vec(4, 0.1)]], 4, new HitComparator({ primaryKey: 'id' }), null);
    assert.deepEqual(v.map((h) => h.id), [3, 1, 2, 4]);
  });

  it('a hit whose later rules were cut off (`skipped`) ranks below one whose rules ran', () => {
    const full: Hit = {
      id: 2,
      _rankingScore: 0.9,
      _rankingScoreDetails: { words: { order: 0, score: 1 }, 'price:asc': { order: 1, value: 3 }, proximity: { order: 2, score: 0.5 } },
    };
    const cut: Hit = { id: 1, _rankingScore: 0.95, _rankingScoreDetails: { words: { order: 0, score: 1 }, 'price:asc': { order: 1, value: 3 }, skipped: { order: 2 } } };
    const better: Hit = { id: 3, _rankingScore: 0.5, _rankingScoreDetails: { words: { order: 0, score: 1 }, 'price:asc': { order: 1, value: 1 }, skipped: { order: 2 } } };
    const m = mergeHits([[better, cut], [full]], 3, new HitComparator({ primaryKey: 'id' }), null);
    assert.deepEqual(m.map((h) => h.id), [3, 2, 1]);
  });

  it('a sort entry overwritten by a custom rule of the same name keeps its earlier place', () => {
    // rankingRules [sort, words, price:asc] with sort [price:asc]: the map keeps one `price:asc`
    // key (at order 2, first position) and order 0 is missing; the node sorted by price first.
    const hit = (id: number, price: number, words: number): Hit => ({
      id,
      _rankingScore: words,
      _rankingScoreDetails: { 'price:asc': { order: 2, value: price }, words: { order: 1, score: words } },
    });
    const n1 = [hit(1, 1, 0.5), hit(2, 5, 1)];
    const n2 = [hit(3, 2, 1), hit(4, 9, 1)];
    const m = mergeSearch({ q: 'x', sort: ['price:asc'] }, ctx, [node(n1, 2), node(n2, 2)], { processingTimeMs: 0 });
    assert.deepEqual(m.hits.map((h) => h.id), [1, 3, 2, 4]);
    assert.deepEqual(orderedRuleNames({ 'price:asc': { order: 2 }, words: { order: 1 } }), ['price:asc', 'words', 'price:asc']);
  });

  it('several overwritten sort entries are placed in the query sort sequence', () => {
    // rankingRules [sort, words, year:desc, price:asc], sort [price:asc, year:desc].
    const details = { 'price:asc': { order: 4 }, 'year:desc': { order: 3 }, words: { order: 2 } };
    assert.deepEqual(orderedRuleNames(details, ['price:asc', 'year:desc']), ['price:asc', 'year:desc', 'words', 'year:desc', 'price:asc']);
    const hit = (id: number, price: number, year: number): Hit => ({
      id,
      _rankingScore: 1,
      _rankingScoreDetails: { 'price:asc': { order: 4, value: price }, 'year:desc': { order: 3, value: year }, words: { order: 2, score: 1 } },
    });
    const a = [hit(1, 1, 1990), hit(2, 3, 2020)];
    const b = [hit(3, 1, 2000), hit(4, 2, 1980)];
    const m = mergeSearch({ sort: ['price:asc', 'year:desc'] }, ctx, [node(a, 2), node(b, 2)], { processingTimeMs: 0 });
    assert.deepEqual(m.hits.map((h) => h.id), [3, 1, 4, 2]);
  });

  it('hybrid: keyword and semantic hits interleave by weighted score', () => {
    const kw = (id: number, s: number): Hit => ({ id, _rankingScore: s, _rankingScoreDetails: { words: { order: 0, score: s } } });
    const sem = (id: number, s: number): Hit => ({ id, _rankingScore: s, _rankingScoreDetails: { vectorSort: { order: 0, similarity: s } } });
    const cmp = new HitComparator({ primaryKey: 'id', semanticRatio: 0.8 });
    // weighted: kw 1.0 → 0.2, sem 0.5 → 0.4, sem 0.2 → 0.16
    const m = mergeHits([[kw(1, 1)], [sem(2, 0.5), sem(3, 0.2)]], 3, cmp, null);
    assert.deepEqual(m.map((h) => h.id), [2, 1, 3]);
  });
});

function node(hits: Hit[], total: number, extra: Partial<NodeSearchResponse> = {}): NodeSearchResponse {
  return { hits, estimatedTotalHits: total, totalHits: total, processingTimeMs: 1, ...extra };
}

/** 100 hits with distinct scores, spread over 3 nodes. */
function corpus(): { all: Hit[]; nodes: NodeSearchResponse[] } {
  const all: Hit[] = Array.from({ length: 100 }, (_, i) => ({
    id: i,
    genre: ['drama', 'comedy', 'horror'][i % 3],
    _miroir_shard: i % 5,
    _rankingScore: 1 - i / 1000,
    _rankingScoreDetails: { words: { order: 0, score: 1 - i / 1000 } },
  }));
  const nodes = [0, 1, 2].map((n) => node(all.filter((_, i) => i % 3 === n), 34));
  return { all, nodes };
}

describe('mergeSearch', () => {
  it('applies offset/limit after the merge and returns Meilisearch key order', () => {
    const { nodes } = corpus();
    const q: SearchQuery = { q: 'x', offset: 5, limit: 3 };
    const res = mergeSearch(q, ctx, nodes, { processingTimeMs: 7 });
    assert.deepEqual(res, {
      hits: [
        { id: 5, genre: 'horror' },
        { id: 6, genre: 'drama' },
        { id: 7, genre: 'comedy' },
      ],
      query: 'x',
      processingTimeMs: 7,
      limit: 3,
      offset: 5,
      estimatedTotalHits: 102,
    });
    assert.deepEqual(Object.keys(res), ['hits', 'query', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits']);
  });

  it('pages concatenate to the limit=50 answer', () => {
    const { nodes } = corpus();
    const whole = mergeSearch({ limit: 50 }, ctx, nodes, { processingTimeMs: 0 }).hits;
    const pages: Hit[] = [];
    for (let page = 1; page <= 5; page++) {
      const r = mergeSearch({ page, hitsPerPage: 10 }, ctx, nodes, { processingTimeMs: 0 });
      assert.deepEqual(Object.keys(r), ['hits', 'query', 'processingTimeMs', 'hitsPerPage', 'page', 'totalPages', 'totalHits']);
      assert.equal(r.totalHits, 102);
      assert.equal(r.totalPages, 11);
      pages.push(...r.hits);
    }
    assert.deepEqual(pages, whole);
    const byOffset: Hit[] = [];
    for (let offset = 0; offset < 50; offset += 7) {
      byOffset.push(...mergeSearch({ offset, limit: Math.min(7, 50 - offset) }, ctx, nodes, { processingTimeMs: 0 }).hits);
    }
    assert.deepEqual(byOffset, whole);
  });

  it('keeps ranking scores only when asked, always strips _miroir_ fields', () => {
    const { nodes } = corpus();
    const r = mergeSearch({ limit: 1, showRankingScore: true }, ctx, nodes, { processingTimeMs: 0 });
    assert.deepEqual(r.hits, [{ id: 0, genre: 'drama', _rankingScore: 1 }]);
    const d = mergeSearch({ limit: 1, showRankingScoreDetails: true }, ctx, nodes, { processingTimeMs: 0 });
    assert.deepEqual(d.hits, [{ id: 0, genre: 'drama', _rankingScoreDetails: { words: { order: 0, score: 1 } } }]);
  });

  it('strips attributes Miroir added to attributesToRetrieve, from hits and _formatted', () => {
    const q: SearchQuery = { attributesToRetrieve: ['title'], attributesToHighlight: ['title'], distinct: 'sku' };
    const body = nodeSearchBody(q, ctx, null);
    assert.deepEqual(body.attributesToRetrieve, ['title', 'id', 'sku']);
    const hit: Hit = {
      title: 'A',
      id: 1,
      sku: 'x',
      _miroir_shard: 3,
      _formatted: { title: '<em>A</em>', id: '1', sku: 'x', _miroir_shard: '3' },
      _rankingScore: 0.5,
    };
    const r = mergeSearch(q, ctx, [node([hit], 1)], { processingTimeMs: 0 });
    assert.deepEqual(r.hits, [{ title: 'A', _formatted: { title: '<em>A</em>' } }]);
  });

  it('caps totals and the window at maxTotalHits', () => {
    const small = { ...ctx, maxTotalHits: 10 };
    const { nodes } = corpus();
    const r = mergeSearch({ offset: 8, limit: 5 }, small, nodes, { processingTimeMs: 0 });
    assert.deepEqual(r.hits.map((h) => h.id), [8, 9]);
    assert.equal(r.estimatedTotalHits, 10);
    assert.equal(r.limit, 5);
    const beyond = mergeSearch({ offset: 50 }, small, nodes, { processingTimeMs: 0 });
    assert.equal(beyond.offset, 10);
    assert.deepEqual(beyond.hits, []);
    const p = mergeSearch({ page: 2, hitsPerPage: 7 }, small, nodes, { processingTimeMs: 0 });
    assert.deepEqual(p.hits.map((h) => h.id), [7, 8, 9]);
    assert.equal(p.totalPages, 2);
    const zero = mergeSearch({ page: 0 }, ctx, nodes, { processingTimeMs: 0 });
    assert.deepEqual([zero.hits, zero.page, zero.hitsPerPage, zero.totalHits], [[], 0, 20, 102]);
    const none = mergeSearch({ hitsPerPage: 0 }, ctx, nodes, { processingTimeMs: 0 });
    assert.equal(none.totalPages, 0);
  });

  it('sums facets per value, including values seen on one shard only, re-sorts and truncates', () => {
    const a = node([], 3, {
      facetDistribution: { genre: { Drama: 2, comedy: 1 }, _miroir_shard: { '1': 3 }, year: { '1999': 1, '2001': 2 } },
      facetStats: { year: { min: 1999, max: 2001 }, _miroir_shard: { min: 1, max: 1 } },
    });
    const b = node([], 4, {
      facetDistribution: { genre: { drama: 1, horror: 3 }, year: { '1985': 4 } },
      facetStats: { year: { min: 1985, max: 1985 } },
    });
    const r = mergeSearch({ facets: ['*'] }, ctx, [a, b], { processingTimeMs: 0 });
    assert.deepEqual(r.facetDistribution, {
      genre: { comedy: 1, Drama: 3, horror: 3 },
      year: { '1985': 4, '1999': 1, '2001': 2 },
    });
    assert.deepEqual(Object.keys(r.facetDistribution ?? {}), ['genre', 'year']);
    assert.deepEqual(Object.keys(r.facetDistribution?.year ?? {}), ['1985', '1999', '2001']);
    assert.deepEqual(r.facetStats, { year: { min: 1985, max: 2001 } });
    assert.equal(r.estimatedTotalHits, 7);
    const byCount = mergeSearch({ facets: ['genre'] }, { ...ctx, maxValuesPerFacet: 2, sortFacetValuesBy: { genre: 'count' } }, [a, b], {
      processingTimeMs: 0,
    });
    assert.deepEqual(Object.entries(byCount.facetDistribution?.genre ?? {}), [
      ['Drama', 3],
      ['horror', 3],
    ]);
    assert.deepEqual(Object.keys(byCount), ['hits', 'query', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits', 'facetDistribution', 'facetStats']);
  });

  it('re-applies distinct across nodes, keeping the best hit per value', () => {
    const mk = (id: number, s: number, sku: string | undefined): Hit => ({
      id,
      ...(sku === undefined ? {} : { sku }),
      _rankingScore: s,
      _rankingScoreDetails: { words: { order: 0, score: s } },
    });
    const n1 = node([mk(1, 0.9, 'A'), mk(2, 0.5, 'B'), mk(5, 0.3, undefined)], 3);
    const n2 = node([mk(3, 0.8, 'a'), mk(4, 0.7, 'C'), mk(6, 0.2, undefined)], 3);
    const r = mergeSearch({ distinct: 'sku' }, ctx, [n1, n2], { processingTimeMs: 0 });
    assert.deepEqual(r.hits.map((h) => h.id), [1, 4, 2, 5, 6]);
    const viaSettings = mergeSearch({}, { ...ctx, distinctAttribute: 'sku' }, [n1, n2], { processingTimeMs: 0 });
    assert.deepEqual(viaSettings.hits.map((h) => h.id), [1, 4, 2, 5, 6]);
  });

  it('echoes queryVector right after query, as a node does with retrieveVectors', () => {
    const r = mergeSearch({ q: 'x', retrieveVectors: true }, ctx, [node([], 0, { queryVector: [0.5, 1] }), node([], 0, { queryVector: [0.5, 1] })], { processingTimeMs: 1 });
    assert.deepEqual(Object.keys(r), ['hits', 'query', 'queryVector', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits']);
    assert.deepEqual((r as { queryVector?: number[] }).queryVector, [0.5, 1]);
  });

  it('with distinct, counts each distinct value once across shards', () => {
    const q: SearchQuery = { q: 'city', distinct: 'genre', facets: ['year'] };
    assert.deepEqual(nodeSearchBody(q, ctx, null).facets, ['year', 'genre']);
    assert.deepEqual(nodeSearchBody({ distinct: 'genre', facets: ['*'] }, ctx, null).facets, ['*']);
    assert.equal(nodeSearchBody({}, { ...ctx, distinctAttribute: 'genre' }, null).facets, undefined);
    assert.deepEqual(nodeSearchBody({}, { ...ctx, distinctAttribute: 'genre', distinctFilterable: true }, null).facets, ['genre']);
    // Node 1: drama, comedy + 1 document without a genre; node 2: Drama, horror.
    const a = node([], 3, { facetDistribution: { genre: { comedy: 4, drama: 2 }, year: { '2000': 3 } }, facetStats: { year: { min: 2000, max: 2000 } } });
    const b = node([], 2, { facetDistribution: { genre: { Drama: 1, horror: 5 }, year: { '2001': 2 } }, facetStats: { year: { min: 2001, max: 2001 } } });
    const r = mergeSearch(q, ctx, [a, b], { processingTimeMs: 0 });
    assert.equal(r.estimatedTotalHits, 4);
    assert.deepEqual(r.facetDistribution, { year: { '2000': 3, '2001': 2 } });
    assert.deepEqual(r.facetStats, { year: { min: 2000, max: 2001 } });
    const paged = mergeSearch({ ...q, page: 1, hitsPerPage: 2 }, ctx, [a, b], { processingTimeMs: 0 });
    assert.deepEqual([paged.totalHits, paged.totalPages], [4, 2]);
    const noFacets = mergeSearch({ distinct: 'genre' }, ctx, [a, b], { processingTimeMs: 0 });
    assert.deepEqual(Object.keys(noFacets), ['hits', 'query', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits']);
    // A value list that may be truncated at maxValuesPerFacet: fall back to the sum.
    const truncated = mergeSearch(q, { ...ctx, maxValuesPerFacet: 2 }, [a, b], { processingTimeMs: 0 });
    assert.equal(truncated.estimatedTotalHits, 5);
  });

  it('counts semanticHitCount among the hits returned (not every node\'s), and echoes requestUid', () => {
    const r = mergeSearch({ q: 'x', hybrid: { embedder: 'e', semanticRatio: 0.5 } }, ctx, [node([], 1, { semanticHitCount: 2 }), node([], 1, { semanticHitCount: 3 })], {
      processingTimeMs: 4,
      requestUid: 'r-1',
    });
    assert.deepEqual(r, { hits: [], query: 'x', processingTimeMs: 4, limit: 20, offset: 0, estimatedTotalHits: 2, requestUid: 'r-1', semanticHitCount: 0 });
    // Issue: 31 for 20 hits. Each node counted its own semantic hits; the page holds 2 of them.
    const sem = (id: number, score: number): Hit => ({ id, _rankingScore: score, _rankingScoreDetails: { vectorSort: { order: 0, similarity: score } } });
    const kw = (id: number, score: number): Hit => ({ id, _rankingScore: score, _rankingScoreDetails: { words: { order: 0, matchingWords: 1, maxMatchingWords: 1, score } } });
    const page = mergeSearch({ q: 'x', limit: 3, hybrid: { embedder: 'e', semanticRatio: 0.5 } }, ctx, [
      node([sem(1, 0.99), kw(2, 0.9), sem(3, 0.2)], 3, { semanticHitCount: 2 }),
      node([kw(4, 0.95), sem(5, 0.5), sem(6, 0.1)], 3, { semanticHitCount: 2 }),
    ], { processingTimeMs: 0 });
    assert.deepEqual(page.hits.map((h) => h.id), [1, 4, 2]);
    assert.equal(page.semanticHitCount, 1);
    assert.deepEqual(Object.keys(r), ['hits', 'query', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits', 'requestUid', 'semanticHitCount']);
    const meta = { queryUid: 'q-1', indexUid: 'movies', primaryKey: 'id' };
    const withMeta = mergeSearch({ facets: ['genre'] }, ctx, [node([], 0)], { processingTimeMs: 0, requestUid: 'r-2', metadata: meta });
    assert.deepEqual(Object.keys(withMeta), ['hits', 'query', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits', 'facetDistribution', 'facetStats', 'requestUid', 'metadata']);
    assert.deepEqual(withMeta.metadata, meta);
  });
});

describe('nodeSearchBody', () => {
  it('asks each node for the whole window from 0, with scores and the shard filter', () => {
    const q: SearchQuery = { q: 'a', offset: 10, limit: 5, filter: 'genre = drama', showRankingScore: false };
    assert.deepEqual(nodeSearchBody(q, ctx, [1, 4]), {
      q: 'a',
      offset: 0,
      limit: 15,
      filter: ['genre = drama', '_miroir_shard IN [1, 4]'],
      showRankingScore: true,
      showRankingScoreDetails: true,
    });
    assert.deepEqual(q.offset, 10);
  });

  it('page mode asks for page 1 with page×hitsPerPage, capped at maxTotalHits', () => {
    assert.deepEqual(nodeSearchBody({ page: 3, hitsPerPage: 20, offset: 4 }, ctx, null), {
      page: 1,
      hitsPerPage: 60,
      showRankingScore: true,
      showRankingScoreDetails: true,
    });
    assert.equal(nodeSearchBody({ page: 80, hitsPerPage: 20 }, ctx, null).hitsPerPage, 1000);
    assert.equal(nodeSearchBody({ offset: 990, limit: 50 }, ctx, null).limit, 1000);
  });

  it('asks for ranking details only when the order needs them (or the client wants them)', () => {
    const plain: SearchContext = { ...ctx, customSortRules: false };
    assert.deepEqual(nodeSearchBody({ q: 'a' }, plain, null), { q: 'a', offset: 0, limit: 20, showRankingScore: true });
    assert.equal(nodeSearchBody({ q: 'a', sort: ['year:asc'] }, plain, null).showRankingScoreDetails, true);
    assert.equal(nodeSearchBody({ q: 'a', sort: [] }, plain, null).showRankingScoreDetails, undefined);
    assert.equal(nodeSearchBody({ q: 'a', showRankingScoreDetails: true }, plain, null).showRankingScoreDetails, true);
    assert.equal(nodeSearchBody({ q: 'a', hybrid: { embedder: 'e', semanticRatio: 0.5 } }, plain, null).showRankingScoreDetails, true);
    assert.equal(nodeSearchBody({ q: 'a', vector: [0.1] }, plain, null).showRankingScoreDetails, true);
    assert.equal(nodeSearchBody({ q: 'a' }, { ...ctx, customSortRules: true }, null).showRankingScoreDetails, true);
    // Unknown ranking rules (no flag): always asked.
    assert.equal(nodeSearchBody({ q: 'a' }, ctx, null).showRankingScoreDetails, true);
  });

  it('over-fetches semantic queries only', () => {
    const c = { ...ctx, overFetchFactor: 3 };
    assert.equal(nodeSearchBody({ q: 'a', limit: 10, hybrid: { embedder: 'e', semanticRatio: 0.5 } }, c, null).limit, 30);
    // `hybrid` without query text nor vector is a placeholder keyword search (meilisearch search_kind).
    assert.equal(nodeSearchBody({ limit: 10, hybrid: { embedder: 'e', semanticRatio: 0.5 } }, c, null).limit, 10);
    assert.equal(nodeSearchBody({ limit: 10 }, c, null).limit, 10);
  });

  it('ANDs the shard filter onto every filter form', () => {
    const f = '_miroir_shard IN [2]';
    assert.deepEqual(andShardFilter(undefined, [2]), [f]);
    assert.deepEqual(andShardFilter('', [2]), [f]);
    assert.deepEqual(andShardFilter('a = 1 OR b = 2', [2]), ['a = 1 OR b = 2', f]);
    assert.deepEqual(andShardFilter(['a = 1', ['b = 2', 'c = 3']], [2]), ['a = 1', ['b = 2', 'c = 3'], f]);
    assert.deepEqual(andShardFilter([], [2]), [f]);
    assert.equal(andShardFilter(42, [2]), 42);
  });

  it('resolves the window like a node', () => {
    assert.deepEqual(searchWindow({}, 1000), { paged: false, offset: 0, limit: 20 });
    assert.deepEqual(searchWindow({ hitsPerPage: 5 }, 1000), { paged: true, offset: 0, limit: 5 });
    assert.deepEqual(searchWindow({ offset: 995, limit: 20 }, 1000), { paged: false, offset: 995, limit: 5 });
  });
});

describe('facet search merge', () => {
  it('sums facetHits per value, sorts and caps', () => {
    const r = mergeFacetSearch(
      'genre',
      'a',
      [{ facetHits: [{ value: 'Action', count: 2 }, { value: 'Adventure', count: 1 }] }, { facetHits: [{ value: 'action', count: 3 }, { value: 'Animation', count: 9 }] }],
      { maxValuesPerFacet: 2, sortFacetValuesBy: { '*': 'alpha' } },
      3,
    );
    assert.deepEqual(r, { facetHits: [{ value: 'Action', count: 5 }, { value: 'Adventure', count: 1 }], facetQuery: 'a', processingTimeMs: 3 });
    const byCount = mergeFacetSearch('genre', undefined, [{ facetHits: [{ value: 'x', count: 1 }] }, { facetHits: [{ value: 'y', count: 4 }] }], { maxValuesPerFacet: 10, sortFacetValuesBy: { genre: 'count' } }, 0);
    assert.deepEqual(byCount, { facetHits: [{ value: 'y', count: 4 }, { value: 'x', count: 1 }], facetQuery: null, processingTimeMs: 0 });
  });
});
