/**
 * The chaos scenario of "several orchestrators, no acknowledged write lost": three orchestrator
 * processes on one Redis, three sequential writers (inserts, replacements, partial updates, deletes
 * by id and by filter) sending through a round robin over all of them, two searchers; meanwhile a
 * node is cut off for a while (its fault proxy drops traffic; `write_quorum: one`, so writes are
 * acknowledged without it and queued for it), a node is added, another drained and removed, the
 * settings changed twice, one orchestrator SIGKILLed and a new one started. Then, once every node
 * serves again, every acknowledged write must be on every owner of its shard exactly as last
 * acknowledged, nothing else anywhere, `miroir-ctl verify --deep` clean, anti-entropy 0
 * mismatches. `runChaos` only measures and reports; callers (chaos.test.ts, chaos-run.ts) assert.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEngineProcess } from '../src/demo/engine-process.js';
import { startFleet, type Fleet, type Orchestrator } from './fleet.js';
import {
  checkPlacement,
  Model,
  mulberry32,
  newStats,
  NODE_KEY,
  placementViolations,
  RoundRobin,
  settleTasks,
  sleep,
  writeUntilAcked,
  Writer,
  type AckedOp,
  type Finding,
  type PlacementCheck,
  type WriteStats,
} from './chaos-model.js';

const here = dirname(fileURLToPath(import.meta.url));
const CTL_BIN = join(here, '..', '..', 'bin', 'miroir-ctl.js');
const UID = 'chaos';

export interface ChaosOptions {
  seed: number;
  /** How long the writers and searchers run (the disruptions are spread over it). */
  durationMs: number;
  shards?: number;
  rf?: number;
  writers?: number;
  /** Documents each writer inserts before the load starts. */
  preload?: number;
  /** Progress lines (the runner prints them with `--verbose`). */
  log?: (line: string) => void;
}

export interface ChaosEvent {
  atMs: number;
  what: string;
}

export interface ChaosReport {
  seed: number;
  /** Wall time of the whole run (fleet start to stop). */
  elapsedMs: number;
  loadMs: number;
  writes: WriteStats;
  searches: number;
  searchFailures: Record<string, number>;
  events: ChaosEvent[];
  tasks: { acknowledged: number; failed: { uid: number; status: string; error: unknown }[]; notTerminal: number[] };
  placement: PlacementCheck | undefined;
  /** `miroir-ctl verify --deep` exit code and its output. */
  verify: { exitCode: number; output: string } | undefined;
  antiEntropy: { mismatches: number; shardsScanned: number; shardsSkipped: number; errors: string[] } | undefined;
  /** From the orchestrators' logs: times a node started missing writes, and caught up on them. */
  handoff: { behind: number; caughtUp: number };
  /** Nodes whose settings differ from the committed ones (`GET /_miroir/settings/{uid}`). */
  settingsMismatch: string[];
  /** One line per kind of violation; empty when the run is clean. */
  problems: string[];
  /** The history of the first findings: last acknowledged write of the id, cutovers of its shard. */
  examples: string[];
  /** Orchestrator log lines around the findings (warnings, errors, cutovers). */
  logs: string[];
}

