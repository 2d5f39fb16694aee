/**
 * Meilisearch's authorization, storage-free: actions, index patterns, key derivation, tenant
 * tokens and the decision for one request. Shared by the engine and the orchestrator.
 */
export { ACTIONS, expandActions, isAction, isKeysAction } from './actions.js';
export type { Action } from './actions.js';
export { anyPatternMatches, invalidIndexPatternMessage, isValidIndexPattern, patternMatches } from './index-pattern.js';
export { parseUuid } from './uuid.js';
export { deriveKey } from './derive-key.js';
export { fuseFilters, readTenantClaims, rulesAllow, rulesAllowAll, rulesFilter, rulesPatterns, verifyTenantSignature } from './tenant-token.js';
export type { SearchRules, TenantClaims, TenantTokenFailure } from './tenant-token.js';
export { OPEN_CONTEXT } from './context.js';
export type { AuthContext } from './context.js';
export { INVALID_API_KEY_MESSAGE, authorize, invalidApiKey, keyGrants } from './authorize.js';
export type { AuthPolicy, KeyGrant, KeyLookup } from './authorize.js';
export { formatExpiration, parseCreateKey, parseExpiration, parsePatchKey } from './key-body.js';
export type { CreateKeyBody, PatchKeyBody } from './key-body.js';
export {
  DEFAULT_KEYS,
  apiKeyAlreadyExists,
  defaultKeys,
  findKey,
  keyPage,
  keyView,
  listingOrder,
  newKey,
  parseKeyListQuery,
  patchedKey,
} from './api-keys.js';
export type { ApiKey, KeyView } from './api-keys.js';
