/**
 * Missed writes with several orchestrators (2 nodes, RF=2, `write_quorum: one`, orchestrators A
 * and B on one Redis; B probes node-1 too rarely to see its outages). A write through A times out
 * on node-1 (its fault proxy drops traffic) and is queued for it; node-1 answers again at once. A
 * later write through B, which reaches node-1, must join the queue behind A's write (its answer
 * says node-1 missed it), not overtake it: otherwise a delete acknowledged through B is undone on
 * node-1 when A's upsert is replayed. And the other way round.
 * The queue is in the store: when A dies before node-1 answers again, B replays it.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFleet, waitTerminal, type Fleet } from './fleet.js';
import { http } from './harness.js';
import { redisSkip } from './redis-kit.js';

const skip = await redisSkip();
const NODE_KEY = 'node-master-key-for-tests';

type Doc = { id: number; v: string };

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('missed writes through several orchestrators', { skip }, () => {
  let f: Fleet;
  /** The acknowledged state: id → document. */
  const expected = new Map<number, Doc>();

  async function acknowledged(url: string, r: { status: number; body: { taskUid: number } }): Promise<void> {
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal((await waitTerminal(url, r.body.taskUid)).status, 'succeeded');
  }

  /** What a node holds, read from the node itself (reserved fields removed). */
  async function held(node: number): Promise<Map<number, Doc>> {
    const r = await http(f.engines[node]!.url, 'GET', '/indexes/items/documents?limit=10000&fields=id,v', { key: NODE_KEY });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return new Map((r.body.results as Doc[]).map((d) => [d.id, { id: d.id, v: d.v }]));
  }

  const health = async (url: string) => ((await http(url, 'GET', '/_miroir/topology')).body.nodes as { id: string; health: string }[]).find((n) => n.id === 'node-1')!.health;

  /** Node-1 has applied its queue and serves again through every live orchestrator. */
  async function caughtUp(urls: string[]): Promise<void> {
    for (const url of urls) await waitFor(`node-1 to serve again through ${url}`, async () => (await health(url)) === 'healthy');
    const sorted = (m: Map<number, Doc>) => [...m.values()].sort((a, b) => a.id - b.id);
    // Replayed writes are enqueued on the node; it applies them shortly after.
    await waitFor('node-1 to hold the acknowledged state', async () => JSON.stringify(sorted(await held(1))) === JSON.stringify(sorted(expected)));
    assert.deepEqual(sorted(await held(0)), sorted(expected));
  }

  before(async () => {
    f = await startFleet({
      orchestrators: 1,
      nodes: 2,
      rf: 2,
      shards: 8,
      proxied: [1],
      config: {
        write_quorum: 'one',
        scatter: { node_timeout_ms: 400 },
        health: { interval_ms: 300, timeout_ms: 200, unhealthy_threshold: 2, recovery_threshold: 2 },
        leader_election: { lease_ttl_s: 2, renew_interval_s: 0.5 },
        anti_entropy: { enabled: false },
      },
    });
    // B probes node-1 rarely: it never sees the short outages itself.
    await f.add({ MIROIR_HEALTH__INTERVAL_MS: '5000' });
    const [a] = f.orchestrators;
    const docs = Array.from({ length: 50 }, (_, id) => ({ id, v: 'seed' }));
    await acknowledged(a!.url, await http(a!.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: docs }));
    for (const d of docs) expected.set(d.id, d);
  });
  after(async () => f?.stop());

  test('a write through B after a write A queued for node-1 joins the queue behind it, even though B reaches node-1', async () => {
    const [a, b] = f.orchestrators as [(typeof f.orchestrators)[0], (typeof f.orchestrators)[0]];
    const proxy = f.proxies.get(1)!;
    for (let round = 0; round < 4; round++) {
      const [first, second] = round % 2 === 0 ? [a, b] : [b, a];
      const id = 1000 + round;
      // The upsert reaches node-0, and times out on node-1: queued for node-1.
      proxy.set({ kind: 'blackhole' });
      const up = await http(first.url, 'POST', '/indexes/items/documents', { body: [{ id, v: `round ${round}` }] });
      assert.match(up.headers.get('x-miroir-degraded') ?? '', /^groups=0; shards=/, 'node-1 missed the upsert');
      proxy.set({ kind: 'pass' });
      await acknowledged(first.url, up);
      // Deleted through the other orchestrator, which reaches node-1 but must queue behind.
      const del = await http(second.url, 'POST', '/indexes/items/documents/delete-batch', { body: [id, round] });
      assert.match(del.headers.get('x-miroir-degraded') ?? '', /^groups=0; shards=/, `round ${round}: the delete went to node-1 ahead of the queued upsert`);
      await acknowledged(second.url, del);
      expected.delete(round);
      const up2 = await http(second.url, 'PUT', '/indexes/items/documents', { body: [{ id: 2000 + round, v: 'after' }] });
      await acknowledged(second.url, up2);
      expected.set(2000 + round, { id: 2000 + round, v: 'after' });
      await caughtUp([a.url, b.url]);
      assert.equal((await held(1)).has(id), false, `round ${round}: the delete acknowledged through the second orchestrator was undone on node-1`);
    }
  });

  test('the queue outlives the orchestrator that wrote it: another one replays it', async () => {
    const [a, b] = f.orchestrators as [(typeof f.orchestrators)[0], (typeof f.orchestrators)[0]];
    const proxy = f.proxies.get(1)!;
    proxy.set({ kind: 'blackhole' });
    const docs = Array.from({ length: 30 }, (_, i) => ({ id: 3000 + i, v: 'while down' }));
    await acknowledged(a.url, await http(a.url, 'POST', '/indexes/items/documents', { body: docs }));
    for (const d of docs) expected.set(d.id, d);
    await acknowledged(a.url, await http(a.url, 'POST', '/indexes/items/documents/delete-batch', { body: [10, 11, 12] }));
    for (const id of [10, 11, 12]) expected.delete(id);
    await waitFor('node-1 to be marked failed', async () => (await health(a.url)) === 'failed');
    await f.kill(a);
    proxy.set({ kind: 'pass' });
    await caughtUp([b.url]);
  });
});
