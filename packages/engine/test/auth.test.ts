import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import { MeiliError } from '@miroir/protocol';
import { Auth, OPEN_CONTEXT } from '../src/auth/index.js';
import type { ApiKey, AuthContext } from '../src/auth/index.js';

const MASTER = 'MASTER_KEY_FOR_TESTS_0123456789';
const INVALID = 'The provided API key is invalid.';

function denied(fn: () => unknown, status: number, code: string, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    if (!(e instanceof MeiliError)) return false;
    assert.equal(e.status, status);
    assert.equal(e.code, code);
    assert.equal(e.type, 'auth');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

const nowUs = (): number => Date.now() * 1000;

function addKey(auth: Auth, partial: Partial<ApiKey> & Pick<ApiKey, 'uid' | 'actions' | 'indexes'>): string {
  auth.keys.put({ name: null, description: null, expiresAt: null, expiresOffset: 0, createdAt: nowUs(), updatedAt: nowUs(), ...partial });
  return auth.keys.secret(partial.uid);
}

describe('authorization without a master key', () => {
  const auth = new Auth(new Database(':memory:'));

  it('opens every route but /keys', () => {
    assert.equal(auth.authorize(undefined, 'documents.add', 'movies'), OPEN_CONTEXT);
    assert.equal(auth.authorize('Bearer anything', 'search', 'movies'), OPEN_CONTEXT);
    denied(
      () => auth.authorize(undefined, 'keys.get', null),
      401,
      'missing_master_key',
      'Meilisearch is running without a master key. To access this API endpoint, you must have set a master key at launch.',
    );
  });

  it('still rejects a header that is not a bearer', () => {
    denied(
      () => auth.authorize('Basic abc', 'search', 'movies'),
      401,
      'missing_authorization_header',
      'The Authorization header is missing. It must use the bearer authorization method.',
    );
    denied(() => auth.authorize('Bearer', 'search', 'movies'), 403, 'invalid_api_key', INVALID);
  });
});

describe('authorization with a master key', () => {
  const auth = new Auth(new Database(':memory:'), MASTER);
  const defaults = new Map(auth.keys.list().map((k) => [k.name, auth.keys.secret(k.uid)]));
  const bearer = (k: string): string => `Bearer ${k}`;

  it('requires a bearer; the master key opens everything', () => {
    denied(
      () => auth.authorize(undefined, 'search', 'movies'),
      401,
      'missing_authorization_header',
      'The Authorization header is missing. It must use the bearer authorization method.',
    );
    denied(() => auth.authorize('Bearer', 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    denied(() => auth.authorize('Bearer ', 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    denied(() => auth.authorize('Bearer kefir', 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    assert.equal(auth.authorize(bearer(MASTER), 'keys.create', null), OPEN_CONTEXT);
  });

  it('default keys grant what Meilisearch grants', () => {
    const search = bearer(defaults.get('Default Search API Key')!);
    const admin = bearer(defaults.get('Default Admin API Key')!);
    const readOnly = bearer(defaults.get('Default Read-Only Admin API Key')!);
    assert.equal(auth.authorize(search, 'search', 'movies').allIndexes, true);
    denied(() => auth.authorize(search, 'documents.get', 'movies'), 403, 'invalid_api_key', INVALID);
    for (const a of ['documents.add', 'settings.update', 'keys.create', 'tasks.cancel', 'indexes.swap']) {
      assert.equal(auth.authorize(admin, a, a.startsWith('keys') || a.startsWith('tasks') ? null : 'movies').allIndexes, true);
    }
    for (const a of ['documents.get', 'settings.get', 'tasks.get', 'stats.get', 'version', 'search', 'keys.get']) {
      auth.authorize(readOnly, a, null);
    }
    for (const a of ['documents.add', 'settings.update', 'keys.create', 'keys.delete']) {
      denied(() => auth.authorize(readOnly, a, null), 403, 'invalid_api_key', INVALID);
    }
  });

  it('enforces action wildcards and index patterns', () => {
    const k = bearer(addKey(auth, { uid: '11111111-1111-4111-8111-111111111111', actions: ['documents.*', 'search', 'tasks.*'], indexes: ['movies', 'logs_*'] }));
    for (const a of ['documents.add', 'documents.get', 'documents.delete', 'search']) {
      auth.authorize(k, a, 'movies');
      auth.authorize(k, a, 'logs_2024');
    }
    auth.authorize(k, 'tasks.cancel', null);
    denied(() => auth.authorize(k, 'settings.update', 'movies'), 403, 'invalid_api_key', INVALID);
    denied(
      () => auth.authorize(k, 'documents.add', 'books'),
      403,
      'invalid_api_key',
      'The API key cannot acces the index `books`, authorized indexes are ["logs_*", "movies"].',
    );
    const ctx = auth.authorize(k, 'tasks.get', null);
    assert.equal(ctx.allIndexes, false);
    assert.equal(ctx.allowsIndex('movies'), true);
    assert.equal(ctx.allowsIndex('logs_x'), true);
    assert.equal(ctx.allowsIndex('logs'), false);
    assert.equal(ctx.searchFilter('movies'), null);
    assert.equal(ctx.allowIndexCreation('movies'), false, 'no indexes.create');
    const creator = bearer(addKey(auth, { uid: '12121212-1212-4121-8121-121212121212', actions: ['documents.add', 'indexes.create'], indexes: ['logs_*'] }));
    const cctx = auth.authorize(creator, 'documents.add', 'logs_1');
    assert.equal(cctx.allowIndexCreation('logs_2'), true);
    assert.equal(cctx.allowIndexCreation('movies'), false);
    assert.equal(auth.authorize(bearer(MASTER), 'documents.add', 'x').allowIndexCreation('x'), true);

    const reads = bearer(addKey(auth, { uid: '22222222-2222-4222-8222-222222222222', actions: ['*.get'], indexes: ['*'] }));
    auth.authorize(reads, 'settings.get', 'x');
    auth.authorize(reads, 'search', 'x');
    denied(() => auth.authorize(reads, 'settings.update', 'x'), 403, 'invalid_api_key', INVALID);
    denied(() => auth.authorize(reads, 'keys.get', null), 403, 'invalid_api_key', INVALID);
  });

  it('an expired key is refused', () => {
    const past = bearer(addKey(auth, { uid: '33333333-3333-4333-8333-333333333333', actions: ['*'], indexes: ['*'], expiresAt: nowUs() - 1_000_000 }));
    denied(() => auth.authorize(past, 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    const future = bearer(addKey(auth, { uid: '44444444-4444-4444-8444-444444444444', actions: ['*'], indexes: ['*'], expiresAt: nowUs() + 3_600_000_000 }));
    auth.authorize(future, 'search', 'movies');
  });
});

describe('tenant tokens', () => {
  const auth = new Auth(new Database(':memory:'), MASTER);
  const PARENT = '55555555-5555-4555-8555-555555555555';
  let secret: string;
  const sign = (claims: Record<string, unknown>, alg = 'HS256', key?: string): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(key ?? secret));
  const bearer = (t: string): string => `Bearer ${t}`;

  before(() => {
    secret = addKey(auth, { uid: PARENT, actions: ['search', 'documents.get'], indexes: ['movies', 'books', 'logs_*'] });
  });

  it('restricts search to the rules and returns the most specific filter', async () => {
    const token = await sign({
      apiKeyUid: PARENT,
      searchRules: { '*': { filter: 'public = true' }, movies: { filter: 'genre = drama' }, 'logs_*': null, 'logs_a*': { filter: 'level > 2' } },
    });
    const ctx: AuthContext = auth.authorize(bearer(token), 'search', 'movies');
    assert.equal(ctx.searchFilter('movies'), 'genre = drama');
    assert.equal(ctx.searchFilter('books'), 'public = true');
    assert.equal(ctx.searchFilter('logs_b'), null);
    assert.equal(ctx.searchFilter('logs_abc'), 'level > 2');
    assert.equal(ctx.searchFilter('elsewhere'), null, 'the parent key does not cover it');
    assert.equal(ctx.allIndexes, false);
    for (const alg of ['HS384', 'HS512']) {
      const t = await sign({ apiKeyUid: PARENT, searchRules: ['movies'] }, alg);
      assert.equal(auth.authorize(bearer(t), 'search', 'movies').searchFilter('movies'), null);
    }
  });

  it('is refused outside its rules and its parent key', async () => {
    const token = await sign({ apiKeyUid: PARENT, searchRules: ['doggo', 'catto'] });
    denied(
      () => auth.authorize(bearer(token), 'search', 'movies'),
      403,
      'invalid_api_key',
      'The provided tenant token cannot acces the index `movies`, allowed indexes are ["catto", "doggo"].',
    );
    denied(
      () => auth.authorize(bearer(token), 'search', 'doggo'),
      403,
      'invalid_api_key',
      'The API key used to generate this tenant token cannot acces the index `doggo`.',
    );
    // Tenant tokens only work on search.
    denied(() => auth.authorize(bearer(token), 'documents.get', 'doggo'), 403, 'invalid_api_key', INVALID);
  });

  it('rejects bad signatures, algorithms, claims and expiry with Meilisearch texts', async () => {
    const forged = await sign({ apiKeyUid: PARENT, searchRules: ['movies'] }, 'HS256', 'not the key');
    denied(() => auth.authorize(bearer(forged), 'search', 'movies'), 403, 'invalid_api_key', 'Could not decode tenant token, InvalidSignature.');

    const expired = await sign({ apiKeyUid: PARENT, searchRules: ['movies'], exp: 1_000_000_000 });
    denied(
      () => auth.authorize(bearer(expired), 'search', 'movies'),
      403,
      'invalid_api_key',
      /^Tenant token expired\. Was valid up to `1000000000` and we're now `\d+`\.$/,
    );
    const fresh = await sign({ apiKeyUid: PARENT, searchRules: ['movies'], exp: Math.floor(Date.now() / 1000) + 3600 });
    auth.authorize(bearer(fresh), 'search', 'movies');

    const noRules = await sign({ tamo: 'kefir' });
    denied(
      () => auth.authorize(bearer(noRules), 'search', 'movies'),
      403,
      'invalid_api_key',
      'Could not decode tenant token, JSON error: missing field `searchRules` at line 1 column 16.',
    );
    const badRules = await sign({ searchRules: 'kefir' });
    denied(
      () => auth.authorize(bearer(badRules), 'search', 'movies'),
      403,
      'invalid_api_key',
      'Could not decode tenant token, JSON error: data did not match any variant of untagged enum SearchRules at line 1 column 23.',
    );

    const badExp = await sign({ apiKeyUid: PARENT, searchRules: ['movies'], exp: 'soon' });
    denied(
      () => auth.authorize(bearer(badExp), 'search', 'movies'),
      403,
      'invalid_api_key',
      /^Could not decode tenant token, JSON error: invalid type: string "soon", expected i64 at line 1 column \d+\.$/,
    );

    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ apiKeyUid: PARENT, searchRules: ['movies'] })).toString('base64url')}.`;
    denied(() => auth.authorize(bearer(unsigned), 'search', 'movies'), 403, 'invalid_api_key', 'Could not decode tenant token, InvalidAlgorithm.');

    const orphan = '66666666-6666-4666-8666-666666666666';
    const orphanToken = await sign({ apiKeyUid: orphan, searchRules: ['movies'] }, 'HS256', auth.keys.secret(orphan));
    denied(() => auth.authorize(bearer(orphanToken), 'search', 'movies'), 403, 'invalid_api_key', INVALID);
  });

  it('dies with its parent key', async () => {
    const uid = '77777777-7777-4777-8777-777777777777';
    const k = addKey(auth, { uid, actions: ['search'], indexes: ['*'] });
    const token = await sign({ apiKeyUid: uid, searchRules: ['*'] }, 'HS256', k);
    assert.equal(auth.authorize(bearer(token), 'search', 'anything').allIndexes, true);
    auth.keys.delete(uid);
    denied(() => auth.authorize(bearer(token), 'search', 'anything'), 403, 'invalid_api_key', INVALID);
  });
});
