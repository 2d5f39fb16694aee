/**
 * The query planner on deletes by filter (spec S13.4): a filter that pins primary keys reaches only
 * the owners of the shards those keys hash to (every replica in every group, counted at the
 * nodes), and deletes exactly what the same filter broadcast to every node deletes, with the same
 * task (details, `deletedDocuments` counted once across RF=2 replicas and two groups). The full
 * broadcast is the same filter ORed with a branch that matches nothing and is not on the primary
 * key, which the planner does not narrow (property test over random filters).
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startCluster, type TestCluster } from './harness.js';

let c: TestCluster;
const DOCS = Array.from({ length: 60 }, (_, id) => ({ id, genre: id % 3 === 0 ? 'rock' : 'jazz', n: id % 10 }));
const INDEXES = ['narrow', 'full'] as const;

before(async () => {
  c = await startCluster({ nodes: 6, groups: 2, rf: 2, shards: 16, recorded: true });
  for (const uid of INDEXES) {
    assert.equal((await c.client.index(uid).addDocuments(DOCS, { primaryKey: 'id' }).waitTask()).status, 'succeeded');
    assert.equal((await c.client.index(uid).updateFilterableAttributes(['id', 'genre', 'n']).waitTask()).status, 'succeeded');
  }
});
after(async () => c?.stop());

/** Nodes that were sent a delete by filter of `uid` since the last clear. */
const nodesAsked = (uid: string) =>
  [...c.recorders.values()].filter((r) => r.requests.some((q) => q.method === 'POST' && q.path.startsWith(`/indexes/${uid}/documents/delete?`))).length;
const clear = () => {
  for (const r of c.recorders.values()) r.clear();
};
const remaining = async (uid: string) => (await c.client.index(uid).getDocuments<{ id: number }>({ limit: 1000, fields: ['id'] })).results.map((d) => d.id).sort((a, b) => a - b);

/** Deletes by `filter` on `uid`; the finished task and how many nodes were sent the delete. */
async function deleteBy(uid: string, filter: string) {
  clear();
  const task = await c.client.index(uid).deleteDocuments({ filter }).waitTask();
  return { task, asked: nodesAsked(uid) };
}

/** Puts every document back into both indexes. */
async function restore() {
  for (const uid of INDEXES) assert.equal((await c.client.index(uid).addDocuments(DOCS).waitTask()).status, 'succeeded');
}

test('`id = 42` reaches only its shard owners; `id = 1 OR genre = x` every node; both tasks as on one node', async () => {
  const pinned = await deleteBy('narrow', 'id = 42');
  assert.equal(pinned.asked, 4, 'two owners in each of the two groups');
  assert.equal(pinned.task.status, 'succeeded', JSON.stringify(pinned.task.error));
  assert.deepEqual(pinned.task.details, { providedIds: 0, deletedDocuments: 1, originalFilter: '"id = 42"' });
  assert.equal((await remaining('narrow')).includes(42), false);

  const open = await deleteBy('full', 'id = 1 OR genre = x');
  assert.equal(open.asked, 6);
  assert.deepEqual(open.task.details, { providedIds: 0, deletedDocuments: 1, originalFilter: '"id = 1 OR genre = x"' });

  // A filter one node fails the task with fails it the same way on the nodes it reaches.
  const refused = await deleteBy('narrow', 'id = 3 AND title = x');
  assert.equal(refused.asked, 4);
  assert.equal(refused.task.status, 'failed');
  assert.equal(refused.task.error?.code, 'invalid_document_filter');
  assert.deepEqual(refused.task.details, { providedIds: 0, deletedDocuments: 0, originalFilter: '"id = 3 AND title = x"' });
  await restore();
});

/** A filter that pins primary keys: one, a list, or either ANDed with something else. */
const pinnedFilter = fc.oneof(
  fc.integer({ min: 0, max: 70 }).map((id) => `id = ${id}`),
  fc.array(fc.integer({ min: 0, max: 70 }), { minLength: 1, maxLength: 4 }).map((ids) => `id IN [${ids.join(', ')}]`),
  fc.tuple(fc.integer({ min: 0, max: 70 }), fc.constantFrom('rock', 'jazz')).map(([id, genre]) => `id = "${id}" AND genre = ${genre}`),
  fc.tuple(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 9 })).map(([a, b, n]) => `(id = ${a} OR id = ${b}) AND n >= ${n}`),
);

test('a pinned delete deletes exactly what the full broadcast deletes, counted once', async () => {
  await fc.assert(
    fc.asyncProperty(pinnedFilter, async (filter) => {
      const narrow = await deleteBy('narrow', filter);
      const full = await deleteBy('full', `(${filter}) OR genre = "never-there"`);
      assert.equal(narrow.task.status, 'succeeded', JSON.stringify(narrow.task.error));
      assert.equal(full.asked, 6, 'the full broadcast reaches every node');
      const keys = new Set(filter.match(/\d+/g)!.slice(0, filter.includes('n >=') ? 2 : undefined)).size;
      assert.ok(narrow.asked <= Math.min(6, 4 * keys), `${filter}: ${narrow.asked} nodes asked`);
      const left = await remaining('narrow');
      assert.deepEqual(left, await remaining('full'), filter);
      assert.equal(narrow.task.details?.deletedDocuments, full.task.details?.deletedDocuments, filter);
      assert.equal(narrow.task.details?.deletedDocuments, DOCS.length - left.length, `${filter}: each deleted document counted once`);
      await restore();
    }),
    { numRuns: 10, seed: 44 },
  );
});
