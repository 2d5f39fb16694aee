import type { FilterNode, Token } from './ast.js';
import { KEYWORDS } from './parser.js';

const BARE_WORD = /^[\p{Alphabetic}\p{Nd}\p{Nl}\p{No}_.\-]+$/u;

/**
 * Print a filter back as a string that parses to the same AST (up to token positions): words that
 * are safe stay bare, everything else is quoted with `\` and `"` escaped, parentheses only where
 * precedence needs them.
 */
export function printFilter(node: FilterNode): string {
  switch (node.type) {
    case 'comparison':
      return `${quote(node.attribute.value)} ${node.op} ${quote(node.value.value)}`;
    case 'range':
      return `${quote(node.attribute.value)} ${quote(node.from.value)} TO ${quote(node.to.value)}`;
    case 'in':
      return `${quote(node.attribute.value)} IN [${node.values.map((v) => quote(v.value)).join(', ')}]`;
    case 'exists':
      return `${quote(node.attribute.value)} EXISTS`;
    case 'isNull':
      return `${quote(node.attribute.value)} IS NULL`;
    case 'isEmpty':
      return `${quote(node.attribute.value)} IS EMPTY`;
    case 'contains':
      return `${quote(node.attribute.value)} CONTAINS ${quote(node.value.value)}`;
    case 'startsWith':
      return `${quote(node.attribute.value)} STARTS WITH ${quote(node.value.value)}`;
    case 'not':
      // `NOT` binds tighter than AND/OR, and `NOT NOT x` would collapse to `x` on reparse.
      return node.child.type === 'and' || node.child.type === 'or' || node.child.type === 'not'
        ? `NOT (${printFilter(node.child)})`
        : `NOT ${printFilter(node.child)}`;
    case 'and':
      return node.children
        .map((c) => (c.type === 'and' || c.type === 'or' ? `(${printFilter(c)})` : printFilter(c)))
        .join(' AND ');
    case 'or':
      return node.children.map((c) => (c.type === 'or' ? `(${printFilter(c)})` : printFilter(c))).join(' OR ');
    case 'geoRadius':
      return `_geoRadius(${[node.lat, node.lng, node.radius, ...(node.resolution ? [node.resolution] : [])]
        .map(tokenText)
        .join(', ')})`;
    case 'geoBoundingBox':
      return `_geoBoundingBox([${node.topRight.map(tokenText).join(', ')}], [${node.bottomLeft
        .map(tokenText)
        .join(', ')}])`;
    case 'geoPolygon':
      return `_geoPolygon(${node.points.map((p) => `[${p.map(tokenText).join(', ')}]`).join(', ')})`;
  }
}

function tokenText(t: Token): string {
  return t.value;
}

/** A field name or value as filter text: a bare word when safe, else double-quoted and escaped. */
export function quote(value: string): string {
  if (BARE_WORD.test(value) && !KEYWORDS.has(value) && !value.startsWith('_geo')) return value;
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
