export * from './errors.js';
export * from './settings.js';
export * from './settings-validate.js';
export * from './search-params.js';
export * from './tasks.js';
export * from './documents.js';
export * from './json-body.js';
export * from './encoding.js';
