/**
 * `Idempotency-Key` across orchestrators (spec S13.10): two orchestrator processes share one Redis;
 * a write retried through the other process answers the first task and reaches no node again, and
 * identical requests racing through both make one task. Node task lists are read on the engines
 * directly, with the node key.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startFleet, waitTerminal, type Fleet, type Orchestrator } from './fleet.js';
import { http } from './harness.js';
import { redisSkip } from './redis-kit.js';

const skip = await redisSkip();
const NODE_KEY = 'node-master-key-for-tests';

describe('idempotency keys across two orchestrators', { skip }, () => {
  let f: Fleet;
  let a: Orchestrator;
  let b: Orchestrator;

  /** Per engine, its tasks of `type` on index `uid`. */
  const nodeTasks = (uid: string, type: string) =>
    Promise.all(
      f.engines.map(async (e) => {
        const r = await http(e.url, 'GET', `/tasks?indexUids=${uid}&types=${type}&limit=1000`, { key: NODE_KEY });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body.results.length as number;
      }),
    );

  before(async () => {
    f = await startFleet({ orchestrators: 2, nodes: 2, rf: 1, shards: 8 });
    [a, b] = f.orchestrators as [Orchestrator, Orchestrator];
    const created = await http(a.url, 'POST', '/indexes', { body: { uid: 'items', primaryKey: 'id' } });
    assert.equal(created.status, 202);
    assert.equal((await waitTerminal(a.url, created.body.taskUid)).status, 'succeeded');
  });
  after(async () => f?.stop());

  test('a write retried through the other orchestrator answers the same task; each node has one task', async () => {
    const docs = Array.from({ length: 30 }, (_, i) => ({ id: i, v: 'first' }));
    const viaA = new Meilisearch({ host: a.url, requestInit: { headers: { 'Idempotency-Key': 'k-retry' } } });
    const viaB = new Meilisearch({ host: b.url, requestInit: { headers: { 'Idempotency-Key': 'k-retry' } } });
    const first = await viaA.index('items').addDocuments(docs);
    const retry = await viaB.index('items').addDocuments(docs);
    assert.equal(retry.taskUid, first.taskUid);
    assert.deepEqual(retry, first, 'the same summary');
    assert.equal((await waitTerminal(b.url, first.taskUid)).status, 'succeeded');
    assert.deepEqual(await nodeTasks('items', 'documentAdditionOrUpdate'), [1, 1]);
    // And after the task finished, through the first one again.
    assert.equal((await viaA.index('items').addDocuments(docs)).taskUid, first.taskUid);
    assert.deepEqual(await nodeTasks('items', 'documentAdditionOrUpdate'), [1, 1]);
  });

  test('the same key with another body through the other orchestrator is 409', async () => {
    const headers = { 'idempotency-key': 'k-settings' };
    const first = await http(a.url, 'PATCH', '/indexes/items/settings', { body: { filterableAttributes: ['v'] }, headers });
    assert.equal(first.status, 202);
    const same = await http(b.url, 'PATCH', '/indexes/items/settings', { body: { filterableAttributes: ['v'] }, headers });
    assert.equal(same.status, 202);
    assert.equal(same.body.taskUid, first.body.taskUid);
    const other = await http(b.url, 'PATCH', '/indexes/items/settings', { body: { filterableAttributes: ['id'] }, headers });
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'miroir_idempotency_key_reused');
    assert.equal((await waitTerminal(a.url, first.body.taskUid)).status, 'succeeded');
  });

  test('ten identical requests at once over both orchestrators make one task, one node task per node', async () => {
    const headers = { 'idempotency-key': 'k-race' };
    const body = { filter: 'v = first' };
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => http((i % 2 === 0 ? a : b).url, 'POST', '/indexes/items/documents/delete', { body, headers })),
    );
    for (const r of answers) assert.equal(r.status, 202, JSON.stringify(r.body));
    const uids = new Set(answers.map((r) => r.body.taskUid));
    assert.equal(uids.size, 1, `one task: ${[...uids].join(', ')}`);
    assert.equal((await waitTerminal(a.url, answers[0]!.body.taskUid)).status, 'succeeded');
    assert.deepEqual(await nodeTasks('items', 'documentDeletion'), [1, 1]);
    const listed = await http(a.url, 'GET', '/tasks?types=documentDeletion&indexUids=items');
    assert.equal(listed.body.results.length, 1, 'one Miroir task');
  });

  test('a write refused through one orchestrator leaves the key free for the other', async () => {
    const headers = { 'idempotency-key': 'k-refused' };
    const refused = await http(a.url, 'POST', '/indexes/items/documents', { raw: 'not json', headers });
    assert.equal(refused.status, 400);
    const ok = await http(b.url, 'POST', '/indexes/items/documents', { body: [{ id: 100, v: 'later' }], headers });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    const retry = await http(a.url, 'POST', '/indexes/items/documents', { body: [{ id: 100, v: 'later' }], headers });
    assert.equal(retry.body.taskUid, ok.body.taskUid);
  });
});
