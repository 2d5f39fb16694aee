/**
 * The deploy/ artifacts against the registry: the Grafana dashboard and the Prometheus rules only
 * query metric families the orchestrator exposes, with the label names those families have.
 * (`promtool check rules` / `promtool test rules` validate the rule file itself; see docs/observability.md.)
 */
import { ReadPath } from '../src/reads/read-path.js';
import { Tenants } from '../src/reads/tenants.js';
import { registerExplainMetrics } from '../src/reads/explain-route.js';
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { Catalog } from '../src/catalog.js';
import { Cluster } from '../src/cluster.js';
import { loadConfig } from '../src/config.js';
import { loadHasher } from '../src/core/hash.js';
import { Metrics, registerBackgroundMetrics } from '../src/obs/metrics.js';
import { Background } from '../src/work/background.js';
import { SqliteStore } from '../src/state/sqlite.js';
import { TaskRegistry } from '../src/work/tasks.js';
import { ReadCache } from '../src/api/read-cache.js';
import { SettingsVersions } from '../src/work/settings-versions.js';

import { AntiEntropy } from '../src/work/anti-entropy.js';
import { Handoff } from '../src/work/handoff.js';
import { soleOwner } from '../src/work/ownership.js';
import { RoutingFence } from '../src/work/fence.js';
import { Rebalancer } from '../src/work/rebalancer.js';

// dist/test/ → repository root
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (p: string) => readFileSync(`${root}${p}`, 'utf8');

/** family name → { type, labels } as the registry declares them. */
let families: Map<string, { type: string; labels: Set<string> }>;
let queueDepth: string | undefined;

test('the background queue depth counts the queued jobs of each type this process runs', () => {
  assert.equal(queueDepth, 'miroir_background_queue_depth{job_type="probe"} 3');
});

before(async () => {
  const config = loadConfig({ env: {}, overrides: { nodes: [{ id: 'n0', address: 'http://127.0.0.1:1' }] } });
  const hasher = await loadHasher();
  const store = new SqliteStore(':memory:');
  const cluster = new Cluster(config, hasher, store);
  const log = pino({ level: 'silent' });
  const metrics = new Metrics(cluster, new TaskRegistry(cluster, new Catalog(cluster), log));
  // Feature families register with their workers (anti-entropy is on by default).
  const fence = new RoutingFence({ store, self: 'p', load: async () => true, frozen: () => false, log }, { ttlMs: 1000, heartbeatMs: 300, freezeTimeoutMs: 1000 });
  const background = new Background(store, { ...config, jobs: { ...config.jobs, poll_interval_ms: 60_000 } }, hasher, log);
  const handoff = new Handoff({ cluster, log, metrics, fence, leases: background.leases });
  new Rebalancer({ cluster, log, metrics, handoff, fence });
  new AntiEntropy({ cluster, ownership: soleOwner, log, metrics, fence });
  registerBackgroundMetrics(metrics, cluster, background);
  new ReadCache(config, new SettingsVersions(store), metrics, () => 0);
  new ReadPath(cluster, metrics);
  new Tenants(config.tenant_affinity, store, hasher, metrics);
  registerExplainMetrics(metrics);
  // The queue depth is read from the store per job type this process runs.
  background.jobs.handle('probe', async () => undefined);
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 3; i++) await store.enqueueJob({ type: 'probe', params: { i } });
  queueDepth = (await metrics.registry.getSingleMetricAsString('miroir_background_queue_depth')).split('\n').find((l) => l.startsWith('miroir_background_queue_depth{'));
  await background.close();
  families = new Map();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    // prom-client keeps a family's declared label names on the metric object.
    const labels = new Set((metrics.registry.getSingleMetric(m.name) as unknown as { labelNames: string[] }).labelNames);
    families.set(m.name, { type: String(m.type), labels });
  }
  await cluster.close();
});

