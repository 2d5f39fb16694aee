/**
 * Highlighting and match positions split texts with the index's own tokenization settings, so a
 * `nonSeparatorTokens` word such as `c#` is highlighted whole, as it is matched.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { makeIndex } from './helpers.js';

test('a non-separator token is highlighted and positioned as one word', () => {
  const { index } = makeIndex([{ id: 1, title: 'I write c# daily' }, { id: 2, title: 'I write c daily' }], { nonSeparatorTokens: ['#'] });
  const res = index.search({ q: 'c#', attributesToHighlight: ['title'], showMatchesPosition: true }, 'idx');
  assert.deepEqual(
    res.hits.map((h) => h.id),
    [1],
  );
  assert.equal((res.hits[0]!._formatted as { title: string }).title, 'I write <em>c#</em> daily');
  assert.deepEqual(res.hits[0]!._matchesPosition, { title: [{ start: 8, length: 2 }] });
});
