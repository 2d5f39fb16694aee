/**
 * The client-API authenticator over a key source: when it re-reads the cluster's keys (an unknown
 * credential, an old copy) and what it answers meanwhile. The decision itself is
 * `@miroir/protocol`'s, tested there and through the parity suite.
 */
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { MeiliError, OPEN_CONTEXT, deriveKey } from '@miroir/protocol';
import type { KeyGrant, KeyLookup } from '@miroir/protocol';
import { Authenticator, type KeySource } from '../src/api/auth.js';

const MASTER = 'miroir-master';
const INVALID = 'The provided API key is invalid.';

/** Keys "in the store", and the copy the authenticator reads, refreshed when old enough. */
class Store implements KeySource {
  stored: KeyGrant[] = [];
  #copy: KeyGrant[] = [];
  /** How old the copy is (ms), set by the test instead of a clock. */
  age = Infinity;
  refreshes: number[] = [];

  current(): KeyLookup {
    const copy = this.#copy;
    return {
      byUid: (uid) => copy.find((k) => k.uid === uid),
      bySecret: (s) => copy.find((k) => deriveKey(MASTER, k.uid) === s),
      secretOf: (uid) => deriveKey(MASTER, uid),
    };
  }

  async refreshIfOlder(maxAgeMs: number): Promise<boolean> {
    if (this.age < maxAgeMs) return false;
    this.refreshes.push(maxAgeMs);
    this.#copy = [...this.stored];
    this.age = 0;
    return true;
  }
}

const request = (authorization?: string): FastifyRequest =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as FastifyRequest;
const key = (uid: string, actions: string[], indexes: string[]): KeyGrant => ({ uid, actions, indexes, expiresAt: null });
const bearer = (k: KeyGrant): string => `Bearer ${deriveKey(MASTER, k.uid)}`;
const SEARCH = key('11111111-1111-4111-8111-111111111111', ['search'], ['movies']);
const LATE = key('22222222-2222-4222-8222-222222222222', ['*'], ['*']);

async function refusedWith(p: Promise<unknown>, status: number, code: string, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MeiliError);
    assert.deepEqual([e.status, e.code, e.message], [status, code, message]);
    return true;
  });
}

describe('Authenticator.client', () => {
  test('the master key and a missing header never read the keys', async () => {
    const store = new Store();
    const auth = new Authenticator({ masterKey: MASTER, adminKey: '', resolver: store });
    assert.equal(await auth.client(request(`Bearer ${MASTER}`), 'keys.create', null), OPEN_CONTEXT);
    await refusedWith(
      auth.client(request(), 'search', 'movies'),
      401,
      'missing_authorization_header',
      'The Authorization header is missing. It must use the bearer authorization method.',
    );
    assert.deepEqual(store.refreshes, []);
  });

  test('reads the keys once, then trusts the copy while it is young', async () => {
    const store = new Store();
    store.stored = [SEARCH];
    const auth = new Authenticator({ masterKey: MASTER, adminKey: '', resolver: store });
    const access = await auth.client(request(bearer(SEARCH)), 'search', 'movies');
    assert.deepEqual([access.allowsIndex('movies'), access.allowsIndex('secret')], [true, false]);
    // The first copy is read on the miss.
    assert.deepEqual(store.refreshes, [0]);
    store.age = 5_000;
    await refusedWith(
      auth.client(request(bearer(SEARCH)), 'search', 'secret'),
      403,
      'invalid_api_key',
      'The API key cannot acces the index `secret`, authorized indexes are ["movies"].',
    );
    assert.deepEqual(store.refreshes, [0], 'a known key refused for its scope re-reads nothing');
  });

  test('an unknown credential re-reads the keys at once, however young the copy', async () => {
    const store = new Store();
    const auth = new Authenticator({ masterKey: MASTER, adminKey: '', resolver: store });
    await refusedWith(auth.client(request('Bearer nope'), 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    // A key created since (through another orchestrator, whose event has not arrived yet).
    store.stored = [LATE];
    store.age = 1;
    assert.equal((await auth.client(request(bearer(LATE)), 'documents.add', 'movies')).allIndexes, true);
    assert.deepEqual(store.refreshes, [0, 0]);
    // A known key is not re-read while the copy is young.
    await auth.client(request(bearer(LATE)), 'documents.add', 'movies');
    assert.deepEqual(store.refreshes, [0, 0]);
  });

  test('an old copy is re-read before a key it holds is trusted', async () => {
    const store = new Store();
    store.stored = [SEARCH];
    const auth = new Authenticator({ masterKey: MASTER, adminKey: '', resolver: store });
    await auth.client(request(bearer(SEARCH)), 'search', 'movies');
    store.stored = [];
    store.age = 10_000;
    await refusedWith(auth.client(request(bearer(SEARCH)), 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    assert.deepEqual(store.refreshes, [0, 10_000]);
  });

  test('without a key source only the master key opens the API', async () => {
    const auth = new Authenticator({ masterKey: MASTER, adminKey: '' });
    await refusedWith(auth.client(request(bearer(SEARCH)), 'search', 'movies'), 403, 'invalid_api_key', INVALID);
    assert.equal(await auth.client(request(`Bearer ${MASTER}`), 'search', 'movies'), OPEN_CONTEXT);
    const open = new Authenticator({ masterKey: '', adminKey: '' });
    assert.equal(await open.client(request(), 'documents.add', 'movies'), OPEN_CONTEXT);
    await refusedWith(
      open.client(request(), 'keys.get', null),
      401,
      'missing_master_key',
      'Meilisearch is running without a master key. To access this API endpoint, you must have set a master key at launch.',
    );
  });
});

describe('Authenticator.multiSearch', () => {
  test('one decision per request; a query on an uncovered index gets the generic error', async () => {
    const store = new Store();
    store.stored = [SEARCH];
    const auth = new Authenticator({ masterKey: MASTER, adminKey: '', resolver: store });
    const req = request(bearer(SEARCH));
    const route = await auth.multiSearch(req);
    assert.equal(await auth.multiSearchQuery(req, 'movies'), route);
    await refusedWith(auth.multiSearchQuery(req, 'secret'), 403, 'invalid_api_key', INVALID);
    assert.deepEqual(store.refreshes, [0]);
    await refusedWith(auth.multiSearch(request('Bearer nope')), 403, 'invalid_api_key', INVALID);
  });
});
