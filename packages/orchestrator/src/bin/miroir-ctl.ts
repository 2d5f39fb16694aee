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
import type { RebalanceStatus } from '../work/rebalancer.js';

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

async function call(g: Globals, path: string, method = 'GET', payload?: unknown): Promise<unknown> {
  const key = adminKey(g);
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, g.apiUrl), { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) });
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
  version: number;
  shards: number;
  replication_factor: number;
  replica_groups: number;
  nodes: { id: string; address: string; status: string; state: string; replica_group: number; shard_count: number; error?: string }[];
  groups: { id: number; state: string }[];
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
        `topology v${t.version}: shards ${t.shards}, RF ${t.replication_factor}, groups ${t.groups.map((gr) => `${gr.id} (${gr.state})`).join(', ')}`,
        `coverage: ${t.fully_covered ? 'full' : 'DEGRADED'}; degraded nodes: ${t.degraded_node_count}; rebalance: ${t.rebalance_in_progress ? 'in progress' : 'idle'}`,
        ...t.nodes.map(
          (n) =>
            `  ${n.id.padEnd(12)} group ${n.replica_group}  ${n.state.padEnd(9)} ${n.status.padEnd(8)} ${String(n.shard_count).padStart(4)} shards  ${n.address}${n.error ? `  (${n.error})` : ''}`,
        ),
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
    print(g, t.nodes, () => t.nodes.map((n) => `${n.id}\t${n.replica_group}\t${n.state}\t${n.status}\t${n.address}`).join('\n'));
  });

interface Change {
  topology_version: number;
  rebalance: RebalanceStatus;
}

function rebalanceText(r: RebalanceStatus, verbose = false): string {
  const head =
    r.state === 'idle'
      ? `rebalance: idle${r.last ? ` (last: ${r.last.documents_moved} documents in ${r.last.duration_seconds.toFixed(1)} s, topology v${r.last.topology_version})` : ''}`
      : `rebalance: ${r.state}, phase ${r.phase}; moves ${r.moves_done}/${r.moves_total} done, ${r.moves_paused} paused; documents ${r.documents_moved}/${r.documents_total}` +
        `${r.rate_docs_per_sec === null ? '' : `; ${Math.round(r.rate_docs_per_sec)} docs/s`}${r.eta_seconds === null ? '' : `; ETA ${Math.ceil(r.eta_seconds)} s`}`;
  if (!verbose) return head;
  return [
    head,
    ...r.moves.map(
      (m) =>
        `  S=${m.shards} group ${m.group} shard ${String(m.shard).padStart(4)}  ${m.state.padEnd(8)} ${m.from.join(',')} → ${m.to.join(',')}  ${m.documents_copied}/${m.documents_total}${m.error ? `  (${m.error})` : ''}`,
    ),
  ].join('\n');
}

function changed(g: Globals, what: string, c: Change): void {
  print(g, c, () => `${what}; topology v${c.topology_version}\n${rebalanceText(c.rebalance)}`);
}

node
  .command('add')
  .description('register a node (joining); a rebalance moves its shards to it')
  .requiredOption('--id <id>', 'node id')
  .requiredOption('--address <url>', 'node URL')
  .option('--replica-group <n>', 'replica group', '0')
  .action(async (o: { id: string; address: string; replicaGroup: string }) => {
    const g = globals();
    const c = (await call(g, '/_miroir/nodes', 'POST', { id: o.id, address: o.address, replica_group: Number(o.replicaGroup) })) as Change;
    changed(g, `node ${o.id} added`, c);
  });

node
  .command('drain <id>')
  .description('move a node\'s shards to the other nodes of its group (asynchronous)')
  .action(async (id: string) => {
    const g = globals();
    changed(g, `node ${id} draining`, (await call(g, `/_miroir/nodes/${encodeURIComponent(id)}/drain`, 'POST')) as Change);
  });

node
  .command('remove <id>')
  .description('drain a node, then drop it from the topology')
  .option('--force', 'drop it now without moving its shards (its copies are lost)')
  .option('--yes', 'confirm --force')
  .action(async (id: string, o: { force?: boolean; yes?: boolean }) => {
    const g = globals();
    if (o.force && !o.yes) throw new Error('--force loses the node\'s copies of its shards; add --yes to confirm');
    changed(g, `node ${id} ${o.force ? 'removed' : 'draining, then removed'}`, (await call(g, `/_miroir/nodes/${encodeURIComponent(id)}${o.force ? '?force=true' : ''}`, 'DELETE')) as Change);
  });

