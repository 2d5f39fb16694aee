/**
 * The demo restarts on its data folder (issue "Hardening"): its engines get new ports on every
 * start, and the stored topology follows them by node id, so the same nodes answer with the same
 * data. Written and read back with the official client: documents, settings, tasks and keys.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Meilisearch } from 'meilisearch';
import { startDemo, type Demo, type DemoOptions } from '../src/demo/demo.js';

const dir = mkdtempSync(join(tmpdir(), 'miroir-demo-restart-'));
const CLIENT_KEY = 'demo-restart-client-key-0001';
const options: DemoOptions = { nodes: 3, shards: 8, rf: 2, groups: 1, port: 0, dataDir: dir, host: '127.0.0.1' };
const env = { ...process.env, MIROIR_MASTER_KEY: CLIENT_KEY, MIROIR_LOG__LEVEL: 'warn', MIROIR_METRICS__ENABLED: 'false' };
let demo: Demo | undefined;

after(async () => {
  await demo?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const movies = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, title: `Movie ${i + 1}`, genre: i % 3 === 0 ? 'drama' : 'comedy', year: 1970 + i }));

test('the demo restarts on its data folder with the same nodes and data', async () => {
  demo = await startDemo(options, env);
  const firstPorts = demo.engines.map((e) => e.port);
  let client = new Meilisearch({ host: demo.miroir.url, apiKey: CLIENT_KEY });
  const created = await client.createIndex('movies', { primaryKey: 'id' }).waitTask();
  const settings = await client.index('movies').updateSettings({ filterableAttributes: ['genre'], sortableAttributes: ['year'] }).waitTask();
  const added = await client.index('movies').addDocuments(movies).waitTask();
  assert.deepEqual([created.status, settings.status, added.status], ['succeeded', 'succeeded', 'succeeded']);
  const key = await client.createKey({ name: 'reader', actions: ['search'], indexes: ['movies'], expiresAt: null });
  const before = {
    documents: await client.index('movies').getDocuments({ limit: 100 }),
    settings: await client.index('movies').getSettings(),
    tasks: await client.tasks.getTasks({ limit: 100 }),
    search: await client.index('movies').search('', { filter: 'genre = drama', sort: ['year:desc'], limit: 5 }),
  };
  assert.equal(before.documents.total, 40);
  await demo.stop();
  demo = undefined;

  demo = await startDemo(options, env);
  // New processes, new ports: the stored addresses no longer hold.
  assert.notDeepEqual(demo.engines.map((e) => e.port), firstPorts);
  client = new Meilisearch({ host: demo.miroir.url, apiKey: CLIENT_KEY });
  assert.deepEqual(await client.index('movies').getDocuments({ limit: 100 }), before.documents);
  assert.deepEqual(await client.index('movies').getSettings(), before.settings);
  assert.deepEqual(await client.tasks.getTasks({ limit: 100 }), before.tasks);
  const search = await client.index('movies').search('', { filter: 'genre = drama', sort: ['year:desc'], limit: 5 });
  assert.deepEqual(search.hits, before.search.hits);
  assert.equal(search.estimatedTotalHits, before.search.estimatedTotalHits);
  const again = await client.getKey(key.uid);
  assert.equal(again.key, key.key);
  assert.deepEqual(again.indexes, ['movies']);
  // The key still works (every node knows it).
  const reader = new Meilisearch({ host: demo.miroir.url, apiKey: key.key });
  assert.equal((await reader.index('movies').search('Movie', { limit: 1 })).hits.length, 1);
  // Writes go on where they stopped.
  const more = await client.index('movies').addDocuments([{ id: 41, title: 'Movie 41', genre: 'drama', year: 2011 }]).waitTask();
  assert.equal(more.status, 'succeeded');
  assert.equal(more.uid, Math.max(...before.tasks.results.map((t) => t.uid)) + 1);
  assert.equal((await client.index('movies').getDocuments({ limit: 0 })).total, 41);
  // The topology kept its node ids and took the new addresses.
  const topo = (await (await fetch(`${demo.miroir.url}/_miroir/topology`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).json()) as {
    nodes: { id: string; address: string }[];
  };
  assert.deepEqual(
    topo.nodes.map((n) => [n.id, n.address]),
    demo.engines.map((e, i) => [`node-${i}`, e.url]),
  );
});
