/**
 * Topology changes and migration routing, pure (core/topology.ts, core/placement.ts): each change
 * bumps the version and sets the states the rebalancer works from; a blended placement reads a
 * shard from its new owners exactly once its move is cut over; the completed topology is what the
 * target placement predicted.
 */
import * as assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadHasher, type Hasher } from '../src/core/hash.js';
import { diffPlacements, DualWritePlan, Placement } from '../src/core/placement.js';
import { addGroup, addNode, completedTopology, drainNode, dropNode, hasPendingChanges, readdressNodes, removeGroup, TopologyChangeError, type StoredTopology } from '../src/core/topology.js';

let hasher: Hasher;
before(async () => {
  hasher = await loadHasher();
});

const base: StoredTopology = {
  version: 1,
  nodes: ['a', 'b', 'c'].map((id) => ({ id, address: `http://${id}:7700`, group: 0, state: 'active' as const })),
  groups: [{ id: 0, state: 'active' }],
};
const placement = (t: StoredTopology, view: 'serving' | 'target', shards = 64) => new Placement({ ...t, shards, replicationFactor: 1 }, hasher, view);

describe('topology changes', () => {
  it('a known node takes its configured address; ids, groups and states stay; unknown ids are ignored', () => {
    assert.equal(readdressNodes(base, new Map([['a', 'http://a:7700'], ['z', 'http://z:1']])), base);
    const moved = readdressNodes(base, new Map([['b', 'http://b:9999'], ['z', 'http://z:1']]));
    assert.equal(moved.version, 2);
    assert.deepEqual(moved.nodes, [base.nodes[0], { ...base.nodes[1], address: 'http://b:9999' }, base.nodes[2]]);
    assert.deepEqual(moved.groups, base.groups);
    // The same shards belong to the same ids.
    assert.deepEqual(diffPlacements(placement(base, 'serving'), placement(moved, 'serving')), []);
  });

  it('add, drain, remove and group changes bump the version and set states', () => {
    const added = addNode(base, { id: 'd', address: 'http://d:7700', group: 0 });
    assert.equal(added.version, 2);
    assert.equal(added.nodes.find((n) => n.id === 'd')!.state, 'joining');
    assert.ok(hasPendingChanges(added));
    assert.ok(!hasPendingChanges(base));
    const drained = drainNode(base, 'b', true);
    assert.deepEqual(drained.nodes.find((n) => n.id === 'b'), { id: 'b', address: 'http://b:7700', group: 0, state: 'draining', remove: true });
    const grouped = addGroup(base, { nodes: [{ id: 'x', address: 'http://x:7700' }] });
    assert.deepEqual(grouped.groups, [{ id: 0, state: 'active' }, { id: 1, state: 'initializing' }]);
    assert.throws(() => removeGroup(grouped, 0), TopologyChangeError, "the other group is not active yet");
    const removed = removeGroup(completedTopology(grouped), 0);
    assert.equal(removed.groups.find((g) => g.id === 0)!.state, 'draining');
    assert.equal(dropNode(base, 'c').nodes.length, 2);
  });

  it('refuses what is malformed, unknown or unsafe, with the kind of refusal', () => {
    const cases: [() => unknown, TopologyChangeError['kind']][] = [
      [() => addNode(base, { id: 'a', address: 'http://z:1', group: 0 }), 'invalid'],
      [() => addNode(base, { id: 'd', address: 'http://a:7700', group: 0 }), 'invalid'],
      [() => addNode(base, { id: 'd d', address: 'http://d:1', group: 0 }), 'invalid'],
      [() => addNode(base, { id: 'd', address: 'ftp://d', group: 0 }), 'invalid'],
      [() => addNode(base, { id: 'd', address: 'http://d:1', group: 3 }), 'not_found'],
      [() => drainNode(base, 'zz', false), 'not_found'],
      [() => drainNode({ ...base, nodes: [base.nodes[0]!] }, 'a', false), 'invalid'],
      [() => removeGroup(base, 0), 'invalid'],
      [() => removeGroup(base, 4), 'not_found'],
      [() => addGroup(base, { id: 0, nodes: [{ id: 'x', address: 'http://x:1' }] }), 'invalid'],
    ];
    for (const [change, kind] of cases) {
      assert.throws(change, (e: unknown) => e instanceof TopologyChangeError && e.kind === kind);
    }
  });

  it('the completed topology activates joiners, drops removed nodes and draining groups', () => {
    let t = addNode(base, { id: 'd', address: 'http://d:7700', group: 0 });
    t = completedTopology(t);
    assert.equal(t.version, 3);
    assert.ok(t.nodes.every((n) => n.state === 'active'));
    const kept = completedTopology(drainNode(t, 'a', false));
    assert.equal(kept.nodes.find((n) => n.id === 'a')!.state, 'removed');
    assert.equal(completedTopology(drainNode(t, 'a', true)).nodes.find((n) => n.id === 'a'), undefined);
    const g = completedTopology(removeGroup(completedTopology(addGroup(t, { nodes: [{ id: 'x', address: 'http://x:1' }] })), 0));
    assert.deepEqual(g.groups, [{ id: 1, state: 'active' }]);
    assert.deepEqual(g.nodes.map((n) => n.id), ['x']);
  });
});

describe('migration routing', () => {
  it('a blended placement reads each shard from its new owners once cut over, and only then', () => {
    const t = addNode(base, { id: 'd', address: 'http://d:7700', group: 0 });
    const serving = placement(t, 'serving');
    const target = placement(t, 'target');
    const moves = diffPlacements(serving, target);
    const half = new Set(moves.slice(0, Math.floor(moves.length / 2)).map((m) => m.shard));
    const blended = new Placement({ ...t, shards: 64, replicationFactor: 1 }, hasher, 'serving', { target, done: (_g, s) => half.has(s) });
    for (let s = 0; s < 64; s++) {
      assert.deepEqual(blended.owners(0, s), half.has(s) ? target.owners(0, s) : serving.owners(0, s), `shard ${s}`);
    }
    assert.deepEqual(blended.shardsOf('d'), [...half].sort((a, b) => a - b));
    // Writes: a moving shard goes to its old and new owners; a cut-over one to its new owners only.
    const router = new DualWritePlan(blended, target);
    for (const m of moves) {
      const want = half.has(m.shard) ? [...m.after] : [...m.before, ...m.after];
      assert.deepEqual([...router.writeTargets(m.shard)].sort(), want.sort());
    }
    // Once every move is cut over, the blend is the completed topology's placement.
    const all = new Set(moves.map((m) => m.shard));
    const full = new Placement({ ...t, shards: 64, replicationFactor: 1 }, hasher, 'serving', { target, done: (_g, s) => all.has(s) });
    const after = placement(completedTopology(t), 'serving');
    for (let s = 0; s < 64; s++) assert.deepEqual(full.owners(0, s), after.owners(0, s));
  });

  it('a new group has no owners to read until its shards are cut over, and takes every write meanwhile', () => {
    const t = addGroup(base, { nodes: [{ id: 'x', address: 'http://x:1' }, { id: 'y', address: 'http://y:1' }] });
    const serving = placement(t, 'serving', 8);
    const target = placement(t, 'target', 8);
    const moves = diffPlacements(serving, target).filter((m) => m.groupId === 1);
    assert.equal(moves.length, 8);
    for (const m of moves) assert.deepEqual(m.before, []);
    assert.deepEqual(serving.groupStates, ['active', 'initializing']);
    const router = new DualWritePlan(serving, target);
    for (let s = 0; s < 8; s++) assert.equal(router.writeTargets(s).length, 2);
  });
});
