/**
 * Adaptive replica selection and hedged reads (spec S13.2, S13.3; docs/read-path.md): two replicas
 * of every shard (RF 2), steady search load from 4 clients. When one replica is delayed by 500 ms,
 * its share of first requests (the requests Miroir chose it for, counted at the node) falls to about
 * `exploration_epsilon`, the reads that still go to it are hedged to the other replica and the hedge
 * wins, and every answer is complete. Once the delay is removed, the replica takes reads again.
 * Document reads by id and listings are hedged the same way. The latency figures are in
 * `npm run bench` (the `slow replica` part), not here.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

const SEARCH = '/indexes/items/search';
const EPSILON = 0.05;
let c: TestCluster;

/** Search calls node `i` received. */
const searches = (i: number) => c.recorders.get(i)!.requests.filter((q) => q.path === SEARCH).length;

async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await c.miroir.metrics.registry.getSingleMetric(name)?.get();
  if (m === undefined) return 0;
  return m.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

/** `n` searches from 4 clients at once; each must be complete. */
async function load(n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < n) {
        const i = next++;
        const r = await http(c.url, 'POST', SEARCH, { body: { q: `item`, limit: 5, filter: `n = ${i % 10}` } });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.estimatedTotalHits, 20, 'every shard answered');
        assert.equal(r.headers.get('x-miroir-degraded'), null);
      }
    }),
  );
}

before(async () => {
  c = await startCluster({
    nodes: 2,
    rf: 2,
    shards: 4,
    recorded: true,
    config: {
      // Probes must not fail the delayed node: this is about a slow replica, not a dead one.
      health: { interval_ms: 1000, timeout_ms: 3000 },
      replica_selection: { ewma_half_life_ms: 500, exploration_epsilon: EPSILON },
      result_cache: { enabled: false },
      query_coalescing: { enabled: false },
    },
  });
  const docs = Array.from({ length: 200 }, (_, id) => ({ id, title: `item ${id}`, n: id % 10 }));
  const r = await http(c.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: docs });
  assert.equal((await c.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
  const s = await http(c.url, 'PATCH', '/indexes/items/settings', { body: { filterableAttributes: ['n'] } });
  assert.equal((await c.client.tasks.waitForTask(s.body.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

test('a replica delayed by 500 ms loses its share of reads to about epsilon, its slow reads are hedged, and it recovers', async (t) => {
  await load(200);
  const healthy = searches(1) / 200;
  const slow = c.recorders.get(1)!;
  slow.delayMs = 500;
  // Learning: the first reads sent to the delayed replica are hedged and teach its score.
  await load(100);
  const before = { slow: searches(1), winners: await counter('miroir_hedge_fired_total', { outcome: 'winner' }) };
  const N = 600;
  await load(N);
  const share = (searches(1) - before.slow) / N;
  const winners = (await counter('miroir_hedge_fired_total', { outcome: 'winner' })) - before.winners;
  t.diagnostic(`delayed replica's share of first requests: ${(share * 100).toFixed(1)}% (epsilon ${EPSILON * 100}%); hedges won: ${winners}`);
  assert.ok(share <= 3 * EPSILON, `the delayed replica got ${(share * 100).toFixed(1)}% of the searches`);
  assert.ok(winners > 0, 'the reads that went to the delayed replica were won by their hedge');
  assert.ok(await counter('miroir_replica_selection_exploration_total') > 0, 'exploration reads are counted');

  slow.delayMs = 0;
  // Exploration reads see the healed replica; within a few half-lives its score is back. Healthy
  // replicas do not split reads evenly (the lowest score wins, reads in flight tip the balance), so
  // the claim is that it is chosen again on its score: well above the exploration share.
  await load(600);
  const healed = searches(1);
  await load(300);
  const back = (searches(1) - healed) / 300;
  t.diagnostic(`healthy share ${(healthy * 100).toFixed(1)}%; healed replica's share of searches: ${(back * 100).toFixed(1)}%`);
  assert.ok(back >= 2.5 * EPSILON && back > 2 * share, `the healed replica takes reads again (${(back * 100).toFixed(1)}%)`);
});

test('document reads by id and listings are hedged away from a delayed replica', async () => {
  const slow = c.recorders.get(1)!;
  // Teach the scores that node-1 is slow, so document reads pick node-0 first…
  slow.delayMs = 500;
  await load(100);
  const winners = await counter('miroir_hedge_fired_total', { outcome: 'winner' });
  // …and a read that still lands on it (exploration, or a listing's stable replica) is hedged.
  for (let i = 0; i < 40; i++) {
    const d = await http(c.url, 'GET', `/indexes/items/documents/${i}`);
    assert.equal(d.status, 200);
    assert.deepEqual(d.body, { id: i, title: `item ${i}`, n: i % 10 });
  }
  const list = await http(c.url, 'POST', '/indexes/items/documents/fetch', { body: { limit: 200 } });
  assert.equal(list.status, 200);
  assert.equal(list.body.total, 200);
  assert.deepEqual(
    list.body.results.map((d: { id: number }) => d.id).sort((a: number, b: number) => a - b),
    Array.from({ length: 200 }, (_, i) => i),
  );
  slow.delayMs = 0;
  const docReads = c.recorders.get(1)!.requests.filter((q) => q.path.startsWith('/indexes/items/documents')).length;
  const won = (await counter('miroir_hedge_fired_total', { outcome: 'winner' })) - winners;
  // The listing's replica is stable (rendezvous first): when that is node-1 it is hedged; when
  // node-0, node-1 is not asked at all. Either way no read waited on node-1 unhedged.
  assert.ok(docReads === 0 || won > 0, `node-1 got ${docReads} document reads and no hedge won`);
});

test('hedging off: no hedge is sent, the metrics family is absent', async () => {
  const off = await startCluster({ nodes: 2, rf: 2, shards: 2, recorded: true, config: { hedging: { enabled: false }, replica_selection: { strategy: 'round_robin' }, result_cache: { enabled: false }, query_coalescing: { enabled: false } } });
  try {
    const r = await http(off.url, 'POST', '/indexes/x/documents?primaryKey=id', { body: [{ id: 1 }] });
    assert.equal((await off.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
    off.recorders.get(1)!.delayMs = 100;
    for (let i = 0; i < 6; i++) assert.equal((await http(off.url, 'POST', '/indexes/x/search', { body: { q: '' } })).status, 200);
    // Shards asked per search call: those of its shard filter, else both (the node holds exactly them).
    let answered = 0;
    for (const i of [0, 1]) {
      for (const q of off.recorders.get(i)!.requests.filter((x) => x.path === '/indexes/x/search')) {
        const m = /_miroir_shard IN \[([^\]]*)\]/.exec(q.body);
        answered += m === null ? 2 : m[1]!.split(',').length;
      }
    }
    assert.equal(answered, 6 * 2, 'each search asked each shard exactly once: no hedge');
    assert.equal(await off.miroir.metrics.registry.getSingleMetric('miroir_hedge_fired_total'), undefined);
  } finally {
    await off.stop();
  }
});
