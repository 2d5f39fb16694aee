import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { FilterableRule } from '../src/index.js';
import {
  CONTAINS_FILTER_DISABLED_MESSAGE,
  usesContains,
  checkFilterable,
  FilterError,
  filterAttributes,
  isAttributeFilterable,
  matchingRule,
  matchPattern,
  parseFilter,
} from '../src/index.js';

function check(filter: string, rules: FilterableRule[], fieldExists?: (a: string) => boolean): string | null {
  try {
    checkFilterable(parseFilter(filter)!, rules, fieldExists ? { fieldExists } : {});
    return null;
  } catch (e) {
    assert.ok(e instanceof FilterError);
    return e.message;
  }
}

describe('filterable patterns', () => {
  const cases: [string, string, string][] = [
    ['*', 'anything.at.all', 'match'],
    ['genre', 'genre', 'match'],
    ['genre', 'genres', 'noMatch'],
    ['meta.*', 'meta.year', 'match'],
    ['meta.*', 'meta', 'parent'],
    ['meta.year', 'meta', 'parent'],
    ['*_id', 'author_id', 'match'],
    ['*_id', 'author', 'noMatch'],
    ['title*', 'title_fr', 'match'],
    ['*ti*', 'latitude', 'match'],
  ];
  for (const [pattern, field, expected] of cases) {
    it(`${pattern} vs ${field}`, () => assert.equal(matchPattern(pattern, field), expected));
  }

  it('legacy string rules cover nested fields', () => {
    assert.equal(isAttributeFilterable('meta.year', ['meta']), true);
    assert.equal(isAttributeFilterable('meta', ['meta.year']), false);
    assert.equal(isAttributeFilterable('metadata', ['meta']), false);
  });

  it('the first matching rule decides, filterable or not', () => {
    const rules: FilterableRule[] = [
      { attributePatterns: ['price'], features: { filter: { equality: false, comparison: false } } },
      'price',
    ];
    assert.deepEqual(matchingRule('price', rules), { index: 0, features: { equality: false, comparison: false } });
    assert.equal(isAttributeFilterable('price', rules), false);
  });

  it('object rules default to equality without comparison', () => {
    assert.deepEqual(matchingRule('a', [{ attributePatterns: ['a'] }]), {
      index: 0,
      features: { equality: true, comparison: false },
    });
  });
});

describe('filterAttributes', () => {
  it('lists uses in filter order with their operator class', () => {
    const uses = filterAttributes(
      parseFilter('a = 1 AND (b > 2 OR NOT c IN [x]) AND d 1 TO 2 AND e EXISTS AND _geoRadius(1, 2, 3)')!,
    );
    assert.deepEqual(
      uses.map((u) => [u.attribute, u.operator, u.operatorClass]),
      [
        ['a', '=', 'equality'],
        ['b', '>', 'comparison'],
        ['c', 'IN', 'equality'],
        ['d', 'TO', 'comparison'],
        ['e', 'EXISTS', 'other'],
        ['_geo', '_geoRadius', 'other'],
      ],
    );
  });
});

