/**
 * Vector, hybrid and similar search over user-provided embeddings. Expected similarities follow
 * milli's cosine: similarity = 1 − (1 − cos)/2, computed in f32.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { hybridWeights, keywordScoreGoodEnough, MeiliError, type Settings } from '@miroir/protocol';
import { makeIndex } from './helpers.js';
import { parseEmbeddings, shiftScore, similarityOfCosine, validateVectors } from '../src/vectors.js';
import { compareScores, mergeHybrid, searchKind } from '../src/hybrid.js';

function fails(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MeiliError, String(e));
    assert.deepEqual({ code: e.code, message: e.message }, { code, message });
    return true;
  });
}

const f32 = Math.fround;
/** cos([1,0],[1,1]) = √½. */
const SIM_DIAG = f32(1 - f32((1 - Math.SQRT1_2) / 2));

const DOCS = [
  { id: 1, title: 'red apple', color: 'red', price: 3, _vectors: { emb: [1, 0] } },
  { id: 2, title: 'green apple', color: 'green', price: 1, _vectors: { emb: [0, 1] } },
  // Several embeddings: the closest one counts.
  { id: 3, title: 'red car', color: 'red', price: 2, _vectors: { emb: { embeddings: [[1, 1], [-1, 0]], regenerate: false } } },
  { id: 4, title: 'blue car', color: 'blue', price: 2 },
];

const SETTINGS: Partial<Settings> = {
  filterableAttributes: ['color'],
  sortableAttributes: ['price'],
  embedders: { emb: { source: 'userProvided', dimensions: 2 } },
};

function semantic(extra: Record<string, unknown> = {}) {
  return { vector: [1, 0], hybrid: { embedder: 'emb', semanticRatio: 1 }, ...extra };
}

test('similarity is milli cosine: (1 + cos) / 2 in f32', () => {
  assert.equal(similarityOfCosine(1), 1);
  assert.equal(similarityOfCosine(0), 0.5);
  assert.equal(similarityOfCosine(-1), 0);
  assert.equal(similarityOfCosine(Math.SQRT1_2), 0.8535534143447876);
});

test('semantic search ranks by the closest embedding; documents without one come last', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  const res = index.search(semantic({ showRankingScore: true, showRankingScoreDetails: true }), 'm');
  assert.deepEqual(
    res.hits.map((h) => [h.id, h._rankingScore, h._rankingScoreDetails]),
    [
      [1, 1, { vectorSort: { order: 0, similarity: 1 } }],
      [3, SIM_DIAG, { vectorSort: { order: 0, similarity: SIM_DIAG } }],
      [2, 0.5, { vectorSort: { order: 0, similarity: 0.5 } }],
      [4, 0, { vectorSort: { order: 0 } }],
    ],
  );
  assert.deepEqual(Object.keys(res), ['hits', 'query', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits', 'semanticHitCount']);
  assert.equal(res.estimatedTotalHits, 4);
  assert.equal(res.semanticHitCount, 4);
});

test('semantic search with filter, threshold, pagination, facets and sort tie-break', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  assert.deepEqual(
    index.search(semantic({ filter: 'color = red' }), 'm').hits.map((h) => h.id),
    [1, 3],
  );
  const thr = index.search(semantic({ rankingScoreThreshold: 0.9 }), 'm');
  assert.deepEqual([thr.hits.map((h) => h.id), thr.estimatedTotalHits], [[1], 1]);
  const page = index.search(semantic({ offset: 1, limit: 2 }), 'm');
  assert.deepEqual([page.hits.map((h) => h.id), page.semanticHitCount], [[3, 2], 2]);
  const facets = index.search(semantic({ facets: ['color'], filter: 'color != green' }), 'm');
  assert.deepEqual(facets.facetDistribution, { color: { blue: 1, red: 2 } });
  // `vectorSort` takes the place of the first relevancy rule: `sort` only breaks ties.
  const sorted = index.search(semantic({ sort: ['price:asc'], showRankingScoreDetails: true }), 'm');
  assert.deepEqual(sorted.hits.map((h) => h.id), [1, 3, 2, 4]);
  assert.deepEqual(sorted.hits[0]._rankingScoreDetails, { vectorSort: { order: 0, similarity: 1 }, 'price:asc': { order: 1, value: 3 } });
});

