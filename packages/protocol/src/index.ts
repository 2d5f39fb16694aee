export * from './errors.js';
export * from './settings.js';
export * from './search-params.js';
