/**
 * Tokenization settings (reference §7.6; docs `reference/api/settings` separatorTokens,
 * nonSeparatorTokens, dictionary): they change how documents and queries are split, and a
 * settings change re-indexes. CJK runs are segmented (never dropped); Latin text is folded
 * (case, diacritics) as charabia's normalizers do.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { defaultSettings } from '@miroir/protocol';
import { Tokenizer } from '../src/tokenizer.js';
import { ids, makeIndex } from './helpers.js';

test('Tokenizer: dictionary entries, custom separators and non-separators', () => {
  const t = new Tokenizer({ separatorTokens: ['&sep'], nonSeparatorTokens: ['#', '@'], dictionary: ['J. R. R.'] });
  assert.deepEqual(t.tokenize('J. R. R. Tolkien likes C# foo&sepbar'), [
    { word: 'j. r. r.', pos: 0, start: 0, end: 8 },
    { word: 'tolkien', pos: 1, start: 9, end: 16 },
    { word: 'likes', pos: 2, start: 17, end: 22 },
    { word: 'c#', pos: 3, start: 23, end: 25 },
    { word: 'foo', pos: 4, start: 26, end: 29 },
    { word: 'bar', pos: 5, start: 33, end: 36 },
  ]);
  // Without settings: the default split.
  assert.deepEqual(Tokenizer.default.words('J. R. R. Tolkien likes C# foo&sepbar'), ['j', 'r', 'r', 'tolkien', 'likes', 'c', 'foo', 'sepbar']);
  // A dictionary entry only ends where a word ends.
  assert.deepEqual(new Tokenizer({ separatorTokens: [], nonSeparatorTokens: [], dictionary: ['art'] }).words('arty art'), ['arty', 'art']);
});

test('nonSeparatorTokens keep "c#" whole in documents and queries', () => {
  const docs = [
    { id: 1, text: 'I like C#' },
    { id: 2, text: 'I like C' },
  ];
  assert.deepEqual(ids(makeIndex(docs).index.search({ q: 'c# ' }, 't').hits), [1, 2]);
  const { index } = makeIndex(docs, { nonSeparatorTokens: ['#'] });
  assert.deepEqual(ids(index.search({ q: 'c# ' }, 't').hits), [1]);
  assert.deepEqual(ids(index.search({ q: 'c ' }, 't').hits), [2]);
});

test('separatorTokens split words; dictionary keeps phrases with separators whole', () => {
  const docs = [
    { id: 1, text: 'foo&sepbar' },
    { id: 2, text: 'J. R. R. Tolkien' },
    { id: 3, text: 'R. J. Smith' },
  ];
  assert.deepEqual(ids(makeIndex(docs).index.search({ q: 'bar' }, 't').hits), []);
  assert.deepEqual(ids(makeIndex(docs, { separatorTokens: ['&sep'] }).index.search({ q: 'bar' }, 't').hits), [1]);
  // Default: "j r r" matches both 2 and 3; with the dictionary entry only 2.
  assert.deepEqual(ids(makeIndex(docs).index.search({ q: 'J. R. R.', matchingStrategy: 'all' }, 't').hits).sort(), [2, 3]);
  assert.deepEqual(ids(makeIndex(docs, { dictionary: ['J. R. R.'] }).index.search({ q: 'J. R. R.' }, 't').hits), [2]);
});

test('a settings change re-indexes with the new tokenization', () => {
  const docs = [
    { id: 1, text: 'I like C#' },
    { id: 2, text: 'I like C' },
  ];
  const { index, docs: store } = makeIndex(docs);
  index.setSettings({ ...defaultSettings(), nonSeparatorTokens: ['#'] }, store.entries());
  assert.deepEqual(ids(index.search({ q: 'c# ' }, 't').hits), [1]);
  index.setSettings(defaultSettings(), store.entries());
  assert.deepEqual(ids(index.search({ q: 'c# ' }, 't').hits), [1, 2]);
});

test('CJK text is segmented, not dropped; Latin text is case- and diacritic-folded', () => {
  const docs = [
    { id: 1, text: '東京タワーに行きました' },
    { id: 2, text: 'hello世界' },
    { id: 3, text: 'Éléphant ÇA' },
  ];
  const { index } = makeIndex(docs);
  assert.deepEqual(ids(index.search({ q: '東京' }, 't').hits), [1]);
  assert.deepEqual(ids(index.search({ q: '世界' }, 't').hits), [2]);
  assert.deepEqual(ids(index.search({ q: 'hello' }, 't').hits), [2]);
  assert.deepEqual(ids(index.search({ q: 'ELEPHANT ça' }, 't').hits), [3]);
  assert.deepEqual(ids(index.search({ q: 'éléphânt' }, 't').hits), [3]);
});

test('normalization follows charabia: marks dropped for Latin/Greek only, ё → е, œ → oe', async () => {
  const { normalize } = await import('../src/tokenizer.js');
  assert.equal(normalize('Éléphant'), 'elephant');
  assert.equal(normalize('ΆΛΦΑ'), 'αλφα');
  assert.equal(normalize('Œuvre'), 'oeuvre');
  assert.equal(normalize('Ёлка'), 'елка');
  // Cyrillic й keeps its breve (decomposed), Japanese dakuten stay: が is not か.
  assert.equal(normalize('й'), 'и\u0306');
  assert.equal(normalize('が'), 'か\u3099');
  assert.notEqual(normalize('が'), normalize('か'));
  // Full-width forms fold (NFKD).
  assert.equal(normalize('ＡＢＣ'), 'abc');
  const { index } = makeIndex([
    { id: 1, text: 'chef-d’œuvre' },
    { id: 2, text: 'ёлка' },
    { id: 3, text: 'かき' },
  ]);
  assert.deepEqual(ids(index.search({ q: 'oeuvre' }, 't').hits), [1]);
  assert.deepEqual(ids(index.search({ q: 'елка' }, 't').hits), [2]);
  assert.deepEqual(ids(index.search({ q: 'がき ' }, 't').hits), []);
});

test('Thai text (no spaces) is segmented into words', () => {
  const { index } = makeIndex([{ id: 1, text: 'ภาษาไทยง่ายนิดเดียว' }]);
  assert.deepEqual(ids(index.search({ q: 'ไทย ' }, 't').hits), [1]);
  // Thai marks are nonspacing and dropped (charabia NonspacingMarkNormalizer covers Thai).
  assert.deepEqual(ids(index.search({ q: 'งาย ' }, 't').hits), [1]);
});
