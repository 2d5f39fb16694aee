import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { MeiliError } from '@miroir/protocol';
import { loadHasher, type Hasher } from '../src/core/hash.js';
import { Placement, type TopologyNode, type WriteRouter } from '../src/core/placement.js';
import {
  checkReservedFields,
  evaluateQuorum,
  requiredAcks,
  routeDeleteIds,
  routeDocuments,
  writeDegradedHeader,
  type WriteQuorumMode,
} from '../src/core/documents.js';

let hasher: Hasher;
before(async () => {
  hasher = await loadHasher();
});

/** A key that hashes to `shard` among `shards` (found by scanning, so the test needs no fixture). */
function keyFor(shard: number, shards: number, prefix: string): string {
  for (let i = 0; ; i++) if (hasher.shardOf(`${prefix}${i}`, shards) === shard) return `${prefix}${i}`;
}

describe('routeDocuments', () => {
  it('reproduces the spec S2.4 batching example, in payload order', () => {
    // shard3→{0,2}, shard7→{1,2}, shard11→{0,1}
    const table: Record<number, string[]> = { 3: ['node-0', 'node-2'], 7: ['node-1', 'node-2'], 11: ['node-0', 'node-1'] };
    const router: WriteRouter = { shards: 16, writeTargets: (s) => table[s] ?? [] };
    const [a, b, c, d] = [keyFor(3, 16, 'a'), keyFor(7, 16, 'b'), keyFor(3, 16, 'c'), keyFor(11, 16, 'd')];
    const docs = [{ id: a }, { id: b }, { id: c }, { id: d }];
    const r = routeDocuments(docs, [a, b, c, d], router, hasher);
    const ids = (node: string): unknown[] => (r.batches.get(node) ?? []).map((x) => x.id);
    assert.deepEqual(ids('node-0'), [a, c, d]);
    assert.deepEqual(ids('node-1'), [b, d]);
    assert.deepEqual(ids('node-2'), [a, b, c]);
    assert.deepEqual([...r.shardOfItem], [3, 7, 3, 11]);
    assert.deepEqual(r.shards, [3, 7, 11]);
    assert.deepEqual(docs[1], { id: b, _miroir_shard: 7 });
  });

  it('stamps _miroir_updated_at with the request time and sends RF copies per group', () => {
    const nodes: TopologyNode[] = ['a0', 'a1', 'a2', 'b0', 'b1', 'b2'].map((id, i) => ({
      id,
      address: id,
      group: i < 3 ? 0 : 1,
      state: 'active',
    }));
    const p = new Placement({ version: 1, shards: 8, replicationFactor: 2, nodes }, hasher);
    const docs: Record<string, unknown>[] = Array.from({ length: 50 }, (_, i) => ({ id: i, title: `t${i}` }));
    const r = routeDocuments(docs, docs.map((d) => String(d.id)), p, hasher, { updatedAt: 1700000000000 });
    let copies = 0;
    for (const [nodeId, batch] of r.batches) {
      copies += batch.length;
      for (const doc of batch) assert.ok(p.writeTargets(doc._miroir_shard as number).includes(nodeId));
      const order = batch.map((doc) => doc.id as number);
      assert.deepEqual(order, [...order].sort((x, y) => x - y));
    }
    assert.equal(copies, 50 * 4);
    assert.deepEqual(Object.keys(docs[0]), ['id', 'title', '_miroir_shard', '_miroir_updated_at']);
    assert.equal(docs[0]._miroir_updated_at, 1700000000000);
    assert.equal(docs[0]._miroir_shard, hasher.shardOf('0', 8));
  });

  it('rejects reserved fields with miroir_reserved_field before stamping anything', () => {
    const router: WriteRouter = { shards: 4, writeTargets: () => ['n'] };
    const docs = [{ id: 'x' }, { id: 'y', _miroir_shard: 1 }];
    assert.throws(
      () => routeDocuments(docs, ['x', 'y'], router, hasher, { reserved: { antiEntropy: false, ttl: false } }),
      (e: unknown) =>
        e instanceof MeiliError &&
        e.code === 'miroir_reserved_field' &&
        e.status === 400 &&
        e.message === 'Document at position 1 sets the reserved field `_miroir_shard`. This field is managed by Miroir and cannot be written by clients.',
    );
    assert.deepEqual(docs[0], { id: 'x' });
  });

  const reservedTable: [string, Record<string, unknown>, { antiEntropy: boolean; ttl: boolean }, boolean][] = [
    ['shard always', { _miroir_shard: 0 }, { antiEntropy: false, ttl: false }, true],
    ['updated_at with anti-entropy', { _miroir_updated_at: 1 }, { antiEntropy: true, ttl: false }, true],
    ['updated_at without anti-entropy', { _miroir_updated_at: 1 }, { antiEntropy: false, ttl: false }, false],
    ['integer expires_at with TTL', { _miroir_expires_at: 1700000000000 }, { antiEntropy: false, ttl: true }, false],
    ['string expires_at with TTL', { _miroir_expires_at: '2026' }, { antiEntropy: false, ttl: true }, true],
    ['float expires_at with TTL', { _miroir_expires_at: 1.5 }, { antiEntropy: false, ttl: true }, true],
    ['null expires_at with TTL', { _miroir_expires_at: null }, { antiEntropy: false, ttl: true }, true],
    ['string expires_at without TTL', { _miroir_expires_at: 'x' }, { antiEntropy: true, ttl: false }, false],
    ['other _miroir_ field', { _miroir_other: 1 }, { antiEntropy: true, ttl: true }, false],
  ];
  for (const [name, doc, opts, rejects] of reservedTable) {
    it(`reserved fields: ${name} → ${rejects ? 'rejected' : 'accepted'}`, () => {
      if (rejects) assert.throws(() => checkReservedFields({ id: 1, ...doc }, 0, opts), { code: 'miroir_reserved_field' });
      else checkReservedFields({ id: 1, ...doc }, 0, opts);
    });
  }
  it('names the bad expires_at value', () => {
    assert.throws(() => checkReservedFields({ _miroir_expires_at: 'soon' }, 4, { antiEntropy: false, ttl: true }), {
      message: 'Document at position 4 has an invalid `_miroir_expires_at`: expected an integer (unix time in milliseconds), found `"soon"`.',
    });
  });
});

