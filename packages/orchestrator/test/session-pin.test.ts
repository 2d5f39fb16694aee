/**
 * Read-your-writes sessions with `wait_strategy: route_pin` (spec S13.6, docs/guarantees.md): two
 * replica groups of one node each. While a session's last write is still pending (the nodes are
 * busy with a backlog), the session's reads go to the pinned group (the lowest one that took the
 * write) every time, and do not wait; reads without the session spread over both groups; once the
 * write is finished, the session's reads spread again.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

const NODE_KEY = 'node-master-key-for-tests';
const SEARCH = '/indexes/notes/search';
let c: TestCluster;

/** Search calls each node received (node-0 is group 0, node-1 group 1). */
const calls = () => [...c.recorders.values()].map((r) => r.requests.filter((q) => q.path === SEARCH).length);
const clear = () => {
  for (const r of c.recorders.values()) r.clear();
};

before(async () => {
  c = await startCluster({
    nodes: 2,
    groups: 2,
    rf: 1,
    shards: 4,
    recorded: true,
    config: { session_pinning: { wait_strategy: 'route_pin' }, result_cache: { enabled: false }, query_coalescing: { enabled: false }, health: { interval_ms: 1000, timeout_ms: 4000 } },
  });
  const r = await http(c.url, 'POST', '/indexes/notes/documents?primaryKey=id', { body: [{ id: 0, text: 'zero' }] });
  assert.equal((await c.client.tasks.waitForTask(r.body.taskUid)).status, 'succeeded');
});
after(async () => c?.stop());

test('a pending write pins its session to one group; other reads, and later ones, spread', async () => {
  const session = { 'x-miroir-session': 'pin-test' };
  // A backlog on both nodes (an index Miroir does not serve) keeps the session's write pending.
  // How long it lasts depends on the machine's load: when the write finished before the session's
  // reads did, the attempt is made again.
  const big = (n: number) => Array.from({ length: 1500 }, (_, k) => ({ id: 10_000 * n + k, text: `backlog ${n} ${k} ${'lorem ipsum '.repeat(8)}` }));
  for (let attempt = 0; attempt < 6; attempt++) {
    await Promise.all(c.engines.flatMap((e) => Array.from({ length: 20 }, (_, n) => http(e.url, 'POST', '/indexes/backlog/documents?primaryKey=id', { body: big(n), key: NODE_KEY }))));
    const w = await http(c.url, 'POST', '/indexes/notes/documents', { body: [{ id: 1 + attempt, text: 'one' }], headers: session });
    assert.equal(w.status, 202);
    clear();
    for (let i = 0; i < 3; i++) assert.equal((await http(c.url, 'POST', SEARCH, { body: { q: '' }, headers: session })).status, 200);
    const pinned = calls();
    const during = (await http(c.url, 'GET', `/tasks/${w.body.taskUid}`)).body.status;
    if (during !== 'enqueued' && during !== 'processing') continue;
    // Still pending after the session's reads: it was pending during all of them.
    assert.deepEqual(pinned, [3, 0], 'the session read only group 0');
    for (let i = 0; i < 6; i++) assert.equal((await http(c.url, 'POST', SEARCH, { body: { q: '' } })).status, 200);
    const others = calls().map((n, i) => n - pinned[i]!);
    assert.ok(others[0]! > 0 && others[1]! > 0, `reads without the session spread: ${others}`);
    assert.equal((await c.client.tasks.waitForTask(w.body.taskUid, { timeout: 60_000 })).status, 'succeeded');
    clear();
    for (let i = 0; i < 6; i++) await http(c.url, 'POST', SEARCH, { body: { q: '' }, headers: session });
    assert.ok(calls().every((n) => n > 0), `once the write finished, the session's reads spread: ${calls()}`);
    return;
  }
  assert.fail('the session write was never still pending after its reads');
});
