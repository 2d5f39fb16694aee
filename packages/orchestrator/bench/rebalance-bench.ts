/**
 * Adding a node (spec S2.7, S4.5): an index of BENCH_REBALANCE_DOCS documents (default 100,000) on
 * three engine nodes at S=64 through Miroir (its own process), then a fourth node is added and the
 * rebalance runs to completion. Reported: documents migrated per second (copy and cutover phase,
 * from the add to the last cutover), the whole rebalance's duration, and the share of documents and
 * shards moved against the theoretical 1/(N+1). Writes `bench/results/rebalance.json`.
 *
 * Environment: BENCH_REBALANCE_DOCS (100000), BENCH_REBALANCE_CONCURRENCY (max_concurrent_migrations, 4).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { BENCH_MASTER_KEY } from './miroir-server.js';
import { startNode, stop } from './processes.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const DOCS = Number(process.env.BENCH_REBALANCE_DOCS ?? 100_000);
const SHARDS = 64;
const NODES = 3;
const NODE_KEY = 'bench-node-master-key';

async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_MASTER_KEY}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function waitTask(url: string, uid: number): Promise<void> {
  for (;;) {
    const task = await api(url, 'GET', `/tasks/${uid}`);
    if (task.status === 'succeeded') return;
    if (task.status === 'failed' || task.status === 'canceled') throw new Error(`task ${uid}: ${JSON.stringify(task.error)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
const doc = (id: number) => ({
  id,
  title: `${WORDS[id % 12]} ${WORDS[(id >> 3) % 12]} ${id}`,
  body: Array.from({ length: 30 }, (_, k) => WORDS[(id * 7 + k * 13) % 12]).join(' '),
  rank: id % 100,
});

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-bench-rebalance-'));
  const engines: EngineProcess[] = [];
  try {
    for (let i = 0; i <= NODES; i++) engines.push(await startEngineProcess({ dataDir: join(dir, `node-${i}`), masterKey: NODE_KEY }));
    const miroir = await startNode('miroir-server.js', [dir, ...engines.slice(0, NODES).map((e) => e.url)], 'url', [], {
      ...process.env,
      BENCH_SHARDS: String(SHARDS),
      BENCH_NODE_KEY: NODE_KEY,
      MIROIR_REBALANCER__MAX_CONCURRENT_MIGRATIONS: process.env.BENCH_REBALANCE_CONCURRENCY ?? '4',
    });
    const url = miroir.info.url as string;
    try {
      await waitTask(url, (await api(url, 'POST', '/indexes', { uid: 'bench', primaryKey: 'id' })).taskUid);
      let last = 0;
      for (let i = 0; i < DOCS; i += 1000) last = (await api(url, 'POST', '/indexes/bench/documents', Array.from({ length: Math.min(1000, DOCS - i) }, (_, k) => doc(i + k)))).taskUid;
      await waitTask(url, last);
      process.stdout.write(`${DOCS} documents on ${NODES} nodes at S=${SHARDS}; adding node-${NODES}\n`);

      const t0 = performance.now();
      const added = await api(url, 'POST', '/_miroir/nodes', { id: `node-${NODES}`, address: engines[NODES]!.url });
      const movesTotal = added.rebalance.moves_total as number;
      let copiedAt: number | undefined;
      let status: any;
      for (;;) {
        status = await api(url, 'GET', '/_miroir/rebalance/status');
        if (copiedAt === undefined && (status.state === 'idle' || status.moves_done === movesTotal)) copiedAt = performance.now();
        if (status.state === 'idle') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const total = (performance.now() - t0) / 1000;
      const copySeconds = (copiedAt! - t0) / 1000;
      const moved = status.last.documents_moved as number;
      const stats = await api(url, 'GET', '/indexes/bench/stats');
      if (stats.numberOfDocuments !== DOCS) throw new Error(`after the rebalance the index holds ${stats.numberOfDocuments} documents, not ${DOCS}`);
      const out = {
        machine: { cores: cpus().length, node: process.version },
        docs: DOCS,
        shards: SHARDS,
        nodesBefore: NODES,
        movesTotal,
        shareOfShardsMoved: movesTotal / SHARDS,
        documentsMoved: moved,
        shareOfDocumentsMoved: moved / DOCS,
        theoreticalShare: 1 / (NODES + 1),
        copySeconds,
        docsPerSecond: moved / copySeconds,
        totalSeconds: total,
      };
      process.stdout.write(
        [
          `moves ${movesTotal}/${SHARDS} shards (${(out.shareOfShardsMoved * 100).toFixed(1)} %), documents moved ${moved} (${(out.shareOfDocumentsMoved * 100).toFixed(1)} %; theory 1/(N+1) = ${(out.theoreticalShare * 100).toFixed(1)} %)`,
          `copy + cutover ${copySeconds.toFixed(1)} s: ${Math.round(out.docsPerSecond)} documents migrated / s; whole rebalance ${total.toFixed(1)} s (cleanup included)`,
        ].join('\n') + '\n',
      );
      mkdirSync(join(root, 'bench', 'results'), { recursive: true });
      writeFileSync(join(root, 'bench', 'results', 'rebalance.json'), `${JSON.stringify(out, null, 2)}\n`);
    } finally {
      await stop(miroir.child);
    }
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
