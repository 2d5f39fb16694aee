import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalId, loadHasher, shardOf, type Hasher } from '../src/core/hash.js';
import {
  assign,
  diffPlacements,
  DualWritePlan,
  Placement,
  type Topology,
  type TopologyNode,
} from '../src/core/placement.js';
import { chooseAdaptive, coveringSet, readDegradedHeader, shardsForKeys, tenantGroupId } from '../src/core/covering.js';

let hasher: Hasher;
before(async () => {
  hasher = await loadHasher();
});

function node(id: string, group = 0, state: TopologyNode['state'] = 'active'): TopologyNode {
  return { id, address: `http://${id}:7700`, group, state };
}

function topo(nodes: TopologyNode[], shards = 64, rf = 1, extra: Partial<Topology> = {}): Topology {
  return { version: 1, shards, replicationFactor: rf, nodes, ...extra };
}

describe('hash', () => {
  const table: [string, number, number][] = [
    ['user:123', 64, 46],
    ['user:456', 64, 48],
    ['product:abc', 64, 24],
    ['order:xyz', 64, 10],
    ['alpha', 128, 104],
    ['beta', 128, 91],
  ];
  for (const [pk, s, want] of table) {
    it(`shard(${pk}, ${s}) = ${want}`, () => {
      assert.equal(shardOf(hasher, pk, s), want);
    });
  }

  it('hashes the 0xFF-terminated UTF-8 bytes', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('user:123'), 0xff]);
    assert.equal(Number(hasher.hash64(bytes) % 64n), 46);
  });

  it('handles keys longer than the scratch buffer and non-ASCII text', () => {
    const long = 'é'.repeat(2000);
    const bytes = new Uint8Array([...new TextEncoder().encode(long), 0xff]);
    assert.equal(hasher.shardOf(long, 1000), Number(hasher.hash64(bytes) % 1000n));
    assert.equal(hasher.shardOf('user:123', 64), 46);
  });

  it('scores use u32_le(shard) ‖ utf8(node) ‖ 0xFF', () => {
    const bytes = new Uint8Array([0x2c, 0x01, 0, 0, ...new TextEncoder().encode('node-a'), 0xff]);
    assert.equal(hasher.score(300, 'node-a'), hasher.hash64(bytes));
  });

  it('canonical ids: integers in decimal, strings untouched', () => {
    assert.equal(canonicalId(1), '1');
    assert.equal(canonicalId('1'), '1');
    assert.equal(canonicalId(-0), '0');
    assert.equal(canonicalId(-42), '-42');
    assert.equal(canonicalId(12345678901234567890n), '12345678901234567890');
    assert.equal(canonicalId(1e21), '1000000000000000000000');
    assert.equal(canonicalId(1.5), null);
    assert.equal(canonicalId(true), null);
    assert.equal(canonicalId('007'), '007');
    assert.equal(hasher.shardOf(canonicalId(1) as string, 64), hasher.shardOf('1', 64));
  });
});

