/**
 * `npm run bench` (root; not part of `npm test`): the whole performance suite in one process tree,
 * each part in its own child process so that none shares an event loop with another:
 * 1. micro-benchmarks of the pure core (`core-bench.js` → bench/results/core.json);
 * 2. proxy overhead with instant nodes (`proxy-bench.js` → bench/results/proxy.json);
 * 3. end to end with engine nodes (`e2e-bench.js` → bench/results/e2e.json);
 * 4. adding a node to a 100,000-document index (`rebalance-bench.js` → bench/results/rebalance.json).
 * 4b. one of two replicas 500 ms slow, adaptive selection and hedging on and off
 *    (`slow-replica-bench.js` → bench/results/slowreplica.json).
 * 5. SQLite vs. Redis state store, write-heavy and searches (`store-bench.js` → bench/results/store.json;
 *    needs Redis, so it runs only when asked: `BENCH_PARTS=store`).
 * Then a summary of the figures against their targets, and search-latency regressions above 20 %
 * against the previous run's summary (bench/results/summary.json). Each part's
 * environment variables are documented in its file; `BENCH_PARTS=core,proxy` runs a subset.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const results = resolve(here, '../../../..', 'bench', 'results');
const PARTS = [
  ['core', 'core micro-benchmarks', 'core-bench.js'],
  ['proxy', 'proxy overhead with instant nodes', 'proxy-bench.js'],
  ['e2e', 'end to end with engine nodes', 'e2e-bench.js'],
  ['rebalance', 'adding a node (rebalance)', 'rebalance-bench.js'],
  ['slowreplica', 'one slow replica (adaptive selection, hedging)', 'slow-replica-bench.js'],
  ['store', 'SQLite vs. Redis state store', 'store-bench.js'],
] as const;
const wanted = new Set((process.env.BENCH_PARTS ?? 'core,proxy,e2e,rebalance,slowreplica').split(','));

const started = performance.now();
for (const [id, title, script] of PARTS) {
  if (!wanted.has(id)) continue;
  process.stdout.write(`\n== ${title} ==\n`);
  const r = spawnSync(process.execPath, ['--enable-source-maps', join(here, script)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status})`);
}

function read(name: string): any {
  const f = join(results, name);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined;
}
const core = read('core.json');
const proxy = read('proxy.json');
const e2e = read('e2e.json');
const rebalance = read('rebalance.json');
const slowReplica = read('slowreplica.json');
const coreOps = (prefix: string): number | undefined =>
  core?.results.find((r: { name: string }) => r.name.startsWith(prefix))?.opsPerSec;
const coreUnits = (prefix: string): number | undefined =>
  core?.results.find((r: { name: string }) => r.name.startsWith(prefix))?.unitsPerSec;
const merge3 = coreOps('merge 1000 hits from 3 shards (all');
const rss = proxy?.rows
  .filter((r: { name: string }) => r.name.startsWith('miroir'))
  .reduce((m: number, r: { rssMb?: number }) => Math.max(m, r.rssMb ?? 0), 0);

/** [figure, value, target, met] — `met` undefined when the figure was not measured. */
const figures: [string, number | undefined, string, boolean | undefined][] = [];
const add = (name: string, v: number | undefined, target: string, ok: (v: number) => boolean) =>
  figures.push([name, v, target, v === undefined || Number.isNaN(v) ? undefined : ok(v)]);
