/**
 * A source node dying mid-copy (spec S4.5): the moves it feeds pause (the status says why) while
 * the others go on, and they resume from their last committed page once the node answers again;
 * nothing is lost.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestCluster } from './harness.js';
import { adminOf, assertPlacementHeld, MASTER_KEY, startLoadedCluster, until, waitRebalanced } from './topology-kit.js';

type Doc = Record<string, unknown>;

const KEY = MASTER_KEY;
const N = 2000;
let c: TestCluster;
const admin = adminOf(() => c);

before(async () => {
  c = await startLoadedCluster({ shards: 8, docs: N, docsPerSec: 400, proxied: [0, 1] });
});
after(async () => c?.stop());

test('a source that dies mid-copy pauses its moves, which resume when it is back', async () => {
  const added = await c.addEngine();
  const res = await admin('POST', '/_miroir/nodes', { id: added.id, address: added.address });
  assert.equal(res.status, 202);
  const status = () => admin('GET', '/_miroir/rebalance/status').then((r) => r.body);
  const copying = await until('a move copying', status, (s) => s.moves.some((m: any) => m.state === 'copying' && m.documents_copied > 0));
  const move = copying.moves.find((m: any) => m.state === 'copying');
  const src = Number(move.from[0].slice('node-'.length));
  c.proxies.get(src)!.set({ kind: 'reset' });
  const paused = await until('the move paused', status, (s) => s.moves.some((m: any) => m.shard === move.shard && m.state === 'paused'));
  const p = paused.moves.find((m: any) => m.shard === move.shard);
  assert.ok(p.error, 'a paused move says why');
  assert.ok(p.documents_copied >= move.documents_copied, 'what was copied stays committed');
  assert.notEqual(paused.state, 'idle');

  c.proxies.get(src)!.set({ kind: 'pass' });
  const done = await waitRebalanced(c, KEY);
  assert.equal(done.last.topology_version, 3);
  const all = await c.client.index('items').getDocuments<Doc>({ limit: 100_000 });
  assert.equal(all.results.length, N);
  assert.equal((await assertPlacementHeld(c, 'items', KEY)).size, N);
  assert.deepEqual((await admin('GET', '/_miroir/verify')).body.problems, []);
});
