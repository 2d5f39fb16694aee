import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { MeiliError, OPEN_CONTEXT, authorize, deriveKey, expandActions } from '../src/index.js';
import type { AuthPolicy, KeyGrant, KeyLookup } from '../src/index.js';

const MASTER = 'protocol-auth-master-key';
const INVALID = 'The provided API key is invalid.';
/** A fixed clock: 2030-01-01T00:00:00Z, in microseconds. */
const NOW = Date.UTC(2030, 0, 1) * 1000;
const NOW_S = NOW / 1_000_000;

function lookupOf(keys: KeyGrant[], masterKey = MASTER): KeyLookup {
  const byUid = new Map(keys.map((k) => [k.uid, k]));
  const bySecret = new Map(keys.map((k) => [deriveKey(masterKey, k.uid), k]));
  return { byUid: (u) => byUid.get(u), bySecret: (s) => bySecret.get(s), secretOf: (u) => deriveKey(masterKey, u) };
}

function policy(keys: KeyGrant[], over: Partial<AuthPolicy> = {}): AuthPolicy {
  return { masterKey: MASTER, keys: lookupOf(keys), nowMicros: () => NOW, ...over };
}

function refused(fn: () => unknown, status: number, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MeiliError);
    assert.deepEqual([e.status, e.code, e.message], [status, code, message]);
    return true;
  });
}

function jwt(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const unsigned = `${part(header)}.${part(claims)}`;
  const alg = String(header.alg);
  const hash = /^HS(256|384|512)$/.test(alg) ? `sha${alg.slice(2)}` : 'sha256';
  return `${unsigned}.${createHmac(hash, secret).update(unsigned).digest('base64url')}`;
}

const SEARCH: KeyGrant = { uid: '11111111-1111-4111-8111-111111111111', actions: ['search'], indexes: ['movies', 'series_*'], expiresAt: null };
const DOCS: KeyGrant = { uid: '22222222-2222-4222-8222-222222222222', actions: ['documents.*', 'indexes.create'], indexes: ['mov*', 'b', 'mov*'], expiresAt: null };
const READER: KeyGrant = { uid: '33333333-3333-4333-8333-333333333333', actions: ['*.get'], indexes: ['*'], expiresAt: NOW + 1 };
const OLD: KeyGrant = { uid: '44444444-4444-4444-8444-444444444444', actions: ['*'], indexes: ['*'], expiresAt: NOW };
const KEYS = [SEARCH, DOCS, READER, OLD];
const bearer = (k: KeyGrant): string => `Bearer ${deriveKey(MASTER, k.uid)}`;

