import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

const nodes = 'nodes:\n  - {id: n0, address: "http://127.0.0.1:7701"}\n  - {id: n1, address: "http://127.0.0.1:7702"}\n';

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig({ text, env });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return assert.fail('expected a ConfigError');
}

test('defaults follow the spec (S4.3)', () => {
  const c = loadConfig({ text: nodes, env: {} });
  assert.equal(c.shards, 64);
  assert.equal(c.replication_factor, 2);
  assert.equal(c.replica_groups, 1);
  assert.equal(c.write_quorum, 'majority');
  assert.equal(c.server.port, 7700);
  assert.equal(c.scatter.unavailable_shard_policy, 'partial');
  assert.equal(c.health.unhealthy_threshold, 3);
  assert.equal(c.nodes[1]!.replica_group, 0);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.server));
});

test('unknown keys are rejected, each by its full name', () => {
  assert.deepEqual(problems(`${nodes}sharts: 8\nserver: {port: 1, prot: 2}\n`), ['server.prot: unknown key', 'sharts: unknown key']);
});

test('wrong types name the key', () => {
  const p = problems(`${nodes}server: {port: "x"}\nscatter: {unavailable_shard_policy: maybe}\n`);
  assert.equal(p.length, 2);
  assert.match(p[0]!, /^scatter\.unavailable_shard_policy: /);
  assert.match(p[1]!, /^server\.port: /);
});

test('secrets are refused in the file and read from the environment', () => {
  assert.deepEqual(problems(`${nodes}master_key: abc\nadmin: {api_key: x}\n`), [
    'admin.api_key: secrets are read from the environment only; set MIROIR_ADMIN_API_KEY',
    'master_key: secrets are read from the environment only; set MIROIR_MASTER_KEY',
  ]);
  const c = loadConfig({ text: nodes, env: { MIROIR_MASTER_KEY: 'k-1', MIROIR_ADMIN_API_KEY: 'a-1', MIROIR_NODE_MASTER_KEY: 'n-1' } });
  assert.equal(c.master_key, 'k-1');
  assert.equal(c.admin.api_key, 'a-1');
  assert.equal(c.node_master_key, 'n-1');
});

test('MIROIR_* variables override the file, nested keys with a double underscore', () => {
  const c = loadConfig({ text: `${nodes}shards: 8\n`, env: { MIROIR_SHARDS: '32', MIROIR_SERVER__PORT: '7800', MIROIR_SCATTER__RETRY_ON_TIMEOUT: 'false' } });
  assert.equal(c.shards, 32);
  assert.equal(c.server.port, 7800);
  assert.equal(c.scatter.retry_on_timeout, false);
});

test('blocks are accepted at top level and under miroir:, not both', () => {
  assert.equal(loadConfig({ text: `miroir:\n  shards: 8\n${nodes}`, env: {} }).shards, 8);
  assert.deepEqual(problems(`miroir:\n  shards: 8\nshards: 4\n${nodes}`), ['shards: given both at top level and under `miroir:`']);
});

test('topology rules: groups, replication, unique ids', () => {
  const p = problems('replica_groups: 1\nreplication_factor: 0\nnodes:\n  - {id: a, address: "http://h:1", replica_group: 1}\n  - {id: a, address: "http://h:2"}\n');
  assert.ok(p.includes('replication_factor: Too small: expected number to be >=1'), p.join('\n'));
  assert.ok(p.includes('nodes.0.replica_group: replica_group 1 is not below replica_groups (1)'));
  assert.ok(p.includes('nodes.1.id: duplicate node id `a`'));
});

