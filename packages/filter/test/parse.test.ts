import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { FilterError, originalText, parseFilter, stripSpans } from '../src/index.js';

/** The parse result with spans dropped, or the error message. */
function p(input: unknown): unknown {
  const node = parseFilter(input);
  return node === null ? null : stripSpans(node);
}

function err(input: unknown): string {
  try {
    parseFilter(input);
  } catch (e) {
    assert.ok(e instanceof FilterError, `expected a FilterError, got ${String(e)}`);
    return e.message;
  }
  return assert.fail(`expected ${JSON.stringify(input)} to be rejected`);
}

const cmp = (attribute: string, op: string, value: string) => ({ type: 'comparison', attribute, op, value });
const not = (child: unknown) => ({ type: 'not', child });
const and = (...children: unknown[]) => ({ type: 'and', children });
const or = (...children: unknown[]) => ({ type: 'or', children });

describe('parseFilter: grammar', () => {
  const cases: [string, unknown][] = [
    ['channel = Ponce', cmp('channel', '=', 'Ponce')],
    ['subscribers = 12', cmp('subscribers', '=', '12')],
    ["channel = 'Mister Mv'", cmp('channel', '=', 'Mister Mv')],
    ['channel = "Mister Mv"', cmp('channel', '=', 'Mister Mv')],
    ["'dog race' = Borzoi", cmp('dog race', '=', 'Borzoi')],
    ['"dog race" = "Bernese Mountain"', cmp('dog race', '=', 'Bernese Mountain')],
    ['channel != ponce', cmp('channel', '!=', 'ponce')],
    ['subscribers < 1000', cmp('subscribers', '<', '1000')],
    ['subscribers > 1000', cmp('subscribers', '>', '1000')],
    ['subscribers <= 1000', cmp('subscribers', '<=', '1000')],
    ['subscribers >= 1000', cmp('subscribers', '>=', '1000')],
    ['subscribers>=1000', cmp('subscribers', '>=', '1000')],
    ['a.b.c = -1.5e3', cmp('a.b.c', '=', '-1.5e3')],
    ['subscribers 100 TO 1000', { type: 'range', attribute: 'subscribers', from: '100', to: '1000' }],
    ['colour IN[]', { type: 'in', attribute: 'colour', values: [] }],
    ['colour IN[green]', { type: 'in', attribute: 'colour', values: ['green'] }],
    ['colour IN[green,]', { type: 'in', attribute: 'colour', values: ['green'] }],
    [' colour IN [  green , blue , ]', { type: 'in', attribute: 'colour', values: ['green', 'blue'] }],
    ['colour NOT IN[green,blue]', not({ type: 'in', attribute: 'colour', values: ['green', 'blue'] })],
    [' colour NOT  IN [green, blue] ', not({ type: 'in', attribute: 'colour', values: ['green', 'blue'] })],
    ['subscribers IS NULL', { type: 'isNull', attribute: 'subscribers' }],
    ['subscribers IS NOT NULL', not({ type: 'isNull', attribute: 'subscribers' })],
    ['subscribers  IS   NOT   NULL', not({ type: 'isNull', attribute: 'subscribers' })],
    ['NOT subscribers IS NOT NULL', { type: 'isNull', attribute: 'subscribers' }],
    ['subscribers IS EMPTY', { type: 'isEmpty', attribute: 'subscribers' }],
    ['subscribers IS NOT EMPTY', not({ type: 'isEmpty', attribute: 'subscribers' })],
    ['subscribers EXISTS', { type: 'exists', attribute: 'subscribers' }],
    ['subscribers NOT EXISTS', not({ type: 'exists', attribute: 'subscribers' })],
    ['NOT subscribers NOT EXISTS', { type: 'exists', attribute: 'subscribers' }],
    ["subscribers CONTAINS 'hello'", { type: 'contains', attribute: 'subscribers', value: 'hello' }],
    ['subscribers NOT CONTAINS hello', not({ type: 'contains', attribute: 'subscribers', value: 'hello' })],
    ["subscribers STARTS WITH 'hel'", { type: 'startsWith', attribute: 'subscribers', value: 'hel' }],
    ['subscribers NOT   STARTS WITH hel', not({ type: 'startsWith', attribute: 'subscribers', value: 'hel' })],
    ['NOT channel = ponce', not(cmp('channel', '=', 'ponce'))],
    ['NOT NOT NOT NOT x = 5', cmp('x', '=', '5')],
    ['NOT NOT (NOT NOT x = 5)', cmp('x', '=', '5')],
    ['NOT subscribers 100 TO 1000', not({ type: 'range', attribute: 'subscribers', from: '100', to: '1000' })],
    ['_geoRadius(12, 13, 14)', { type: 'geoRadius', lat: '12', lng: '13', radius: '14', resolution: null }],
    ['_geoRadius(12,13,14,20)', { type: 'geoRadius', lat: '12', lng: '13', radius: '14', resolution: '20' }],
    [
      'NOT _geoRadius(-1.5, +13e1, .5)',
      not({ type: 'geoRadius', lat: '-1.5', lng: '+13e1', radius: '.5', resolution: null }),
    ],
    [
      '_geoBoundingBox([12, 13], [14, 15])',
      { type: 'geoBoundingBox', topRight: ['12', '13'], bottomLeft: ['14', '15'] },
    ],
    [
      '_geoBoundingBox([12,13],[14,15])',
      { type: 'geoBoundingBox', topRight: ['12', '13'], bottomLeft: ['14', '15'] },
    ],
    [
      '_geoPolygon([1, 2], [3, 4], [5, 6], [7,8])',
      {
        type: 'geoPolygon',
        points: [
          ['1', '2'],
          ['3', '4'],
          ['5', '6'],
          ['7', '8'],
        ],
      },
    ],
    ['NOT "OR" EXISTS AND "EXISTS" NOT EXISTS', and(not({ type: 'exists', attribute: 'OR' }), not({ type: 'exists', attribute: 'EXISTS' }))],
    ['x = "AND"', cmp('x', '=', 'AND')],
    ['prénom = Élodie', cmp('prénom', '=', 'Élodie')],
    ['x = ""', cmp('x', '=', '')],
  ];
  for (const [input, expected] of cases) {
    it(input, () => assert.deepEqual(p(input), expected));
  }
});

