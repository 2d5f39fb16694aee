/**
 * Typo tolerance acceptance. Rules (docs `capabilities/full_text_search/relevancy/typo_tolerance_settings`,
 * `resources/internals/typo_tolerance`; milli `search/new/query_term/{parse_query,compute_derivations}.rs`):
 * query words of < `oneTypo` (5) characters take no typo, < `twoTypos` (9) one, longer two;
 * edits are Damerau's (a swap of adjacent letters is one typo); a typo on the first letter
 * costs 2 (so it never matches a one-typo word); prefixes cost nothing; `disableOnWords` makes
 * those query words exact; `disableOnAttributes` fields match exact words and prefixes only;
 * `disableOnNumbers` makes numeric query words exact; `enabled: false` turns typos off.
 * Queries end with a space where the last word must not be a prefix.
 * The second half replays milli's `search/new/tests/typo.rs` corpus and expected results.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { Settings } from '@miroir/protocol';
import { defaultSettings } from '@miroir/protocol';
import { ids, makeIndex } from './helpers.js';

type Expect = [query: string, hits: number[], typo?: { typoCount: number; maxTypoCount: number }];

function check(docs: Array<Record<string, unknown>>, patch: Partial<Settings>, cases: Expect[]): void {
  const { index } = makeIndex(docs, patch);
  for (const [q, want, typo] of cases) {
    const r = index.search({ q, showRankingScoreDetails: true }, 'test');
    assert.deepEqual(ids(r.hits), want, `hits of ${JSON.stringify(q)}`);
    if (typo !== undefined) {
      const d = (r.hits[0]._rankingScoreDetails as Record<string, Record<string, unknown>>).typo;
      const score = (typo.maxTypoCount + 1 - typo.typoCount) / (typo.maxTypoCount + 1);
      assert.deepEqual(d, { order: 1, ...typo, score }, `typo details of ${JSON.stringify(q)}`);
    }
  }
}

const WORDS = [
  { id: 4, text: 'tree' },
  { id: 5, text: 'house' },
  { id: 8, text: 'elephant' },
  { id: 9, text: 'chocolate' },
  { id: 6, text: '123456' },
];

test('4-letter words take no typo; a prefix costs nothing', () => {
  check(WORDS, {}, [
    // maxTypoCount 1: a word of 2+ letters may still be split in two (1 typo).
    ['tree ', [4], { typoCount: 0, maxTypoCount: 1 }],
    ['trea ', []],
    ['tre ', []],
    ['xree ', []],
    ['tre', [4], { typoCount: 0, maxTypoCount: 1 }],
    ['hous ', []],
    ['hous', [5], { typoCount: 0, maxTypoCount: 1 }],
  ]);
});

test('5- and 8-letter words take one typo, never on the first letter', () => {
  check(WORDS, {}, [
    ['house ', [5], { typoCount: 0, maxTypoCount: 1 }],
    ['hiuse ', [5], { typoCount: 1, maxTypoCount: 1 }],
    ['housa ', [5], { typoCount: 1, maxTypoCount: 1 }],
    ['hosue ', [5], { typoCount: 1, maxTypoCount: 1 }],
    ['housse ', [5], { typoCount: 1, maxTypoCount: 1 }],
    ['jouse ', []],
    ['ohuse ', []],
    ['hiusa ', []],
    ['elephant ', [8], { typoCount: 0, maxTypoCount: 1 }],
    ['elephent ', [8], { typoCount: 1, maxTypoCount: 1 }],
    ['elepant ', [8], { typoCount: 1, maxTypoCount: 1 }],
    ['elpehant ', [8], { typoCount: 1, maxTypoCount: 1 }],
    ['slephant ', []],
    ['elepjent ', []],
    // A prefix with one typo: "elephn" is 6 letters (1 typo), "elepha…" is within 1 edit.
    ['elephn', [8], { typoCount: 1, maxTypoCount: 1 }],
  ]);
});

test('9-letter words take two typos; a first-letter typo counts 2', () => {
  check(WORDS, {}, [
    ['chocolate ', [9], { typoCount: 0, maxTypoCount: 2 }],
    ['chocolata ', [9], { typoCount: 1, maxTypoCount: 2 }],
    ['cohcolate ', [9], { typoCount: 1, maxTypoCount: 2 }],
    ['chokolata ', [9], { typoCount: 2, maxTypoCount: 2 }],
    ['xhocolate ', [9], { typoCount: 2, maxTypoCount: 2 }],
    ['hcocolate ', [9], { typoCount: 2, maxTypoCount: 2 }],
    ['xhocolata ', []],
    ['chokolyty ', []],
  ]);
});

test('minWordSizeForTypos moves the thresholds', () => {
  check(WORDS, { typoTolerance: { ...defaultSettings().typoTolerance, minWordSizeForTypos: { oneTypo: 4, twoTypos: 8 } } }, [
    ['trea ', [4], { typoCount: 1, maxTypoCount: 1 }],
    ['elepjent ', [8], { typoCount: 2, maxTypoCount: 2 }],
    ['hiusa ', []],
  ]);
  check(WORDS, { typoTolerance: { ...defaultSettings().typoTolerance, minWordSizeForTypos: { oneTypo: 6, twoTypos: 10 } } }, [
    ['hiuse ', []],
    ['chocolata ', [9], { typoCount: 1, maxTypoCount: 1 }],
    ['chokolata ', []],
  ]);
});

test('disableOnWords makes those query words exact (other words keep typos)', () => {
  check(WORDS, { typoTolerance: { ...defaultSettings().typoTolerance, disableOnWords: ['House', 'chocolata'] } }, [
    ['house ', [5], { typoCount: 0, maxTypoCount: 1 }],
    // The list is about query words: "hiuse" is not in it.
    ['hiuse ', [5], { typoCount: 1, maxTypoCount: 1 }],
    ['chocolata ', []],
    ['chocolade ', [9], { typoCount: 1, maxTypoCount: 2 }],
  ]);
});

test('disableOnNumbers makes numeric query words exact', () => {
  check(WORDS, {}, [['123457 ', [6], { typoCount: 1, maxTypoCount: 1 }]]);
  check(WORDS, { typoTolerance: { ...defaultSettings().typoTolerance, disableOnNumbers: true } }, [
    ['123457 ', []],
    ['123456 ', [6], { typoCount: 0, maxTypoCount: 1 }],
  ]);
});

test('enabled: false matches exact words and prefixes only', () => {
  check(WORDS, { typoTolerance: { ...defaultSettings().typoTolerance, enabled: false } }, [
    ['hiuse ', []],
    ['chokolata ', []],
    // Split words are still derived when typos are off (compute_derivations.rs initializes the
    // one-typo subterm "even if max_nbr_typo is 0 because of split words").
    ['chocolate ', [9], { typoCount: 0, maxTypoCount: 1 }],
    ['chocol', [9], { typoCount: 0, maxTypoCount: 1 }],
  ]);
});

// milli `search/new/tests/typo.rs`.
const MILLI = [
  'the quick brown fox jumps over the lazy dog',
  'the quick brown foxes jump over the lazy dog',
  'the quick brown fax sends a letter to the dog',
  'the quickest brownest fox jumps over the laziest dog',
  "a fox doesn't quack, that crown goes to the duck.",
  'the quicker browner fox jumped over the lazier dog',
  'the extravagant fox skyrocketed over the languorous dog',
  'the quick brown fox jumps over the lazy',
  'the quick brown fox jumps over the',
  'the quick brown fox jumps over',
  'the quick brown fox jumps',
  'the quick brown fox',
  'the quick brown',
  'the quick',
  'netwolk interconections sunflawar',
  'network interconnections sunflawer',
  'network interconnection sunflower',
  'network interconnection sun flower',
  'network interconnection sunflowering',
  'network interconnection sun flowering',
  'network interconnection sunflowar',
  'the fast brownish fox jumps over the lackadaisical dog',
  'the quick brown fox jumps over the lazy dog'.replace('lazy dog', 'lackadaisical dog'),
  'the quivk brown fox jumps over the lazy dog',
].map((text, id) => ({ id, text }) as Record<string, unknown>);
MILLI.push(
  { id: 24, tolerant_text: 'the quick brown fox jumps over the lazy dog' },
  { id: 25, tolerant_text: 'the quivk brown fox jumps over the lazy dog' },
);

function milli(patch: Partial<Settings>, cases: Array<[string, number[]]>): void {
  const { index } = makeIndex(MILLI, { searchableAttributes: ['text'], rankingRules: ['words'], ...patch });
  for (const [q, want] of cases) {
    assert.deepEqual(ids(index.search({ q, matchingStrategy: 'all' }, 'test').hits), want, `hits of ${JSON.stringify(q)}`);
  }
}

const typoSettings = (t: Partial<Settings['typoTolerance']>): Partial<Settings> => ({
  typoTolerance: { ...defaultSettings().typoTolerance, ...t },
});

test('milli typo.rs: defaults, no typo, phrases, n-grams', () => {
  milli(typoSettings({ enabled: false }), [['the quick brown fox jumps over the lazy dog', [0]]]);
  milli({}, [
    ['the quick brown fox jumps over the lazy dog', [0, 23]],
    ['the quack brown fox jumps over the lazy dog', [0]],
    ['the quicest brownest fox jummps over the laziest dog', [3]],
    ['the "quick brewn" fox jumps over the lazy dog', []],
    // A 2-gram of 11 letters takes 2 − 1 typos; a 3-gram of 11 letters 2 − 2.
    ['the extra lagant fox skyrocketed over the languorous dog', [6]],
    ['the ex tra lagant fox skyrocketed over the languorous dog', []],
  ]);
});

test('milli typo.rs: exact words and exact attributes', () => {
  milli(typoSettings({ disableOnWords: ['quick', 'quack', 'sunflower'] }), [
    ['the quick brown fox jumps over the lazy dog', [0]],
    ['the quack brown fox jumps over the lazy dog', []],
    ['the quicest brownest fox jummps over the laziest dog', [3]],
    // Exact words keep prefixes and splits.
    ['network interconnection sunflower', [16, 17, 18]],
  ]);
  const exactAttr = { searchableAttributes: ['text', 'tolerant_text'], ...typoSettings({ disableOnAttributes: ['text'], disableOnWords: ['quivk'] }) };
  milli(exactAttr, [
    ['the quick brown fox jumps over the lazy dog', [0, 24, 25]],
    ['the quidk brown fox jumps over the lazy dog', [24, 25]],
    ['the quivk brown fox jumps over the lazy dog', [23, 25]],
    ['the quicest brownest fox jummps over the laziest dog', []],
  ]);
});

test('milli typo.rs: typo buckets (split words cost 1, prefixes 0, n-grams their base)', () => {
  const { index } = makeIndex(MILLI, { searchableAttributes: ['text'], rankingRules: ['typo'] });
  const run = (q: string) => index.search({ q, matchingStrategy: 'all', showRankingScoreDetails: true }, 'test').hits;
  let hits = run('network interconnection sunflower');
  assert.deepEqual(ids(hits), [16, 18, 17, 20, 15, 14]);
  const typo = (h: Record<string, unknown>) => (h._rankingScoreDetails as Record<string, Record<string, unknown>>).typo;
  assert.deepEqual(
    hits.map((h) => typo(h).typoCount),
    [0, 0, 1, 1, 2, 5],
  );
  assert.deepEqual(typo(hits[5]), { order: 1, typoCount: 5, maxTypoCount: 5, score: 1 / 6 });
  hits = run('network interconnection sun flower');
  assert.deepEqual(ids(hits), [17, 19, 16, 18, 20, 15]);
  assert.deepEqual(
    hits.map((h) => typo(h).typoCount),
    [0, 0, 1, 1, 2, 3],
  );
});

test('milli typo.rs: synonyms cost nothing, multi-word synonyms through n-grams cost their base', () => {
  const { index } = makeIndex(MILLI, {
    searchableAttributes: ['text'],
    rankingRules: ['typo'],
    synonyms: { lackadaisical: ['lazy'], 'fast brownish': ['quick brown'] },
  });
  const run = (q: string) => ids(index.search({ q, matchingStrategy: 'all' }, 'test').hits);
  assert.deepEqual(run('the quick brown fox jumps over the lackadaisical dog'), [0, 22, 23]);
  assert.deepEqual(run('the fast brownish fox jumps over the lackadaisical dog'), [21, 0, 22]);
});

test('disableOnAttributes: an n-gram matches its exact concatenation there, not a typo of it', () => {
  const docs = [
    { id: 0, title: 'sunflower' },
    { id: 1, title: 'sunflowers' },
    { id: 2, title: 'sunflowar' },
  ];
  check(docs, typoSettings({ disableOnAttributes: ['title'] }), [
    // 2-gram "sunflower": 1 base typo; "sunflowers" is its prefix; "sunflowar" would need an edit.
    ['sun flower', [0, 1], { typoCount: 1, maxTypoCount: 2 }],
  ]);
  check(docs, {}, [['sun flower', [0, 1, 2], { typoCount: 1, maxTypoCount: 2 }]]);
});
