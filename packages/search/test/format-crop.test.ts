/**
 * Highlighting and cropping. Expected strings are meilisearch's own (milli
 * `search/new/matches/mod.rs` tests `format_crop`, `format_highlight`, `highlight_unicode`,
 * `format_highlight_crop`, `smaller_crop_size`), run with the query `split the world`.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { formatText, type Matcher } from '../src/format.js';
import { makeIndex } from './helpers.js';

/** Whole-word matches for `words` (term ids in query order); the last one is also a prefix. */
function matcher(words: string[]): Matcher {
  const last = words[words.length - 1];
  const fn = (w: string): number | undefined => (words.includes(w) ? -1 : w.startsWith(last) ? [...last].length : undefined);
  return Object.assign(fn, { termOf: (w: string) => (words.includes(w) ? words.indexOf(w) : w.startsWith(last) ? words.length - 1 : undefined) });
}

const SPLIT = matcher(['split', 'the', 'world']);
const TAGS = { pre: '<em>', post: '</em>', marker: '…' };
const crop = (text: string, len = 10, m: Matcher = SPLIT): string => formatText(text, m, false, len, TAGS);
const both = (text: string, len = 10): string => formatText(text, SPLIT, true, len, TAGS);
const hl = (text: string, m: Matcher = SPLIT): string => formatText(text, m, true, undefined, TAGS);

const NO_MATCH = 'A quick brown fox can not jump 32 feet, right? Brr, it is cold!';
const SOME = 'Natalie risk her future to build a world with the boy she loves.';
const ALL = 'Natalie risk her future to build a world with the boy she loves. Emily Henry: The Love That Split The World.';

test('crop without matches: the first words, marker at the end only', () => {
  assert.equal(crop(''), '');
  assert.equal(crop(':-)'), ':-)');
  assert.equal(crop(NO_MATCH), 'A quick brown fox can not jump 32 feet, right…');
  assert.equal(crop(`(${NO_MATCH})`), '(A quick brown fox can not jump 32 feet, right…');
});

test('crop around the best interval of matches', () => {
  assert.equal(crop(SOME), '…future to build a world with the boy she loves…');
  assert.equal(crop(ALL), '…she loves. Emily Henry: The Love That Split The World.');
  // Ordered matches beat unordered ones, distinct words beat repeated ones, dense beats sparse.
  const expected = '…void void void void void split the world void void';
  assert.equal(crop('The world split void void void void void void void void void split the world void void'), expected);
  assert.equal(crop('split void the void void world void void void void void void void void void void split the world void void'), expected);
  assert.equal(crop('split split split split split split void void void void void void void void void void split the world void void'), expected);
});

test('crop smaller than the query, and crop length 0 keeps the text', () => {
  const text = 'void void split the world void void.';
  assert.equal(crop(text, 2), '…split the…');
  assert.equal(crop(text, 1), '…split…');
  assert.equal(crop(text, 0), text);
});

test('highlight whole words and prefixes (code points of the original text)', () => {
  assert.equal(hl(''), '');
  assert.equal(hl(':-)'), ':-)');
  assert.equal(hl(NO_MATCH), NO_MATCH);
  assert.equal(
    hl(ALL),
    'Natalie risk her future to build a <em>world</em> with <em>the</em> boy she loves. Emily Henry: <em>The</em> Love That <em>Split</em> <em>The</em> <em>World</em>.',
  );
  const world = matcher(['world']);
  assert.equal(hl('Ŵôřlḑôle', world), '<em>Ŵôřlḑ</em>ôle');
  assert.equal(hl('Ŵôřlḑ', world), '<em>Ŵôřlḑ</em>');
  assert.equal(hl('Westfália', matcher(['westfali'])), '<em>Westfáli</em>a');
});

test('highlight and crop together', () => {
  assert.equal(both(NO_MATCH), 'A quick brown fox can not jump 32 feet, right…');
  assert.equal(both(SOME), '…future to build a <em>world</em> with <em>the</em> boy she loves…');
  assert.equal(both(ALL), '…she loves. Emily Henry: <em>The</em> Love That <em>Split</em> <em>The</em> <em>World</em>.');
  assert.equal(
    both('The world split void void void void void void void void void split the world void void'),
    '…void void void void void <em>split</em> <em>the</em> <em>world</em> void void',
  );
  // An empty marker cuts silently.
  assert.equal(formatText(SOME, SPLIT, false, 10, { ...TAGS, marker: '' }), 'future to build a world with the boy she loves');
});

