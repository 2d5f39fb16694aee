import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { FilterNode, Token } from '../src/index.js';
import { parseFilter, printFilter, quote, stripSpans } from '../src/index.js';

function roundTrip(input: string): string {
  const node = parseFilter(input);
  assert.ok(node !== null);
  const printed = printFilter(node);
  assert.deepEqual(stripSpans(parseFilter(printed)!), stripSpans(node), printed);
  return printed;
}

describe('printFilter', () => {
  const cases: [string, string][] = [
    ['channel = Ponce', 'channel = Ponce'],
    ["'dog race' = 'Bernese Mountain'", '"dog race" = "Bernese Mountain"'],
    ['a = 1 AND b = 2 OR c = 3', 'a = 1 AND b = 2 OR c = 3'],
    ['a = 1 AND (b = 2 OR c = 3)', 'a = 1 AND (b = 2 OR c = 3)'],
    ['(a = 1 AND b = 2) AND c = 3', '(a = 1 AND b = 2) AND c = 3'],
    ['(a = 1 OR b = 2) OR c = 3', '(a = 1 OR b = 2) OR c = 3'],
    ['NOT (a = 1 OR b = 2)', 'NOT (a = 1 OR b = 2)'],
    ['x NOT IN [a, "b c"]', 'NOT x IN [a, "b c"]'],
    ['x IS NOT NULL AND y IS EMPTY', 'NOT x IS NULL AND y IS EMPTY'],
    ['x NOT EXISTS', 'NOT x EXISTS'],
    ['x 1 TO 10', 'x 1 TO 10'],
    ["x CONTAINS 'a b' AND y NOT STARTS WITH z", 'x CONTAINS "a b" AND NOT y STARTS WITH z'],
    ['"AND" = "OR"', '"AND" = "OR"'],
    ['x = \'say "hi"\'', 'x = "say \\"hi\\""'],
    ['"_geo" = 1', '"_geo" = 1'],
    ['_geoRadius(1.5, -2, 300, 10)', '_geoRadius(1.5, -2, 300, 10)'],
    ['_geoBoundingBox([1,2],[3,4])', '_geoBoundingBox([1, 2], [3, 4])'],
    ['_geoPolygon([1,2],[3,4],[5,6])', '_geoPolygon([1, 2], [3, 4], [5, 6])'],
    ['x = ""', 'x = ""'],
  ];
  for (const [input, expected] of cases) {
    it(input, () => assert.equal(roundTrip(input), expected));
  }

  it('quotes values that need it, escaping backslashes and double quotes', () => {
    assert.equal(quote('plain-word_1.5'), 'plain-word_1.5');
    assert.equal(quote('two words'), '"two words"');
    assert.equal(quote('NOT'), '"NOT"');
    assert.equal(quote('_geoPoint'), '"_geoPoint"');
    assert.equal(quote('a\\"b'), String.raw`"a\\\"b"`);
    assert.equal(quote('ends with \\'), String.raw`"ends with \\"`);
    assert.equal(roundTrip(`x = ${quote('\\" \\\' \\n \\')}`), String.raw`x = "\\\" \\' \\n \\"`);
  });
});

// ---- property: print → parse gives back the same AST ---------------------------------------------

const tok = (value: string): Token => ({ value, start: 0, end: 0, source: '' });

/** Field names and values, with the characters that need quoting or escaping. */
const text = fc.string({
  unit: fc.constantFrom('a', 'B', 'é', ' ', '"', "'", '\\', 'n', 'x', 'u', '{', '.', '-', '_', '1', 'AND', 'NOT', '(', ']', '=', '\n', '🐻'),
  maxLength: 8,
});
const num = fc.double({ min: -90, max: 90, noNaN: true }).map((n) => String(n));

const leaf: fc.Arbitrary<FilterNode> = fc.oneof(
  fc.tuple(text, fc.constantFrom('=', '!=', '>', '>=', '<', '<=' as const), text).map(
    ([a, op, v]): FilterNode => ({ type: 'comparison', attribute: tok(a), op, value: tok(v) }),
  ),
  fc.tuple(text, text, text).map(([a, f, t]): FilterNode => ({ type: 'range', attribute: tok(a), from: tok(f), to: tok(t) })),
  fc.tuple(text, fc.array(text, { maxLength: 3 })).map(
    ([a, vs]): FilterNode => ({ type: 'in', attribute: tok(a), values: vs.map(tok) }),
  ),
  text.map((a): FilterNode => ({ type: 'exists', attribute: tok(a) })),
  text.map((a): FilterNode => ({ type: 'isNull', attribute: tok(a) })),
  text.map((a): FilterNode => ({ type: 'isEmpty', attribute: tok(a) })),
  fc.tuple(text, text).map(([a, v]): FilterNode => ({ type: 'contains', attribute: tok(a), value: tok(v) })),
  fc.tuple(text, text).map(([a, v]): FilterNode => ({ type: 'startsWith', attribute: tok(a), value: tok(v) })),
  fc.tuple(num, num, num).map(
    ([a, b, r]): FilterNode => ({ type: 'geoRadius', lat: tok(a), lng: tok(b), radius: tok(r.replace('-', '')), resolution: null }),
  ),
);

const tree = fc.letrec<{ node: FilterNode }>((self) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    self('node')
      .filter((n) => n.type !== 'not')
      .map((child): FilterNode => ({ type: 'not', child })),
    fc.array(self('node'), { minLength: 2, maxLength: 3 }).map((children): FilterNode => ({ type: 'and', children })),
    fc.array(self('node'), { minLength: 2, maxLength: 3 }).map((children): FilterNode => ({ type: 'or', children })),
  ),
})).node;

describe('printFilter property', () => {
  it('parse(print(ast)) equals ast', () => {
    fc.assert(
      fc.property(tree, (node) => {
        const printed = printFilter(node);
        const reparsed = parseFilter(printed);
        assert.ok(reparsed !== null, printed);
        assert.deepEqual(stripSpans(reparsed), stripSpans(node), printed);
      }),
      { numRuns: 500 },
    );
  });
});
