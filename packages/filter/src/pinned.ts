import type { FilterNode, Token } from './ast.js';
import { normalizeFacet } from './document.js';
import { parseFiniteFloat } from './text.js';

const ID_CHARS = /^[A-Za-z0-9_-]{1,511}$/;
const HAS_LETTER = /[A-Za-z]/;

export interface PinnedKeysOptions {
  /**
   * Treat letters in primary-key literals as exact. Meilisearch compares strings case-insensitively,
   * so `id = abc` also matches the documents `ABC` and `aBc`: by default a literal with letters does
   * not pin the key (null), which keeps routing exact. Set this when the ids are known to be
   * lowercase-only (or the caller otherwise accepts missing case variants).
   */
  lettersAreExact?: boolean;
}

/**
 * The primary-key values a filter restricts results to, as canonical id strings (`1` and `"1"`
 * are both `"1"`), or null when the filter does not pin the key down (an OR branch without it,
 * `NOT`, `!=`, ranges, a literal whose matches cannot be enumerated…). An empty array means
 * the filter matches no document.
 *
 * Pinned: `id = 3`, `id IN [1, 2]`, `id = 3 AND x > 1`, `id = 1 OR id = 2`, `id = 1 AND id IN [1, 2]`.
 */
export function pinnedPrimaryKeys(
  node: FilterNode | null,
  primaryKey: string,
  opts: PinnedKeysOptions = {},
): string[] | null {
  if (node === null) return null;
  const keys = pinned(node, primaryKey, opts.lettersAreExact ?? false);
  return keys === null ? null : [...keys].sort();
}

function pinned(node: FilterNode, pk: string, lettersExact: boolean): Set<string> | null {
  switch (node.type) {
    case 'comparison':
      if (node.op !== '=' || node.attribute.value !== pk) return null;
      return literalIds([node.value], lettersExact);
    case 'in':
      if (node.attribute.value !== pk) return null;
      return literalIds(node.values, lettersExact);
    case 'and': {
      let acc: Set<string> | null = null;
      for (const c of node.children) {
        const keys = pinned(c, pk, lettersExact);
        if (keys === null) continue;
        acc = acc === null ? keys : intersect(acc, keys);
      }
      return acc;
    }
    case 'or': {
      const acc = new Set<string>();
      for (const c of node.children) {
        const keys = pinned(c, pk, lettersExact);
        if (keys === null) return null;
        for (const k of keys) acc.add(k);
      }
      return acc;
    }
    default:
      return null;
  }
}

function intersect(a: Set<string>, b: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const k of a) if (b.has(k)) out.add(k);
  return out;
}

/**
 * The ids the `=` literals can match. A string id matches when its normalized form (for a valid
 * id: lowercased) equals the normalized literal; a numeric id when it equals the literal parsed
 * as a float. Literals that no valid id can match contribute nothing.
 */
function literalIds(literals: readonly Token[], lettersExact: boolean): Set<string> | null {
  const ids = new Set<string>();
  for (const t of literals) {
    const v = t.value;
    if (lettersExact) {
      if (ID_CHARS.test(v)) ids.add(v);
    } else {
      const normalized = normalizeFacet(v);
      if (ID_CHARS.test(normalized)) {
        // Every case variant of a literal with letters would match: not enumerable.
        if (HAS_LETTER.test(normalized)) return null;
        ids.add(normalized);
      }
    }
    const n = parseFiniteFloat(v);
    if (n !== null && Number.isSafeInteger(n)) ids.add(String(n));
  }
  return ids;
}
