/**
 * The CPU cost of the observability layer per request, measured in one process so that other load
 * on the machine does not blur it: the same fastify route served (a) bare, (b) with the request
 * hooks and metrics, (c) with hooks, metrics and the `info` request log line (request scope on),
 * driven by `inject` (logs written to /dev/null at once, and buffered as with `log.buffer_bytes`);
 * plus the cost of observing one node call. Rounds alternate; the best round of
 * each variant is kept. Compare the added µs with a search's CPU per request in the proxy benchmark
 * (`bench/proxy-bench.ts`, column "CPU µs/req") to get the overhead in percent.
 *
 * `node dist/bench/obs-overhead.js` (env OBS_BENCH_REQUESTS, default 20000 per round).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Catalog } from '../src/catalog.js';
import { Cluster } from '../src/cluster.js';
import { loadConfig } from '../src/config.js';
import { loadHasher } from '../src/core/hash.js';
import { createLogger } from '../src/obs/logging.js';
import { Metrics } from '../src/obs/metrics.js';
import { NodeObserver } from '../src/obs/node-observer.js';
import { installRequestHooks, requestIdOf } from '../src/obs/request-hooks.js';
import { SqliteStore } from '../src/state/sqlite.js';
import { TaskRegistry } from '../src/work/tasks.js';

const REQUESTS = Number(process.env.OBS_BENCH_REQUESTS ?? 20_000);
const ROUNDS = 5;
const ANSWER = { hits: [{ id: 1, title: 'Carol' }], query: 'wonder', processingTimeMs: 0, limit: 20, offset: 0, estimatedTotalHits: 1 };

type Variant = 'bare' | 'metrics' | 'metrics+logs' | 'metrics+buffered logs';

async function app(variant: Variant, metrics: Metrics): Promise<FastifyInstance> {
  const logs = variant.includes('logs');
  // The sinks of `log.buffer_bytes` 0 and 4096, on /dev/null.
  const sink =
    variant === 'metrics+buffered logs'
      ? pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 })
      : pino.destination({ dest: '/dev/null', sync: true });
  const log = logs ? createLogger('info', sink) : pino({ level: 'warn' });
  const a = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: requestIdOf,
  });
  if (variant !== 'bare') installRequestHooks(a, metrics, undefined, { enabled: logs, nodeCount: false });
  a.post('/indexes/:uid/search', async () => ANSWER);
  await a.ready();
  return a;
}

async function cpuPerRequest(a: FastifyInstance): Promise<number> {
  const opts = { method: 'POST' as const, url: '/indexes/movies/search', payload: { q: 'wonder' } };
  for (let i = 0; i < 2000; i++) await a.inject(opts);
  const c0 = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) await a.inject(opts);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / REQUESTS;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-obs-bench-'));
  const config = loadConfig({ env: {}, overrides: { nodes: [{ id: 'node-0', address: 'http://127.0.0.1:1' }] } });
  const cluster = new Cluster(config, await loadHasher(), new SqliteStore(join(dir, 'state.db')));
  const metrics = new Metrics(cluster, new TaskRegistry(cluster, new Catalog(cluster), pino({ level: 'silent' })));
  const variants: Variant[] = ['bare', 'metrics', 'metrics+logs', 'metrics+buffered logs'];
  const apps = await Promise.all(variants.map((v) => app(v, metrics)));
  const best = new Map<Variant, number>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, v] of variants.entries()) {
      const us = await cpuPerRequest(apps[i]!);
      best.set(v, Math.min(best.get(v) ?? Infinity, us));
    }
  }
  // One node call as NodeClient observes it: start, then end with the latency.
  const observer = new NodeObserver(metrics, undefined);
  const headers: Record<string, string> = {};
  const calls = 1_000_000;
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const t = observer.start('node-0', 'search', 'POST', headers);
    observer.end(t, 'node-0', 'search', 0.0004, 200, null);
  }
  const c = process.cpuUsage(c0);
  const nodeCallUs = (c.user + c.system) / calls;

  const bare = best.get('bare')!;
  process.stdout.write(`CPU µs per request (best of ${ROUNDS} rounds of ${REQUESTS}, fastify inject):\n`);
  for (const v of variants) {
    const us = best.get(v)!;
    process.stdout.write(`  ${v.padEnd(22)} ${us.toFixed(2).padStart(8)}  (+${(us - bare).toFixed(2)})\n`);
  }
  process.stdout.write(`one node call observed: ${nodeCallUs.toFixed(3)} µs\n`);
  process.stdout.write(
    `a search at fan-out 3 adds (µs): metrics ${(best.get('metrics')! - bare + 3 * nodeCallUs).toFixed(2)}, ` +
      `metrics + logs ${(best.get('metrics+logs')! - bare + 3 * nodeCallUs).toFixed(2)}, ` +
      `metrics + buffered logs ${(best.get('metrics+buffered logs')! - bare + 3 * nodeCallUs).toFixed(2)}\n`,
  );
  await Promise.all(apps.map((a) => a.close()));
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