test('with sort before the relevancy rules, sort decides first', () => {
  const { index } = makeIndex(DOCS, { ...SETTINGS, rankingRules: ['sort', 'words', 'typo', 'proximity', 'attributeRank', 'wordPosition', 'exactness'] });
  const res = index.search(semantic({ sort: ['price:asc'] }), 'm');
  // price 1 (id 2), then price 2 by similarity (3 before 4), then price 3.
  assert.deepEqual(res.hits.map((h) => h.id), [2, 3, 4, 1]);
});

test('retrieveVectors adds queryVector after query', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  const res = index.search(semantic({ retrieveVectors: true, limit: 1 }), 'm');
  assert.deepEqual(Object.keys(res).slice(0, 3), ['hits', 'query', 'queryVector']);
  assert.deepEqual((res as unknown as { queryVector: number[] }).queryVector, [1, 0]);
  assert.deepEqual(res.hits[0]._vectors, { emb: [1, 0] });
  const formatted = index.search(semantic({ retrieveVectors: true, limit: 1, attributesToHighlight: ['*'] }), 'm');
  assert.deepEqual(formatted.hits[0]._formatted, { id: '1', title: 'red apple', color: 'red', price: '3' });
  assert.equal('queryVector' in index.search(semantic({ limit: 1 }), 'm'), false);
});

test('hybrid interleaves keyword (× 1 − ratio) and semantic (× ratio) lists', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  const kw = index.search({ q: 'car', showRankingScore: true }, 'm');
  const carScore = kw.hits[0]._rankingScore as number;
  assert.ok(carScore * 0.5 > SIM_DIAG * 0.5 && carScore * 0.5 < 0.5, String(carScore));
  // ratio 0.5: doc 1 (semantic 0.5), then keyword 3 and 4 (score × 0.5 beats 0.85 × 0.5), then
  // semantic 2; documents already seen are skipped.
  const half = index.search({ q: 'car', vector: [1, 0], hybrid: { embedder: 'emb', semanticRatio: 0.5 }, showRankingScore: true }, 'm');
  assert.deepEqual(
    half.hits.map((h) => [h.id, h._rankingScore]),
    [
      [1, 1],
      [3, carScore],
      [4, carScore],
      [2, 0.5],
    ],
  );
  assert.equal(half.semanticHitCount, 2);
  assert.equal(half.estimatedTotalHits, 4);
  // ratio 0.9: the semantic list leads until its score × 0.9 falls under the keyword's × 0.1.
  const mostly = index.search({ q: 'car', vector: [1, 0], hybrid: { embedder: 'emb', semanticRatio: 0.9 } }, 'm');
  assert.deepEqual(mostly.hits.map((h) => h.id), [1, 3, 2, 4]);
  assert.equal(mostly.semanticHitCount, 3);
});

test('semanticRatio 0 is keyword only (no semanticHitCount), 1 is semantic only', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  const kw = index.search({ q: 'car', vector: [1, 0], hybrid: { embedder: 'emb', semanticRatio: 0 } }, 'm');
  assert.deepEqual([kw.hits.map((h) => h.id), 'semanticHitCount' in kw], [[3, 4], false]);
  const sem = index.search({ q: 'car', vector: [1, 0], hybrid: { embedder: 'emb', semanticRatio: 1 } }, 'm');
  assert.deepEqual([sem.hits.map((h) => h.id), sem.semanticHitCount], [[1, 3, 2, 4], 4]);
});

