/**
 * Test helpers for topology changes: wait for the rebalance to finish, and check that every node
 * in the topology holds exactly the shards it owns, identically across replicas.
 */
import * as assert from 'node:assert/strict';
import { http, startCluster, type ClusterSpec, type TestCluster } from './harness.js';
import { nodeContents } from './replica-kit.js';

type Doc = Record<string, unknown>;

/** Polls `GET /_miroir/rebalance/status` until no rebalance is planned or running; returns it. */
export async function waitRebalanced(c: TestCluster, key?: string, hangGuardMs = 300_000): Promise<any> {
  const deadline = Date.now() + hangGuardMs;
  for (;;) {
    const s = (await http(c.url, 'GET', '/_miroir/rebalance/status', { key })).body;
    if (s.state === 'idle') return s;
    if (Date.now() > deadline) throw new Error(`rebalance still ${s.state} after ${hangGuardMs} ms: ${JSON.stringify(s).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Asserts that each node of the topology holds exactly the documents of the shards it owns (per
 * `/_miroir/shards`), that replicas agree, and returns the union by primary key.
 */
export async function assertPlacementHeld(c: TestCluster, uid: string, key?: string): Promise<Map<string, Doc>> {
  const table = (await http(c.url, 'GET', '/_miroir/shards', { key })).body.shards as { shard: number; groups: Record<string, string[]> }[];
  const members = new Set(((await http(c.url, 'GET', '/_miroir/topology', { key })).body.nodes as { id: string }[]).map((n) => n.id));
  const contents = await nodeContents(c, uid);
  const union = new Map<string, Doc>();
  for (const [i, held] of contents.entries()) {
    const id = `node-${i}`;
    if (!members.has(id)) continue;
    for (const [key, d] of held) {
      const owners = Object.values(table[d._miroir_shard as number]!.groups).flat();
      assert.ok(owners.includes(id), `${id} holds ${key} of shard ${String(d._miroir_shard)}, owned by ${owners.join(', ')}`);
      const seen = union.get(key);
      if (seen) assert.equal(JSON.stringify(d), JSON.stringify(seen), `copies of ${key} differ`);
      else union.set(key, d);
    }
  }
  for (const row of table) {
    const owners = Object.values(row.groups).flat();
    const counts = owners.map((o) => [...contents[Number(o.slice('node-'.length))]!.values()].filter((d) => d._miroir_shard === row.shard).length);
    assert.equal(new Set(counts).size <= 1, true, `shard ${row.shard}: owners ${owners.join(', ')} hold ${counts.join(' / ')} documents`);
  }
  return union;
}

/**
 * Rebalancer settings for tests that watch a migration: small pages, throttled to `docsPerSec` so a
 * copy lasts long enough to act during it, quick retries and cleanup.
 */
export function slowRebalancer(docsPerSec: number, concurrency = 1): Record<string, unknown> {
  return { rebalancer: { cleanup_delay_ms: 100, retry_interval_ms: 100, batch_size: 50, max_concurrent_migrations: concurrency, throttle_docs_per_sec: docsPerSec } };
}

/** Reads until `ok` holds of what was read; returns it (gives up after about a minute). */
export async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean = (v) => v === true): Promise<T> {
  for (let i = 0; i < 3000; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** The master key of the clusters {@link startLoadedCluster} starts (also their admin key). */
export const MASTER_KEY = 'master-key';

/**
 * Two nodes, RF=1, `shards` shards, a throttled rebalancer ({@link slowRebalancer}), and index
 * `items` holding `docs` documents `{id: i, v: 0}`.
 */
export async function startLoadedCluster(opts: { shards: number; docs: number; docsPerSec: number } & Partial<ClusterSpec>): Promise<TestCluster> {
  const { shards, docs, docsPerSec, ...spec } = opts;
  const c = await startCluster({ nodes: 2, rf: 1, shards, masterKey: MASTER_KEY, config: slowRebalancer(docsPerSec), ...spec });
  const t = await c.client.index('items').addDocuments(Array.from({ length: docs }, (_, i) => ({ id: i, v: 0 })), { primaryKey: 'id' });
  assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
  return c;
}

/** An admin API call against the cluster's current orchestrator (with {@link MASTER_KEY}). */
export function adminOf(c: () => TestCluster): (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }> {
  return (method, path, body) => http(c().url, method, path, { key: MASTER_KEY, ...(body === undefined ? {} : { body }) });
}
