/**
 * Document listing order (spec S3.2, docs/limits.md): where a node of the covering set holds every
 * shard (two replica groups of one node each), `GET /documents` lists exactly as one node does —
 * insertion order, kept by updates, with the ids deletions free reused — through additions,
 * updates and deletions; with shards spread over nodes, the order is the documented shard order,
 * the same on every read.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { wholeIndexHolder } from '../src/core/documents-list.js';
import { loadHasher } from '../src/core/hash.js';
import { Placement } from '../src/core/placement.js';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { http, startCluster, type TestCluster } from './harness.js';

const KEY = 'documents-order-master-key';
let dir: string;
let engine: EngineProcess;
let whole: TestCluster;
let spread: TestCluster;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'miroir-docs-order-'));
  [engine, whole, spread] = await Promise.all([
    startEngineProcess({ dataDir: join(dir, 'ref'), masterKey: KEY }),
    startCluster({ nodes: 2, groups: 2, rf: 1, shards: 8, masterKey: KEY }),
    startCluster({ nodes: 3, rf: 2, shards: 8, masterKey: KEY }),
  ]);
});
after(async () => {
  await Promise.all([engine?.stop(), whole?.stop(), spread?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const doc = (id: number, rev = 0) => ({ id, title: `t${id}.${rev}` });

async function waitTask(url: string, uid: number, key = KEY): Promise<{ status: string }> {
  for (;;) {
    const t = await http(url, 'GET', `/tasks/${uid}`, { key });
    if (['succeeded', 'failed', 'canceled'].includes(t.body.status)) return t.body;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs the same writes on a server, waiting for each task. */
async function writeAll(url: string): Promise<void> {
  const steps: [string, string, unknown][] = [
    ['POST', '/indexes/books/documents', [5, 3, 9, 1, 7].map((i) => doc(i))],
    ['POST', '/indexes/books/documents', [2, 8].map((i) => doc(i))],
    ['PUT', '/indexes/books/documents', [doc(3, 1), doc(4)]],
    ['POST', '/indexes/books/documents/delete-batch', [9, 1]],
    ['POST', '/indexes/books/documents', [doc(6), doc(5, 2), doc(10)]],
  ];
  for (const [method, path, body] of steps) {
    const res = await http(url, method, path, { body, key: KEY });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const task = await waitTask(url, res.body.taskUid);
    assert.equal(task.status, 'succeeded', JSON.stringify(task));
  }
}

describe('document listing order', () => {
  test('a node holding every shard lists alone: one node order, exactly', async () => {
    await Promise.all([writeAll(engine.url), writeAll(whole.url)]);
    for (const q of ['', '?limit=3', '?offset=2&limit=4', '?fields=title', '?filter=id%20%3E%203']) {
      const [ref, mir] = await Promise.all([
        http(engine.url, 'GET', `/indexes/books/documents${q}`, { key: KEY }),
        http(whole.url, 'GET', `/indexes/books/documents${q}`, { key: KEY }),
      ]);
      assert.deepEqual([mir.status, mir.body], [ref.status, ref.body], `GET /documents${q}`);
      if (q === '') {
        // Insertion order with reuse, not id order: the comparison means something.
        const ids = ref.body.results.map((d: { id: number }) => d.id);
        assert.notDeepEqual(ids, [...ids].sort((a: number, b: number) => a - b));
      }
    }
  });

  test('shards spread over nodes: every document once, the same order on every read', async () => {
    await writeAll(spread.url);
    const first = await http(spread.url, 'GET', '/indexes/books/documents', { key: KEY });
    const ids = first.body.results.map((d: { id: number }) => d.id);
    assert.deepEqual([...ids].sort((a, b) => a - b), [2, 3, 4, 5, 6, 7, 8, 10]);
    for (let i = 0; i < 4; i++) assert.deepEqual((await http(spread.url, 'GET', '/indexes/books/documents', { key: KEY })).body, first.body);
  });

  test('replicas listing a shard in different orders: pages still come from the same replicas', async () => {
    // On one replica, two documents of one shard trade places in its own order (as a rebalance copy
    // or a repair can leave them): deleted, then added again the other way round, directly.
    const NODE_KEY = 'node-master-key-for-tests';
    let swapped = false;
    for (const e of spread.engines) {
      const listed = await http(e.url, 'GET', '/indexes/books/documents?limit=100', { key: NODE_KEY });
      const byShard = new Map<number, Record<string, unknown>[]>();
      for (const d of listed.body.results as Record<string, unknown>[]) {
        const sh = d._miroir_shard as number;
        byShard.set(sh, [...(byShard.get(sh) ?? []), d]);
      }
      const pair = [...byShard.values()].find((docs) => docs.length >= 2);
      if (pair === undefined) continue;
      const [a, b] = pair as [Record<string, unknown>, Record<string, unknown>];
      for (const [method, path, body] of [
        ['POST', '/indexes/books/documents/delete-batch', [a.id, b.id]],
        ['POST', '/indexes/books/documents', [b]],
        ['POST', '/indexes/books/documents', [a]],
      ] as const) {
        const r = await http(e.url, method, path, { key: NODE_KEY, body });
        assert.equal((await waitTask(e.url, r.body.taskUid, NODE_KEY)).status, 'succeeded');
      }
      swapped = true;
      break;
    }
    assert.ok(swapped, 'some node holds two documents of one shard');
    const first = await http(spread.url, 'GET', '/indexes/books/documents', { key: KEY });
    for (let i = 0; i < 6; i++) assert.deepEqual((await http(spread.url, 'GET', '/indexes/books/documents', { key: KEY })).body, first.body);
    const paged: number[] = [];
    for (let offset = 0; offset < first.body.total; offset++) {
      paged.push(...(await http(spread.url, 'GET', `/indexes/books/documents?limit=1&offset=${offset}`, { key: KEY })).body.results.map((d: { id: number }) => d.id));
    }
    assert.deepEqual(paged, first.body.results.map((d: { id: number }) => d.id), 'page by page: every document once, in the same order');
  });

  test('wholeIndexHolder: the first candidate owning every shard of the group', async () => {
    const hasher = await loadHasher();
    const nodes = (ids: string[], group = 0) => ids.map((id) => ({ id, address: `http://${id}`, group, state: 'active' as const }));
    const all = new Placement(
      { version: 1, nodes: [...nodes(['a', 'b']), ...nodes(['c'], 1)], groups: [{ id: 0, state: 'active' }, { id: 1, state: 'active' }], shards: 8, replicationFactor: 2 },
      hasher,
      'serving',
    );
    assert.equal(wholeIndexHolder(all, all.groupIndex(0), ['b', 'a']), 'b');
    assert.equal(wholeIndexHolder(all, all.groupIndex(1), ['c']), 'c');
    const some = new Placement(
      { version: 1, nodes: nodes(['a', 'b', 'c']), groups: [{ id: 0, state: 'active' }], shards: 8, replicationFactor: 2 },
      hasher,
      'serving',
    );
    assert.equal(wholeIndexHolder(some, 0, ['a', 'b', 'c']), undefined);
    assert.equal(wholeIndexHolder(some, -1, ['a']), undefined);
  });
});