test('hybrid skips the semantic side when keyword results are good enough', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  // Two hits asked, two keyword hits with score ≈ 0.92: 0.92 × 0.5 ≥ 0.45.
  const res = index.search({ q: 'car', vector: [1, 0], hybrid: { embedder: 'emb', semanticRatio: 0.5 }, limit: 2 }, 'm');
  assert.deepEqual([res.hits.map((h) => h.id), res.semanticHitCount, res.estimatedTotalHits], [[3, 4], 0, 2]);
});

test('hybrid highlights the keyword matches in every hit', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  const res = index.search({ q: 'red', vector: [0, 1], hybrid: { embedder: 'emb', semanticRatio: 0.9 }, attributesToHighlight: ['title'], limit: 2 }, 'm');
  assert.deepEqual(
    res.hits.map((h) => (h._formatted as Record<string, unknown>).title),
    ['green apple', '<em>red</em> car'],
  );
});

test('vector errors: missing hybrid, unknown embedder, wrong dimensions, text with a user-provided embedder', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  fails(() => index.search({ vector: [1, 0] }, 'm'), 'missing_search_hybrid', 'Invalid request: missing `hybrid` parameter when `vector` is present.');
  fails(
    () => index.search({ vector: [1, 0], hybrid: { embedder: 'nope', semanticRatio: 0.5 } }, 'm'),
    'invalid_search_embedder',
    'Cannot find embedder with name `nope`.',
  );
  fails(
    () => index.search({ vector: [1, 0, 0], hybrid: { embedder: 'emb', semanticRatio: 0.5 } }, 'm'),
    'invalid_vector_dimensions',
    'Invalid vector dimensions: expected: `2`, found: `3`.',
  );
  fails(
    () => index.search({ q: 'car', hybrid: { embedder: 'emb', semanticRatio: 1 } }, 'm'),
    'vector_embedding_error',
    'Error while generating embeddings: user error: attempt to embed the following text in a configuration where embeddings must be user provided: "car"',
  );
  // A placeholder search does not look the embedder up (meilisearch `search_kind`).
  assert.equal(index.search({ hybrid: { embedder: 'nope', semanticRatio: 0.5 } }, 'm').hits.length, 4);
  // Hybrid with text and no vector: the user-provided embedder cannot embed, keyword results.
  const kw = index.search({ q: 'car', hybrid: { embedder: 'emb', semanticRatio: 0.5 } }, 'm');
  assert.deepEqual([kw.hits.map((h) => h.id), kw.semanticHitCount], [[3, 4], 0]);
});

test('search kinds follow meilisearch search_kind', () => {
  const h = (semanticRatio: number) => ({ embedder: 'e', semanticRatio });
  assert.deepEqual(searchKind({ q: '  ', hybrid: h(0.5) }), { kind: 'keyword' });
  assert.deepEqual(searchKind({ q: 'a', hybrid: h(1) }), { kind: 'semantic', embedder: 'e' });
  assert.deepEqual(searchKind({ vector: [1], hybrid: h(0) }), { kind: 'keyword' });
  assert.deepEqual(searchKind({ vector: [1], hybrid: h(0.3) }), { kind: 'semantic', embedder: 'e' });
  assert.deepEqual(searchKind({ q: 'a', vector: [1], hybrid: h(0.3) }), { kind: 'hybrid', embedder: 'e', ratio: 0.3 });
  // A blank query text is a placeholder (`q.trim().is_empty()`): with a vector, a semantic search.
  assert.deepEqual(searchKind({ q: '', vector: [1], hybrid: h(0.3) }), { kind: 'semantic', embedder: 'e' });
  assert.deepEqual(searchKind({ q: '  ', vector: [1], hybrid: h(0.3) }), { kind: 'semantic', embedder: 'e' });
  assert.equal(searchKind({ q: 'a', vector: [1] }), 'missingHybrid');
});

