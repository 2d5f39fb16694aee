/**
 * The authorization decision for one request, as Meilisearch's `GuardedData`/`ActionPolicy` take
 * it: the `Authorization` header, the master key, API keys (actions with wildcards, index patterns,
 * expiry) and tenant tokens on the search and chat routes. Errors carry Meilisearch's codes and
 * texts. Storage-free: the caller supplies the keys through a {@link KeyLookup}, so a node (its key
 * table) and an orchestrator (the keys its nodes list) decide alike.
 *
 * @see https://www.meilisearch.com/docs/learn/security/basic_security
 */
import { timingSafeEqual } from 'node:crypto';
import { MeiliError } from '../errors.js';
import { expandActions, isAction, isKeysAction } from './actions.js';
import type { AuthContext } from './context.js';
import { OPEN_CONTEXT } from './context.js';
import { anyPatternMatches } from './index-pattern.js';
import { readTenantClaims, rulesAllow, rulesAllowAll, rulesFilter, rulesPatterns, verifyTenantSignature } from './tenant-token.js';
import type { SearchRules } from './tenant-token.js';

/** What the decision needs to know of an API key. */
export interface KeyGrant {
  readonly uid: string;
  readonly actions: readonly string[];
  readonly indexes: readonly string[];
  /** Microseconds since the Unix epoch; null when the key never expires. */
  readonly expiresAt: number | null;
}

/** Where the decision finds keys. */
export interface KeyLookup {
  /** The key with this (lowercase hyphenated) uid. */
  byUid(uid: string): KeyGrant | undefined;
  /** The key whose value is `secret`. */
  bySecret(secret: string): KeyGrant | undefined;
  /**
   * The value a key with this uid has (or would have), which signs its tenant tokens. Meilisearch
   * derives it from the master key whether or not the key exists; undefined when it cannot be known.
   */
  secretOf(uid: string): string | undefined;
}

/** The authority deciding requests. */
export interface AuthPolicy {
  /** The master key; undefined (or empty) when the node runs without one. */
  readonly masterKey: string | undefined;
  readonly keys: KeyLookup;
  /** The clock, in microseconds since the Unix epoch (default: `Date.now()`). */
  readonly nowMicros?: () => number;
}

const MISSING_HEADER = 'The Authorization header is missing. It must use the bearer authorization method.';
const MISSING_MASTER_KEY =
  'Meilisearch is running without a master key. To access this API endpoint, you must have set a master key at launch.';
/** The text of the generic `invalid_api_key` error. */
export const INVALID_API_KEY_MESSAGE = 'The provided API key is invalid.';

/** The generic `invalid_api_key` error (403), or one with a specific text. */
export function invalidApiKey(message: string = INVALID_API_KEY_MESSAGE): MeiliError {
  return new MeiliError('invalid_api_key', message);
}

/** Rust's `{:?}` of a `Vec<String>`: `["a", "b"]`. */
function debugList(xs: readonly string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
}

const defaultNow = (): number => Date.now() * 1000;

/** Compares a bearer with the master key in time independent of where they differ. */
function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Expanded action sets, per key object (keys are immutable but for name and description). */
const expanded = new WeakMap<KeyGrant, ReadonlySet<string>>();

/** Whether a key grants an action now (Meilisearch's `is_key_authorized`: actions and expiry). */
export function keyGrants(key: KeyGrant, action: string, nowMicros: number): boolean {
  let actions = expanded.get(key);
  if (actions === undefined) {
    actions = expandActions(key.actions);
    expanded.set(key, actions);
  }
  return actions.has(action) && (key.expiresAt === null || nowMicros < key.expiresAt);
}

/** The permissions of a key, optionally narrowed by a tenant token's rules. */
class KeyContext implements AuthContext {
  readonly allIndexes: boolean;
  readonly #key: KeyGrant;
  readonly #rules: SearchRules | null;
  readonly #canCreate: boolean;

  constructor(key: KeyGrant, rules: SearchRules | null, canCreate: boolean) {
    this.#key = key;
    this.#rules = rules;
    this.#canCreate = canCreate;
    this.allIndexes = key.indexes.includes('*') && (rules === null || rulesAllowAll(rules));
  }

