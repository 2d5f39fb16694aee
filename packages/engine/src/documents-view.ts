/**
 * How a stored document is shown by the documents routes: restricted to `displayedAttributes`,
 * then to the requested `fields`, with `_vectors` only when `retrieveVectors` is set.
 */
import type { Document } from './ports.js';

function matches(pattern: string, path: string): boolean {
  if (pattern === '*' || pattern === path) return true;
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1));
  // Selecting `a` selects everything below it.
  return path.startsWith(`${pattern}.`);
}

/**
 * Keeps the fields of `obj` selected by `patterns` (names, dotted paths into nested objects,
 * `*`, `prefix*`), in the document's own field order.
 */
export function selectFields(obj: Record<string, unknown>, patterns: readonly string[], prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    if (patterns.some((p) => matches(p, path))) {
      out[k] = v;
    } else if (typeof v === 'object' && v !== null && !Array.isArray(v) && patterns.some((p) => p.startsWith(`${path}.`))) {
      const sub = selectFields(v as Record<string, unknown>, patterns, path);
      if (Object.keys(sub).length > 0) out[k] = sub;
    }
  }
  return out;
}

/**
 * `_vectors` as Meilisearch shows it: per embedder `{embeddings: [[…]], regenerate}`, every
 * configured embedder listed (with no embeddings when the document has none for it).
 */
export function vectorsView(raw: unknown, embedders: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of embedders) out[name] = { embeddings: [], regenerate: false };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return out;
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(v)) {
      const embeddings = v.length > 0 && Array.isArray(v[0]) ? v : v.length === 0 ? [] : [v];
      out[name] = { embeddings, regenerate: false };
    } else if (typeof v === 'object' && v !== null) {
      const o = v as { embeddings?: unknown; regenerate?: unknown };
      const e = o.embeddings;
      const embeddings = Array.isArray(e) ? (e.length > 0 && !Array.isArray(e[0]) ? [e] : e) : [];
      out[name] = { embeddings, regenerate: o.regenerate === true };
    }
  }
  return out;
}

/** The document as a documents route returns it. */
export function projectDocument(
  doc: Document,
  displayed: readonly string[],
  fields: readonly string[] | null,
  retrieveVectors: boolean,
  embedders: readonly string[] = [],
): Document {
  const { _vectors: vectors, ...rest } = doc;
  let out: Document = displayed.includes('*') ? rest : selectFields(rest, displayed);
  if (fields !== null && !fields.includes('*')) out = selectFields(out, fields);
  if (retrieveVectors) out._vectors = vectorsView(vectors, embedders);
  return out;
}

/**
 * Search hits as the search routes return them: `_vectors` only with `retrieveVectors` (in
 * Meilisearch's per-embedder shape), never inside `_formatted`.
 */
export function presentHits(hits: Record<string, unknown>[], retrieveVectors: boolean, embedders: readonly string[] = []): void {
  for (const hit of hits) {
    if (retrieveVectors) hit._vectors = vectorsView(hit._vectors, embedders);
    else delete hit._vectors;
    const f = hit._formatted;
    if (typeof f === 'object' && f !== null) delete (f as Record<string, unknown>)._vectors;
  }
}
