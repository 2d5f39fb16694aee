#!/usr/bin/env node
/**
 * `miroir-ctl`: a thin operator client over the admin API (spec S11.2). The admin key comes from
 * `MIROIR_ADMIN_API_KEY`, or from a credentials file (`--credentials`, default
 * `~/.config/miroir/credentials`, one line `admin_key=<key>`), never from a flag.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';

interface Globals {
  apiUrl: string;
  json?: boolean;
  credentials?: string;
}

function adminKey(g: Globals): string | undefined {
  if (process.env.MIROIR_ADMIN_API_KEY) return process.env.MIROIR_ADMIN_API_KEY;
  const file = g.credentials ?? join(homedir(), '.config', 'miroir', 'credentials');
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith('admin_key='));
  return line?.trim().slice('admin_key='.length);
}

async function call(g: Globals, path: string): Promise<unknown> {
  const key = adminKey(g);
  const res = await fetch(new URL(path, g.apiUrl), { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const text = await res.text();
  const body: unknown = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const msg = (body as { message?: string } | null)?.message ?? text;
    throw new Error(`${res.status} ${msg}`);
  }
  return body;
}

function print(g: Globals, value: unknown, human: () => string): void {
  process.stdout.write(`${g.json ? JSON.stringify(value, null, 2) : human()}\n`);
}

interface Topology {
  shards: number;
  replication_factor: number;
  replica_groups: number;
  nodes: { id: string; address: string; status: string; replica_group: number; shard_count: number; error?: string }[];
  degraded_node_count: number;
  fully_covered: boolean;
  rebalance_in_progress: boolean;
}

const program = new Command('miroir-ctl')
  .description('Operate a Miroir cluster through its admin API')
  .option('--api-url <url>', 'orchestrator URL', process.env.MIROIR_URL ?? 'http://127.0.0.1:7700')
  .option('--json', 'machine-readable output')
  .option('--credentials <file>', 'credentials file holding admin_key=<key>');

const globals = () => program.opts<Globals>();

program
  .command('status')
  .description('nodes, shard coverage and rebalance state')
  .action(async () => {
    const g = globals();
    const t = (await call(g, '/_miroir/topology')) as Topology;
    print(g, t, () =>
      [
        `shards ${t.shards}, RF ${t.replication_factor}, groups ${t.replica_groups}`,
        `coverage: ${t.fully_covered ? 'full' : 'DEGRADED'}; degraded nodes: ${t.degraded_node_count}; rebalance: ${t.rebalance_in_progress ? 'running' : 'idle'}`,
        ...t.nodes.map((n) => `  ${n.id.padEnd(12)} group ${n.replica_group}  ${n.status.padEnd(8)} ${String(n.shard_count).padStart(4)} shards  ${n.address}${n.error ? `  (${n.error})` : ''}`),
      ].join('\n'),
    );
  });

program
  .command('shards')
  .description('the shard → owners table')
  .action(async () => {
    const g = globals();
    const s = (await call(g, '/_miroir/shards')) as { shards: { shard: number; groups: Record<string, string[]> }[] };
    print(g, s, () =>
      s.shards.map((r) => `${String(r.shard).padStart(4)}  ${Object.entries(r.groups).map(([gid, ids]) => `g${gid}: ${ids.join(', ')}`).join('  ')}`).join('\n'),
    );
  });

const node = program.command('node').description('nodes');
node
  .command('list')
  .description('list nodes')
  .action(async () => {
    const g = globals();
    const t = (await call(g, '/_miroir/topology')) as Topology;
    print(g, t.nodes, () => t.nodes.map((n) => `${n.id}\t${n.replica_group}\t${n.status}\t${n.address}`).join('\n'));
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`miroir-ctl: ${(e as Error).message}\n`);
  process.exit(1);
});
