/**
 * Miroir as the proxy benchmark runs it: its own process (so the load generator and the upstreams
 * do not share its event loop), one node per upstream URL, RF=1, a master key (clients are
 * authenticated as in production), logs at `warn`.
 *
 * `node miroir-server.js <state-dir> <upstream-url>…` (env BENCH_SHARDS, default 64; BENCH_NODE_KEY,
 * the nodes' key; BENCH_REDIS_PREFIX: the Redis state store at BENCH_REDIS_URL under that key
 * prefix instead of SQLite; BENCH_SHARED_READS=0: query coalescing and the result cache off, `coalescing`
 * or `cache`: only that one on; BENCH_RF: replication factor, default 1; BENCH_CONFIG: a JSON object
 * merged over the config) prints
 * `{"url":…}` when listening. Run it
 * with `--cpu-prof` to profile the hot path (`BENCH_PROFILE=1` in the proxy benchmark).
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { startMiroir } from '../src/main.js';

/** The client key every proxy-benchmark target receives (ignored by all but Miroir). */
export const BENCH_MASTER_KEY = 'bench-master-key';

/** BENCH_SHARED_READS: `0` both off, `coalescing` or `cache` only that one on; unset: the defaults (both on). */
function sharedReads(mode: string | undefined): Record<string, unknown> {
  if (mode === '0') return { query_coalescing: { enabled: false }, result_cache: { enabled: false } };
  if (mode === 'coalescing') return { result_cache: { enabled: false } };
  if (mode === 'cache') return { query_coalescing: { enabled: false } };
  return {};
}

async function main(): Promise<void> {
  const [dir, ...upstreams] = process.argv.slice(2);
  if (dir === undefined || upstreams.length === 0) throw new Error('usage: miroir-server <state-dir> <upstream-url>…');
  const config = loadConfig({
    env: { MIROIR_MASTER_KEY: BENCH_MASTER_KEY, MIROIR_NODE_MASTER_KEY: process.env.BENCH_NODE_KEY ?? 'bench-node-key' },
    overrides: {
      shards: Number(process.env.BENCH_SHARDS ?? 64),
      replication_factor: Number(process.env.BENCH_RF ?? 1),
      nodes: upstreams.map((address, i) => ({ id: `node-${i}`, address })),
      task_store: process.env.BENCH_REDIS_PREFIX
        ? { backend: 'redis', url: process.env.BENCH_REDIS_URL ?? '', key_prefix: process.env.BENCH_REDIS_PREFIX }
        : { backend: 'sqlite', path: join(dir, 'miroir.db') },
      server: { port: 0, bind: '127.0.0.1' },
      log: { level: 'warn' },
      ...sharedReads(process.env.BENCH_SHARED_READS),
      // Metrics stay on (their cost is part of a request's); only the listener's port is free.
      metrics: { port: 0, bind: '127.0.0.1' },
      ...(process.env.BENCH_CONFIG ? (JSON.parse(process.env.BENCH_CONFIG) as Record<string, unknown>) : {}),
    },
  });
  // Logs go to stderr: stdout carries the one line the benchmark reads.
  const miroir = await startMiroir(config, { logger: pino({ level: 'warn' }, pino.destination(2)) });
  process.stdout.write(`${JSON.stringify({ url: miroir.url })}\n`);
  // A profile is written on a normal exit only: SIGTERM closes and exits.
  process.on('SIGTERM', () => {
    void miroir.close().finally(() => process.exit(0));
  });
}

if (process.argv[1]?.endsWith('miroir-server.js')) await main();
