/**
 * Consistent settings (spec S13.5, issue 7), against real engine processes and a real orchestrator:
 * the two-phase broadcast (verify, repair, freeze), settings versions and their headers, the
 * freshness floor, the drift reconciler, the sequential strategy with its rollback, and a broadcast
 * finished by a restarted orchestrator, and a change kept waiting by the index's broadcast lease held
 * elsewhere. Node faults come from a fault proxy in front of the last node.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Meilisearch } from 'meilisearch';
import { http, startCluster, type TestCluster } from './harness.js';
import { parseExposition, sum } from './metrics-kit.js';

const MASTER = 'settings-master-key';
const MOVIES = [
  { id: 1, title: 'Wolverine', genre: 'action' },
  { id: 2, title: 'Alien', genre: 'horror' },
  { id: 3, title: 'The Thing', genre: 'horror' },
  { id: 4, title: 'Heat', genre: 'crime' },
];

/** Polls `check` until it holds (a failure bound, not a speed assertion). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function metric(c: TestCluster, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await http(c.url, 'GET', '/_miroir/metrics', { key: MASTER });
  return sum(parseExposition(res.body as string), name, labels);
}

async function status(c: TestCluster, index: string) {
  const res = await http(c.url, 'GET', `/_miroir/settings/${index}`, { key: MASTER });
  assert.equal(res.status, 200);
  return res.body as {
    settings_version: number;
    fingerprint: string | null;
    writes_frozen: string | null;
    nodes: { id: string; settings_version: number; fingerprint: string | null; matches: boolean | null }[];
  };
}

async function nodeSettings(c: TestCluster, i: number, index: string) {
  return c.nodeClient(i).index(index).getSettings();
}

async function version(c: TestCluster, index: string): Promise<number> {
  const res = await http(c.url, 'GET', `/indexes/${index}/settings`, { key: MASTER });
  return Number(res.headers.get('x-miroir-settings-version'));
}

/** A cluster of `nodes` engines (the last behind a fault proxy), 4 shards, holding index `uid`. */
async function startWith(uid: string, nodes: number, rf: number, config: Record<string, unknown>): Promise<TestCluster> {
  const c = await startCluster({ nodes, rf, shards: 4, masterKey: MASTER, proxied: [nodes - 1], config });
  await c.client.tasks.waitForTask((await c.client.createIndex(uid, { primaryKey: 'id' })).taskUid);
  await c.client.tasks.waitForTask((await c.client.index(uid).addDocuments(MOVIES)).taskUid);
  return c;
}

