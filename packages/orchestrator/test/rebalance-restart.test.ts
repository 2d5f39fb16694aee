/**
 * A restart mid-migration (spec S4.5): the orchestrator is stopped while shards are being copied
 * and started again on the same state store. The rebalance resumes from the last committed page
 * (the new node is not sent the copied pages again) and ends in the same state as without the
 * restart: every document (client writes during the run included, and a write the source got that
 * the new owner never saw, which the cutover's delta pass brings over) on exactly its owners.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadHasher } from '../src/core/hash.js';
import type { TestCluster } from './harness.js';
import { adminOf, assertPlacementHeld, MASTER_KEY, startLoadedCluster, waitRebalanced } from './topology-kit.js';

type Doc = Record<string, unknown>;

const KEY = MASTER_KEY;
const S = 16;
const N = 3000;
let c: TestCluster;
const admin = adminOf(() => c);

before(async () => {
  c = await startLoadedCluster({ shards: S, docs: N, docsPerSec: 300, recorded: true });
});
after(async () => c?.stop());

test('a restart mid-migration resumes from the last committed page and ends in the same state', async () => {
  const hasher = await loadHasher();
  const expected = new Map<string, Doc>(Array.from({ length: N }, (_, i) => [String(i), { id: i, v: 0 }]));
  const added = await c.addEngine();
  const res = await admin('POST', '/_miroir/nodes', { id: added.id, address: added.address });
  assert.equal(res.status, 202);
  const moving = new Set<number>(res.body.rebalance.moves.map((m: { shard: number }) => m.shard));
  const movingDocs = [...expected.keys()].filter((id) => moving.has(hasher.shardOf(id, S))).length;

  let before: any;
  for (;;) {
    before = (await admin('GET', '/_miroir/rebalance/status')).body;
    if (before.documents_moved >= 300) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(before.moves_done < before.moves_total, 'stopped mid-migration');

  // Client writes during the migration, to moving shards and others (dual-written where moving).
  const updates = Array.from({ length: 40 }, (_, k) => ({ id: k * 7, v: 1 }));
  let last = (await c.client.index('items').updateDocuments(updates)).taskUid;
  for (const u of updates) expected.set(String(u.id), u);

  // A write the source holds that the new owner never received (as if routed before dual-write):
  // straight to the old owner of a shard whose move is not cut over yet.
  const pending = before.moves.find((m: { state: string }) => m.state !== 'done');
  const ghostId = [...Array(10_000).keys()].map((i) => `ghost-${i}`).find((id) => hasher.shardOf(id, S) === pending.shard)!;
  const src = Number(pending.from[0].slice('node-'.length));
  const direct = await c.nodeClient(src).index('items').addDocuments([{ id: ghostId, v: 9, _miroir_shard: pending.shard, _miroir_updated_at: Date.now() }]);
  assert.equal((await c.nodeClient(src).tasks.waitForTask(direct.taskUid)).status, 'succeeded');
  expected.set(ghostId, { id: ghostId, v: 9 });

  await c.restartMiroir();
  const resumed = (await admin('GET', '/_miroir/rebalance/status')).body;
  assert.notEqual(resumed.state, 'idle', 'the rebalance is still there after the restart');
  assert.equal(resumed.id, before.id);
  assert.ok(resumed.documents_moved >= before.documents_moved, 'committed pages survive the restart');

  const more = Array.from({ length: 40 }, (_, k) => ({ id: k * 11 + 1, v: 2 }));
  last = (await c.client.index('items').updateDocuments(more)).taskUid;
  for (const u of more) expected.set(String(u.id), u);
  const del = await c.client.index('items').deleteDocuments([5, 6, 7, 8]);
  last = del.taskUid;
  for (const id of ['5', '6', '7', '8']) expected.delete(id);

  const done = await waitRebalanced(c, KEY);
  assert.equal(done.last.topology_version, 3);
  assert.equal((await c.client.tasks.waitForTask(last)).status, 'succeeded');

  // The new node was not sent the copied pages twice: what it received is at most the moving
  // documents, the client writes routed to it, and the delta pass.
  let received = 0;
  for (const r of c.recorders.get(added.index)!.requests) {
    if (r.method === 'POST' && /^\/indexes\/items\/documents(\?|$)/.test(r.path)) received += (JSON.parse(r.body) as unknown[]).length;
  }
  assert.ok(received <= movingDocs + updates.length + more.length + 20, `the new node received ${received} documents for ${movingDocs} moving`);

  const all = await c.client.index('items').getDocuments<Doc>({ limit: 100_000 });
  const got = new Map(all.results.map((d) => [String(d.id), d]));
  assert.equal(got.size, expected.size);
  for (const [id, d] of expected) assert.deepEqual(got.get(id), d, `document ${id}`);
  assert.equal((await assertPlacementHeld(c, 'items', KEY)).size, expected.size);
  const verify = (await admin('GET', '/_miroir/verify?deep=true')).body;
  assert.deepEqual(verify.problems, []);
});
