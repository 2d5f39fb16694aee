/**
 * Zero loss under load (spec S2.7, S4.5): while one client writes continuously (inserts, updates
 * and deletes, with a known expected final state) and another searches, a node is added, another is
 * drained and removed, then a replica group is added and the first one removed. Afterwards the cluster holds exactly the
 * expected documents, every node exactly its shards, every search during the run was complete, and
 * `miroir-ctl verify` passes. Every step goes through `miroir-ctl`.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { startCluster, type TestCluster } from './harness.js';
import { assertPlacementHeld, slowRebalancer, waitRebalanced } from './topology-kit.js';

type Doc = Record<string, unknown>;

const KEY = 'master-key';
const STABLE = 1000;
const bin = fileURLToPath(new URL('../../bin/miroir-ctl.js', import.meta.url));
const execFileAsync = promisify(execFile);
let c: TestCluster;

/** Runs miroir-ctl with the admin key from the environment; returns its parsed --json output. */
async function ctl(...args: string[]): Promise<any> {
  const r = await execFileAsync(process.execPath, [bin, '--api-url', c.url, '--json', ...args], { env: { PATH: process.env.PATH, MIROIR_ADMIN_API_KEY: KEY } });
  return JSON.parse(r.stdout);
}

before(async () => {
  c = await startCluster({
    nodes: 3,
    rf: 1,
    shards: 16,
    masterKey: KEY,
    config: slowRebalancer(400, 2),
  });
  const idx = c.client.index('items');
  const s = await c.client.createIndex('items', { primaryKey: 'id' });
  await c.client.tasks.waitForTask(s.taskUid);
  const f = await idx.updateSettings({ filterableAttributes: ['kind'] });
  assert.equal((await c.client.tasks.waitForTask(f.taskUid)).status, 'succeeded');
  const stable = Array.from({ length: STABLE }, (_, i) => ({ id: `s${i}`, kind: 'stable', v: 0 }));
  const t = await idx.addDocuments(stable);
  assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

test('add a node, drain and remove another, add a group, remove the first, under writes and searches: no write lost, no search incomplete', async () => {
  const idx = c.client.index('items');
  const expected = new Map<string, Doc>();
  for (let i = 0; i < STABLE; i++) expected.set(`s${i}`, { id: `s${i}`, kind: 'stable', v: 0 });
  let stop = false;
  let writes = 0;
  let lastTask = 0;
  let next = 0;
  const live: string[] = [];

  // One writer, each write accepted before the next: the expected state follows task order.
  const writer = (async () => {
    while (!stop) {
      const r = (next * 7919) % 10;
      if (r < 5 || live.length < 10) {
        const batch = Array.from({ length: 3 }, () => ({ id: `w${next++}`, kind: 'live', v: 0 }));
        lastTask = (await idx.addDocuments(batch)).taskUid;
        for (const d of batch) {
          expected.set(d.id, d);
          live.push(d.id);
        }
      } else if (r < 8) {
        const id = live[(next * 31) % live.length]!;
        const doc = { id, kind: 'live', v: ((expected.get(id)!.v as number) ?? 0) + 1 };
        lastTask = (await idx.updateDocuments([{ id, v: doc.v }])).taskUid;
        expected.set(id, doc);
        next++;
      } else {
        const id = live.splice((next * 17) % live.length, 1)[0]!;
        lastTask = (await idx.deleteDocument(id)).taskUid;
        expected.delete(id);
        next++;
      }
      writes++;
    }
  })();

  // Searches during the run: the stable documents span every shard, and every search must see all.
  const incomplete: string[] = [];
  let searches = 0;
  const searcher = (async () => {
    while (!stop) {
      const res = await idx.search('', { filter: 'kind = stable', limit: STABLE + 10 });
      searches++;
      if (res.hits.length !== STABLE || res.estimatedTotalHits !== STABLE) incomplete.push(`${res.hits.length}/${res.estimatedTotalHits}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();

  const added = await c.addEngine();
  const a = await ctl('node', 'add', '--id', added.id, '--address', added.address, '--replica-group', '0');
  assert.equal(a.topology_version, 2);
  assert.ok(a.rebalance.moves_total > 0);
  await waitRebalanced(c, KEY);

  const r = await ctl('node', 'remove', 'node-0');
  assert.equal(r.topology_version, 4);
  await waitRebalanced(c, KEY);
  const topo = await ctl('status');
  assert.deepEqual(topo.nodes.map((n: { id: string }) => n.id).sort(), ['node-1', 'node-2', 'node-3']);

  const g1 = await c.addEngine();
  const g2 = await c.addEngine();
  const g = await ctl('group', 'add', '--node', `${g1.id}=${g1.address}`, '--node', `${g2.id}=${g2.address}`);
  assert.equal(g.topology_version, 6);
  assert.equal(g.rebalance.moves_total, 16, 'the new group syncs every shard');
  const done = await waitRebalanced(c, KEY);
  assert.equal(done.last.topology_version, 7);

  // Then the original group goes: its queries stop at once, no shard moves.
  const gone = await ctl('group', 'remove', '0', '--yes');
  assert.equal(gone.topology_version, 8);
  assert.equal(gone.rebalance.moves_total, 0);
  await waitRebalanced(c, KEY);

  stop = true;
  await Promise.all([writer, searcher]);
  assert.equal((await c.client.tasks.waitForTask(lastTask)).status, 'succeeded');
  assert.ok(writes > 20, `the writer kept writing (${writes} writes)`);
  assert.ok(searches > 5, `the searcher kept searching (${searches} searches)`);
  assert.deepEqual(incomplete, [], 'every search during the run was complete');

  // The cluster's content equals the expected state exactly.
  const all = await idx.getDocuments<Doc>({ limit: 100_000 });
  const got = new Map(all.results.map((d) => [String(d.id), d]));
  assert.equal(got.size, expected.size);
  for (const [id, d] of expected) assert.deepEqual(got.get(id), d, `document ${id}`);
  // Every node holds exactly its shards (both groups), replicas identical, none lost.
  assert.equal((await assertPlacementHeld(c, 'items', KEY)).size, expected.size);
  const status = await ctl('status');
  assert.equal(status.version, 9);
  assert.deepEqual(status.groups, [{ id: 1, state: 'active' }]);
  assert.deepEqual(status.nodes.map((n: { id: string }) => n.id).sort(), [g1.id, g2.id]);
  const verify = await ctl('verify', '--deep');
  assert.deepEqual(verify.problems, []);
  assert.equal(verify.ok, true);
});