describe('routeDeleteIds', () => {
  it('sends each id to its shard owners as given', () => {
    const table: Record<number, string[]> = {};
    const router: WriteRouter = { shards: 4, writeTargets: (s) => (table[s] ??= [`n${s % 2}`, 'm']) };
    const items: (string | number)[] = [1, 'abc', 2];
    const r = routeDeleteIds(items, ['1', 'abc', '2'], router, hasher);
    const shards = ['1', 'abc', '2'].map((k) => hasher.shardOf(k, 4));
    assert.deepEqual([...r.shardOfItem], shards);
    assert.deepEqual(r.batches.get('m'), items);
    for (const n of ['n0', 'n1']) {
      assert.deepEqual(r.batches.get(n) ?? [], items.filter((_, i) => `n${shards[i] % 2}` === n));
    }
  });
});

describe('quorum (spec S2.5)', () => {
  function placement(rg: number, rf: number): Placement {
    const nodes: TopologyNode[] = [];
    for (let g = 0; g < rg; g++) for (let i = 0; i < rf; i++) nodes.push({ id: `g${g}n${i}`, address: '', group: g, state: 'active' });
    return new Placement({ version: 1, shards: 4, replicationFactor: rf, nodes }, hasher);
  }

  it('required ACKs per group', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((rf) => requiredAcks(rf, 'majority')), [1, 2, 2, 3, 3]);
    assert.deepEqual([1, 2, 3, 4].map((rf) => requiredAcks(rf, 'one')), [1, 1, 1, 1]);
  });

  // [RG, RF, acking nodes, mode, ok, degraded groups]. A group is degraded below a majority of its
  // copies: under `one` such a write is accepted (spec S16 item 3) and the header says so; a replica
  // missed inside a group that still has a majority is not a degradation (anti-entropy repairs it).
  const table: [number, number, string[], WriteQuorumMode, boolean, number[]][] = [
    [1, 1, ['g0n0'], 'majority', true, []],
    [1, 1, [], 'majority', false, [0]],
    [1, 2, ['g0n0', 'g0n1'], 'majority', true, []],
    [1, 2, ['g0n0'], 'majority', false, [0]],
    [1, 2, ['g0n1'], 'one', true, [0]],
    [1, 3, ['g0n0', 'g0n2'], 'majority', true, []],
    [1, 3, ['g0n1'], 'majority', false, [0]],
    [1, 3, ['g0n1'], 'one', true, [0]],
    [1, 3, ['g0n0', 'g0n1', 'g0n2'], 'majority', true, []],
    [2, 1, ['g1n0'], 'majority', true, [0]],
    [2, 1, ['g0n0'], 'majority', true, [1]],
    [2, 1, [], 'one', false, [0, 1]],
    [2, 3, ['g1n0', 'g1n2'], 'majority', true, [0]],
    [2, 3, ['g0n0', 'g1n1'], 'majority', false, [0, 1]],
    [2, 3, ['g0n0', 'g1n1'], 'one', true, [0, 1]],
    [2, 3, ['g0n0'], 'one', true, [0, 1]],
  ];
  for (const [rg, rf, acks, mode, ok, degraded] of table) {
    it(`RG=${rg} RF=${rf} acks=[${acks.join(',')}] ${mode} → ${ok ? 'ok' : 'no quorum'}`, () => {
      const p = placement(rg, rf);
      const set = new Set(acks);
      const q = evaluateQuorum([2, 0, 1, 3], p, (id) => set.has(id), mode);
      assert.equal(q.ok, ok);
      assert.deepEqual(q.degradedGroups, degraded);
      assert.deepEqual(q.degradedShards, degraded.length > 0 ? [0, 1, 2, 3] : []);
      assert.deepEqual(q.noQuorumShards, ok ? [] : [0, 1, 2, 3]);
      assert.equal(writeDegradedHeader(q), degraded.length > 0 ? `groups=${degraded.join(',')}; shards=0,1,2,3` : null);
    });
  }

  it('judges each shard on its own owners', () => {
    const nodes: TopologyNode[] = ['a', 'b', 'c'].map((id) => ({ id, address: '', group: 0, state: 'active' }));
    const p = new Placement({ version: 1, shards: 8, replicationFactor: 1, nodes }, hasher);
    const q = evaluateQuorum([0, 1, 2, 3, 4, 5, 6, 7], p, (id) => id !== 'b', 'majority');
    assert.deepEqual(q.noQuorumShards, [...p.shardsOf('b')]);
    assert.equal(q.ok, p.shardsOf('b').length === 0);
  });
});
