/**
 * The pure merges behind `/fields` and `/similar` (core/fields.ts, core/similar.ts), table-driven.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { FieldView, Hit } from '@miroir/protocol';
import { mergeFields } from '../src/core/fields.js';
import { mergeSimilar, nodeSimilarBody, nodeVectorSearchBody, referenceVector, similarNodeLimit } from '../src/core/similar.js';

function field(name: string): FieldView {
  return {
    name,
    displayed: { enabled: true },
    searchable: { enabled: true },
    sortable: { enabled: false },
    distinct: { enabled: false },
    rankingRule: { enabled: false },
    filterable: { enabled: false, sortBy: 'alpha', facetSearch: false, equality: false, comparison: false },
    localized: { locales: [] },
  };
}

describe('mergeFields', () => {
  const a = ['id', 'title', '_miroir_shard', 'a.b'].map(field);
  const b = ['id', 'zeta', 'Title', '_miroir_updated_at'].map(field);
  const cases: [string, number, number, string[], number][] = [
    ['union, reserved hidden, byte order', 0, 20, ['Title', 'a.b', 'id', 'title', 'zeta'], 5],
    ['a page', 1, 2, ['a.b', 'id'], 5],
    ['past the end', 9, 3, [], 5],
    ['limit 0', 0, 0, [], 5],
  ];
  for (const [what, offset, limit, names, total] of cases) {
    it(what, () => {
      const page = mergeFields([a, b], offset, limit);
      assert.deepEqual(page.results.map((f) => f.name), names);
      assert.deepEqual([page.offset, page.limit, page.total], [offset, limit, total]);
    });
  }
});

const hit = (id: number, similarity?: number, extra: Record<string, unknown> = {}): Hit => ({
  id,
  _miroir_shard: 3,
  ...extra,
  _rankingScore: 0.1,
  _rankingScoreDetails: { vectorSort: similarity === undefined ? { order: 1 } : { order: 1, similarity } },
});

describe('mergeSimilar', () => {
  const owner = { hits: [hit(2, 0.9), hit(5, 0.4)], estimatedTotalHits: 6 };
  const other = { hits: [hit(7, 0.95), hit(8, 0.4), hit(9)], estimatedTotalHits: 4 };

  it('by similarity, unembedded dropped, reserved fields and node scores replaced, totals summed', () => {
    const r = mergeSimilar({ id: '1', embedder: 'e', showRankingScore: true, showRankingScoreDetails: true }, [owner, other], 1000, 3);
    assert.deepEqual(Object.keys(r), ['hits', 'id', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits']);
    assert.deepEqual(
      r.hits.map((h) => [h.id, h._rankingScore]),
      [[7, 0.95], [2, 0.9], [5, 0.4], [8, 0.4]],
    );
    assert.deepEqual(r.hits[0], { id: 7, _rankingScore: 0.95, _rankingScoreDetails: { vectorSort: { order: 0, similarity: 0.95 } } });
    assert.equal(r.estimatedTotalHits, 10);
  });

  it('page, no scores asked', () => {
    const r = mergeSimilar({ id: '1', embedder: 'e', offset: 1, limit: 2 }, [owner, other], 1000, 0);
    assert.deepEqual(r.hits, [{ id: 2 }, { id: 5 }]);
    assert.deepEqual([r.offset, r.limit], [1, 2]);
  });

  it('threshold: a short page counts the hits that passed', () => {
    assert.equal(mergeSimilar({ id: '1', embedder: 'e', rankingScoreThreshold: 0.85 }, [owner, other], 1000, 0).estimatedTotalHits, 2);
    assert.equal(mergeSimilar({ id: '1', embedder: 'e', rankingScoreThreshold: 0.3, limit: 2 }, [owner, other], 1000, 0).estimatedTotalHits, 10);
  });

  it('maxTotalHits caps the window and the total', () => {
    const r = mergeSimilar({ id: '1', embedder: 'e', offset: 1, limit: 5 }, [owner, other], 3, 0);
    assert.deepEqual([r.offset, r.limit, r.estimatedTotalHits, r.hits.length], [1, 2, 3, 2]);
  });
});

describe('similar node requests', () => {
  it('window per node: the page, or maxTotalHits with custom ranking rules', () => {
    assert.equal(similarNodeLimit({ offset: 5, limit: 10 }, 1000, false), 15);
    assert.equal(similarNodeLimit({}, 1000, false), 20);
    assert.equal(similarNodeLimit({ offset: 5, limit: 10 }, 300, true), 300);
  });

  it('bodies carry the shard filter next to the client filter', () => {
    const q = { id: '4', embedder: 'e', filter: 'color = red', attributesToRetrieve: ['id'] };
    assert.deepEqual(nodeSimilarBody(q, q.filter, [1, 2], 20), {
      id: '4',
      embedder: 'e',
      offset: 0,
      limit: 20,
      showRankingScoreDetails: true,
      filter: ['color = red', '_miroir_shard IN [1, 2]'],
      attributesToRetrieve: ['id'],
    });
    assert.deepEqual(nodeVectorSearchBody(q, [1, 0], undefined, null, 7), {
      vector: [1, 0],
      hybrid: { embedder: 'e', semanticRatio: 1 },
      offset: 0,
      limit: 7,
      showRankingScoreDetails: true,
      attributesToRetrieve: ['id'],
    });
    assert.deepEqual(nodeVectorSearchBody(q, null, 'x = 1', [3], 7), { offset: 0, limit: 0, filter: ['x = 1', '_miroir_shard IN [3]'] });
  });

  it('the reference embedding, in every shape _vectors takes', () => {
    const cases: [unknown, number[] | null][] = [
      [{ e: [1, 2] }, [1, 2]],
      [{ e: [[3, 4], [5, 6]] }, [3, 4]],
      [{ e: { embeddings: [[7, 8]], regenerate: false } }, [7, 8]],
      [{ e: { embeddings: [9, 10], regenerate: false } }, [9, 10]],
      [{ e: null }, null],
      [{ e: [] }, null],
      [{ other: [1] }, null],
      [undefined, null],
    ];
    for (const [vectors, want] of cases) assert.deepEqual(referenceVector(vectors === undefined ? undefined : { _vectors: vectors }, 'e'), want, JSON.stringify(vectors));
  });
});
