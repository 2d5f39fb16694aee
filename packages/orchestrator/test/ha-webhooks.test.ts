/**
 * Webhooks with several orchestrators on one Redis: a webhook created through one process is the
 * cluster's (every process lists it), and each Miroir task is sent to it exactly once, whichever
 * process enqueued, polled or read it — received by a real HTTP server on port 0.
 */
import * as assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { startFleet, waitTerminal, type Fleet } from './fleet.js';
import { http } from './harness.js';
import { redisSkip } from './redis-kit.js';

const skip = await redisSkip();

describe('webhooks across 2 orchestrators', { skip }, () => {
  let f: Fleet;
  let receiver: Server;
  let url = '';
  const received: number[] = [];
  let arrived: (() => void) | null = null;

  before(async () => {
    f = await startFleet({ orchestrators: 2, nodes: 2, rf: 1, shards: 8 });
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        for (const line of gunzipSync(Buffer.concat(chunks)).toString('utf8').trim().split('\n')) received.push(JSON.parse(line).uid);
        res.end();
        arrived?.();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const addr = receiver.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/hook`;
  });
  after(async () => {
    await f?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((r) => (arrived = r));
  };

  test('one set of webhooks, one call per task', async () => {
    const [a, b] = f.orchestrators;
    const created = await http(a!.url, 'POST', '/webhooks', { body: { url } });
    assert.equal(created.status, 201);
    const listed = await http(b!.url, 'GET', '/webhooks');
    assert.deepEqual(listed.body, { results: [created.body] });

    const uids: number[] = [];
    const first = await http(f.url, 'POST', '/indexes', { body: { uid: 'hooked', primaryKey: 'id' } });
    uids.push(first.body.taskUid);
    const writes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => http(f.url, 'POST', '/indexes/hooked/documents', { body: [{ id: i, title: `t${i}` }] })),
    );
    for (const w of writes) uids.push(w.body.taskUid);
    // Both processes read every task: both may fold it, only one finishes it.
    for (const uid of uids) for (const o of f.orchestrators) assert.equal((await waitTerminal(o.url, uid)).status, 'succeeded');
    // A last task, finished after every other one: once it has been received, so have the others.
    const last = await http(a!.url, 'POST', '/indexes/hooked/documents', { body: [{ id: 99 }] });
    await waitTerminal(b!.url, last.body.taskUid);
    uids.push(last.body.taskUid);
    await until(() => received.includes(last.body.taskUid) && uids.every((u) => received.includes(u)));
    assert.deepEqual([...received].sort((x, y) => x - y), [...uids].sort((x, y) => x - y));
  });
});
