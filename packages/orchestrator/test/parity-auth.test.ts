/**
 * Parity (spec S8): authentication and API keys through Miroir (3 nodes, RF=2, its own master key)
 * answer as one node with a master key answers — missing/invalid keys, `/keys` CRUD shapes, a key's
 * allowed and forbidden actions, tenant tokens (signed with a key created through each side), and
 * compressed request bodies. Error messages are compared exactly: Meilisearch's specific texts for an
 * uncovered index, an expired or undecodable tenant token are part of its API (its own auth tests
 * check them).
 */
import * as assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, deflate, gzip } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { generateTenantToken } from 'meilisearch/token';
import { assertSame, assertSameError, send, startParity, type Pair, type Parity, type RequestSpec, type Side } from './parity-kit.js';

let p: Parity;

const MOVIES = Array.from({ length: 24 }, (_, i) => ({
  id: i,
  title: `film ${['red', 'blue', 'green'][i % 3]} ${i}`,
  genre: ['drama', 'comedy', 'horror'][i % 3],
  year: 1990 + i,
}));

/** API keys are generated: their value and uid differ per side unless the uid is given. */
const KEY_MASK = { mask: ['key', 'uid'] };

async function write(method: string, path: string, spec: RequestSpec) {
  const { enqueued, done } = await p.task(method, path, spec);
  assertSame(enqueued);
  assertSame(done);
  assert.equal(done.ref.body.status, 'succeeded', JSON.stringify(done.ref.body));
}

/** Sends a request to each side with that side's own token. */
async function withTokens(tokens: { ref: string; mir: string }, method: string, path: string, spec: RequestSpec = {}): Promise<Pair> {
  const [ref, mir] = await Promise.all([
    send(p.ref, method, path, { ...spec, auth: tokens.ref }),
    send(p.mir, method, path, { ...spec, auth: tokens.mir }),
  ]);
  return { ref, mir, what: `${method} ${path} ${spec.json === undefined ? '' : JSON.stringify(spec.json)} (own token)` };
}

