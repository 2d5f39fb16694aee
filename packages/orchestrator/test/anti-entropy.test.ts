/**
 * Anti-entropy (spec S13.8) against real nodes: replicas tampered with directly are repaired by one
 * pass, the newest copy wins, an expired document is deleted everywhere and never brought back, and
 * a healthy cluster reports no mismatch.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';
import { antiEntropyPass, assertReplicasAgree, nodeContents } from './replica-kit.js';

type Doc = Record<string, unknown>;

let c: TestCluster;
const docs = Array.from({ length: 300 }, (_, id) => ({ id, title: `item ${id}`, n: id }));

before(async () => {
  c = await startCluster({ nodes: 3, rf: 3, shards: 8, config: { anti_entropy: { duty_cycle: 1, fingerprint_batch_size: 50 } } });
  const t = await c.client.index('items').addDocuments(docs, { primaryKey: 'id' });
  assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

test('writes are stamped with _miroir_updated_at on the nodes, and clients never see it or set it', async () => {
  const onNode = await c.nodeClient(0).index('items').getDocument<Doc>(7);
  assert.equal(typeof onNode._miroir_updated_at, 'number');
  assert.ok(Math.abs((onNode._miroir_updated_at as number) - Date.now()) < 600_000);
  const seen = await c.client.index('items').getDocument<Doc>(7);
  assert.deepEqual(seen, { id: 7, title: 'item 7', n: 7 });
  const refused = await http(c.url, 'POST', '/indexes/items/documents', { body: [{ id: 1, _miroir_updated_at: 5 }] });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.code, 'miroir_reserved_field');
});

test('a healthy cluster reports no mismatch', async () => {
  const r = await antiEntropyPass(c);
  assert.deepEqual({ ...r, errors: r.errors.length }, { ...r, shardsScanned: 8, shardsSkipped: 0, mismatches: 0, repaired: 0, errors: 0 });
});

test('a document deleted on one replica and a field changed on another are repaired in one pass', async () => {
  const n0 = c.nodeClient(0).index('items');
  const n1 = c.nodeClient(1).index('items');
  const del = await n0.deleteDocument(11);
  // A change that keeps Miroir's stamps: two untouched copies outvote it.
  const original = await n1.getDocument<Doc>(12);
  const upd = await n1.addDocuments([{ ...original, title: 'tampered' }]);
  await c.nodeClient(0).tasks.waitForTask(del.taskUid);
  await c.nodeClient(1).tasks.waitForTask(upd.taskUid);
  const r = await antiEntropyPass(c);
  assert.equal(r.mismatches, 2);
  assert.equal(r.repaired, 2);
  await assertReplicasAgree(c, 'items', docs.map((d) => String(d.id)));
  assert.equal((await n1.getDocument<Doc>(12)).title, 'item 12');
  assert.equal((await n0.getDocument<Doc>(11)).title, 'item 11');
  const again = await antiEntropyPass(c);
  assert.equal(again.mismatches, 0);
});

test('the newest _miroir_updated_at wins over a majority of older copies', async () => {
  const n2 = c.nodeClient(2).index('items');
  const original = await n2.getDocument<Doc>(21);
  const t = await n2.addDocuments([{ ...original, title: 'newer', _miroir_updated_at: (original._miroir_updated_at as number) + 1 }]);
  await c.nodeClient(2).tasks.waitForTask(t.taskUid);
  const r = await antiEntropyPass(c);
  assert.equal(r.repaired, 1);
  for (let i = 0; i < 3; i++) assert.equal((await c.nodeClient(i).index('items').getDocument<Doc>(21)).title, 'newer');
  assert.equal((await c.client.index('items').getDocument<Doc>(21)).title, 'newer');
});

test('an expired document is deleted from every replica, never brought back', async () => {
  const expiresAt = Date.now() + 1000;
  const t = await c.client.index('items').addDocuments([{ id: 500, title: 'short-lived', _miroir_expires_at: expiresAt }]);
  assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
  // Gone from one replica only (as a sweep that reached one node would leave it).
  const d = await c.nodeClient(0).index('items').deleteDocument(500);
  await c.nodeClient(0).tasks.waitForTask(d.taskUid);
  await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now() + 50)));
  const r = await antiEntropyPass(c);
  assert.equal(r.mismatches, 1);
  const contents = await nodeContents(c, 'items');
  assert.deepEqual(contents.map((m) => m.has('500')), [false, false, false]);
  const again = await antiEntropyPass(c);
  assert.equal(again.mismatches, 0);
  assert.equal((await http(c.url, 'GET', '/indexes/items/documents/500')).status, 404);
});

test('with auto_repair off, divergence is counted and left alone', async () => {
  const k = await startCluster({ nodes: 2, rf: 2, shards: 4, config: { anti_entropy: { duty_cycle: 1, auto_repair: false } } });
  try {
    const t = await k.client.index('items').addDocuments(docs.slice(0, 40), { primaryKey: 'id' });
    assert.equal((await k.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
    const d = await k.nodeClient(1).index('items').deleteDocument(3);
    await k.nodeClient(1).tasks.waitForTask(d.taskUid);
    const r = await antiEntropyPass(k);
    assert.deepEqual([r.mismatches, r.repaired], [1, 0]);
    assert.equal((await http(k.engines[1]!.url, 'GET', '/indexes/items/documents/3', { key: 'node-master-key-for-tests' })).status, 404);
    const metrics = await (await fetch(k.miroir.metricsUrl!)).text();
    assert.match(metrics, /^miroir_antientropy_mismatches_found_total 1$/m);
    assert.match(metrics, /^miroir_antientropy_shards_scanned_total 4$/m);
  } finally {
    await k.stop();
  }
});

test('with anti-entropy disabled, the field passes through and the admin routes say so', async () => {
  const k = await startCluster({ nodes: 1, rf: 1, shards: 2, config: { anti_entropy: { enabled: false } } });
  try {
    const t = await k.client.index('items').addDocuments([{ id: 1, _miroir_updated_at: 5 }], { primaryKey: 'id' });
    assert.equal((await k.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
    assert.equal((await k.nodeClient(0).index('items').getDocument<Doc>(1))._miroir_updated_at, 5);
    const r = await http(k.url, 'POST', '/_miroir/anti-entropy/run');
    assert.equal(r.status, 501);
    assert.equal(r.body.code, 'miroir_not_supported');
  } finally {
    await k.stop();
  }
});
