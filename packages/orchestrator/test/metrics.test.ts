/**
 * Acceptance (issue 9): a scripted workload — writes, searches, one node killed — then both metric
 * endpoints are scraped and every S10.2 core family is checked for presence, type and values.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { http } from './harness.js';
import { parseExposition, startObservedCluster, sum, value, type Exposition, type ObservedCluster } from './metrics-kit.js';

const MASTER = 'metrics-master-key';
const ADMIN = 'metrics-admin-key';
const SEARCHES = 7;
const DEGRADED_SEARCHES = 3;

/** Every core family with its Prometheus type, plus the settings broadcast's (S13.5), which is always on. */
const CORE_FAMILIES: Record<string, string> = {
  miroir_request_duration_seconds: 'histogram',
  miroir_requests_total: 'counter',
  miroir_requests_in_flight: 'gauge',
  miroir_request_queue_depth: 'gauge',
  miroir_memory_pressure: 'gauge',
  miroir_cpu_throttled_seconds_total: 'counter',
  miroir_node_healthy: 'gauge',
  miroir_node_request_duration_seconds: 'histogram',
  miroir_node_errors_total: 'counter',
  miroir_shard_coverage: 'gauge',
  miroir_degraded_shards_total: 'gauge',
  miroir_shard_distribution: 'gauge',
  miroir_task_processing_age_seconds: 'histogram',
  miroir_task_oldest_pending_age_seconds: 'gauge',
  miroir_tasks_total: 'counter',
  miroir_task_registry_size: 'gauge',
  miroir_scatter_fan_out_size: 'histogram',
  miroir_scatter_partial_responses_total: 'counter',
  miroir_scatter_retries_total: 'counter',
  miroir_vector_search_over_fetched_total: 'counter',
  miroir_vector_merge_strategy: 'gauge',
  miroir_vector_embedder_drift_total: 'counter',
  // The read path (docs/read-path.md): present while each feature is on, which is the default.
  miroir_multisearch_queries_per_batch: 'histogram',
  miroir_multisearch_batches_total: 'counter',
  miroir_multisearch_partial_failures_total: 'counter',
  miroir_replica_selection_score: 'gauge',
  miroir_replica_selection_exploration_total: 'counter',
  miroir_hedge_fired_total: 'counter',
  miroir_hedge_latency_savings_seconds: 'histogram',
  miroir_hedge_budget_exhausted_total: 'counter',
  miroir_tenant_queries_total: 'counter',
  miroir_tenant_fallback_total: 'counter',
  miroir_tenant_session_pin_override_total: 'counter',
  miroir_tenant_pinned_groups: 'gauge',
  miroir_explain_requests_total: 'counter',
  miroir_explain_execute_total: 'counter',
  miroir_explain_warnings_total: 'counter',
  miroir_handoff_queued_writes: 'gauge',
  miroir_handoff_replayed_total: 'counter',
  miroir_alias_flips_total: 'counter',
  miroir_alias_resolutions_total: 'counter',
  miroir_read_after_waits_total: 'counter',
  miroir_session_pinned_reads_total: 'counter',
  // Anti-entropy's families exist while it is enabled, which is the default.
  miroir_antientropy_shards_scanned_total: 'counter',
  miroir_antientropy_mismatches_found_total: 'counter',
  miroir_antientropy_docs_repaired_total: 'counter',
  miroir_antientropy_last_scan_completed_seconds: 'gauge',
  miroir_settings_broadcast_phase: 'gauge',
  miroir_settings_hash_mismatch_total: 'counter',
  miroir_settings_drift_repair_total: 'counter',
  miroir_settings_version: 'gauge',
  miroir_settings_writes_frozen: 'gauge',
  miroir_rebalance_in_progress: 'gauge',
  miroir_rebalance_documents_migrated_total: 'counter',
  miroir_rebalance_duration_seconds: 'histogram',
  miroir_leader: 'gauge',
  miroir_peer_pod_count: 'gauge',
  miroir_owned_shards_count: 'gauge',
  miroir_background_queue_depth: 'gauge',
  // Present while idempotency keys are enabled, which is the default.
  miroir_idempotency_requests_total: 'counter',
  // Query coalescing and the result cache (S13.10): their families exist whether or not they are on.
  miroir_result_cache_requests_total: 'counter',
  miroir_result_cache_evictions_total: 'counter',
  miroir_result_cache_size: 'gauge',
  miroir_coalesced_requests_total: 'counter',
  miroir_coalescing_pending_queries: 'gauge',
};