describe('checkFilterable', () => {
  it('accepts filterable attributes', () => {
    assert.equal(check('title = x AND meta.year > 3', ['title', 'meta']), null);
    assert.equal(check('anything = 1', [{ attributePatterns: ['*'] }]), null);
  });

  it('rejects a non-filterable attribute with the span of its token', () => {
    assert.equal(
      check('"many" = "Glass"', ['title']),
      'Attribute `many` is not filterable. Available filterable attribute patterns are: `title`.\n2:6 "many" = "Glass"',
    );
    assert.equal(
      check('title = x AND genre = y', []),
      'Attribute `title` is not filterable. This index does not have configured filterable attributes.\n1:6 title = x AND genre = y',
    );
  });

  it('lists only filterable patterns, sorted and deduplicated', () => {
    const rules: FilterableRule[] = [
      'zeta',
      { attributePatterns: ['b*', 'alpha'] },
      { attributePatterns: ['hidden'], features: { filter: { equality: false, comparison: false } } },
      'alpha',
    ];
    assert.equal(
      check('x = 1', rules),
      'Attribute `x` is not filterable. Available filterable attribute patterns are: `alpha`, `b*`, `zeta`.\n1:2 x = 1',
    );
  });

  it('checks filterability of every attribute before any operator', () => {
    const rules: FilterableRule[] = [{ attributePatterns: ['a'] }];
    assert.equal(
      check('a > 1 AND b = 2', rules),
      'Attribute `b` is not filterable. Available filterable attribute patterns are: `a`.\n11:12 a > 1 AND b = 2',
    );
  });

  const COMPARISON_OFF: FilterableRule[] = ['title', { attributePatterns: ['price'], features: { filter: { equality: true } } }];
  it('rejects an operator disabled by a granular rule', () => {
    assert.equal(
      check('price > 10', COMPARISON_OFF),
      'Filter operator `>` is not allowed for the attribute `price`.\n' +
        '  - Note: allowed operators: OR, AND, NOT, =, !=, IN, IS EMPTY, IS NULL, EXISTS.\n' +
        '  - Note: field `price` matched rule #1 in `filterableAttributes`\n' +
        '  - Hint: enable comparison in rule #1 by modifying the features.filter object\n' +
        '  - Hint: prepend another rule matching `price` with appropriate filter features before rule #1',
    );
    assert.match(check('price 1 TO 2', COMPARISON_OFF)!, /^Filter operator `TO` is not allowed/);
    assert.equal(check('price = 10 AND price IN [1] AND price EXISTS AND price CONTAINS 1', COMPARISON_OFF), null);
  });

  it('reports IN as `=` when equality is off', () => {
    const rules: FilterableRule[] = [{ attributePatterns: ['n'], features: { filter: { equality: false, comparison: true } } }];
    assert.equal(
      check('n IN [1, 2]', rules),
      'Filter operator `=` is not allowed for the attribute `n`.\n' +
        '  - Note: allowed operators: OR, AND, NOT, <, >, <=, >=, TO, IS EMPTY, IS NULL, EXISTS.\n' +
        '  - Note: field `n` matched rule #0 in `filterableAttributes`\n' +
        '  - Hint: enable equality in rule #0 by modifying the features.filter object\n' +
        '  - Hint: prepend another rule matching `n` with appropriate filter features before rule #0',
    );
    assert.equal(check('n IN []', rules), null);
  });

  it('skips operator checks for fields the index has never seen', () => {
    assert.equal(check('price > 10', COMPARISON_OFF, (a) => a !== 'price'), null);
  });

  it('geo functions need _geo or _geojson filterable; _geoPolygon needs _geojson (milli filter tests.rs, index_filter.rs)', () => {
    assert.equal(
      check('_geoRadius(45.4, 9.1, 2000)', ['title']),
      'Attribute `_geo/_geojson` is not filterable. Available filterable attribute patterns are: `title`.\n12:16 _geoRadius(45.4, 9.1, 2000)',
    );
    assert.equal(check('_geoRadius(45.4, 9.1, 2000)', ['_geo']), null);
    assert.equal(check('_geoRadius(45.4, 9.1, 2000)', ['_geojson']), null);
    assert.equal(check('_geoBoundingBox([1, 2], [0, 1])', ['_geojson']), null);
    assert.equal(
      check('_geoPolygon([0, 0], [0, 2], [2, 2], [2, 0])', ['_geo']),
      'Attribute `_geojson` is not filterable. Available filterable attribute patterns are: `_geo`.\n14:15 _geoPolygon([0, 0], [0, 2], [2, 2], [2, 0])',
    );
    assert.equal(check('_geoPolygon([0, 0], [0, 2], [2, 2], [2, 0])', ['_geojson']), null);
  });

  const geoErrors: [string, string][] = [
    ['_geoRadius(-100, 150, 10)', 'Bad latitude `-100`. Latitude must be contained between -90 and 90 degrees.\n12:16 _geoRadius(-100, 150, 10)'],
    ['_geoRadius(-90.0000001, 150, 10)', 'Bad latitude `-90.0000001`. Latitude must be contained between -90 and 90 degrees.\n12:23 _geoRadius(-90.0000001, 150, 10)'],
    ['_geoRadius(-10, 250, 10)', 'Bad longitude `250`. Longitude must be contained between -180 and 180 degrees. Hint: try using `-110` instead.\n17:20 _geoRadius(-10, 250, 10)'],
    ['_geoRadius(-10, 180.000001, 10)', 'Bad longitude `180.000001`. Longitude must be contained between -180 and 180 degrees. Hint: try using `-179.999999` instead.\n17:27 _geoRadius(-10, 180.000001, 10)'],
    ['_geoRadius(1, 2, 3, 2)', 'Invalid resolution `2`. Resolution must be between 3 and 1000.\n21:22 _geoRadius(1, 2, 3, 2)'],
    ['_geoBoundingBox([-90.0000001, 150], [51.11, 1.1])', 'Bad latitude `-90.0000001`. Latitude must be contained between -90 and 90 degrees.\n18:29 _geoBoundingBox([-90.0000001, 150], [51.11, 1.1])'],
    ['_geoBoundingBox([30, 10], [50, 1])', 'The top latitude `30` is below the bottom latitude `50`.\n32:33 _geoBoundingBox([30, 10], [50, 1])'],
    ['_geoPolygon([1, 2], [3, 4], [5, 190])', 'Bad longitude `190`. Longitude must be contained between -180 and 180 degrees. Hint: try using `-170` instead.\n33:36 _geoPolygon([1, 2], [3, 4], [5, 190])'],
    ['_geoRadius(1, 2, 1e999)', 'Non finite floats are not supported\n18:23 _geoRadius(1, 2, 1e999)'],
  ];
  for (const [filter, message] of geoErrors) {
    it(filter, () => assert.equal(check(filter, ['_geo', '_geojson']), message));
  }
});

describe('usesContains', () => {
  it('finds CONTAINS anywhere, not STARTS WITH', () => {
    assert.equal(usesContains(parseFilter('a = 1 AND (b = 2 OR NOT c CONTAINS x)')!), true);
    assert.equal(usesContains(parseFilter('c NOT CONTAINS x')!), true);
    assert.equal(usesContains(parseFilter('c STARTS WITH x OR d = 1')!), false);
    assert.match(CONTAINS_FILTER_DISABLED_MESSAGE, /^Using `CONTAINS` in a filter requires enabling the `contains filter` experimental feature\./);
  });
});
