/**
 * `Idempotency-Key` on client writes (spec S13.10) through one orchestrator over real engine nodes
 * (SQLite store): a retry answers the first task and sends nothing; another request with the key is
 * refused; a refused write leaves the key free; a malformed key is 400; the feature switched off
 * ignores the header. The module alone (over a real store): a write without the header touches
 * neither the store nor the hash, and the cache stays within its bound.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { MeilisearchApiError, Meilisearch } from 'meilisearch';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { TaskSummary } from '@miroir/protocol';
import { Idempotency, requestDigest, type WriteAnswer } from '../src/api/idempotency.js';
import { SqliteStore } from '../src/state/sqlite.js';
import type { StateStore } from '../src/state/store.js';
import { http, startCluster, type TestCluster } from './harness.js';

const NODE_KEY = 'node-master-key-for-tests';

/** The tasks of `type` on index `uid` each engine holds, asked of the engines directly. */
async function nodeTasks(c: TestCluster, uid: string, type: string): Promise<number[]> {
  return Promise.all(
    c.engines.map(async (e) => {
      const r = await http(e.url, 'GET', `/tasks?indexUids=${uid}&types=${type}&limit=1000`, { key: NODE_KEY });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.results.length as number;
    }),
  );
}

async function settled(c: TestCluster, uid: number): Promise<string> {
  for (;;) {
    const r = await http(c.url, 'GET', `/tasks/${uid}`);
    if (r.body.status !== 'enqueued' && r.body.status !== 'processing') return r.body.status;
    await new Promise((res) => setTimeout(res, 25));
  }
}

const docs = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ id: i, tag }));

