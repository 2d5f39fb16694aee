import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { compileFilter, evaluateFilter, normalizeFacet, parseFilter } from '../src/index.js';

const docs: Record<string, unknown>[] = [
  { id: 1, title: 'Le Petit Prince', genre: 'Fable', price: 10, tags: ['kids', 'Classic'], meta: { year: 1943, lang: 'fr' } },
  { id: '2', title: 'Dune', genre: 'sci-fi', price: '20', tags: [], meta: { year: 1965 }, available: true },
  { id: 3, title: '  ÉLAN  ', genre: null, price: 9.5, tags: ['classic', ['nested', 'deep']], available: false },
  { id: 4, title: '', genre: 'fable', price: 100, nested: [{ k: 1 }, { k: 2 }], empty: {} },
  { id: 5, title: 'ﬁve', 'meta.year': 2001 },
];

function ids(filter: unknown): unknown[] {
  const node = parseFilter(filter);
  const fn = node === null ? () => true : compileFilter(node);
  return docs.filter((d) => fn(d)).map((d) => d.id);
}

describe('evaluateFilter semantics', () => {
  const cases: [unknown, unknown[]][] = [
    // `=`: normalized strings (case-insensitive, trimmed, NFKD) or numbers equal to the literal.
    ['genre = fable', [1, 4]],
    ['genre = FABLE', [1, 4]],
    ["title = 'élan'", [3]],
    ['title = five', [5]],
    ['id = 1', [1]],
    ['id = 2', ['2']],
    ['id = 1.0', [1]],
    ['id = "2"', ['2']],
    ['price = 20', ['2']],
    ['price = 9.5', [3]],
    ['available = true', ['2']],
    ['available = FALSE', [3]],
    // `!=` and NOT are complements: documents without the field match.
    ['genre != fable', ['2', 3, 5]],
    ['NOT genre = fable', ['2', 3, 5]],
    ['id NOT IN [1, 2]', [3, 4, 5]],
    // Arrays match when any element does; nested arrays are flattened.
    ['tags = classic', [1, 3]],
    ['tags = deep', [3]],
    ['tags != classic', ['2', 4, 5]],
    ['tags IN [kids, nested]', [1, 3]],
    // Nested objects by dot path, also through arrays of objects and dotted keys.
    ['meta.year = 1943', [1]],
    ['meta.year > 1950', ['2', 5]],
    ['nested.k = 2', [4]],
    ['meta.lang EXISTS', [1]],
    // Ranges: numbers numerically, strings lexicographically on their normalized form.
    ['price > 10', ['2', 4]],
    ['price >= 10', [1, '2', 4]],
    ['price < 10', [3]],
    ['price <= 10', [1, 3]],
    // The string "20" is outside ["9.5", "20"] lexicographically, but inside ["20", "9.5"].
    ['price 9.5 TO 20', [1, 3]],
    ['price 20 TO 9.5', ['2']],
    ['title > m', []],
    ['title >= dune', [1, '2', 3, 5]],
    // NFKD turns "élan" into "e\u0301lan", which sorts after "e".
    ['title a TO e', ['2']],
    ['genre < f', []],
    ['genre < s', [1, 4]],
    ['price > abc', []],
    // EXISTS: present, even null or empty; IS NULL; IS EMPTY: "", [], {}.
    ['genre EXISTS', [1, '2', 3, 4]],
    ['genre NOT EXISTS', [5]],
    ['genre IS NULL', [3]],
    ['genre IS NOT NULL', [1, '2', 4, 5]],
    ['title IS EMPTY', [4]],
    ['tags IS EMPTY', ['2']],
    ['empty IS EMPTY', [4]],
    ['tags IS NOT EMPTY', [1, 3, 4, 5]],
    ['missing IS EMPTY', []],
    ['missing IS NULL', []],
    // CONTAINS / STARTS WITH on normalized strings.
    ['title CONTAINS petit', [1]],
    ['title CONTAINS UN', ['2']],
    ['title NOT CONTAINS e', [4]],
    ['title STARTS WITH le', [1]],
    ['tags STARTS WITH CLA', [1, 3]],
    ["title STARTS WITH ''", [1, '2', 3, 4, 5]],
    ['price CONTAINS 1', []],
    // Connectives.
    ['genre = fable AND price > 50', [4]],
    ['genre = fable OR id = 2', [1, '2', 4]],
    ['NOT (genre = fable OR id = 2)', [3, 5]],
    [['genre = fable', ['price = 10', 'price = 100']], [1, 4]],
    [null, [1, '2', 3, 4, 5]],
  ];
  for (const [filter, expected] of cases) {
    it(JSON.stringify(filter), () => assert.deepEqual(ids(filter), expected));
  }

  it('evaluateFilter caches the compiled predicate and accepts null', () => {
    const node = parseFilter('genre = fable');
    assert.equal(evaluateFilter(node, docs[0]), true);
    assert.equal(evaluateFilter(node, docs[1]), false);
    assert.equal(evaluateFilter(null, docs[1]), true);
  });

  it('normalizes like Meilisearch: trim, NFKD, lowercase', () => {
    assert.equal(normalizeFacet('  Élan  '), 'e\u0301lan');
    assert.equal(normalizeFacet('ﬁ'), 'fi');
    assert.equal(normalizeFacet('ABC'), 'abc');
  });
});

