/**
 * Query terms end to end: phrases, negated phrases, n-grams, split words, synonyms,
 * `prefixSearch: "disabled"` and `matchingStrategy: "frequency"`. Facts from milli
 * `search/new/query_term/{parse_query,compute_derivations}.rs` and `search/new/tests/words_tms.rs`
 * (phrases never dropped by `last`, phrase words counted by `words`), the docs
 * (`capabilities/full_text_search/relevancy/synonyms`: synonyms are one-way as declared,
 * multi-word synonyms match as phrases).
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { Settings } from '@miroir/protocol';
import { ids, makeIndex } from './helpers.js';

function search(index: ReturnType<typeof makeIndex>['index'], q: string, extra: Record<string, unknown> = {}) {
  return index.search({ q, showRankingScoreDetails: true, ...extra }, 'test');
}

function details(hit: Record<string, unknown>, rule: string): Record<string, unknown> {
  return (hit._rankingScoreDetails as Record<string, Record<string, unknown>>)[rule];
}

const FOX = [
  { id: 0, text: 'the quick brown fox jumps over the lazy dog' },
  { id: 1, text: 'the brown quick fox jumps over the lazy dog' },
  { id: 2, text: 'the quick brown. fox jumps' },
  { id: 3, title: 'quick', text: 'brown fox' },
  { id: 4, text: 'quick brown' },
];

test('a phrase matches consecutive words in one attribute only', () => {
  const { index } = makeIndex(FOX);
  const r = search(index, '"quick brown"');
  // 4 has the phrase at position 0 (wordPosition), 0 and 2 at position 1 (then by iid).
  assert.deepEqual(ids(r.hits), [4, 0, 2]);
  assert.deepEqual(details(r.hits[0], 'words'), { order: 0, matchingWords: 2, maxMatchingWords: 2, score: 1 });
  // A phrase has no typo budget.
  assert.deepEqual(details(r.hits[0], 'typo'), { order: 1, typoCount: 0, maxTypoCount: 0, score: 1 });
  // Not across attributes: 3 has "quick" in title and "brown" in text.
  assert.ok(!ids(r.hits).includes(3));
  // Not across a hard separator (2: "brown. fox"); 3 has it at position 0 of text.
  assert.deepEqual(ids(search(index, '"brown fox"').hits), [3, 0]);
  // Phrase words take no typo and no prefix.
  assert.deepEqual(ids(search(index, '"quikc brown"').hits), []);
  assert.deepEqual(ids(search(index, '"quick bro"').hits), []);
});

test('the words rule never drops a phrase and counts its words', () => {
  const { index } = makeIndex(FOX);
  const r = search(index, '"fox jumps" lazy');
  assert.deepEqual(ids(r.hits), [0, 1, 2]);
  assert.deepEqual(
    r.hits.map((h) => [details(h, 'words').matchingWords, details(h, 'words').maxMatchingWords]),
    [
      [3, 3],
      [3, 3],
      [2, 3],
    ],
  );
  // The plain word is dropped before the phrase, even though it comes last only in strategy order.
  assert.deepEqual(ids(search(index, 'lazy "fox jumps"').hits), [0, 1, 2]);
  // Only phrases: nothing to drop.
  assert.deepEqual(ids(search(index, '"lazy dog" "quick brown"').hits), [0]);
});

test('an unclosed quote makes a phrase of the rest; a lone quote is ignored', () => {
  const { index } = makeIndex(FOX);
  assert.deepEqual(ids(search(index, '"lazy dog').hits), [0, 1]);
  assert.deepEqual(ids(search(index, '"jumps lazy').hits), []);
  // `fox "`: fox is followed by a separator, so it is not a prefix; the empty phrase is nothing.
  const r = search(index, 'fox "');
  assert.deepEqual(ids(r.hits), [3, 0, 1, 2]);
  assert.deepEqual(details(r.hits[0], 'words'), { order: 0, matchingWords: 1, maxMatchingWords: 1, score: 1 });
});

test('negated phrases and words exclude documents', () => {
  const { index } = makeIndex(FOX);
  // 0 and 3 hold "brown fox"; 1 has "brown quick fox", 2 "brown. fox".
  assert.deepEqual(ids(search(index, 'quick -"brown fox"').hits).sort(), [1, 2, 4]);
  assert.deepEqual(ids(search(index, 'quick -"brown fox" -jumps').hits), [4]);
  // A negated word is the exact word only: no typo, no prefix.
  assert.deepEqual(ids(search(index, 'quick -jump').hits).sort(), [0, 1, 2, 3, 4]);
  // Only negations: a placeholder search over the rest.
  assert.deepEqual(ids(search(index, '-"lazy dog"').hits), [2, 3, 4]);
});

const SUN = [
  { id: 0, text: 'sunflower oil' },
  { id: 1, text: 'sun flower' },
  { id: 2, text: 'flower of the sun' },
  { id: 3, text: 'sunflowers' },
];

test('2-grams: "sun flower" matches "sunflower" at one typo', () => {
  const { index } = makeIndex(SUN);
  const r = search(index, 'sun flower');
  // typo 0 first (1 closer than 2), then the n-gram matches (sunflower, and sunflowers as its prefix).
  assert.deepEqual(ids(r.hits), [1, 2, 0, 3]);
  // maxTypoCount: sun (split: 1) + flower (1) = 2; the 2-gram costs 1 + (2 − 1).
  assert.deepEqual(
    r.hits.map((h) => details(h, 'typo').typoCount),
    [0, 0, 1, 1],
  );
  assert.deepEqual(details(r.hits[0], 'typo'), { order: 1, typoCount: 0, maxTypoCount: 2, score: 1 });
  assert.deepEqual(details(r.hits[2], 'words'), { order: 0, matchingWords: 2, maxMatchingWords: 2, score: 1 });
});

test('3-grams: "sun flow er" matches "sunflower"; "flow er" matches "flower"', () => {
  const { index } = makeIndex(SUN);
  const r = search(index, 'sun flow er ');
  // 1 and 2: sun + the 2-gram "flower" (1 typo); 0: the 3-gram "sunflower" (2 typos).
  assert.deepEqual(ids(r.hits), [1, 2, 0]);
  assert.deepEqual(
    r.hits.map((h) => [details(h, 'words').matchingWords, details(h, 'typo').typoCount]),
    [
      [3, 1],
      [3, 1],
      [3, 2],
    ],
  );
  // maxTypoCount: each of sun, flow, er may be split (1 each) = 3, above any n-gram path.
  assert.equal(details(r.hits[0], 'typo').maxTypoCount, 3);
});

test('split words: "sunflower" matches "sun flower" at one typo', () => {
  const { index } = makeIndex(SUN);
  const r = search(index, 'sunflower ');
  assert.deepEqual(ids(r.hits), [0, 1, 3]);
  assert.deepEqual(
    r.hits.map((h) => details(h, 'typo').typoCount),
    [0, 1, 1],
  );
  assert.equal(details(r.hits[0], 'typo').maxTypoCount, 2);
  // A split is a phrase (milli `QueryTerm::all_computed_derivations`): highlighted as one span.
  const h = search(index, 'sunflower ', { attributesToHighlight: ['text'] }).hits;
  assert.equal((h[1]._formatted as Record<string, string>).text, '<em>sun flower</em>');
});

const CITIES = [
  { id: 0, text: 'san francisco bay' },
  { id: 1, text: 'sf bay' },
  { id: 2, text: 'new york city' },
  { id: 3, text: 'nyc metro' },
];
const SYNONYMS: Partial<Settings> = { synonyms: { 'San Francisco': ['sf'], sf: ['san francisco'], nyc: ['new york'] } };

test('synonyms: multi-word both ways, one-way as declared', () => {
  const { index } = makeIndex(CITIES, SYNONYMS);
  // sf → "san francisco" (a phrase), at no typo; the exact word ranks first (exactness).
  let r = search(index, 'sf');
  assert.deepEqual(ids(r.hits), [1, 0]);
  assert.deepEqual(
    r.hits.map((h) => details(h, 'typo').typoCount),
    [0, 0],
  );
  // "san francisco" → sf through the 2-gram: base cost 1.
  r = search(index, 'san francisco');
  assert.deepEqual(ids(r.hits), [0, 1]);
  assert.deepEqual(
    r.hits.map((h) => [details(h, 'words').matchingWords, details(h, 'typo').typoCount]),
    [
      [2, 0],
      [2, 1],
    ],
  );
  assert.deepEqual(ids(search(index, 'nyc').hits), [3, 2]);
  // One-way: "new york" does not lead to nyc.
  assert.deepEqual(ids(search(index, 'new york').hits), [2]);
  // A synonym phrase needs its words consecutive.
  const { index: other } = makeIndex([{ id: 9, text: 'york new' }], SYNONYMS);
  assert.deepEqual(ids(search(other, 'nyc').hits), []);
});

test('prefixSearch "disabled": the last word is matched whole', () => {
  const docs = [{ id: 0, text: 'sunflower' }, { id: 1, text: 'sun' }];
  assert.deepEqual(ids(makeIndex(docs).index.search({ q: 'sun' }, 'test').hits), [1, 0]);
  assert.deepEqual(ids(makeIndex(docs, { prefixSearch: 'disabled' }).index.search({ q: 'sun' }, 'test').hits), [1]);
});

test('matchingStrategy "frequency" drops the most frequent term first (corpus-dependent)', () => {
  const docs = [
    { id: 0, text: 'common rare' },
    { id: 1, text: 'common' },
    { id: 2, text: 'common thing' },
    { id: 3, text: 'rare thing' },
  ];
  const { index } = makeIndex(docs);
  assert.deepEqual(ids(index.search({ q: 'common rare' }, 'test').hits), [0, 1, 2]);
  const r = search(index, 'common rare', { matchingStrategy: 'frequency' });
  assert.deepEqual(ids(r.hits), [0, 3]);
  assert.deepEqual(details(r.hits[1], 'words'), { order: 0, matchingWords: 1, maxMatchingWords: 2, score: 0.5 });
  // With `all` nothing is dropped.
  assert.deepEqual(ids(index.search({ q: 'common rare', matchingStrategy: 'all' }, 'test').hits), [0]);
});

test('proximity runs from the last word of a phrase to the next term', () => {
  const { index } = makeIndex(
    [
      { id: 0, text: 'quick brown fox' },
      { id: 1, text: 'quick brown x y fox' },
    ],
    { rankingRules: ['words', 'proximity'] },
  );
  const r = search(index, '"quick brown" fox');
  assert.deepEqual(ids(r.hits), [0, 1]);
  // brown → fox: distance 1 (cost 0 of 3), then distance 3 (cost 2): ranks 4/4 and 2/4.
  assert.deepEqual(
    r.hits.map((h) => details(h, 'proximity').score),
    [1, 0.5],
  );
});

test('exactness: a field equal to a phrase query is an exact match; phrase words count as positions', () => {
  const { index } = makeIndex([
    { id: 0, text: 'quick brown fox' },
    { id: 1, text: 'quick brown' },
    { id: 2, text: 'quick brown fox jumps' },
  ]);
  const r = search(index, '"quick brown" fox');
  // 1 lacks fox: the words rule drops it (2 of 3 words).
  assert.deepEqual(ids(r.hits), [0, 2, 1]);
  assert.deepEqual(details(r.hits[0], 'exactness'), { order: 5, matchType: 'exactMatch', score: 1 });
  assert.deepEqual(details(r.hits[1], 'exactness'), { order: 5, matchType: 'matchesStart', score: 2 / 3 });
  const one = search(index, '"quick brown"');
  assert.deepEqual(ids(one.hits), [1, 0, 2]);
  assert.deepEqual(
    one.hits.map((h) => details(h, 'exactness').matchType),
    ['exactMatch', 'matchesStart', 'matchesStart'],
  );
});

test('synonyms of one word are capped at 50 phrases and 100 words (milli limits.rs)', () => {
  const many = Array.from({ length: 60 }, (_, i) => `syn${i}`);
  const long = Array.from({ length: 40 }, (_, i) => `aa${i} bb${i} cc${i}`);
  const docs = [
    { id: 0, text: 'syn10' },
    { id: 1, text: 'syn55' },
    { id: 2, text: 'aa32 bb32 cc32' },
    { id: 3, text: 'aa33 bb33 cc33' },
  ];
  const { index } = makeIndex(docs, { synonyms: { word: many, other: long } });
  assert.deepEqual(ids(search(index, 'word').hits), [0]);
  // 33 phrases of 3 words fit in 100 words; the 34th does not.
  assert.deepEqual(ids(search(index, 'other').hits), [2]);
});
