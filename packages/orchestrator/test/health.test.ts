/**
 * The node health state machine (issue "Failures", spec S10.1): thresholds of consecutive probe
 * results, passive signals from requests, and what serves reads.
 */
import * as assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { HealthChecker, type HealthState } from '../src/nodes/health.js';
import { NodeClient } from '../src/nodes/node-client.js';

let up = true;
let server: Server;
before(async () => {
  server = createServer((_req, res) => {
    if (!up) {
      res.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"available"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
after(() => server.close());

function checker(): { h: HealthChecker; changes: HealthState[]; client: NodeClient } {
  const client = new NodeClient({
    id: 'n0',
    address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    apiKey: '',
    timeoutMs: 500,
    connections: 1,
    keepAliveTimeoutMs: 1000,
  });
  const h = new HealthChecker({ intervalMs: 1000, timeoutMs: 300, unhealthyThreshold: 3, recoveryThreshold: 2 });
  h.add(client);
  const changes: HealthState[] = [];
  h.onChange((_id, s) => changes.push(s));
  return { h, changes, client };
}

test('healthy → degraded → failed → recovering → healthy, by consecutive probe results', async () => {
  const { h, changes, client } = checker();
  up = false;
  await h.probeAll();
  assert.equal(h.view('n0')!.state, 'degraded');
  assert.equal(h.isHealthy('n0'), true, 'a degraded node still serves');
  await h.probeAll();
  await h.probeAll();
  assert.equal(h.view('n0')!.state, 'failed');
  assert.equal(h.isHealthy('n0'), false);
  up = true;
  await h.probeAll();
  assert.equal(h.view('n0')!.state, 'recovering');
  assert.equal(h.isHealthy('n0'), false, 'a recovering node does not serve yet');
  await h.probeAll();
  assert.equal(h.view('n0')!.state, 'healthy');
  assert.deepEqual(changes, ['degraded', 'failed', 'recovering', 'healthy']);
  await client.close();
});

test('a failure while recovering fails again; a degraded node heals on one success', async () => {
  const { h, client } = checker();
  for (let i = 0; i < 3; i++) h.reportFailure('n0', 'reset');
  assert.equal(h.view('n0')!.state, 'failed');
  up = true;
  await h.probeAll();
  assert.equal(h.view('n0')!.state, 'recovering');
  h.reportFailure('n0', 'reset');
  assert.equal(h.view('n0')!.state, 'failed');
  h.reportSuccess('n0');
  assert.equal(h.view('n0')!.state, 'failed', 'a request answered is no recovery');
  await h.probeAll();
  await h.probeAll();
  assert.equal(h.view('n0')!.state, 'healthy');
  h.reportFailure('n0', 'timeout');
  assert.equal(h.view('n0')!.state, 'degraded');
  h.reportSuccess('n0');
  assert.equal(h.view('n0')!.state, 'healthy');
  await client.close();
});