let c: ObservedCluster;
let listener: Exposition;
let admin: Exposition;
let killedShards: number;

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function waitTask(uid: number): Promise<void> {
  await waitFor(`task ${uid}`, async () => (await http(c.miroir.url, 'GET', `/tasks/${uid}`, { key: MASTER })).body.status === 'succeeded');
}

before(async () => {
  c = await startObservedCluster({
    nodes: 3,
    masterKey: MASTER,
    adminKey: ADMIN,
    config: { shards: 16, health: { interval_ms: 100, timeout_ms: 300, unhealthy_threshold: 2, recovery_threshold: 2 } },
  });
  const url = c.miroir.url;
  const created = await http(url, 'POST', '/indexes', { key: MASTER, body: { uid: 'books', primaryKey: 'id' } });
  assert.equal(created.status, 202);
  await waitTask(created.body.taskUid);
  const docs = Array.from({ length: 60 }, (_, i) => ({ id: i, title: `book ${i} ${i % 2 === 0 ? 'even' : 'odd'}` }));
  const added = await http(url, 'POST', '/indexes/books/documents', { key: MASTER, body: docs });
  assert.equal(added.status, 202);
  await waitTask(added.body.taskUid);

  // Each search its own query (a `limit` of its own): every one scatters, none is a cached answer.
  for (let i = 0; i < SEARCHES; i++) {
    const r = await http(url, 'POST', '/indexes/books/search', { key: MASTER, body: { q: 'book', limit: 100 + i } });
    assert.equal(r.status, 200);
    assert.equal(r.body.estimatedTotalHits, 60);
  }

  killedShards = c.miroir.cluster.placement(16).shardsOf('node-2').length;
  await c.engines[2]!.kill();
  await waitFor('node-2 to be failed', async () => !c.miroir.cluster.health.isHealthy('node-2'));
  for (let i = 0; i < DEGRADED_SEARCHES; i++) {
    const r = await http(url, 'POST', '/indexes/books/search', { key: MASTER, body: { q: 'book', limit: 200 + i } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('x-miroir-degraded') ?? '', /^shards=/);
  }
  // Settled tasks only: the registry drains once its poller has seen both tasks finish.
  await waitFor('the task registry to drain', async () => (await c.miroir.cluster.store.pendingTasks()).length === 0);

  const scraped = await fetch(c.miroir.metricsUrl!);
  assert.equal(scraped.status, 200);
  assert.match(scraped.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  listener = parseExposition(await scraped.text());
  const viaAdmin = await http(url, 'GET', '/_miroir/metrics', { key: ADMIN });
  assert.equal(viaAdmin.status, 200);
  admin = parseExposition(viaAdmin.body as string);
});

after(async () => {
  await c?.stop();
});

test('both endpoints expose every core family with its type, and the same families', () => {
  for (const [name, type] of Object.entries(CORE_FAMILIES)) {
    assert.equal(listener.types.get(name), type, `${name} on the metrics listener`);
    assert.equal(admin.types.get(name), type, `${name} on /_miroir/metrics`);
  }
  const ours = (e: Exposition) => [...e.types.keys()].filter((n) => n.startsWith('miroir_')).sort();
  assert.deepEqual(ours(listener), Object.keys(CORE_FAMILIES).sort());
  assert.deepEqual(ours(admin), ours(listener));
});

test('request counters use route templates and count every search', () => {
  const search = { method: 'POST', path_template: '/indexes/:uid/search', status: '200' };
  assert.equal(value(listener, 'miroir_requests_total', search), SEARCHES + DEGRADED_SEARCHES);
  assert.equal(value(listener, 'miroir_request_duration_seconds_count', search), SEARCHES + DEGRADED_SEARCHES);
  assert.equal(value(listener, 'miroir_request_duration_seconds_bucket', { ...search, le: '+Inf' }), SEARCHES + DEGRADED_SEARCHES);
  assert.ok(value(listener, 'miroir_request_duration_seconds_sum', search) > 0);
  assert.equal(value(listener, 'miroir_requests_total', { method: 'POST', path_template: '/indexes/:uid/documents', status: '202' }), 1);
  assert.equal(value(listener, 'miroir_requests_total', { method: 'POST', path_template: '/indexes', status: '202' }), 1);
  assert.ok(value(listener, 'miroir_requests_total', { method: 'GET', path_template: '/tasks/:uid', status: '200' }) >= 2);
  // No raw path or index name ever becomes a label value.
  for (const s of listener.samples) {
    if (s.labels.path_template !== undefined) assert.doesNotMatch(s.labels.path_template, /books|\/\d/);
  }
  // Nothing is in flight during a scrape of the listener; the admin scrape counts itself.
  assert.equal(value(listener, 'miroir_requests_in_flight'), 0);
  assert.equal(value(admin, 'miroir_requests_in_flight'), 1);
});

test('node health, latency and errors: the killed node reads 0 and its failures are counted', () => {
  assert.equal(value(listener, 'miroir_node_healthy', { node_id: 'node-0' }), 1);
  assert.equal(value(listener, 'miroir_node_healthy', { node_id: 'node-1' }), 1);
  assert.equal(value(listener, 'miroir_node_healthy', { node_id: 'node-2' }), 0);
  assert.ok(value(listener, 'miroir_node_request_duration_seconds_count', { node_id: 'node-0', operation: 'search' }) >= SEARCHES);
  assert.ok(value(listener, 'miroir_node_request_duration_seconds_count', { node_id: 'node-1', operation: 'documents_write' }) >= 1);
  assert.ok(value(listener, 'miroir_node_request_duration_seconds_count', { node_id: 'node-2', operation: 'health' }) >= 1);
  assert.ok(value(listener, 'miroir_node_errors_total', { node_id: 'node-2', error_type: 'connection' }) >= 2);
  assert.equal(sum(listener, 'miroir_node_errors_total', { node_id: 'node-0' }), 0);
  const ops = new Set(listener.samples.filter((s) => s.labels.operation !== undefined).map((s) => s.labels.operation));
  for (const op of ops) assert.match(op!, /^(health|search|facet_search|multi_search|documents_(read|write|delete)|settings|tasks|stats|keys|indexes|meta|other)$/);
});

test('shard gauges follow the placement and the killed node', () => {
  assert.equal(value(listener, 'miroir_shard_coverage'), 16 - killedShards);
  assert.equal(value(listener, 'miroir_degraded_shards_total'), killedShards);
  assert.ok(killedShards > 0);
  assert.equal(sum(listener, 'miroir_shard_distribution'), 16);
  assert.equal(value(listener, 'miroir_shard_distribution', { node_id: 'node-2' }), killedShards);
});

test('task families count the finished tasks', async () => {
  const listed = await http(c.miroir.url, 'GET', '/tasks?statuses=succeeded&limit=1000', { key: MASTER });
  const succeeded = listed.body.total as number;
  assert.ok(succeeded >= 2, JSON.stringify(listed.body));
  assert.equal(value(listener, 'miroir_tasks_total', { status: 'succeeded' }), succeeded);
  assert.equal(sum(listener, 'miroir_tasks_total'), succeeded);
  assert.equal(value(listener, 'miroir_task_processing_age_seconds_count'), succeeded);
  assert.ok(value(listener, 'miroir_task_processing_age_seconds_sum') > 0);
  const all = await http(c.miroir.url, 'GET', '/tasks?limit=1000', { key: MASTER });
  assert.equal(value(listener, 'miroir_task_registry_size'), all.body.total);
  assert.equal(value(listener, 'miroir_task_oldest_pending_age_seconds'), 0);
});

test('scatter: one fan-out observation per search, partial responses for the degraded ones', () => {
  assert.equal(value(listener, 'miroir_scatter_fan_out_size_count'), SEARCHES + DEGRADED_SEARCHES);
  // All three nodes before the kill, the two survivors after it.
  assert.equal(value(listener, 'miroir_scatter_fan_out_size_sum'), SEARCHES * 3 + DEGRADED_SEARCHES * 2);
  assert.equal(value(listener, 'miroir_scatter_fan_out_size_bucket', { le: '2' }), DEGRADED_SEARCHES);
  assert.equal(value(listener, 'miroir_scatter_partial_responses_total'), DEGRADED_SEARCHES);
  assert.equal(value(listener, 'miroir_scatter_retries_total'), 0);
});

test('/_miroir/metrics: the admin key is optional, but a wrong one is refused', async () => {
  const open = await http(c.miroir.url, 'GET', '/_miroir/metrics');
  assert.equal(open.status, 200);
  assert.match(open.body as string, /^# HELP miroir_/m);
  const wrong = await http(c.miroir.url, 'GET', '/_miroir/metrics', { key: 'not-the-admin-key' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.code, 'miroir_invalid_auth');
  const header = await http(c.miroir.url, 'GET', '/_miroir/metrics', { headers: { 'x-admin-key': ADMIN } });
  assert.equal(header.status, 200);
});

test('the metrics listener serves only its path', async () => {
  const base = new URL(c.miroir.metricsUrl!);
  const other = await fetch(`${base.origin}/indexes`);
  assert.equal(other.status, 404);
  assert.equal((await fetch(`${base.origin}/metrics`, { method: 'POST' })).status, 404);
  assert.equal((await fetch(`${base.origin}/metrics?x=1`)).status, 200);
});
