// Per-route key actions and index scoping on the engine's own routes (reference §1.2, §1.3).
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { http, meiliError, startTestEngine, waitTask, writeAndWait } from './helpers.js';
import type { TestEngine } from './helpers.js';

const MASTER = 'a-master-key-of-sufficient-length';
const master = { authorization: `Bearer ${MASTER}` };
let e: TestEngine;

before(async () => {
  e = await startTestEngine({ masterKey: MASTER });
  for (const uid of ['books', 'films']) {
    const t = await writeAndWait(e.url, 'POST', `/indexes/${uid}/documents`, [{ id: 1, title: uid }], master);
    assert.equal(t.status, 'succeeded');
  }
});
after(async () => {
  await e.close();
});

async function key(actions: string[], indexes: string[]): Promise<Record<string, string>> {
  const r = await http(e.url, 'POST', '/keys', { actions, indexes, expiresAt: null }, master);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { authorization: `Bearer ${r.body.key}` };
}

test('routes need a key once a master key is set; /health stays public', async () => {
  assert.equal((await http(e.url, 'GET', '/health')).status, 200);
  const r = await http(e.url, 'GET', '/indexes/books/documents');
  assert.equal(r.status, 401);
  assert.deepEqual(
    r.body,
    meiliError('missing_authorization_header', 'The Authorization header is missing. It must use the bearer authorization method.', 'auth'),
  );
  const bad = await http(e.url, 'GET', '/indexes/books/documents', undefined, { authorization: 'Bearer nope' });
  assert.equal(bad.status, 403);
  assert.deepEqual(bad.body, meiliError('invalid_api_key', 'The provided API key is invalid.', 'auth'));
});

test('an action grants exactly its routes', async () => {
  const reader = await key(['documents.get'], ['*']);
  assert.equal((await http(e.url, 'GET', '/indexes/books/documents', undefined, reader)).status, 200);
  assert.equal((await http(e.url, 'POST', '/indexes/books/documents', [{ id: 2 }], reader)).status, 403);
  assert.equal((await http(e.url, 'GET', '/indexes/books/settings', undefined, reader)).status, 403);
  const settings = await key(['settings.*'], ['*']);
  assert.equal((await http(e.url, 'GET', '/indexes/books/settings', undefined, settings)).status, 200);
  assert.equal((await http(e.url, 'PATCH', '/indexes/books/settings', { stopWords: ['a'] }, settings)).status, 202);
  assert.equal((await http(e.url, 'DELETE', '/indexes/books', undefined, settings)).status, 403);
});

test('an index-scoped key sees only its indexes in /indexes and /stats', async () => {
  const scoped = await key(['indexes.get', 'stats.get', 'documents.get'], ['books']);
  const list = await http(e.url, 'GET', '/indexes', undefined, scoped);
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.results.map((i: { uid: string }) => i.uid),
    ['books'],
  );
  assert.equal(list.body.total, 1);
  const stats = await http(e.url, 'GET', '/stats', undefined, scoped);
  assert.deepEqual(Object.keys(stats.body.indexes), ['books']);
  assert.equal((await http(e.url, 'GET', '/indexes/films/documents', undefined, scoped)).status, 403);
  assert.equal((await http(e.url, 'GET', '/indexes/books/documents', undefined, scoped)).status, 200);
});

test('a key without indexes.create cannot create an index through a write', async () => {
  const adder = await key(['documents.add', 'settings.update'], ['*']);
  const write = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const r = await http(e.url, method, path, body, headers);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return waitTask(e.url, r.body.taskUid, master);
  };
  const t = await write('POST', '/indexes/brand_new/documents', [{ id: 1 }], adder);
  assert.equal(t.status, 'failed');
  assert.deepEqual(t.error, meiliError('index_not_found', 'Index `brand_new` not found.'));
  const s = await write('PATCH', '/indexes/brand_new/settings', { stopWords: ['a'] }, adder);
  assert.equal(s.status, 'failed');
  assert.equal(s.error.code, 'index_not_found');
  const ok = await write('POST', '/indexes/books/documents', [{ id: 7 }], adder);
  assert.equal(ok.status, 'succeeded');
  const creator = await key(['documents.add', 'indexes.create'], ['*']);
  const created = await write('POST', '/indexes/brand_new/documents', [{ id: 1 }], creator);
  assert.equal(created.status, 'succeeded');
});

test('creating an index needs a key that covers its uid', async () => {
  const scoped = await key(['indexes.create'], ['logs_*']);
  const denied = await http(e.url, 'POST', '/indexes', { uid: 'books2' }, scoped);
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.body, meiliError('invalid_api_key', 'The provided API key is invalid.', 'auth'));
  const allowed = await http(e.url, 'POST', '/indexes', { uid: 'logs_2026' }, scoped);
  assert.equal(allowed.status, 202);
});

test('CORS headers are on refused requests too, and preflights need no key', async () => {
  const refused = await http(e.url, 'GET', '/indexes', undefined, { origin: 'https://app.example' });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('access-control-allow-origin'), '*');
  const pre = await fetch(`${e.url}/indexes`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
});
