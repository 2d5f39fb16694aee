/**
 * Resource-pressure signals (spec S14.9): the cgroup readings behind `miroir_memory_pressure` and
 * `miroir_cpu_throttled_seconds_total`, and `server.max_concurrent_requests` with its queue gauge.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Resources } from '../src/obs/resources.js';
import { http, startCluster } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'miroir-cgroup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cgroup(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), `${text}\n`);
  }
  return root;
}

test('cgroup v2: memory against memory.max, throttling from cpu.stat', () => {
  const at = (current: number) =>
    new Resources(cgroup(`v2-${current}`, { 'memory.max': '1000', 'memory.current': String(current), 'cpu.stat': 'usage_usec 9\nthrottled_usec 2500000' }));
  assert.deepEqual([700, 800, 950].map((c) => at(c).memoryPressure()), [0, 1, 2]);
  assert.equal(at(700).cpuThrottledSeconds(), 2.5);
});

test('cgroup v1: memory.limit_in_bytes and throttled_time; an unlimited cgroup falls back to the machine', () => {
  const v1 = new Resources(cgroup('v1', { 'memory/memory.limit_in_bytes': '2000', 'memory/memory.usage_in_bytes': '1900', 'cpu/cpu.stat': 'nr_throttled 3\nthrottled_time 1500000000' }));
  assert.equal(v1.memoryPressure(), 2);
  assert.equal(v1.cpuThrottledSeconds(), 1.5);
  const open = new Resources(cgroup('open', { 'memory/memory.limit_in_bytes': '9223372036854771712', 'memory.max': 'max' }));
  assert.equal(open.memoryLimit(), totalmem());
  assert.equal(new Resources(join(dir, 'none')).cpuThrottledSeconds(), undefined);
});

test('requests past server.max_concurrent_requests wait their turn, counted in miroir_request_queue_depth', async () => {
  const c = await startCluster({ nodes: 1, rf: 1, shards: 2, proxied: [0], config: { server: { port: 0, bind: '127.0.0.1', max_concurrent_requests: 2 } } });
  try {
    const t = await c.client.index('items').addDocuments([{ id: 1, title: 'one' }], { primaryKey: 'id' });
    assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
    c.proxies.get(0)!.set({ kind: 'delay', ms: 900 });
    const searches = Array.from({ length: 5 }, () => http(c.url, 'POST', '/indexes/items/search', { body: { q: 'one' } }));
    // Operator routes are not limited: the scrape answers while five searches are pending (all
    // five have arrived within a few ms; longer on a loaded machine).
    let scrape = '';
    for (const end = Date.now() + 700; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      scrape = (await http(c.url, 'GET', '/_miroir/metrics')).body as string;
      if (/^miroir_request_queue_depth 3$/m.test(scrape)) break;
    }
    assert.match(scrape, /^miroir_request_queue_depth 3$/m);
    assert.match(scrape, /^miroir_requests_in_flight 3$/m);
    for (const r of await Promise.all(searches)) {
      assert.equal(r.status, 200);
      assert.equal(r.body.estimatedTotalHits, 1);
    }
    const after = (await http(c.url, 'GET', '/_miroir/metrics')).body as string;
    assert.match(after, /^miroir_request_queue_depth 0$/m);
    assert.match(after, /^miroir_memory_pressure [012]$/m);
  } finally {
    await c.stop();
  }
});