describe('parseFilter: precedence NOT > AND > OR', () => {
  const cases: [string, unknown][] = [
    [
      "channel = ponce AND 'dog race' != 'bernese mountain' OR subscribers > 1000",
      or(and(cmp('channel', '=', 'ponce'), cmp('dog race', '!=', 'bernese mountain')), cmp('subscribers', '>', '1000')),
    ],
    [
      'channel = ponce AND dog != b OR subscribers > 1000 OR colour = red OR colour = blue AND size = 7',
      or(
        and(cmp('channel', '=', 'ponce'), cmp('dog', '!=', 'b')),
        cmp('subscribers', '>', '1000'),
        cmp('colour', '=', 'red'),
        and(cmp('colour', '=', 'blue'), cmp('size', '=', '7')),
      ),
    ],
    [
      'channel = ponce AND ( dog != b OR subscribers > 1000 )',
      and(cmp('channel', '=', 'ponce'), or(cmp('dog', '!=', 'b'), cmp('subscribers', '>', '1000'))),
    ],
    ['NOT a = 1 AND b = 2', and(not(cmp('a', '=', '1')), cmp('b', '=', '2'))],
    ['NOT (a = 1 AND b = 2)', not(and(cmp('a', '=', '1'), cmp('b', '=', '2')))],
    ['a = 1 OR NOT b = 2 AND c = 3', or(cmp('a', '=', '1'), and(not(cmp('b', '=', '2')), cmp('c', '=', '3')))],
    ['(a = 1 AND b = 2) AND c = 3', and(and(cmp('a', '=', '1'), cmp('b', '=', '2')), cmp('c', '=', '3'))],
    [
      'x = 1 OR NOT (colour IN [green, blue]  OR color = green) ',
      or(cmp('x', '=', '1'), not(or({ type: 'in', attribute: 'colour', values: ['green', 'blue'] }, cmp('color', '=', 'green')))),
    ],
  ];
  for (const [input, expected] of cases) {
    it(input, () => assert.deepEqual(p(input), expected));
  }
});

