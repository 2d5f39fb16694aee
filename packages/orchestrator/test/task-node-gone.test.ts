/**
 * A task never stays pending because a node that took its write left the topology before the
 * task's outcome was read (issue "several orchestrators, no caveats": tasks with a node task on a
 * removed node stayed `processing` forever). The other nodes' tasks decide it; a task whose every
 * node task was on the removed node fails with `miroir_node_removed`.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

const KEY = 'task-node-gone-client-key';
let c: TestCluster;

before(async () => {
  // No poll: a task is read only when asked for, so the removed node's tasks are never read.
  c = await startCluster({ nodes: 2, rf: 1, shards: 4, masterKey: KEY, config: { task_registry: { poll_interval_ms: 600_000 } } });
  const created = await http(c.url, 'POST', '/indexes', { key: KEY, body: { uid: 'films', primaryKey: 'id' } });
  await c.client.tasks.waitForTask(created.body.taskUid);
});
after(async () => c?.stop());

test('tasks whose nodes left the topology reach a terminal state', async () => {
  // One task per document, and one spanning both nodes.
  const single: { id: number; taskUid: number }[] = [];
  for (let id = 1; id <= 8; id++) {
    const r = await http(c.url, 'POST', '/indexes/films/documents', { key: KEY, body: [{ id, title: `film ${id}` }] });
    assert.equal(r.status, 202);
    single.push({ id, taskUid: r.body.taskUid });
  }
  const both = await http(c.url, 'POST', '/indexes/films/documents', { key: KEY, body: Array.from({ length: 8 }, (_, i) => ({ id: i + 1, title: `film ${i + 1}` })) });
  // Where each document landed, read from node-1 directly once it has processed everything.
  const n1 = c.nodeClient(1);
  const tasksOnN1 = await n1.tasks.getTasks({ statuses: ['enqueued', 'processing'] });
  for (const t of tasksOnN1.results) await n1.tasks.waitForTask(t.uid);
  const onNode1 = new Set((await n1.index('films').getDocuments({ limit: 100 })).results.map((d) => d.id as number));
  assert.ok(onNode1.size > 0 && onNode1.size < 8, `shards split across both nodes (${[...onNode1]})`);

  await c.engines[1]!.kill();
  const removed = await http(c.url, 'DELETE', '/_miroir/nodes/node-1?force=true', { key: KEY });
  assert.ok(removed.status < 300, JSON.stringify(removed.body));

  for (const { id, taskUid } of single) {
    const t = await c.client.tasks.waitForTask(taskUid, { timeout: 10_000 });
    if (onNode1.has(id)) {
      assert.equal(t.status, 'failed', `document ${id}`);
      assert.equal(t.error?.code, 'miroir_node_removed');
      assert.deepEqual(t.details, { receivedDocuments: 1, indexedDocuments: 0 });
    } else {
      assert.equal(t.status, 'succeeded', `document ${id}`);
    }
  }
  // Node-0's part of the spanning write succeeded: the task is decided by it.
  const spanning = await c.client.tasks.waitForTask(both.body.taskUid, { timeout: 10_000 });
  assert.equal(spanning.status, 'succeeded');
  assert.equal(spanning.details?.indexedDocuments, 8 - onNode1.size);
});
