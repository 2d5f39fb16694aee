/**
 * State-store benchmark: orchestrator throughput with the SQLite store vs. the Redis store (one
 * process, then two sharing it, requests alternating between them) over the same three engine
 * nodes. Writes `bench/results/store.json`.
 *  - write-heavy: WRITES single-document additions at concurrency CONCURRENCY: tasks acknowledged
 *    per second, and tasks per second until every one is terminal (drained);
 *  - searches: SEARCHES queries; with Redis, the store commands issued while they run are counted
 *    (MONITOR, filtered by the run's key prefix) against an idle period as long: searches must not
 *    touch the store, so the two counts match up to background polling.
 *
 * Environment: BENCH_WRITES (default 2000), BENCH_SEARCHES (2000), BENCH_CONCURRENCY (16),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { BENCH_MASTER_KEY } from './miroir-server.js';
import { startNode, stop, type Server } from './processes.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const WRITES = Number(process.env.BENCH_WRITES ?? 2000);
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NODE_KEY = 'bench-node-master-key';
const WORDS = ['apple', 'banana', 'cherry', 'dragon', 'eagle', 'forest', 'garden', 'harbor', 'island', 'jungle'];
const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_MASTER_KEY}` };

interface Row {
  name: string;
  ackTasksPerSec: number;
  drainedTasksPerSec: number;
  searchQps: number;
  searchP50Ms: number;
  storeCommandsDuringSearches?: number;
  storeCommandsIdle?: number;
}

/** Runs `n` requests at CONCURRENCY, alternating between the pools; latencies in ms. */
async function load(pools: Pool[], n: number, req: (i: number) => { method: 'GET' | 'POST'; path: string; body?: string }): Promise<{ seconds: number; lat: number[]; bodies: string[] }> {
  let next = 0;
  const lat: number[] = [];
  const bodies: string[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        const res = await pools[i % pools.length]!.request({ ...req(i), headers });
        const text = await res.body.text();
        if (res.statusCode >= 300) throw new Error(`${req(i).path}: ${res.statusCode} ${text}`);
        lat.push(performance.now() - t0);
        bodies.push(text);
      }
    }),
  );
  return { seconds: (performance.now() - start) / 1000, lat, bodies };
}

async function pendingCount(pool: Pool): Promise<number> {
  const res = await pool.request({ method: 'GET', path: '/tasks?statuses=enqueued,processing&limit=1', headers });
  return (JSON.parse(await res.body.text()) as { total: number }).total;
}

/** Counts the commands on keys under `prefix` that Redis executes while `fn` runs. */
async function countCommands(prefix: string, fn: () => Promise<void>): Promise<number> {
  const monitor = await new Redis(REDIS_URL).monitor();
  let n = 0;
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args.slice(1).some((a) => a.startsWith(prefix))) n++;
  });
  try {
    await fn();
  } finally {
    monitor.disconnect();
  }
  return n;
}

