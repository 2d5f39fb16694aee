/**
 * Document field helpers: flattening to dotted leaf paths, attribute-pattern matching as
 * Meilisearch does it for searchable/filterable/displayed lists.
 */

export type Document = Record<string, unknown>;

/** Calls `fn(path, value)` for every leaf (string, number, boolean, null) in document order. */
export function forEachLeaf(doc: Document, fn: (path: string, value: unknown, arrayIndex: number) => void): void {
  const walk = (v: unknown, path: string, idx: number): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, path, i));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, path === '' ? k : `${path}.${k}`, -1);
    } else {
      fn(path, v, idx);
    }
  };
  for (const [k, v] of Object.entries(doc)) walk(v, k, -1);
}

/**
 * Meilisearch attribute patterns: `*` alone, a leading and/or trailing `*`, or an exact name.
 * An exact name also covers its nested fields (`a` covers `a.b`).
 */
export function matchesPattern(pattern: string, field: string): boolean {
  if (pattern === '*') return true;
  if (pattern === field) return true;
  if (field.startsWith(`${pattern}.`)) return true;
  const starStart = pattern.startsWith('*');
  const starEnd = pattern.endsWith('*');
  if (starStart && starEnd && pattern.length >= 2) return field.includes(pattern.slice(1, -1));
  if (starStart) return field.endsWith(pattern.slice(1));
  if (starEnd) return field.startsWith(pattern.slice(0, -1));
  return false;
}

/** Index of the first pattern that matches `field`, or -1. */
export function firstMatch(patterns: readonly string[], field: string): number {
  for (let i = 0; i < patterns.length; i++) if (matchesPattern(patterns[i], field)) return i;
  return -1;
}

/** A document restricted to the fields selected by `keep` (nested structure preserved). */
export function project(doc: Document, keep: (path: string) => boolean, prefix = ''): Document {
  const out: Document = {};
  for (const [k, v] of Object.entries(doc)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    if (keep(path)) {
      out[k] = v;
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const sub = project(v as Document, keep, path);
      if (Object.keys(sub).length > 0) out[k] = sub;
    }
  }
  return out;
}
