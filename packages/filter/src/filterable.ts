import type { FilterNode, Token } from './ast.js';
import { FilterError } from './errors.js';
import { parseFiniteFloat, rustFloat } from './text.js';

/**
 * One entry of the `filterableAttributes` setting: a field name (legacy: the field and its nested
 * fields, every operator) or a granular rule.
 *
 * @see https://www.meilisearch.com/docs/capabilities/filtering_sorting_faceting/how_to/configure_granular_filters
 */
export type FilterableRule =
  | string
  | {
      attributePatterns: readonly string[];
      features?: { facetSearch?: boolean; filter?: { equality?: boolean; comparison?: boolean } };
    };

export const PatternMatch = { Match: 'match', Parent: 'parent', NoMatch: 'noMatch' } as const;
export type PatternMatch = (typeof PatternMatch)[keyof typeof PatternMatch];

/** `field` equals `facet` or is nested under it (`a.b` under `a`). */
function isFacetedBy(field: string, facet: string): boolean {
  return field.startsWith(facet) && (field.length === facet.length || field[facet.length] === '.');
}

/** A pattern of a granular rule: `*`, `*infix*`, `*suffix`, `prefix*` or an exact name. */
export function matchPattern(pattern: string, field: string): PatternMatch {
  if (pattern === '*') return PatternMatch.Match;
  if (pattern.length >= 2 && pattern.startsWith('*') && pattern.endsWith('*')) {
    if (field.includes(pattern.slice(1, -1))) return PatternMatch.Match;
  } else if (pattern.startsWith('*')) {
    if (field.endsWith(pattern.slice(1))) return PatternMatch.Match;
  } else if (pattern.endsWith('*')) {
    if (field.startsWith(pattern.slice(0, -1))) return PatternMatch.Match;
  } else if (pattern === field) {
    return PatternMatch.Match;
  }
  return isFacetedBy(pattern, field) ? PatternMatch.Parent : PatternMatch.NoMatch;
}

/** A legacy string rule: the field itself and everything nested under it. */
export function matchFieldLegacy(pattern: string, field: string): PatternMatch {
  if (isFacetedBy(field, pattern)) return PatternMatch.Match;
  if (isFacetedBy(pattern, field)) return PatternMatch.Parent;
  return PatternMatch.NoMatch;
}

export function matchRule(rule: FilterableRule, field: string): PatternMatch {
  if (typeof rule === 'string') return matchFieldLegacy(rule, field);
  let result: PatternMatch = PatternMatch.NoMatch;
  for (const p of rule.attributePatterns) {
    const m = matchPattern(p, field);
    if (m === PatternMatch.Match) return m;
    if (m === PatternMatch.Parent) result = m;
  }
  return result;
}

/** The filter features a rule grants. */
export interface FilterFeatures {
  readonly equality: boolean;
  readonly comparison: boolean;
}

export function ruleFeatures(rule: FilterableRule): FilterFeatures {
  if (typeof rule === 'string') return { equality: true, comparison: true };
  return { equality: rule.features?.filter?.equality ?? true, comparison: rule.features?.filter?.comparison ?? false };
}

function isFilterable(f: FilterFeatures): boolean {
  return f.equality || f.comparison;
}

/** The first rule matching `field` (Meilisearch uses the first match, filterable or not). */
export function matchingRule(
  field: string,
  rules: readonly FilterableRule[],
): { index: number; features: FilterFeatures } | null {
  for (let i = 0; i < rules.length; i++) {
    if (matchRule(rules[i], field) === PatternMatch.Match) return { index: i, features: ruleFeatures(rules[i]) };
  }
  return null;
}

/** Is `field` filterable under these rules (the first matching rule enables some filter operator)? */
export function isAttributeFilterable(field: string, rules: readonly FilterableRule[]): boolean {
  const m = matchingRule(field, rules);
  return m !== null && isFilterable(m.features);
}

/** Operator classes of the granular filterable rules. */
export const OperatorClass = { Equality: 'equality', Comparison: 'comparison', Other: 'other' } as const;
export type OperatorClass = (typeof OperatorClass)[keyof typeof OperatorClass];

/** One use of an attribute in a filter. */
export interface AttributeUse {
  readonly attribute: string;
  readonly token: Token;
  /** The operator as Meilisearch names it in errors (`=` for each element of an `IN`). */
  readonly operator: string;
  /** `equality` (`=`, `!=`, `IN`), `comparison` (`<`, `>`, `<=`, `>=`, `TO`), `other`. */
  readonly operatorClass: OperatorClass;
}

/**
 * The attributes a filter uses, in filter order, with the operator class each use needs. Geo
 * functions use the `_geo` attribute (token: their first coordinate).
 */
export function filterAttributes(node: FilterNode): AttributeUse[] {
  const out: AttributeUse[] = [];
  walkAttributes(node, out);
  return out;
}

function use(token: Token, operator: string, operatorClass: OperatorClass): AttributeUse {
  return { attribute: token.value, token, operator, operatorClass };
}