const SETTINGS_0 = { filterableAttributes: ['writer', 'gen', 'tag'], searchableAttributes: ['title', 'body'] };
const SETTINGS_1 = {
  filterableAttributes: ['writer', 'gen', 'tag'],
  searchableAttributes: ['title', 'body', 'tag'],
  sortableAttributes: ['n'],
  rankingRules: ['words', 'typo', 'proximity', 'attribute', 'sort', 'exactness'],
};
const SETTINGS_2 = {
  filterableAttributes: ['writer', 'gen', 'tag'],
  searchableAttributes: ['body', 'title'],
  sortableAttributes: ['n', 'gen'],
  rankingRules: ['words', 'typo', 'proximity', 'attribute', 'exactness', 'sort'],
};

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const rng = mulberry32(opts.seed);
  const log = opts.log ?? (() => {});
  const shards = opts.shards ?? 16;
  const dir = mkdtempSync(join(tmpdir(), 'miroir-chaos-'));
  const f = await startFleet({
    orchestrators: 3,
    nodes: 3,
    rf: opts.rf ?? 2,
    shards,
    proxied: [0, 1, 2],
    config: {
      write_quorum: 'one',
      scatter: { node_timeout_ms: 1000 },
      health: { interval_ms: 300, timeout_ms: 300, unhealthy_threshold: 2, recovery_threshold: 2 },
      peer_discovery: { refresh_interval_s: 1.5 },
      leader_election: { lease_ttl_s: 2, renew_interval_s: 0.5 },
      rebalancer: { throttle_docs_per_sec: 400, batch_size: 50, retry_interval_ms: 200, cleanup_delay_ms: 300 },
      // Count divergence, never repair it: the final pass must find none on its own.
      anti_entropy: { auto_repair: false, duty_cycle: 1 },
    },
  });
  const report: ChaosReport = {
    seed: opts.seed,
    elapsedMs: 0,
    loadMs: 0,
    writes: newStats(),
    searches: 0,
    searchFailures: {},
    events: [],
    tasks: { acknowledged: 0, failed: [], notTerminal: [] },
    placement: undefined,
    verify: undefined,
    antiEntropy: undefined,
    handoff: { behind: 0, caughtUp: 0 },
    settingsMismatch: [],
    problems: [],
    examples: [],
    logs: [],
  };
  try {
    const extra = await startEngineProcess({ dataDir: join(dir, 'node-3'), masterKey: NODE_KEY });
    f.engines.push(extra);
    const client = new RoundRobin(f.orchestrators);
    const model = new Model();
    const settingsTasks: number[] = [];

    // Setup, outside the clock: the index, its settings, and each writer's first documents.
    const created = await client.send('POST', '/indexes', { uid: UID, primaryKey: 'id' });
    const s0 = await client.send('PATCH', `/indexes/${UID}/settings`, SETTINGS_0);
    if (created.status !== 202 || s0.status !== 202) throw new Error(`setup: ${created.status} ${s0.status} ${JSON.stringify(s0.body)}`);
    const writers = Array.from({ length: opts.writers ?? 3 }, (_, n) => new Writer(n, UID, model, mulberry32(opts.seed * 31 + n)));
    const t0 = Date.now();
    for (const w of writers) {
      for (let i = 0; i < (opts.preload ?? 150); i += 50) await writeUntilAcked(client, w, w.insertBatch(50), report.writes, t0);
    }
    const setup = await settleTasks(client, [created.body.taskUid, s0.body.taskUid, ...model.acked.map((a) => a.taskUid)]);
    if (setup.failed.length + setup.pending.length > 0) throw new Error(`setup tasks: ${JSON.stringify(setup)}`);

    const loadStart = Date.now();
    // Times are counted from the start of the load: the preloaded writes happened before it.
    for (const op of model.acked) {
      op.sentMs -= loadStart - t0;
      op.ackMs -= loadStart - t0;
    }
    const at = () => Date.now() - loadStart;
    const event = (what: string) => {
      report.events.push({ atMs: at(), what });
      log(`+${(at() / 1000).toFixed(2)}s ${what}`);
    };
    let stop = false;
    let disrupting = true;

    const writer = async (w: Writer) => {
      while (!stop) {
        const op = await writeUntilAcked(client, w, w.next(), report.writes, loadStart);
        if (op === undefined) return; // abandoned: this writer's model is no longer exact
      }
    };
    const searcher = async (k: number) => {
      const r = mulberry32(opts.seed * 7 + k);
      const words = ['amber', 'cedar', 'ember', 'grove', 'lotus', 'pine', 'river', 'zinc'];
      while (!stop) {
        const body: Record<string, unknown> = { q: words[Math.floor(r() * words.length)], limit: 10 };
        if (r() < 0.4) body.filter = `writer = ${Math.floor(r() * 3)}`;
        try {
          const a = await client.send('POST', `/indexes/${UID}/search`, body);
          if (a.status !== 200) {
            const key = `${a.status} ${a.body?.code ?? ''}`.trim();
            report.searchFailures[key] = (report.searchFailures[key] ?? 0) + 1;
          }
        } catch (e) {
          report.searchFailures[`error ${(e as Error).message}`] = (report.searchFailures[`error ${(e as Error).message}`] ?? 0) + 1;
        }
        report.searches++;
      }
    };

    const D = opts.durationMs;
    const untilMs = async (ms: number) => {
      while (at() < ms) await sleep(Math.min(50, ms - at()));
    };
    const liveOrch = () => client.live();
    const pickOrch = (not?: Orchestrator) => {
      const xs = liveOrch().filter((o) => o !== not);
      return xs[Math.floor(rng() * xs.length)]!;
    };
    const waitIdle = async (what: string, check: (topo: any) => boolean) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const s = await client.send('GET', '/_miroir/rebalance/status');
        const t = await client.send('GET', '/_miroir/topology');
        if (s.status === 200 && s.body.state === 'idle' && t.status === 200 && t.body.rebalance_in_progress === false && check(t.body)) break;
        if (Date.now() > deadline) throw new Error(`${what}: rebalance not done after 120 s: ${JSON.stringify(s.body).slice(0, 1000)}`);
        await sleep(100);
      }
      event(`${what}: rebalance finished`);
    };
    const topoChange = async (method: string, path: string, body: unknown, via: Orchestrator, what: string) => {
      for (let i = 0; ; i++) {
        const a = await client.send(method, path, body, via);
        if (a.status === 202) return event(`${what} via ${via.id} (topology v${a.body.topology_version})`);
        if (i > 100) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
        await sleep(200);
      }
    };
    const settings = async (body: unknown, what: string) => {
      const via = pickOrch();
      const a = await client.send('PATCH', `/indexes/${UID}/settings`, body, via);
      if (a.status !== 202) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
      settingsTasks.push(a.body.taskUid);
      event(`${what} via ${via.id} (task ${a.body.taskUid})`);
    };

    const drained = `node-${Math.floor(rng() * 3)}`;
    const cutOff = Math.floor(rng() * 3);
    const plan = {
      outageAt: D * (0.14 + 0.06 * rng()),
      outageMs: 800 + Math.floor(1700 * rng()),
      addAt: D * (0.06 + 0.06 * rng()),
      settings1At: D * (0.25 + 0.08 * rng()),
      drainAt: D * (0.36 + 0.06 * rng()),
      killAtShare: 0.1 + 0.6 * rng(),
      killRunner: rng() < 0.5,
      restartAfterMs: 300 + Math.floor(1500 * rng()),
      settings2At: D * (0.72 + 0.1 * rng()),
    };
    const disruptions = async () => {
      try {
        await untilMs(plan.addAt);
        await topoChange('POST', '/_miroir/nodes', { id: 'node-3', address: extra.url, replica_group: 0 }, pickOrch(), 'node-3 added');
        await waitIdle('add node-3', (t) => t.nodes.some((n: any) => n.id === 'node-3' && n.state === 'active'));
        await untilMs(plan.outageAt);
        f.proxies.get(cutOff)!.set({ kind: 'blackhole' });
        event(`node-${cutOff} cut off`);
        await sleep(plan.outageMs);
        f.proxies.get(cutOff)!.set({ kind: 'pass' });
        event(`node-${cutOff} reachable again after ${plan.outageMs} ms`);
        await untilMs(plan.settings1At);
        await settings(SETTINGS_1, 'settings change 1');
        await untilMs(plan.drainAt);
        const runner = pickOrch();
        await topoChange('DELETE', `/_miroir/nodes/${drained}`, undefined, runner, `${drained} drained and removed`);
        // Mid-copy: once a seeded share of the documents moved (or when the rebalance is over).
        let progress = 'after the rebalance';
        for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(20)) {
          const s = (await client.send('GET', '/_miroir/rebalance/status', undefined, runner)).body;
          if (s.state === 'idle') break;
          if (s.documents_total > 0 && s.documents_moved >= plan.killAtShare * s.documents_total) {
            progress = `at ${s.documents_moved}/${s.documents_total} documents moved, ${s.moves_done}/${s.moves_total} moves done`;
            break;
          }
        }
        const victim = plan.killRunner ? runner : pickOrch(runner);
        await f.kill(victim);
        event(`${victim.id} SIGKILLed${victim === runner ? ' (it runs the rebalance)' : ''} ${progress}`);
        await sleep(plan.restartAfterMs);
        const restarted = await f.add();
        event(`${restarted.id} started in its place`);
        await waitIdle(`drain ${drained}`, (t) => !t.nodes.some((n: any) => n.id === drained));
        await untilMs(plan.settings2At);
        await settings(SETTINGS_2, 'settings change 2');
      } finally {
        disrupting = false;
      }
    };

    const load = Promise.all([...writers.map(writer), searcher(0), searcher(1)]);
    const chaos = disruptions();
    while (at() < D || disrupting) await sleep(50);
    stop = true;
    await Promise.all([load, chaos]);
    report.loadMs = at();
    event('load stopped');

    // Every acknowledged write, then the settings, terminal and succeeded.
    const acked = model.acked.map((a) => a.taskUid);
    report.tasks.acknowledged = acked.length;
    const settled = await settleTasks(client, [...acked, ...settingsTasks]);
    report.tasks.failed = settled.failed;
    report.tasks.notTerminal = settled.pending;
    event(`tasks settled (${settled.failed.length} failed, ${settled.pending.length} pending)`);

    // Every node serves again (it replayed what it missed) through every orchestrator.
    for (const o of liveOrch()) {
      for (const deadline = Date.now() + 60_000; ; await sleep(100)) {
        const t = await client.send('GET', '/_miroir/topology', undefined, o);
        if (t.status === 200 && (t.body.nodes as { health: string }[]).every((n) => n.health === 'healthy')) break;
        if (Date.now() > deadline) throw new Error(`nodes still not healthy through ${o.id}: ${JSON.stringify(t.body.nodes)}`);
      }
    }
    event('every node serves through every orchestrator');
    const url = liveOrch()[0]!.url;
    report.placement = await checkPlacement(url, UID, model);
    report.verify = await ctlVerify(url);
    report.antiEntropy = await antiEntropy(client);
    const st = await client.send('GET', `/_miroir/settings/${UID}`);
    report.settingsMismatch = (st.body.nodes as { id: string; matches: boolean | null }[]).filter((n) => n.matches !== true).map((n) => n.id);
    event('checked');

    const lines = f.orchestrators.flatMap((o) => o.lines);
    report.handoff.behind = lines.filter((l) => String(l.message).startsWith('node missed writes')).length;
    report.handoff.caughtUp = lines.filter((l) => String(l.message).startsWith('node caught up on missed writes')).length;
    summarize(report, model, f, loadStart);
  } finally {
    await f.stop();
    rmSync(dir, { recursive: true, force: true });
    report.elapsedMs = Date.now() - started;
  }
  return report;
}

