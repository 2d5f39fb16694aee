/**
 * The identity of a read for query coalescing and the result cache (spec S13.10, S13.10.1): two
 * reads with the same key get the same answer from the same cluster state, so one may be served
 * with the other's. Pure: the caller gathers the parts (docs/guarantees.md#coalesced-and-cached-reads).
 */

/** The read routes whose answers may be shared. */
export const ReadRoute = { search: 'search', facetSearch: 'facet-search' } as const;
export type ReadRoute = (typeof ReadRoute)[keyof typeof ReadRoute];

/** Everything an answer depends on besides the documents the nodes hold. */
export interface ReadKeyParts {
  /** Which route answers: a search and a facet search never share. */
  route: ReadRoute;
  /** The index uid. */
  index: string;
  /**
   * When the index was created: an index deleted and created again under the same uid starts a
   * new settings history, so its versions must not meet the old index's entries.
   */
  indexCreatedAt: string;
  /** The index's committed settings version (-1 when Miroir holds no metadata for it). */
  settingsVersion: number;
  /**
   * The index's content generation (catalog.ts): it moves when a task on the index finished, here
   * or on another orchestrator, so an answer from before a write is never given once the write's
   * task can be seen finished (as on one node).
   */
  generation: number;
  /**
   * The caller's credential, as an opaque digest: an API key or a tenant token (whose search rules
   * narrow what it sees). Empty when the API is open.
   */
  credential: string;
  /** The filter the caller's tenant token adds for this index (null: none). */
  tenantFilter: unknown;
  /** `Meili-Include-Metadata`: the answer carries a `metadata` object. */
  metadata: boolean;
  /** `X-Miroir-Min-Settings-Version` as sent (already validated), or undefined. */
  minSettingsVersion: string | undefined;
  /** The query as parsed (POST body or GET parameters): what the merge and the nodes are given. */
  query: unknown;
}

/**
 * JSON with object keys sorted at every depth and no whitespace, so key order and formatting do not
 * matter. Members whose value is undefined are left out, as `JSON.stringify` leaves them out of
 * what the nodes receive; array members keep their order (it is meaningful: `sort`, `facets`…).
 */
export function canonicalQueryJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalQueryJson(v);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function') continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${canonicalQueryJson(v)}`;
  }
  return `${out}}`;
}

/**
 * The key: one string, the parts in a fixed order. Strings are JSON-quoted, so no part can run into
 * the next one.
 */
export function readKey(p: ReadKeyParts): string {
  return (
    `${p.route}\n${JSON.stringify(p.index)}\n${JSON.stringify(p.indexCreatedAt)}\n${p.settingsVersion}\n${p.generation}\n` +
    `${JSON.stringify(p.credential)}\n${p.tenantFilter === null || p.tenantFilter === undefined ? '' : canonicalQueryJson(p.tenantFilter)}\n` +
    `${p.metadata ? 1 : 0}\n${p.minSettingsVersion ?? ''}\n${canonicalQueryJson(p.query)}`
  );
}
