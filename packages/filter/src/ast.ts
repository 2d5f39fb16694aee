/**
 * The filter AST. Negated operators (`!=` aside) parse as a `not` node around the positive one,
 * exactly as Meilisearch's parser does: `x NOT IN [..]` is `not(in)`, `x IS NOT NULL` is
 * `not(isNull)`, `x NOT EXISTS` is `not(exists)`, `NOT NOT x = 1` is `x = 1`.
 *
 * @see https://www.meilisearch.com/docs/capabilities/filtering_sorting_faceting/advanced/filter_expression_syntax
 */

/** A field name or a value, with its unescaped text and where it sits in its source filter string. */
export interface Token {
  /** The text after unquoting and unescaping. */
  readonly value: string;
  /** UTF-16 offsets of the token's text in `source` (inside the quotes for a quoted token). */
  readonly start: number;
  readonly end: number;
  /** The whole filter string the token comes from (each string of the array form is its own source). */
  readonly source: string;
}

export const ComparisonOp = {
  Eq: '=',
  Ne: '!=',
  Gt: '>',
  Gte: '>=',
  Lt: '<',
  Lte: '<=',
} as const;
export type ComparisonOp = (typeof ComparisonOp)[keyof typeof ComparisonOp];

export interface ComparisonNode {
  readonly type: 'comparison';
  readonly attribute: Token;
  readonly op: ComparisonOp;
  readonly value: Token;
}
/** `attribute from TO to`, inclusive. */
export interface RangeNode {
  readonly type: 'range';
  readonly attribute: Token;
  readonly from: Token;
  readonly to: Token;
}
export interface InNode {
  readonly type: 'in';
  readonly attribute: Token;
  readonly values: readonly Token[];
}
export interface ExistsNode {
  readonly type: 'exists';
  readonly attribute: Token;
}
export interface IsNullNode {
  readonly type: 'isNull';
  readonly attribute: Token;
}
export interface IsEmptyNode {
  readonly type: 'isEmpty';
  readonly attribute: Token;
}
export interface ContainsNode {
  readonly type: 'contains';
  readonly attribute: Token;
  readonly value: Token;
}
export interface StartsWithNode {
  readonly type: 'startsWith';
  readonly attribute: Token;
  readonly value: Token;
}
export interface NotNode {
  readonly type: 'not';
  readonly child: FilterNode;
}
export interface AndNode {
  readonly type: 'and';
  readonly children: readonly FilterNode[];
}
export interface OrNode {
  readonly type: 'or';
  readonly children: readonly FilterNode[];
}
/** `_geoRadius(lat, lng, meters[, resolution])`; arguments keep their float text. */
export interface GeoRadiusNode {
  readonly type: 'geoRadius';
  readonly lat: Token;
  readonly lng: Token;
  readonly radius: Token;
  readonly resolution: Token | null;
}
/** `_geoBoundingBox([topRightLat, topRightLng], [bottomLeftLat, bottomLeftLng])`. */
export interface GeoBoundingBoxNode {
  readonly type: 'geoBoundingBox';
  readonly topRight: readonly [Token, Token];
  readonly bottomLeft: readonly [Token, Token];
}
/** `_geoPolygon([lat, lng], [lat, lng], [lat, lng], …)`. */
export interface GeoPolygonNode {
  readonly type: 'geoPolygon';
  readonly points: readonly (readonly [Token, Token])[];
}

export type FilterNode = AttributeNode | NotNode | AndNode | OrNode | GeoRadiusNode | GeoBoundingBoxNode | GeoPolygonNode;

/** The token as written in its filter, quotes and escapes excluded from the span but kept inside. */
export function originalText(token: Token): string {
  return token.source.slice(token.start, token.end);
}

/** Nodes that test one attribute (everything but the boolean connectives and geo functions). */
export type AttributeNode =
  | ComparisonNode
  | RangeNode
  | InNode
  | ExistsNode
  | IsNullNode
  | IsEmptyNode
  | ContainsNode
  | StartsWithNode;

/**
 * The AST with tokens reduced to their values: what two filters must share to mean the same thing.
 * Handy for comparing a printed-then-parsed filter with the original.
 */
export function stripSpans(node: FilterNode): unknown {
  switch (node.type) {
    case 'comparison':
      return { type: node.type, attribute: node.attribute.value, op: node.op, value: node.value.value };
    case 'range':
      return { type: node.type, attribute: node.attribute.value, from: node.from.value, to: node.to.value };
    case 'in':
      return { type: node.type, attribute: node.attribute.value, values: node.values.map((v) => v.value) };
    case 'exists':
    case 'isNull':
    case 'isEmpty':
      return { type: node.type, attribute: node.attribute.value };
    case 'contains':
    case 'startsWith':
      return { type: node.type, attribute: node.attribute.value, value: node.value.value };
    case 'not':
      return { type: 'not', child: stripSpans(node.child) };
    case 'and':
    case 'or':
      return { type: node.type, children: node.children.map(stripSpans) };
    case 'geoRadius':
      return {
        type: node.type,
        lat: node.lat.value,
        lng: node.lng.value,
        radius: node.radius.value,
        resolution: node.resolution?.value ?? null,
      };
    case 'geoBoundingBox':
      return {
        type: node.type,
        topRight: node.topRight.map((t) => t.value),
        bottomLeft: node.bottomLeft.map((t) => t.value),
      };
    case 'geoPolygon':
      return { type: node.type, points: node.points.map((p) => p.map((t) => t.value)) };
  }
}
