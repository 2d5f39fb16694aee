/**
 * Background work across 3 orchestrator processes (issue acceptance; spec S14.5), each running the
 * probe of ha-worker.ts, sharing one Redis:
 *  - Mode A: each shard's periodic job runs on exactly one process per cycle, and the three
 *    processes split the shards; after a SIGKILL the survivors split them, again exactly once;
 *  - Mode B: one process leads `settings_broadcast:probe`; after its SIGKILL another leads, with a
 *    larger fencing token;
 *  - Mode C: a job whose claimant is SIGKILLed mid-job is re-claimed after the claim expires and
 *    resumes from its saved cursor.
 * Delays are reported as diagnostics, not asserted (speed belongs to benchmarks).
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFleet, type Fleet, type Orchestrator } from './fleet.js';
import { openRedis, redisSkip } from './redis-kit.js';

const skip = await redisSkip();
const SHARDS = 24;
const ITEMS = Array.from({ length: SHARDS }, (_, s) => `shard:probe:${s}`);
const DISCOVERY_S = 1.5;

type Ev = { probe: string; self: string; at: number; item?: string; cycle?: number; peers?: number; token?: number; job?: number; i?: number; from?: number };
const events = (o: Orchestrator) => o.lines.filter((l) => typeof l.probe === 'string') as unknown as Ev[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`gave up waiting: ${what}`);
    await sleep(50);
  }
}

/**
 * The items each process ran in each of its complete cycles that started after `since` and in which
 * it saw `peers` live peers; asserts a process runs the same items every such cycle, and returns them.
 */
function ownedSince(procs: Orchestrator[], since: number, peers: number): Map<string, Set<string>> {
  const owned = new Map<string, Set<string>>();
  for (const o of procs) {
    const byCycle = new Map<number, Ev[]>();
    for (const e of events(o)) if (e.probe === 'shard' && e.at >= since) byCycle.set(e.cycle!, [...(byCycle.get(e.cycle!) ?? []), e]);
    const cycles = [...byCycle.keys()].sort((a, b) => a - b).slice(1, -1); // whole cycles only
    let set: Set<string> | undefined;
    for (const c of cycles) {
      const evs = byCycle.get(c)!;
      if (evs.some((e) => e.peers !== peers)) continue;
      const items = evs.map((e) => e.item!);
      assert.equal(new Set(items).size, items.length, `${o.id} runs an item once per cycle`);
      if (set === undefined) set = new Set(items);
      else assert.deepEqual([...items].sort(), [...set].sort(), `${o.id} runs the same shards every cycle`);
    }
    assert.ok(set !== undefined, `${o.id} completed cycles with ${peers} peers`);
    owned.set(o.id, set);
  }
  return owned;
}

/** Asserts the sets partition ITEMS: every shard run, by exactly one process. */
function assertPartition(owned: Map<string, Set<string>>): void {
  const all = [...owned.values()].flatMap((s) => [...s]);
  assert.deepEqual([...all].sort(), [...ITEMS].sort(), 'every shard runs on exactly one process');
  for (const [id, s] of owned) assert.ok(s.size > 0, `${id} owns some shards`);
}