test('hybrid comparison: weighted scores, sort values, a missing value loses, score 0 loses to a sort', () => {
  const s = (score: number) => ({ kind: 'score' as const, score });
  assert.ok(compareScores([s(0.8)], 0.5, [s(0.9)], 0.5) < 0);
  assert.ok(compareScores([s(0.8)], 0.9, [s(0.9)], 0.1) > 0);
  assert.equal(compareScores([s(0.5)], 1, [s(0.5)], 1), 0);
  assert.ok(compareScores([], 1, [s(0.1)], 1) < 0);
  const sort = (value: number) => ({ kind: 'sort' as const, ascending: true, value });
  assert.ok(compareScores([s(1), sort(1)], 0.5, [s(1), sort(2)], 0.5) > 0);
  assert.ok(compareScores([s(0)], 1, [sort(2)], 1) < 0);
  assert.ok(compareScores([s(0.1)], 1, [sort(2)], 1) > 0);
});

test('similar: closest documents to a document, itself excluded', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  const res = index.similar({ id: '1', embedder: 'emb', showRankingScore: true }, 0, 'm');
  assert.deepEqual(Object.keys(res), ['hits', 'id', 'processingTimeMs', 'limit', 'offset', 'estimatedTotalHits']);
  assert.deepEqual(
    res.hits.map((h) => [h.id, h._rankingScore]),
    [
      [3, SIM_DIAG],
      [2, 0.5],
    ],
  );
  // Candidates: every other document, embedded or not (milli `Similar::execute`).
  assert.deepEqual([res.id, res.limit, res.offset, res.estimatedTotalHits], ['1', 20, 0, 3]);
  const filtered = index.similar({ id: '1', embedder: 'emb', filter: 'color = green', showRankingScoreDetails: true }, 0, 'm');
  assert.deepEqual(filtered.hits, [{ id: 2, title: 'green apple', color: 'green', price: 1, _rankingScoreDetails: { vectorSort: { order: 0, similarity: 0.5 } } }]);
  const thr = index.similar({ id: '1', embedder: 'emb', rankingScoreThreshold: 0.6 }, 0, 'm');
  assert.deepEqual([thr.hits.map((h) => h.id), thr.estimatedTotalHits], [[3], 1]);
  // The threshold is not reached within the page: the candidates stay whole.
  const page = index.similar({ id: '1', embedder: 'emb', rankingScoreThreshold: 0.6, limit: 1 }, 0, 'm');
  assert.deepEqual([page.hits.map((h) => h.id), page.estimatedTotalHits], [[3], 3]);
  fails(() => index.similar({ id: 'x', embedder: 'emb' }, undefined, 'm'), 'not_found_similar_id', 'Document `x` not found.');
  fails(() => index.similar({ id: '1', embedder: 'e2' }, 0, 'm'), 'invalid_similar_embedder', 'Cannot find embedder with name `e2`.');
});

test('updates and deletions replace stored embeddings', () => {
  const { index, docs } = makeIndex(DOCS, SETTINGS);
  index.remove(0, docs.get(0)!);
  const moved = { id: 2, title: 'green apple', color: 'green', price: 1, _vectors: { emb: [1, 0.001] } };
  index.remove(1, docs.get(1)!);
  docs.set(1, moved);
  index.add(1, moved);
  assert.deepEqual(index.search(semantic(), 'm').hits.map((h) => h.id), [2, 3, 4]);
});

