import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { makeIndex, ids } from './helpers.js';

// Expected values of the first two cases are Meilisearch's own snapshots
// (meilisearch/meilisearch `crates/meilisearch/tests/search/dynamic_search_rules.rs`,
// the "natural" search without a rule and the "doc premier organic" search), which fixed the
// model of reference §7.2 for maxTypoCount (split words and n-grams), proximity and wordPosition.

const DSR_DOCS = [
  { id: 'boosted-doc', kind: 'boost' },
  { id: 'deboosted-doc-with-optional', kind: 'deboost' },
  { id: 'hidden-doc-with-optional', kind: 'hide' },
  { id: 'unchanged-doc-with-optional', kind: 'unchanged' },
];

test('meilisearch snapshot: "doc optional" order, scores and details', () => {
  const { index } = makeIndex(DSR_DOCS);
  const res = index.search({ q: 'doc optional', showRankingScore: true, showRankingScoreDetails: true, limit: 10 }, 'products');
  assert.deepEqual(ids(res.hits), ['deboosted-doc-with-optional', 'hidden-doc-with-optional', 'unchanged-doc-with-optional', 'boosted-doc']);
  assert.deepEqual(res.hits[2], {
    id: 'unchanged-doc-with-optional',
    kind: 'unchanged',
    _rankingScore: 0.951058201058201,
    _rankingScoreDetails: {
      words: { order: 0, matchingWords: 2, maxMatchingWords: 2, score: 1.0 },
      typo: { order: 1, typoCount: 0, maxTypoCount: 2, score: 1.0 },
      proximity: { order: 2, score: 0.75 },
      attributeRank: { order: 3, score: 1.0 },
      wordPosition: { order: 4, score: 0.8571428571428571 },
      exactness: { order: 5, matchType: 'noExactMatch', matchingWords: 2, maxMatchingWords: 2, score: 0.3333333333333333 },
    },
  });
  // After `words` drops "optional", the later rules see one term: maxTypoCount 1 ("doc" can be split).
  assert.deepEqual(res.hits[3]._rankingScoreDetails, {
    words: { order: 0, matchingWords: 1, maxMatchingWords: 2, score: 0.5 },
    typo: { order: 1, typoCount: 0, maxTypoCount: 1, score: 1.0 },
    proximity: { order: 2, score: 1.0 },
    attributeRank: { order: 3, score: 1.0 },
    wordPosition: { order: 4, score: 10 / 11 },
    exactness: { order: 5, matchType: 'noExactMatch', matchingWords: 1, maxMatchingWords: 1, score: 0.3333333333333333 },
  });
  assert.equal(res.hits[3]._rankingScore, 0.4621212121212121);
});

test('meilisearch snapshot: "doc premier organic" (reversed pairs, 3-gram typo budget)', () => {
  const { index } = makeIndex([{ id: 'boosted-and-pinned-doc' }, { id: 'organic-premier-doc-1' }, { id: 'organic-premier-doc-2' }]);
  const res = index.search({ q: 'doc premier organic', showRankingScoreDetails: true, limit: 10 }, 'products');
  assert.deepEqual(ids(res.hits), ['organic-premier-doc-1', 'organic-premier-doc-2', 'boosted-and-pinned-doc']);
  assert.deepEqual(res.hits[0]._rankingScoreDetails, {
    words: { order: 0, matchingWords: 3, maxMatchingWords: 3, score: 1.0 },
    typo: { order: 1, typoCount: 0, maxTypoCount: 3, score: 1.0 },
    proximity: { order: 2, score: 0.7142857142857143 },
    attributeRank: { order: 3, score: 1.0 },
    wordPosition: { order: 4, score: 0.8709677419354839 },
    exactness: { order: 5, matchType: 'noExactMatch', matchingWords: 3, maxMatchingWords: 3, score: 0.3333333333333333 },
  });
});