describe('authorize: header and master key', () => {
  it('without a master key opens all but the key routes, and still reads the scheme', () => {
    for (const masterKey of [undefined, '']) {
      const p = policy([], { masterKey });
      assert.equal(authorize(p, undefined, 'documents.add', 'movies'), OPEN_CONTEXT);
      assert.equal(authorize(p, 'Bearer whatever', 'search', null), OPEN_CONTEXT);
      refused(
        () => authorize(p, undefined, 'keys.create', null),
        401,
        'missing_master_key',
        'Meilisearch is running without a master key. To access this API endpoint, you must have set a master key at launch.',
      );
      refused(() => authorize(p, 'Basic abc', 'search', null), 401, 'missing_authorization_header', 'The Authorization header is missing. It must use the bearer authorization method.');
    }
  });

  it('with a master key: header forms, the master key, an unknown action', () => {
    const p = policy(KEYS);
    const missing = 'The Authorization header is missing. It must use the bearer authorization method.';
    refused(() => authorize(p, undefined, 'search', 'movies'), 401, 'missing_authorization_header', missing);
    refused(() => authorize(p, `bearer ${MASTER}`, 'search', 'movies'), 401, 'missing_authorization_header', missing);
    refused(() => authorize(p, 'Bearer', 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    refused(() => authorize(p, `Bearer  ${MASTER}`, 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    assert.equal(authorize(p, `Bearer ${MASTER}`, 'keys.delete', null), OPEN_CONTEXT);
    refused(() => authorize(p, `Bearer ${MASTER}`, 'fly', null), 500, 'internal', 'Invalid action `fly`.');
  });
});

describe('authorize: API keys', () => {
  const p = policy(KEYS);

  it('grants the actions of a key on the indexes it covers', () => {
    const ctx = authorize(p, bearer(DOCS), 'documents.add', 'movies');
    assert.deepEqual([ctx.allIndexes, ctx.allowsIndex('movies'), ctx.allowsIndex('moviesque'), ctx.allowsIndex('b'), ctx.allowsIndex('c')], [
      false,
      true,
      true,
      true,
      false,
    ]);
    assert.equal(ctx.searchFilter('movies'), null);
    assert.deepEqual([ctx.allowIndexCreation('movies'), ctx.allowIndexCreation('c')], [true, false]);
    assert.equal(authorize(p, bearer(SEARCH), 'search', 'movies').allowIndexCreation('movies'), false);
    assert.equal(authorize(p, bearer(SEARCH), 'search', 'series_2024').allowsIndex('series_'), true);
  });

  it('names the covered indexes (sorted, once) for an uncovered one, before looking at the action', () => {
    refused(
      () => authorize(p, bearer(DOCS), 'indexes.delete', 'secret'),
      403,
      'invalid_api_key',
      'The API key cannot acces the index `secret`, authorized indexes are ["b", "mov*"].',
    );
    refused(() => authorize(p, bearer(DOCS), 'indexes.delete', 'movies'), 403, 'invalid_api_key', INVALID);
    // Routes without an index check only the action.
    refused(() => authorize(p, bearer(SEARCH), 'tasks.get', null), 403, 'invalid_api_key', INVALID);
  });

  it('`*.get` grants the read actions, not `keys.get`; `*` grants all', () => {
    for (const action of ['search', 'documents.get', 'indexes.get', 'settings.get', 'stats.get', 'version', 'tasks.get', 'export']) {
      assert.equal(authorize(p, bearer(READER), action, null).allIndexes, true, action);
    }
    for (const action of ['keys.get', 'documents.add', 'indexes.delete']) {
      refused(() => authorize(p, bearer(READER), action, null), 403, 'invalid_api_key', INVALID);
    }
    assert.deepEqual([...expandActions(['tasks.*'])].sort(), ['tasks.*', 'tasks.cancel', 'tasks.compact', 'tasks.delete', 'tasks.get']);
    assert.equal(expandActions(['*']).has('fields.post'), true);
  });

  it('refuses a key from its expiry instant on', () => {
    assert.equal(authorize(p, bearer(READER), 'search', 'movies').allowsIndex('x'), true);
    refused(() => authorize(p, bearer(OLD), 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    refused(() => authorize({ ...p, nowMicros: () => NOW + 1 }, bearer(READER), 'search', 'movies'), 403, 'invalid_api_key', INVALID);
  });

  it('refuses an unknown key', () => {
    refused(() => authorize(p, 'Bearer nope', 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    refused(() => authorize(p, `Bearer ${deriveKey('another master key', SEARCH.uid)}`, 'search', 'movies'), 403, 'invalid_api_key', INVALID);
  });
});

describe('authorize: tenant tokens', () => {
  const p = policy(KEYS);
  const secret = deriveKey(MASTER, SEARCH.uid);
  const token = (claims: Record<string, unknown>, alg = 'HS256', key = secret) => `Bearer ${jwt({ alg, typ: 'JWT' }, claims, key)}`;
  const rules = { movies: { filter: 'genre = drama' }, 'series_*': { filter: 'a = 1' }, series_2024: null, '*': { filter: 'x = 1' } };

  it('narrows the parent key with its rules; the most specific rule gives the filter', () => {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const ctx = authorize(p, token({ apiKeyUid: SEARCH.uid, searchRules: rules, exp: NOW_S + 60 }, alg), 'search', 'movies');
      assert.equal(ctx.allIndexes, false);
      assert.equal(ctx.searchFilter('movies'), 'genre = drama');
      assert.equal(ctx.searchFilter('series_2023'), 'a = 1');
      assert.equal(ctx.searchFilter('series_2024'), null);
      assert.equal(ctx.searchFilter('secret'), null);
      assert.deepEqual([ctx.allowsIndex('series_2024'), ctx.allowsIndex('secret')], [true, false]);
    }
    const list = authorize(p, token({ apiKeyUid: SEARCH.uid, searchRules: ['movies'] }), 'search', 'movies');
    assert.deepEqual([list.allowsIndex('movies'), list.allowsIndex('series_1'), list.searchFilter('movies')], [true, false, null]);
  });

  it('names the token rules, then the parent key, for an uncovered index', () => {
    refused(
      () => authorize(p, token({ apiKeyUid: SEARCH.uid, searchRules: ['series_*', 'movies', 'movies'] }), 'search', 'secret'),
      403,
      'invalid_api_key',
      'The provided tenant token cannot acces the index `secret`, allowed indexes are ["movies", "series_*"].',
    );
    refused(
      () => authorize(p, token({ apiKeyUid: SEARCH.uid, searchRules: ['*'] }), 'search', 'secret'),
      403,
      'invalid_api_key',
      'The API key used to generate this tenant token cannot acces the index `secret`.',
    );
  });

  it('says when a token expired, with both instants in seconds', () => {
    refused(
      () => authorize(p, token({ apiKeyUid: SEARCH.uid, searchRules: ['*'], exp: NOW_S - 1 }), 'search', 'movies'),
      403,
      'invalid_api_key',
      `Tenant token expired. Was valid up to \`${NOW_S - 1}\` and we're now \`${NOW_S}\`.`,
    );
    assert.equal(authorize(p, token({ apiKeyUid: SEARCH.uid, searchRules: ['*'], exp: NOW_S }), 'search', 'movies').allowsIndex('movies'), true);
  });

  it('refuses forged, undecodable and orphan tokens with their texts', () => {
    const forged = token({ apiKeyUid: SEARCH.uid, searchRules: ['*'] }, 'HS256', 'not the secret');
    refused(() => authorize(p, forged, 'search', 'movies'), 403, 'invalid_api_key', 'Could not decode tenant token, InvalidSignature.');
    refused(() => authorize(p, token({ apiKeyUid: SEARCH.uid, searchRules: ['*'] }, 'none'), 'search', 'movies'), 403, 'invalid_api_key', 'Could not decode tenant token, InvalidAlgorithm.');
    refused(() => authorize(p, 'Bearer a.b.c', 'search', 'movies'), 403, 'invalid_api_key', 'Could not decode tenant token, JSON error: expected value at line 1 column 1.');
    refused(
      () => authorize(p, token({ searchRules: ['*'] }), 'search', 'movies'),
      403,
      'invalid_api_key',
      'Could not decode tenant token, JSON error: missing field `apiKeyUid` at line 1 column 21.',
    );
    // serde's positions: past a scalar it refuses, at the start of a container, past the brace (or
    // at the comma) for the untagged `searchRules`.
    const uid = SEARCH.uid;
    const claims: [Record<string, unknown>, string][] = [
      [{ apiKeyUid: uid, searchRules: ['*'], exp: 1.5 }, 'invalid type: floating point `1.5`, expected i64 at line 1 column 81'],
      [{ apiKeyUid: uid, searchRules: ['*'], exp: 'soon' }, 'invalid type: string "soon", expected i64 at line 1 column 84'],
      [{ exp: [1], apiKeyUid: uid, searchRules: ['*'] }, 'invalid type: sequence, expected i64 at line 1 column 7'],
      [{ exp: true }, 'invalid type: boolean `true`, expected i64 at line 1 column 11'],
      [{ apiKeyUid: 7, searchRules: ['*'] }, 'invalid type: integer `7`, expected a UUID string at line 1 column 14'],
      [{ apiKeyUid: { a: 1 } }, 'invalid type: map, expected a UUID string at line 1 column 13'],
      [{ apiKeyUid: 'abc' }, 'UUID parsing failed: invalid length: expected length 32 for simple format, found 3 at line 1 column 18'],
      [{ searchRules: 'kefir', apiKeyUid: uid }, 'data did not match any variant of untagged enum SearchRules at line 1 column 22'],
      [{ apiKeyUid: uid, searchRules: { 'bad uid': null } }, 'data did not match any variant of untagged enum SearchRules at line 1 column 83'],
      [{ searchRules: ['*'], exp: 5 }, 'missing field `apiKeyUid` at line 1 column 29'],
    ];
    for (const [c, message] of claims) {
      refused(() => authorize(p, token(c), 'search', 'movies'), 403, 'invalid_api_key', `Could not decode tenant token, JSON error: ${message}.`);
    }
    const spaced = `Bearer ${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"searchRules" : 3 , "apiKeyUid":""}').toString('base64url')}.x`;
    refused(
      () => authorize(p, spaced, 'search', 'movies'),
      403,
      'invalid_api_key',
      'Could not decode tenant token, JSON error: data did not match any variant of untagged enum SearchRules at line 1 column 19.',
    );
    // Signed correctly for a uid no key has (a deleted key): the signature holds, the key does not.
    const orphan = '55555555-5555-4555-8555-555555555555';
    refused(() => authorize(p, token({ apiKeyUid: orphan, searchRules: ['*'] }, 'HS256', deriveKey(MASTER, orphan)), 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    // A lookup that cannot know the signing secret refuses without a reason.
    const blind = { ...p, keys: { ...p.keys, secretOf: () => undefined } };
    refused(() => authorize(blind, token({ apiKeyUid: SEARCH.uid, searchRules: ['*'] }), 'search', 'movies'), 403, 'invalid_api_key', INVALID);
  });

  it('is a plain (wrong) key off the search and chat routes, and needs a parent that may search', () => {
    const t = token({ apiKeyUid: SEARCH.uid, searchRules: ['*'] });
    refused(() => authorize(p, t, 'documents.get', 'movies'), 403, 'invalid_api_key', INVALID);
    refused(() => authorize(p, 'Bearer a.b.c', 'documents.get', 'movies'), 403, 'invalid_api_key', INVALID);
    const docsSecret = deriveKey(MASTER, DOCS.uid);
    refused(() => authorize(p, token({ apiKeyUid: DOCS.uid, searchRules: ['*'] }, 'HS256', docsSecret), 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    // `chatCompletions` reads tokens too: this parent key lacks the action.
    refused(() => authorize(p, t, 'chatCompletions', null), 403, 'invalid_api_key', INVALID);
  });
});