describe('placement', () => {
  it('is deterministic and independent of node order', () => {
    const a = new Placement(topo([node('n1'), node('n2'), node('n3')], 64, 2), hasher);
    const b = new Placement(topo([node('n3'), node('n1'), node('n2')], 64, 2), hasher);
    for (let s = 0; s < 64; s++) assert.deepEqual(a.owners(0, s), b.owners(0, s));
  });

  it('orders owners by descending unsigned score, ties by id', () => {
    for (let s = 0; s < 32; s++) {
      const owners = assign(hasher, s, ['a', 'b', 'c', 'd'], 4);
      const scores = owners.map((id) => hasher.score(s, id));
      for (let i = 1; i < scores.length; i++) assert.ok(scores[i - 1] >= scores[i]);
    }
    const tied: Hasher = { hash64: () => 0n, shardOf: () => 0, score: () => 7n };
    assert.deepEqual(assign(tied, 0, ['c', 'a', 'b'], 2), ['a', 'b']);
  });

  it('64 shards on 3 nodes at RF=1 puts 18–26 on each', () => {
    const p = new Placement(topo([node('node-0'), node('node-1'), node('node-2')]), hasher);
    const counts = ['node-0', 'node-1', 'node-2'].map((id) => p.shardsOf(id).length);
    assert.equal(counts.reduce((x, y) => x + y, 0), 64);
    for (const c of counts) assert.ok(c >= 18 && c <= 26, `counts ${counts.join(',')}`);
  });

  it('adding a 4th node moves exactly the shards it wins, at most 2×¼ of them', () => {
    const three = [node('node-0'), node('node-1'), node('node-2')];
    const t = topo([...three, node('node-3', 0, 'joining')]);
    const serving = new Placement(t, hasher, 'serving');
    const target = new Placement(t, hasher, 'target');
    assert.deepEqual(serving.shardsOf('node-3'), []);
    const moves = diffPlacements(serving, target);
    const predicted: number[] = [];
    for (let s = 0; s < 64; s++) {
      const best = assign(hasher, s, ['node-0', 'node-1', 'node-2', 'node-3'], 1)[0];
      if (best === 'node-3') predicted.push(s);
    }
    assert.deepEqual(moves.map((m) => m.shard), predicted);
    assert.ok(moves.length <= 32, `${moves.length} moves`);
    for (const m of moves) {
      assert.deepEqual(m.gained, ['node-3']);
      assert.deepEqual(m.lost, m.before);
      assert.equal(m.groupId, 0);
    }
    assert.deepEqual(target.shardsOf('node-3'), predicted);
  });

  it('top-RF is stable: adding a node keeps every old owner that stays in the top RF', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 2, maxLength: 8 }),
        fc.string({ minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 1023 }),
        fc.integer({ min: 1, max: 3 }),
        (ids, extra, shard, rf) => {
          fc.pre(!ids.includes(extra));
          const beforeOwners = assign(hasher, shard, ids, rf);
          const afterOwners = assign(hasher, shard, [...ids, extra], rf);
          // Either the newcomer is out and nothing changed, or it entered and pushed out only the last.
          if (!afterOwners.includes(extra)) assert.deepEqual(afterOwners, beforeOwners);
          else {
            const kept = afterOwners.filter((id) => id !== extra);
            assert.deepEqual(kept, beforeOwners.slice(0, kept.length));
          }
          // Removing a node outside the top RF never changes the assignment.
          const outsider = ids.find((id) => !beforeOwners.includes(id));
          if (outsider !== undefined) {
            assert.deepEqual(assign(hasher, shard, ids.filter((id) => id !== outsider), rf), beforeOwners);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('assigns per group; write targets span groups and skip failed nodes', () => {
    const t = topo(
      [node('a0'), node('a1'), node('a2'), node('b0', 1), node('b1', 1, 'failed'), node('b2', 1)],
      6,
      1,
    );
    const p = new Placement(t, hasher);
    assert.deepEqual(p.groupIds, [0, 1]);
    for (let s = 0; s < 6; s++) {
      const g0 = p.owners(0, s);
      const g1 = p.owners(1, s);
      assert.equal(g0.length, 1);
      assert.equal(g1.length, 1);
      assert.ok(g0[0].startsWith('a') && g1[0].startsWith('b'));
      const want = g1[0] === 'b1' ? [g0[0]] : [g0[0], g1[0]];
      assert.deepEqual(p.writeTargets(s), want);
    }
    const all = ['a0', 'a1', 'a2'].flatMap((id) => p.shardsOf(id)).sort((x, y) => x - y);
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5]);
  });

  it('a draining node serves until the cutover and leaves the target ring', () => {
    const t = topo([node('n0'), node('n1'), node('n2', 0, 'draining')], 32, 1);
    const serving = new Placement(t, hasher, 'serving');
    const target = new Placement(t, hasher, 'target');
    const held = serving.shardsOf('n2');
    assert.ok(held.length > 0);
    assert.deepEqual(target.shardsOf('n2'), []);
    const moves = diffPlacements(serving, target);
    assert.deepEqual(moves.map((m) => m.shard), held);
    for (const m of moves) assert.deepEqual(m.lost, ['n2']);
    const dual = new DualWritePlan(serving, target);
    for (const m of moves) assert.deepEqual([...dual.writeTargets(m.shard)].sort(), [...m.gained, 'n2'].sort());
  });

  it('rejects bad shapes', () => {
    assert.throws(() => new Placement(topo([node('a'), node('a')]), hasher), /duplicate node id/);
    assert.throws(() => new Placement(topo([node('a')], 0), hasher), RangeError);
  });
});

