/**
 * Request logs (spec S10.4): one JSON line per request with the request id, method, route template,
 * status, duration, fan-out size and degraded flag; levels from config; no secret ever written.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { generateTenantToken } from 'meilisearch/token';
import { http } from './harness.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { startObservedCluster, type ObservedCluster } from './metrics-kit.js';

const MASTER = 'logs-master-key-0123456789';
const ADMIN = 'logs-admin-key-9876543210';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let c: ObservedCluster;
let apiKey: string;
let tenantToken: string;

type Line = Record<string, unknown>;
const requestLines = (): Line[] => c.logs().filter((l) => l.message === 'request');
/** The request's log line; it is written once the response has gone out, so it may trail the answer. */
async function lineOf(id: string): Promise<Line> {
  let found: Line[] = [];
  for (let i = 0; i < 100 && found.length === 0; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 20));
    found = requestLines().filter((l) => l.request_id === id);
  }
  assert.equal(found.length, 1, `one request line for ${id}`);
  return found[0]!;
}

async function waitTask(uid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await http(c.miroir.url, 'GET', `/tasks/${uid}`, { key: MASTER })).body.status === 'succeeded') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${uid} did not succeed`);
}

before(async () => {
  c = await startObservedCluster({
    nodes: 2,
    masterKey: MASTER,
    adminKey: ADMIN,
    config: { log: { node_count: true }, health: { interval_ms: 100, timeout_ms: 300, unhealthy_threshold: 2 } },
  });
  const created = await http(c.miroir.url, 'POST', '/indexes', { key: MASTER, body: { uid: 'films', primaryKey: 'id' } });
  await waitTask(created.body.taskUid);
  const added = await http(c.miroir.url, 'POST', '/indexes/films/documents', {
    key: MASTER,
    body: Array.from({ length: 20 }, (_, i) => ({ id: i, title: `film ${i}` })),
  });
  await waitTask(added.body.taskUid);
  const key = await http(c.miroir.url, 'POST', '/keys', { key: MASTER, body: { actions: ['search'], indexes: ['films'], expiresAt: null } });
  assert.equal(key.status, 201);
  apiKey = key.body.key;
  tenantToken = await generateTenantToken({ apiKey, apiKeyUid: key.body.uid, searchRules: { films: null }, force: true });
});

after(async () => {
  await c?.stop();
});

test('one JSON line per request, with the given request id echoed back', async () => {
  const r = await http(c.miroir.url, 'POST', '/indexes/films/search', { key: MASTER, body: { q: 'film' }, headers: { 'x-request-id': 'req-abc-123' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-request-id'), 'req-abc-123');
  const line = await lineOf('req-abc-123');
  assert.deepEqual(Object.keys(line).sort(), [
    'degraded',
    'duration_ms',
    'index',
    'level',
    'message',
    'method',
    'node_count',
    'path_template',
    'request_id',
    'service',
    'status',
    'timestamp',
  ]);
  assert.equal(line.level, 'info');
  assert.match(line.timestamp as string, ISO);
  assert.equal(line.service, 'miroir');
  assert.equal(line.method, 'POST');
  assert.equal(line.path_template, '/indexes/:uid/search');
  assert.equal(line.index, 'films');
  assert.equal(line.status, 200);
  assert.equal(typeof line.duration_ms, 'number');
  assert.ok((line.duration_ms as number) > 0);
  assert.equal(line.node_count, 2);
  assert.equal(line.degraded, false);
});

test('without X-Request-Id a UUID is generated and echoed; an unusable one is replaced', async () => {
  const r = await http(c.miroir.url, 'GET', '/health');
  const id = r.headers.get('x-request-id')!;
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const line = await lineOf(id);
  assert.equal(line.path_template, '/health');
  assert.equal(line.node_count, 0);
  assert.equal('index' in line, false);
  const long = await http(c.miroir.url, 'GET', '/health', { headers: { 'x-request-id': 'x'.repeat(129) } });
  assert.match(long.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
});

test('errors and unknown routes are logged by template, never by raw path', async () => {
  const missing = await http(c.miroir.url, 'GET', `/no/such/${MASTER}`, { headers: { 'x-request-id': 'req-404' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('x-request-id'), 'req-404');
  const l404 = await lineOf('req-404');
  assert.equal(l404.path_template, 'unmatched');
  assert.equal(l404.status, 404);
  const bad = await http(c.miroir.url, 'POST', '/indexes/films/search', { key: 'wrong-key-abcdef', body: {}, headers: { 'x-request-id': 'req-403' } });
  assert.equal(bad.status, 403);
  assert.equal(bad.headers.get('x-request-id'), 'req-403');
  assert.equal((await lineOf('req-403')).status, 403);
});

test('a degraded search is flagged and its fan-out counts the nodes reached', async () => {
  await c.engines[1]!.kill();
  for (let i = 0; i < 200 && c.miroir.cluster.health.isHealthy('node-1'); i++) await new Promise((r) => setTimeout(r, 50));
  // A query no earlier test sent: not an answer the result cache kept from before the failure.
  const r = await http(c.miroir.url, 'POST', '/indexes/films/search', { key: MASTER, body: { q: 'film', limit: 19 }, headers: { 'x-request-id': 'req-degraded' } });
  assert.equal(r.status, 200);
  assert.ok(r.headers.get('x-miroir-degraded'));
  const line = await lineOf('req-degraded');
  assert.equal(line.degraded, true);
  assert.equal(line.node_count, 1);
});

test('no secret is ever written: master, admin, node and API keys, tenant tokens', async () => {
  await http(c.miroir.url, 'POST', '/indexes/films/search', { key: apiKey, body: { q: 'film' } });
  await http(c.miroir.url, 'POST', '/indexes/films/search', { key: tenantToken, body: { q: 'film' } });
  await http(c.miroir.url, 'GET', '/indexes/films/search?q=film', { headers: { authorization: `Bearer ${tenantToken}` } });
  await http(c.miroir.url, 'GET', '/_miroir/topology', { headers: { 'x-admin-key': ADMIN } });
  await http(c.miroir.url, 'GET', '/_miroir/topology', { key: 'wrong-admin-key-xyz' });
  await http(c.miroir.url, 'GET', '/keys', { key: MASTER });
  const lines = c.logs();
  assert.ok(requestLines().length >= 10);
  for (const l of lines) assert.equal(typeof l.timestamp, 'string');
  const text = c.logText();
  for (const secret of [MASTER, ADMIN, apiKey, tenantToken, 'node-master-key-for-obs-tests', 'wrong-admin-key-xyz']) {
    assert.equal(text.includes(secret), false, `a secret of length ${secret.length} appears in the logs`);
  }
});

test('by default the line has no node_count (it needs the costly request scope)', async () => {
  const plain = await startObservedCluster({ nodes: 1 });
  try {
    const r = await http(plain.miroir.url, 'GET', '/version', { headers: { 'x-request-id': 'req-plain' } });
    assert.equal(r.status, 200);
    let line: Line | undefined;
    for (let i = 0; i < 100 && line === undefined; i++) {
      if (i > 0) await new Promise((res) => setTimeout(res, 20));
      line = plain.logs().find((l) => l.request_id === 'req-plain');
    }
    assert.ok(line);
    assert.equal('node_count' in line, false);
    assert.equal(line.path_template, '/version');
    assert.equal(line.degraded, false);
  } finally {
    await plain.stop();
  }
});

test('the level comes from config: at warn, requests are not logged', async () => {
  const quiet = await startObservedCluster({ nodes: 1, config: { log: { level: 'warn' } } });
  try {
    const r = await http(quiet.miroir.url, 'GET', '/health');
    assert.equal(r.status, 200);
    assert.ok(r.headers.get('x-request-id'));
    assert.deepEqual(quiet.logs().filter((l) => l.message === 'request'), []);
    // The open-API warning is the one line at warn level.
    assert.deepEqual(quiet.logs().map((l) => l.level), ['warn']);
  } finally {
    await quiet.stop();
  }
});

test('log, metrics and tracing keys: defaults and validation', () => {
  const d = loadConfig({ env: {} });
  assert.deepEqual(d.log, { level: 'info', buffer_bytes: 0, node_count: false });
  assert.deepEqual(d.metrics, { enabled: true, port: 9090, bind: '0.0.0.0', path: '/metrics' });
  assert.deepEqual(d.tracing, { enabled: false, endpoint: 'http://tempo.monitoring.svc:4317', service_name: 'miroir', sample_rate: 0.1 });
  const env = { MIROIR_LOG__BUFFER_BYTES: '8192', MIROIR_METRICS__PORT: '9191', MIROIR_TRACING__ENABLED: 'true' };
  const e = loadConfig({ env });
  assert.equal(e.log.buffer_bytes, 8192);
  assert.equal(e.metrics.port, 9191);
  assert.equal(e.tracing.enabled, true);
  assert.throws(
    () =>
      loadConfig({
        env: {},
        overrides: {
          log: { level: 'loud', buffer_bytes: -1, node_count: 'yes' },
          metrics: { port: 70000, path: 'metrics' },
          tracing: { sample_rate: 2, endpoint: 'tempo:4317' },
        },
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.map((p) => p.split(':')[0]),
        ['log.buffer_bytes', 'log.level', 'log.node_count', 'metrics.path', 'metrics.port', 'tracing.endpoint', 'tracing.sample_rate'],
      );
      return true;
    },
  );
});
