/**
 * How a document's field looks to the filter engine: Meilisearch flattens nested objects into dot
 * paths (`{"a": {"b": 1}}` has `a.b`, and so does `{"a.b": 1}`; arrays of objects contribute every
 * element) and normalizes facet strings (trim, NFKD, lowercase).
 */

/** Meilisearch's facet string normalization: trim, NFKD compatibility decomposition, lowercase. */
export function normalizeFacet(s: string): string {
  return s.trim().normalize('NFKD').toLowerCase();
}

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
