/**
 * Several orchestrator processes on one Redis and the same engine nodes, behind a client that
 * spreads requests round-robin (issue acceptance): the sharding-transparency and SDK round-trip
 * suites pass unchanged with 2 and 3 orchestrators; task uids from different processes never
 * collide, and `GET /tasks` on any process shows every task.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFleet, waitTerminal, type Fleet } from './fleet.js';
import { http } from './harness.js';
import { redisSkip } from './redis-kit.js';
import { sdkRoundTrip } from './sdk-roundtrip-kit.js';
import { transparencySuite } from './transparency-kit.js';

const skip = await redisSkip();

if (skip === undefined) {
  // The client key is not the nodes' master key.
  const key = 'transparency-client-key';
  const fleet = async (t: { nodes: number; groups: number; rf: number }, orchestrators: number) => {
    const f = await startFleet({ ...t, shards: 8, orchestrators, masterKey: key });
    return { url: f.url, key, stop: () => f.stop() };
  };
  transparencySuite('sharding transparency, 2 orchestrators', [{ name: '2 orchestrators, RG=1 RF=2 N=3', nodes: 3, groups: 1, rf: 2 }], (t) => fleet(t, 2));
  transparencySuite('sharding transparency, 3 orchestrators', [{ name: '3 orchestrators, RG=2 RF=1 N=4', nodes: 4, groups: 2, rf: 1 }], (t) => fleet(t, 3));
}

for (const n of [2, 3]) {
  describe(`SDK round trip, ${n} orchestrators`, { skip }, () => {
    let f: Fleet;
    before(async () => {
      f = await startFleet({ orchestrators: n, nodes: 3, rf: 2, shards: 16, masterKey: 'miroir-master-key-0123456789' });
    });
    after(async () => f?.stop());
    test('SDK round trip through Miroir', () => sdkRoundTrip(f.client));
  });
}

describe('tasks across 3 orchestrators', { skip }, () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet({ orchestrators: 3, nodes: 2, rf: 1, shards: 8 });
  });
  after(async () => f?.stop());

  test('task uids from different processes never collide, and every process lists every task', async () => {
    assert.equal((await http(f.url, 'POST', '/indexes', { body: { uid: 'books', primaryKey: 'id' } })).status, 202);
    // Each write goes to the next orchestrator; all of them race for uids at once.
    const writes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => http(f.url, 'POST', '/indexes/books/documents', { body: [{ id: i, title: `book ${i}` }] })),
    );
    const uids = writes.map((w) => {
      assert.equal(w.status, 202, JSON.stringify(w.body));
      return w.body.taskUid as number;
    });
    assert.equal(new Set(uids).size, uids.length, 'no two writes got the same task uid');
    for (const o of f.orchestrators) {
      for (const uid of uids) {
        const task = await waitTerminal(o.url, uid);
        assert.equal(task.status, 'succeeded', `${o.id}: task ${uid}`);
      }
      const list = await http(o.url, 'GET', '/tasks?limit=1000&types=documentAdditionOrUpdate');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.results.map((t: { uid: number }) => t.uid).sort((a: number, b: number) => a - b),
        [...uids].sort((a, b) => a - b),
        `${o.id} lists every task`,
      );
    }
    const search = await http(f.url, 'POST', '/indexes/books/search', { body: { q: 'book', limit: 100 } });
    assert.equal(search.body.estimatedTotalHits, 60);
  });
});