/** `miroir-ctl verify --deep` as an operator runs it, against one orchestrator. */
function ctlVerify(url: string): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CTL_BIN, '--api-url', url, 'verify', '--deep', '--verbose'], { env: { ...process.env, HOME: tmpdir() } }, (err, stdout, stderr) => {
      resolve({ exitCode: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** One anti-entropy pass on every live orchestrator (each compares the shards it owns); the sums. */
async function antiEntropy(client: RoundRobin): Promise<NonNullable<ChaosReport['antiEntropy']>> {
  const out = { mismatches: 0, shardsScanned: 0, shardsSkipped: 0, errors: [] as string[] };
  await Promise.all(
    client.live().map(async (o) => {
      const before = (await client.send('GET', '/_miroir/anti-entropy', undefined, o)).body.last?.startedAt ?? null;
      const run = await client.send('POST', '/_miroir/anti-entropy/run', undefined, o);
      if (run.status !== 202) return void out.errors.push(`${o.id}: ${run.status} ${JSON.stringify(run.body)}`);
      for (let i = 0; i < 1200; i++) {
        const s = (await client.send('GET', '/_miroir/anti-entropy', undefined, o)).body;
        if (!s.running && s.last !== null && s.last.startedAt !== before) {
          out.mismatches += s.last.mismatches;
          out.shardsScanned += s.last.shardsScanned;
          out.shardsSkipped += s.last.shardsSkipped;
          out.errors.push(...(s.last.errors as string[]).map((e) => `${o.id}: ${e}`));
          return;
        }
        await sleep(50);
      }
      out.errors.push(`${o.id}: the pass did not finish`);
    }),
  );
  return out;
}

/** Fills `problems`, `examples` and `logs` from the measurements. */
function summarize(r: ChaosReport, model: Model, f: Fleet, loadStart: number): void {
  const p = r.placement!;
  const kinds: [string, Finding[]][] = [
    ['lost', p.lost],
    ['stale', p.stale],
    ['resurrected', p.resurrected],
    ['misplaced', p.misplaced],
    ['unknown', p.unknown],
  ];
  for (const [kind, xs] of kinds) if (xs.length > 0) r.problems.push(`${xs.length} ${kind} (${[...new Set(xs.map((x) => x.id))].length} ids), e.g. ${xs.slice(0, 3).map((x) => `${x.id} on ${x.node}`).join(', ')}`);
  if (p.shardTableDiffers) r.problems.push('the shard table served differs from the placement computed from the topology');
  if (r.tasks.failed.length > 0) r.problems.push(`${r.tasks.failed.length} acknowledged tasks failed, e.g. ${JSON.stringify(r.tasks.failed.slice(0, 2))}`);
  if (r.tasks.notTerminal.length > 0) r.problems.push(`${r.tasks.notTerminal.length} acknowledged tasks not terminal, e.g. ${r.tasks.notTerminal.slice(0, 5).join(', ')}`);
  if (r.writes.abandoned.length > 0) r.problems.push(`${r.writes.abandoned.length} writes never acknowledged: ${r.writes.abandoned.slice(0, 3).join('; ')}`);
  if (Object.keys(r.searchFailures).length > 0) r.problems.push(`searches failed: ${JSON.stringify(r.searchFailures)}`);
  if (r.verify!.exitCode !== 0) r.problems.push(`miroir-ctl verify --deep exit ${r.verify!.exitCode}: ${r.verify!.output.split('\n').slice(0, 4).join(' | ')}`);
  const ae = r.antiEntropy!;
  if (ae.mismatches > 0 || ae.errors.length > 0) r.problems.push(`anti-entropy: ${ae.mismatches} mismatches, ${ae.errors.length} errors ${ae.errors.slice(0, 2).join('; ')}`);
  if (ae.shardsScanned === 0) r.problems.push('anti-entropy compared no shard');
  if (r.settingsMismatch.length > 0) r.problems.push(`settings differ on ${r.settingsMismatch.join(', ')}`);

  // The history of the first findings, against the cutovers in the logs.
  const cutovers = f.orchestrators.flatMap((o) =>
    o.lines.filter((l) => l.message === 'shard cut over').map((l) => ({ orch: o.id, move: String(l.move), ms: Date.parse(String(l.timestamp)), to: l.to })),
  );
  const sec = (ms: number) => `${ms < 0 ? '' : '+'}${(ms / 1000).toFixed(2)}s`;
  const rel = (ms: number) => sec(ms - loadStart);
  for (const o of f.orchestrators) {
    const seen = o.lines.filter((l) => /topology changed/.test(String(l.message))).map((l) => `v${String(l.version)} at ${rel(Date.parse(String(l.timestamp)))}`);
    if (seen.length > 0) r.examples.push(`${o.id} loaded topology ${seen.join(', ')}`);
  }
  const opText = (op: AckedOp) => `${op.kind} via ${op.orch} (writer ${op.writer} op ${op.seq}, task ${op.taskUid}) sent ${sec(op.sentMs)}, 202 at ${sec(op.ackMs)}${op.attempts > 1 ? ` after ${op.attempts} attempts` : ''}`;
  for (const [kind, xs] of kinds) {
    for (const x of xs.slice(0, 4)) {
      const ops = model.history.get(x.id) ?? [];
      const cut = cutovers.filter((c) => c.move.endsWith(`/${x.shard}`)).map((c) => `cut over to ${JSON.stringify(c.to)} by ${c.orch} at ${rel(c.ms)}`);
      r.examples.push(
        `${kind} ${x.id} on ${x.node} (shard ${x.shard}): ${x.detail}; acknowledged: ${ops.slice(-4).map(opText).join(' < ') || 'none'}; ${cut.join('; ') || 'shard not moved'}`,
      );
    }
  }
  const byTask = new Map(model.acked.map((op) => [op.taskUid, op]));
  for (const t of r.tasks.failed.slice(0, 4)) {
    const op = byTask.get(t.uid);
    r.examples.push(`task ${t.uid} ${t.status}: ${op ? opText(op) : 'a settings change'} (ids ${op?.ids.join(',') || op?.filter || '-'}): ${JSON.stringify(t.error)}`);
  }
  if (r.problems.length > 0) {
    for (const o of f.orchestrators) {
      for (const l of o.lines) {
        const interesting = l.level === 'warn' || l.level === 'error' || /cut over|topology changed|rebalance (planned|completed)|resuming/.test(String(l.message));
        if (interesting && r.logs.length < 60) r.logs.push(`${o.id} ${rel(Date.parse(String(l.timestamp)))} ${l.level} ${l.message} ${JSON.stringify({ ...l, level: undefined, message: undefined, timestamp: undefined, service: undefined }).slice(0, 240)}`);
      }
    }
  }
}

/** One line of counts for a report (the runner prints it per seed). */
export function reportLine(r: ChaosReport): string {
  const a = r.writes.acked;
  const p = r.placement;
  const retries = Object.entries(r.writes.retries).map(([k, v]) => `${k}:${v}`).join(' ') || '0';
  return [
    `seed ${r.seed}: ${r.problems.length === 0 ? 'CLEAN' : 'VIOLATION'} in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `acked ins ${a.insert} repl ${a.replace} upd ${a.update} del ${a.deleteIds} delf ${a.deleteFilter}`,
    `retries ${retries}`,
    `searches ${r.searches} (failed ${Object.values(r.searchFailures).reduce((x, y) => x + y, 0)})`,
    p ? `docs ${p.documentsExpected}; lost ${p.lost.length} stale ${p.stale.length} resurrected ${p.resurrected.length} misplaced ${p.misplaced.length} unknown ${p.unknown.length}` : 'no placement check',
    `nodes behind ${r.handoff.behind}, caught up ${r.handoff.caughtUp}`,
    `tasks failed ${r.tasks.failed.length} pending ${r.tasks.notTerminal.length}`,
    `verify ${r.verify?.exitCode ?? '-'}`,
    `anti-entropy ${r.antiEntropy ? `${r.antiEntropy.mismatches} mismatches/${r.antiEntropy.shardsScanned} shards` : '-'}`,
  ].join(' | ');
}

export { placementViolations };