function walkAttributes(node: FilterNode, out: AttributeUse[]): void {
  switch (node.type) {
    case 'comparison':
      out.push(
        use(node.attribute, node.op, node.op === '=' || node.op === '!=' ? OperatorClass.Equality : OperatorClass.Comparison),
      );
      return;
    case 'range':
      out.push(use(node.attribute, 'TO', OperatorClass.Comparison));
      return;
    case 'in':
      out.push(use(node.attribute, 'IN', OperatorClass.Equality));
      return;
    case 'exists':
      out.push(use(node.attribute, 'EXISTS', OperatorClass.Other));
      return;
    case 'isNull':
      out.push(use(node.attribute, 'IS NULL', OperatorClass.Other));
      return;
    case 'isEmpty':
      out.push(use(node.attribute, 'IS EMPTY', OperatorClass.Other));
      return;
    case 'contains':
      out.push(use(node.attribute, 'CONTAINS', OperatorClass.Other));
      return;
    case 'startsWith':
      out.push(use(node.attribute, 'STARTS WITH', OperatorClass.Other));
      return;
    case 'not':
      walkAttributes(node.child, out);
      return;
    case 'and':
    case 'or':
      for (const c of node.children) walkAttributes(c, out);
      return;
    case 'geoRadius':
      out.push({ attribute: '_geo', token: node.lat, operator: '_geoRadius', operatorClass: OperatorClass.Other });
      return;
    case 'geoBoundingBox':
      out.push({
        attribute: '_geo',
        token: node.topRight[0],
        operator: '_geoBoundingBox',
        operatorClass: OperatorClass.Other,
      });
      return;
    case 'geoPolygon':
      out.push({
        attribute: '_geo',
        token: node.points[0][0],
        operator: '_geoPolygon',
        operatorClass: OperatorClass.Other,
      });
      return;
  }
}

export interface CheckFilterableOptions {
  /**
   * Whether the index has ever seen the field. Meilisearch evaluates a filterable field it has
   * never seen to "no documents" without checking its operators. Defaults to "every field exists".
   */
  fieldExists?: (attribute: string) => boolean;
}

/**
 * Throw the {@link FilterError} Meilisearch answers when the filter uses an attribute that is not
 * filterable, an operator a granular rule disables, or geo arguments out of range.
 *
 * Meilisearch checks in that order: every attribute's filterability first (in filter order), then,
 * walking the filter, each operator against its rule and each geo function.
 */
export function checkFilterable(
  node: FilterNode,
  filterableAttributes: readonly FilterableRule[],
  opts: CheckFilterableOptions = {},
): void {
  for (const u of filterAttributes(node)) {
    if (u.attribute === '_geo' && u.operator.startsWith('_geo')) continue; // checked when walking
    if (u.attribute === '_vectors' || u.attribute.startsWith('_vectors.')) continue;
    if (isAttributeFilterable(u.attribute, filterableAttributes)) continue;
    throw notFilterable(u.attribute, u.token, filterableAttributes);
  }
  checkOperators(node, filterableAttributes, opts.fieldExists ?? (() => true));
}

function notFilterable(attribute: string, token: Token, rules: readonly FilterableRule[]): FilterError {
  const patterns = new Set<string>();
  for (const r of rules) {
    if (!isFilterable(ruleFeatures(r))) continue;
    if (typeof r === 'string') patterns.add(r);
    else for (const p of r.attributePatterns) patterns.add(p);
  }
  const sorted = [...patterns].sort(byteOrder);
  const tail =
    sorted.length === 0
      ? ' This index does not have configured filterable attributes.'
      : ` Available filterable attribute patterns are: ${sorted.map((p) => `\`${p}\``).join(', ')}.`;
  return FilterError.atToken(`Attribute \`${attribute}\` is not filterable.${tail}`, token);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function checkOperators(node: FilterNode, rules: readonly FilterableRule[], fieldExists: (a: string) => boolean): void {
  switch (node.type) {
    case 'not':
      checkOperators(node.child, rules, fieldExists);
      return;
    case 'and':
    case 'or':
      for (const c of node.children) checkOperators(c, rules, fieldExists);
      return;
    case 'geoRadius':
    case 'geoBoundingBox':
    case 'geoPolygon':
      checkGeo(node, rules);
      return;
    case 'contains':
    case 'startsWith':
      return; // not gated by the granular rules
    default: {
      const attribute = node.attribute.value;
      if (!fieldExists(attribute)) return;
      const rule = matchingRule(attribute, rules);
      if (rule === null) return;
      const f = rule.features;
      let operator: string;
      let allowed: boolean;
      switch (node.type) {
        case 'comparison':
          operator = node.op;
          allowed = node.op === '=' || node.op === '!=' ? f.equality : f.comparison;
          break;
        case 'range':
          operator = 'TO';
          allowed = f.comparison;
          break;
        case 'in':
          operator = '=';
          allowed = f.equality || node.values.length === 0;
          break;
        case 'exists':
          operator = 'EXISTS';
          allowed = isFilterable(f);
          break;
        case 'isNull':
          operator = 'IS NULL';
          allowed = isFilterable(f);
          break;
        case 'isEmpty':
          operator = 'IS EMPTY';
          allowed = isFilterable(f);
          break;
      }
      if (!allowed) throw operatorNotAllowed(operator, attribute, f, rule.index);
    }
  }
}

