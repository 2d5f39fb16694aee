/**
 * Query parsing, checked against milli `search/new/query_term/parse_query.rs`
 * (`located_query_terms_from_tokens`): quotes open and close phrases, an unclosed quote makes
 * the rest of the query a phrase, a hard separator splits a phrase, `-` after whitespace
 * negates the next word or phrase, the very last token is a prefix (even a stop word), other
 * stop words are dropped, and parsing stops at 10 terms.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseQuery } from '../src/query-parse.js';

const none = (): boolean => false;

test('plain words: only the very last token is a prefix', () => {
  assert.deepEqual(parseQuery('hello big world', none, true), {
    items: [
      { kind: 'word', word: 'hello', prefix: false, position: 0 },
      { kind: 'word', word: 'big', prefix: false, position: 1 },
      { kind: 'word', word: 'world', prefix: true, position: 2 },
    ],
    negativeWords: [],
    negativePhrases: [],
  });
  // A trailing separator ends the prefix; prefixSearch "disabled" removes it.
  assert.equal((parseQuery('hello ', none, true).items[0] as { prefix: boolean }).prefix, false);
  assert.equal((parseQuery('hello', none, false).items[0] as { prefix: boolean }).prefix, false);
});

test('a quoted phrase is one item; positions follow the words', () => {
  assert.deepEqual(parseQuery('big "new york" city', none, true).items, [
    { kind: 'word', word: 'big', prefix: false, position: 0 },
    { kind: 'phrase', words: ['new', 'york'], position: 1, end: 2 },
    { kind: 'word', word: 'city', prefix: true, position: 3 },
  ]);
});

test('an unclosed quote makes the rest of the query a phrase', () => {
  assert.deepEqual(parseQuery('big "new york city', none, true).items, [
    { kind: 'word', word: 'big', prefix: false, position: 0 },
    { kind: 'phrase', words: ['new', 'york', 'city'], position: 1, end: 3 },
  ]);
});

test('a lone or empty quote is nothing, and the word before it is not a prefix', () => {
  assert.deepEqual(parseQuery('hello "', none, true).items, [{ kind: 'word', word: 'hello', prefix: false, position: 0 }]);
  assert.deepEqual(parseQuery('""', none, true).items, []);
  assert.deepEqual(parseQuery('"', none, true).items, []);
});

test('a hard separator inside a phrase splits it', () => {
  assert.deepEqual(parseQuery('"new york. big city"', none, true).items, [
    { kind: 'phrase', words: ['new', 'york'], position: 0, end: 1 },
    { kind: 'phrase', words: ['big', 'city'], position: 9, end: 10 },
  ]);
});

test('stop words: dropped outside phrases except as the last token, placeholders inside', () => {
  const stop = (w: string): boolean => w === 'the';
  assert.deepEqual(parseQuery('the cat', stop, true).items, [{ kind: 'word', word: 'cat', prefix: true, position: 1 }]);
  assert.deepEqual(parseQuery('cat the', stop, true).items, [
    { kind: 'word', word: 'cat', prefix: false, position: 0 },
    { kind: 'word', word: 'the', prefix: true, position: 1 },
  ]);
  // milli's PhraseBuilder starts the phrase at its first non-stop word.
  assert.deepEqual(parseQuery('"the cat"', stop, true).items, [{ kind: 'phrase', words: [null, 'cat'], position: 1, end: 1 }]);
  // A phrase of stop words only is empty: nothing.
  assert.deepEqual(parseQuery('"the" cat', stop, true).items, [{ kind: 'word', word: 'cat', prefix: true, position: 1 }]);
});

test('negation: -word and -"phrase" after whitespace or at the start', () => {
  assert.deepEqual(parseQuery('-dog cat -"big city" fish', none, true), {
    items: [
      { kind: 'word', word: 'cat', prefix: false, position: 1 },
      { kind: 'word', word: 'fish', prefix: true, position: 4 },
    ],
    negativeWords: ['dog'],
    negativePhrases: [['big', 'city']],
  });
  // Inside a word the minus is a plain separator.
  assert.deepEqual(
    parseQuery('foo-bar', none, true).items.map((i) => i.kind === 'word' && i.word),
    ['foo', 'bar'],
  );
  // A minus followed by a space negates nothing.
  assert.deepEqual(parseQuery('- dog', none, true).negativeWords, []);
  // An unclosed negated phrase is still negated.
  assert.deepEqual(parseQuery('cat -"big city', none, true).negativePhrases, [['big', 'city']]);
});

test('parsing stops at 10 terms; a phrase counts as one', () => {
  const q = 'a b c d e f g h i j k l';
  const parsed = parseQuery(q, none, true);
  assert.equal(parsed.items.length, 10);
  assert.deepEqual(
    parsed.items.map((i) => i.kind === 'word' && i.word),
    ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
  );
  assert.equal(parseQuery('"a b c d e f g h i j k l" m', none, true).items.length, 2);
});
