export * from './ast.js';
export { FilterError } from './errors.js';
export { parseFilter } from './parse.js';
export type { FilterInput } from './parse.js';
export { MAX_PARSE_DEPTH, MAX_FILTER_CONDITIONS_DEPTH } from './parser.js';
export { printFilter, quote } from './printer.js';
export { compileFilter, evaluateFilter } from './evaluate.js';
export type { DocumentPredicate } from './evaluate.js';
export { normalizeFacet, fieldReader } from './document.js';
export type { FieldReader } from './document.js';
export {
  CONTAINS_FILTER_DISABLED_MESSAGE,
  usesContains,
  checkFilterable,
  filterAttributes,
  isAttributeFilterable,
  matchingRule,
  matchPattern,
  matchFieldLegacy,
  matchRule,
  ruleFeatures,
  OperatorClass,
  PatternMatch,
} from './filterable.js';
export type { AttributeUse, CheckFilterableOptions, FilterableRule, FilterFeatures } from './filterable.js';
export { pinnedPrimaryKeys } from './pinned.js';
export type { PinnedKeysOptions } from './pinned.js';
export { andFilters } from './combine.js';
