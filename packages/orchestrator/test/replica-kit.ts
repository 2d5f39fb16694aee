/**
 * Test helpers for what replicas hold: run an anti-entropy pass through the admin API, read every
 * node directly, and check that each document sits, identically, on exactly the owners of its shard.
 */
import * as assert from 'node:assert/strict';
import { http, type TestCluster } from './harness.js';

type Doc = Record<string, unknown>;

/** Starts a pass through the admin API and waits for its report. */
export async function antiEntropyPass(c: TestCluster): Promise<{ shardsScanned: number; shardsSkipped: number; mismatches: number; repaired: number; errors: string[] }> {
  const before = (await http(c.url, 'GET', '/_miroir/anti-entropy')).body.last?.startedAt ?? null;
  const started = await http(c.url, 'POST', '/_miroir/anti-entropy/run');
  assert.equal(started.status, 202);
  for (;;) {
    const s = (await http(c.url, 'GET', '/_miroir/anti-entropy')).body;
    if (!s.running && s.last !== null && s.last.startedAt !== before) return s.last;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every document each node holds for an index, by node index then primary key. */
export async function nodeContents(c: TestCluster, uid: string): Promise<Map<string, Doc>[]> {
  return Promise.all(
    c.engines.map(async (_e, i) => {
      const docs = await c.nodeClient(i).index(uid).getDocuments<Doc>({ limit: 100_000 });
      return new Map(docs.results.map((d) => [String(d.id), d]));
    }),
  );
}

/** Asserts each document is held, identically, by exactly the owners of its shard. */
export async function assertReplicasAgree(c: TestCluster, uid: string, expectedIds: Iterable<string>): Promise<void> {
  const table = (await http(c.url, 'GET', '/_miroir/shards')).body.shards as { shard: number; groups: Record<string, string[]> }[];
  const contents = await nodeContents(c, uid);
  for (const id of expectedIds) {
    const holders = contents.flatMap((m, i) => (m.has(id) ? [i] : []));
    assert.ok(holders.length > 0, `document ${id} is on no node`);
    const shard = contents[holders[0]!]!.get(id)!._miroir_shard as number;
    const owners = Object.values(table[shard]!.groups).flat().map((n) => Number(n.slice('node-'.length))).sort();
    assert.deepEqual(holders, owners, `document ${id} (shard ${shard}) held by nodes ${holders}, owners ${owners}`);
    const copies = holders.map((i) => JSON.stringify(contents[i]!.get(id)));
    assert.equal(new Set(copies).size, 1, `copies of ${id} differ: ${copies.join(' / ')}`);
  }
}