describe('parseFilter: quoting and escaping', () => {
  const cases: [string, string][] = [
    [String.raw`x = 'Hello \'world\''`, "Hello 'world'"],
    [String.raw`x = "Hello \"world\""`, 'Hello "world"'],
    [String.raw`x = "I'm \"super\" tamo"`, 'I\'m "super" tamo'],
    [String.raw`x = 'I\'m "super" tamo'`, 'I\'m "super" tamo'],
    [String.raw`x = "\"\""`, '""'],
    [String.raw`x = "cha'nnel"`, "cha'nnel"],
    [String.raw`x = 'cha)nnel'`, 'cha)nnel'],
    [String.raw`x = " some spaces "`, ' some spaces '],
    // Backslash escapes are decoded; malformed ones are kept as written.
    [String.raw`x = "aa\\aa"`, String.raw`aa\aa`],
    [String.raw`x = 'foo\\'`, 'foo\\'],
    [String.raw`x = "a\nb\tc"`, 'a\nb\tc'],
    [String.raw`x = 'a\"b'`, 'a"b'],
    [String.raw`x = 'a\\\'b'`, "a\\'b"],
    [String.raw`x = "a\qb"`, String.raw`a\qb`],
    [String.raw`x = "\x41\101\u00e9\u{1F43B}\/"`, 'AAé🐻/'],
    [String.raw`x = "\x4"`, String.raw`\x4`],
    [String.raw`x = "\u{zz}"`, String.raw`\u{zz}`],
    [String.raw`x = "\u{41"`, 'A'],
  ];
  for (const [input, value] of cases) {
    it(input, () => assert.deepEqual(p(input), cmp('x', '=', value)));
  }

  it('keeps token spans inside the quotes', () => {
    const node = parseFilter('"many" = "Glass"');
    assert.ok(node !== null && node.type === 'comparison');
    assert.deepEqual([node.attribute.start, node.attribute.end, node.value.start, node.value.end], [1, 5, 10, 15]);
    assert.equal(node.attribute.source, '"many" = "Glass"');
  });

  it('keeps the original text of escaped tokens', () => {
    const node = parseFilter(String.raw`x = "a\"b\\c"`);
    assert.ok(node !== null && node.type === 'comparison');
    assert.equal(node.value.value, 'a"b\\c');
    assert.equal(originalText(node.value), String.raw`a\"b\\c`);
  });
});

describe('parseFilter: input forms', () => {
  it('no filter', () => {
    for (const input of [null, undefined, '', '   ', '\n', [], ['', '  '], [[]], [[''], '']]) {
      assert.equal(parseFilter(input), null, JSON.stringify(input));
    }
  });

  it('array form: outer AND, inner OR', () => {
    assert.deepEqual(
      p(['a = 1', ['b = 2', 'c = 3']]),
      and(cmp('a', '=', '1'), or(cmp('b', '=', '2'), cmp('c', '=', '3'))),
    );
    assert.deepEqual(p(['a = 1']), cmp('a', '=', '1'));
    assert.deepEqual(p([['a = 1']]), cmp('a', '=', '1'));
    assert.deepEqual(p([['a = 1', ''], '', 'b = 2 OR c = 3']), and(cmp('a', '=', '1'), or(cmp('b', '=', '2'), cmp('c', '=', '3'))));
  });

  it('each array element is its own source', () => {
    const node = parseFilter(['a = 1', 'bb = 2']);
    assert.ok(node && node.type === 'and');
    const second = node.children[1];
    assert.ok(second.type === 'comparison');
    assert.equal(second.attribute.source, 'bb = 2');
    assert.equal(second.attribute.start, 0);
  });

  const typeErrors: [unknown, string][] = [
    [1, 'Invalid type for filter subexpression: expected: String, Array, found: 1.'],
    [true, 'Invalid type for filter subexpression: expected: String, Array, found: true.'],
    [{ a: 1 }, 'Invalid type for filter subexpression: expected: String, Array, found: {"a":1}.'],
    [['a = 1', 2], 'Invalid type for filter subexpression: expected: String, [String], found: 2.'],
    [['a = 1', null], 'Invalid type for filter subexpression: expected: String, [String], found: null.'],
    [[['a = 1', ['b = 2']]], 'Invalid type for filter subexpression: expected: String, found: ["b = 2"].'],
    [[['a = 1', 3]], 'Invalid type for filter subexpression: expected: String, found: 3.'],
    // Types are checked before any string is parsed.
    [['a = = 1', 4], 'Invalid type for filter subexpression: expected: String, [String], found: 4.'],
  ];
  for (const [input, message] of typeErrors) {
    it(`rejects ${JSON.stringify(input)}`, () => assert.equal(err(input), message));
  }

  it('reports errors of an array element against that element', () => {
    assert.equal(
      err(['a = 1', 'channel = 🐻']),
      'Was expecting a value but instead got `🐻`.\n11:12 channel = 🐻',
    );
  });
});

