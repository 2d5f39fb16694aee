/**
 * The engine's authorization: master key, API keys (`/keys`) and tenant tokens.
 */
export { Auth } from './auth.js';
export type { AuthContext } from './context.js';
export { OPEN_CONTEXT } from './context.js';
export { ACTIONS, deriveKey, expandActions, isAction } from '@miroir/protocol';
export type { Action } from '@miroir/protocol';
export type { ApiKey } from './key-store.js';
export { keyView } from './key-routes.js';
export type { KeyView } from './key-routes.js';
export { meiliRoute } from './http.js';