test('settings broadcast and drift check keys (S13.5): defaults, overrides, bad values', () => {
  const c = loadConfig({ text: nodes, env: {} });
  assert.deepEqual(
    { ...c.settings_broadcast },
    { strategy: 'two_phase', verify_timeout_s: 60, max_repair_retries: 3, freeze_writes_on_unrepairable: true, repair_backoff_ms: 1000 },
  );
  assert.deepEqual({ ...c.settings_drift_check }, { interval_s: 300, auto_repair: true });
  const o = loadConfig({
    text: `${nodes}settings_broadcast: {strategy: sequential, max_repair_retries: 0}\n`,
    env: { MIROIR_SETTINGS_DRIFT_CHECK__INTERVAL_S: '0.5', MIROIR_SETTINGS_DRIFT_CHECK__AUTO_REPAIR: 'false' },
  });
  assert.equal(o.settings_broadcast.strategy, 'sequential');
  assert.equal(o.settings_broadcast.max_repair_retries, 0);
  assert.equal(o.settings_drift_check.interval_s, 0.5);
  assert.equal(o.settings_drift_check.auto_repair, false);
  const p = problems(`${nodes}settings_broadcast: {strategy: parallel, max_repair_retries: -1}\nsettings_drift_check: {interval_s: 0}\n`);
  assert.equal(p.length, 3);
  assert.match(p[0]!, /^settings_broadcast\.max_repair_retries: /);
  assert.match(p[1]!, /^settings_broadcast\.strategy: /);
  assert.match(p[2]!, /^settings_drift_check\.interval_s: /);
});

test('several orchestrators on the sqlite backend are refused with a clear message (spec S4.1, S6)', () => {
  const peers = 'peer_discovery: {mode: static, self: "http://a:7700", peers: ["http://a:7700", "http://b:7700"]}\n';
  const [p] = problems(`${nodes}${peers}`);
  assert.match(p!, /^task_store\.backend: the sqlite backend serves a single orchestrator process, but peer_discovery\.peers lists 2 orchestrators; use `task_store\.backend: redis`/);
  assert.match(problems(`${nodes}peer_discovery: {mode: redis}\n`)[0]!, /peer_discovery\.mode `redis` looks for other orchestrators/);
  const c = loadConfig({ text: `${nodes}${peers}task_store: {backend: redis, url: "redis://r:6379"}\n`, env: {} });
  assert.equal(c.task_store.key_prefix, 'miroir:');
  assert.equal(c.leader_election.lease_ttl_s, 10);
  assert.equal(c.peer_discovery.refresh_interval_s, 15);
});

test('lease and claim timings must leave room to renew', () => {
  const p = problems(`${nodes}leader_election: {lease_ttl_s: 3, renew_interval_s: 3}\njobs: {claim_ttl_s: 5, heartbeat_interval_s: 9}\n`);
  assert.deepEqual(p, ['jobs.heartbeat_interval_s: must be below `claim_ttl_s`', 'leader_election.renew_interval_s: must be below `lease_ttl_s`']);
  assert.match(problems(`${nodes}peer_discovery: {mode: static, self: "http://c:1", peers: ["http://a:1"]}\ntask_store: {backend: redis}\n`)[0]!, /^peer_discovery\.self: /);
});

test('vector_search keys (S13.12): defaults, overrides, bad values; rrf is not offered', () => {
  const c = loadConfig({ text: nodes, env: {} });
  assert.deepEqual({ ...c.vector_search }, { enabled: true, over_fetch_factor: 3, merge_strategy: 'convex', hybrid_alpha_default: 0.5 });
  const o = loadConfig({ text: `${nodes}vector_search: {over_fetch_factor: 1.5}\n`, env: { MIROIR_VECTOR_SEARCH__HYBRID_ALPHA_DEFAULT: '0.7' } });
  assert.deepEqual([o.vector_search.over_fetch_factor, o.vector_search.hybrid_alpha_default], [1.5, 0.7]);
  const p = problems(`${nodes}vector_search: {over_fetch_factor: 0.5, merge_strategy: rrf, hybrid_alpha_default: 2, rrf_k: 60}\n`);
  assert.equal(p.length, 4);
  assert.match(p[0]!, /^vector_search\.hybrid_alpha_default: /);
  assert.match(p[1]!, /^vector_search\.merge_strategy: /);
  assert.match(p[2]!, /^vector_search\.over_fetch_factor: /);
  assert.equal(p[3], 'vector_search.rrf_k: unknown key');
});
