/**
 * The pure parts of the read path (spec S13.3, S13.15): time-decayed replica statistics and the
 * covering-set options that adaptive selection and tenant affinity use (`avoid`, `groupIds`).
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { coveringSet } from '../src/core/covering.js';
import { loadHasher } from '../src/core/hash.js';
import { Placement } from '../src/core/placement.js';
import { ReplicaStats } from '../src/reads/replica-stats.js';

const scoring = { latencyWeight: 1, inflightWeight: 2, errorWeight: 10, halfLifeMs: 1000 };

/** Stats on a clock the test moves. */
function clocked() {
  let now = 1000;
  const stats = new ReplicaStats(scoring, () => now);
  const sample = (id: string, ms: number, outcome: 'ok' | 'error' | 'aborted' = 'ok', gap = 100) => {
    now += gap;
    const t0 = stats.start(id);
    now += ms;
    stats.end(id, t0, outcome);
  };
  return { stats, sample, advance: (ms: number) => (now += ms) };
}

test('latency decays by time: half the weight of the past per half-life, whatever the rate', () => {
  const { stats, sample } = clocked();
  assert.equal(stats.score('a'), 0, 'never measured: 0, so it is tried');
  sample('a', 10);
  assert.equal(stats.meanMs('a'), 10);
  // One sample one half-life after the previous one moves the mean halfway.
  sample('a', 30, 'ok', 1000 - 30);
  assert.ok(Math.abs(stats.meanMs('a') - 20) < 1e-9, `${stats.meanMs('a')}`);
  // Many samples close together: their total weight is that of the time they span.
  const b = clocked();
  b.sample('b', 10);
  // 100 samples 30 ms apart span 3 half-lives: the first value keeps 1/8 of its weight.
  for (let i = 0; i < 100; i++) b.sample('b', 30, 'ok', 0);
  assert.ok(Math.abs(b.stats.meanMs('b') - (30 - 20 / 8)) < 0.01, `${b.stats.meanMs('b')}`);
});

test('p95 is mean + 2 deviations; errors and reads in flight raise the score', () => {
  const { stats, sample } = clocked();
  for (let i = 0; i < 50; i++) sample('a', i % 2 === 0 ? 10 : 20, 'ok', 500);
  const p95 = stats.p95('a');
  assert.ok(p95 > stats.meanMs('a') && p95 < 30, `p95 ${p95}, mean ${stats.meanMs('a')}`);
  const base = stats.score('a');
  stats.start('a');
  assert.equal(stats.score('a'), base + 2, 'one read in flight adds inflight_weight');
  sample('e', 5);
  const before = stats.score('e');
  sample('e', 5, 'error', 1000);
  assert.ok(Math.abs(stats.errorRate('e') - 0.5) < 0.01, `${stats.errorRate('e')}`);
  assert.ok(stats.score('e') >= before + 10 * 49, 'half the reads failing weighs 50 × error_weight');
});

test('an aborted read (a hedge loser) counts its elapsed time, not an error', () => {
  const { stats, sample } = clocked();
  sample('a', 5);
  sample('a', 40, 'aborted', 1000);
  assert.equal(stats.errorRate('a'), 0);
  assert.ok(stats.meanMs('a') > 5);
  assert.equal(stats.inFlight('a'), 0);
  assert.equal(ReplicaStats.median(['x', 'y', 'z'], (id) => ({ x: 3, y: 1, z: 2 })[id]!), 2);
  assert.equal(ReplicaStats.median(['x', 'y'], (id) => ({ x: 3, y: 1 })[id]!), 2);
});

test('covering: avoided replicas are used only when no group has another; groupIds keeps reads out of other groups', async () => {
  const hasher = await loadHasher();
  const nodes = [
    { id: 'a0', address: 'http://a0', group: 0, state: 'active' as const },
    { id: 'a1', address: 'http://a1', group: 0, state: 'active' as const },
    { id: 'b0', address: 'http://b0', group: 1, state: 'active' as const },
  ];
  const placement = new Placement({ version: 1, shards: 8, replicationFactor: 2, nodes }, hasher);
  const all = () => true;
  // a0 and a1 hold every shard of group 0 (RF 2 of 2): avoiding both sends every shard to group 1.
  const avoided = coveringSet(placement, { seq: 0, eligible: all, groupFallback: true, avoid: (id) => id.startsWith('a') });
  assert.deepEqual([...avoided.nodes.keys()], ['b0']);
  assert.equal(avoided.fallbackShards.length, 8);
  // Avoiding one replica of group 0 keeps the read in group 0 on the other.
  const one = coveringSet(placement, { seq: 0, eligible: all, groupFallback: true, avoid: (id) => id === 'a0' });
  assert.deepEqual([...one.nodes.keys()], ['a1']);
  // Nothing else eligible: the avoided replica still serves.
  const last = coveringSet(placement, { seq: 0, eligible: (id) => id === 'a0', groupFallback: true, avoid: (id) => id === 'a0' });
  assert.deepEqual([...last.nodes.keys()], ['a0']);
  assert.deepEqual(last.uncovered, []);
  // groupIds: rotation and fallback stay in the listed groups.
  for (let seq = 0; seq < 4; seq++) {
    const g1 = coveringSet(placement, { seq, eligible: all, groupFallback: true, groupIds: [1] });
    assert.equal(g1.groupId, 1);
    assert.deepEqual([...g1.nodes.keys()], ['b0']);
  }
  const none = coveringSet(placement, { seq: 0, eligible: (id) => id !== 'b0', groupFallback: true, groupIds: [1] });
  assert.equal(none.uncovered.length, 8, 'a dedicated group is never a fallback for a read kept out of it');
  // A pinned group is used even when not listed (a session pin wins).
  assert.equal(coveringSet(placement, { seq: 0, eligible: all, groupId: 0, groupIds: [1] }).groupId, 0);
});
