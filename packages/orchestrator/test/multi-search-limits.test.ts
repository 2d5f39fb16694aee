/**
 * `multi_search` limits (spec S13.11): a batch of more than `max_queries_per_batch` queries is
 * refused before any node is asked; a query slower than `per_query_timeout_ms` (a node held back
 * by its recording proxy) fails the whole batch with 504 naming the query, without waiting for the
 * slow node; the batch time limit names the first query still running (BatchDeadline alone); the `miroir_multisearch_*`
 * metrics count batches, their sizes and the failed ones; `enabled: false` turns the route off.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MeilisearchApiError } from 'meilisearch';
import { pino } from 'pino';
import { BatchDeadline } from '../src/api/batch-deadline.js';
import { startMiroir } from '../src/main.js';
import { http, startCluster, type TestCluster } from './harness.js';

let c: TestCluster;
const KEY = 'multi-search-limits-master-key';
const PER_QUERY_MS = 400;

before(async () => {
  c = await startCluster({
    nodes: 2,
    rf: 1,
    shards: 8,
    recorded: true,
    masterKey: KEY,
    config: {
      multi_search: { max_queries_per_batch: 3, per_query_timeout_ms: PER_QUERY_MS },
      result_cache: { enabled: false },
      query_coalescing: { enabled: false },
    },
  });
  const docs = Array.from({ length: 40 }, (_, id) => ({ id, title: `item ${id}`, n: id % 4 }));
  const task = await c.client.index('items').addDocuments(docs, { primaryKey: 'id' }).waitTask();
  assert.equal(task.status, 'succeeded');
  assert.equal((await c.client.index('items').updateFilterableAttributes(['id', 'n']).waitTask()).status, 'succeeded');
});
after(async () => c?.stop());

const metric = async (name: string): Promise<string> =>
  (await c.miroir.metrics.expose()).body
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');

test('a batch above max_queries_per_batch is refused with 400 before any node is asked', async () => {
  const ok = await c.client.multiSearch({ queries: [1, 2, 3].map((n) => ({ indexUid: 'items', filter: `n = ${n % 4}` })) });
  assert.equal(ok.results.length, 3);
  for (const r of c.recorders.values()) r.clear();
  const queries = [0, 1, 2, 3].map((n) => ({ indexUid: 'items', filter: `n = ${n}` }));
  await assert.rejects(
    () => c.client.multiSearch({ queries }),
    (e: unknown) => e instanceof MeilisearchApiError && e.cause?.code === 'miroir_multi_search_too_many_queries' && e.response.status === 400,
  );
  const r = await http(c.url, 'POST', '/multi-search', { key: KEY, body: { federation: {}, queries } });
  assert.equal(r.status, 400);
  assert.deepEqual(Object.keys(r.body), ['message', 'code', 'type', 'link']);
  assert.equal(r.body.type, 'invalid_request');
  assert.match(r.body.message, /at most 3 queries .*holds 4/);
  assert.equal([...c.recorders.values()].reduce((n, rec) => n + rec.requests.filter((q) => q.path.includes('/search')).length, 0), 0);
  assert.match(await metric('miroir_multisearch_batches_total'), /mode="plain"} [1-9]/);
  assert.match(await metric('miroir_multisearch_queries_per_batch_count'), / [1-9]/);
});

test('a query slower than per_query_timeout_ms fails the batch with 504 naming it, without waiting for its node', async () => {
  // An id held on node 0: the first query reads only that node (query planner), the second every node.
  let fast: number | undefined;
  for (let id = 0; id < 40 && fast === undefined; id++) {
    for (const r of c.recorders.values()) r.clear();
    await c.client.index('items').search('', { filter: `id = ${id}` });
    if (c.recorders.get(0)!.requests.length > 0 && c.recorders.get(1)!.requests.length === 0) fast = id;
  }
  assert.ok(fast !== undefined, 'some id lives on node 0');
  const failedBefore = Number((await metric('miroir_multisearch_partial_failures_total')).split(' ')[1] ?? 0);
  const slow = c.recorders.get(1)!;
  slow.delayMs = 1500;
  try {
    for (const federation of [undefined, { limit: 5 }]) {
      const t0 = performance.now();
      const r = await http(c.url, 'POST', '/multi-search', {
        key: KEY,
        body: { ...(federation ? { federation } : {}), queries: [{ indexUid: 'items', filter: `id = ${fast}` }, { indexUid: 'items', q: 'item' }] },
      });
      const took = performance.now() - t0;
      assert.equal(r.status, 504, JSON.stringify(r.body));
      assert.deepEqual(Object.keys(r.body), ['message', 'code', 'type', 'link']);
      assert.equal(r.body.message, `Inside \`.queries[1]\`: The query did not finish within \`multi_search.per_query_timeout_ms\` (${PER_QUERY_MS} ms).`);
      assert.equal(r.body.code, 'miroir_multi_search_timeout');
      assert.equal(r.body.type, 'system');
      assert.ok(took >= PER_QUERY_MS && took < 1500, `answered after ${Math.round(took)} ms`);
    }
  } finally {
    slow.delayMs = 0;
  }
  const failedAfter = Number((await metric('miroir_multisearch_partial_failures_total')).split(' ')[1]);
  assert.equal(failedAfter - failedBefore, 2);
  // The abandoned node calls end on their own; the slow node was not marked failed for them.
  await new Promise((r) => setTimeout(r, 1700));
  assert.equal(c.miroir.cluster.health.isHealthy('node-1'), true);
  const again = await c.client.multiSearch({ queries: [{ indexUid: 'items', q: 'item', limit: 1 }] });
  assert.equal(again.results[0]!.estimatedTotalHits, 40);
});

test('the batch limit names the first query still running, and later queries fail at once', async () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const d = new BatchDeadline({ per_query_timeout_ms: 1000, total_timeout_ms: 120 });
  const quick = d.run(0, async () => 'done');
  const slow = [1, 2].map((i) => d.run(i, () => sleep(400).then(() => i)));
  assert.equal(await quick, 'done');
  for (const p of slow) {
    await assert.rejects(p, (e: Error & { code?: string }) => {
      assert.equal(e.code, 'miroir_multi_search_timeout');
      assert.equal(e.message, 'Inside `.queries[1]`: The multi-search did not finish within `multi_search.total_timeout_ms` (120 ms).');
      return true;
    });
  }
  // Past the batch limit, a query is refused at once.
  await assert.rejects(d.run(3, async () => 3), /total_timeout_ms/);
  d.close();

  const per = new BatchDeadline({ per_query_timeout_ms: 50, total_timeout_ms: 10_000 });
  await assert.rejects(per.run(4, () => sleep(300)), /^MeiliError: Inside `\.queries\[4\]`: The query did not finish within `multi_search\.per_query_timeout_ms` \(50 ms\)\.$/);
  assert.equal(await per.run(5, async () => 5), 5);
  per.close();
});

test('multi_search.enabled: false answers 501 miroir_not_supported and registers no multi-search metric', async () => {
  const off = await startMiroir(
    { ...c.config, multi_search: { ...c.config.multi_search, enabled: false }, task_store: { ...c.config.task_store, path: join(c.dir, 'off.db') }, server: { ...c.config.server, port: 0 }, metrics: { ...c.config.metrics, port: 0 } },
    { logger: pino({ level: 'silent' }) },
  );
  try {
    const r = await http(off.url, 'POST', '/multi-search', { key: KEY, body: { queries: [{ indexUid: 'items' }] } });
    assert.equal(r.status, 501);
    assert.equal(r.body.code, 'miroir_not_supported');
    assert.match(r.body.message, /multi_search\.enabled: false/);
    assert.doesNotMatch((await off.metrics.expose()).body, /miroir_multisearch_/);
  } finally {
    await off.close();
  }
});
