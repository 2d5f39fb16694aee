/**
 * Test harness: real engine processes on loopback ports and a real orchestrator in this process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Meilisearch } from 'meilisearch';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config.js';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { startMiroir, type Miroir } from '../src/main.js';
import { FaultProxy } from './fault-proxy.js';
import { RecordingProxy } from './recording-proxy.js';

export interface ClusterSpec {
  nodes: number;
  groups?: number;
  rf?: number;
  shards?: number;
  masterKey?: string;
  /** `MIROIR_ADMIN_API_KEY` (else the master key opens the admin API). */
  adminKey?: string;
  nodeMasterKey?: string;
  config?: Record<string, unknown>;
  /** Node indexes reached through a {@link FaultProxy} (see `TestCluster.proxies`). */
  proxied?: number[];
  /** Every node (and every added one) is reached through a {@link RecordingProxy}. */
  recorded?: boolean;
}

export interface TestCluster {
  miroir: Miroir;
  engines: EngineProcess[];
  url: string;
  client: Meilisearch;
  dir: string;
  config: Readonly<Config>;
  /** The fault proxies in front of the nodes listed in `proxied`, by node index. */
  proxies: Map<number, FaultProxy>;
  /** The recording proxies in front of the nodes (with `recorded`), by node index. */
  recorders: Map<number, RecordingProxy>;
  /**
   * Starts one more engine (not yet in the topology): its index, id `node-<i>` and the address to
   * register it under.
   */
  addEngine(): Promise<{ index: number; id: string; address: string }>;
  /** A client talking to one engine directly (to check what a node holds). */
  nodeClient(i: number): Meilisearch;
  /** Starts engine `i` again (after a kill) on its port and data directory. */
  restartEngine(i: number): Promise<void>;
  /** Restarts the orchestrator on the same task store. */
  restartMiroir(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(spec: ClusterSpec): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-test-'));
  const groups = spec.groups ?? 1;
  const nodeKey = spec.nodeMasterKey ?? 'node-master-key-for-tests';
  const engines = await Promise.all(
    Array.from({ length: spec.nodes }, (_, i) => startEngineProcess({ dataDir: join(dir, `node-${i}`), masterKey: nodeKey })),
  );
  const proxies = new Map<number, FaultProxy>();
  for (const i of spec.proxied ?? []) proxies.set(i, await FaultProxy.start(engines[i]!.url));
  const recorders = new Map<number, RecordingProxy>();
  if (spec.recorded) for (const [i, e] of engines.entries()) recorders.set(i, await RecordingProxy.start(e.url));
  const addressOf = (i: number) => proxies.get(i)?.url ?? recorders.get(i)?.url ?? engines[i]!.url;
  const perGroup = Math.ceil(spec.nodes / groups);
  const env: NodeJS.ProcessEnv = { MIROIR_NODE_MASTER_KEY: nodeKey };
  if (spec.masterKey) env.MIROIR_MASTER_KEY = spec.masterKey;
  if (spec.adminKey) env.MIROIR_ADMIN_API_KEY = spec.adminKey;
  const config = loadConfig({
    env,
    overrides: {
      shards: spec.shards ?? 16,
      replication_factor: spec.rf ?? 1,
      replica_groups: groups,
      nodes: engines.map((_e, i) => ({ id: `node-${i}`, address: addressOf(i), replica_group: Math.min(groups - 1, Math.floor(i / perGroup)) })),
      task_store: { backend: 'sqlite', path: join(dir, 'miroir-tasks.db') },
      server: { port: 0, bind: '127.0.0.1' },
      task_registry: { poll_interval_ms: 50 },
      metrics: { port: 0, bind: '127.0.0.1' },
      health: { interval_ms: 500, timeout_ms: 500 },
      ...spec.config,
    },
  });
  const logger = pino({ level: process.env.MIROIR_TEST_LOG ?? 'silent' });
  let miroir = await startMiroir(config, { logger });
  const cluster: TestCluster = {
    miroir,
    engines,
    get url() {
      return miroir.url;
    },
    get client() {
      return new Meilisearch({ host: miroir.url, apiKey: spec.masterKey });
    },
    dir,
    config,
    proxies,
    recorders,
    addEngine: async () => {
      const index = engines.length;
      engines.push(await startEngineProcess({ dataDir: join(dir, `node-${index}`), masterKey: nodeKey }));
      if (spec.recorded) recorders.set(index, await RecordingProxy.start(engines[index]!.url));
      return { index, id: `node-${index}`, address: addressOf(index) };
    },
    nodeClient: (i) => new Meilisearch({ host: engines[i]!.url, apiKey: nodeKey }),
    restartEngine: async (i) => {
      const old = engines[i]!;
      await old.kill();
      engines[i] = await startEngineProcess({ dataDir: old.dataDir, port: old.port, masterKey: nodeKey });
    },
    restartMiroir: async () => {
      await miroir.close();
      miroir = await startMiroir({ ...config, server: { ...config.server, port: miroir.port } }, { logger });
      cluster.miroir = miroir;
    },
    stop: async () => {
      await miroir.close();
      await Promise.all([...proxies.values(), ...recorders.values()].map((p) => p.close()));
      await Promise.all(engines.map((e) => e.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Raw HTTP against a base URL, returning status, headers and the body (parsed when it is JSON). */
export async function http(
  base: string,
  method: string,
  path: string,
  opts: {
    body?: unknown;
    raw?: string | Buffer;
    /** Defaults to JSON when there is a body; null sends none. */
    contentType?: string | null;
    key?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
  // Bytes, not strings: fetch would add `text/plain` to a string body sent without a content type.
  let body: Buffer | undefined;
  if (opts.raw !== undefined) body = Buffer.from(opts.raw);
  else if (opts.body !== undefined) body = Buffer.from(JSON.stringify(opts.body));
  if (opts.contentType !== null && (body !== undefined || opts.contentType !== undefined)) {
    headers['content-type'] = opts.contentType ?? 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
