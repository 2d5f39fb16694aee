// `/indexes/{uid}/similar` and vector search over HTTP (reference §5.1, §5.5): user-provided
// embeddings, POST and GET, parameter errors as meilisearch `tests/similar/errors.rs`.
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { http, meiliError, startTestEngine, writeAndWait } from './helpers.js';
import type { TestEngine } from './helpers.js';

const MASTER = 'similar-routes-master-key-0123456789';
const master = { authorization: `Bearer ${MASTER}` };
let e: TestEngine;

const DOCS = [
  { id: 1, title: 'red apple', color: 'red', _vectors: { manual: [1, 0, 0] } },
  { id: 2, title: 'green apple', color: 'green', _vectors: { manual: [0, 1, 0] } },
  { id: 3, title: 'red car', color: 'red', _vectors: { manual: { embeddings: [[1, 1, 0]], regenerate: false } } },
  { id: 4, title: 'blue car', color: 'blue' },
];
/** (1 + cos 45°) / 2 in f32. */
const SIM_DIAG = 0.8535534143447876;

before(async () => {
  e = await startTestEngine({ masterKey: MASTER });
  const s = await writeAndWait(e.url, 'PATCH', '/indexes/vec/settings', {
    filterableAttributes: ['color'],
    embedders: { manual: { source: 'userProvided', dimensions: 3 } },
  }, master);
  assert.equal(s.status, 'succeeded', JSON.stringify(s.error));
  const d = await writeAndWait(e.url, 'POST', '/indexes/vec/documents', DOCS, master);
  assert.equal(d.status, 'succeeded', JSON.stringify(d.error));
});
after(async () => {
  await e.close();
});

const ids = (hits: { id: number }[]) => hits.map((h) => h.id);

test('POST similar: closest documents first, the reference excluded, response keys in order', async () => {
  const r = await http(e.url, 'POST', '/indexes/vec/similar', { id: 1, embedder: 'manual', showRankingScore: true }, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(Object.keys(r.body), ['hits', 'id', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits']);
  assert.deepEqual(
    r.body.hits.map((h: { id: number; _rankingScore: number }) => [h.id, h._rankingScore]),
    [
      [3, SIM_DIAG],
      [2, 0.5],
    ],
  );
  assert.equal(r.body.id, '1');
});

test('GET similar with filter and retrieveVectors', async () => {
  const r = await http(e.url, 'GET', `/indexes/vec/similar?id=1&embedder=manual&filter=${encodeURIComponent('color = red')}&retrieveVectors=true`, undefined, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.hits, [{ id: 3, title: 'red car', color: 'red', _vectors: { manual: { embeddings: [[1, 1, 0]], regenerate: false } } }]);
});

test('similar errors', async () => {
  const cases: Array<[unknown, number, Record<string, string>]> = [
    [
      { id: 'definitely-doesnt-exist', embedder: 'manual' },
      400,
      meiliError('not_found_similar_id', 'Document `definitely-doesnt-exist` not found.'),
    ],
    [
      { id: ['doggo'], embedder: 'manual' },
      400,
      meiliError(
        'invalid_similar_id',
        'Invalid value at `.id`: the value of `id` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes.',
      ),
    ],
    [
      { id: 1, offset: 'doggo', embedder: 'manual' },
      400,
      meiliError('invalid_similar_offset', 'Invalid value type at `.offset`: expected a positive integer, but found a string: `"doggo"`'),
    ],
    [
      { id: 1, embedder: 'manual', rankingScoreThreshold: 42 },
      400,
      meiliError(
        'invalid_similar_ranking_score_threshold',
        'Invalid value at `.rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`.',
      ),
    ],
    [{ id: 1, embedder: 'other' }, 400, meiliError('invalid_similar_embedder', 'Cannot find embedder with name `other`.')],
  ];
  for (const [body, status, err] of cases) {
    const r = await http(e.url, 'POST', '/indexes/vec/similar', body, master);
    assert.deepEqual([r.status, r.body], [status, err], JSON.stringify(body));
  }
  const get = await http(e.url, 'GET', '/indexes/vec/similar?id=1&limit=doggo&embedder=manual', undefined, master);
  assert.deepEqual(
    [get.status, get.body],
    [400, meiliError('invalid_similar_limit', 'Invalid value in parameter `limit`: could not parse `doggo` as a positive integer')],
  );
  const missing = await http(e.url, 'POST', '/indexes/nope/similar', { id: 1, embedder: 'manual' }, master);
  assert.deepEqual([missing.status, missing.body.code], [404, 'index_not_found']);
});

test('vector search over HTTP: semanticHitCount, vectorSort details, queryVector', async () => {
  const r = await http(e.url, 'POST', '/indexes/vec/search', {
    vector: [1, 0, 0],
    hybrid: { embedder: 'manual', semanticRatio: 1 },
    showRankingScoreDetails: true,
    retrieveVectors: true,
    limit: 2,
  }, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(ids(r.body.hits), [1, 3]);
  assert.deepEqual(r.body.hits[0]._rankingScoreDetails, { vectorSort: { order: 0, similarity: 1 } });
  assert.deepEqual(r.body.hits[0]._vectors, { manual: { embeddings: [[1, 0, 0]], regenerate: false } });
  assert.deepEqual(r.body.queryVector, [1, 0, 0]);
  assert.equal(r.body.semanticHitCount, 2);
  const bad = await http(e.url, 'POST', '/indexes/vec/search', { vector: [1, 0], hybrid: { embedder: 'manual' } }, master);
  assert.deepEqual([bad.status, bad.body], [400, meiliError('invalid_vector_dimensions', 'Invalid vector dimensions: expected: `3`, found: `2`.')]);
});

test('federated multi-search compares a semantic hit by its vectorSort similarity', async () => {
  const r = await http(e.url, 'POST', '/multi-search', {
    federation: {},
    queries: [
      { indexUid: 'vec', vector: [1, 0, 0], hybrid: { embedder: 'manual', semanticRatio: 1 }, filter: 'color = red' },
      { indexUid: 'vec', q: 'car', filter: 'color = blue' },
    ],
  }, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // Similarities 1 and 0.85 against the keyword score 0.92 of "blue car".
  assert.deepEqual(
    r.body.hits.map((h: { id: number; _federation: { queriesPosition: number } }) => [h.id, h._federation.queriesPosition]),
    [
      [1, 0],
      [4, 1],
      [3, 0],
    ],
  );
});

test('similar with showPerformanceDetails: performanceDetails last (SimilarResult); a boolean, POST and GET', async () => {
  const post = await http(e.url, 'POST', '/indexes/vec/similar', { id: 1, embedder: 'manual', showPerformanceDetails: true }, master);
  assert.equal(post.status, 200, JSON.stringify(post.body));
  assert.deepEqual(Object.keys(post.body), ['hits', 'id', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits', 'performanceDetails']);
  assert.match(post.body.performanceDetails.search, /^\d+\.\d{2}(s|ms|µs|ns)$/);
  const get = await http(e.url, 'GET', '/indexes/vec/similar?id=1&embedder=manual&showPerformanceDetails=true', undefined, master);
  assert.match(get.body.performanceDetails.search, /^\d+\.\d{2}(s|ms|µs|ns)$/);
  const bad = await http(e.url, 'POST', '/indexes/vec/similar', { id: 1, embedder: 'manual', showPerformanceDetails: 'yes' }, master);
  assert.deepEqual(bad.body, meiliError('invalid_similar_show_performance_details', 'Invalid value type at `.showPerformanceDetails`: expected a boolean, but found a string: `"yes"`'));
});