describe('geo evaluation', () => {
  const places = [
    { id: 'paris', _geo: { lat: 48.8566, lng: 2.3522 } },
    { id: 'lyon', _geo: { lat: '45.764', lng: '4.8357' } },
    { id: 'nyc', _geo: { lat: 40.7128, lng: -74.006 } },
    { id: 'fiji', _geo: { lat: -17.7134, lng: 178.065 } },
    { id: 'nowhere' },
  ];
  function geo(filter: string): string[] {
    const fn = compileFilter(parseFilter(filter)!);
    return places.filter(fn).map((p) => p.id);
  }
  it('_geoRadius in meters', () => {
    assert.deepEqual(geo('_geoRadius(48.8566, 2.3522, 10)'), ['paris']);
    // Paris–Lyon is about 392 km.
    assert.deepEqual(geo('_geoRadius(48.8566, 2.3522, 400000)'), ['paris', 'lyon']);
    assert.deepEqual(geo('_geoRadius(48.8566, 2.3522, 380000)'), ['paris']);
    assert.deepEqual(geo('NOT _geoRadius(48.8566, 2.3522, 400000)'), ['nyc', 'fiji', 'nowhere']);
  });
  it('_geoBoundingBox, including across the antimeridian', () => {
    assert.deepEqual(geo('_geoBoundingBox([50, 5], [44, 2])'), ['paris', 'lyon']);
    assert.deepEqual(geo('_geoBoundingBox([0, -170], [-20, 170])'), ['fiji']);
  });
  it('_geoPolygon: `_geojson` shapes only, never `_geo` points (milli index_filter.rs)', () => {
    assert.deepEqual(geo('_geoPolygon([50, 0], [50, 5], [44, 5], [44, 0])'), []);
  });
});

describe('geo evaluation of _geojson shapes (milli index_filter.rs, meilisearch tests/documents/geojson)', () => {
  const shapes = [
    { id: 'point', _geojson: { type: 'Point', coordinates: [1, 1] } },
    { id: 'feature', _geojson: { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [4.23914, 48.382893] }, properties: {} }] } },
    { id: 'square', _geojson: { type: 'Polygon', coordinates: [[[10, 10], [12, 10], [12, 12], [10, 12], [10, 10]]] } },
    { id: 'road', _geojson: { type: 'LineString', coordinates: [[20, 0], [20, 5]] } },
    { id: 'both', _geo: { lat: -30, lng: -30 }, _geojson: { type: 'Point', coordinates: [30, 30] } },
    { id: 'geoOnly', _geo: { lat: 1, lng: 1 } },
  ];
  function geo(filter: string): string[] {
    const fn = compileFilter(parseFilter(filter)!);
    return shapes.filter(fn).map((p) => p.id);
  }
  it('_geoPolygon matches shapes inside or crossing, `_geo` never', () => {
    assert.deepEqual(geo('_geoPolygon([0,0],[0,2],[2,2],[2,0])'), ['point']);
    assert.deepEqual(geo('_geoPolygon([0,0],[0,0.9],[0.9,0.9],[0.9,0])'), []);
    // Overlaps a corner of the square, crosses the road, lies inside the square.
    assert.deepEqual(geo('_geoPolygon([11,11],[11,13],[13,13],[13,11])'), ['square']);
    assert.deepEqual(geo('_geoPolygon([2,19],[2,21],[3,21],[3,19])'), ['road']);
    assert.deepEqual(geo('_geoPolygon([10.5,10.5],[10.5,11],[11,11])'), ['square']);
  });
  it('_geoRadius and _geoBoundingBox match `_geo` points or `_geojson` shapes', () => {
    assert.deepEqual(geo('_geoRadius(48.382893, 4.23914, 10)'), ['feature']);
    assert.deepEqual(geo('_geoRadius(30, 30, 10)'), ['both']);
    assert.deepEqual(geo('_geoRadius(-30, -30, 10)'), ['both']);
    assert.deepEqual(geo('_geoRadius(1, 1, 10)'), ['point', 'geoOnly']);
    // 1° of longitude at the equator is about 111 km: the road is 1° east of (2.5, 19).
    assert.deepEqual(geo('_geoRadius(2.5, 19, 120000)'), ['road']);
    assert.deepEqual(geo('_geoRadius(2.5, 19, 100000)'), []);
    assert.deepEqual(geo('_geoRadius(11, 11, 1)'), ['square']);
    assert.deepEqual(geo('_geoBoundingBox([13, 13], [11.5, 11.5])'), ['square']);
    assert.deepEqual(geo('_geoBoundingBox([2, 2], [0, 0])'), ['point', 'geoOnly']);
  });
});