async function measure(name: string, servers: Server[], prefix: string | undefined): Promise<Row> {
  const pools = servers.map((s) => new Pool(s.info.url as string, { connections: CONCURRENCY }));
  try {
    const index = `bench${randomBytes(3).toString('hex')}`;
    await load(pools.slice(0, 1), 1, () => ({ method: 'POST', path: '/indexes', body: JSON.stringify({ uid: index, primaryKey: 'id' }) }));
    while ((await pendingCount(pools[0]!)) > 0) await new Promise((r) => setTimeout(r, 20));
    const start = performance.now();
    const writes = await load(pools, WRITES, (i) => ({
      method: 'POST',
      path: `/indexes/${index}/documents`,
      body: JSON.stringify([{ id: i, title: `${WORDS[i % 10]} ${WORDS[(i * 7) % 10]}` }]),
    }));
    while ((await pendingCount(pools[0]!)) > 0) await new Promise((r) => setTimeout(r, 20));
    const drained = (performance.now() - start) / 1000;
    const search = (i: number) => ({ method: 'POST' as const, path: `/indexes/${index}/search`, body: JSON.stringify({ q: WORDS[i % 10], limit: 10 }) });
    await load(pools, 200, search); // warm-up: caches filled
    let searches = { seconds: 0, lat: [] as number[] };
    let during: number | undefined;
    let idle: number | undefined;
    if (prefix === undefined) searches = await load(pools, SEARCHES, search);
    else {
      during = await countCommands(prefix, async () => {
        searches = await load(pools, SEARCHES, search);
      });
      idle = await countCommands(prefix, () => new Promise((r) => setTimeout(r, searches.seconds * 1000)));
    }
    searches.lat.sort((a, b) => a - b);
    return {
      name,
      ackTasksPerSec: WRITES / writes.seconds,
      drainedTasksPerSec: WRITES / drained,
      searchQps: SEARCHES / searches.seconds,
      searchP50Ms: searches.lat[Math.floor(searches.lat.length / 2)]!,
      storeCommandsDuringSearches: during,
      storeCommandsIdle: idle,
    };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

async function main(): Promise<void> {
  process.stdout.write(`${WRITES} writes, ${SEARCHES} searches, concurrency ${CONCURRENCY}, 3 engine nodes\n`);
  const dir = mkdtempSync(join(tmpdir(), 'miroir-store-bench-'));
  const engines: EngineProcess[] = [];
  const rows: Row[] = [];
  try {
    for (let i = 0; i < 3; i++) engines.push(await startEngineProcess({ dataDir: join(dir, `node-${i}`), masterKey: NODE_KEY }));
    const urls = engines.map((e) => e.url);
    const env = (extra: Record<string, string>) => ({ ...process.env, BENCH_SHARDS: '16', BENCH_NODE_KEY: NODE_KEY, BENCH_REDIS_URL: REDIS_URL, ...extra });
    const variants: [string, number, string | undefined][] = [
      ['sqlite, 1 orchestrator', 1, undefined],
      ['redis, 1 orchestrator', 1, `miroir-bench-${randomBytes(4).toString('hex')}:`],
      ['redis, 2 orchestrators', 2, `miroir-bench-${randomBytes(4).toString('hex')}:`],
    ];
    for (const [name, n, prefix] of variants) {
      const servers: Server[] = [];
      try {
        for (let i = 0; i < n; i++) {
          const state = join(dir, `${name.replace(/\W+/g, '-')}-${i}`);
          mkdirSync(state, { recursive: true });
          servers.push(await startNode('miroir-server.js', [state, ...urls], 'url', [], env(prefix ? { BENCH_REDIS_PREFIX: prefix } : {})));
        }
        rows.push(await measure(name, servers, prefix));
      } finally {
        await Promise.all(servers.map((s) => stop(s.child)));
        if (prefix) {
          const r = new Redis(REDIS_URL);
          let cursor = '0';
          do {
            const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
            cursor = next;
            if (keys.length > 0) await r.del(...keys);
          } while (cursor !== '0');
          r.disconnect();
        }
      }
    }
    process.stdout.write(`${'store'.padEnd(24)}${'acked t/s'.padStart(11)}${'drained t/s'.padStart(13)}${'search q/s'.padStart(12)}${'p50 ms'.padStart(9)}${'store cmds: searching / idle'.padStart(31)}\n`);
    for (const r of rows) {
      const cmds = r.storeCommandsDuringSearches === undefined ? 'n/a' : `${r.storeCommandsDuringSearches} / ${r.storeCommandsIdle}`;
      process.stdout.write(
        `${r.name.padEnd(24)}${r.ackTasksPerSec.toFixed(0).padStart(11)}${r.drainedTasksPerSec.toFixed(0).padStart(13)}${r.searchQps.toFixed(0).padStart(12)}${r.searchP50Ms.toFixed(2).padStart(9)}${cmds.padStart(31)}\n`,
      );
    }
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(
      join(root, 'bench', 'results', 'store.json'),
      `${JSON.stringify({ machine: { cores: cpus().length, node: process.version }, writes: WRITES, searches: SEARCHES, concurrency: CONCURRENCY, rows }, null, 2)}\n`,
    );
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
