/**
 * One slow replica (spec S13.2, S13.3): two engine nodes holding every shard (RF 2), the second
 * reached through a fault proxy. Search latency from 4 clients is measured on the healthy cluster,
 * then with the second node delayed by 500 ms — with adaptive selection and hedging (the defaults),
 * and, for contrast, with round-robin and no hedging — all in one run. Writes
 * `bench/results/slowreplica.json`.
 *
 * Environment: BENCH_SLOW_QUERIES (default 1500 per phase), BENCH_SLOW_DELAY_MS (500).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { FaultProxy } from '../test/fault-proxy.js';
import { BENCH_MASTER_KEY } from './miroir-server.js';
import { startNode, stop, type Server } from './processes.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const QUERIES = Number(process.env.BENCH_SLOW_QUERIES ?? 1500);
const DELAY_MS = Number(process.env.BENCH_SLOW_DELAY_MS ?? 500);
const CONCURRENCY = 4;
const NODE_KEY = 'bench-node-master-key';
const WORDS = ['red', 'green', 'blue', 'amber', 'violet', 'cyan', 'olive', 'coral'];

interface Latency {
  p50: number;
  p99: number;
  max: number;
}

async function searches(url: string, n: number): Promise<Latency> {
  const pool = new Pool(url, { connections: CONCURRENCY });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_MASTER_KEY}` };
  const lat: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        const res = await pool.request({ method: 'POST', path: '/indexes/bench/search', headers, body: JSON.stringify({ q: WORDS[i % WORDS.length], limit: 10, filter: `n = ${i % 50}` }) });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`search answered ${res.statusCode}`);
        lat.push(performance.now() - t0);
      }
    }),
  );
  await pool.close();
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { p50: pct(0.5), p99: pct(0.99), max: lat[lat.length - 1]! };
}

async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_MASTER_KEY}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json: any = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  if (json?.taskUid !== undefined) {
    for (;;) {
      const t = (await (await fetch(`${url}/tasks/${json.taskUid}`, { headers: { authorization: `Bearer ${BENCH_MASTER_KEY}` } })).json()) as { status: string; error: unknown };
      if (t.status === 'succeeded') break;
      if (t.status === 'failed') throw new Error(JSON.stringify(t.error));
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return json;
}

/** `miroir_hedge_fired_total` by outcome, from the orchestrator's metrics. */
async function hedgeCounts(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/_miroir/metrics`, { headers: { authorization: `Bearer ${BENCH_MASTER_KEY}` } })).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^miroir_hedge_fired_total\{outcome="(\w+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

function miroir(dir: string, upstreams: string[], config: Record<string, unknown>): Promise<Server> {
  return startNode('miroir-server.js', [dir, ...upstreams], 'url', [], {
    ...process.env,
    BENCH_SHARDS: '8',
    BENCH_RF: '2',
    BENCH_NODE_KEY: NODE_KEY,
    BENCH_SHARED_READS: '0',
    BENCH_CONFIG: JSON.stringify({ health: { timeout_ms: 3000 }, ...config }),
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-bench-slow-'));
  const engines: EngineProcess[] = [];
  try {
    for (let i = 0; i < 2; i++) engines.push(await startEngineProcess({ dataDir: join(dir, `node-${i}`), masterKey: NODE_KEY }));
    const proxy = await FaultProxy.start(engines[1]!.url);
    const upstreams = [engines[0]!.url, proxy.url];
    const on = await miroir(join(dir, 'on'), upstreams, {});
    let healthy: Latency, slowOn: Latency, slowOff: Latency;
    let hedges: Record<string, number> = {};
    try {
      const url = on.info.url as string;
      await api(url, 'POST', '/indexes', { uid: 'bench', primaryKey: 'id' });
      await api(url, 'PATCH', '/indexes/bench/settings', { filterableAttributes: ['n'] });
      const docs = Array.from({ length: 5000 }, (_, id) => ({ id, title: `${WORDS[id % WORDS.length]} ${WORDS[(id * 7) % WORDS.length]} item ${id}`, n: id % 50 }));
      await api(url, 'POST', '/indexes/bench/documents', docs);
      await searches(url, 300); // warm-up
      healthy = await searches(url, QUERIES);
      proxy.set({ kind: 'delay', ms: DELAY_MS });
      await searches(url, 100); // the scores learn the delay
      slowOn = await searches(url, QUERIES);
      proxy.set({ kind: 'pass' });
      hedges = await hedgeCounts(url);
    } finally {
      await stop(on.child);
    }
    const off = await miroir(join(dir, 'off'), upstreams, { replica_selection: { strategy: 'round_robin' }, hedging: { enabled: false } });
    try {
      const url = off.info.url as string;
      await searches(url, 100);
      proxy.set({ kind: 'delay', ms: DELAY_MS });
      slowOff = await searches(url, Math.min(QUERIES, 400));
    } finally {
      await stop(off.child);
      await proxy.close();
    }
    const rows: [string, Latency][] = [
      ['healthy (adaptive + hedging)', healthy],
      [`one replica +${DELAY_MS} ms, adaptive + hedging`, slowOn],
      [`one replica +${DELAY_MS} ms, round-robin, no hedging`, slowOff],
    ];
    process.stdout.write(`${'search latency (ms)'.padEnd(48)}${'p50'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}\n`);
    for (const [name, l] of rows) process.stdout.write(`${name.padEnd(48)}${l.p50.toFixed(2).padStart(9)}${l.p99.toFixed(2).padStart(9)}${l.max.toFixed(2).padStart(9)}\n`);
    const out = {
      machine: { cores: cpus().length, node: process.version },
      queries: QUERIES,
      delayMs: DELAY_MS,
      healthy,
      slowAdaptiveHedged: slowOn,
      slowRoundRobin: slowOff,
      p99Ratio: slowOn.p99 / healthy.p99,
      hedges,
    };
    process.stdout.write(`hedges over the run (adaptive + hedging): ${JSON.stringify(hedges)}\n`);
    process.stdout.write(`p99 with a slow replica / healthy p99: ${out.p99Ratio.toFixed(2)} (target <= 2)\n`);
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results', 'slowreplica.json'), `${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