  allowsIndex(uid: string): boolean {
    return anyPatternMatches(this.#key.indexes, uid) && (this.#rules === null || rulesAllow(this.#rules, uid));
  }

  searchFilter(indexUid: string): unknown | null {
    if (!this.allowsIndex(indexUid) || this.#rules === null) return null;
    return rulesFilter(this.#rules, indexUid);
  }

  allowIndexCreation(uid: string): boolean {
    return this.#canCreate && this.allowsIndex(uid);
  }
}

/**
 * Checks that the `Authorization` header allows `action` (on `indexUid`, when the route has one).
 * Returns what the caller may see; throws `missing_authorization_header` (401),
 * `missing_master_key` (401) or `invalid_api_key` (403) with Meilisearch's texts, or `internal`
 * for an action name Meilisearch does not have.
 */
export function authorize(policy: AuthPolicy, authorization: string | undefined, action: string, indexUid: string | null): AuthContext {
  if (!isAction(action)) throw new MeiliError('internal', `Invalid action \`${action}\`.`);
  let token: string | null = null;
  if (authorization !== undefined) {
    // actix splits the header once on a space: the scheme must be exactly `Bearer`.
    const space = authorization.indexOf(' ');
    const scheme = space === -1 ? authorization : authorization.slice(0, space);
    if (scheme !== 'Bearer') throw new MeiliError('missing_authorization_header', MISSING_HEADER);
    if (space === -1) throw invalidApiKey();
    token = authorization.slice(space + 1);
  }
  const masterKey = policy.masterKey === '' ? undefined : policy.masterKey;
  if (masterKey === undefined) {
    if (!isKeysAction(action)) return OPEN_CONTEXT;
    throw new MeiliError('missing_master_key', MISSING_MASTER_KEY);
  }
  if (token === null) throw new MeiliError('missing_authorization_header', MISSING_HEADER);
  if (sameSecret(token, masterKey)) return OPEN_CONTEXT;
  return authorizeToken(policy, token, action, indexUid);
}

function authorizeToken(policy: AuthPolicy, token: string, action: string, indexUid: string | null): AuthContext {
  const now = (policy.nowMicros ?? defaultNow)();
  let key: KeyGrant | undefined;
  let rules: SearchRules | null = null;
  // Only the search and chat routes accept tenant tokens; elsewhere a JWT is just a wrong key.
  if (action === 'search' || action === 'chatCompletions') {
    const claims = readTenantClaims(token);
    if ('notAToken' in claims) {
      if (!claims.notAToken) throw invalidApiKey(`Could not decode tenant token, ${claims.message}.`);
    } else {
      const secret = policy.keys.secretOf(claims.apiKeyUid);
      if (secret === undefined) throw invalidApiKey();
      const failure = verifyTenantSignature(token, claims.alg, secret);
      if (failure !== null) throw invalidApiKey(`Could not decode tenant token, ${failure}.`);
      if (claims.exp !== null) {
        const nowSeconds = Math.floor(now / 1_000_000);
        if (nowSeconds > claims.exp) {
          throw invalidApiKey(`Tenant token expired. Was valid up to \`${claims.exp}\` and we're now \`${nowSeconds}\`.`);
        }
      }
      key = policy.keys.byUid(claims.apiKeyUid);
      if (key === undefined) throw invalidApiKey();
      rules = claims.searchRules;
    }
  }
  key ??= policy.keys.bySecret(token);
  if (key === undefined) throw invalidApiKey();

  if (indexUid !== null) {
    // The token's own rules are public to its holder, so they may be named; the parent key's
    // indexes are not (the key may be a public one).
    if (rules !== null && !rulesAllow(rules, indexUid)) {
      throw invalidApiKey(
        `The provided tenant token cannot acces the index \`${indexUid}\`, allowed indexes are ${debugList(rulesPatterns(rules))}.`,
      );
    }
    if (!anyPatternMatches(key.indexes, indexUid)) {
      if (rules !== null) throw invalidApiKey(`The API key used to generate this tenant token cannot acces the index \`${indexUid}\`.`);
      throw invalidApiKey(
        `The API key cannot acces the index \`${indexUid}\`, authorized indexes are ${debugList([...new Set(key.indexes)].sort())}.`,
      );
    }
  }
  if (!keyGrants(key, action, now)) throw invalidApiKey();
  return new KeyContext(key, rules, keyGrants(key, 'indexes.create', now));
}