// Per-rule cases on small indexes; expected ranks follow reference §7.2 (r of M) with the
// model confirmed by the snapshots above.
const CASES: Array<{ name: string; docs: Array<Record<string, unknown>>; settings?: Record<string, unknown>; query: Record<string, unknown>; rule: string; expected: unknown }> = [
  {
    name: 'typo: one typo on a 5-letter prefix word costs 1 of 1',
    docs: [{ id: 1, t: 'helo world' }],
    query: { q: 'hello' },
    rule: 'typo',
    expected: { order: 1, typoCount: 1, maxTypoCount: 1, score: 0.5 },
  },
  {
    name: 'typo: first-letter typo counts double (needs the two-typo allowance)',
    docs: [{ id: 1, t: 'mountains' }],
    query: { q: 'bountains ' },
    rule: 'typo',
    expected: { order: 1, typoCount: 2, maxTypoCount: 2, score: 1 / 3 },
  },
  {
    name: 'proximity: reversed adjacent words cost 1',
    docs: [{ id: 1, t: 'world hello' }],
    query: { q: 'hello world' },
    rule: 'proximity',
    expected: { order: 2, score: 0.75 },
  },
  {
    name: 'proximity: words in different fields cost the maximum',
    docs: [{ id: 1, a: 'hello', b: 'world' }],
    query: { q: 'hello world' },
    rule: 'proximity',
    expected: { order: 2, score: 0.25 },
  },
  {
    name: 'attributeRank: match in the second of two searchable attributes',
    docs: [{ id: 1, title: 'nothing', body: 'hello' }],
    settings: { searchableAttributes: ['title', 'body'] },
    query: { q: 'hello' },
    rule: 'attributeRank',
    expected: { order: 3, score: 0.5 },
  },
  {
    name: 'wordPosition: word at position 5 for the first query term (bucket 3 of 10)',
    docs: [{ id: 1, t: 'a b c d e hello' }],
    query: { q: 'hello' },
    rule: 'wordPosition',
    expected: { order: 4, score: 8 / 11 },
  },
  {
    name: 'exactness: a field equal to the query',
    docs: [{ id: 1, t: 'Hello World' }],
    query: { q: 'hello world' },
    rule: 'exactness',
    expected: { order: 5, matchType: 'exactMatch', score: 1.0 },
  },
  {
    name: 'exactness: a field starting with the query',
    docs: [{ id: 1, t: 'hello world again' }],
    query: { q: 'hello world' },
    rule: 'exactness',
    expected: { order: 5, matchType: 'matchesStart', score: 2 / 3 },
  },
  {
    name: 'exactness: one of two words matched only by prefix',
    docs: [{ id: 1, t: 'say hello worldwide' }],
    query: { q: 'hello world' },
    rule: 'exactness',
    expected: { order: 5, matchType: 'noExactMatch', matchingWords: 1, maxMatchingWords: 2, score: 2 / 9 },
  },
  {
    name: 'words: all strategy has a single bucket',
    docs: [{ id: 1, t: 'hello world' }],
    query: { q: 'hello world', matchingStrategy: 'all' },
    rule: 'words',
    expected: { order: 0, matchingWords: 1, maxMatchingWords: 1, score: 1.0 },
  },
  {
    name: 'sort: value shown under "field:dir" at its rule position',
    docs: [{ id: 1, t: 'hello', price: 12.5 }],
    settings: { sortableAttributes: ['price'] },
    query: { q: 'hello', sort: ['price:asc'] },
    rule: 'price:asc',
    expected: { order: 4, value: 12.5 },
  },
  {
    name: 'legacy attribute rule merges attributeRank and wordPosition',
    docs: [{ id: 1, t: 'x hello' }],
    settings: { rankingRules: ['words', 'typo', 'proximity', 'attribute', 'sort', 'exactness'] },
    query: { q: 'hello' },
    rule: 'attribute',
    expected: { order: 3, attributeRankingOrderScore: 1.0, queryWordDistanceScore: 10 / 11, score: 10 / 11 },
  },
];

for (const c of CASES) {
  test(`rule ${c.name}`, () => {
    const { index } = makeIndex(c.docs, c.settings);
    const res = index.search({ ...c.query, showRankingScoreDetails: true }, 'idx');
    assert.equal(res.hits.length, 1);
    assert.deepEqual(res.hits[0]._rankingScoreDetails?.[c.rule], c.expected);
  });
}

test('placeholder search: score 1.0 and details only for sort rules', () => {
  const { index } = makeIndex([{ id: 1, p: 3 }, { id: 2, p: 1 }, { id: 3 }], { sortableAttributes: ['p'] });
  const plain = index.search({ showRankingScore: true, showRankingScoreDetails: true }, 'idx');
  assert.deepEqual(plain.hits.map((h) => [h.id, h._rankingScore, h._rankingScoreDetails]), [
    [1, 1, {}],
    [2, 1, {}],
    [3, 1, {}],
  ]);
  const sorted = index.search({ sort: ['p:asc'], showRankingScoreDetails: true }, 'idx');
  assert.deepEqual(sorted.hits.map((h) => [h.id, h._rankingScoreDetails]), [
    [2, { 'p:asc': { order: 0, value: 1 } }],
    [1, { 'p:asc': { order: 0, value: 3 } }],
    [3, { 'p:asc': { order: 0, value: null } }],
  ]);
});

test('global score is the mixed-radix fold of the rule ranks (reference §7.3)', () => {
  const { index } = makeIndex([{ id: 1, t: 'hello there world' }]);
  const res = index.search({ q: 'hello world', showRankingScore: true, showRankingScoreDetails: true }, 'idx');
  const d = res.hits[0]._rankingScoreDetails!;
  // words 2/2, typo 3/3 (hello: 1 typo, world: split 1), proximity (gap 2 → cost 1) 3/4,
  // attributeRank 1/1, wordPosition (0 + bucket(2-1)=1) 20/21, exactness 1/3 then 3/3.
  assert.deepEqual(d.typo, { order: 1, typoCount: 0, maxTypoCount: 2, score: 1 });
  assert.equal(d.proximity.score, 0.75);
  assert.equal(d.wordPosition.score, 20 / 21);
  let r = 1;
  let m = 1;
  for (const [ri, mi] of [[2, 2], [3, 3], [3, 4], [1, 1], [20, 21], [1, 3], [3, 3]]) {
    r = (r - 1) * mi + ri;
    m *= mi;
  }
  assert.equal(res.hits[0]._rankingScore, r / m);
});
