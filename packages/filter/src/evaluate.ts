import type { FilterNode, Token } from './ast.js';
import { fieldReader, leafMatcher, normalizeFacet } from './document.js';
import { geojsonShapes, haversineMeters, shapesIntersectPolygon, shapesWithinRadius, type LatLng, type Shapes } from './geo.js';
import { parseFiniteFloat } from './text.js';

/** A compiled filter: true when the document matches. */
export type DocumentPredicate = (doc: unknown) => boolean;

/**
 * Compile a filter into a predicate over plain JSON documents, with Meilisearch's semantics:
 * - strings compare after normalization (trim, NFKD, lowercase), so `=` ignores case; booleans are
 *   the strings `true`/`false`;
 * - `=` matches a string equal to the normalized literal, or a number equal to the literal when it
 *   parses as a finite float (`id = 1` matches `1` and `"1"`); `IN` is an OR of `=`;
 * - `>`, `>=`, `<`, `<=` and `TO` (inclusive) match numbers numerically when the literal is a
 *   number, and strings lexicographically on their normalized form;
 * - array fields match when any element does; nested objects are reached by dot paths;
 * - `!=` and `NOT` are complements, so documents lacking the field match them;
 * - `EXISTS`: the field is present, even if null; `IS NULL`; `IS EMPTY`: `""`, `[]` or `{}`;
 * - `CONTAINS` / `STARTS WITH`: substring / prefix of a normalized string.
 *
 * Literals are normalized once here, not per document.
 */
export function compileFilter(node: FilterNode): DocumentPredicate {
  switch (node.type) {
    case 'comparison': {
      const some = leafMatcher(node.attribute.value);
      if (node.op === '=' || node.op === '!=') {
        const eq = equalityLeaf([node.value]);
        return node.op === '=' ? (doc) => some(doc, eq) : (doc) => !some(doc, eq);
      }
      const leaf = rangeLeaf(node.op, node.value, node.value);
      return (doc) => some(doc, leaf);
    }
    case 'range': {
      const some = leafMatcher(node.attribute.value);
      const leaf = rangeLeaf('TO', node.from, node.to);
      return (doc) => some(doc, leaf);
    }
    case 'in': {
      const some = leafMatcher(node.attribute.value);
      const eq = equalityLeaf(node.values);
      return (doc) => some(doc, eq);
    }
    case 'exists': {
      const read = fieldReader(node.attribute.value);
      return (doc) => read(doc).length > 0;
    }
    case 'isNull': {
      const some = leafMatcher(node.attribute.value);
      const isNull = (v: unknown): boolean => v === null;
      return (doc) => some(doc, isNull);
    }
    case 'isEmpty': {
      const read = fieldReader(node.attribute.value);
      return (doc) => read(doc).some(isEmptyValue);
    }
    case 'contains': {
      const some = leafMatcher(node.attribute.value);
      const needle = normalizeFacet(node.value.value);
      const test = stringTest((s) => s.includes(needle));
      const leaf = (v: unknown): boolean => test(v) === true;
      return (doc) => some(doc, leaf);
    }
    case 'startsWith': {
      const prefix = normalizeFacet(node.value.value);
      if (prefix === '') {
        const read = fieldReader(node.attribute.value);
        return (doc) => read(doc).length > 0;
      }
      const some = leafMatcher(node.attribute.value);
      const test = stringTest((s) => s.startsWith(prefix));
      const leaf = (v: unknown): boolean => test(v) === true;
      return (doc) => some(doc, leaf);
    }
    case 'not': {
      const child = compileFilter(node.child);
      return (doc) => !child(doc);
    }
    case 'and': {
      const children = node.children.map(compileFilter);
      return (doc) => {
        for (const c of children) if (!c(doc)) return false;
        return true;
      };
    }
    case 'or': {
      const children = node.children.map(compileFilter);
      return (doc) => {
        for (const c of children) if (c(doc)) return true;
        return false;
      };
    }
    case 'geoRadius': {
      const lat = Number(node.lat.value);
      const lng = Number(node.lng.value);
      const radius = Number(node.radius.value);
      return (doc) => {
        const p = geoPoint(doc);
        if (p !== null && haversineMeters(lat, lng, p[0], p[1]) <= radius + Number.EPSILON) return true;
        const shapes = geojsonOf(doc);
        return shapes !== null && shapesWithinRadius(shapes, [lat, lng], radius);
      };
    }
    case 'geoBoundingBox': {
      const top = Number(node.topRight[0].value);
      const right = Number(node.topRight[1].value);
      const bottom = Number(node.bottomLeft[0].value);
      const left = Number(node.bottomLeft[1].value);
      // `_geojson` shapes are tested against the box as a polygon, as milli does (no wrapping).
      const box: LatLng[] = [[top, right], [top, left], [bottom, left], [bottom, right]];
      return (doc) => {
        const p = geoPoint(doc);
        if (p !== null && p[0] >= bottom && p[0] <= top) {
          // A box whose right edge is west of its left edge wraps around the antimeridian.
          if (right < left ? p[1] >= left || p[1] <= right : p[1] >= left && p[1] <= right) return true;
        }
        const shapes = geojsonOf(doc);
        return shapes !== null && shapesIntersectPolygon(shapes, box);
      };
    }
    case 'geoPolygon': {
      // Only `_geojson` shapes: milli answers `_geoPolygon` from its GeoJSON index alone.
      const ring = node.points.map(([a, b]) => [Number(a.value), Number(b.value)] as const);
      return (doc) => {
        const shapes = geojsonOf(doc);
        return shapes !== null && shapesIntersectPolygon(shapes, ring);
      };
    }
  }
}

