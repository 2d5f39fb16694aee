import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadHasher, type Hasher } from '../src/core/hash.js';
import { PlanCache, planShards, type PlannerOptions } from '../src/core/planner.js';

let hasher: Hasher;
before(async () => {
  hasher = await loadHasher();
});

const on: PlannerOptions = { enabled: true, maxPkLiterals: 3 };

describe('shard-aware planner', () => {
  it('id = 42 needs only the owning shard', () => {
    assert.deepEqual(planShards('id = 42', 'id', 64, hasher, on), { shards: [hasher.shardOf('42', 64)], pinnedKeys: ['42'], reason: 'pinned' });
  });

  it('narrows IN lists and PK predicates ANDed with anything, in both filter forms', () => {
    const want = [...new Set(['1', '2', '7'].map((k) => hasher.shardOf(k, 16)))].sort((a, b) => a - b);
    assert.deepEqual(planShards('id IN [1, 2, 7] AND genre = drama', 'id', 16, hasher, on).shards, want);
    assert.deepEqual(planShards(['genre = drama', 'id IN [7, 2, 1]'], 'id', 16, hasher, on).shards, want);
  });

  const notNarrowed: [string, unknown, string][] = [
    ['a top-level OR with a non-PK branch', 'id = 1 OR genre = x', 'not_pinned'],
    ['a negated PK predicate', 'NOT id = 1', 'not_pinned'],
    ['a PK inequality', 'id != 1', 'not_pinned'],
    ['too many literals', 'id IN [1, 2, 3, 4]', 'too_many_literals'],
    ['an invalid filter (the nodes report it)', 'id = ', 'invalid_filter'],
    ['no filter', undefined, 'no_filter'],
    ['a blank filter', '   ', 'no_filter'],
    ['a literal with letters (matched case-insensitively)', 'id = abc', 'not_pinned'],
  ];
  for (const [name, filter, reason] of notNarrowed) {
    it(`does not narrow ${name}`, () => {
      const plan = planShards(filter, 'id', 16, hasher, on);
      assert.equal(plan.shards, null);
      assert.equal(plan.reason, reason);
    });
  }

  it('narrows letters when ids are known to compare exactly, and does nothing when disabled', () => {
    assert.deepEqual(planShards('id = abc', 'id', 16, hasher, { ...on, lettersAreExact: true }).shards, [hasher.shardOf('abc', 16)]);
    assert.deepEqual(planShards('id = 1', 'id', 16, hasher, { ...on, enabled: false }), { shards: null, pinnedKeys: null, reason: 'disabled' });
  });

  it('caches plans per index and filter, bounded', () => {
    const cache = new PlanCache(2);
    let computed = 0;
    const plan = (f: unknown): unknown =>
      cache.get('movies', 16, f, () => {
        computed++;
        return planShards(f, 'id', 16, hasher, on);
      });
    const first = plan('id = 1');
    assert.equal(plan('id = 1'), first);
    assert.equal(computed, 1);
    plan(['id = 1']);
    assert.equal(computed, 2);
    plan('id = 2');
    plan('id = 1');
    assert.equal(computed, 4);
  });
});
