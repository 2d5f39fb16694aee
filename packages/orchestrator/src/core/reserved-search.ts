/**
 * Reserved fields are never searched (spec S5.3): the `_miroir_*` fields Miroir stamps on every
 * document (`_miroir_shard`, `_miroir_updated_at`) must not make a document match a query, whatever
 * the index's settings, since one Meilisearch node holding the client's documents has no such field.
 *
 * The mechanism is the `attributesToSearchOn` search parameter, sent to the nodes with every field
 * they would search except the reserved ones. Meilisearch (milli `SearchContext::
 * attributes_to_search_on`) keeps each listed field's weight from the index's weight map — under
 * `searchableAttributes: ["*"]` every field weighs 0 — so the `attribute`/`attributeRank` rule
 * ranks as without the parameter; and under `["*"]` it ignores names the index has not seen, so
 * the list may be the union over every node. A node-side explicit `searchableAttributes` list could
 * not do this: it weighs fields by their position in the list, which changes the ranking of every
 * query that `["*"]` ranks as ties between fields. One rule escapes the parameter on Meilisearch
 * nodes: `wordPosition` reads positions from a table keyed by word and position only
 * (`word_position_docids`), so a query word matching a reserved value can still count as position 0
 * there (docs/limits.md).
 *
 * @see https://www.meilisearch.com/docs/reference/api/search#customize-attributes-to-search-on-at-search-time
 */
import {
  checkFilterable,
  filterAttributes,
  FilterError,
  matchingRule,
  matchPattern,
  parseFilter,
  PatternMatch,
  type FilterableRule,
  type FilterInput,
  type FilterNode,
} from '@miroir/filter';
import { MeiliError } from '@miroir/protocol';
import { isReservedField, RESERVED_PREFIX } from './documents.js';

/** What the rewrite needs to know of an index. */
export interface SearchableFields {
  /** The nodes' `searchableAttributes` setting. */
  readonly searchableAttributes: readonly string[];
  /**
   * Every searchable field name the nodes hold (union over nodes, nested names included, reserved
   * ones too), or null when it could not be read; only consulted under `["*"]`.
   */
  readonly fields: readonly string[] | null;
  /** The index has synonyms (a query word may then stand for digits). */
  readonly synonyms: boolean;
}

/**
 * Whether query text `q` could match a reserved value. Reserved values are integers, indexed as
 * digit-only words; a query reaches one only through a word holding a digit (compatibility forms
 * such as `１` or `①` included, as the tokenizer decomposes them), since a typo costs one edit per
 * letter and a word of fewer than 5 letters gets none; or through a synonym. A placeholder search
 * matches every document whatever the fields, so it needs no rewrite.
 */
export function mayMatchReserved(q: string | null | undefined, synonyms: boolean): boolean {
  if (q === undefined || q === null || q.trim() === '') return false;
  return synonyms || /\p{N}/u.test(q.normalize('NFKD'));
}

/**
 * The `attributesToSearchOn` Miroir sends the nodes for a query (`q` and the client's own
 * `attributesToSearchOn`), or undefined when the client's query can go as it is.
 *
 * - No client list (or one holding `*`): every field one node would search — under `["*"]` the
 *   nodes' non-reserved fields, under an explicit list that names a reserved field, that list
 *   without it (`*` entries of the client's list are replaced, its other entries kept).
 * - Client list: a reserved name the nodes would ignore is dropped (one node would ignore it too:
 *   the field does not exist there); a pattern that matches a reserved field becomes the
 *   non-reserved fields it matches. Other names go unchanged, so a node rejects what one node
 *   rejects, with the same message.
 */
export function nodeSearchOn(
  query: { readonly q?: string | null; readonly attributesToSearchOn?: readonly string[] },
  index: SearchableFields,
): string[] | undefined {
  if (!mayMatchReserved(query.q, index.synonyms)) return undefined;
  const settings = index.searchableAttributes;
  const wildcard = settings.includes('*');
  let base: readonly string[];
  let known: readonly string[];
  if (wildcard) {
    if (index.fields === null) return undefined;
    known = index.fields;
  } else {
    if (!settings.some(isReservedField)) return undefined;
    known = settings;
  }
  if (!known.some(isReservedField)) return undefined;
  base = known.filter((f) => !isReservedField(f));
  const client = query.attributesToSearchOn;
  if (client === undefined) return [...base];
  const out = new Set<string>();
  let changed = false;
  for (const entry of client) {
    if (entry === '*') {
      for (const f of base) out.add(f);
      changed = true;
    } else if (entry.includes('*')) {
      const hits = known.filter((f) => matchPattern(entry, f) === PatternMatch.Match);
      if (hits.some(isReservedField)) {
        for (const f of hits) if (!isReservedField(f)) out.add(f);
        changed = true;
      } else out.add(entry);
    } else if (isReservedField(entry) && (wildcard || settings.includes(entry))) {
      changed = true;
    } else out.add(entry);
  }
  return changed ? [...out] : undefined;
}

