/**
 * The CPU query coalescing and the result cache add to a search that never repeats, measured in one
 * process so that other load on the machine blurs it less than the proxy benchmark's on/off pair:
 * `ReadCache.read` (key, lookups, admission, caching the answer) with an instant scatter, against
 * the instant scatter alone, for each feature on its own and both. Best of 3 rounds.
 *
 * `node dist/bench/read-cache-overhead.js` (env READ_BENCH_REQUESTS, default 200000 per round).
 */
import { pino } from 'pino';
import type { FastifyRequest } from 'fastify';
import { ReadCache } from '../src/api/read-cache.js';
import type { Access } from '../src/api/auth.js';
import type { IndexInfo } from '../src/catalog.js';
import { Catalog } from '../src/catalog.js';
import { Cluster } from '../src/cluster.js';
import { loadConfig } from '../src/config.js';
import { ReadRoute } from '../src/core/read-key.js';
import { loadHasher } from '../src/core/hash.js';
import { Metrics } from '../src/obs/metrics.js';
import { SqliteStore } from '../src/state/sqlite.js';
import { SettingsVersions } from '../src/work/settings-versions.js';
import { TaskRegistry } from '../src/work/tasks.js';

const REQUESTS = Number(process.env.READ_BENCH_REQUESTS ?? 200_000);
const MODES = {
  'coalescing only': { result_cache: { enabled: false } },
  'cache only': { query_coalescing: { enabled: false } },
  'both (default)': {},
} as const;

const info = { uid: 'bench', createdAt: '2026-01-01T00:00:00Z', primaryKey: 'id', shards: 64 } as unknown as IndexInfo;
const access = { searchFilter: () => null } as unknown as Access;
const req = { headers: { authorization: 'Bearer bench-master-key', 'content-type': 'application/json' } } as unknown as FastifyRequest;
const answer = () => ({
  response: { hits: [{ id: 1, title: 'Carol' }, { id: 2, title: 'Moana' }], query: 'wonder', processingTimeMs: 1, limit: 20, offset: 0, estimatedTotalHits: 2 },
  missing: [] as number[],
});

async function main(): Promise<void> {
  const hasher = await loadHasher();
  process.stdout.write(`µs per search that never repeats (best of 3 rounds of ${REQUESTS}):\n`);
  for (const [name, overrides] of Object.entries(MODES)) {
    const config = loadConfig({ env: {}, overrides: { nodes: [{ id: 'node-0', address: 'http://127.0.0.1:1' }], ...overrides } });
    const store = new SqliteStore(':memory:');
    const cluster = new Cluster(config, hasher, store);
    const metrics = new Metrics(cluster, new TaskRegistry(cluster, new Catalog(cluster), pino({ level: 'silent' })));
    const versions = new SettingsVersions(store);
    await versions.get(info.uid);
    const reads = new ReadCache(config, versions, metrics, () => 0);
    let best = Infinity;
    let bare = Infinity;
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      for (let i = 0; i < REQUESTS; i++) {
        await reads.read(req, ReadRoute.search, info, { q: `wonder ${round}-${i}`, limit: 20 }, access, false, async () => answer());
      }
      const t1 = performance.now();
      for (let i = 0; i < REQUESTS; i++) await (async () => answer())();
      const t2 = performance.now();
      best = Math.min(best, ((t1 - t0) * 1000) / REQUESTS);
      bare = Math.min(bare, ((t2 - t1) * 1000) / REQUESTS);
    }
    process.stdout.write(`  ${name.padEnd(18)} ${(best - bare).toFixed(2).padStart(6)} µs added\n`);
    await cluster.close();
  }
}

await main();