test('_formatted through a search: per-attribute lengths, `*`, custom tags, values stringified', () => {
  const { index } = makeIndex([
    { id: 7, title: 'The World Split', body: SOME, year: 2022, tags: ['world tour', 'split'], nested: { note: 'a world apart' }, flag: true, none: null },
  ]);
  const res = index.search(
    {
      q: 'split the world',
      attributesToHighlight: ['*'],
      attributesToCrop: ['body:4', 'nested.note'],
      cropLength: 2,
      highlightPreTag: '[',
      highlightPostTag: ']',
      cropMarker: '~',
    },
    'm',
  );
  assert.deepEqual(res.hits[0]._formatted, {
    id: '7',
    title: '[The] [World] [Split]',
    body: '~a [world] with [the]~',
    year: '2022',
    tags: ['[world] tour', '[split]'],
    // Growing left first reaches the text's start: no leading marker.
    nested: { note: 'a [world]~' },
    flag: true,
    none: null,
  });
});

test('_matchesPosition: UTF-8 byte offsets, array indices, prefix lengths', () => {
  const { index } = makeIndex([{ id: 1, title: 'Ŵôřlḑ café', tags: ['x', 'a worldwide tour'], deep: [{ list: ['world'] }] }]);
  const res = index.search({ q: 'world', showMatchesPosition: true }, 'm');
  assert.deepEqual(res.hits[0]._matchesPosition, {
    // "Ŵôřlḑ" is 10 bytes in UTF-8 (2 + 2 + 2 + 1 + 3).
    title: [{ start: 0, length: 10 }],
    // Prefix match: the query's 5 characters of "worldwide", after "a " (2 bytes).
    tags: [{ start: 2, length: 5, indices: [1] }],
    'deep.list': [{ start: 0, length: 5, indices: [0, 0] }],
  });
});

test('_formatted holds the retrieved attributes plus those to highlight or crop (meilisearch formatted.rs)', () => {
  const doc = { id: 852, cattos: 'pesti', doggos: [{ name: 'bobby', age: 2 }, { name: 'buddy', age: 4 }] };
  const { index } = makeIndex([doc]);
  const hit = (q: Record<string, unknown>) => index.search({ q: 'pesti', ...q }, 'm').hits[0];
  assert.deepEqual(hit({ attributesToRetrieve: [], attributesToHighlight: ['doggos.name'] }), {
    _formatted: { doggos: [{ name: 'bobby' }, { name: 'buddy' }] },
  });
  assert.deepEqual(hit({ attributesToRetrieve: ['doggos.name'], attributesToHighlight: ['doggos.age'] }), {
    doggos: [{ name: 'bobby' }, { name: 'buddy' }],
    _formatted: { doggos: [{ name: 'bobby', age: '2' }, { name: 'buddy', age: '4' }] },
  });
  assert.deepEqual(hit({ attributesToRetrieve: [], attributesToHighlight: ['doggos.age'], attributesToCrop: ['doggos.name:3'] }), {
    _formatted: { doggos: [{ name: 'bobby', age: '2' }, { name: 'buddy', age: '4' }] },
  });
  assert.deepEqual(hit({ attributesToRetrieve: ['*'], attributesToHighlight: ['id'], showMatchesPosition: true }), {
    ...doc,
    // milli `format_value`: every number of `_formatted` is a string, formatted or not.
    _formatted: { id: '852', cattos: 'pesti', doggos: [{ name: 'bobby', age: '2' }, { name: 'buddy', age: '4' }] },
    _matchesPosition: { cattos: [{ start: 0, length: 5 }] },
  });
  const small = makeIndex([doc], { displayedAttributes: ['id'] }).index;
  assert.deepEqual(small.search({ attributesToRetrieve: ['cattos'], attributesToHighlight: ['id'] }, 'm').hits[0], { _formatted: { id: '852' } });
  // No displayed attribute to format: no `_formatted` at all.
  assert.deepEqual(small.search({ attributesToHighlight: ['cattos'] }, 'm').hits[0], { id: 852 });
  assert.deepEqual(small.search({ attributesToRetrieve: ['cattos'], attributesToHighlight: ['cattos'], attributesToCrop: ['cattos'] }, 'm').hits[0], {});
  assert.deepEqual(index.search({ attributesToHighlight: ['unknown'] }, 'm').hits[0], doc);
});
