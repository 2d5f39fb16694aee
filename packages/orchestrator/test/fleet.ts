/**
 * Several orchestrator processes over the same engine nodes, sharing one Redis (a fresh key prefix
 * per fleet), behind a {@link Spreader}. Each orchestrator is a child process running the `miroir`
 * bin (or the background-work probe, ha-worker.ts) with a YAML config file, so a test can SIGKILL it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Meilisearch } from 'meilisearch';
import { stringify } from 'yaml';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { FaultProxy } from './fault-proxy.js';
import { http } from './harness.js';
import { dropPrefix, REDIS_URL, testPrefix } from './redis-kit.js';
import { Spreader } from './spreader.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The `miroir` bin of this package. */
export const MIROIR_BIN = join(here, '..', '..', 'bin', 'miroir.js');
/** The background-work probe: the orchestrator plus logged Mode A/B/C jobs. */
export const HA_WORKER = join(here, 'ha-worker.js');

export interface FleetSpec {
  orchestrators: number;
  nodes: number;
  groups?: number;
  rf?: number;
  shards?: number;
  masterKey?: string;
  /** Merged over the fleet's config (YAML keys). */
  config?: Record<string, unknown>;
  /** The script each orchestrator runs: `miroir serve` (default) or {@link HA_WORKER}. */
  entry?: 'bin' | 'worker';
  /** Extra environment for the orchestrators (the probe's `HA_*` settings). */
  env?: Record<string, string>;
  /** Nodes (by index) the orchestrators reach through a {@link FaultProxy} run by the test process. */
  proxied?: number[];
}

export interface Orchestrator {
  readonly id: string;
  url: string;
  readonly child: ChildProcess;
  /** JSON lines the process printed (pino logs and the probe's events), in order. */
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<void>;
}

export interface Fleet {
  readonly url: string;
  readonly client: Meilisearch;
  readonly spreader: Spreader;
  readonly orchestrators: Orchestrator[];
  readonly engines: EngineProcess[];
  /** The fault proxy in front of each node of {@link FleetSpec.proxied}. */
  readonly proxies: Map<number, FaultProxy>;
  readonly keyPrefix: string;
  readonly configFile: string;
  /** Starts one more orchestrator (named `orch-<n>`) on the fleet's config, `env` merged over the fleet's. */
  add(env?: Record<string, string>): Promise<Orchestrator>;
  /** SIGKILL. The spreader still sends to it, and retries on another orchestrator, as a client would. */
  kill(o: Orchestrator): Promise<void>;
  stop(): Promise<void>;
}

const NODE_KEY = 'node-master-key-for-tests';

export async function startFleet(spec: FleetSpec): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-fleet-'));
  const groups = spec.groups ?? 1;
  const engines = await Promise.all(Array.from({ length: spec.nodes }, (_, i) => startEngineProcess({ dataDir: join(dir, `node-${i}`), masterKey: NODE_KEY })));
  const proxies = new Map<number, FaultProxy>();
  for (const i of spec.proxied ?? []) proxies.set(i, await FaultProxy.start(engines[i]!.url));
  const perGroup = Math.ceil(spec.nodes / groups);
  const keyPrefix = testPrefix();
  const config = {
    shards: spec.shards ?? 16,
    replication_factor: spec.rf ?? 1,
    replica_groups: groups,
    nodes: engines.map((e, i) => ({ id: `node-${i}`, address: proxies.get(i)?.url ?? e.url, replica_group: Math.min(groups - 1, Math.floor(i / perGroup)) })),
    task_store: { backend: 'redis', url: REDIS_URL, key_prefix: keyPrefix },
    server: { port: 0, bind: '127.0.0.1' },
    metrics: { enabled: false },
    task_registry: { poll_interval_ms: 50 },
    health: { interval_ms: 500, timeout_ms: 500 },
    log: { level: process.env.MIROIR_TEST_LOG ?? 'info' },
    // Searches must see the cluster as it is now: see test/harness.ts.
    result_cache: { enabled: false },
    ...spec.config,
  };
  const configFile = join(dir, 'miroir.yaml');
  writeFileSync(configFile, stringify(config));
  const env: NodeJS.ProcessEnv = { ...process.env, MIROIR_NODE_MASTER_KEY: NODE_KEY };
  delete env.MIROIR_MASTER_KEY;
  for (const k of Object.keys(env)) if (k.startsWith('MIROIR_') && !k.endsWith('MASTER_KEY')) delete env[k];
  if (spec.masterKey) env.MIROIR_MASTER_KEY = spec.masterKey;
  Object.assign(env, spec.env);

  const orchestrators: Orchestrator[] = [];
  let seq = 0;
  const launch = (extraEnv?: Record<string, string>): Promise<Orchestrator> => {
    const id = `orch-${seq++}`;
    const script = spec.entry === 'worker' ? [HA_WORKER, configFile] : [MIROIR_BIN, 'serve', '--config', configFile];
    const child = spawn(process.execPath, script, { env: { ...env, ...extraEnv, MIROIR_PEER_DISCOVERY__SELF: id }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 16_384) stderr += d.toString();
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const o: Orchestrator = { id, url: '', child, lines: [], exited };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${id} did not start: ${stderr}`));
      }, 20_000);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${id} exited: ${stderr}`));
      });
      orchestrators.push(o);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        o.lines.push(rec);
        if (rec.message === 'miroir listening' && o.url === '') {
          clearTimeout(timer);
          o.url = rec.url as string;
          resolve(o);
        }
      });
    });
  };
  const add = async (extraEnv?: Record<string, string>) => {
    const o = await launch(extraEnv);
    spreader.targets = orchestrators.filter((x) => x.child.exitCode === null && x.child.signalCode === null).map((x) => x.url);
    return o;
  };
  const spreader = await Spreader.start([]);
  const stop = async () => {
    for (const o of orchestrators) o.child.kill('SIGTERM');
    await Promise.all(orchestrators.map((o) => o.exited));
    await spreader.close();
    await Promise.all([...proxies.values()].map((p) => p.close()));
    await Promise.all(engines.map((e) => e.stop()));
    await dropPrefix(keyPrefix);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < spec.orchestrators; i++) await add();
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url: spreader.url,
    client: new Meilisearch({ host: spreader.url, apiKey: spec.masterKey }),
    spreader,
    orchestrators,
    engines,
    proxies,
    keyPrefix,
    configFile,
    add,
    kill: async (o) => {
      o.child.kill('SIGKILL');
      await o.exited;
    },
    stop,
  };
}

/** Polls one orchestrator until the task is terminal; returns it. */
export async function waitTerminal(url: string, uid: number): Promise<{ status: string; error: unknown }> {
  for (;;) {
    const r = await http(url, 'GET', `/tasks/${uid}`);
    if (r.status !== 200) throw new Error(`GET /tasks/${uid} on ${url}: ${r.status} ${JSON.stringify(r.body)}`);
    if (r.body.status !== 'enqueued' && r.body.status !== 'processing') return r.body;
    await new Promise((res) => setTimeout(res, 25));
  }
}
