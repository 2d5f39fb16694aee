/**
 * A pending index deletion is known to every orchestrator: a document write sent through another
 * process right after the deletion recreates the index set up for Miroir (its shard field
 * filterable on every node), exactly as a write through the deleting process would.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SHARD_FIELD } from '../src/core/documents.js';
import { startFleet, waitTerminal, type Fleet } from './fleet.js';
import { http } from './harness.js';
import { redisSkip } from './redis-kit.js';

const skip = await redisSkip();
const NODE_KEY = 'node-master-key-for-tests';

describe('an index deletion through one orchestrator, a write through another', { skip }, () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet({ orchestrators: 2, nodes: 2, rf: 1, shards: 8 });
  });
  after(async () => f?.stop());

  test('the write after the deletion recreates the index with the shard field filterable', async () => {
    const [a, b] = f.orchestrators as [(typeof f.orchestrators)[0], (typeof f.orchestrators)[0]];
    for (let round = 0; round < 5; round++) {
      // b knows the index (its cache says it is set up).
      const first = await http(b.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: [{ id: 1, round }] });
      assert.equal(first.status, 202);
      assert.equal((await waitTerminal(b.url, first.body.taskUid)).status, 'succeeded');
      assert.equal((await http(b.url, 'POST', '/indexes/items/search', { body: { q: '' } })).status, 200);
      const deleted = await http(a.url, 'DELETE', '/indexes/items');
      assert.equal(deleted.status, 202);
      const again = await http(b.url, 'POST', '/indexes/items/documents', { body: [{ id: 2, round }] });
      assert.equal(again.status, 202, JSON.stringify(again.body));
      assert.equal((await waitTerminal(a.url, deleted.body.taskUid)).status, 'succeeded');
      assert.equal((await waitTerminal(b.url, again.body.taskUid)).status, 'succeeded');
      for (const e of f.engines) {
        const s = await http(e.url, 'GET', '/indexes/items/settings/filterable-attributes', { key: NODE_KEY });
        assert.equal(s.status, 200, `${e.url}: ${JSON.stringify(s.body)}`);
        assert.ok(JSON.stringify(s.body).includes(SHARD_FIELD), `round ${round}, ${e.url}: ${JSON.stringify(s.body)}`);
      }
      const docs = await http(f.url, 'GET', '/indexes/items/documents');
      assert.deepEqual(
        docs.body.results.map((d: { id: number }) => d.id),
        [2],
        'only the document written after the deletion',
      );
    }
  });
});
