/**
 * Index metadata and lifecycle through Miroir (3 nodes, RF=2), with the official client:
 * - an inferred primary key shows on `GET /indexes/{uid}` and `GET /indexes` although a node that
 *   got none of the documents does not know it;
 * - documents written right after an index deletion that is still pending (the official suite's
 *   `token.test.ts` does this in `beforeEach`) land in a new index whose nodes have the shard field
 *   filterable, so every search can be scattered.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from './harness.js';

let c: TestCluster;
let client: Meilisearch;
before(async () => {
  c = await startCluster({ nodes: 3, rf: 2, shards: 16, masterKey: 'miroir-master-key-0123456789' });
  client = c.client;
});
after(async () => c?.stop());

const done = async (p: Promise<{ taskUid: number }>) => {
  const task = await client.tasks.waitForTask((await p).taskUid);
  assert.equal(task.status, 'succeeded', JSON.stringify(task));
  return task;
};

test('an inferred primary key is shown whichever node answers', async () => {
  const uids = Array.from({ length: 6 }, (_, i) => `inferred-${i}`);
  for (const [i, uid] of uids.entries()) {
    await done(client.createIndex(uid));
    await done(client.index(uid).addDocuments([{ title: `doc ${i}`, _id: i + 1 }]));
  }
  // One document on RF=2 of 3 nodes: one node never got it and does not know the key.
  let unknownOnFirstNode = 0;
  for (const uid of uids) {
    const views = await Promise.all(c.engines.map((_e, i) => c.nodeClient(i).index(uid).fetchInfo()));
    assert.equal(views.filter((v) => v.primaryKey === null).length, 1, `${uid}: ${JSON.stringify(views)}`);
    if (views[0]!.primaryKey === null) unknownOnFirstNode++;
    assert.equal((await client.index(uid).fetchInfo()).primaryKey, '_id', uid);
    assert.equal((await client.getIndex(uid)).primaryKey, '_id', uid);
  }
  assert.ok(unknownOnFirstNode > 0, 'the first node read knows every key: the case is not exercised');
  const list = await client.getIndexes({ limit: 100 });
  for (const uid of uids) assert.equal(list.results.find((x) => x.uid === uid)?.primaryKey, '_id', uid);
  const raw = await client.getRawIndexes({ limit: 100 });
  for (const uid of uids) assert.equal(raw.results.find((x) => x.uid === uid)?.primaryKey, '_id', uid);
});

test('documents written behind a pending index deletion are searchable (token.test beforeEach)', async () => {
  const movies = Array.from({ length: 30 }, (_, i) => ({ id: i, title: `movie ${i}`, genre: i % 2 ? 'drama' : 'comedy' }));
  const index = client.index('race');
  await done(index.addDocuments(movies));
  for (let round = 0; round < 3; round++) {
    // Deleted without waiting, then written again at once: the nodes delete, then recreate.
    await index.delete();
    await done(index.addDocuments(movies.slice(0, 20 + round)));
    const res = await index.search('', { limit: 100 });
    assert.equal(res.estimatedTotalHits, 20 + round);
    for (let i = 0; i < c.engines.length; i++) {
      const filterable = await c.nodeClient(i).index('race').getFilterableAttributes();
      assert.ok(JSON.stringify(filterable).includes('_miroir_shard'), `node-${i}: ${JSON.stringify(filterable)}`);
    }
    // As seen by a client, the index is a new one without any filterable attribute.
    assert.deepEqual(await index.getFilterableAttributes(), []);
  }
});
