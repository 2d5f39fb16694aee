/**
 * Helpers for the observability tests: a Prometheus text parser and a cluster started with a
 * captured log stream and optional span exporter (the shared harness keeps logs silent).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { loadConfig, type Config } from '../src/config.js';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { startMiroir, type Miroir } from '../src/main.js';
import { createLogger } from '../src/obs/logging.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** family name → TYPE */
  types: Map<string, string>;
  samples: Sample[];
}

/** Parses the Prometheus text format (the subset prom-client writes: no timestamps). */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { types, samples };
}

/** The value of the one sample `name` whose labels include `labels`; throws when there is none or several. */
export function value(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]!.value;
}

/** Sum of the samples `name` whose labels include `labels` (0 when none). */
export function sum(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  return e.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

export interface ObservedCluster {
  miroir: Miroir;
  engines: EngineProcess[];
  config: Readonly<Config>;
  /** Every log line written so far, parsed. */
  logs(): Record<string, unknown>[];
  /** The raw log text written so far. */
  logText(): string;
  stop(): Promise<void>;
}

/**
 * Engines on loopback plus an orchestrator whose logs go to memory. `addresses` may rewrite each
 * engine URL the orchestrator is given (e.g. through a recording proxy).
 */
export async function startObservedCluster(opts: {
  nodes: number;
  masterKey?: string;
  adminKey?: string;
  config?: Record<string, unknown>;
  spanExporter?: SpanExporter;
  addresses?: (engineUrls: string[]) => Promise<string[]> | string[];
}): Promise<ObservedCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-obs-'));
  const nodeKey = 'node-master-key-for-obs-tests';
  const engines = await Promise.all(
    Array.from({ length: opts.nodes }, (_, i) => startEngineProcess({ dataDir: join(dir, `node-${i}`), masterKey: nodeKey })),
  );
  const urls = opts.addresses ? await opts.addresses(engines.map((e) => e.url)) : engines.map((e) => e.url);
  const env: NodeJS.ProcessEnv = { MIROIR_NODE_MASTER_KEY: nodeKey };
  if (opts.masterKey) env.MIROIR_MASTER_KEY = opts.masterKey;
  if (opts.adminKey) env.MIROIR_ADMIN_API_KEY = opts.adminKey;
  const config = loadConfig({
    env,
    overrides: {
      shards: 8,
      replication_factor: 1,
      nodes: urls.map((address, i) => ({ id: `node-${i}`, address })),
      task_store: { backend: 'sqlite', path: join(dir, 'miroir-tasks.db') },
      server: { port: 0, bind: '127.0.0.1' },
      metrics: { port: 0, bind: '127.0.0.1' },
      task_registry: { poll_interval_ms: 50 },
      health: { interval_ms: 500, timeout_ms: 500 },
      // Searches must reach the nodes (degraded answers, node counters): see test/harness.ts.
      result_cache: { enabled: false },
      ...opts.config,
    },
  });
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  const miroir = await startMiroir(config, { logger: createLogger(config.log.level, sink), spanExporter: opts.spanExporter });
  return {
    miroir,
    engines,
    config,
    logText: () => text,
    logs: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async () => {
      await miroir.close();
      await Promise.all(engines.map((e) => e.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
