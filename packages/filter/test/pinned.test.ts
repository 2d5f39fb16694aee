import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { andFilters, FilterError, parseFilter, pinnedPrimaryKeys, stripSpans } from '../src/index.js';

describe('pinnedPrimaryKeys', () => {
  const cases: [string, string[] | null][] = [
    ['id = 3', ['3']],
    ['id = "3"', ['3']],
    ['id = 03', ['03', '3']],
    ['id = 3.0', ['3']],
    ['id = -7', ['-7']],
    ['id = 1.5', []],
    ['id = "a b"', []],
    ['id IN [1, 2, 2]', ['1', '2']],
    ['id IN []', []],
    ['id = 3 AND x > 1', ['3']],
    ['x > 1 AND id = 3', ['3']],
    ['id = 1 OR id = 2', ['1', '2']],
    ['(id = 1 OR id = 2) AND id IN [2, 3]', ['2']],
    ['id = 1 AND id = 2', []],
    ['id = 1 OR x = 2', null],
    ['id != 1', null],
    ['NOT id = 1', null],
    ['id > 1', null],
    ['x = 1', null],
    ['id EXISTS', null],
    // Meilisearch compares strings case-insensitively: `abc` also matches `ABC`.
    ['id = abc', null],
    ['id IN [1, abc]', null],
    ['id = "  42 "', ['42']],
    ['ID = 1', null],
  ];
  for (const [filter, expected] of cases) {
    it(filter, () => assert.deepEqual(pinnedPrimaryKeys(parseFilter(filter), 'id'), expected));
  }

  it('takes letters literally when told ids are exact', () => {
    assert.deepEqual(pinnedPrimaryKeys(parseFilter('id IN [abc, Def, "x y"]'), 'id', { lettersAreExact: true }), [
      'Def',
      'abc',
    ]);
  });

  it('works on nested primary keys and array forms', () => {
    assert.deepEqual(pinnedPrimaryKeys(parseFilter(['product.id = 7', ['x = 1', 'y = 2']]), 'product.id'), ['7']);
    assert.equal(pinnedPrimaryKeys(null, 'id'), null);
  });
});

describe('andFilters', () => {
  it('ANDs strings and array forms without rewriting them', () => {
    assert.deepEqual(andFilters('a = 1 OR b = 2', '_miroir_shard IN [1, 4]'), ['a = 1 OR b = 2', '_miroir_shard IN [1, 4]']);
    assert.deepEqual(andFilters(['a = 1', ['b = 2', 'c = 3']], 'x = 1'), ['a = 1', ['b = 2', 'c = 3'], 'x = 1']);
    assert.deepEqual(andFilters(null, '', [], 'x = 1'), ['x = 1']);
    assert.equal(andFilters(null, undefined, '  '), null);
  });

  it('keeps the meaning: (client) AND extra', () => {
    const combined = andFilters('a = 1 OR b = 2', 's IN [1]');
    assert.deepEqual(
      stripSpans(parseFilter(combined)!),
      stripSpans(parseFilter('(a = 1 OR b = 2) AND s IN [1]')!),
    );
  });
});
