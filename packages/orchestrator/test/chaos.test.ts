/**
 * Issue 16 acceptance, one seed (`npm run test:chaos` runs ten, see chaos-run.ts): three
 * orchestrators behind a round-robin client, three writers and two searchers through all of them,
 * while a node is cut off for a while (writes acknowledged without it, `write_quorum: one`), a
 * node is added, another drained and removed, the settings changed twice, and one
 * orchestrator SIGKILLed and replaced. Every acknowledged write is on every owner exactly as last
 * acknowledged, nothing else is anywhere, `miroir-ctl verify --deep` passes, anti-entropy finds
 * 0 mismatches, and every acknowledged task succeeded.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportLine, runChaos } from './chaos-kit.js';
import { redisSkip } from './redis-kit.js';

const skip = await redisSkip();
const SEED = Number(process.env.MIROIR_CHAOS_SEED ?? 1);

test(`chaos, seed ${SEED}: no acknowledged write lost, changed or resurrected`, { skip }, async (t) => {
  const r = await runChaos({ seed: SEED, durationMs: 22_000, shards: 16, rf: 2 });
  t.diagnostic(reportLine(r));
  for (const e of r.events) t.diagnostic(`+${(e.atMs / 1000).toFixed(2)}s ${e.what}`);
  for (const line of [...r.examples, ...r.logs.slice(0, 30)]) t.diagnostic(line);

  // The run did what it claims: every kind of write acknowledged, every disruption happened.
  for (const [kind, n] of Object.entries(r.writes.acked)) assert.ok(n > 0, `no ${kind} acknowledged`);
  for (const what of ['node-3 added', 'cut off', 'reachable again', 'drained and removed', 'SIGKILLed', 'started in its place', 'settings change 1', 'settings change 2']) {
    assert.ok(r.events.some((e) => e.what.includes(what)), `the run did not do: ${what}`);
  }
  assert.ok(r.searches > 0, 'no search ran');
  assert.ok(r.handoff.behind > 0 && r.handoff.caughtUp > 0, `no node missed writes and caught up: ${JSON.stringify(r.handoff)}`);
  assert.ok(r.placement !== undefined && r.placement.documentsExpected > 0, 'nothing to check');
  assert.equal(r.placement.nodes.length, 3, `final topology: ${r.placement.nodes.join(', ')}`);

  assert.deepEqual(r.placement.lost, [], 'acknowledged documents missing on an owner');
  assert.deepEqual(r.placement.stale, [], 'owners holding other content than last acknowledged');
  assert.deepEqual(r.placement.resurrected, [], 'deleted documents held again');
  assert.deepEqual(r.placement.misplaced, [], 'documents on nodes that do not own them');
  assert.deepEqual(r.placement.unknown, [], 'documents no acknowledged write produced');
  assert.equal(r.placement.shardTableDiffers, false, 'the shard table differs from the placement of the topology');
  assert.deepEqual(r.tasks.failed, [], 'acknowledged tasks that did not succeed');
  assert.deepEqual(r.tasks.notTerminal, [], 'acknowledged tasks still pending');
  assert.deepEqual(r.writes.abandoned, [], 'writes never acknowledged');
  assert.deepEqual(r.searchFailures, {}, 'failed searches');
  assert.equal(r.verify!.exitCode, 0, `miroir-ctl verify --deep:\n${r.verify!.output}`);
  assert.equal(r.antiEntropy!.mismatches, 0, 'anti-entropy mismatches');
  assert.deepEqual(r.antiEntropy!.errors, [], 'anti-entropy errors');
  assert.ok(r.antiEntropy!.shardsScanned >= 16, `anti-entropy compared ${r.antiEntropy!.shardsScanned} shards`);
  assert.deepEqual(r.settingsMismatch, [], 'nodes whose settings differ');
  assert.deepEqual(r.problems, []);
});