const group = program.command('group').description('replica groups');
group
  .command('add')
  .description('add a replica group (initializing until every shard is synced)')
  .option('--id <n>', 'group id (default: the next free one)')
  .requiredOption('--node <id=url...>', 'a node of the new group, as id=url (repeat)')
  .action(async (o: { id?: string; node: string[] }) => {
    const g = globals();
    const nodes = o.node.map((spec) => {
      const eq = spec.indexOf('=');
      if (eq <= 0) throw new Error(`--node ${spec}: expected id=url`);
      return { id: spec.slice(0, eq), address: spec.slice(eq + 1) };
    });
    changed(g, 'group added', (await call(g, '/_miroir/groups', 'POST', { ...(o.id === undefined ? {} : { id: Number(o.id) }), nodes })) as Change);
  });
group
  .command('remove <id>')
  .description('stop a group\'s queries now and drop it with its nodes')
  .option('--yes', 'confirm')
  .action(async (id: string, o: { yes?: boolean }) => {
    const g = globals();
    if (!o.yes) throw new Error(`removing group ${id} drops its nodes from the topology; add --yes to confirm`);
    changed(g, `group ${id} draining`, (await call(g, `/_miroir/groups/${encodeURIComponent(id)}`, 'DELETE')) as Change);
  });

const rebalance = program
  .command('rebalance')
  .description('start (or resume) the rebalance of pending topology changes')
  .action(async () => {
    const g = globals();
    const r = (await call(g, '/_miroir/rebalance', 'POST')) as RebalanceStatus;
    print(g, r, () => rebalanceText(r));
  });
rebalance
  .command('status')
  .description('rebalance progress: moves, documents, rate, ETA')
  .option('--verbose', 'every shard move')
  .option('--watch', 'refresh every 2 s')
  .action(async (o: { verbose?: boolean; watch?: boolean }) => {
    const g = globals();
    for (;;) {
      const r = (await call(g, '/_miroir/rebalance/status')) as RebalanceStatus;
      print(g, r, () => rebalanceText(r, o.verbose));
      if (!o.watch || r.state === 'idle') return;
      await new Promise((res) => setTimeout(res, 2000));
    }
  });

program
  .command('verify')
  .description('read-only: every shard has RF complete replicas in every group; exit code 1 on drift')
  .option('--index <uid>', 'one index only')
  .option('--deep', 'compare document fingerprints, not only counts')
  .option('--verbose', 'list every problem')
  .action(async (o: { index?: string; deep?: boolean; verbose?: boolean }) => {
    const g = globals();
    const q = new URLSearchParams();
    if (o.index) q.set('index', o.index);
    if (o.deep) q.set('deep', 'true');
    const r = (await call(g, `/_miroir/verify?${q}`)) as { ok: boolean; indexes: number; shards_checked: number; rebalance_in_progress: boolean; problems: string[] };
    print(g, r, () =>
      [
        `${r.ok ? 'OK' : 'DRIFT'}: ${r.indexes} indexes, ${r.shards_checked} shards checked${r.rebalance_in_progress ? ' (a rebalance is in progress)' : ''}`,
        ...(o.verbose || r.problems.length <= 20 ? r.problems : [...r.problems.slice(0, 20), `… ${r.problems.length - 20} more (--verbose)`]).map((p) => `  ${p}`),
      ].join('\n'),
    );
    if (!r.ok) process.exitCode = 1;
  });

interface AliasOut {
  name: string;
  kind: 'single' | 'multi';
  target?: string;
  targets?: string[];
  version: number;
  createdAt: string;
  history?: { version: number; at: string; from: string[]; to: string[] }[];
}

const aliasLine = (a: AliasOut) => `${a.name} -> ${a.target ?? (a.targets ?? []).join(', ')} (${a.kind}, version ${a.version})`;
const aliasTarget = (targets: string[]) => (targets.length === 1 ? { target: targets[0] } : { targets });

const alias = program.command('alias').description('index aliases (a name resolving to one index, or to several for searches)');
alias
  .command('list')
  .description('every alias and what it points at')
  .action(async () => {
    const g = globals();
    const r = (await call(g, '/_miroir/aliases')) as { results: AliasOut[] };
    print(g, r, () => (r.results.length === 0 ? 'no alias' : r.results.map(aliasLine).join('\n')));
  });
