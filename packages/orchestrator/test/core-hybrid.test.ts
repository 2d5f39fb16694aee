/**
 * Semantic and hybrid search in the pure core (spec S13.12): which queries are semantic, the
 * over-fetched node window, the keyword-against-semantic comparison of milli's hybrid merge, and
 * the "keyword results good enough" decision taken over every node's keyword answer.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Hit, SearchQuery } from '@miroir/protocol';
import {
  keywordGoodEnough,
  keywordSideQuery,
  mergeHybridSearch,
  nodeSearchBody,
  searchKind,
  type NodeSearchResponse,
  type SearchContext,
} from '../src/core/search-merge.js';
import { hybridWeights } from '@miroir/protocol';
import { compareAcrossSides, HitComparator, scoreValues } from '../src/core/hit-order.js';

const ctx: SearchContext = {
  primaryKey: 'id',
  maxTotalHits: 1000,
  distinctAttribute: null,
  maxValuesPerFacet: 100,
  sortFacetValuesBy: { '*': 'alpha' },
  customSortRules: false,
};
const hybrid = (semanticRatio: number) => ({ embedder: 'e', semanticRatio });

/** A keyword hit (words and typo rules; the score is theirs folded). */
function keywordHit(id: number, score: number, extra: Record<string, Record<string, unknown>> = {}): Hit {
  return {
    id,
    _rankingScore: score,
    _rankingScoreDetails: { words: { order: 0, matchingWords: 1, maxMatchingWords: 1, score: 1 }, typo: { order: 1, typoCount: 0, maxTypoCount: 1, score }, ...extra },
  };
}

function semanticHit(id: number, similarity: number, extra: Record<string, Record<string, unknown>> = {}): Hit {
  return { id, _rankingScore: similarity, _rankingScoreDetails: { vectorSort: { order: 0, similarity }, ...extra } };
}

describe('searchKind (meilisearch search_kind)', () => {
  const cases: [SearchQuery, string][] = [
    [{ q: 'a' }, 'keyword'],
    [{ q: 'a', hybrid: hybrid(0) }, 'keyword'],
    [{ q: 'a', vector: [1], hybrid: hybrid(0) }, 'keyword'],
    [{ q: '  ', hybrid: hybrid(0.5) }, 'keyword'],
    [{ hybrid: hybrid(0.5) }, 'keyword'],
    [{ q: 'a', hybrid: hybrid(1) }, 'semantic'],
    [{ vector: [1], hybrid: hybrid(0.5) }, 'semantic'],
    [{ q: ' ', vector: [1], hybrid: hybrid(0.5) }, 'semantic'],
    [{ q: 'a', hybrid: hybrid(0.5) }, 'hybrid'],
    [{ q: 'a', vector: [1], hybrid: hybrid(0.3) }, 'hybrid'],
    // Refused by the node: counted as keyword (never over-fetched).
    [{ q: 'a', vector: [1] }, 'keyword'],
  ];
  for (const [q, kind] of cases) it(`${JSON.stringify(q)} → ${kind}`, () => assert.equal(searchKind(q), kind));
});

describe('over-fetch', () => {
  const over = { ...ctx, overFetchFactor: 3 };
  it('semantic and hybrid windows are (offset + limit) × factor, from 0', () => {
    assert.deepEqual(
      [nodeSearchBody({ q: 'a', vector: [1], hybrid: hybrid(0.5), offset: 2, limit: 5 }, over, null).limit, nodeSearchBody({ vector: [1], hybrid: hybrid(0.5), limit: 5 }, over, null).limit],
      [21, 15],
    );
    const paged = nodeSearchBody({ q: 'a', hybrid: hybrid(0.5), page: 2, hitsPerPage: 4 }, over, null);
    assert.deepEqual([paged.page, paged.hitsPerPage], [1, 24]);
  });
  it('keyword queries, and the keyword half of a hybrid query, are never over-fetched', () => {
    for (const q of [{ q: 'a' }, { q: 'a', vector: [1], hybrid: hybrid(0) }, { hybrid: hybrid(0.5) }] as SearchQuery[]) {
      assert.equal(nodeSearchBody({ ...q, limit: 5 }, over, null).limit, 5, JSON.stringify(q));
    }
    const half = keywordSideQuery({ q: 'a', vector: [1], hybrid: hybrid(0.5), limit: 5, filter: 'x = 1' });
    assert.deepEqual(half, { q: 'a', limit: 5, filter: 'x = 1' });
    assert.equal(nodeSearchBody(half, over, null).limit, 5);
  });
});