add('merge 1000 hits from 3 shards (ms)', merge3 === undefined ? undefined : 1000 / merge3, '< 0.5', (v) => v < 0.5);
add('routing parse+route+serialize (docs/s)', coreUnits('parse+route+serialize, 1k docs, RF=1'), '>= 150000', (v) => v >= 150_000);
add('miroir fan-out 3 / bare fan-out 3 (req/s)', proxy?.ratios['miroir 3 / bare 3'], '>= 0.8', (v) => v >= 0.8);
add('miroir fan-out 1 / nginx (req/s)', proxy?.ratios['miroir 1 / nginx'], '>= 0.45', (v) => v >= 0.45);
add('added p50 at half max rate, fan-out 1 (ms)', proxy?.latency['fan-out 1']?.addedP50, '<= 0.5', (v) => v <= 0.5);
add('added p99 at half max rate, fan-out 1 (ms)', proxy?.latency['fan-out 1']?.addedP99, '<= 3', (v) => v <= 3);
add('added p50 at half max rate, fan-out 3 (ms)', proxy?.latency['fan-out 3']?.addedP50, '<= 0.5', (v) => v <= 0.5);
add('added p99 at half max rate, fan-out 3 (ms)', proxy?.latency['fan-out 3']?.addedP99, '<= 3', (v) => v <= 3);
add('orchestrator peak RSS under load (MB)', rss, '<= 300', (v) => v <= 300);
// Query coalescing and the result cache (S13.10) at fan-out 3, against the same run with both off.
add('shared reads on/off, CPU per unique search', proxy?.cpuRatios?.['unique shared / not shared'], '<= 1.05', (v) => v <= 1.05);
add('shared reads on/off, unique searches (req/s)', proxy?.ratios['unique shared / not shared'], 'reported', () => true);
add('cached search / uncached (req/s)', proxy?.ratios['cached / not shared'], 'reported', () => true);
add('e2e search p50, miroir / direct', e2e?.search.p50Ratio, '< 2', (v) => v < 2);
add('e2e ingest, miroir / direct', e2e?.ingest.ratio, '> 0.8', (v) => v > 0.8);
// Spec S13.2/S13.3: one of two replicas 500 ms slow; p99 against the same run's healthy p99.
add('slow replica: search p99 / healthy p99', slowReplica?.p99Ratio, '<= 2', (v) => v <= 2);
add('rebalance: documents migrated / s (3 → 4 nodes)', rebalance?.docsPerSecond, 'reported', () => true);
// Rendezvous moves only what changes owner: about 1/(N+1) of the documents (S2.7).
add('rebalance: share of documents moved / 1/(N+1)', rebalance === undefined ? undefined : rebalance.shareOfDocumentsMoved / rebalance.theoreticalShare, '0.6 – 1.4', (v) => v > 0.6 && v < 1.4);

// Spec S8: a search-latency regression above 20 % against the previous run is flagged. The
// figures compared are Miroir's own search latencies and its CPU per search (the steadiest one).
const latencyFigures: [string, number | undefined][] = [
  ['e2e search p50 ms (miroir)', e2e?.search.miroir.p50],
  ['e2e search p99 ms (miroir)', e2e?.search.miroir.p99],
  ...['fan-out 1', 'fan-out 3'].map((k): [string, number | undefined] => [`fixed-rate p50 ms, miroir ${k}`, proxy?.latency[k]?.miroir.p50]),
  ...((proxy?.rows ?? []) as { name: string; load: { cpuUsPerRequest?: number } }[])
    .filter((r) => r.name.startsWith('miroir'))
    .map((r): [string, number | undefined] => [`CPU µs per search, ${r.name}`, r.load.cpuUsPerRequest]),
];
const previous = read('summary.json') as { at?: string; latency?: Record<string, number> } | undefined;
const latency: Record<string, number> = {};
for (const [name, v] of latencyFigures) if (v !== undefined && !Number.isNaN(v)) latency[name] = v;
const regressions: string[] = [];
for (const [name, v] of Object.entries(latency)) {
  const before = previous?.latency?.[name];
  if (before !== undefined && before > 0 && v > before * 1.2) {
    regressions.push(`${name}: ${v.toFixed(3)} vs ${before.toFixed(3)} (+${Math.round((v / before - 1) * 100)} %)`);
  }
}

process.stdout.write(`\n== summary (${Math.round((performance.now() - started) / 1000)} s) ==\n`);
for (const [name, v, target, met] of figures) {
  const shown = v === undefined || Number.isNaN(v) ? 'n/a' : v >= 100 ? Math.round(v).toString() : v.toFixed(3);
  process.stdout.write(`${name.padEnd(46)}${shown.padStart(12)}  target ${target.padEnd(10)} ${met === undefined ? '' : met ? 'met' : 'MISSED'}\n`);
}
if (previous?.latency !== undefined) {
  process.stdout.write(`\nsearch-latency regressions above 20 % against the run of ${previous.at ?? 'unknown date'}: ${regressions.length === 0 ? 'none' : ''}\n`);
  for (const r of regressions) process.stdout.write(`  REGRESSION ${r}\n`);
}
mkdirSync(results, { recursive: true });
writeFileSync(
  join(results, 'summary.json'),
  `${JSON.stringify(
    {
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version },
      at: new Date().toISOString(),
      seconds: Math.round((performance.now() - started) / 1000),
      figures: figures.map(([name, value, target, met]) => ({ name, value, target, met })),
      latency,
      regressions,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`\nwrote ${join(results, 'summary.json')}\n`);
