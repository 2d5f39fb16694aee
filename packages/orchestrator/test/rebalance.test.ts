/**
 * Elastic topology against real engines (spec S2.7, S4.5): adding a fourth node to a three-node
 * group at S=64 moves exactly the shards the rendezvous assignment predicts and touches no document
 * of any other shard (every node request is recorded by a proxy); the new node gets every index
 * with the same settings before any copy, and its own default API keys stay out of the cluster's
 * key set; afterwards every node holds exactly the shards it owns and the cluster verifies.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { assign, diffPlacements, Placement } from '../src/core/placement.js';
import { loadHasher } from '../src/core/hash.js';
import { http, startCluster, type TestCluster } from './harness.js';
import { nodeContents } from './replica-kit.js';
import { assertPlacementHeld, waitRebalanced } from './topology-kit.js';

type Doc = Record<string, unknown>;

const S = 64;
const KEY = 'master-key';
const admin = (method: string, path: string, body?: unknown) => http(c.url, method, path, { key: KEY, ...(body === undefined ? {} : { body }) });
let c: TestCluster;
/** The cluster's key listing before the join. */
let keysBefore: unknown;
const docs = Array.from({ length: 960 }, (_, id) => ({ id, title: `doc ${id}`, genre: id % 3 === 0 ? 'a' : 'b' }));

before(async () => {
  c = await startCluster({ nodes: 3, rf: 1, shards: S, recorded: true, masterKey: KEY, nodeMasterKey: 'node-key', config: { rebalancer: { cleanup_delay_ms: 0, retry_interval_ms: 100 } } });
  const t = await c.client.index('books').addDocuments(docs, { primaryKey: 'id' });
  assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
  const s = await c.client.index('books').updateSettings({ filterableAttributes: ['genre'], sortableAttributes: ['title'], synonyms: { doc: ['document'] } });
  assert.equal((await c.client.tasks.waitForTask(s.taskUid)).status, 'succeeded');
  await c.client.createKey({ uid: '2a7c6b84-9f3e-4d55-9a3f-0c1d2e3f4a5b', actions: ['search'], indexes: ['books'], expiresAt: null });
  keysBefore = await c.client.getKeys({ limit: 100 });
});
after(async () => c?.stop());

test('adding a fourth node to three at S=64 moves exactly the predicted shards and reads or writes no other', async () => {
  const hasher = await loadHasher();
  const added = await c.addEngine();
  const ids = ['node-0', 'node-1', 'node-2'];
  // The rendezvous prediction: shards whose top owner changes when node-3 joins.
  const predicted: number[] = [];
  for (let s = 0; s < S; s++) if (assign(hasher, s, ids, 1)[0] !== assign(hasher, s, [...ids, added.id], 1)[0]) predicted.push(s);
  assert.ok(predicted.length >= 8 && predicted.length <= 24, `about S/4 shards move, got ${predicted.length}`);
  // …which is what the placement model diffs too.
  const topo = { version: 2, shards: S, replicationFactor: 1, nodes: [...ids, added.id].map((id) => ({ id, address: id, group: 0, state: id === added.id ? ('joining' as const) : ('active' as const) })) };
  assert.deepEqual(diffPlacements(new Placement(topo, hasher, 'serving'), new Placement(topo, hasher, 'target')).map((m) => m.shard), predicted);

  for (const r of c.recorders.values()) r.clear();
  const res = await admin('POST', '/_miroir/nodes', { id: added.id, address: added.address, replica_group: 0 });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.topology_version, 2);
  // The rebalancer's moves are exactly the predicted shards, each from its old owner to node-3.
  assert.deepEqual(res.body.rebalance.moves.map((m: { shard: number }) => m.shard), predicted);
  for (const m of res.body.rebalance.moves) {
    assert.deepEqual(m.to, [added.id]);
    assert.deepEqual(m.from, [assign(hasher, m.shard, ids, 1)[0]]);
  }
  const status = await waitRebalanced(c, KEY);
  assert.deepEqual(status.last.topology_version, 3);

  // Every document request any node received concerned a moving shard only.
  const moving = new Set(predicted);
  const shardsIn = (text: string): number[] => [...text.matchAll(/_miroir_shard\s*(?:=|IN)\s*\[?([\d,\s]+)\]?/g)].flatMap((m) => m[1]!.split(',').map((x) => Number(x.trim())));
  let documentRequests = 0;
  for (const [i, r] of c.recorders) {
    for (const req of r.requests) {
      if (!req.path.includes('/documents')) continue;
      documentRequests++;
      if (req.method === 'POST' && /\/documents(\?|$)/.test(req.path)) {
        // A copy or delta write: only the new node receives documents, all of moving shards.
        assert.equal(i, added.index, `node-${i} received a document write ${req.path}`);
        for (const d of JSON.parse(req.body) as Doc[]) assert.ok(moving.has(d._miroir_shard as number), `document of shard ${String(d._miroir_shard)} written`);
      } else {
        const shards = shardsIn(req.body);
        assert.ok(shards.length > 0, `unfiltered document request to node-${i}: ${req.method} ${req.path} ${req.body}`);
        for (const s of shards) assert.ok(moving.has(s), `node-${i} asked about unaffected shard ${s}: ${req.body}`);
      }
    }
  }
  assert.ok(documentRequests > predicted.length, 'the moving shards were read');
  assert.deepEqual(status.last.documents_moved, docs.filter((d) => moving.has(hasher.shardOf(String(d.id), S))).length);

  // Each node holds exactly the shards it owns now; nothing lost, nothing doubled.
  const all = [...ids, added.id];
  let total = 0;
  for (const [i, held] of (await nodeContents(c, 'books')).entries()) {
    total += held.size;
    for (const d of held.values()) assert.equal(assign(hasher, d._miroir_shard as number, all, 1)[0], all[i], `${all[i]} holds doc ${String(d.id)} of a shard it does not own`);
  }
  assert.equal(total, docs.length);
  assert.equal((await assertPlacementHeld(c, 'books', KEY)).size, docs.length);
  const search = await c.client.index('books').search('', { limit: 2000 });
  assert.equal(search.estimatedTotalHits, docs.length);
  assert.equal(search.hits.length, docs.length);
  const metrics = (await admin('GET', '/_miroir/metrics')).body as string;
  assert.match(metrics, new RegExp(`^miroir_rebalance_documents_migrated_total ${status.last.documents_moved}$`, 'm'));
  assert.match(metrics, /^miroir_rebalance_in_progress 0$/m);
  assert.match(metrics, /^miroir_rebalance_duration_seconds_count 1$/m);
  const verify = await admin('GET', '/_miroir/verify?deep=true');
  assert.deepEqual(verify.body.problems, []);
  assert.equal(verify.body.ok, true);
});

