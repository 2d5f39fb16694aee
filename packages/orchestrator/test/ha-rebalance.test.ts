/**
 * A rebalance survives the death of the orchestrator running it: two orchestrator processes share
 * Redis; the one that adds a node runs the rebalance under the `rebalancer` lease and is SIGKILLed
 * mid-copy; the other takes the lease over once it expires, resumes from the last committed page,
 * and finishes with every document on exactly its owners.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { startFleet, waitTerminal, type Fleet } from './fleet.js';
import { http } from './harness.js';
import { redisSkip } from './redis-kit.js';

const skip = await redisSkip();
const DOCS = 2000;
const LEASE_TTL_S = 2;
const RENEW_S = 0.5;

describe('a rebalance whose runner is killed', { skip }, () => {
  let f: Fleet;
  let extra: EngineProcess;
  const dir = mkdtempSync(join(tmpdir(), 'miroir-ha-rebalance-'));
  before(async () => {
    f = await startFleet({
      orchestrators: 2,
      nodes: 3,
      shards: 16,
      config: {
        leader_election: { lease_ttl_s: LEASE_TTL_S, renew_interval_s: RENEW_S },
        // Slow enough to be caught mid-copy.
        rebalancer: { throttle_docs_per_sec: 300, batch_size: 25, retry_interval_ms: 200, cleanup_delay_ms: 100 },
      },
    });
    extra = await startEngineProcess({ dataDir: join(dir, 'node-3'), masterKey: 'node-master-key-for-tests' });
  });
  after(async () => {
    await f?.stop();
    await extra?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('is taken over by another orchestrator within the lease TTL and finishes', async (t) => {
    const docs = Array.from({ length: DOCS }, (_, id) => ({ id, title: `item ${id}` }));
    const w = await http(f.url, 'POST', '/indexes/items/documents?primaryKey=id', { body: docs });
    assert.equal(w.status, 202);
    assert.equal((await waitTerminal(f.url, w.body.taskUid)).status, 'succeeded');

    const [runner, survivor] = f.orchestrators as [(typeof f.orchestrators)[0], (typeof f.orchestrators)[0]];
    const added = await http(runner.url, 'POST', '/_miroir/nodes', { body: { id: 'node-3', address: extra.url, replica_group: 0 } });
    assert.equal(added.status, 202, JSON.stringify(added.body));
    // Mid-copy: some documents moved, not all.
    for (;;) {
      const s = (await http(runner.url, 'GET', '/_miroir/rebalance/status')).body;
      if (s.documents_moved > 0 && s.documents_moved < s.documents_total / 2) break;
      assert.notEqual(s.state, 'idle', 'the rebalance finished before it could be interrupted');
      await new Promise((r) => setTimeout(r, 10));
    }
    const movedAtKill = (await http(runner.url, 'GET', '/_miroir/rebalance/status')).body.documents_moved as number;
    await f.kill(runner);
    const killedAt = Date.now();

    let takenOverMs: number | undefined;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = (await http(survivor.url, 'GET', '/_miroir/rebalance/status')).body;
      if (takenOverMs === undefined && s.rate_docs_per_sec !== null) takenOverMs = Date.now() - killedAt;
      // `last` is the rebalance this process ran to its end.
      if (s.state === 'idle' && s.last !== null) break;
      assert.ok(Date.now() < deadline, `the survivor did not finish the rebalance: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    t.diagnostic(`killed after ${movedAtKill} documents moved; the survivor was copying ${takenOverMs} ms later (lease TTL ${LEASE_TTL_S} s, renew ${RENEW_S} s)`);
    assert.ok(takenOverMs !== undefined, 'the survivor ran the rebalance');

    const topology = (await http(survivor.url, 'GET', '/_miroir/topology')).body;
    assert.equal(topology.nodes.find((n: { id: string }) => n.id === 'node-3').state, 'active');
    const verify = await http(survivor.url, 'GET', '/_miroir/verify?deep=true');
    assert.equal(verify.status, 200, JSON.stringify(verify.body));
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body.problems));
    const listed = await http(survivor.url, 'GET', '/indexes/items/documents?limit=1');
    assert.equal(listed.body.total, DOCS);
    const onNew = await http(extra.url, 'GET', '/indexes/items/documents?limit=1', { key: 'node-master-key-for-tests' });
    assert.ok(onNew.body.total > 0 && onNew.body.total < DOCS, `node-3 holds ${onNew.body.total} documents`);
  });
});
