/**
 * Parity (spec S8): `/indexes/{uid}/similar` (POST and GET) through Miroir (3 nodes, RF=2,
 * 8 shards) answers as one engine holding the same documents: hits by similarity across shards,
 * the reference excluded, scores and details, pagination, totals, filters and errors.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertSame, assertSameError, startParity, writeBoth, type Parity } from './parity-kit.js';

let p: Parity;

/** Distinct directions in 4 dimensions, so that no two similarities tie. */
function vectorOf(i: number): number[] {
  return [Math.cos(i * 0.37), Math.sin(i * 0.37), Math.cos(i * 0.11) * 0.5, ((i * 7) % 11) / 11];
}

const COLORS = ['red', 'green', 'blue'];

before(async () => {
  p = await startParity();
  const docs: Record<string, unknown>[] = Array.from({ length: 40 }, (_, i) => ({
    id: i,
    title: `item ${i}`,
    color: COLORS[i % 3],
    _vectors: { manual: vectorOf(i) },
  }));
  // Documents without an embedding are never similar to anything.
  docs.push({ id: 100, title: 'no vector', color: 'red' }, { id: 101, title: 'no vector either', color: 'blue' });
  await writeBoth(p, 'POST', '/indexes', { json: { uid: 'vec', primaryKey: 'id' } });
  await writeBoth(p, 'PATCH', '/indexes/vec/settings', {
    json: { filterableAttributes: ['color'], embedders: { manual: { source: 'userProvided', dimensions: 4 } } },
  });
  await writeBoth(p, 'POST', '/indexes/vec/documents', { json: docs });
  // A second index whose custom ranking rule comes before relevancy.
  await writeBoth(p, 'POST', '/indexes', { json: { uid: 'ranked', primaryKey: 'id' } });
  await writeBoth(p, 'PATCH', '/indexes/ranked/settings', {
    json: { rankingRules: ['title:asc', 'words', 'typo'], embedders: { manual: { source: 'userProvided', dimensions: 4 } } },
  });
  await writeBoth(p, 'POST', '/indexes/ranked/documents', { json: docs.slice(0, 30) });
});
after(async () => p?.stop());

const post = (json: unknown, index = 'vec') => p.both('POST', `/indexes/${index}/similar`, { json });

describe('similar', () => {
  test('POST: hits across shards by similarity, with scores and details', async () => {
    for (const id of [0, 7, '13', 39]) {
      const pair = await post({ id, embedder: 'manual', showRankingScore: true, showRankingScoreDetails: true, limit: 10 });
      assertSame(pair);
      assert.equal(pair.mir.status, 200);
      assert.equal(pair.mir.body.hits.length, 10);
    }
  });

  test('showPerformanceDetails: the slowest node trace, last, as one node puts it', async () => {
    const pair = await post({ id: 5, embedder: 'manual', limit: 4, showPerformanceDetails: true });
    assertSame(pair, { mask: ['search'] });
    assert.equal(typeof pair.mir.body.performanceDetails?.search, 'string', JSON.stringify(pair.mir.body));
    assert.equal(Object.keys(pair.mir.body).at(-1), 'performanceDetails');
  });

  test('pagination and totals', async () => {
    for (const page of [{}, { offset: 5, limit: 7 }, { offset: 35 }, { limit: 0 }, { offset: 100, limit: 3 }]) {
      assertSame(await post({ id: 3, embedder: 'manual', ...page }));
    }
  });

  test('filter, attributesToRetrieve, retrieveVectors, threshold', async () => {
    assertSame(await post({ id: 4, embedder: 'manual', filter: 'color = red', showRankingScore: true }));
    assertSame(await post({ id: 4, embedder: 'manual', filter: ['color = blue'], attributesToRetrieve: ['title'] }));
    assertSame(await post({ id: 4, embedder: 'manual', retrieveVectors: true, limit: 5 }));
    assertSame(await post({ id: 4, embedder: 'manual', rankingScoreThreshold: 0.9, showRankingScore: true }));
    assertSame(await post({ id: 4, embedder: 'manual', rankingScoreThreshold: 0.99, limit: 3 }));
  });

  test('a reference without an embedding, an index with a custom ranking rule', async () => {
    assertSame(await post({ id: 100, embedder: 'manual' }));
    assertSame(await post({ id: 2, embedder: 'manual', showRankingScore: true, limit: 6 }, 'ranked'));
  });

  test('GET', async () => {
    assertSame(await p.both('GET', '/indexes/vec/similar?id=5&embedder=manual&limit=4&showRankingScore=true'));
    assertSame(await p.both('GET', `/indexes/vec/similar?id=5&embedder=manual&filter=${encodeURIComponent('color = green')}&attributesToRetrieve=id,color`));
    assertSameError(await p.both('GET', '/indexes/vec/similar?id=5&embedder=manual&limit=x'), 400, 'invalid_similar_limit');
    assertSameError(await p.both('GET', '/indexes/vec/similar?embedder=manual'), 400, 'bad_request');
  });

  test('errors as one node gives them', async () => {
    assertSameError(await post({ id: 'nope', embedder: 'manual' }), 400, 'not_found_similar_id');
    assertSameError(await post({ id: 1, embedder: 'other' }), 400, 'invalid_similar_embedder');
    assertSameError(await post({ id: 1, embedder: 'manual', filter: 'title = x' }), 400, 'invalid_similar_filter');
    assertSameError(await post({ id: 'a b', embedder: 'manual' }), 400, 'invalid_similar_id');
    assertSameError(await post({ embedder: 'manual' }), 400, 'bad_request');
    assertSameError(await post({ id: 1, embedder: 'manual', limit: -1 }), 400, 'invalid_similar_limit');
    assertSameError(await post({ id: 1, embedder: 'manual', rankingScoreThreshold: 2 }), 400, 'invalid_similar_ranking_score_threshold');
    assertSameError(await post({ id: 1, embedder: 'manual', color: 1 }), 400, 'bad_request');
    assertSameError(await p.both('POST', '/indexes/none/similar', { json: { id: 1, embedder: 'manual' } }), 404, 'index_not_found');
    assertSameError(await post({ id: 1, embedder: 'manual' }, 'vec').then(() => p.both('POST', '/indexes/vec/similar', { json: { id: 1, embedder: 'manual' }, auth: null })), 401, 'missing_authorization_header');
  });
});