/** The document's `_geojson` shapes (parsed once per document object). */
const shapesOf = new WeakMap<object, Shapes | null>();
function geojsonOf(doc: unknown): Shapes | null {
  if (typeof doc !== 'object' || doc === null) return null;
  const raw = (doc as Record<string, unknown>)._geojson;
  if (raw === undefined) return null;
  let s = shapesOf.get(doc);
  if (s === undefined) {
    s = geojsonShapes(raw);
    shapesOf.set(doc, s);
  }
  return s;
}

const compiled = new WeakMap<FilterNode, DocumentPredicate>();

/** Does `doc` match the filter? Compiles `node` on first use and caches the result. */
export function evaluateFilter(node: FilterNode | null, doc: unknown): boolean {
  if (node === null) return true;
  let fn = compiled.get(node);
  if (!fn) {
    fn = compileFilter(node);
    compiled.set(node, fn);
  }
  return fn(doc);
}

const STRING_CACHE_LIMIT = 4096;

/**
 * A test on normalized facet strings, memoized per raw string: facet fields repeat their values
 * across documents, and normalizing (NFKD) is the dominant cost of evaluating a filter. The memo
 * is bounded; it is dropped when full.
 */
function stringTest(test: (normalized: string) => boolean): (v: unknown) => boolean | null {
  let memo: Map<string, boolean> | null = new Map();
  let hits = 0;
  return (v) => {
    if (typeof v === 'boolean') return test(v ? 'true' : 'false');
    if (typeof v !== 'string') return null;
    if (memo === null) return test(normalizeFacet(v));
    let r = memo.get(v);
    if (r !== undefined) {
      hits++;
      return r;
    }
    r = test(normalizeFacet(v));
    if (memo.size >= STRING_CACHE_LIMIT) {
      // Mostly distinct values (titles, ids): memoizing costs more than it saves.
      memo = hits < memo.size ? null : new Map();
      hits = 0;
    }
    memo?.set(v, r);
    return r;
  };
}

function equalityLeaf(literals: readonly Token[]): (v: unknown) => boolean {
  const strings = new Set<string>();
  const numbers = new Set<number>();
  for (const t of literals) {
    strings.add(normalizeFacet(t.value));
    const n = parseFiniteFloat(t.value);
    if (n !== null) numbers.add(n);
  }
  const str = stringTest((s) => strings.has(s));
  return (v) => (typeof v === 'number' ? numbers.has(v) : str(v) === true);
}

type RangeOp = '>' | '>=' | '<' | '<=' | 'TO';

function rangeLeaf(op: RangeOp, from: Token, to: Token): (v: unknown) => boolean {
  const loNum = parseFiniteFloat(from.value);
  const hiNum = parseFiniteFloat(to.value);
  const lo = normalizeFacet(from.value);
  const hi = normalizeFacet(to.value);
  let num: ((n: number) => boolean) | null;
  let str: (s: string) => boolean;
  switch (op) {
    case '>':
      num = loNum === null ? null : (n) => n > loNum;
      str = (s) => s > lo;
      break;
    case '>=':
      num = loNum === null ? null : (n) => n >= loNum;
      str = (s) => s >= lo;
      break;
    case '<':
      num = hiNum === null ? null : (n) => n < hiNum;
      str = (s) => s < hi;
      break;
    case '<=':
      num = hiNum === null ? null : (n) => n <= hiNum;
      str = (s) => s <= hi;
      break;
    case 'TO':
      num = loNum === null || hiNum === null ? null : (n) => n >= loNum && n <= hiNum;
      str = (s) => s >= lo && s <= hi;
      break;
  }
  const numeric = num;
  const strTest = stringTest(str);
  return (v) => (typeof v === 'number' ? numeric !== null && numeric(v) : strTest(v) === true);
}

function isEmptyValue(v: unknown): boolean {
  if (v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

/** The document's `_geo` point as `[lat, lng]`, numbers or numeric strings; null when absent. */
function geoPoint(doc: unknown): [number, number] | null {
  if (typeof doc !== 'object' || doc === null) return null;
  const geo = (doc as Record<string, unknown>)._geo;
  if (typeof geo !== 'object' || geo === null) return null;
  const lat = coordinate((geo as Record<string, unknown>).lat);
  const lng = coordinate((geo as Record<string, unknown>).lng);
  return lat === null || lng === null ? null : [lat, lng];
}

function coordinate(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return parseFiniteFloat(v.trim());
  return null;
}