test('the new node got the index with identical settings; the cluster keys are unchanged and still work', async () => {
  const ref = await c.nodeClient(0).index('books').getSettings();
  const fresh = await c.nodeClient(3).index('books').getSettings();
  assert.deepEqual(fresh, ref);
  assert.ok((fresh.filterableAttributes as string[]).includes('_miroir_shard'));
  assert.equal((await c.nodeClient(3).index('books').getRawInfo()).primaryKey, 'id');
  // The cluster's keys live in the state store: the joining node's own default keys do not leak
  // into the listing, and a key created before the join searches the moved data.
  const listed = await c.client.getKeys({ limit: 100 });
  assert.deepEqual(listed, keysBefore);
  const own = new Set((await c.nodeClient(3).getKeys({ limit: 100 })).results.map((k) => k.uid));
  assert.equal(listed.results.filter((k) => own.has(k.uid)).length, 0);
  const searchKey = listed.results.find((k) => k.uid === '2a7c6b84-9f3e-4d55-9a3f-0c1d2e3f4a5b')!;
  const hits = await new Meilisearch({ host: c.url, apiKey: searchKey.key }).index('books').search('', { limit: 0 });
  assert.equal(hits.estimatedTotalHits, docs.length);
  const topology = await admin('GET', '/_miroir/topology');
  assert.equal(topology.body.nodes.find((n: { id: string }) => n.id === 'node-3').state, 'active');
  assert.equal(topology.body.version, 3);
  assert.equal(topology.body.rebalance_in_progress, false);
});

test('topology changes are checked: unknown node, bad address, duplicate id, last node of a group', async () => {
  const cases: [string, string, unknown, number, string][] = [
    ['POST', '/_miroir/nodes/nope/drain', undefined, 404, 'miroir_node_not_found'],
    ['POST', '/_miroir/nodes', { id: 'x', address: 'not a url' }, 400, 'miroir_invalid_topology_change'],
    ['POST', '/_miroir/nodes', { id: 'node-1', address: 'http://127.0.0.1:1' }, 400, 'miroir_invalid_topology_change'],
    ['POST', '/_miroir/nodes', { id: 'x', address: 'http://127.0.0.1:1', replica_group: 7 }, 404, 'miroir_node_not_found'],
    ['POST', '/_miroir/nodes', { address: 'http://127.0.0.1:1' }, 400, 'miroir_invalid_topology_change'],
    ['DELETE', '/_miroir/groups/0', undefined, 400, 'miroir_invalid_topology_change'],
  ];
  for (const [method, path, body, status, code] of cases) {
    const r = await admin(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, code);
    assert.equal(r.body.type, 'invalid_request');
  }
  assert.equal((await admin('GET', '/_miroir/topology')).body.version, 3, 'refused changes leave the version');
});

test('the topology survives a restart: the store, not the config, is the source', async () => {
  await c.restartMiroir();
  const t = await admin('GET', '/_miroir/topology');
  assert.equal(t.body.version, 3);
  assert.deepEqual(t.body.nodes.map((n: { id: string }) => n.id).sort(), ['node-0', 'node-1', 'node-2', 'node-3']);
  const search = await c.client.index('books').search('', { limit: 2000 });
  assert.equal(search.hits.length, docs.length);
});