const OPS =
  'Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon`';
const GEO_RESERVED =
  "is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.";

describe('parseFilter: errors (Meilisearch filter-parser texts and spans)', () => {
  const cases: [string, string][] = [
    ['channel = Ponce = 12', 'Found unexpected characters at the end of the filter: `= 12`. You probably forgot an `OR` or an `AND` rule.\n17:21 channel = Ponce = 12'],
    ['channel =    ', 'Was expecting a value but instead got nothing.\n14:14 channel =    '],
    ['channel = 🐻', 'Was expecting a value but instead got `🐻`.\n11:12 channel = 🐻'],
    ['channel = 🐻 AND followers < 100', 'Was expecting a value but instead got `🐻`.\n11:12 channel = 🐻 AND followers < 100'],
    ["'OR'", `${OPS} at \`\\'OR\\'\`.\n1:5 'OR'`],
    ['OR', 'Was expecting a value but instead got `OR`, which is a reserved keyword. To use `OR` as a field name or a value, surround it by quotes.\n1:3 OR'],
    ['channel Ponce', `${OPS} at \`channel Ponce\`.\n1:14 channel Ponce`],
    ['channel = Ponce OR', `${OPS} but instead got nothing.\n19:19 channel = Ponce OR`],
    ['_geoRadius', 'The `_geoRadius` filter must be in the form: `_geoRadius(latitude, longitude, radius, optionalResolution)`.\n1:11 _geoRadius'],
    ['_geoRadius = 12', 'The `_geoRadius` filter must be in the form: `_geoRadius(latitude, longitude, radius, optionalResolution)`.\n1:16 _geoRadius = 12'],
    // Argument-count errors point past the closing parenthesis (nom's shadowed `input`).
    ['_geoRadius(1, 2)', 'Was expecting 3 or 4 arguments for `_geoRadius`, but instead found 2.\n17:17 _geoRadius(1, 2)'],
    ['_geoRadius(1, 2, 3, 4, 5)', 'Was expecting 3 or 4 arguments for `_geoRadius`, but instead found 5.\n26:26 _geoRadius(1, 2, 3, 4, 5)'],
    ['_geoRadius(1, a, 3)', 'The `_geoRadius` filter must be in the form: `_geoRadius(latitude, longitude, radius, optionalResolution)`.\n1:20 _geoRadius(1, a, 3)'],
    ['_geoBoundingBox', 'The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.\n1:16 _geoBoundingBox'],
    ['_geoBoundingBox = 12', 'The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.\n1:21 _geoBoundingBox = 12'],
    ['_geoBoundingBox(1.0, 1.0)', 'The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.\n1:26 _geoBoundingBox(1.0, 1.0)'],
    ['_geoBoundingBox([1, 2], [3])', 'The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.\n29:29 _geoBoundingBox([1, 2], [3])'],
    ['_geoPolygon([1, 2], [3, 4])', 'The `_geoPolygon` filter expects at least 3 points but only 2 were specified\n28:28 _geoPolygon([1, 2], [3, 4])'],
    ['_geoPolygon([1, 2], [3, 4, 5], [6, 7])', 'Was expecting 2 coordinates but instead found 3.\n39:39 _geoPolygon([1, 2], [3, 4, 5], [6, 7])'],
    ['_geoPolygon(1, 2)', "The `_geoPolygon` filter doesn't match the expected format: `_geoPolygon([latitude, longitude], [latitude, longitude])`.\n1:18 _geoPolygon(1, 2)"],
    ['_geoPoint(12, 13, 14)', `\`_geoPoint\` ${GEO_RESERVED}\n1:22 _geoPoint(12, 13, 14)`],
    ['position <= _geoPoint(12, 13, 14)', `\`_geoPoint\` ${GEO_RESERVED}\n13:34 position <= _geoPoint(12, 13, 14)`],
    ['_geoDistance(12, 13, 14)', `\`_geoDistance\` ${GEO_RESERVED}\n1:25 _geoDistance(12, 13, 14)`],
    ['position <= _geoDistance(12, 13, 14)', `\`_geoDistance\` ${GEO_RESERVED}\n13:37 position <= _geoDistance(12, 13, 14)`],
    ['_geo(12, 13, 14)', `\`_geo\` ${GEO_RESERVED}\n1:17 _geo(12, 13, 14)`],
    ['position <= _geo(12, 13, 14)', `\`_geo\` ${GEO_RESERVED}\n13:29 position <= _geo(12, 13, 14)`],
    ['position <= _geoRadius(12, 13, 14)', "The `_geoRadius` filter is an operation and can't be used as a value.\n13:35 position <= _geoRadius(12, 13, 14)"],
    ['position = _geoBoundingBox([1, 2], [3, 4])', "The `_geoBoundingBox` filter is an operation and can't be used as a value.\n12:43 position = _geoBoundingBox([1, 2], [3, 4])"],
    ["channel = 'ponce", "Expression `\\'ponce` is missing the following closing delimiter: `'`.\n11:17 channel = 'ponce"],
    ['channel = "ponce', 'Expression `\\"ponce` is missing the following closing delimiter: `"`.\n11:17 channel = "ponce'],
    ['channel = mv OR (followers >= 1000', 'Expression `(followers >= 1000` is missing the following closing delimiter: `)`.\n17:35 channel = mv OR (followers >= 1000'],
    ['channel = mv OR followers >= 1000)', 'Found unexpected characters at the end of the filter: `)`. You probably forgot an `OR` or an `AND` rule.\n34:35 channel = mv OR followers >= 1000)'],
    ['colour NOT EXIST', `${OPS} at \`colour NOT EXIST\`.\n1:17 colour NOT EXIST`],
    ['subscribers 100 TO1000', `${OPS} at \`subscribers 100 TO1000\`.\n1:23 subscribers 100 TO1000`],
    ["channel = ponce ORdog != 'bernese mountain'", "Found unexpected characters at the end of the filter: `ORdog != \\'bernese mountain\\'`. You probably forgot an `OR` or an `AND` rule.\n17:44 channel = ponce ORdog != 'bernese mountain'"],
    ['colour IN blue, green]', 'Expected `[` after `IN` keyword.\n11:23 colour IN blue, green]'],
    ["colour IN [blue, green, 'blue' > 2]", "Expected only comma-separated field names inside `IN[..]` but instead found `> 2]`.\n32:36 colour IN [blue, green, 'blue' > 2]"],
    ['colour IN [blue, green, AND]', 'Expected only comma-separated field names inside `IN[..]` but instead found `AND]`.\n25:29 colour IN [blue, green, AND]'],
    ['colour IN [blue, green', 'Expected matching `]` after the list of field names given to `IN[`\n23:23 colour IN [blue, green'],
    ["colour IN ['blue, green", "Expression `\\'blue, green` is missing the following closing delimiter: `'`.\n12:24 colour IN ['blue, green"],
    ['x = EXISTS', 'Was expecting a value but instead got `EXISTS`, which is a reserved keyword. To use `EXISTS` as a field name or a value, surround it by quotes.\n5:11 x = EXISTS'],
    ['AND = 8', 'Was expecting a value but instead got `AND`, which is a reserved keyword. To use `AND` as a field name or a value, surround it by quotes.\n1:4 AND = 8'],
    ['NOT OR EXISTS AND EXISTS NOT EXISTS', 'Was expecting a value but instead got `OR`, which is a reserved keyword. To use `OR` as a field name or a value, surround it by quotes.\n5:7 NOT OR EXISTS AND EXISTS NOT EXISTS'],
    ['value NULL', `${OPS} at \`value NULL\`.\n1:11 value NULL`],
    ['value NOT NULL', `${OPS} at \`value NOT NULL\`.\n1:15 value NOT NULL`],
    ['value EMPTY', `${OPS} at \`value EMPTY\`.\n1:12 value EMPTY`],
    ['value IS', `${OPS} at \`value IS\`.\n1:9 value IS`],
    ['value IS NOT', `${OPS} at \`value IS NOT\`.\n1:13 value IS NOT`],
    ['value IS EXISTS', `${OPS} at \`value IS EXISTS\`.\n1:16 value IS EXISTS`],
    ['x = 1 AND', `${OPS} but instead got nothing.\n10:10 x = 1 AND`],
    ['NOT', `${OPS} but instead got nothing.\n4:4 NOT`],
    ["x = 'a\\", 'Malformed value: `a\\\\`.\n6:8 x = \'a\\'],
    ['x = (', 'Was expecting a value but instead got nothing.\n5:5 x = ('],
    // Geo functions take no whitespace after their closing parenthesis (only before AND/OR).
    ['_geoRadius(1, 2, 3) ', 'Found unexpected characters at the end of the filter: ` `. You probably forgot an `OR` or an `AND` rule.\n20:21 _geoRadius(1, 2, 3) '],
    ['x STARTS WITH', 'Was expecting a value but instead got nothing.\n14:14 x STARTS WITH'],
    ['x CONTAINS AND', 'Was expecting a value but instead got `AND`, which is a reserved keyword. To use `AND` as a field name or a value, surround it by quotes.\n12:15 x CONTAINS AND'],
    // `TO` needs whitespace after it, so a trailing `TO` is no range at all.
    ['x 1 TO', `${OPS} at \`x 1 TO\`.\n1:7 x 1 TO`],
    // Columns count characters on the line holding the error; the filter line is printed raw.
    ['a = 1 AND\nb = \n', 'Was expecting a value but instead got nothing.\n1:1 a = 1 AND\nb = \n'],
    ['a = 1 AND\nb', `${OPS} at \`b\`.\n1:2 a = 1 AND\nb`],
    ['x = "a\nb', 'Expression `\\"a\\nb` is missing the following closing delimiter: `"`.\n5:9 x = "a\nb'],
  ];
  for (const [input, message] of cases) {
    it(JSON.stringify(input), () => assert.equal(err(input), message));
  }
});

describe('parseFilter: depth limit', () => {
  const DEPTH =
    'The filter exceeded the maximum depth limit. Try rewriting the filter so that it contains fewer nested conditions.';

  it('accepts 36 nested parentheses and rejects 37', () => {
    const ok = `${'('.repeat(36)}x = 1${')'.repeat(36)}`;
    assert.deepEqual(p(ok), cmp('x', '=', '1'));
    const bad = `${'('.repeat(37)}x = 1${')'.repeat(37)}`;
    assert.equal(err(bad), `${DEPTH}\n38:80 ${bad}`);
  });

  it('accepts 147 NOTs and rejects 148', () => {
    const ok = `${'NOT '.repeat(147)}x = 1`;
    assert.deepEqual(p(ok), not(cmp('x', '=', '1')));
    const bad = `${'NOT '.repeat(148)}x = 1`;
    assert.equal(err(bad), `${DEPTH}\n593:598 ${bad}`);
  });
});
