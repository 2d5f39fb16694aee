/**
 * How a document's field looks to the filter engine: Meilisearch flattens nested objects into dot
 * paths (`{"a": {"b": 1}}` has `a.b`, and so does `{"a.b": 1}`; arrays of objects contribute every
 * element) and normalizes facet strings (trim, NFKD, lowercase).
 */

/** Meilisearch's facet string normalization: trim, NFKD compatibility decomposition, lowercase. */
export function normalizeFacet(s: string): string {
  // ASCII text is its own NFKD form; skipping `normalize` there is the common, fast case.
  return ASCII.test(s) ? s.trim().toLowerCase() : s.trim().normalize('NFKD').toLowerCase();
}
const ASCII = /^[\x00-\x7f]*$/;

/** Every value the dot path `path` reaches in `doc`, arrays of objects included. */
export type FieldReader = (doc: unknown) => unknown[];

/**
 * A reader for one attribute. Built once per filter so the split points of the path are computed
 * once, not per document.
 */
export function fieldReader(path: string): FieldReader {
  const dots: number[] = [];
  for (let i = path.indexOf('.'); i !== -1; i = path.indexOf('.', i + 1)) dots.push(i);
  if (dots.length === 0) {
    return (doc) => {
      if (typeof doc !== 'object' || doc === null) return [];
      return Object.hasOwn(doc, path) ? [(doc as Record<string, unknown>)[path]] : [];
    };
  }
  return (doc) => {
    const out: unknown[] = [];
    collect(doc, path, out);
    return out;
  };
}

function collect(value: unknown, path: string, out: unknown[]): void {
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v === 'object' && v !== null) collect(v, path, out);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const obj = value as Record<string, unknown>;
  if (Object.hasOwn(obj, path)) out.push(obj[path]);
  for (let i = path.indexOf('.'); i !== -1; i = path.indexOf('.', i + 1)) {
    const key = path.slice(0, i);
    if (Object.hasOwn(obj, key)) collect(obj[key], path.slice(i + 1), out);
  }
}

/**
 * Calls `visit` on every scalar facet value under `values` (arrays flattened at any depth);
 * stops and returns true as soon as `visit` does.
 */
export function someLeaf(values: readonly unknown[], visit: (v: unknown) => boolean): boolean {
  for (const v of values) {
    if (Array.isArray(v)) {
      if (someLeaf(v, visit)) return true;
    } else if (visit(v)) {
      return true;
    }
  }
  return false;
}

/** Does any scalar under the attribute satisfy `leaf`? (arrays flattened, as {@link someLeaf}). */
export type LeafMatcher = (doc: unknown, leaf: (v: unknown) => boolean) => boolean;

/** {@link fieldReader} fused with {@link someLeaf}, without allocating for plain top-level fields. */
export function leafMatcher(path: string): LeafMatcher {
  if (path.includes('.')) return dottedLeafMatcher(path);
  return (doc, leaf) => {
    if (typeof doc !== 'object' || doc === null) return false;
    const v = (doc as Record<string, unknown>)[path];
    if (v === undefined) return false;
    return Array.isArray(v) ? someLeaf(v, leaf) : leaf(v);
  };
}

/**
 * Walks the document along the path's segments without collecting: at each object, every split of
 * the remaining path is tried (`a.b.c` may be `a` → `b.c`, `a.b` → `c`, or the key `a.b.c`).
 */
function dottedLeafMatcher(path: string): LeafMatcher {
  const segs = path.split('.');
  const n = segs.length;
  const keys: string[][] = segs.map((_, i) => segs.map((__, j) => (j < i ? '' : segs.slice(i, j + 1).join('.'))));
  const walk = (obj: Record<string, unknown>, i: number, leaf: (v: unknown) => boolean): boolean => {
    for (let j = i; j < n; j++) {
      const child = obj[keys[i][j]];
      if (child === undefined) continue;
      if (j === n - 1) {
        if (Array.isArray(child) ? someLeaf(child, leaf) : leaf(child)) return true;
      } else if (typeof child === 'object' && child !== null) {
        if (Array.isArray(child) ? someObject(child, j + 1, leaf) : walk(child as Record<string, unknown>, j + 1, leaf)) {
          return true;
        }
      }
    }
    return false;
  };
  const someObject = (arr: readonly unknown[], i: number, leaf: (v: unknown) => boolean): boolean => {
    for (const el of arr) {
      if (typeof el !== 'object' || el === null) continue;
      if (Array.isArray(el) ? someObject(el, i, leaf) : walk(el as Record<string, unknown>, i, leaf)) return true;
    }
    return false;
  };
  return (doc, leaf) => typeof doc === 'object' && doc !== null && !Array.isArray(doc) && walk(doc as Record<string, unknown>, 0, leaf);
}