test('_vectors shapes and document validation errors', () => {
  assert.deepEqual(parseEmbeddings([1, 2]), [[1, 2]]);
  assert.deepEqual(parseEmbeddings([[1, 2], [3, 4]]), [[1, 2], [3, 4]]);
  assert.deepEqual(parseEmbeddings({ embeddings: [1, 2], regenerate: false }), [[1, 2]]);
  assert.deepEqual(parseEmbeddings(null), []);
  assert.equal(parseEmbeddings('x'), undefined);
  assert.equal(parseEmbeddings({ embeddings: [1], other: 1 }), undefined);
  const emb = { emb: { source: 'userProvided', dimensions: 2 } };
  fails(
    () => validateVectors({ id: 1, _vectors: [1, 2] }, emb, '1'),
    'invalid_vectors_type',
    'The `_vectors` field in the document with id: `1` is not an object. Was expecting an object with a key for each embedder with manually provided vectors, but instead got `[1,2]`',
  );
  fails(
    () => validateVectors({ id: 1, _vectors: { emb: [1, 2, 3] } }, emb, '1'),
    'invalid_vector_dimensions',
    'Invalid vector dimensions in document with id `1` in `._vectors.emb`.\n  - note: embedding #0 has dimensions 3\n  - note: embedder `emb` requires 2',
  );
  fails(
    () => validateVectors({ id: 1, _vectors: { emb: 'x' } }, emb, '1'),
    'invalid_vectors_type',
    'Invalid value type at `._vectors.emb` in document `1`: expected an array of floats, an array of arrays of floats, or an object with `embeddings` and `regenerate`, but found `"x"`',
  );
  validateVectors({ id: 1, _vectors: { emb: [[1, 2], [3, 4]], other: [1, 2, 3] } }, emb, '1');
});

test('distribution shift maps similarities as milli does', () => {
  assert.equal(shiftScore(0.5, 0.5, 0.4), 0.5);
  assert.equal(shiftScore(0.9, 0.7, 0.1), 1);
  assert.equal(shiftScore(0.1, 0.7, 0.1), 1.1920929e-7);
  const { index } = makeIndex(DOCS, { ...SETTINGS, embedders: { emb: { source: 'userProvided', dimensions: 2, distribution: { mean: 0.7, sigma: 0.2 } } } });
  const res = index.search(semantic({ showRankingScore: true, limit: 3 }), 'm');
  assert.deepEqual(
    res.hits.map((h) => h._rankingScore),
    [1, Math.fround(2 * SIM_DIAG + 0.5 - 1.4), Math.fround(2 * 0.5 + 0.5 - 1.4)],
  );
});

test('facet search with a vector counts every filtered document', () => {
  const { index } = makeIndex(DOCS, { ...SETTINGS, filterableAttributes: ['color', 'title'] });
  const keyword = index.facetSearch({ facetName: 'color', q: 'car' }, 'm');
  assert.deepEqual(keyword.facetHits, [
    { value: 'blue', count: 1 },
    { value: 'red', count: 1 },
  ]);
  const semantic = index.facetSearch({ facetName: 'color', q: 'car', vector: [1, 0], hybrid: { embedder: 'emb', semanticRatio: 0.5 } }, 'm');
  assert.deepEqual(semantic.facetHits, [
    { value: 'blue', count: 1 },
    { value: 'green', count: 1 },
    { value: 'red', count: 2 },
  ]);
  fails(
    () => index.facetSearch({ facetName: 'color', vector: [1], hybrid: { embedder: 'emb', semanticRatio: 1 } }, 'm'),
    'invalid_vector_dimensions',
    'Invalid vector dimensions: expected: `2`, found: `1`.',
  );
});

test('removed embeddings are reclaimed without disturbing the others', () => {
  const docs = Array.from({ length: 1500 }, (_, i) => ({ id: i, _vectors: { emb: [Math.cos(i / 1000), Math.sin(i / 1000)] } }));
  const { index, docs: stored } = makeIndex(docs, SETTINGS);
  for (let i = 0; i < 1200; i++) index.remove(i, stored.get(i)!);
  const res = index.search({ vector: [Math.cos(1.3), Math.sin(1.3)], hybrid: { embedder: 'emb', semanticRatio: 1 }, limit: 3, showRankingScore: true }, 'm');
  assert.deepEqual(res.hits.map((h) => h.id), [1300, 1299, 1301]);
  assert.equal(res.hits[0]._rankingScore, 1);
  assert.equal(res.estimatedTotalHits, 300);
});