describe('two-phase broadcast (3 nodes, RF 3)', () => {
  let c: TestCluster;
  let client: Meilisearch;

  before(async () => {
    c = await startWith('movies', 3, 3, {
      settings_broadcast: { repair_backoff_ms: 200, max_repair_retries: 2, verify_timeout_s: 20 },
      settings_drift_check: { interval_s: 0.5 },
    });
    client = c.client;
  });
  after(async () => c?.stop());

  test('a synonym through the JS client: both phases pass, the version grows by one, every node holds the same settings', async () => {
    const before = await version(c, 'movies');
    const enqueued = await client.index('movies').updateSynonyms({ wolverine: ['logan'], logan: ['wolverine'] });
    const task = await client.tasks.waitForTask(enqueued.taskUid);
    assert.equal(task.status, 'succeeded');
    assert.equal(task.type, 'settingsUpdate');
    assert.deepEqual(task.details, { synonyms: { logan: ['wolverine'], wolverine: ['logan'] } });
    assert.equal(await version(c, 'movies'), before + 1);
    const s = await status(c, 'movies');
    assert.equal(s.settings_version, before + 1);
    assert.deepEqual(
      s.nodes.map((n) => [n.settings_version, n.matches]),
      [
        [before + 1, true],
        [before + 1, true],
        [before + 1, true],
      ],
    );
    const held = await Promise.all([0, 1, 2].map((i) => nodeSettings(c, i, 'movies')));
    assert.deepEqual(held[1], held[0]);
    assert.deepEqual(held[2], held[0]);
    assert.ok(held[0].filterableAttributes!.includes('_miroir_shard'), 'the nodes keep the reserved field');
    // The client reads back exactly what it set, and the synonym works through Miroir.
    assert.deepEqual(await client.index('movies').getSynonyms(), { logan: ['wolverine'], wolverine: ['logan'] });
    assert.deepEqual(await client.index('movies').getFilterableAttributes(), []);
    const hits = (await client.index('movies').search('logan')).hits;
    assert.deepEqual(hits.map((h) => h.id), [1]);
  });

  test('the settings answer of a change in flight says so; after commit the version is shown', async () => {
    c.proxies.get(2)!.set({ kind: 'refuse', request: /^(PATCH|PUT) \/indexes\/movies\/settings/, times: 1 });
    const res = await http(c.url, 'PATCH', '/indexes/movies/settings', { key: MASTER, body: { stopWords: ['the'] } });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('x-miroir-settings-inconsistent'), 'true');
    const task = await client.tasks.waitForTask(res.body.taskUid);
    assert.equal(task.status, 'succeeded', 'node-2 refused the change once and was repaired');
    const after = await http(c.url, 'GET', '/indexes/movies/settings/stop-words', { key: MASTER });
    assert.deepEqual(after.body, ['the']);
    assert.equal(after.headers.get('x-miroir-settings-inconsistent'), null);
    assert.equal(Number(after.headers.get('x-miroir-settings-version')), (await status(c, 'movies')).settings_version);
    assert.deepEqual((await nodeSettings(c, 2, 'movies')).stopWords, ['the']);
    // The refused change was noticed and repaired: by the broadcast's verify (a mismatch) or, when the
    // node's queue of missed writes replayed it first, by that replay.
    const mismatches = await metric(c, 'miroir_settings_hash_mismatch_total', { index: 'movies' });
    const replayed = await metric(c, 'miroir_handoff_replayed_total', { node_id: 'node-2' });
    assert.ok(mismatches + replayed >= 1, `mismatches ${mismatches}, replayed ${replayed}`);
  });

  test('a node that keeps refusing: the task fails, writes freeze, the floor excludes the node; clearing the fault unfreezes', async () => {
    const committed = (await status(c, 'movies')).settings_version;
    c.proxies.get(2)!.set({ kind: 'refuse', request: /^(PATCH|PUT) \/indexes\/movies\/settings/ });
    const enqueued = await client.index('movies').updateStopWords(['a', 'the']);
    const task = await client.tasks.waitForTask(enqueued.taskUid, { timeout: 60_000 });
    assert.equal(task.status, 'failed');
    assert.equal(task.error?.code, 'miroir_settings_unrepairable');
    assert.match(task.error!.message, /node-2/);

    // Committed on the nodes that hold it; node-2 stays at the old version.
    const s = await status(c, 'movies');
    assert.equal(s.settings_version, committed + 1);
    assert.deepEqual(s.nodes.map((n) => n.settings_version), [committed + 1, committed + 1, committed]);
    assert.match(s.writes_frozen ?? '', /node-2/);
    const topo = await http(c.url, 'GET', '/_miroir/topology', { key: MASTER });
    assert.deepEqual(topo.body.writes_frozen.map((f: { index: string }) => f.index), ['movies']);
    assert.equal(await metric(c, 'miroir_settings_writes_frozen', { index: 'movies' }), 1);

    const write = await http(c.url, 'POST', '/indexes/movies/documents', { key: MASTER, body: [{ id: 5, title: 'Ronin' }] });
    assert.equal(write.status, 503);
    assert.equal(write.body.code, 'miroir_writes_frozen');
    assert.equal(write.body.type, 'system');

    // The floor: node-2 is below it, the other replicas serve every shard.
    const node2Searches = () => metric(c, 'miroir_node_request_duration_seconds_count', { node_id: 'node-2', operation: 'search' });
    const searchesBefore = await node2Searches();
    for (let i = 0; i < 6; i++) {
      const r = await http(c.url, 'POST', '/indexes/movies/search', {
        key: MASTER,
        body: { q: '' },
        headers: { 'x-miroir-min-settings-version': String(committed + 1) },
      });
      assert.equal(r.status, 200);
      assert.equal(r.body.estimatedTotalHits, MOVIES.length);
      assert.equal(r.headers.get('x-miroir-degraded'), null);
    }
    assert.equal(await node2Searches(), searchesBefore, 'node-2 was not asked');
    // Above every node's version: no covering set remains.
    const stale = await http(c.url, 'POST', '/indexes/movies/search', {
      key: MASTER,
      body: { q: '' },
      headers: { 'x-miroir-min-settings-version': String(committed + 2) },
    });
    assert.equal(stale.status, 503);
    assert.equal(stale.body.code, 'miroir_settings_version_stale');
    const staleList = await http(c.url, 'GET', '/indexes/movies/documents', { key: MASTER, headers: { 'x-miroir-min-settings-version': String(committed + 2) } });
    assert.equal(staleList.status, 503);
    assert.equal(staleList.body.code, 'miroir_settings_version_stale');
    const list = await http(c.url, 'GET', '/indexes/movies/documents', { key: MASTER, headers: { 'x-miroir-min-settings-version': String(committed + 1) } });
    assert.equal(list.status, 200);
    assert.equal(list.body.total, MOVIES.length);
    const bad = await http(c.url, 'POST', '/indexes/movies/search', { key: MASTER, body: { q: '' }, headers: { 'x-miroir-min-settings-version': 'x' } });
    assert.equal(bad.status, 400);

    // Fault cleared: the next drift pass repairs node-2, advances its version and unfreezes.
    c.proxies.get(2)!.set({ kind: 'pass' });
    await until('the index to be unfrozen', async () => (await status(c, 'movies')).writes_frozen === null);
    const healed = await status(c, 'movies');
    assert.deepEqual(healed.nodes.map((n) => n.settings_version), [committed + 1, committed + 1, committed + 1]);
    assert.deepEqual((await nodeSettings(c, 2, 'movies')).stopWords, ['a', 'the']);
    const ok = await client.index('movies').addDocuments([{ id: 5, title: 'Ronin', genre: 'crime' }]);
    assert.equal((await client.tasks.waitForTask(ok.taskUid)).status, 'succeeded');
  });

  test('an out-of-band change on one node is found and repaired by the drift reconciler', async () => {
    const repairs = await metric(c, 'miroir_settings_drift_repair_total', { index: 'movies' });
    const direct = await c.nodeClient(1).index('movies').updateDistinctAttribute('genre');
    await c.nodeClient(1).tasks.waitForTask(direct.taskUid);
    await until('node-1 to be repaired', async () => (await nodeSettings(c, 1, 'movies')).distinctAttribute === null);
    // The repair is counted once the reconciler has read the node back (just after the node changed).
    await until('the repair to be counted', async () => (await metric(c, 'miroir_settings_drift_repair_total', { index: 'movies' })) > repairs);
    assert.equal(await metric(c, 'miroir_settings_drift_repair_total', { index: 'movies' }), repairs + 1);
    const s = await status(c, 'movies');
    assert.ok(s.nodes.every((n) => n.matches === true));
  });

  test('an embedder added out of band on one node is counted as embedder drift and removed', async () => {
    const drifts = await metric(c, 'miroir_vector_embedder_drift_total');
    const direct = await c.nodeClient(1).index('movies').updateEmbedders({ stray: { source: 'userProvided', dimensions: 3 } });
    await c.nodeClient(1).tasks.waitForTask(direct.taskUid);
    await until('the embedder drift to be counted', async () => (await metric(c, 'miroir_vector_embedder_drift_total')) > drifts);
    await until('node-1 to be repaired', async () => Object.keys((await nodeSettings(c, 1, 'movies')).embedders ?? {}).length === 0);
  });

  test('a node down during a change gets the committed settings when it comes back', async () => {
    const committed = (await status(c, 'movies')).settings_version;
    await c.engines[1]!.kill();
    const nodeState = async () => {
      const topo = await http(c.url, 'GET', '/_miroir/topology', { key: MASTER });
      return (topo.body.nodes as { id: string; health: string }[]).find((n) => n.id === 'node-1')!.health;
    };
    await until('node-1 to be marked failed', async () => (await nodeState()) === 'failed');
    const task = await client.tasks.waitForTask((await client.index('movies').updateSearchCutoffMs(150)).taskUid, { timeout: 60_000 });
    assert.equal(task.status, 'failed');
    assert.equal(task.error?.code, 'miroir_settings_unrepairable');
    assert.match((await status(c, 'movies')).writes_frozen ?? '', /node-1/);
    await c.restartEngine(1);
    await until('node-1 to be repaired and writes unfrozen', async () => (await status(c, 'movies')).writes_frozen === null);
    assert.equal((await nodeSettings(c, 1, 'movies')).searchCutoffMs, 150);
    const s = await status(c, 'movies');
    assert.deepEqual(s.nodes.map((n) => n.settings_version), [committed + 1, committed + 1, committed + 1]);
    const r = await http(c.url, 'POST', '/indexes/movies/search', {
      key: MASTER,
      body: { q: '' },
      headers: { 'x-miroir-min-settings-version': String(committed + 1) },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.estimatedTotalHits, MOVIES.length + 1);
  });

  test('changes enqueued back to back are applied one after the other, each committed once', async () => {
    const committed = (await status(c, 'movies')).settings_version;
    const first = await client.index('movies').updateSynonyms({ alien: ['xenomorph'] });
    const second = await client.index('movies').updateSynonyms({ heat: ['fire'] });
    const docs = await client.index('movies').addDocuments([{ id: 6, title: 'Xenomorph', genre: 'horror' }]);
    assert.ok(first.taskUid < second.taskUid && second.taskUid < docs.taskUid);
    for (const t of [first, second, docs]) assert.equal((await client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
    assert.equal((await status(c, 'movies')).settings_version, committed + 2);
    for (const i of [0, 1, 2]) assert.deepEqual((await nodeSettings(c, i, 'movies')).synonyms, { heat: ['fire'] });
  });

  test('a reset through the JS client leaves the nodes with only the reserved field, identical everywhere', async () => {
    const task = await client.tasks.waitForTask((await client.index('movies').resetSettings()).taskUid);
    assert.equal(task.status, 'succeeded');
    const held = await Promise.all([0, 1, 2].map((i) => nodeSettings(c, i, 'movies')));
    assert.deepEqual(held[0].filterableAttributes, ['_miroir_shard']);
    assert.deepEqual(held[1], held[0]);
    assert.deepEqual(held[2], held[0]);
    assert.deepEqual(await client.index('movies').getSynonyms(), {});
  });

  test('versions move with a rename and go with a deletion', async () => {
    await client.tasks.waitForTask((await client.createIndex('draft', { primaryKey: 'id' })).taskUid);
    assert.equal((await client.tasks.waitForTask((await client.index('draft').updateStopWords(['of'])).taskUid)).status, 'succeeded');
    const renamed = await http(c.url, 'PATCH', '/indexes/draft', { key: MASTER, body: { uid: 'final' } });
    assert.equal((await client.tasks.waitForTask(renamed.body.taskUid)).status, 'succeeded');
    const s = await status(c, 'final');
    assert.equal(s.settings_version, 1);
    assert.deepEqual(s.nodes.map((n) => [n.settings_version, n.matches]), [[1, true], [1, true], [1, true]]);
    assert.equal((await http(c.url, 'GET', '/_miroir/settings/draft', { key: MASTER })).status, 404);
    assert.equal((await client.tasks.waitForTask((await client.deleteIndex('final')).taskUid)).status, 'succeeded');
    assert.equal((await http(c.url, 'GET', '/_miroir/settings/final', { key: MASTER })).status, 404);
  });

  test('a settings change every node refuses gets the node error, no task and no new version', async () => {
    const committed = (await status(c, 'movies')).settings_version;
    const res = await http(c.url, 'PATCH', '/indexes/movies/settings', { key: MASTER, body: { rankingRules: ['nope'] } });
    // Refused on enqueue by every node: the node's error, no task, as on one node.
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'invalid_settings_ranking_rules');
    assert.equal((await status(c, 'movies')).settings_version, committed);
  });
});

describe('sequential strategy (3 nodes)', () => {
  let c: TestCluster;
  let client: Meilisearch;

  before(async () => {
    c = await startWith('films', 3, 1, { settings_broadcast: { strategy: 'sequential', verify_timeout_s: 20 } });
    client = c.client;
  });
  after(async () => c?.stop());

  test('applies node by node and commits', async () => {
    const before = (await status(c, 'films')).settings_version;
    const task = await client.tasks.waitForTask((await client.index('films').updateSynonyms({ logan: ['wolverine'] })).taskUid);
    assert.equal(task.status, 'succeeded');
    assert.deepEqual(task.details, { synonyms: { logan: ['wolverine'] } });
    const held = await Promise.all([0, 1, 2].map((i) => nodeSettings(c, i, 'films')));
    assert.deepEqual(held[0].synonyms, { logan: ['wolverine'] });
    assert.deepEqual(held[1], held[0]);
    assert.deepEqual(held[2], held[0]);
    assert.equal((await status(c, 'films')).settings_version, before + 1);
    assert.deepEqual((await client.index('films').search('logan')).hits.map((h) => h.id), [1]);
  });

  test('a node that cannot be changed rolls back the nodes already changed', async () => {
    const before = await status(c, 'films');
    c.proxies.get(2)!.set({ kind: 'refuse', request: /^(PATCH|PUT) \/indexes\/films\/settings/ });
    const task = await client.tasks.waitForTask((await client.index('films').updateStopWords(['the'])).taskUid);
    assert.equal(task.status, 'failed');
    assert.equal(task.error?.code, 'miroir_settings_rolled_back');
    c.proxies.get(2)!.set({ kind: 'pass' });
    for (const i of [0, 1, 2]) assert.deepEqual((await nodeSettings(c, i, 'films')).stopWords, [], `node-${i} holds its old stop words`);
    const after = await status(c, 'films');
    assert.equal(after.settings_version, before.settings_version);
    assert.equal(after.writes_frozen, null);
  });
});

describe('restart', () => {
  let c: TestCluster;

  before(async () => {
    c = await startWith('books', 2, 2, { settings_broadcast: { repair_backoff_ms: 300, max_repair_retries: 3, verify_timeout_s: 20 } });
  });
  after(async () => c?.stop());

  test('a broadcast interrupted by an orchestrator restart is finished by the new process', async () => {
    const before = (await status(c, 'books')).settings_version;
    c.proxies.get(1)!.set({ kind: 'refuse', request: /^(PATCH|PUT) \/indexes\/books\/settings/, times: 1 });
    const res = await http(c.url, 'PATCH', '/indexes/books/settings', { key: MASTER, body: { synonyms: { tome: ['book'] } } });
    assert.equal(res.status, 202);
    await c.restartMiroir();
    const task = await c.client.tasks.waitForTask(res.body.taskUid, { timeout: 60_000 });
    assert.equal(task.status, 'succeeded');
    assert.equal((await status(c, 'books')).settings_version, before + 1);
    assert.deepEqual((await nodeSettings(c, 1, 'books')).synonyms, { tome: ['book'] });
  });
});

describe('index lease held by another orchestrator', () => {
  let c: TestCluster;
  const cfg = {
    settings_broadcast: { verify_timeout_s: 0.5, max_repair_retries: 0, repair_backoff_ms: 10 },
    leader_election: { lease_ttl_s: 1, renew_interval_s: 0.25 },
  };

  before(async () => {
    c = await startWith('albums', 2, 2, cfg);
  });
  after(async () => c?.stop());

  test('a change waits for the lease, is refused with miroir_settings_busy past its bound, and reaches no node', async () => {
    const store = c.miroir.cluster.store;
    const held = await store.acquireLease('settings_broadcast:albums', 'another-orchestrator', 60_000);
    assert.ok(held);
    const tasks = async () => (await http(c.url, 'GET', '/tasks?indexUids=albums', { key: MASTER })).body.total as number;
    const before = await tasks();
    const started = Date.now();
    const res = await http(c.url, 'PATCH', '/indexes/albums/settings', { key: MASTER, body: { stopWords: ['a'] } });
    const waited = Date.now() - started;
    assert.equal(res.status, 503);
    assert.equal(res.body.code, 'miroir_settings_busy');
    // A whole broadcast (verify_timeout_s × 2, one backoff) plus a takeover (TTL + renew).
    assert.ok(waited >= 500 * 2 + 10 + 1250, `refused after ${waited} ms`);
    assert.equal(await tasks(), before, 'no task');
    for (const i of [0, 1]) assert.deepEqual((await nodeSettings(c, i, 'albums')).stopWords, [], `node-${i} unchanged`);
    await store.releaseLease(held!);
    const ok = await http(c.url, 'PATCH', '/indexes/albums/settings', { key: MASTER, body: { stopWords: ['a'] } });
    assert.equal(ok.status, 202);
    assert.equal((await c.client.tasks.waitForTask(ok.body.taskUid)).status, 'succeeded');
    for (const i of [0, 1]) assert.deepEqual((await nodeSettings(c, i, 'albums')).stopWords, ['a']);
  });
});
