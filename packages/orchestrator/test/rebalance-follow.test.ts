/**
 * Two orchestrators on one state store: a topology change made through one is seen by the other
 * (new version, the rebalance in progress, its routing), which refuses a concurrent change and
 * serves the new topology once the rebalance completes.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { startMiroir, type Miroir } from '../src/main.js';
import { http, type TestCluster } from './harness.js';
import { MASTER_KEY, startLoadedCluster, until, waitRebalanced } from './topology-kit.js';

const KEY = MASTER_KEY;
const N = 1500;
let c: TestCluster;
let other: Miroir;

before(async () => {
  c = await startLoadedCluster({ shards: 8, docs: N, docsPerSec: 500 });
  other = await startMiroir({ ...c.config, server: { ...c.config.server, port: 0 }, metrics: { ...c.config.metrics, port: 0 } }, { logger: pino({ level: 'silent' }) });
});
after(async () => {
  await other?.close();
  await c?.stop();
});

test('a topology change through one orchestrator is followed by another on the same store', async () => {
  const topologyOf = (url: string) => http(url, 'GET', '/_miroir/topology', { key: KEY }).then((r) => r.body);
  const added = await c.addEngine();
  const res = await http(c.url, 'POST', '/_miroir/nodes', { key: KEY, body: { id: added.id, address: added.address } });
  assert.equal(res.status, 202);
  await until('the other process sees version 2 and the rebalance', async () => {
    const t = await topologyOf(other.url);
    return t.version === 2 && t.rebalance_in_progress === true;
  });
  const refused = await http(other.url, 'POST', '/_miroir/nodes/node-0/drain', { key: KEY });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'miroir_rebalance_in_progress');

  await waitRebalanced(c, KEY);
  await until('the other process sees the completed topology', async () => {
    const t = await topologyOf(other.url);
    return t.version === 3 && t.rebalance_in_progress === false;
  });
  const t = await topologyOf(other.url);
  assert.equal(t.nodes.find((n: { id: string }) => n.id === added.id).state, 'active');
  const docs = await http(other.url, 'GET', '/indexes/items/documents?limit=10000', { key: KEY });
  assert.equal(docs.body.results.length, N);
  assert.equal(docs.body.total, N);
});