/** A compact HS256 JWT, signed by hand (to send claims no tenant-token library writes). */
function signJwt(claims: Record<string, unknown>, secret: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** Creates the same key on both sides; returns both values and uids. */
async function createKey(json: Record<string, unknown>) {
  const pair = await p.both('POST', '/keys', { json });
  assertSame(pair, KEY_MASK);
  assert.equal(pair.ref.status, 201, JSON.stringify(pair.ref.body));
  return {
    pair,
    key: { ref: pair.ref.body.key as string, mir: pair.mir.body.key as string },
    uid: { ref: pair.ref.body.uid as string, mir: pair.mir.body.uid as string },
  };
}

before(async () => {
  p = await startParity();
  await write('POST', '/indexes', { json: { uid: 'movies', primaryKey: 'id' } });
  await write('PATCH', '/indexes/movies/settings', { json: { filterableAttributes: ['genre', 'year'], sortableAttributes: ['year'] } });
  await write('POST', '/indexes/movies/documents', { json: MOVIES });
  await write('POST', '/indexes', { json: { uid: 'secret', primaryKey: 'id' } });
});
after(async () => p?.stop());

describe('authentication', () => {
  const ROUTES: [string, string, unknown?][] = [
    ['GET', '/indexes'],
    ['GET', '/indexes/movies'],
    ['POST', '/indexes/movies/search', { q: 'film' }],
    ['GET', '/indexes/movies/documents'],
    ['POST', '/indexes/movies/documents', [{ id: 99 }]],
    ['GET', '/indexes/movies/settings'],
    ['GET', '/tasks'],
    ['GET', '/keys'],
    ['GET', '/stats'],
    ['GET', '/version'],
  ];

  test('no Authorization header: 401 missing_authorization_header', async () => {
    for (const [method, path, json] of ROUTES) {
      assertSameError(await p.both(method, path, { auth: null, ...(json === undefined ? {} : { json }) }), 401, 'missing_authorization_header');
    }
  });

  test('a wrong key: 403 invalid_api_key', async () => {
    for (const [method, path, json] of ROUTES) {
      assertSameError(await p.both(method, path, { auth: 'not-a-key', ...(json === undefined ? {} : { json }) }), 403, 'invalid_api_key');
    }
  });

  test('an empty bearer and another scheme', async () => {
    const empty = await p.both('GET', '/indexes', { auth: null, headers: { authorization: 'Bearer ' } });
    assertSame(empty);
    assert.ok(empty.ref.status === 401 || empty.ref.status === 403, JSON.stringify(empty.ref.body));
    const basic = await p.both('GET', '/indexes', { auth: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assertSame(basic);
    assert.ok(basic.ref.status === 401 || basic.ref.status === 403, JSON.stringify(basic.ref.body));
  });

  test('/health needs no key', async () => {
    const pair = await p.both('GET', '/health', { auth: null });
    assertSame(pair);
    assert.deepEqual(pair.mir.body, { status: 'available' });
  });

  test('the scheme is `Bearer`, exactly', async () => {
    for (const authorization of ['bearer not-a-key', 'BEARER not-a-key', 'Bearer', 'Bearer  not-a-key', 'Token not-a-key']) {
      const pair = await p.both('GET', '/indexes', { auth: null, headers: { authorization } });
      assertSame(pair);
      assert.ok(pair.ref.status === 401 || pair.ref.status === 403, `${authorization}: ${JSON.stringify(pair.ref.body)}`);
    }
    assertSameError(await p.both('GET', '/indexes', { auth: null, headers: { authorization: 'bearer not-a-key' } }), 401, 'missing_authorization_header');
  });

  test('multi-search: a missing or wrong key is refused before any query', async () => {
    for (const queries of [[], [{ indexUid: 'movies' }]]) {
      assertSameError(await p.both('POST', '/multi-search', { auth: null, json: { queries } }), 401, 'missing_authorization_header');
      assertSameError(await p.both('POST', '/multi-search', { auth: 'not-a-key', json: { queries } }), 403, 'invalid_api_key');
    }
    // The key is checked before the body is read.
    assertSameError(await p.both('POST', '/multi-search', { auth: null, raw: '{"queries": [' }), 401, 'missing_authorization_header');
    const wrong = await p.both('POST', '/multi-search', { auth: 'not-a-key', json: { queries: [{ indexUid: 'movies' }] } });
    assert.equal(wrong.ref.body.message, 'The provided API key is invalid.');
  });
});

describe('keys', () => {
  test('the default keys', async () => {
    assertSame(await p.both('GET', '/keys'), { mask: ['key', 'uid'] });
    assertSame(await p.both('GET', '/keys?offset=1&limit=1'), KEY_MASK);
  });

  test('create, read by key and by uid, update, delete', async () => {
    const uid = '0f3f4a4e-8f7e-4c59-9a54-3d4f1c1f0a01';
    const made = await createKey({ uid, name: 'reader', description: 'reads movies', actions: ['search', 'documents.get'], indexes: ['movies'], expiresAt: null });
    assert.equal(made.uid.mir, uid);
    assertSame(await withTokensPath('GET', (s) => `/keys/${s === p.ref ? made.key.ref : made.key.mir}`), { mask: ['key'] });
    assertSame(await p.both('GET', `/keys/${uid}`), { mask: ['key'] });
    const patched = await p.both('PATCH', `/keys/${uid}`, { json: { name: 'renamed', description: null } });
    assertSame(patched, { mask: ['key'] });
    assert.equal(patched.ref.status, 200);
    const deleted = await p.both('DELETE', `/keys/${uid}`);
    assertSame(deleted);
    assert.equal(deleted.ref.status, 204);
    assertSameError(await p.both('GET', `/keys/${uid}`), 404, 'api_key_not_found');
  });

  test('create errors', async () => {
    const base = { actions: ['search'], indexes: ['movies'], expiresAt: null };
    const cases: [unknown, number, string][] = [
      [{ indexes: ['movies'], expiresAt: null }, 400, 'missing_api_key_actions'],
      [{ actions: ['search'], expiresAt: null }, 400, 'missing_api_key_indexes'],
      [{ actions: ['search'], indexes: ['movies'] }, 400, 'missing_api_key_expires_at'],
      [{ ...base, actions: ['fly'] }, 400, 'invalid_api_key_actions'],
      [{ ...base, indexes: ['bad uid'] }, 400, 'invalid_api_key_indexes'],
      [{ ...base, expiresAt: '2001-01-01T00:00:00Z' }, 400, 'invalid_api_key_expires_at'],
      [{ ...base, expiresAt: 'tomorrow' }, 400, 'invalid_api_key_expires_at'],
      [{ ...base, uid: 'not-a-uuid' }, 400, 'invalid_api_key_uid'],
      [{ ...base, name: 3 }, 400, 'invalid_api_key_name'],
      [{ ...base, color: 'red' }, 400, 'bad_request'],
    ];
    for (const [json, status, code] of cases) assertSameError(await p.both('POST', '/keys', { json }), status, code);
    assertSameError(await p.both('POST', '/keys', { raw: '{"actions": ' }), 400, 'malformed_payload');
  });

  test('a duplicate uid: 409 api_key_already_exists', async () => {
    const uid = '0f3f4a4e-8f7e-4c59-9a54-3d4f1c1f0a02';
    await createKey({ uid, actions: ['search'], indexes: ['*'], expiresAt: null });
    assertSameError(await p.both('POST', '/keys', { json: { uid, actions: ['search'], indexes: ['*'], expiresAt: null } }), 409, 'api_key_already_exists');
  });

  test('update and read errors', async () => {
    const uid = '0f3f4a4e-8f7e-4c59-9a54-3d4f1c1f0a03';
    await createKey({ uid, actions: ['search'], indexes: ['*'], expiresAt: null });
    assertSameError(await p.both('PATCH', `/keys/${uid}`, { json: { actions: ['*'] } }), 400, 'immutable_api_key_actions');
    assertSameError(await p.both('PATCH', `/keys/${uid}`, { json: { indexes: ['*'] } }), 400, 'immutable_api_key_indexes');
    assertSameError(await p.both('PATCH', `/keys/${uid}`, { json: { expiresAt: null } }), 400, 'immutable_api_key_expires_at');
    assertSameError(await p.both('PATCH', `/keys/${uid}`, { json: { name: 4 } }), 400, 'invalid_api_key_name');
    assertSameError(await p.both('GET', '/keys/0f3f4a4e-8f7e-4c59-9a54-3d4f1c1f0aff'), 404, 'api_key_not_found');
    assertSameError(await p.both('DELETE', '/keys/0f3f4a4e-8f7e-4c59-9a54-3d4f1c1f0aff'), 404, 'api_key_not_found');
    assertSameError(await p.both('GET', '/keys?limit=-1'), 400, 'invalid_api_key_limit');
  });

  test('a search key: allowed and forbidden actions', async () => {
    const made = await createKey({ actions: ['search'], indexes: ['movies'], expiresAt: null });
    const allowed = await withTokens(made.key, 'POST', '/indexes/movies/search', { json: { q: 'film', sort: ['year:asc'], limit: 5 } });
    assertSame(allowed);
    assert.equal(allowed.ref.status, 200);
    assertSame(await withTokens(made.key, 'GET', '/indexes/movies/search?q=blue&sort=year:asc'));
    for (const [method, path, json] of [
      ['POST', '/indexes/movies/documents', [{ id: 500 }]],
      ['GET', '/indexes/movies/documents'],
      ['GET', '/indexes/movies'],
      ['GET', '/indexes/movies/settings'],
      ['DELETE', '/indexes/movies', undefined],
      ['GET', '/keys'],
    ] as [string, string, unknown][]) {
      assertSameError(await withTokens(made.key, method, path, json === undefined ? {} : { json }), 403, 'invalid_api_key');
    }
  });

  test('an index-scoped key lists only its indexes', async () => {
    const made = await createKey({ actions: ['indexes.get', 'tasks.get'], indexes: ['mov*'], expiresAt: null });
    const list = await withTokens(made.key, 'GET', '/indexes');
    assertSame(list);
    assert.deepEqual(list.mir.body.results.map((i: { uid: string }) => i.uid), ['movies']);
  });

  test('an expired key is refused', async () => {
    const expiresAt = Date.now() + 3000;
    const made = await createKey({ actions: ['search'], indexes: ['*'], expiresAt: new Date(expiresAt).toISOString() });
    await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 100));
    assertSameError(await withTokens(made.key, 'POST', '/indexes/movies/search', { json: {} }), 403, 'invalid_api_key');
  });
  test('a key used on an index it does not cover', async () => {
    const search = await createKey({ actions: ['search'], indexes: ['movies'], expiresAt: null });
    const pair = await withTokens(search.key, 'POST', '/indexes/secret/search', { json: { q: 'x' } });
    assertSameError(pair, 403, 'invalid_api_key');
    assert.equal(pair.ref.body.message, 'The API key cannot acces the index `secret`, authorized indexes are ["movies"].');
    const reader = await createKey({ actions: ['indexes.get', 'documents.get'], indexes: ['mov*', 'a', 'mov*'], expiresAt: null });
    const index = await withTokens(reader.key, 'GET', '/indexes/secret');
    assertSameError(index, 403, 'invalid_api_key');
    assert.equal(index.ref.body.message, 'The API key cannot acces the index `secret`, authorized indexes are ["a", "mov*"].');
    assertSameError(await withTokens(reader.key, 'GET', '/indexes/secret/documents'), 403, 'invalid_api_key');
    // The index is checked before the action.
    const both = await withTokens(reader.key, 'DELETE', '/indexes/secret');
    assertSameError(both, 403, 'invalid_api_key');
    assert.match(both.ref.body.message, /^The API key cannot acces the index/);
    assertSameError(await withTokens(reader.key, 'DELETE', '/indexes/movies'), 403, 'invalid_api_key');
  });

  test('multi-search: a query on an index the key does not cover', async () => {
    const made = await createKey({ actions: ['search'], indexes: ['movies'], expiresAt: null });
    const pair = await withTokens(made.key, 'POST', '/multi-search', { json: { queries: [{ indexUid: 'movies', q: 'red' }, { indexUid: 'secret' }] } });
    assertSameError(pair, 403, 'invalid_api_key');
    assert.equal(pair.ref.body.message, 'Inside `.queries[1]`: The provided API key is invalid.');
    const federated = await withTokens(made.key, 'POST', '/multi-search', {
      json: { federation: {}, queries: [{ indexUid: 'secret' }, { indexUid: 'movies' }] },
    });
    assertSameError(federated, 403, 'invalid_api_key');
    assertSame(await withTokens(made.key, 'POST', '/multi-search', { json: { queries: [{ indexUid: 'movies', q: 'blue', sort: ['year:asc'] }] } }));
  });
});

/** One request per side where the path depends on the side. */
async function withTokensPath(method: string, path: (s: Side) => string): Promise<Pair> {
  const [ref, mir] = await Promise.all([send(p.ref, method, path(p.ref)), send(p.mir, method, path(p.mir))]);
  return { ref, mir, what: `${method} ${path(p.mir)}` };
}

describe('index creation needs indexes.create', () => {
  test('a documents or settings write to a missing index with a key that may not create it fails, creating nothing', async () => {
    // One node enqueues the write and fails the task with index_not_found (allow_index_creation).
    const k = await createKey({ actions: ['documents.add', 'settings.update', 'tasks.get', 'indexes.get'], indexes: ['*'], expiresAt: null });
    const writes: [string, string, unknown][] = [
      ['POST', '/indexes/uncreated/documents', [{ id: 1, title: 'x' }]],
      ['PUT', '/indexes/uncreated/documents', [{ id: 1, title: 'x' }]],
      ['PATCH', '/indexes/uncreated/settings', { filterableAttributes: ['title'] }],
      ['PUT', '/indexes/uncreated/settings/synonyms', { a: ['b'] }],
    ];
    for (const [method, path, json] of writes) {
      const enqueued = await withTokens(k.key, method, path, { json });
      assertSame(enqueued);
      assert.equal(enqueued.mir.status, 202, `${method} ${path}: ${JSON.stringify(enqueued.mir.body)}`);
      const [ref, mir] = await Promise.all([p.wait(p.ref, enqueued.ref.body.taskUid), p.wait(p.mir, enqueued.mir.body.taskUid)]);
      assertSame({ ref, mir, what: `${method} ${path} task` });
      assert.equal(mir.body.status, 'failed');
      assert.equal(mir.body.error.code, 'index_not_found');
      assertSameError(await p.both('GET', '/indexes/uncreated'), 404, 'index_not_found');
    }
    // The same key writes to an index that exists.
    const ok = await withTokens(k.key, 'POST', '/indexes/movies/documents', { json: [MOVIES[0]] });
    const [ref, mir] = await Promise.all([p.wait(p.ref, ok.ref.body.taskUid), p.wait(p.mir, ok.mir.body.taskUid)]);
    assert.deepEqual([ref.body.status, mir.body.status], ['succeeded', 'succeeded']);
  });
});

describe('tenant tokens', () => {
  let parent: Awaited<ReturnType<typeof createKey>>;
  before(async () => {
    parent = await createKey({ actions: ['search'], indexes: ['movies', 'secret'], expiresAt: null });
  });

  async function tokens(searchRules: Record<string, unknown> | string[], expiresAt?: Date) {
    const make = (side: 'ref' | 'mir') =>
      generateTenantToken({ apiKey: parent.key[side], apiKeyUid: parent.uid[side], searchRules: searchRules as never, force: true, ...(expiresAt ? { expiresAt } : {}) });
    return { ref: await make('ref'), mir: await make('mir') };
  }

  test('the filter of the search rules applies to every search', async () => {
    const t = await tokens({ movies: { filter: 'genre = drama' } });
    for (const json of [{}, { q: 'film', sort: ['year:desc'] }, { filter: 'year > 2000', sort: ['year:asc'] }, { facets: ['genre'], limit: 0 }]) {
      const pair = await withTokens(t, 'POST', '/indexes/movies/search', { json });
      assertSame(pair);
      assert.equal(pair.ref.status, 200);
    }
    const all = await withTokens(t, 'POST', '/indexes/movies/search', { json: { limit: 100 } });
    assert.deepEqual(new Set(all.mir.body.hits.map((h: { genre: string }) => h.genre)), new Set(['drama']));
    assert.equal(all.mir.body.hits.length, 8);
    assertSame(await withTokens(t, 'GET', '/indexes/movies/search?q=film&sort=year:asc'));
    assertSame(await withTokens(t, 'POST', '/multi-search', { json: { queries: [{ indexUid: 'movies', q: 'red' }] } }));
  });

  test('a rule filter of the wrong type is refused with the search, never dropped', async () => {
    // Meilisearch fuses the rule's filter into the search's (`fuse_filters`) and its filter parser
    // refuses a number or an object: the token opens nothing, on every search route.
    for (const filter of [5, { genre: 'drama' }]) {
      const t = await tokens({ movies: { filter } });
      for (const [method, path, json] of [
        ['POST', '/indexes/movies/search', { q: 'film' }],
        ['POST', '/indexes/movies/search', { filter: 'year > 2000' }],
        ['POST', '/indexes/movies/facet-search', { facetName: 'genre' }],
      ] as const) {
        const pair = await withTokens(t, method, path, { json });
        assertSame(pair);
        assert.equal(pair.mir.status, 400, `${path} ${JSON.stringify(filter)}: ${JSON.stringify(pair.mir.body)}`);
      }
      const multi = await withTokens(t, 'POST', '/multi-search', { json: { queries: [{ indexUid: 'movies', q: 'red' }] } });
      assertSame(multi);
      assert.equal(multi.mir.status, 400);
    }
  });

  test('wildcard rules and null filters', async () => {
    const t = await tokens({ '*': { filter: 'year < 1995' } });
    assertSame(await withTokens(t, 'POST', '/indexes/movies/search', { json: { sort: ['year:asc'] } }));
    const open = await tokens(['movies']);
    assertSame(await withTokens(open, 'POST', '/indexes/movies/search', { json: { sort: ['year:asc'], limit: 3 } }));
  });

  test('forbidden: another action', async () => {
    const t = await tokens({ movies: null });
    assertSameError(await withTokens(t, 'GET', '/indexes/movies/documents'), 403, 'invalid_api_key');
    assertSameError(await withTokens(t, 'GET', '/indexes/movies'), 403, 'invalid_api_key');
  });
  test('an expired tenant token says so', async () => {
    const exp = new Date(Date.now() - 60_000);
    const make = (side: 'ref' | 'mir') =>
      generateTenantToken({ apiKey: parent.key[side], apiKeyUid: parent.uid[side], searchRules: { movies: null }, expiresAt: exp, force: true });
    const pair = await withTokens({ ref: await make('ref'), mir: await make('mir') }, 'POST', '/indexes/movies/search', { json: {} });
    // ``Tenant token expired. Was valid up to `<exp>` and we're now `<now>`.``: the clock reading may differ by a second.
    const digitless = (a: Pair['ref']) => ({ ...a.body, message: String(a.body?.message).replace(/\d+/g, '<n>') });
    assert.equal(pair.mir.status, 403);
    assert.deepEqual(digitless(pair.mir), digitless(pair.ref));
    assert.equal(pair.ref.body.message.replace(/\d+/g, '<n>'), "Tenant token expired. Was valid up to `<n>` and we're now `<n>`.");
    assert.ok(pair.mir.body.message.includes(`\`${Math.floor(exp.getTime() / 1000)}\``), pair.mir.body.message);
  });

  test('a tenant token with a bad signature, or signed for an unknown key', async () => {
    const t = await tokens({ movies: null });
    const forged = { ref: `${t.ref.slice(0, -4)}AAAA`, mir: `${t.mir.slice(0, -4)}AAAA` };
    const pair = await withTokens(forged, 'POST', '/indexes/movies/search', { json: {} });
    assertSameError(pair, 403, 'invalid_api_key');
    assert.equal(pair.ref.body.message, 'Could not decode tenant token, InvalidSignature.');
    const stranger = signJwt({ searchRules: ['movies'], apiKeyUid: '0f3f4a4e-8f7e-4c59-9a54-3d4f1c1f0aee' }, 'not the key of anyone');
    const unknown = await p.both('POST', '/indexes/movies/search', { auth: stranger, json: {} });
    assertSameError(unknown, 403, 'invalid_api_key');
    assert.equal(unknown.ref.body.message, 'Could not decode tenant token, InvalidSignature.');
  });

  test('a tenant token that cannot be decoded', async () => {
    const cases: [string, string | RegExp][] = [
      ['a.b.c', 'Could not decode tenant token, JSON error: expected value at line 1 column 1.'],
      ['a!.b.c', 'Could not decode tenant token, Base64 error: Invalid symbol.'],
      [signJwt({ searchRules: ['movies'] }, 'x'), 'Could not decode tenant token, JSON error: missing field `apiKeyUid` at line 1 column 26.'],
      [signJwt({ searchRules: ['movies'], apiKeyUid: 'nope' }, 'x'), /^Could not decode tenant token, JSON error: UUID parsing failed: /],
      [signJwt({ searchRules: 3, apiKeyUid: parent.uid.ref }, 'x'), /^Could not decode tenant token, JSON error: data did not match any variant of untagged enum SearchRules /],
    ];
    for (const [token, message] of cases) {
      const pair = await p.both('POST', '/indexes/movies/search', { auth: token, json: {} });
      assertSameError(pair, 403, 'invalid_api_key');
      if (typeof message === 'string') assert.equal(pair.ref.body.message, message);
      else assert.match(pair.ref.body.message, message);
    }
    // Off the search routes a JWT is only a wrong key.
    const docs = await p.both('GET', '/indexes/movies/documents', { auth: 'a.b.c' });
    assertSameError(docs, 403, 'invalid_api_key');
    assert.equal(docs.ref.body.message, 'The provided API key is invalid.');
  });

  test('a tenant token used on an index it does not cover', async () => {
    const t = await tokens({ movies: null });
    const pair = await withTokens(t, 'POST', '/indexes/secret/search', { json: {} });
    assertSameError(pair, 403, 'invalid_api_key');
    assert.equal(pair.ref.body.message, 'The provided tenant token cannot acces the index `secret`, allowed indexes are ["movies"].');
    const narrow = await createKey({ actions: ['search'], indexes: ['movies'], expiresAt: null });
    const make = (side: 'ref' | 'mir') => generateTenantToken({ apiKey: narrow.key[side], apiKeyUid: narrow.uid[side], searchRules: ['*'], force: true });
    const wide = await withTokens({ ref: await make('ref'), mir: await make('mir') }, 'POST', '/indexes/secret/search', { json: {} });
    assertSameError(wide, 403, 'invalid_api_key');
    assert.equal(wide.ref.body.message, 'The API key used to generate this tenant token cannot acces the index `secret`.');
  });

  test('multi-search with a tenant token: rules filter, uncovered index refused per query', async () => {
    const t = await tokens({ movies: { filter: 'genre = comedy' } });
    const ok = await withTokens(t, 'POST', '/multi-search', { json: { federation: {}, queries: [{ indexUid: 'movies', q: 'film', sort: ['year:asc'] }] } });
    assertSame(ok);
    assert.equal(ok.ref.status, 200);
    const pair = await withTokens(t, 'POST', '/multi-search', { json: { queries: [{ indexUid: 'movies' }, { indexUid: 'secret' }] } });
    assertSameError(pair, 403, 'invalid_api_key');
    assert.equal(pair.ref.body.message, 'Inside `.queries[1]`: The provided API key is invalid.');
  });

  test('a tenant token of a deleted key, or of a key without `search`', async () => {
    const gone = await createKey({ actions: ['search'], indexes: ['*'], expiresAt: null });
    const make = (k: typeof gone, side: 'ref' | 'mir') => generateTenantToken({ apiKey: k.key[side], apiKeyUid: k.uid[side], searchRules: ['*'], force: true });
    const t = { ref: await make(gone, 'ref'), mir: await make(gone, 'mir') };
    assertSame(await withTokens(t, 'POST', '/indexes/movies/search', { json: { limit: 1 } }));
    const deleted = await withTokensPath('DELETE', (s) => `/keys/${s === p.ref ? gone.uid.ref : gone.uid.mir}`);
    assert.equal(deleted.ref.status, 204);
    assertSame(deleted);
    const after = await withTokens(t, 'POST', '/indexes/movies/search', { json: {} });
    assertSameError(after, 403, 'invalid_api_key');
    assert.equal(after.ref.body.message, 'The provided API key is invalid.');
    const reader = await createKey({ actions: ['documents.get'], indexes: ['*'], expiresAt: null });
    const r = { ref: await make(reader, 'ref'), mir: await make(reader, 'mir') };
    const refused = await withTokens(r, 'POST', '/indexes/movies/search', { json: {} });
    assertSameError(refused, 403, 'invalid_api_key');
    assert.equal(refused.ref.body.message, 'The provided API key is invalid.');
  });
});

describe('compressed request bodies', () => {
  const codecs: [string, (b: Buffer) => Promise<Buffer>][] = [
    ['gzip', promisify(gzip)],
    ['deflate', promisify(deflate)],
    ['br', promisify(brotliCompress)],
  ];

  test('documents and searches sent compressed', async () => {
    let id = 1000;
    for (const [encoding, compress] of codecs) {
      const docs = [{ id: id++, title: `compressed ${encoding}`, genre: 'drama', year: 2100 }];
      await write('POST', '/indexes/movies/documents', { raw: await compress(Buffer.from(JSON.stringify(docs))), headers: { 'content-encoding': encoding } });
      const raw = await compress(Buffer.from(JSON.stringify({ q: `compressed ${encoding}` })));
      const pair = await p.both('POST', '/indexes/movies/search', { raw, headers: { 'content-encoding': encoding } });
      assertSame(pair);
      assert.equal(pair.mir.body.hits[0]?.title, `compressed ${encoding}`);
    }
  });

  test('a body that is not what its encoding says', async () => {
    const pair = await p.both('POST', '/indexes/movies/search', { raw: '{"q":"x"}', headers: { 'content-encoding': 'gzip' } });
    assertSame(pair);
    assert.equal(pair.ref.status, 400);
  });
});
