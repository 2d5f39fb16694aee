/**
 * `miroir demo`: engine nodes as child processes plus an orchestrator in this process, data under
 * one folder, everything stopped on Ctrl-C / SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { startMiroir, type Miroir } from '../main.js';
import { startEngineProcess, type EngineProcess } from './engine-process.js';

export interface DemoOptions {
  nodes: number;
  shards: number;
  rf: number;
  groups: number;
  port: number;
  dataDir: string;
  host: string;
}

export interface Demo {
  miroir: Miroir;
  engines: EngineProcess[];
  stop(): Promise<void>;
}

export async function startDemo(opts: DemoOptions, env: NodeJS.ProcessEnv = process.env): Promise<Demo> {
  if (opts.nodes < opts.groups) throw new Error(`--nodes (${opts.nodes}) must be at least --groups (${opts.groups})`);
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });

  // The layout decides where every document lives: refuse to reopen data written under another one.
  const layoutFile = join(dataDir, 'demo-layout.json');
  const layout = { nodes: opts.nodes, shards: opts.shards, rf: opts.rf, groups: opts.groups };
  if (existsSync(layoutFile)) {
    const before = JSON.parse(readFileSync(layoutFile, 'utf8')) as typeof layout;
    if (JSON.stringify(before) !== JSON.stringify(layout)) {
      throw new Error(
        `${dataDir} holds a demo with layout ${JSON.stringify(before)}; start it with the same flags or remove the folder`,
      );
    }
  } else {
    writeFileSync(layoutFile, JSON.stringify(layout));
  }
  const keyFile = join(dataDir, 'node-master-key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(24).toString('hex'), { mode: 0o600 });
  const nodeKey = readFileSync(keyFile, 'utf8').trim();

  const perGroup = Math.ceil(opts.nodes / opts.groups);
  const engines: EngineProcess[] = [];
  const stopEngines = () => Promise.all(engines.map((e) => e.stop()));
  try {
    for (let i = 0; i < opts.nodes; i++) {
      engines.push(await startEngineProcess({ dataDir: join(dataDir, `node-${i}`), masterKey: nodeKey, host: '127.0.0.1' }));
    }
    const config = loadConfig({
      env: { ...env, MIROIR_NODE_MASTER_KEY: nodeKey },
      overrides: {
        shards: opts.shards,
        replication_factor: opts.rf,
        replica_groups: opts.groups,
        nodes: engines.map((e, i) => ({ id: `node-${i}`, address: e.url, replica_group: Math.min(opts.groups - 1, Math.floor(i / perGroup)) })),
        task_store: { backend: 'sqlite', path: join(dataDir, 'miroir-tasks.db') },
        server: { port: opts.port, bind: opts.host },
      },
    });
    const miroir = await startMiroir(config);
    return {
      miroir,
      engines,
      stop: async () => {
        await miroir.close();
        await stopEngines();
      },
    };
  } catch (e) {
    await stopEngines();
    throw e;
  }
}
