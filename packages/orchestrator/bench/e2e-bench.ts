/**
 * End to end with engine nodes: ingest and search through Miroir over three engine nodes vs.
 * directly against one engine node holding the same corpus, in one process tree. Ratios are what
 * to read: both sides run in the same run on the same machine. Writes `bench/results/e2e.json`.
 *
 * Environment: BENCH_DOCS (default 100000), BENCH_QUERIES (default 1000), BENCH_CONCURRENCY (8).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { BENCH_MASTER_KEY } from './miroir-server.js';
import { startNode, stop } from './processes.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const DOCS = Number(process.env.BENCH_DOCS ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const NODE_KEY = 'bench-node-master-key';

// A deterministic corpus: words from a fixed vocabulary with a Zipf-like skew, plus facets.
const VOCAB = Array.from({ length: 2000 }, (_, i) => {
  const c = 'bcdfghjklmnprstvz';
  const v = 'aeiou';
  let w = '';
  let x = i + 7;
  do {
    w += c[x % c.length]! + v[Math.floor(x / c.length) % v.length]!;
    x = Math.floor(x / (c.length * v.length));
  } while (x > 0);
  return w + c[i % c.length]!;
});
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const rand = rng(42);
const word = () => VOCAB[Math.floor(VOCAB.length * rand() ** 3)]!;
const words = (n: number) => Array.from({ length: n }, word).join(' ');
const CATEGORIES = ['books', 'music', 'garden', 'tools', 'toys', 'games', 'food', 'sports'];
const docs = Array.from({ length: DOCS }, (_, id) => ({
  id,
  title: words(4),
  description: words(50),
  category: CATEGORIES[id % CATEGORIES.length],
  price: Math.round(rand() * 10_000) / 100,
  rating: 1 + (id % 5),
}));
const queries = Array.from({ length: QUERIES }, (_, i): Record<string, unknown> => {
  switch (i % 5) {
    case 0:
      return { q: word() };
    case 1:
      return { q: `${word()} ${word()}` };
    case 2:
      return { q: word(), filter: `category = ${CATEGORIES[i % CATEGORIES.length]}` };
    case 3:
      return { q: word(), facets: ['category', 'rating'] };
    default:
      return { q: word(), sort: ['price:asc'], filter: 'rating >= 3' };
  }
});

interface Target {
  name: string;
  url: string;
  key: string | undefined;
}

async function api(t: Target, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(t.key ? { authorization: `Bearer ${t.key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function waitTask(t: Target, uid: number): Promise<void> {
  for (;;) {
    const task = await api(t, 'GET', `/tasks/${uid}`);
    if (task.status === 'succeeded') return;
    if (task.status === 'failed' || task.status === 'canceled') throw new Error(`task ${uid}: ${JSON.stringify(task.error)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends the corpus in batches of 1,000 without waiting, then waits for the last task. */
async function ingest(t: Target): Promise<number> {
  await waitTask(t, (await api(t, 'POST', '/indexes', { uid: 'bench', primaryKey: 'id' })).taskUid);
  await waitTask(
    t,
    (await api(t, 'PATCH', '/indexes/bench/settings', {
      filterableAttributes: ['category', 'rating'],
      sortableAttributes: ['price'],
      searchableAttributes: ['title', 'description'],
    })).taskUid,
  );
  const start = performance.now();
  let last = 0;
  for (let i = 0; i < docs.length; i += 1000) last = (await api(t, 'POST', '/indexes/bench/documents', docs.slice(i, i + 1000))).taskUid;
  await waitTask(t, last);
  return docs.length / ((performance.now() - start) / 1000);
}

/** Runs every query at a fixed concurrency; latency percentiles and throughput. */
async function search(t: Target): Promise<{ p50: number; p99: number; qps: number }> {
  const pool = new Pool(t.url, { connections: CONCURRENCY });
  const headers = { 'content-type': 'application/json', ...(t.key ? { authorization: `Bearer ${t.key}` } : {}) };
  const run = async (q: Record<string, unknown>) => {
    const res = await pool.request({ method: 'POST', path: '/indexes/bench/search', headers, body: JSON.stringify(q) });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`search answered ${res.statusCode}`);
  };
  for (const q of queries.slice(0, 100)) await run(q); // warm-up
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < queries.length) {
        const q = queries[next++]!;
        const t0 = performance.now();
        await run(q);
        lat.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { p50: pct(0.5), p99: pct(0.99), qps: queries.length / elapsed };
}

async function main(): Promise<void> {
  process.stdout.write(`${DOCS} documents, ${QUERIES} queries, concurrency ${CONCURRENCY}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'miroir-bench-'));
  const engines: EngineProcess[] = [];
  try {
    for (let i = 0; i < 4; i++) engines.push(await startEngineProcess({ dataDir: join(dir, `node-${i}`), masterKey: NODE_KEY }));
    // Miroir in its own process, as in production: the benchmark's client does not share its loop.
    // Coalescing and the result cache are off: the warm-up's queries come back in the measured run,
    // and the single node compared with caches nothing (their effect is measured in proxy-bench).
    const miroir = await startNode(
      'miroir-server.js',
      [dir, ...engines.slice(1).map((e) => e.url)],
      'url',
      [],
      { ...process.env, BENCH_SHARDS: '16', BENCH_NODE_KEY: NODE_KEY, BENCH_SHARED_READS: '0' },
    );
    const direct: Target = { name: 'direct (1 node)', url: engines[0]!.url, key: NODE_KEY };
    const viaMiroir: Target = { name: 'miroir (3 nodes)', url: miroir.info.url as string, key: BENCH_MASTER_KEY };
    let ingestDirect: number, ingestMiroir: number;
    let searchDirect: Awaited<ReturnType<typeof search>>, searchMiroir: Awaited<ReturnType<typeof search>>;
    try {
      ingestDirect = await ingest(direct);
      ingestMiroir = await ingest(viaMiroir);
      searchDirect = await search(direct);
      searchMiroir = await search(viaMiroir);
    } finally {
      await stop(miroir.child);
    }

    const rows = [
      ['ingest docs/s', ingestDirect, ingestMiroir],
      ['search p50 ms', searchDirect.p50, searchMiroir.p50],
      ['search p99 ms', searchDirect.p99, searchMiroir.p99],
      ['search queries/s', searchDirect.qps, searchMiroir.qps],
    ] as const;
    process.stdout.write(`${'metric'.padEnd(18)}${'direct'.padStart(12)}${'miroir'.padStart(12)}${'ratio'.padStart(10)}\n`);
    for (const [name, d, m] of rows) {
      process.stdout.write(`${name.padEnd(18)}${d.toFixed(2).padStart(12)}${m.toFixed(2).padStart(12)}${(m / d).toFixed(2).padStart(10)}\n`);
    }
    const out = {
      machine: { cores: cpus().length, node: process.version },
      docs: DOCS,
      queries: QUERIES,
      concurrency: CONCURRENCY,
      ingest: { direct: ingestDirect, miroir: ingestMiroir, ratio: ingestMiroir / ingestDirect },
      search: { direct: searchDirect, miroir: searchMiroir, p50Ratio: searchMiroir.p50 / searchDirect.p50 },
    };
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results', 'e2e.json'), `${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