describe('keyword against semantic hits (milli hybrid compare_scores)', () => {
  it('weights are f32: at ratio 0.7, similarity f32(0.3) loses to keyword score 0.7', () => {
    assert.deepEqual(hybridWeights(0.7), [0.699999988079071, 0.30000001192092896]);
    const cmp = new HitComparator({ primaryKey: 'id', semanticRatio: 0.7 });
    // In f64 weights the semantic hit would win (0.21000000834 against 0.21000000000).
    assert.ok(cmp.compare(keywordHit(2, 0.7), semanticHit(1, Math.fround(0.3))) < 0);
    assert.ok(cmp.compare(semanticHit(1, Math.fround(0.3)), keywordHit(2, 0.7)) > 0);
  });
  it('a tie goes to the semantic hit, whatever the primary keys', () => {
    const cmp = new HitComparator({ primaryKey: 'id', semanticRatio: 0.5 });
    assert.ok(cmp.compare(semanticHit(9, 0.5), keywordHit(1, 0.5)) < 0);
    assert.ok(cmp.compare(keywordHit(1, 0.5), semanticHit(9, 0.5)) > 0);
  });
  it('a sort rule ahead of the relevancy rules decides first', () => {
    const price = (order: number, value: number) => ({ 'price:asc': { order, value } });
    const kw: Hit = {
      id: 1,
      _rankingScore: 0.2,
      _rankingScoreDetails: { ...price(0, 1), words: { order: 1, matchingWords: 1, maxMatchingWords: 5, score: 0.2 } },
    };
    const sem: Hit = { id: 2, _rankingScore: 0.99, _rankingScoreDetails: { ...price(0, 2), vectorSort: { order: 1, similarity: 0.99 } } };
    const cmp = new HitComparator({ primaryKey: 'id', semanticRatio: 0.9 });
    assert.ok(cmp.compare(kw, sem) < 0);
    assert.deepEqual(scoreValues(kw._rankingScoreDetails as never, kw._rankingScore), [
      { kind: 'sort', dir: 1, value: 1 },
      { kind: 'score', score: 0.2 },
    ]);
  });
  it('a score against a sort value wins unless it is 0; the shorter list ranks last', () => {
    const sort = { kind: 'sort' as const, dir: 1 as const, value: 1 };
    assert.ok(compareAcrossSides([{ kind: 'score', score: 0.1 }], [sort], true, 0.5) < 0);
    assert.ok(compareAcrossSides([{ kind: 'score', score: 0 }], [sort], true, 0.5) > 0);
    assert.ok(compareAcrossSides([{ kind: 'score', score: 0.5 }], [{ kind: 'score', score: 0.5 }, sort], true, 0.5) > 0);
  });
  it('relevancy rules split by a sort rule have no known run scores: global scores decide', () => {
    const split = { words: { order: 0, score: 1 }, 'price:asc': { order: 1, value: 3 }, exactness: { order: 2, score: 0.5 } };
    assert.equal(scoreValues(split, 0.8), null);
  });
});

describe('good enough (milli results_good_enough), over the whole index', () => {
  it('needs the whole window, every score × f32(1 − ratio) ≥ 0.45', () => {
    const hits = [keywordHit(1, 0.95), keywordHit(2, 0.9)];
    assert.equal(keywordGoodEnough(hits, 2, 0.5), true);
    assert.equal(keywordGoodEnough(hits, 3, 0.5), false);
    assert.equal(keywordGoodEnough(hits, 2, 0.51), false);
    // 0.5 × f32(1 − f32(0.1)) = 0.4499999881 < 0.45.
    assert.equal(keywordGoodEnough([keywordHit(1, 0.5)], 1, 0.1), false);
  });

  const query: SearchQuery = { q: 'a', vector: [1], hybrid: hybrid(0.5), limit: 2 };
  // Node A holds one strong keyword match, node B the other: together they fill the window.
  const keyword: NodeSearchResponse[] = [
    { hits: [keywordHit(1, 0.95)], estimatedTotalHits: 1 },
    { hits: [keywordHit(2, 0.92), keywordHit(4, 0.3)], estimatedTotalHits: 2 },
  ];
  // Each node alone had too few good keyword hits, so each ran its semantic side.
  const hybridAnswers: NodeSearchResponse[] = [
    { hits: [semanticHit(7, 0.99), keywordHit(1, 0.95)], estimatedTotalHits: 50, semanticHitCount: 1 },
    { hits: [keywordHit(2, 0.92), semanticHit(8, 0.9)], estimatedTotalHits: 50, semanticHitCount: 1 },
  ];

  it('the index fills the window with good keyword hits: the keyword answer, semanticHitCount 0', () => {
    const res = mergeHybridSearch(query, ctx, hybridAnswers, keyword, { processingTimeMs: 0 });
    assert.deepEqual(
      [res.hits.map((h) => h.id), res.semanticHitCount, res.estimatedTotalHits, Object.keys(res).at(-1)],
      [[1, 2], 0, 3, 'semanticHitCount'],
    );
  });

  it('otherwise the hybrid answers, interleaved', () => {
    const res = mergeHybridSearch({ ...query, limit: 3 }, ctx, hybridAnswers, keyword, { processingTimeMs: 0 });
    assert.deepEqual([res.hits.map((h) => h.id), res.semanticHitCount, res.estimatedTotalHits], [[7, 1, 2], 1, 100]);
  });
});
