import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadHasher, type Hasher } from '../src/core/hash.js';
import { Placement, type TopologyNode } from '../src/core/placement.js';
import { coveringSet } from '../src/core/covering.js';
import { planShards } from '../src/core/planner.js';
import { explainRouting, explainWarnings } from '../src/core/explain.js';

let hasher: Hasher;
before(async () => {
  hasher = await loadHasher();
});

const nodes: TopologyNode[] = ['n0', 'n1', 'n2'].map((id) => ({ id, address: id, group: 0, state: 'active' }));
const opts = { enabled: true, maxPkLiterals: 128 };

describe('explain', () => {
  it('a PK IN filter with 3 values is narrowed to at most 3 shards, each mapped to its node', () => {
    const p = new Placement({ version: 1, shards: 32, replicationFactor: 1, nodes }, hasher);
    const plan = planShards('id IN [1, 2, 3]', 'id', 32, hasher, opts);
    const cover = coveringSet(p, { seq: 0, eligible: () => true, shards: plan.shards ?? undefined });
    const r = explainRouting(plan, cover, 32, 'round_robin');
    assert.equal(r.narrowed, true);
    assert.equal(r.narrowing_reason, 'pinned');
    assert.ok(r.target_shards.length <= 3);
    assert.deepEqual(r.target_shards, [...new Set(['1', '2', '3'].map((k) => hasher.shardOf(k, 32)))].sort((a, b) => a - b));
    assert.deepEqual(Object.keys(r.target_nodes).map(Number), r.target_shards);
    for (const s of r.target_shards) assert.deepEqual([r.target_nodes[String(s)]], p.owners(0, s));
    assert.deepEqual(r.chosen_group, { id: 0, reason: 'round_robin' });
    assert.deepEqual(r.uncovered_shards, []);
    assert.deepEqual(explainWarnings({ q: 'x', filter: 'id IN [1, 2, 3]' }, plan, { maxTotalHits: 1000 }), []);
  });

  it('warns about unnarrowable filters, deep windows and unbounded placeholder queries', () => {
    const notPinned = planShards('id = 1 OR genre = x', 'id', 8, hasher, opts);
    assert.deepEqual(
      explainWarnings({ q: 'x', filter: 'id = 1 OR genre = x', offset: 900, limit: 200 }, notPinned, { maxTotalHits: 1000 }).map((w) => w.code),
      ['not_narrowed', 'large_window'],
    );
    const none = planShards(undefined, 'id', 8, hasher, opts);
    const w = explainWarnings({}, none, { maxTotalHits: 1000, maxWarnings: 5 });
    assert.deepEqual(w, [{ code: 'unbounded_wildcard_query', message: 'A placeholder query without a filter matches every document on every shard.' }]);
    const p = new Placement({ version: 1, shards: 4, replicationFactor: 1, nodes }, hasher);
    const full = explainRouting(none, coveringSet(p, { seq: 1, eligible: () => true }), 4, 'session');
    assert.deepEqual(full.target_shards, [0, 1, 2, 3]);
    assert.equal(full.narrowed, false);
  });
});
