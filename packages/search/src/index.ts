/**
 * `@miroir/search`: the engine's pure search core (no I/O).
 */
export { SearchIndex } from './search-index.js';
export { topK } from './heap.js';
export { haversineMeters } from './geo.js';
export type { Document, SearchIndexOptions, SearchMatches, SimilarQuery, SimilarResponse } from './search-index.js';
export { validateVectors, parseEmbeddings } from './vectors.js';
export { federatedMerge } from './federated.js';
export type { FederatedSource, FederatedResponse, FederationPaging } from './federated.js';
export { tokenize, normalize } from './tokenizer.js';
export type { Token } from './tokenizer.js';
export { globalScore, mergeRank } from './rules/types.js';
export type { Rank } from './rules/types.js';
export { compareSortValues } from './rules/sort.js';
