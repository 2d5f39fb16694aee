import type { FilterNode, Token } from './ast.js';
import { FilterError } from './errors.js';
import { MAX_FILTER_CONDITIONS_DEPTH, parseFilterString } from './parser.js';

/** A filter as clients send it: a string, or the array form (outer AND of strings / arrays of strings, OR). */
export type FilterInput = string | readonly (string | readonly string[])[];

/**
 * Parse a client filter: a string, or the array form (`["a = 1", ["b = 2", "c = 3"]]` is
 * `a = 1 AND (b = 2 OR c = 3)`). `null`, `undefined`, blank strings and empty arrays are no
 * filter (null). Anything Meilisearch rejects throws a {@link FilterError} with its message.
 *
 * @see https://www.meilisearch.com/docs/capabilities/filtering_sorting_faceting/advanced/filter_expression_syntax
 */
export function parseFilter(input: unknown): FilterNode | null {
  if (input === null || input === undefined) return null;
  if (typeof input === 'string') return checkDepth(parseFilterString(input));
  if (!Array.isArray(input)) throw invalidType(['String', 'Array'], input);

  // Every element's type is checked before any string is parsed, as Meilisearch does.
  for (const element of input) {
    if (typeof element === 'string') continue;
    if (!Array.isArray(element)) throw invalidType(['String', '[String]'], element);
    for (const inner of element) {
      if (typeof inner !== 'string') throw invalidType(['String'], inner);
    }
  }

  const ands: FilterNode[] = [];
  for (const element of input as (string | string[])[]) {
    if (typeof element === 'string') {
      const node = parseFilterString(element);
      if (node) ands.push(node);
      continue;
    }
    const ors: FilterNode[] = [];
    for (const s of element) {
      const node = parseFilterString(s);
      if (node) ors.push(node);
    }
    if (ors.length === 1) ands.push(ors[0]);
    else if (ors.length > 1) ands.push({ type: 'or', children: ors });
  }
  if (ands.length === 0) return null;
  return checkDepth(ands.length === 1 ? ands[0] : { type: 'and', children: ands });
}

function invalidType(expected: string[], found: unknown): FilterError {
  return new FilterError(
    `Invalid type for filter subexpression: expected: ${expected.join(', ')}, found: ${JSON.stringify(found)}.`,
  );
}

/** Meilisearch refuses a filter whose AND/OR nesting reaches a condition at depth 150. */
function checkDepth(node: FilterNode | null): FilterNode | null {
  if (node === null) return null;
  const token = tokenAtDepth(node, MAX_FILTER_CONDITIONS_DEPTH);
  if (token) {
    throw FilterError.atToken(
      `Too many filter conditions, can't process more than ${MAX_FILTER_CONDITIONS_DEPTH} filters.`,
      token,
    );
  }
  return node;
}

function tokenAtDepth(node: FilterNode, depth: number): Token | null {
  switch (node.type) {
    case 'and':
    case 'or': {
      const d = Math.max(0, depth - 1);
      for (const child of node.children) {
        const t = tokenAtDepth(child, d);
        if (t) return t;
      }
      return null;
    }
    case 'comparison':
    case 'range':
    case 'exists':
    case 'isNull':
    case 'isEmpty':
    case 'contains':
    case 'startsWith':
      return depth === 0 ? node.attribute : null;
    case 'geoRadius':
      return depth === 0 ? node.lat : null;
    default:
      return null;
  }
}