function allowedOperators(f: FilterFeatures): string[] {
  if (!isFilterable(f)) return [];
  const ops = ['OR', 'AND', 'NOT'];
  if (f.equality) ops.push('=', '!=', 'IN');
  if (f.comparison) ops.push('<', '>', '<=', '>=', 'TO');
  ops.push('IS EMPTY', 'IS NULL', 'EXISTS');
  return ops;
}

function operatorNotAllowed(operator: string, field: string, f: FilterFeatures, rule: number): FilterError {
  const feature = ['=', '!=', 'IN'].includes(operator)
    ? 'equality'
    : ['<', '>', '<=', '>=', 'TO'].includes(operator)
      ? 'comparison'
      : 'the appropriate filter operators';
  return new FilterError(
    `Filter operator \`${operator}\` is not allowed for the attribute \`${field}\`.\n` +
      `  - Note: allowed operators: ${allowedOperators(f).join(', ')}.\n` +
      `  - Note: field \`${field}\` matched rule #${rule} in \`filterableAttributes\`\n` +
      `  - Hint: enable ${feature} in rule #${rule} by modifying the features.filter object\n` +
      `  - Hint: prepend another rule matching \`${field}\` with appropriate filter features before rule #${rule}`,
  );
}

function finite(token: Token): number {
  const n = parseFiniteFloat(token.value);
  if (n === null) throw FilterError.atToken('Non finite floats are not supported', token);
  return n;
}

function checkLat(token: Token): number {
  const lat = finite(token);
  if (!(lat >= -90 && lat <= 90)) {
    throw FilterError.atToken(
      `Bad latitude \`${rustFloat(lat)}\`. Latitude must be contained between -90 and 90 degrees.`,
      token,
    );
  }
  return lat;
}

function checkLng(token: Token): number {
  const lng = finite(token);
  if (!(lng >= -180 && lng <= 180)) {
    const wrapped = ((((lng + 180) % 360) + 360) % 360) - 180;
    throw FilterError.atToken(
      `Bad longitude \`${rustFloat(lng)}\`. Longitude must be contained between -180 and 180 degrees. Hint: try using \`${rustFloat(wrapped)}\` instead.`,
      token,
    );
  }
  return lng;
}

function checkGeo(
  node: Extract<FilterNode, { type: 'geoRadius' | 'geoBoundingBox' | 'geoPolygon' }>,
  rules: readonly FilterableRule[],
): void {
  const first = node.type === 'geoRadius' ? node.lat : node.type === 'geoBoundingBox' ? node.topRight[0] : node.points[0][0];
  // milli: radius and box need `_geo` or `_geojson` filterable; a polygon needs `_geojson`.
  const geojson = isAttributeFilterable('_geojson', rules);
  if (node.type === 'geoPolygon') {
    if (!geojson) throw notFilterable('_geojson', first, rules);
  } else if (!geojson && !isAttributeFilterable('_geo', rules)) {
    throw notFilterable('_geo/_geojson', first, rules);
  }
  switch (node.type) {
    case 'geoRadius': {
      checkLat(node.lat);
      checkLng(node.lng);
      finite(node.radius);
      if (node.resolution) {
        const r = finite(node.resolution);
        if (!(r >= 3 && r <= 1000)) {
          throw FilterError.atToken(
            `Invalid resolution \`${rustFloat(r)}\`. Resolution must be between 3 and 1000.`,
            node.resolution,
          );
        }
      }
      return;
    }
    case 'geoBoundingBox': {
      const top = checkLat(node.topRight[0]);
      checkLng(node.topRight[1]);
      const bottom = checkLat(node.bottomLeft[0]);
      checkLng(node.bottomLeft[1]);
      if (top < bottom) {
        throw FilterError.atToken(
          `The top latitude \`${rustFloat(top)}\` is below the bottom latitude \`${rustFloat(bottom)}\`.`,
          node.bottomLeft[1],
        );
      }
      return;
    }
    case 'geoPolygon':
      for (const [lat, lng] of node.points) {
        checkLat(lat);
        checkLng(lng);
      }
      return;
  }
}

/**
 * Meilisearch's `feature_not_enabled` message when a filter uses `CONTAINS` while the experimental
 * `containsFilter` feature is off (`STARTS WITH` is not gated).
 */
export const CONTAINS_FILTER_DISABLED_MESSAGE =
  'Using `CONTAINS` in a filter requires enabling the `contains filter` experimental feature. See https://github.com/orgs/meilisearch/discussions/763';

/** Does the filter use `CONTAINS` / `NOT CONTAINS` (gated by the `containsFilter` feature)? */
export function usesContains(node: FilterNode): boolean {
  switch (node.type) {
    case 'contains':
      return true;
    case 'not':
      return usesContains(node.child);
    case 'and':
    case 'or':
      return node.children.some(usesContains);
    default:
      return false;
  }
}