/**
 * Whether a query parameter (a string, or arrays of them, as filters and facet lists are) holds a
 * reserved name anywhere: the fast test before parsing, most queries name none.
 */
export function mentionsReserved(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(RESERVED_PREFIX);
  return Array.isArray(value) && value.some(mentionsReserved);
}

/**
 * Throws the error one node gives when a client's filter names a reserved field: on one node such
 * a field is not filterable (unless a client rule covers it), while the nodes hold `_miroir_shard`
 * filterable for Miroir's own use. The check is the shared Meilisearch rule (`checkFilterable` of
 * `@miroir/filter`) under the client's filterable rules, so the first attribute one node would
 * refuse is the one named, with its position in the filter. A filter that does not parse is left
 * for the nodes to reject.
 *
 * @param clientRules the index's `filterableAttributes` as the client sees them (reserved removed)
 * @param indexUid named in the message as one node names it (null: a documents listing, which names none)
 * @param code `invalid_search_filter`, `invalid_document_filter`…
 */
export function checkReservedFilter(filter: unknown, clientRules: readonly FilterableRule[], indexUid: string | null, code: string): void {
  if (!mentionsReserved(filter)) return;
  let node: FilterNode | null;
  try {
    node = parseFilter(filter as FilterInput);
  } catch {
    return;
  }
  if (node === null) return;
  if (!filterAttributes(node).some((u) => isReservedField(u.attribute) && matchingRule(u.attribute, clientRules) === null)) return;
  try {
    checkFilterable(node, clientRules, { fieldExists: (a) => !isReservedField(a) });
  } catch (e) {
    if (e instanceof FilterError) throw new MeiliError(code, indexUid === null ? e.message : `Index \`${indexUid}\`: ${e.message}`, { cause: e });
    throw e;
  }
}

/** A query with reserved names replaced where one node would refuse them, and the way back. */
export interface ReservedAliases<Q> {
  /** The query for the nodes. */
  readonly query: Q;
  /** A node's error message with the stand-in names turned back into the client's. */
  readonly restore: (message: string) => string;
}

/**
 * `facets`, `distinct` and `facetName` naming a reserved field that no client rule covers: one
 * node refuses them (the field is not filterable there), the nodes would accept them. Each such
 * name is replaced by a stand-in no node rule matches, so the nodes refuse the query with their own
 * message, whose stand-in names {@link ReservedAliases.restore} turns back.
 */
export function aliasReservedParams<Q extends { readonly facets?: readonly string[]; readonly distinct?: string; readonly facetName?: string }>(
  query: Q,
  clientRules: readonly FilterableRule[],
  nodeRules: readonly FilterableRule[],
): ReservedAliases<Q> {
  const aliases = new Map<string, string>();
  const alias = (name: string): string => {
    if (!isReservedField(name) || matchingRule(name, clientRules) !== null) return name;
    let standIn = aliases.get(name);
    if (standIn === undefined) {
      standIn = `${name}_`;
      while (matchingRule(standIn, nodeRules) !== null) standIn += '_';
      aliases.set(name, standIn);
    }
    return standIn;
  };
  let out: Record<string, unknown> | undefined;
  const set = (k: string, v: unknown) => {
    out ??= { ...query };
    out[k] = v;
  };
  if (query.facets !== undefined && query.facets.some((f) => alias(f) !== f)) set('facets', query.facets.map(alias));
  if (typeof query.distinct === 'string' && alias(query.distinct) !== query.distinct) set('distinct', alias(query.distinct));
  if (typeof query.facetName === 'string' && alias(query.facetName) !== query.facetName) set('facetName', alias(query.facetName));
  if (out === undefined) return { query, restore: (m) => m };
  const pairs = [...aliases].sort((a, b) => b[1].length - a[1].length);
  return {
    query: out as Q,
    restore: (m) => pairs.reduce((acc, [name, standIn]) => acc.replaceAll(standIn, name), m),
  };
}
