import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { federatedMerge } from '../src/index.js';
import { makeIndex } from './helpers.js';

test('federated merge: weighted scores across queries, _federation, paging and totals', () => {
  const movies = makeIndex([
    { id: 'm1', title: 'batman begins' },
    { id: 'm2', title: 'the batman' },
  ]).index;
  const comics = makeIndex([
    { id: 'c1', title: 'batman' },
    { id: 'c2', title: 'superman' },
  ]).index;
  const q = { q: 'batman', showRankingScore: true, showRankingScoreDetails: true, limit: 20 };
  const a = movies.search(q, 'movies');
  const b = comics.search(q, 'comics');
  const res = federatedMerge(
    [
      { indexUid: 'movies', queryPosition: 0, weight: 1, response: a },
      { indexUid: 'comics', queryPosition: 1, weight: 0.5, response: b },
    ],
    { offset: 0, limit: 10 },
    { showRankingScore: true },
  );
  assert.deepEqual(Object.keys(res), ['hits', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits']);
  // c1 is an exact match (score 1.0) but weighted by 0.5; movies hits keep their own scores.
  const s = (h: Record<string, unknown>) => h._rankingScore as number;
  assert.deepEqual(
    res.hits.map((h) => [h.id, (h._federation as Record<string, unknown>).indexUid, (h._federation as Record<string, unknown>).weightedRankingScore]),
    [
      ['m1', 'movies', s(a.hits[0])],
      ['m2', 'movies', s(a.hits[1])],
      ['c1', 'comics', s(b.hits[0]) * 0.5],
    ],
  );
  assert.equal(res.hits[0]._rankingScoreDetails, undefined);
  assert.equal(res.estimatedTotalHits, 3);
  const page = federatedMerge(
    [
      { indexUid: 'movies', queryPosition: 0, weight: 1, response: a },
      { indexUid: 'comics', queryPosition: 1, weight: 0.5, response: b },
    ],
    { page: 2, hitsPerPage: 2 },
  );
  assert.deepEqual([page.hits.map((h) => h.id), page.totalHits, page.totalPages], [['c1'], 3, 2]);
});

test('federated merge: sort values compare across queries before scores', () => {
  const one = makeIndex([{ id: 'a', t: 'x', p: 5 }], { sortableAttributes: ['p'] }).index;
  const two = makeIndex([{ id: 'b', t: 'x', p: 1 }], { sortableAttributes: ['p'] }).index;
  const q = { q: 'x', sort: ['p:asc'], showRankingScore: true, showRankingScoreDetails: true };
  const res = federatedMerge(
    [
      { indexUid: 'one', queryPosition: 0, weight: 1, response: one.search(q, 'one') },
      { indexUid: 'two', queryPosition: 1, weight: 1, response: two.search(q, 'two') },
    ],
    {},
  );
  assert.deepEqual(
    res.hits.map((h) => h.id),
    ['b', 'a'],
  );
});