/** The family a series name belongs to (`_bucket`/`_sum`/`_count` belong to their histogram). */
function familyOf(series: string): string {
  if (families.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  assert.equal(families.get(base)?.type, 'histogram', `${series} is neither a family nor a histogram series`);
  return base;
}

/** Every `miroir_*` series in a PromQL expression, with the label names used in its selector and `by (…)`. */
function references(expr: string): { series: string; labels: string[] }[] {
  const out: { series: string; labels: string[] }[] = [];
  for (const m of expr.matchAll(/\b(miroir_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!);
    out.push({ series: m[1]!, labels });
  }
  return out;
}

function checkExpr(where: string, expr: string): number {
  const refs = references(expr);
  for (const r of refs) {
    const family = familyOf(r.series);
    const known = families.get(family)!.labels;
    for (const l of r.labels) {
      if (l === 'le' && families.get(family)!.type === 'histogram') continue;
      assert.ok(known.has(l), `${where}: ${r.series} has no label ${l}`);
    }
  }
  // Labels grouped on must exist on some family of the expression (or be `le`, or a scrape target label).
  for (const g of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
    for (const l of g[1]!.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (['le', 'pod', 'namespace', 'instance', 'job'].includes(l)) continue;
      assert.ok(refs.some((r) => families.get(familyOf(r.series))!.labels.has(l)), `${where}: grouping by unknown label ${l}`);
    }
  }
  return refs.length;
}

test('the Grafana dashboard is valid and queries only exposed metrics', () => {
  const dash = JSON.parse(read('deploy/grafana/miroir-dashboard.json')) as {
    uid: string;
    panels: { id: number; type: string; title: string; targets?: { expr: string; refId: string }[] }[];
    templating: { list: { name: string; query: unknown }[] };
  };
  assert.equal(dash.uid, 'miroir-overview');
  const ids = dash.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  let refs = 0;
  const used = new Set<string>();
  for (const p of dash.panels) {
    for (const t of p.targets ?? []) {
      refs += checkExpr(`panel "${p.title}" ${t.refId}`, t.expr);
      for (const r of references(t.expr)) used.add(familyOf(r.series));
    }
  }
  for (const v of dash.templating.list) {
    if (typeof v.query === 'object' && v.query !== null) checkExpr(`variable ${v.name}`, (v.query as { query: string }).query);
  }
  assert.ok(refs > 20);
  // Every core family is on the dashboard somewhere.
  assert.deepEqual([...families.keys()].filter((f) => f.startsWith('miroir_') && !used.has(f)), []);
  // The S10.4 panels.
  const titles = dash.panels.map((p) => p.title.toLowerCase());
  for (const want of ['node health', 'request rate by route', 'latency p50 / p95 / p99', 'per-node latency', 'overhead versus a single node', 'task lag', 'shard distribution', 'rebalance activity']) {
    assert.ok(titles.some((t) => t.startsWith(want)), `a panel "${want}"`);
  }
});

test('the alert rules are S10.3 as corrected, on exposed metrics only', () => {
  const doc = parseYaml(read('deploy/prometheus/miroir-alerts.yaml')) as {
    groups: { name: string; rules: { alert: string; expr: string; for: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[];
  };
  const rules = doc.groups.flatMap((g) => g.rules);
  assert.deepEqual(
    rules.map((r) => [r.alert, r.for]),
    [
      ['MiroirDegradedShards', '2m'],
      ['MiroirNodeDown', '5m'],
      ['MiroirHighSearchLatency', '5m'],
      ['MiroirTaskStuck', '10m'],
      ['MiroirAntientropyMismatch', '18h'],
      ['MiroirMemoryPressure', '5m'],
      ['MiroirRequestQueueBacklog', '2m'],
      ['MiroirSettingsDivergence', '10m'],
      ['MiroirRebalanceStuck', '2h'],
      ['MiroirPeerDiscoveryGap', '2m'],
      ['MiroirBackgroundJobBacklog', '10m'],
    ],
  );
  for (const r of rules) {
    assert.equal(r.labels.severity, 'warning');
    assert.ok(r.annotations.summary && r.annotations.description);
    assert.ok(checkExpr(r.alert, r.expr) > 0);
  }
  const expr = (name: string) => rules.find((r) => r.alert === name)!.expr.replace(/\s+/g, ' ').trim();
  assert.equal(expr('MiroirNodeDown'), 'miroir_node_healthy == 0');
  // The corrected TaskStuck compares a gauge of the oldest pending age, not a histogram.
  assert.equal(expr('MiroirTaskStuck'), 'max(miroir_task_oldest_pending_age_seconds) > 3600');
  assert.equal(families.get('miroir_task_oldest_pending_age_seconds')!.type, 'gauge');
  assert.equal(families.get('miroir_antientropy_mismatches_found_total')!.type, 'counter');
  // The corrected SettingsDivergence looks at increases, never at a cumulative counter `== 0`.
  assert.match(expr('MiroirSettingsDivergence'), /^sum by \(index\) \(increase\(miroir_settings_hash_mismatch_total\[10m\]\)\) > 0 unless sum by \(index\) \(increase\(miroir_settings_drift_repair_total\[10m\]\)\) > 0$/);
  assert.match(expr('MiroirHighSearchLatency'), /^histogram_quantile\(0\.95, sum by \(le\) \(rate\(miroir_request_duration_seconds_bucket\{path_template="\/indexes\/:uid\/search"\}\[5m\]\)\) \) > 2$/);
});

/** promtool from Debian's `prometheus` package (.ci/run installs it); without it, a visible skip outside CI. */
function promtool(): string | undefined {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return 'promtool';
  } catch {
    if (process.env.CI === 'true') assert.fail('promtool is not installed (apt-get install prometheus)');
    return undefined;
  }
}

test('promtool checks the alert rules and passes their unit tests', (t) => {
  const bin = promtool();
  if (bin === undefined) return t.skip('promtool not installed (apt-get install prometheus)');
  const dir = `${root}deploy/prometheus`;
  const check = execFileSync(bin, ['check', 'rules', 'miroir-alerts.yaml'], { cwd: dir, encoding: 'utf8' });
  assert.match(check, /SUCCESS: \d+ rules found/);
  const tests = execFileSync(bin, ['test', 'rules', 'miroir-alerts.test.yaml'], { cwd: dir, encoding: 'utf8' });
  assert.match(tests, /SUCCESS/);
});

test('the ServiceMonitor scrapes the metrics listener on its default port and path', () => {
  const docs = read('deploy/kubernetes/servicemonitor.yaml')
    .split(/^---$/m)
    .map((d) => parseYaml(d) as Record<string, any> | null)
    .filter((d): d is Record<string, any> => d !== null);
  const service = docs.find((d) => d.kind === 'Service')!;
  const monitor = docs.find((d) => d.kind === 'ServiceMonitor')!;
  const config = loadConfig({ env: {} });
  assert.equal(service.spec.ports[0].targetPort, config.metrics.port);
  assert.equal(monitor.spec.endpoints[0].path, config.metrics.path);
  assert.equal(monitor.spec.endpoints[0].port, service.spec.ports[0].name);
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata.labels[k], v);
});