describe('idempotency keys through one orchestrator', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({ nodes: 2, shards: 8 });
    const created = await http(c.url, 'POST', '/indexes', { body: { uid: 'books', primaryKey: 'id' } });
    assert.equal(created.status, 202);
    assert.equal(await settled(c, created.body.taskUid), 'succeeded');
  });
  after(async () => c?.stop());

  test('a retried document write answers the first task and reaches no node again', async () => {
    const headers = { 'idempotency-key': 'add-1' };
    const first = await http(c.url, 'POST', '/indexes/books/documents', { body: docs(20, 'a'), headers });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const again = await http(c.url, 'POST', '/indexes/books/documents', { body: docs(20, 'a'), headers });
    assert.equal(again.status, 202);
    assert.deepEqual(again.body, first.body, 'the same summary: taskUid, indexUid, status, type, enqueuedAt');
    assert.deepEqual(Object.keys(again.body).sort(), ['enqueuedAt', 'indexUid', 'status', 'taskUid', 'type']);
    assert.equal(await settled(c, first.body.taskUid), 'succeeded');
    // After the task finished, a retry still answers it (as enqueued, the original answer).
    const late = await http(c.url, 'POST', '/indexes/books/documents', { body: docs(20, 'a'), headers });
    assert.deepEqual(late.body, first.body);
    assert.deepEqual(await nodeTasks(c, 'books', 'documentAdditionOrUpdate'), [1, 1], 'one node task per node');
  });

  test('the official client: the same key twice gives one task; another body with it is 409', async () => {
    const client = new Meilisearch({ host: c.url, requestInit: { headers: { 'Idempotency-Key': 'sdk-1' } } });
    const a = await client.index('books').updateDocuments([{ id: 1, tag: 'sdk' }]);
    const b = await client.index('books').updateDocuments([{ id: 1, tag: 'sdk' }]);
    assert.equal(b.taskUid, a.taskUid);
    await assert.rejects(client.index('books').updateDocuments([{ id: 2, tag: 'sdk' }]), (e: unknown) => {
      assert.ok(e instanceof MeilisearchApiError);
      assert.equal(e.response.status, 409);
      assert.equal(e.cause?.code, 'miroir_idempotency_key_reused');
      return true;
    });
  });

  test('another body, route, query or content type with a used key is 409, with a Meilisearch-shaped error', async () => {
    const headers = { 'idempotency-key': 'settings-1' };
    const first = await http(c.url, 'PATCH', '/indexes/books/settings', { body: { searchableAttributes: ['tag'] }, headers });
    assert.equal(first.status, 202);
    const cases = [
      http(c.url, 'PATCH', '/indexes/books/settings', { body: { searchableAttributes: ['id'] }, headers }),
      http(c.url, 'PUT', '/indexes/books/settings/searchable-attributes', { body: ['tag'], headers }),
      http(c.url, 'PATCH', '/indexes/books/settings?x=1', { body: { searchableAttributes: ['tag'] }, headers }),
      http(c.url, 'DELETE', '/indexes/books/settings', { headers }),
      http(c.url, 'POST', '/indexes', { body: { uid: 'other' }, headers }),
    ];
    for (const r of await Promise.all(cases)) {
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.code, 'miroir_idempotency_key_reused');
      assert.equal(r.body.type, 'invalid_request');
      assert.match(r.body.message, /new key/);
      assert.ok(r.body.link.includes('miroir_idempotency_key_reused'));
    }
    assert.equal((await http(c.url, 'GET', '/indexes/other')).status, 404, 'the refused creation did not run');
    assert.equal(await settled(c, first.body.taskUid), 'succeeded');
  });

  test('a write refused without a task leaves its key free', async () => {
    const headers = { 'idempotency-key': 'refused-1' };
    const bad = await http(c.url, 'POST', '/indexes/books/documents', { raw: '[{"id": 1,', headers });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'malformed_payload');
    // A refusal by the nodes themselves (every node answers 4xx, no task): the key is released too.
    const refused = await http(c.url, 'PATCH', '/indexes/books/settings', { body: { rankingRules: ['nope:sideways'] }, headers });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    const ok = await http(c.url, 'POST', '/indexes/books/documents', { body: docs(3, 'fixed'), headers });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    const again = await http(c.url, 'POST', '/indexes/books/documents', { body: docs(3, 'fixed'), headers });
    assert.equal(again.body.taskUid, ok.body.taskUid);
  });

  test('a write Miroir fails itself (no primary key) is a task: a retry answers it', async () => {
    const headers = { 'idempotency-key': 'local-1' };
    const first = await http(c.url, 'POST', '/indexes/nopk/documents', { body: [{ title: 'no id' }], headers });
    assert.equal(first.status, 202);
    const again = await http(c.url, 'POST', '/indexes/nopk/documents', { body: [{ title: 'no id' }], headers });
    assert.equal(again.body.taskUid, first.body.taskUid);
  });

  test('concurrent requests with one key make one task', async () => {
    const headers = { 'idempotency-key': 'race-1' };
    const answers = await Promise.all(Array.from({ length: 10 }, () => http(c.url, 'DELETE', '/indexes/books/documents', { headers })));
    for (const r of answers) assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(new Set(answers.map((r) => r.body.taskUid)).size, 1);
    assert.equal(await settled(c, answers[0]!.body.taskUid), 'succeeded');
    assert.deepEqual(await nodeTasks(c, 'books', 'documentDeletion'), [1, 1]);
  });

  test('a malformed key is 400 miroir_invalid_idempotency_key and nothing runs', async () => {
    for (const key of ['x'.repeat(256), 'tab\tinside', ' ']) {
      const r = await http(c.url, 'POST', '/indexes', { body: { uid: 'badkey' }, headers: { 'idempotency-key': key } });
      assert.equal(r.status, 400, `${JSON.stringify(key)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'miroir_invalid_idempotency_key');
    }
    assert.equal((await http(c.url, 'GET', '/indexes/badkey')).status, 404);
    const ok = await http(c.url, 'POST', '/indexes', { body: { uid: 'badkey' }, headers: { 'idempotency-key': 'x'.repeat(255) } });
    assert.equal(ok.status, 202);
  });

  test('hits, misses and conflicts are counted', async () => {
    const text = await (await fetch(`${c.url}/_miroir/metrics`)).text();
    const count = (outcome: string) => Number(new RegExp(`^miroir_idempotency_requests_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    assert.ok(count('hit') >= 5, text);
    assert.ok(count('miss') >= 5);
    assert.ok(count('conflict') >= 6);
    assert.ok(count('invalid') >= 3);
    assert.ok(count('released') >= 1);
  });
});

