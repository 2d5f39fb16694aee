/**
 * The storage-free key rules the engine and the orchestrator both answer `/keys` with: default keys,
 * listing order and pages, lookup by uid or value, creation and patching.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { MeiliError, defaultKeys, deriveKey, findKey, keyPage, listingOrder, newKey, parseCreateKey, patchedKey } from '../src/index.js';
import type { ApiKey } from '../src/index.js';

const MASTER = 'protocol-keys-master-key';
const NOW = Date.UTC(2030, 0, 1) * 1000;

function clock(start: number): () => number {
  let t = start;
  return () => t++;
}

function lookup(keys: ApiKey[]) {
  return { byUid: (uid: string) => keys.find((k) => k.uid === uid), bySecret: (s: string) => keys.find((k) => deriveKey(MASTER, k.uid) === s) };
}

function fails(fn: () => unknown, status: number, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MeiliError);
    assert.deepEqual([e.status, e.code, e.message], [status, code, message]);
    return true;
  });
}

describe('API keys', () => {
  it("Meilisearch's four default keys, listed newest first", () => {
    const keys = defaultKeys(clock(NOW));
    assert.deepEqual(
      listingOrder(keys).map((k) => [k.name, k.actions, k.indexes, k.expiresAt]),
      [
        ['Default Search API Key', ['search'], ['*'], null],
        ['Default Admin API Key', ['*'], ['*'], null],
        ['Default Read-Only Admin API Key', ['*.get', 'keys.get'], ['*'], null],
        ['Default Chat API Key', ['chatCompletions', 'search'], ['*'], null],
      ],
    );
    assert.equal(new Set(keys.map((k) => k.uid)).size, 4);
    assert.notDeepEqual(defaultKeys(clock(NOW)).map((k) => k.uid), keys.map((k) => k.uid), 'uids are random');
  });

  it('pages slice the listing; bad parameters get the Meilisearch errors', () => {
    const keys = listingOrder(defaultKeys(clock(NOW)));
    const page = keyPage(keys, { offset: '1', limit: '2' }, (uid) => deriveKey(MASTER, uid));
    assert.deepEqual([page.offset, page.limit, page.total], [1, 2, 4]);
    assert.deepEqual(page.results.map((k) => k.uid), keys.slice(1, 3).map((k) => k.uid));
    assert.equal(page.results[0]!.key, deriveKey(MASTER, keys[1]!.uid));
    assert.equal(page.results[0]!.createdAt, '2030-01-01T00:00:00.000002Z');
    assert.deepEqual(keyPage(keys, {}, () => '').limit, 20);
    fails(() => keyPage(keys, { limit: '-1' }, () => ''), 400, 'invalid_api_key_limit', 'Invalid value in parameter `limit`: could not parse `-1` as a positive integer');
    assert.throws(() => keyPage(keys, { from: '1' }, () => ''), (e: unknown) => e instanceof MeiliError && e.code === 'bad_request');
  });

  it('a key is found by uid or by value; otherwise api_key_not_found', () => {
    const keys = defaultKeys(clock(NOW));
    const k = keys[2]!;
    assert.equal(findKey(lookup(keys), k.uid), k);
    assert.equal(findKey(lookup(keys), k.uid.toUpperCase()), k);
    assert.equal(findKey(lookup(keys), deriveKey(MASTER, k.uid)), k);
    fails(() => findKey(lookup(keys), 'nope'), 404, 'api_key_not_found', 'API key `nope` not found.');
  });

  it('creation keeps the given uid and expiry offset; a patch changes name and description only', () => {
    const body = parseCreateKey({ uid: '5b0b1c9e-4d1c-4a8e-9a57-2f0d1e2c3b4a', actions: ['search'], indexes: ['films'], expiresAt: '2099-01-01T00:00:00+02:00' }, NOW);
    const k = newKey(body, NOW);
    assert.deepEqual([k.uid, k.expiresOffset, k.createdAt, k.updatedAt], ['5b0b1c9e-4d1c-4a8e-9a57-2f0d1e2c3b4a', 120, NOW, NOW]);
    assert.match(newKey(parseCreateKey({ actions: ['*'], indexes: ['*'], expiresAt: null }, NOW), NOW).uid, /^[0-9a-f-]{36}$/);
    const p = patchedKey(k, { description: 'd' }, NOW + 5);
    assert.deepEqual([p.name, p.description, p.actions, p.createdAt, p.updatedAt], [null, 'd', ['search'], NOW, NOW + 5]);
    assert.equal(patchedKey(p, { name: 'n', description: null }, NOW + 6).description, null);
  });
});
