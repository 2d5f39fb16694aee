/**
 * Properties of query parsing and matching over random queries mixing words, quotes, minus
 * signs and hard separators: parsing never fails and keeps at most 10 terms; with
 * `matchingStrategy: "all"` every hit holds every phrase consecutively in one attribute; no hit
 * holds a negated word or a negated phrase.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { parseQuery } from '../src/query-parse.js';
import { tokenize } from '../src/tokenizer.js';
import { makeIndex } from './helpers.js';

const WORDS = ['red', 'blue', 'green', 'sun', 'flower', 'sunflower', 'the', 'big', 'cat'];
const PIECES = [...WORDS.map((w) => `${w} `), ...WORDS, '"', ' "', '-', ' -', ' -"', '.', ' '];

const queryArb = fc.array(fc.constantFrom(...PIECES), { maxLength: 16 }).map((p) => p.join(''));
const docArb = fc.record({
  a: fc.array(fc.constantFrom(...WORDS, '.'), { maxLength: 8 }).map((w) => w.join(' ')),
  b: fc.array(fc.constantFrom(...WORDS), { maxLength: 5 }).map((w) => w.join(' ')),
});

/** Word lists of each attribute, split at hard separators (positions there are 8 apart). */
function runs(doc: Record<string, unknown>): string[][] {
  const out: string[][] = [];
  for (const f of ['a', 'b']) {
    let cur: string[] = [];
    let last = -1;
    for (const t of tokenize(String(doc[f] ?? ''))) {
      if (last >= 0 && t.pos !== last + 1) {
        out.push(cur);
        cur = [];
      }
      cur.push(t.word);
      last = t.pos;
    }
    out.push(cur);
  }
  return out;
}

function holdsPhrase(doc: Record<string, unknown>, phrase: ReadonlyArray<string | null>): boolean {
  return runs(doc).some((r) => {
    for (let s = 0; s + phrase.length <= r.length; s++) if (phrase.every((w, k) => w === null || r[s + k] === w)) return true;
    return false;
  });
}

test('parsing never fails and keeps at most 10 terms, no empty phrase', () => {
  fc.assert(
    fc.property(queryArb, (q) => {
      const p = parseQuery(q, (w) => w === 'the', true);
      assert.ok(p.items.length <= 10);
      for (const it of p.items) if (it.kind === 'phrase') assert.ok(it.words.some((w) => w !== null));
      for (const n of p.negativePhrases) assert.ok(n.some((w) => w !== null));
    }),
    { numRuns: 500 },
  );
});

test('hits hold every phrase (strategy all) and no negated word or phrase', () => {
  fc.assert(
    fc.property(fc.array(docArb, { minLength: 1, maxLength: 25 }), queryArb, (docs, q) => {
      const { index, docs: store } = makeIndex(docs.map((d, i) => ({ id: i, ...d })));
      const parsed = parseQuery(q, () => false, true);
      const hits = index.search({ q, matchingStrategy: 'all', limit: 100 }, 't').hits;
      for (const h of hits) {
        const doc = store.get(h.id as number)!;
        for (const it of parsed.items) if (it.kind === 'phrase') assert.ok(holdsPhrase(doc, it.words), `${q}: phrase ${it.words.join(' ')} in ${JSON.stringify(doc)}`);
        for (const w of parsed.negativeWords) assert.ok(!holdsPhrase(doc, [w]), `${q}: -${w} in ${JSON.stringify(doc)}`);
        for (const n of parsed.negativePhrases) assert.ok(!holdsPhrase(doc, n), `${q}: -"${n.join(' ')}" in ${JSON.stringify(doc)}`);
      }
    }),
    { numRuns: 300 },
  );
});