describe('idempotency switched off', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({ nodes: 1, shards: 4, config: { idempotency: { enabled: false } } });
  });
  after(async () => c?.stop());

  test('the header is ignored: every request runs, even with a malformed key', async () => {
    const headers = { 'idempotency-key': 'same' };
    const a = await http(c.url, 'POST', '/indexes/off/documents', { body: [{ id: 1 }], headers });
    const b = await http(c.url, 'POST', '/indexes/off/documents', { body: [{ id: 2 }], headers });
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    assert.notEqual(a.body.taskUid, b.body.taskUid);
    const bad = await http(c.url, 'POST', '/indexes/off/documents', { body: [{ id: 3 }], headers: { 'idempotency-key': 'x'.repeat(300) } });
    assert.equal(bad.status, 202);
    const text = await (await fetch(`${c.url}/_miroir/metrics`)).text();
    assert.ok(!text.includes('miroir_idempotency_requests_total'), 'no family while switched off');
  });
});

describe('the idempotency module over a real store', () => {
  let dir: string;
  let store: SqliteStore;
  const calls: string[] = [];
  let counted: StateStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miroir-idem-'));
    store = new SqliteStore(join(dir, 'state.db'));
    // Every method call on the store is recorded, then passed to the real store.
    counted = new Proxy(store, {
      get(target, name, receiver) {
        const v = Reflect.get(target, name, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.push(String(name));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (headers: Record<string, string>, body = '{}') =>
    ({ method: 'POST', url: '/indexes/a/documents', headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(body), raw: {} }) as unknown as FastifyRequest;
  const summary = (uid: number): TaskSummary => ({ taskUid: uid, indexUid: 'a', status: 'enqueued', type: 'documentAdditionOrUpdate', enqueuedAt: 'now' });
  const answer: WriteAnswer<TaskSummary> = { summary: (s) => s, replay: (s) => s };

  test('a write without the header costs no store call and no hashing', async () => {
    let digests = 0;
    const idem = new Idempotency({
      store: counted,
      config: { enabled: true, ttl_seconds: 60, max_cached_keys: 10 },
      registry: new Registry(),
      log: pino({ level: 'silent' }),
      digest: (req) => (digests++, requestDigest(req)),
    });
    calls.length = 0;
    let ran = 0;
    for (let i = 0; i < 100; i++) await idem.run(request({}), async () => summary(++ran), answer);
    assert.equal(ran, 100);
    assert.equal(calls.length, 0, calls.join());
    assert.equal(digests, 0);
    await idem.run(request({ 'idempotency-key': 'k' }), async () => summary(++ran), answer);
    assert.equal(digests, 1);
    assert.ok(calls.includes('putRowIfAbsent'));
  });

  test('the cache keeps at most max_cached_keys; an evicted key is still found in the store', async () => {
    const opts = { store: counted, config: { enabled: true, ttl_seconds: 60, max_cached_keys: 2 }, registry: new Registry(), log: pino({ level: 'silent' }) };
    const idem = new Idempotency(opts);
    let ran = 100;
    const first = new Map<string, number>();
    for (const k of ['e1', 'e2', 'e3', 'e4']) first.set(k, (await idem.run(request({ 'idempotency-key': k }), async () => summary(++ran), answer)).taskUid);
    assert.equal(idem.cachedKeys, 2);
    calls.length = 0;
    // The task rows do not exist in this store: the kept answer is replayed.
    assert.equal((await idem.run(request({ 'idempotency-key': 'e4' }), async () => summary(++ran), answer)).taskUid, first.get('e4'));
    assert.ok(!calls.includes('getRow'), 'a cached key is answered without reading its row');
    assert.equal((await idem.run(request({ 'idempotency-key': 'e1' }), async () => summary(++ran), answer)).taskUid, first.get('e1'));
    assert.ok(calls.includes('getRow'), 'an evicted key is read from the store');
    // Another process (a fresh module on the same store) deduplicates too.
    const other = new Idempotency({ ...opts, registry: new Registry() });
    assert.equal((await other.run(request({ 'idempotency-key': 'e2' }), async () => summary(++ran), answer)).taskUid, first.get('e2'));
    await assert.rejects(other.run(request({ 'idempotency-key': 'e2' }, '{"x":1}'), async () => summary(++ran), answer), { code: 'miroir_idempotency_key_reused' });
    assert.equal(ran, 104, 'no write ran again');
  });
});