alias
  .command('get <name>')
  .description('an alias with its history')
  .action(async (name: string) => {
    const g = globals();
    const a = (await call(g, `/_miroir/aliases/${encodeURIComponent(name)}`)) as AliasOut;
    print(g, a, () => [aliasLine(a), ...(a.history ?? []).map((h) => `  v${h.version} ${h.at}: ${h.from.join(', ') || '-'} -> ${h.to.join(', ')}`)].join('\n'));
  });
alias
  .command('create <name> <index...>')
  .description('create an alias of one index (or of several: searches only)')
  .action(async (name: string, indexes: string[]) => {
    const g = globals();
    const a = (await call(g, '/_miroir/aliases', 'POST', { name, ...aliasTarget(indexes) })) as AliasOut;
    print(g, a, () => `created ${aliasLine(a)}`);
  });
alias
  .command('flip <name> <index...>')
  .description('point an alias at other indexes (every orchestrator follows before this returns)')
  .action(async (name: string, indexes: string[]) => {
    const g = globals();
    const a = (await call(g, `/_miroir/aliases/${encodeURIComponent(name)}`, 'PUT', aliasTarget(indexes))) as AliasOut;
    print(g, a, () => `flipped ${aliasLine(a)}`);
  });
alias
  .command('delete <name>')
  .description('delete an alias (its indexes stay)')
  .option('--yes', 'confirm')
  .action(async (name: string, o: { yes?: boolean }) => {
    const g = globals();
    if (!o.yes) throw new Error(`clients naming ${name} get index_not_found once it is deleted; add --yes to confirm`);
    await call(g, `/_miroir/aliases/${encodeURIComponent(name)}`, 'DELETE');
    print(g, { deleted: name }, () => `deleted alias ${name}`);
  });

interface ExplainOut {
  resolved_uid: string;
  plan: {
    alias_resolution: { from: string; to: string; version: number } | null;
    narrowed: boolean;
    narrowing_reason: string;
    target_shards: number[];
    chosen_group: { id: number; reason: string };
    target_nodes: Record<string, string>;
    hedging_armed: boolean;
    hedge_trigger_ms: number | null;
    estimated_p95_ms: number | null;
    settings_version: number;
    broadcast_pending: boolean;
  };
  warnings: { code: string; message: string }[];
  result?: { hits: unknown[]; estimatedTotalHits?: number; totalHits?: number; processingTimeMs: number };
}

program
  .command('explain')
  .description('how a search would be routed (planner, group, replicas, hedging), without running it')
  .requiredOption('--index <uid>', 'index or alias')
  .option('--q <text>', 'query text')
  .option('--filter <filter>', 'filter expression')
  .option('--execute', 'also run the search and show its hit count')
  .action(async (o: { index: string; q?: string; filter?: string; execute?: boolean }) => {
    const g = globals();
    const body: Record<string, unknown> = {};
    if (o.q !== undefined) body.q = o.q;
    if (o.filter !== undefined) body.filter = o.filter;
    const path = `/indexes/${encodeURIComponent(o.index)}/explain${o.execute ? '?execute=true' : ''}`;
    const e = (await call(g, path, 'POST', body)) as ExplainOut;
    print(g, e, () => {
      const p = e.plan;
      const nodes = new Map<string, number[]>();
      for (const [shard, node] of Object.entries(p.target_nodes)) nodes.set(node, [...(nodes.get(node) ?? []), Number(shard)]);
      const lines = [
        `index: ${e.resolved_uid}${p.alias_resolution ? ` (alias ${p.alias_resolution.from}, version ${p.alias_resolution.version})` : ''}`,
        `shards: ${p.narrowed ? `${p.target_shards.join(', ')} (narrowed: ${p.narrowing_reason})` : `all ${p.target_shards.length} (${p.narrowing_reason})`}`,
        `group: ${p.chosen_group.id} (${p.chosen_group.reason})`,
        ...[...nodes].map(([node, shards]) => `  ${node}: ${shards.length} shard(s)`),
        `hedging: ${p.hedging_armed ? `after ${p.hedge_trigger_ms} ms` : 'off'}; estimated p95 ${p.estimated_p95_ms ?? '-'} ms`,
        `settings version: ${p.settings_version}${p.broadcast_pending ? ' (a broadcast is in flight)' : ''}`,
        ...e.warnings.map((w) => `warning ${w.code}: ${w.message}`),
      ];
      if (e.result) lines.push(`result: ${e.result.hits.length} hit(s) of ${e.result.estimatedTotalHits ?? e.result.totalHits ?? '?'} in ${e.result.processingTimeMs} ms`);
      return lines.join('\n');
    });
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`miroir-ctl: ${(e as Error).message}\n`);
  process.exit(1);
});
