/**
 * Keys and tenant tokens end to end: a real engine with a master key, the official client, its
 * tenant token generator.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { generateTenantToken } from 'meilisearch/token';
import { startEngine } from '../src/index.js';
import type { RunningEngine } from '../src/index.js';
import { deriveKey } from '../src/auth/index.js';

const MASTER = 'MASTER_KEY_FOR_E2E_TESTS_0123456789';

function apiError(status: number, code: string): (e: unknown) => boolean {
  return (e) => e instanceof MeilisearchApiError && e.response.status === status && e.cause?.code === code;
}

describe('keys and tenant tokens through the official client', () => {
  let dir: string;
  let engine: RunningEngine;
  let admin: Meilisearch;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miroir-keys-e2e-'));
    engine = await startEngine({ port: 0, dataDir: dir, masterKey: MASTER });
    admin = new Meilisearch({ host: engine.url, apiKey: MASTER });
    await admin.createIndex('movies', { primaryKey: 'id' }).waitTask();
    await admin.createIndex('books', { primaryKey: 'id' }).waitTask();
    await admin.index('movies').updateFilterableAttributes(['genre', 'id']).waitTask();
    await admin
      .index('movies')
      .addDocuments([
        { id: 1, title: 'Carol', genre: 'drama' },
        { id: 2, title: 'Wonder Woman', genre: 'action' },
        { id: 3, title: 'Moonlight', genre: 'drama' },
      ])
      .waitTask();
  });

  after(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('manages keys', async () => {
    const keys = await admin.getKeys();
    assert.equal(keys.total, 4);
    assert.deepEqual(keys.results.map((k) => k.name), ['Default Search API Key', 'Default Admin API Key', 'Default Read-Only Admin API Key', 'Default Chat API Key']);

    const created = await admin.createKey({ name: 'movies search', actions: ['search', 'documents.get'], indexes: ['movies'], expiresAt: null });
    assert.equal(created.key, deriveKey(MASTER, created.uid));
    assert.deepEqual(await admin.getKey(created.uid), created);
    assert.deepEqual(await admin.getKey(created.key), created);
    const updated = await admin.updateKey(created.uid, { name: 'renamed', description: 'for the front' });
    assert.equal(updated.name, 'renamed');
    assert.equal(updated.description, 'for the front');
    assert.deepEqual(updated.actions, ['search', 'documents.get']);
    await admin.deleteKey(created.key);
    await assert.rejects(admin.getKey(created.uid), apiError(404, 'api_key_not_found'));
  });

  it('enforces key permissions on real routes', async () => {
    const k = await admin.createKey({ actions: ['search'], indexes: ['movies'], expiresAt: null });
    const client = new Meilisearch({ host: engine.url, apiKey: k.key });
    const r = await client.index('movies').search('carol');
    assert.deepEqual(r.hits.map((h) => h.id), [1]);
    await assert.rejects(client.index('books').search(''), (e: unknown) => {
      assert.ok(e instanceof MeilisearchApiError);
      assert.equal(e.response.status, 403);
      assert.deepEqual(e.cause, {
        message: 'The API key cannot acces the index `books`, authorized indexes are ["movies"].',
        code: 'invalid_api_key',
        type: 'auth',
        link: 'https://docs.meilisearch.com/errors#invalid_api_key',
      });
      return true;
    });
    await assert.rejects(client.index('movies').addDocuments([{ id: 9 }]), apiError(403, 'invalid_api_key'));
    await assert.rejects(client.getKeys(), apiError(403, 'invalid_api_key'));

    const res = await fetch(`${engine.url}/indexes/movies/search`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), {
      message: 'The Authorization header is missing. It must use the bearer authorization method.',
      code: 'missing_authorization_header',
      type: 'auth',
      link: 'https://docs.meilisearch.com/errors#missing_authorization_header',
    });
  });

  it('checks the key before reading the body', async () => {
    const res = await fetch(`${engine.url}/keys`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: string }).code, 'missing_authorization_header');
  });

  it('an index-scoped key sees only the tasks of its indexes', async () => {
    const k = await admin.createKey({ actions: ['tasks.get'], indexes: ['books'], expiresAt: null });
    const client = new Meilisearch({ host: engine.url, apiKey: k.key });
    const tasks = await client.tasks.getTasks();
    assert.ok(tasks.results.length > 0);
    assert.deepEqual([...new Set(tasks.results.map((t) => t.indexUid))], ['books']);
    const moviesTask = (await admin.tasks.getTasks({ indexUids: ['movies'], limit: 1 })).results[0]!;
    await assert.rejects(client.tasks.getTask(moviesTask.uid), apiError(404, 'task_not_found'));
  });

  it('tenant tokens from the official generator restrict search and add their filter', async () => {
    const parent = await admin.createKey({ actions: ['search'], indexes: ['*'], expiresAt: null });
    const token = await generateTenantToken({
      apiKey: parent.key,
      apiKeyUid: parent.uid,
      searchRules: { movies: { filter: 'genre = drama' } },
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const tenant = new Meilisearch({ host: engine.url, apiKey: token });
    const r = await tenant.index('movies').search('');
    assert.deepEqual(r.hits.map((h) => h.id).sort(), [1, 3]);
    const narrowed = await tenant.index('movies').search('', { filter: 'id = 3' });
    assert.deepEqual(narrowed.hits.map((h) => h.id), [3]);
    await assert.rejects(tenant.index('books').search(''), (e: unknown) => {
      assert.ok(e instanceof MeilisearchApiError);
      assert.equal(e.cause?.message, 'The provided tenant token cannot acces the index `books`, allowed indexes are ["movies"].');
      return true;
    });
    await assert.rejects(tenant.index('movies').getDocuments(), apiError(403, 'invalid_api_key'));

    await admin.deleteKey(parent.uid);
    await assert.rejects(tenant.index('movies').search(''), apiError(403, 'invalid_api_key'));
  });
});
