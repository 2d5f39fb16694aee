/**
 * `ReadCache.serve` (api/read-cache.ts) on its own, with reads whose answers the test controls:
 * who joins a read in flight (window, subscriber and pending bounds), that errors and degraded
 * answers are shared with those who joined but never cached, expiry and eviction, and the counters.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { ReadCache, type ReadAnswer } from '../src/api/read-cache.js';
import { Catalog } from '../src/catalog.js';
import { Cluster } from '../src/cluster.js';
import { loadConfig } from '../src/config.js';
import { loadHasher } from '../src/core/hash.js';
import { Metrics } from '../src/obs/metrics.js';
import { SqliteStore } from '../src/state/sqlite.js';
import { SettingsVersions } from '../src/work/settings-versions.js';
import { TaskRegistry } from '../src/work/tasks.js';

type Answer = ReadAnswer<{ n: number }>;

/** A read whose answer the test gives when it wants; `calls` counts how often it ran. */
class Scatter {
  calls = 0;
  #pending: { ok: (a: Answer) => void; fail: (e: unknown) => void }[] = [];
  readonly run = (): Promise<Answer> => {
    this.calls++;
    return new Promise((ok, fail) => this.#pending.push({ ok, fail }));
  };
  answer(missing: number[] = []): void {
    for (const p of this.#pending.splice(0)) p.ok({ response: { n: this.calls }, missing });
  }
  fail(e: unknown): void {
    for (const p of this.#pending.splice(0)) p.fail(e);
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ReadCache.serve', () => {
  let dir: string;
  const clusters: Cluster[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'miroir-read-cache-'));
  });
  after(async () => {
    for (const c of clusters) await c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function make(overrides: Record<string, unknown>): Promise<{ reads: ReadCache; metrics: Metrics }> {
    const config = loadConfig({ env: {}, overrides: { nodes: [{ id: 'node-0', address: 'http://127.0.0.1:1' }], ...overrides } });
    const store = new SqliteStore(join(dir, `state-${clusters.length}.db`));
    const cluster = new Cluster(config, await loadHasher(), store);
    clusters.push(cluster);
    const metrics = new Metrics(cluster, new TaskRegistry(cluster, new Catalog(cluster), pino({ level: 'silent' })));
    return { reads: new ReadCache(config, new SettingsVersions(store), metrics, () => 0), metrics };
  }
  const value = async (m: Metrics, name: string, labels: Record<string, string> = {}) =>
    (await m.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;

  test('joiners share the answer; a later read is a hit; counters follow', async () => {
    const { reads, metrics } = await make({});
    const s = new Scatter();
    const all = Promise.all([reads.serve('k', s.run), reads.serve('k', s.run), reads.serve('k', s.run)]);
    await tick();
    s.answer();
    const got = await all;
    assert.equal(s.calls, 1);
    assert.deepEqual(got.map((g) => g.outcome), ['miss', 'shared', 'shared']);
    assert.ok(got.every((g) => g.response === got[0]!.response));
    const hit = await reads.serve('k', s.run);
    assert.equal(hit.outcome, 'hit');
    assert.equal(s.calls, 1);
    assert.equal(await value(metrics, 'miroir_result_cache_requests_total', { outcome: 'hit' }), 1);
    assert.equal(await value(metrics, 'miroir_result_cache_requests_total', { outcome: 'miss' }), 3);
    assert.equal(await value(metrics, 'miroir_coalesced_requests_total'), 2);
    assert.equal(await value(metrics, 'miroir_result_cache_size'), 1);
  });

  test('an error reaches those who joined and is not cached', async () => {
    const { reads } = await make({});
    const s = new Scatter();
    const a = reads.serve('k', s.run);
    const b = reads.serve('k', s.run);
    await tick();
    const boom = new Error('node refused');
    s.fail(boom);
    await assert.rejects(a, (e) => e === boom);
    await assert.rejects(b, (e) => e === boom);
    const c = reads.serve('k', s.run);
    await tick();
    assert.equal(s.calls, 2);
    s.answer();
    assert.equal((await c).outcome, 'miss');
  });

  test('a degraded answer is shared with those who joined but not cached', async () => {
    const { reads } = await make({});
    const s = new Scatter();
    const a = reads.serve('k', s.run);
    const b = reads.serve('k', s.run);
    await tick();
    s.answer([3]);
    assert.deepEqual((await b).missing, [3]);
    assert.equal((await b).outcome, 'shared');
    await a;
    const c = reads.serve('k', s.run);
    await tick();
    assert.equal(s.calls, 2);
    s.answer();
    await c;
    assert.equal((await reads.serve('k', s.run)).outcome, 'hit');
  });

  test('past window_ms a read starts its own scatter, which later reads join', async () => {
    const { reads } = await make({ query_coalescing: { window_ms: 20 }, result_cache: { enabled: false } });
    const s = new Scatter();
    const first = reads.serve('k', s.run);
    await sleep(40);
    const second = reads.serve('k', s.run);
    const third = reads.serve('k', s.run);
    await tick();
    assert.equal(s.calls, 2);
    s.answer();
    assert.deepEqual([(await first).outcome, (await second).outcome, (await third).outcome], ['miss', 'miss', 'shared']);
    // Finished: the window closed with the answer, and nothing is cached.
    const fourth = reads.serve('k', s.run);
    await tick();
    assert.equal(s.calls, 3);
    s.answer();
    await fourth;
  });

  test('max_subscribers and max_pending_queries bound the sharing', async () => {
    const { reads } = await make({ query_coalescing: { max_subscribers: 2, max_pending_queries: 1 }, result_cache: { enabled: false } });
    const s = new Scatter();
    const k = [1, 2, 3, 4, 5].map(() => reads.serve('k', s.run));
    await tick();
    // One scatter, two joined, the fourth scatters and the fifth joins it.
    assert.equal(s.calls, 2);
    // Another key while one is pending: runs, but nobody may join it.
    const other = [reads.serve('o', s.run), reads.serve('o', s.run)];
    await tick();
    assert.equal(s.calls, 4);
    s.answer();
    assert.deepEqual(
      (await Promise.all(k)).map((x) => x.outcome),
      ['miss', 'shared', 'shared', 'miss', 'shared'],
    );
    assert.deepEqual((await Promise.all(other)).map((x) => x.outcome), ['miss', 'miss']);
  });

  test('entries expire after ttl_ms and the least recently used is evicted past max_size', async () => {
    const { reads, metrics } = await make({ query_coalescing: { enabled: false }, result_cache: { ttl_ms: 250, max_size: 2 } });
    const s = new Scatter();
    const fill = async (key: string) => {
      const p = reads.serve(key, s.run);
      await tick();
      s.answer();
      return (await p).outcome;
    };
    assert.equal(await fill('a'), 'miss');
    assert.equal(await fill('b'), 'miss');
    assert.equal(await fill('a'), 'hit');
    assert.equal(await fill('c'), 'miss');
    // `b` was the least recently used.
    assert.equal(await value(metrics, 'miroir_result_cache_evictions_total'), 1);
    assert.equal(await fill('a'), 'hit');
    assert.equal(await fill('b'), 'miss');
    await sleep(300);
    assert.equal(await fill('a'), 'miss');
  });
});
