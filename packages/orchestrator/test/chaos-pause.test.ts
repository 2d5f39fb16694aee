/**
 * Issue 16 acceptance: an orchestrator paused (SIGSTOP) across a cutover and resumed afterwards
 * cannot get a write accepted on the old owner only. Writers stream writes to orchestrator X, all
 * of documents in shards that a new node takes over; X is stopped with writes in flight and more
 * are sent to it while it sleeps; through orchestrator Y a node is added and its rebalance runs to
 * the end (cutover and cleanup of the old owners); X is resumed and answers what it held. Every
 * write X answers 202 for must be on the new owners (re-planned); a write it refuses must be
 * refused with a retryable status, and is then sent to Y until accepted.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngineProcess } from '../src/demo/engine-process.js';
import { loadHasher } from '../src/core/hash.js';
import { assign } from '../src/core/placement.js';
import { startFleet, type Fleet, type Orchestrator } from './fleet.js';
import { checkPlacement, Model, mulberry32, newStats, NODE_KEY, RoundRobin, settleTasks, sleep, writeUntilAcked, Writer, type Answer } from './chaos-model.js';
import { redisSkip } from './redis-kit.js';

const skip = await redisSkip();
const UID = 'paused';
const SHARDS = 8;
const RF = 2;
const WRITERS = 4;
const LATE = 6;

let f: Fleet;
const dir = mkdtempSync(join(tmpdir(), 'miroir-chaos-pause-'));
before(async () => {
  if (skip) return;
  f = await startFleet({
    orchestrators: 1,
    nodes: 3,
    rf: RF,
    shards: SHARDS,
    config: {
      peer_discovery: { refresh_interval_s: 1.5 },
      leader_election: { lease_ttl_s: 2, renew_interval_s: 0.5 },
      rebalancer: { retry_interval_ms: 100, cleanup_delay_ms: 100 },
      anti_entropy: { auto_repair: false, duty_cycle: 1 },
    },
  });
  // X: its follower and its routing registration renew only every 4 s, so when it resumes it may
  // still plan by the old topology: the write path itself has to notice (the routing fence's
  // confirmation), not the follower's timing. Its registration lives 5 s: the barriers of Y's
  // rebalance wait that long for the paused X, then go on without it.
  await f.add({ MIROIR_HEALTH__INTERVAL_MS: '30000', MIROIR_LEADER_ELECTION__RENEW_INTERVAL_S: '4', MIROIR_LEADER_ELECTION__LEASE_TTL_S: '5' });
  f.engines.push(await startEngineProcess({ dataDir: join(dir, 'node-3'), masterKey: NODE_KEY }));
});
after(async () => {
  for (const o of f?.orchestrators ?? []) o.child.kill('SIGCONT');
  for (const e of f?.engines ?? []) e.child.kill('SIGCONT');
  await f?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a write answered by an orchestrator paused across a cutover is on the new owners', { skip }, async (t) => {
  const [y, x] = f.orchestrators as [Orchestrator, Orchestrator];
  const extra = f.engines[3]!;
  const viaY = new RoundRobin(f.orchestrators, (o) => o !== x);
  const model = new Model();
  const stats = newStats();
  const t0 = Date.now();

  const created = await viaY.send('POST', '/indexes', { uid: UID, primaryKey: 'id' });
  const settings = await viaY.send('PATCH', `/indexes/${UID}/settings`, { filterableAttributes: ['writer', 'gen'] });
  assert.equal(created.status, 202);
  assert.equal(settings.status, 202);
  // Something for the rebalance to copy.
  const base = new Writer(9, UID, model, mulberry32(9));
  for (let i = 0; i < 4; i++) assert.ok(await writeUntilAcked(viaY, base, base.insertBatch(50), stats, t0));
  const setup = await settleTasks(viaY, [created.body.taskUid, settings.body.taskUid, ...model.acked.map((a) => a.taskUid)]);
  assert.deepEqual(setup, { failed: [], pending: [] });

  // The shards whose owners change when node-3 joins; the writers' documents all live there.
  const h = await loadHasher();
  const before3 = ['node-0', 'node-1', 'node-2'];
  const moving = new Set<number>();
  for (let s = 0; s < SHARDS; s++) {
    if (JSON.stringify(assign(h, s, before3, RF).sort()) !== JSON.stringify(assign(h, s, [...before3, 'node-3'], RF).sort())) moving.add(s);
  }
  assert.ok(moving.size > 0, 'adding node-3 moves no shard');
  const pool: string[][] = Array.from({ length: WRITERS + LATE }, () => []);
  for (let i = 0, k = 0; pool.some((p) => p.length < 400); i++) {
    if (moving.has(h.shardOf(`p-${i}`, SHARDS))) pool[k++ % pool.length]!.push(`p-${i}`);
  }

  // X's answers: what it accepted and refused, and when (ms since t0).
  const fromX: { status: number; code?: string; sentMs: number; answeredMs: number; ids: string[] }[] = [];
  let pausedAt = Infinity;
  let resumedAt = Infinity;
  let stop = false;
  const onAnswer = (ids: string[]) => (a: Answer, sentMs: number) => {
    if (a.orch === x.id) fromX.push({ status: a.status, code: a.body?.code, sentMs, answeredMs: Date.now() - t0, ids });
  };
  const run = async (w: Writer, once = false) => {
    do {
      const req = w.next();
      const op = await writeUntilAcked(viaY, w, req, stats, t0, { only: () => x, onAnswer: onAnswer(req.ids), maxAttempts: 100 });
      assert.ok(op, `writer ${w.n} gave up`);
    } while (!stop && !once);
  };
  const writers = Array.from({ length: WRITERS }, (_, n) => new Writer(n, UID, model, mulberry32(100 + n), (k) => pool[n]![k]!));
  const load = Promise.all(writers.map((w) => run(w)));
  while (fromX.filter((a) => a.status === 202).length < 40) await sleep(10);

  // The nodes stop answering for a moment first, so that X is stopped with writes already sent to
  // the old owners and their answers not read yet: when it resumes, those writes must be confirmed
  // against the store and planned again.
  const nodes = f.engines.slice(0, 3);
  for (const e of nodes) e.child.kill('SIGSTOP');
  await sleep(150);
  x.child.kill('SIGSTOP');
  pausedAt = Date.now() - t0;
  for (const e of nodes) e.child.kill('SIGCONT');
  // More writes queue up at the sleeping X.
  const late = Array.from({ length: LATE }, (_, k) => new Writer(WRITERS + k, UID, model, mulberry32(200 + k), (i) => pool[WRITERS + k]![i]!));
  const lateDone = Promise.all(late.map((w) => run(w, true)));
  await sleep(200);

  const added = await viaY.send('POST', '/_miroir/nodes', { id: 'node-3', address: extra.url, replica_group: 0 }, y);
  assert.equal(added.status, 202, JSON.stringify(added.body));
  let status: any;
  for (const deadline = Date.now() + 60_000; ; ) {
    status = (await viaY.send('GET', '/_miroir/rebalance/status', undefined, y)).body;
    if (status.state === 'idle' && status.last !== null) break;
    assert.ok(Date.now() < deadline, `the rebalance did not finish: ${JSON.stringify(status).slice(0, 500)}`);
    await sleep(50);
  }
  const cutovers = y.lines.filter((l) => l.message === 'shard cut over').length;
  x.child.kill('SIGCONT');
  resumedAt = Date.now() - t0;
  await lateDone;
  await sleep(1500);
  stop = true;
  await load;

  const followed = x.lines.filter((l) => l.message === 'topology changed by another process').map((l) => Date.parse(String(l.timestamp)) - t0);
  // Writes X had sent to the old owners when it was stopped: its confirmation against the store
  // finds the routing changed, and it plans them again (work/fence.ts).
  const replanned = x.lines.filter((l) => String(l.message).startsWith('the routing changed under a write')).length;
  // Writes X took after it resumed, and before its heartbeat caught up, are planned on the routing
  // it reads again first (work/fence.ts `enter`): never under the old one either.
  const reread = x.lines.filter((l) => String(l.message).startsWith('the routing was read again before planning a write')).length;
  const heldAcrossPause = fromX.filter((a) => a.sentMs <= pausedAt + 200 && a.answeredMs >= resumedAt);
  const acceptedAfter = heldAcrossPause.filter((a) => a.status === 202);
  const refused = fromX.filter((a) => a.status !== 202);
  t.diagnostic(
    `X paused at +${pausedAt} ms, resumed at +${resumedAt} ms; ${moving.size} of ${SHARDS} shards moved (${cutovers} cutovers by Y, ${status.last.documents_moved} documents); ` +
      `${heldAcrossPause.length} writes held by X across the pause (${acceptedAfter.length} answered 202, ${heldAcrossPause.length - acceptedAfter.length} refused); ` +
      `${fromX.length} answers from X in all, ${refused.length} refused: ${JSON.stringify(stats.retries)}; X read the new topology at ${followed.map((ms) => `+${ms} ms`).join(', ') || 'no time'}; ` +
      `${replanned} writes planned again by X, ${reread} times the routing read again before planning`,
  );
  assert.ok(cutovers >= moving.size, `Y cut over ${cutovers} moves`);
  assert.ok(heldAcrossPause.length >= LATE, `only ${heldAcrossPause.length} writes were held by X across the cutover`);
  assert.ok(replanned + reread > 0, 'X planned again the writes it had sent under the old routing, or read the routing again before planning');
  // A refusal is retryable: the client sends the write elsewhere (it then succeeded through Y).
  for (const r of refused) assert.ok(r.status >= 500 || r.status === 409 || r.status === 429, `X refused ${r.ids.join(',')} with ${r.status} ${r.code}`);
  assert.deepEqual(stats.abandoned, []);

  const settled = await settleTasks(viaY, model.acked.map((a) => a.taskUid));
  assert.deepEqual(settled, { failed: [], pending: [] }, 'every acknowledged task succeeded');
  const check = await checkPlacement(y.url, UID, model);
  const fromXIds = new Set(acceptedAfter.flatMap((a) => a.ids));
  const describe = (xs: { id: string; node: string; detail: string }[]) =>
    xs.slice(0, 10).map((v) => `${v.id} on ${v.node}: ${v.detail}${fromXIds.has(v.id) ? ' (accepted by X after the pause)' : ''}; last ${JSON.stringify(model.lastOp.get(v.id))}`);
  const counts = (xs: { id: string }[]) => `${xs.length} (${xs.filter((v) => fromXIds.has(v.id)).length} accepted by X after the pause)`;
  t.diagnostic(`lost ${counts(check.lost)}, stale ${counts(check.stale)}, resurrected ${counts(check.resurrected)}, misplaced ${counts(check.misplaced)}, unknown ${check.unknown.length}`);
  assert.deepEqual(describe(check.lost), [], 'acknowledged writes missing on a new owner');
  assert.deepEqual(describe(check.stale), [], 'owners holding other content than last acknowledged');
  assert.deepEqual(describe(check.resurrected), [], 'deleted documents held again');
  assert.deepEqual(describe(check.misplaced), [], 'documents left on old owners only');
  assert.deepEqual(describe(check.unknown), []);
  const verify = (await viaY.send('GET', '/_miroir/verify?deep=true', undefined, y)).body;
  assert.equal(verify.ok, true, JSON.stringify(verify.problems));
});