test('distinct applies to semantic and hybrid results', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  const sem = index.search(semantic({ distinct: 'color' }), 'm');
  assert.deepEqual([sem.hits.map((h) => h.id), sem.estimatedTotalHits], [[1, 2, 4], 3]);
  const hyb = index.search({ q: 'car', vector: [1, 0], hybrid: { embedder: 'emb', semanticRatio: 0.9 }, distinct: 'color' }, 'm');
  // Semantic 1 (red), 3 is a second red, then 2 (green), then keyword 4 (blue).
  assert.deepEqual([hyb.hits.map((h) => h.id), hyb.semanticHitCount, hyb.estimatedTotalHits], [[1, 2, 4], 2, 3]);
});

test('empty query with a vector is a semantic search (meilisearch search_kind: `q.trim().is_empty()` is a placeholder)', () => {
  const { index } = makeIndex(DOCS, SETTINGS);
  // Not a hybrid search with a placeholder keyword side (no "good enough" page of placeholder
  // hits): the semantic ranking alone, every hit counted as semantic.
  const half = index.search({ q: '', vector: [1, 0], hybrid: { embedder: 'emb', semanticRatio: 0.5 }, limit: 2 }, 'm');
  assert.deepEqual([half.hits.map((h) => h.id), half.semanticHitCount], [[1, 3], 2]);
  const more = index.search({ q: '  ', vector: [1, 0], hybrid: { embedder: 'emb', semanticRatio: 0.5 } }, 'm');
  assert.deepEqual([more.hits.map((h) => h.id), more.semanticHitCount], [[1, 3, 2, 4], 4]);
});

test('similar ignores custom ranking rules', () => {
  const { index } = makeIndex(DOCS, { ...SETTINGS, rankingRules: ['price:asc', 'words', 'typo', 'proximity', 'attributeRank', 'sort', 'wordPosition', 'exactness'] });
  assert.deepEqual(index.similar({ id: '1', embedder: 'emb' }, 0, 'm').hits.map((h) => h.id), [3, 2]);
  // A semantic search keeps them: price first (2 has price 1).
  assert.deepEqual(index.search(semantic(), 'm').hits.map((h) => h.id), [2, 3, 4, 1]);
});

test('hybrid weights are f32, as meilisearch SemanticRatio(f32) and its f32 complement', () => {
  assert.deepEqual(hybridWeights(0.7), [0.699999988079071, 0.30000001192092896]);
  assert.deepEqual(hybridWeights(0.5), [0.5, 0.5]);
  // At ratio 0.7 a semantic hit of similarity f32(0.3) against a keyword hit of score 0.7: in f64
  // the semantic side would win (0.2100000083 vs 0.2100000000), in f32 weights the keyword side
  // does (0.2100000048 vs 0.2100000083), as in milli.
  const sem = [{ iid: 1, values: [{ kind: 'score' as const, score: Math.fround(0.3) }], item: 'semantic' }];
  const kw = [{ iid: 2, values: [{ kind: 'score' as const, score: 0.7 }], item: 'keyword' }];
  const merged = mergeHybrid(sem, kw, 0.7, 0, 2, null);
  assert.deepEqual(merged.hits.map((h) => h.item), ['keyword', 'semantic']);
  // "Good enough" with the f32 complement: at ratio 0.1 a keyword score of 0.5 weighs
  // 0.5 × 0.8999999762 < 0.45 (not 0.5 × 0.9 = 0.45), so the semantic side still runs.
  assert.equal(keywordScoreGoodEnough(0.5, 0.1), false);
  assert.equal(keywordScoreGoodEnough(0.5, 0.0999), true);
  assert.equal(keywordScoreGoodEnough(0.9, 0.5), true);
});