describe('covering sets', () => {
  const rf2rg2 = topo(
    [node('a0'), node('a1'), node('a2'), node('b0', 1), node('b1', 1), node('b2', 1)],
    16,
    2,
  );

  it('never double-covers a shard at RF=2/RG=2, and always covers all of them', () => {
    const p = new Placement(rf2rg2, hasher);
    for (let seq = 0; seq < 20; seq++) {
      const cs = coveringSet(p, { seq, eligible: () => true });
      assert.equal(cs.groupId, seq % 2);
      const seen = [...cs.nodes.values()].flat().sort((x, y) => x - y);
      assert.deepEqual(seen, Array.from({ length: 16 }, (_, i) => i));
      for (const [id, shards] of cs.nodes) {
        assert.ok(id.startsWith(seq % 2 === 0 ? 'a' : 'b'));
        for (const s of shards) assert.ok(p.owners(cs.groupId, s).includes(id));
        // RF=2 on 3 nodes: every node holds more shards than it answers for in one query.
        assert.equal(cs.needsShardFilter(id), shards.length !== p.shardsOf(id).length);
      }
      assert.deepEqual(cs.uncovered, []);
    }
  });

  it('round-robins among eligible replicas by seq', () => {
    const p = new Placement(topo([node('x'), node('y')], 4, 2), hasher);
    const even = coveringSet(p, { seq: 0, eligible: () => true });
    const odd = coveringSet(p, { seq: 1, eligible: () => true });
    for (let s = 0; s < 4; s++) {
      const owners = p.owners(0, s);
      const e = [...even.nodes].find(([, l]) => l.includes(s))?.[0];
      const o = [...odd.nodes].find(([, l]) => l.includes(s))?.[0];
      assert.equal(e, owners[0]);
      assert.equal(o, owners[1]);
    }
  });

  it('RF=1 nodes holding exactly their shards need no shard filter, unless migrating', () => {
    const p = new Placement(topo([node('a'), node('b'), node('c')], 16, 1), hasher);
    const cs = coveringSet(p, { seq: 0, eligible: () => true });
    for (const id of cs.nodes.keys()) assert.equal(cs.needsShardFilter(id), false);
    const mig = coveringSet(p, { seq: 0, eligible: () => true, migrationInFlight: true });
    for (const id of mig.nodes.keys()) assert.equal(mig.needsShardFilter(id), true);
    const narrowed = coveringSet(p, { seq: 0, eligible: () => true, shards: [3] });
    const [[only, list]] = [...narrowed.nodes];
    assert.deepEqual(list, [3]);
    assert.equal(narrowed.needsShardFilter(only), p.shardsOf(only).length !== 1);
  });

  it('falls back to another group only when enabled, else reports uncovered shards', () => {
    const t = topo([node('a0'), node('a1'), node('b0', 1), node('b1', 1)], 8, 1);
    const p = new Placement(t, hasher);
    const down = new Set(['a0']);
    const eligible = (id: string): boolean => !down.has(id);
    const lost = p.shardsOf('a0');
    const strict = coveringSet(p, { seq: 0, eligible });
    assert.equal(strict.groupId, 0);
    assert.deepEqual(strict.uncovered, lost);
    assert.deepEqual(strict.fallbackShards, []);
    const fb = coveringSet(p, { seq: 0, eligible, groupFallback: true });
    assert.deepEqual(fb.uncovered, []);
    assert.deepEqual(fb.fallbackShards, lost);
    for (const s of lost) {
      const server = [...fb.nodes].find(([, l]) => l.includes(s))?.[0] as string;
      assert.ok(server.startsWith('b'));
      assert.ok(p.shardsOf(server).includes(s));
      assert.equal(fb.needsShardFilter(server), fb.nodes.get(server)?.length !== p.shardsOf(server).length);
    }
    assert.equal(readDegradedHeader(fb.uncovered), null);
    down.add('b0').add('b1');
    const none = coveringSet(p, { seq: 0, eligible, groupFallback: true });
    assert.deepEqual(none.uncovered, lost);
    assert.equal(readDegradedHeader(none.uncovered), `shards=${lost.join(',')}`);
  });

  it('never picks initializing or draining groups; honours a pinned serving group', () => {
    const t = topo([node('a0'), node('b0', 1), node('c0', 2)], 4, 1, {
      groups: [
        { id: 0, state: 'active' },
        { id: 1, state: 'initializing' },
        { id: 2, state: 'active' },
      ],
    });
    const p = new Placement(t, hasher);
    assert.deepEqual([0, 1, 2, 3].map((seq) => coveringSet(p, { seq, eligible: () => true }).groupId), [0, 2, 0, 2]);
    assert.equal(coveringSet(p, { seq: 0, eligible: () => true, groupId: 2 }).groupId, 2);
    assert.equal(coveringSet(p, { seq: 0, eligible: () => true, groupId: 1 }).groupId, 0);
    const none = new Placement(topo([node('a0')], 4, 1, { groups: [{ id: 0, state: 'draining' }] }), hasher);
    const cs = coveringSet(none, { seq: 0, eligible: () => true });
    assert.equal(cs.groupId, -1);
    assert.deepEqual(cs.uncovered, [0, 1, 2, 3]);
  });

  it('RF=2 with one node down still covers every shard (no degradation)', () => {
    const p = new Placement(topo([node('a'), node('b'), node('c')], 16, 2), hasher);
    for (let seq = 0; seq < 4; seq++) {
      const cs = coveringSet(p, { seq, eligible: (id) => id !== 'b' });
      assert.deepEqual(cs.uncovered, []);
      assert.equal(cs.nodes.has('b'), false);
      assert.equal([...cs.nodes.values()].flat().length, 16);
    }
  });

  it('adaptive selection picks the lowest score, ties to the better rendezvous rank', () => {
    const scores: Record<string, number> = { a: 50, b: 10, c: 30 };
    const score = (id: string): number => scores[id];
    assert.equal(chooseAdaptive(['a', 'b', 'c'], score), 'b');
    assert.equal(chooseAdaptive(['a', 'c'], score), 'c');
    assert.equal(chooseAdaptive(['a', 'b'], () => 1), 'a');
    assert.equal(chooseAdaptive(['c'], score), 'c');
    const p = new Placement(topo([node('a'), node('b'), node('c')], 8, 3), hasher);
    const cs = coveringSet(p, { seq: 0, eligible: () => true, choose: (ok) => chooseAdaptive(ok, score) });
    assert.deepEqual([...cs.nodes.keys()], ['b']);
    assert.equal(cs.needsShardFilter('b'), false);
  });

  it('tenant hash routing picks among the candidate groups deterministically', () => {
    const g = tenantGroupId(hasher, 'acme', [0, 2]);
    assert.equal(g, [0, 2][hasher.shardOf('acme', 2)]);
    assert.equal(tenantGroupId(hasher, 'acme', [0, 2]), g);
    assert.equal(tenantGroupId(hasher, 'acme', []), -1);
  });

  it('PK narrowing maps keys to their distinct shards', () => {
    assert.deepEqual(shardsForKeys(hasher, ['user:123', 'user:456', 'user:123'], 64), [46, 48]);
  });
});