describe('background work over 3 orchestrator processes', { skip }, () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet({
      orchestrators: 3,
      nodes: 1,
      entry: 'worker',
      env: { HA_SHARDS: String(SHARDS), HA_CYCLE_MS: '200', HA_STEP_MS: '100' },
      config: {
        peer_discovery: { refresh_interval_s: DISCOVERY_S },
        leader_election: { lease_ttl_s: 1.5, renew_interval_s: 0.5 },
        jobs: { claim_ttl_s: 1.5, heartbeat_interval_s: 0.3, poll_interval_ms: 100 },
      },
    });
  });
  after(async () => f?.stop());

  test('Mode A and B: shards split exactly once; a killed leader and owner are replaced', async (t) => {
    const [a, b, c] = f.orchestrators as [Orchestrator, Orchestrator, Orchestrator];
    // Everyone sees three peers, then a few cycles go by.
    const stable = await until('all see 3 peers', () => {
      const firsts = [a, b, c].map((o) => events(o).find((e) => e.probe === 'shard' && e.peers === 3)?.at);
      return firsts.every((x) => x !== undefined) ? Math.max(...(firsts as number[])) : undefined;
    });
    await sleep(1500);
    const before3 = ownedSince([a, b, c], stable, 3);
    assertPartition(before3);

    const leads = () => f.orchestrators.flatMap((o) => events(o).filter((e) => e.probe === 'lead'));
    assert.equal(leads().length, 1, 'one process leads the scope');
    const leaderEv = leads()[0]!;
    const leader = f.orchestrators.find((o) => o.id === leaderEv.self)!;

    const killedAt = Date.now();
    await f.kill(leader);
    const survivors = f.orchestrators.filter((o) => o !== leader);
    const next = await until('another process leads', () => leads().find((e) => e.self !== leader.id));
    assert.ok(next.token! > leaderEv.token!, 'the new leader holds a larger fencing token');
    t.diagnostic(`leader replaced after ${next.at - killedAt} ms (TTL 1500 + renew 500)`);

    const reassigned = await until('survivors see 2 peers', () => {
      const firsts = survivors.map((o) => events(o).find((e) => e.probe === 'shard' && e.peers === 2 && e.at > killedAt)?.at);
      return firsts.every((x) => x !== undefined) ? Math.max(...(firsts as number[])) : undefined;
    });
    t.diagnostic(`shards reassigned after ${reassigned - killedAt} ms (discovery interval ${DISCOVERY_S * 1000} ms)`);
    await sleep(1500);
    const after2 = ownedSince(survivors, reassigned, 2);
    assertPartition(after2);
    for (const o of survivors) {
      for (const item of before3.get(o.id)!) assert.ok(after2.get(o.id)!.has(item), `${o.id} keeps its shards (rendezvous moves only the dead peer's)`);
    }
  });

  test('Mode C: a job whose claimant is killed is re-claimed after expiry and resumes from its cursor', async (t) => {
    const store = await openRedis(f.keyPrefix);
    try {
      const { id } = await store.enqueueJob({ type: 'probe_job', params: { steps: 30 } });
      const live = f.orchestrators.filter((o) => o.child.exitCode === null && o.child.signalCode === null);
      const steps = (o: Orchestrator) => events(o).filter((e) => e.probe === 'step' && e.job === id);
      const claimant = await until('a process works on the job', () => live.find((o) => steps(o).length >= 6));
      const killedAt = Date.now();
      await f.kill(claimant);
      const saved = (await store.getJob(id))!.progress as { cursor: number };
      const done = steps(claimant).map((e) => e.i!);
      assert.ok(saved.cursor >= 5 && saved.cursor <= Math.max(...done) + 1, `saved cursor ${saved.cursor} after steps ${done}`);
      const others = live.filter((o) => o !== claimant);
      const resumed = await until('another process resumes the job', () =>
        others.flatMap((o) => events(o).filter((e) => e.probe === 'job_start' && e.job === id))[0],
      );
      t.diagnostic(`job re-claimed after ${resumed.at - killedAt} ms (claim TTL 1500)`);
      assert.equal(resumed.from, saved.cursor, 'the new claimant starts at the saved cursor');
      for (;;) {
        const j = (await store.getJob(id))!;
        if (j.state === 'completed') {
          assert.equal(j.claimedBy, resumed.self);
          assert.deepEqual(j.progress, { cursor: 30 });
          break;
        }
        assert.equal(j.state, 'in_progress');
        await sleep(100);
      }
      const after = others.flatMap((o) => steps(o).map((e) => e.i!));
      assert.deepEqual(after, Array.from({ length: 30 - saved.cursor }, (_, k) => saved.cursor + k), 'the remaining steps run once, in order');
    } finally {
      await store.close();
    }
  });
});
