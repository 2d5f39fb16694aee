export * from './ast.js';
export { FilterError } from './errors.js';
export { parseFilter } from './parse.js';
export type { FilterInput } from './parse.js';
export { MAX_PARSE_DEPTH, MAX_FILTER_CONDITIONS_DEPTH } from './parser.js';
