/**
 * The state-store conformance suite (spec S4.1): the same tests for every implementation. A factory
 * gives an empty namespace whose `open()` returns another handle on the same data each call (a
 * reopen after a restart, or a second orchestrator process on the shared store).
 */
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StateStore, StoreEvent, TaskRow } from '../src/state/store.js';

export interface StoreFactory {
  name: string;
  /** Undefined when the backend can be tested; otherwise why not (a visible skip). */
  skip(): Promise<string | undefined>;
  fresh(): Promise<{ open(): Promise<StateStore>; cleanup(): Promise<void> }>;
}

export function row(uid: number, status: TaskRow['status'], finishedAt: number | null = null): TaskRow {
  return {
    uid,
    batchUid: null,
    indexUid: 'movies',
    type: 'documentAdditionOrUpdate',
    status,
    canceledBy: null,
    details: { receivedDocuments: 1, indexedDocuments: null },
    error: null,
    enqueuedAt: 1_000_000,
    startedAt: null,
    finishedAt,
    customMetadata: null,
    nodeTasks: { 'node-0': [uid] },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function conformance(factory: StoreFactory): void {
  describe(`state store conformance: ${factory.name}`, async () => {
    const skip = await factory.skip();
    /** A test with two handles on one fresh namespace, cleaned up afterwards. */
    const t = (name: string, body: (open: () => Promise<StateStore>) => Promise<void>) =>
      test(name, { skip }, async () => {
        const ns = await factory.fresh();
        const handles: StateStore[] = [];
        try {
          await body(async () => {
            const h = await ns.open();
            handles.push(h);
            return h;
          });
        } finally {
          for (const h of handles) await h.close();
          await ns.cleanup();
        }
      });

    t('task uids are integers from 0, monotonic, and survive a reopen', async (open) => {
      const s = await open();
      assert.deepEqual([await s.nextTaskUid(), await s.nextTaskUid(), await s.nextTaskUid()], [0, 1, 2]);
      await s.close();
      assert.equal(await (await open()).nextTaskUid(), 3);
    });

    t('a settings broadcast phase and the committed fingerprint and frozen reason round-trip (S13.5)', async (open) => {
      const s = await open();
      const pending: TaskRow = {
        ...row(9, 'processing'),
        type: 'settingsUpdate',
        settingsBroadcast: {
          strategy: 'two_phase',
          phase: 'repair',
          requests: [{ method: 'PATCH', path: '/indexes/movies/settings', body: { synonyms: { a: ['b'] } } }],
          proposal: { synonyms: { a: ['b'] } },
          commitVersion: 4,
        },
      };
      await s.putTask(pending);
      assert.deepEqual(await s.getTask(9), pending);
      assert.deepEqual((await s.pendingTasks()).map((r) => r.settingsBroadcast?.phase), ['repair']);
      const meta = { uid: 'movies', primaryKey: 'id', shards: 16, settingsVersion: 4, createdAt: '2026-01-01T00:00:00.000Z', settingsFingerprint: 'ab'.repeat(32), writesFrozen: 'settings differ on node(s) node-2' };
      await s.putIndexMeta(meta);
      assert.deepEqual(await s.getIndexMeta('movies'), meta);
    });

    t('a cancel mark racing writes of the row by another process is neither lost nor undoes them (issue 16)', async (open) => {
      const a = await open();
      const b = await open();
      const base: TaskRow = {
        ...row(7, 'processing'),
        type: 'settingsUpdate',
        settingsBroadcast: { strategy: 'two_phase', phase: 'propose', requests: [], proposal: { stopWords: ['the'] } },
      };
      await a.putTask(base);
      // Process b read the row before the mark; a marks it; b then writes its copy (a broadcast
      // phase change) and a task refresh writes another stale copy: the mark and the phase both stay.
      const stale = (await b.getTask(7))!;
      assert.equal(await a.markTaskCancelRequested(7, 42), true);
      await b.putTask({ ...stale, settingsBroadcast: { ...stale.settingsBroadcast!, phase: 'verify' } });
      assert.equal(await b.putTaskIfPending({ ...stale, settingsBroadcast: { ...stale.settingsBroadcast!, phase: 'repair' }, startedAt: 2_000_000 }), true);
      for (const h of [a, b]) {
        const got = (await h.getTask(7))!;
        assert.equal(got.cancelRequestedBy, 42, 'the mark survives writes of copies read before it');
        assert.equal(got.settingsBroadcast?.phase, 'repair', 'the mark did not put back an older row');
        assert.equal(got.startedAt, 2_000_000);
        assert.deepEqual((await h.pendingTasks()).map((r) => [r.uid, r.cancelRequestedBy]), [[7, 42]]);
        const scanned: TaskRow[] = [];
        for await (const r of h.scanTasks({})) scanned.push(r);
        assert.deepEqual(scanned.map((r) => r.cancelRequestedBy), [42]);
      }
      // Many marks and row writes at once, from both handles: every row write lands, and the last mark stays.
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) {
        writes.push((i % 2 === 0 ? a : b).putTaskIfPending({ ...stale, details: { n: i } }));
        writes.push((i % 2 === 0 ? b : a).markTaskCancelRequested(7, 42));
      }
      await Promise.all(writes);
      const raced = (await a.getTask(7))!;
      assert.equal(raced.cancelRequestedBy, 42);
      assert.ok(typeof raced.details?.n === 'number');
      // A terminal or missing task is not marked, and its row is left as it is.
      const done = { ...raced, status: 'canceled' as const, canceledBy: 42, finishedAt: 3_000_000 };
      await a.putTask(done);
      assert.equal(await b.markTaskCancelRequested(7, 43), false);
      assert.equal((await b.getTask(7))!.cancelRequestedBy, 42);
      assert.equal(await b.markTaskCancelRequested(999, 43), false);
      assert.equal(await b.getTask(999), undefined);
    });

    t('the topology is written by compare-and-set on its version and survives a reopen', async (open) => {
      let s = await open();
      assert.equal(await s.getTopology(), undefined);
      const v1 = { version: 1, nodes: [{ id: 'n0', address: 'http://127.0.0.1:1', group: 0, state: 'active' as const }], groups: [{ id: 0, state: 'active' as const }] };
      assert.equal(await s.putTopology(v1, 1), false, 'nothing stored yet: only expectedVersion null seeds');
      assert.equal(await s.putTopology(v1, null), true);
      assert.equal(await s.putTopology(v1, null), false, 'a second seed loses');
      const v2 = { ...v1, version: 2, nodes: [...v1.nodes, { id: 'n1', address: 'http://127.0.0.1:2', group: 0, state: 'joining' as const }] };
      assert.equal(await s.putTopology(v2, 1), true);
      assert.equal(await s.putTopology({ ...v2, version: 3 }, 1), false, 'a stale writer is refused');
      await s.close();
      s = await open();
      assert.deepEqual(await s.getTopology(), v2);
    });

    t('the API key set is written by compare-and-set on its version and survives a reopen', async (open) => {
      let s = await open();
      assert.equal(await s.getApiKeys(), undefined);
      const key = { uid: '0f3f4a4e-8f7e-4c59-9a54-3d4f1c1f0aff', name: 'Default Search API Key', description: null, actions: ['search'], indexes: ['*'], expiresAt: null, expiresOffset: 0, createdAt: 1_700_000_000_000_001, updatedAt: 1_700_000_000_000_001 };
      const v1 = { version: 1, keys: [key] };
      assert.equal(await s.putApiKeys(v1, 1), false, 'nothing stored yet: only expectedVersion null seeds');
      assert.equal(await s.putApiKeys(v1, null), true);
      assert.equal(await s.putApiKeys({ version: 1, keys: [] }, null), false, 'a second seed loses');
      const v2 = { version: 2, keys: [key, { ...key, uid: '1f3f4a4e-8f7e-4c59-9a54-3d4f1c1f0aff', name: null, expiresAt: 1_900_000_000_000_000, expiresOffset: -90 }] };
      assert.equal(await s.putApiKeys(v2, 1), true);
      assert.equal(await s.putApiKeys({ version: 3, keys: [] }, 1), false, 'a stale writer is refused');
      await s.close();
      s = await open();
      assert.deepEqual(await s.getApiKeys(), v2);
    });

    t('a rebalance and its committed pages persist until the rebalance is deleted', async (open) => {
      let s = await open();
      assert.equal(await s.getRebalance(), undefined);
      const move = { key: '64/0/5', shards: 64, groupId: 0, shard: 5, before: ['a'], after: ['b'], gained: ['b'], lost: ['a'], state: 'copying' as const, source: 'a', error: null };
      const state = { id: 'r1', fromVersion: 2, phase: 'copying' as const, startedAt: '2026-01-01T00:00:00.000Z', moves: [move] };
      await s.putRebalance(state);
      await s.putMigrationProgress({ move: '64/0/5', index: 'movies', offset: 1000, total: 2500, complete: false });
      await s.putMigrationProgress({ move: '64/0/5', index: 'movies', offset: 2000, total: 2500, complete: false });
      await s.putMigrationProgress({ move: '64/0/5', index: 'books', offset: 0, total: 0, complete: true });
      await s.close();
      s = await open();
      assert.deepEqual(await s.getRebalance(), state);
      assert.deepEqual(await s.listMigrationProgress(), [
        { move: '64/0/5', index: 'books', offset: 0, total: 0, complete: true },
        { move: '64/0/5', index: 'movies', offset: 2000, total: 2500, complete: false },
      ]);
      await s.deleteRebalance();
      assert.equal(await s.getRebalance(), undefined);
      assert.deepEqual(await s.listMigrationProgress(), []);
    });

    t('rows persist; scans go newest first or oldest first from a uid; pending lists unfinished rows', async (open) => {
      const s = await open();
      for (let uid = 0; uid < 5; uid++) await s.putTask(row(uid, uid % 2 === 0 ? 'succeeded' : 'processing', uid % 2 === 0 ? 5_000_000 : null));
      const r = await open();
      assert.deepEqual(await r.getTask(3), row(3, 'processing'));
      assert.equal(await r.getTask(9), undefined);
      const desc: number[] = [];
      for await (const x of r.scanTasks({ from: 3 })) desc.push(x.uid);
      assert.deepEqual(desc, [3, 2, 1, 0]);
      const asc: number[] = [];
      for await (const x of r.scanTasks({ from: 2, reverse: true })) asc.push(x.uid);
      assert.deepEqual(asc, [2, 3, 4]);
      assert.deepEqual((await r.pendingTasks()).map((x) => x.uid), [1, 3]);
      await r.putTask(row(3, 'succeeded', 6_000_000));
      assert.deepEqual((await s.pendingTasks()).map((x) => x.uid), [1]);
    });

    t('scans page through many rows in order', async (open) => {
      const s = await open();
      for (let uid = 0; uid < 450; uid++) await s.putTask(row(uid, 'succeeded', 1));
      const all: number[] = [];
      for await (const x of s.scanTasks({})) all.push(x.uid);
      assert.deepEqual(all, Array.from({ length: 450 }, (_, i) => 449 - i));
      const asc: number[] = [];
      for await (const x of s.scanTasks({ reverse: true })) asc.push(x.uid);
      assert.equal(asc.length, 450);
      assert.deepEqual(asc.slice(0, 3), [0, 1, 2]);
    });

    t('pruning deletes only finished rows older than the cut-off; delete removes rows', async (open) => {
      const s = await open();
      await s.putTask(row(0, 'succeeded', 1_000));
      await s.putTask(row(1, 'failed', 9_000));
      await s.putTask(row(2, 'processing'));
      await s.putTask(row(3, 'succeeded', 2_000));
      assert.equal(await s.countTasks(), 4);
      assert.equal(await s.pruneTasks(5_000), 2);
      assert.equal(await s.countTasks(), 2);
      assert.equal(await s.getTask(0), undefined);
      assert.ok(await s.getTask(1));
      await s.deleteTasks([1, 2]);
      assert.equal(await s.countTasks(), 0);
      assert.deepEqual(await s.pendingTasks(), []);
    });

    t('index metadata round-trips; creation keeps the first record', async (open) => {
      const s = await open();
      const meta = { uid: 'movies', primaryKey: 'id', shards: 16, settingsVersion: 0, createdAt: '2026-01-01T00:00:00.000Z' };
      await s.putIndexMeta(meta);
      await s.putIndexMeta({ ...meta, uid: 'books', primaryKey: null, writesFrozen: 'unrepairable' });
      assert.deepEqual(await (await open()).getIndexMeta('movies'), meta);
      assert.deepEqual((await s.listIndexMeta()).map((m) => [m.uid, m.writesFrozen]), [['books', 'unrepairable'], ['movies', undefined]]);
      await s.deleteIndexMeta('movies');
      assert.equal(await s.getIndexMeta('movies'), undefined);
      const [a, b] = await Promise.all([s.createIndexMeta({ ...meta, uid: 'x', shards: 4 }), (await open()).createIndexMeta({ ...meta, uid: 'x', shards: 8 })]);
      assert.deepEqual(a, b, 'both creators see the one record that won');
      assert.deepEqual(await s.getIndexMeta('x'), a);
    });

    t('node settings versions are kept per (index, node) and forgotten with the index', async (open) => {
      const s = await open();
      await s.putNodeSettingsVersion('movies', 'node-0', 1);
      await s.putNodeSettingsVersion('movies', 'node-1', 2);
      await s.putNodeSettingsVersion('movies', 'node-0', 3);
      await s.putNodeSettingsVersion('books', 'node-0', 7);
      const r = await open();
      assert.deepEqual([...(await r.nodeSettingsVersions('movies'))].sort(), [['node-0', 3], ['node-1', 2]]);
      await r.deleteNodeSettingsVersions('movies');
      assert.equal((await s.nodeSettingsVersions('movies')).size, 0);
      assert.deepEqual([...(await s.nodeSettingsVersions('books'))], [['node-0', 7]]);
    });

    t('concurrency: two handles racing for task uids never get the same one', async (open) => {
      const [a, b] = [await open(), await open()];
      const take = (s: StateStore) => Promise.all(Array.from({ length: 200 }, () => s.nextTaskUid()));
      const [ua, ub] = await Promise.all([take(a), take(b)]);
      const all = [...ua, ...ub].sort((x, y) => x - y);
      assert.deepEqual(all, Array.from({ length: 400 }, (_, i) => i));
      for (const list of [ua, ub]) assert.deepEqual(list, [...list].sort((x, y) => x - y), 'each handle sees them grow');
    });

    t('concurrency: of two handles finishing the same task, exactly one does; a finished row is not overwritten', async (open) => {
      const [a, b] = [await open(), await open()];
      for (let uid = 0; uid < 20; uid++) await a.putTask(row(uid, 'enqueued'));
      const wins = await Promise.all(
        Array.from({ length: 20 }, (_, uid) => [a, b].map((s) => s.putTaskIfPending(row(uid, 'succeeded', 5_000 + uid)))).flat(),
      );
      assert.equal(wins.filter(Boolean).length, 20, 'one finisher per task');
      assert.equal(await a.putTaskIfPending(row(3, 'processing')), false, 'a stale fold does not reopen a finished task');
      assert.equal((await b.getTask(3))!.status, 'succeeded');
      assert.deepEqual(await b.pendingTasks(), []);
      assert.equal(await a.pruneTasks(5_010), 10, 'finished rows are indexed for pruning');
      await a.putTask(row(30, 'enqueued'));
      assert.equal(await b.putTaskIfPending(row(30, 'processing')), true);
      assert.deepEqual((await a.pendingTasks()).map((r) => [r.uid, r.status]), [[30, 'processing']]);
      assert.equal(await b.putTaskIfPending(row(99, 'succeeded', 1)), false, 'a deleted or unknown task is not created');
      assert.equal(await a.getTask(99), undefined);
    });

    t('leases: one holder per scope; tokens grow; a deposed holder cannot renew or release', async (open) => {
      const [a, b] = [await open(), await open()];
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).acquireLease('reshard:movies', `p${i}`, 10_000)));
      const won = results.filter((l) => l !== undefined);
      assert.equal(won.length, 1, 'exactly one of ten racing acquisitions wins');
      const first = won[0]!;
      assert.deepEqual(await b.currentLease('reshard:movies'), first);
      assert.equal(await a.acquireLease('alias_flip:x', 'p1', 10_000) !== undefined, true, 'scopes are independent');
      assert.equal(await b.renewLease(first, 10_000), true);
      await a.releaseLease(first);
      assert.equal(await b.currentLease('reshard:movies'), undefined);
      const second = (await b.acquireLease('reshard:movies', 'q', 150))!;
      assert.ok(second.token > first.token, 'a new acquisition has a larger fencing token');
      assert.equal(await a.renewLease(first, 10_000), false, 'the old token cannot renew');
      await sleep(300);
      assert.equal(await a.currentLease('reshard:movies'), undefined, 'an unrenewed lease expires');
      const third = (await a.acquireLease('reshard:movies', 'r', 10_000))!;
      assert.ok(third.token > second.token);
      assert.equal(await b.renewLease(second, 10_000), false, 'the expired holder is deposed');
      await b.releaseLease(second);
      assert.deepEqual(await a.currentLease('reshard:movies'), third, "a deposed holder's release does nothing");
    });

    t('peers: heartbeats keep a peer listed until they stop', async (open) => {
      const [a, b] = [await open(), await open()];
      await a.heartbeatPeer('pod-a', 10_000);
      await b.heartbeatPeer('pod-b', 150);
      assert.deepEqual(await a.livePeers(), ['pod-a', 'pod-b']);
      await sleep(300);
      assert.deepEqual(await b.livePeers(), ['pod-a']);
      await a.removePeer('pod-a');
      assert.deepEqual(await b.livePeers(), []);
    });

    t('routing fence: the epoch only advances; each live peer keeps the last epoch it acknowledged', async (open) => {
      const [a, b] = [await open(), await open()];
      assert.equal(await a.routingEpoch(), 0);
      assert.equal(await a.advanceRoutingEpoch(), 1);
      assert.equal(await b.advanceRoutingEpoch(), 2);
      assert.equal(await a.routingEpoch(), 2);
      await a.ackRouting('pod-a', 2, 10_000);
      await b.ackRouting('pod-b', 1, 150);
      assert.deepEqual([...(await a.routingAcks())].sort(), [['pod-a', 2], ['pod-b', 1]]);
      await b.ackRouting('pod-b', 2, 150);
      assert.equal((await a.routingAcks()).get('pod-b'), 2);
      await sleep(300);
      assert.deepEqual([...(await b.routingAcks())], [['pod-a', 2]], 'a peer that stopped acknowledging is not live');
      await a.dropRoutingPeer('pod-a');
      assert.equal((await b.routingAcks()).size, 0);
    });

    t('write holds: one holder per index; only the holder drops its hold', async (open) => {
      const [a, b] = [await open(), await open()];
      await a.putWriteHold('movies', 'pod-a');
      await b.putWriteHold('books', 'pod-b');
      assert.deepEqual([...(await b.writeHolds())].sort(), [['books', 'pod-b'], ['movies', 'pod-a']]);
      await b.dropWriteHold('movies', 'pod-b');
      assert.equal((await a.writeHolds()).get('movies'), 'pod-a', "another process's drop does nothing");
      await a.dropWriteHold('movies', 'pod-a');
      assert.deepEqual([...(await a.writeHolds())], [['books', 'pod-b']]);
    });

    t('missed writes: ordered per node, the first append advances the epoch, conditional pops, overflow', async (open) => {
      const [a, b] = [await open(), await open()];
      const epoch = await a.routingEpoch();
      assert.deepEqual([...(await a.missedQueues())], []);
      const first = await a.appendMissed('node-1', ['w1', 'w2 é'], 1000);
      assert.deepEqual(first, { mark: epoch + 1, fresh: true });
      assert.equal(await b.routingEpoch(), epoch + 1, 'becoming behind advanced the routing epoch');
      // Racing appenders (two processes): each entry once, in the order the store took them.
      const more = await Promise.all([b.appendMissed('node-1', ['w3'], 1000), a.appendMissed('node-1', ['w4'], 1000)]);
      assert.deepEqual(more, [{ mark: epoch + 1, fresh: false }, { mark: epoch + 1, fresh: false }]);
      assert.equal(await a.routingEpoch(), epoch + 1, 'appending to a queue does not advance the epoch again');
      await b.appendMissed('node-2', ['x'], 1000);
      const queues = await a.missedQueues();
      assert.deepEqual(queues.get('node-1'), { entries: 4, bytes: 2 + 5 + 2 + 2, overflowed: false, mark: epoch + 1 });
      assert.deepEqual(queues.get('node-2'), { entries: 1, bytes: 1, overflowed: false, mark: epoch + 2 });
      const head = await b.peekMissed('node-1', 3);
      assert.deepEqual(head.map((e) => e.entry).slice(0, 2), ['w1', 'w2 é']);
      assert.ok(head[0]!.seq < head[1]!.seq && head[1]!.seq < head[2]!.seq);
      assert.equal(await a.popMissed('node-1', head[1]!.seq), false, 'only the head is popped');
      assert.equal(await a.popMissed('node-1', head[0]!.seq), true);
      assert.equal(await b.popMissed('node-1', head[0]!.seq), false, 'a second replayer of the same entry pops nothing');
      for (const e of await b.peekMissed('node-1', 10)) assert.equal(await b.popMissed('node-1', e.seq), true);
      assert.deepEqual([...(await a.missedQueues()).keys()], ['node-2'], 'a node with an empty queue is no longer behind');
      // A new episode starts with a new mark; sequence numbers are never reused.
      const again = await a.appendMissed('node-1', ['w5'], 1000);
      assert.equal(again.fresh, true);
      assert.ok(again.mark > epoch + 2);
      assert.ok((await a.peekMissed('node-1', 1))[0]!.seq > head[2]!.seq);
      // Past the bound, the queue is dropped and the node stays behind until the mark is cleared.
      await b.appendMissed('node-1', ['y'.repeat(30)], 20);
      assert.deepEqual(await a.peekMissed('node-1', 10), []);
      assert.deepEqual((await a.missedQueues()).get('node-1'), { entries: 0, bytes: 0, overflowed: true, mark: again.mark });
      assert.deepEqual(await a.appendMissed('node-1', ['z'], 1000), { mark: again.mark, fresh: false });
      assert.deepEqual(await a.peekMissed('node-1', 10), [], 'an overflowed queue keeps nothing');
      await b.clearMissedOverflow('node-1');
      assert.equal((await a.missedQueues()).has('node-1'), false);
      await a.dropMissed('node-2');
      assert.deepEqual([...(await b.missedQueues())], []);
    });

    t('jobs: racing claimants each take different jobs; every job is claimed once', async (open) => {
      const [a, b] = [await open(), await open()];
      for (let i = 0; i < 20; i++) await a.enqueueJob({ type: 'dump_import', params: { chunk: i } });
      await a.enqueueJob({ type: 'reshard_backfill', params: {} });
      assert.equal(await b.queuedJobCount(), 21);
      assert.deepEqual([await b.queuedJobCount('dump_import'), await b.queuedJobCount('reshard_backfill'), await b.queuedJobCount('other')], [20, 1, 0]);
      const drain = async (s: StateStore, who: string) => {
        const got: number[] = [];
        for (let j = await s.claimJob('dump_import', who, 10_000); j; j = await s.claimJob('dump_import', who, 10_000)) got.push(j.id);
        return got;
      };
      const [ga, gb] = await Promise.all([drain(a, 'a'), drain(b, 'b')]);
      assert.equal(ga.length + gb.length, 20);
      assert.equal(new Set([...ga, ...gb]).size, 20, 'no job claimed twice');
      assert.equal(await a.queuedJobCount(), 1, 'the other type still waits');
      const job = (await a.getJob(ga[0] ?? gb[0]!))!;
      assert.equal(job.state, 'in_progress');
      assert.equal(job.type, 'dump_import');
    });

    t('jobs: heartbeats record progress; an expired claim is re-claimed with its cursor', async (open) => {
      const [a, b] = [await open(), await open()];
      const { id } = await a.enqueueJob({ type: 't', params: { file: 'x.ndjson' } });
      const claimed = (await a.claimJob('t', 'pod-a', 200))!;
      assert.equal(claimed.id, id);
      assert.deepEqual(claimed.params, { file: 'x.ndjson' });
      assert.equal(claimed.claimedBy, 'pod-a');
      assert.equal(await a.heartbeatJob(id, 'pod-a', 200, { cursor: 42 }), true);
      assert.equal(await b.claimJob('t', 'pod-b', 10_000), undefined, 'a live claim is not taken');
      assert.equal(await b.heartbeatJob(id, 'pod-b', 10_000), false, 'only the claimant heartbeats');
      await sleep(400);
      const again = (await b.claimJob('t', 'pod-b', 10_000))!;
      assert.equal(again.id, id);
      assert.equal(again.claimedBy, 'pod-b');
      assert.deepEqual(again.progress, { cursor: 42 }, 'the new claimant resumes from the cursor');
      assert.equal(await a.heartbeatJob(id, 'pod-a', 200, { cursor: 1 }), false, 'the old claimant is deposed');
      assert.equal(await a.finishJob(id, 'pod-a', 'completed'), false);
      assert.equal(await b.finishJob(id, 'pod-b', 'completed', { cursor: 99 }), true);
      const done = (await a.getJob(id))!;
      assert.equal(done.state, 'completed');
      assert.deepEqual(done.progress, { cursor: 99 });
      assert.equal(await a.claimJob('t', 'pod-a', 10_000), undefined, 'a finished job is not claimed again');
      assert.equal(await a.getJob(id + 100), undefined);
    });

    t('events reach every handle, the publisher included', async (open) => {
      const [a, b] = [await open(), await open()];
      const seen: [string, StoreEvent][] = [];
      await a.subscribe((e) => seen.push(['a', e]));
      await b.subscribe((e) => seen.push(['b', e]));
      await a.publish({ kind: 'index_changed', indexUids: ['movies'] });
      await b.publish({ kind: 'keys_changed' });
      for (let i = 0; i < 100 && seen.length < 4; i++) await sleep(10);
      assert.deepEqual(
        seen.map(([h, e]) => `${h}:${e.kind}`).sort(),
        ['a:index_changed', 'a:keys_changed', 'b:index_changed', 'b:keys_changed'],
      );
    });

    t('putRowIfAbsent: one claimant wins, a live row is kept, an expired one is replaced', async (open) => {
      const [a, b] = [await open(), await open()];
      const now = Date.now();
      const claim = (s: StateStore, who: string, ttl = 60_000) => s.putRowIfAbsent('idempotency', { key: 'k', bodySha256: who, taskUid: null, expiresAt: Date.now() + ttl });
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => claim(i % 2 === 0 ? a : b, `c${i}`)));
      assert.equal(results.filter(Boolean).length, 1, 'exactly one of ten concurrent claims wins');
      const winner = `c${results.indexOf(true)}`;
      assert.equal((await b.getRow('idempotency', 'k'))!.bodySha256, winner);
      assert.equal(await claim(a, 'late'), false, 'a live row is kept');
      assert.equal((await a.getRow('idempotency', 'k'))!.bodySha256, winner);
      assert.deepEqual((await a.listRows('idempotency')).map((r) => r.key), ['k'], 'a claimed row is listed');
      await a.deleteRow('idempotency', 'k');
      assert.equal(await claim(b, 'after-delete'), true, 'a deleted row can be claimed again');
      assert.equal(await a.putRowIfAbsent('idempotency', { key: 'short', bodySha256: 'x', taskUid: 1, expiresAt: now + 150 }), true);
      await sleep(300);
      assert.equal(await b.putRowIfAbsent('idempotency', { key: 'short', bodySha256: 'y', taskUid: null, expiresAt: Date.now() + 60_000 }), true, 'an expired row counts as absent');
      assert.equal((await a.getRow('idempotency', 'short'))!.bodySha256, 'y');
      await a.putRowIfAbsent('aliases', { name: 'k', kind: 'single', currentUid: null, targetUids: [], version: 0, createdAt: 'x', history: [] });
      assert.equal((await a.getRow('aliases', 'k'))!.name, 'k', 'tables are separate, a row without expiry is kept');
    });

    t('keyed tables of S4.1: rows round-trip per table, list by key, and expire', async (open) => {
      const [a, b] = [await open(), await open()];
      const alias = { name: 'movies', kind: 'single' as const, currentUid: 'movies_v1', targetUids: ['movies_v1'], version: 1, createdAt: 'x', history: [] };
      await a.putRow('aliases', alias);
      await a.putRow('aliases', { ...alias, name: 'books', currentUid: 'books_v2', version: 3 });
      assert.deepEqual(await b.getRow('aliases', 'movies'), alias);
      assert.deepEqual((await b.listRows('aliases')).map((r) => [r.name, r.version]), [['books', 3], ['movies', 1]]);
      await b.putRow('aliases', { ...alias, version: 2 });
      assert.equal((await a.getRow('aliases', 'movies'))!.version, 2, 'a put replaces the row');
      await a.deleteRow('aliases', 'movies');
      assert.equal(await b.getRow('aliases', 'movies'), undefined);
      assert.equal(await a.getRow('canaries', 'books'), undefined, 'tables are separate');

      const now = Date.now();
      await a.putRow('idempotency', { key: 'k1', bodySha256: 'ab', taskUid: 7, expiresAt: now + 200 });
      await a.putRow('idempotency', { key: 'k2', bodySha256: 'cd', taskUid: 8, expiresAt: now + 60_000 });
      await a.putRow('admin_sessions', { sessionId: 's', csrfToken: 'c', adminKeyHash: 'h', createdAt: now, expiresAt: now + 60_000, revoked: false, userAgent: 'ua', sourceIp: '::1' });
      assert.equal((await b.getRow('idempotency', 'k1'))!.taskUid, 7);
      await sleep(400);
      assert.equal(await b.getRow('idempotency', 'k1'), undefined, 'an expired row is gone');
      assert.deepEqual((await b.listRows('idempotency')).map((r) => r.key), ['k2']);
      assert.equal((await b.getRow('admin_sessions', 's'))!.revoked, false);
      await b.putRow('tenant_map', { apiKeyHash: 'f00', tenantId: 't1', groupId: null });
      await b.putRow('search_ui_config', { indexUid: 'movies', config: { title: 'Movies' }, updatedAt: 'x' });
      await b.putRow('rollover_policies', { name: 'logs', writeAlias: 'logs', readAlias: 'logs-all', pattern: 'logs-*', triggers: {}, retention: {}, template: {}, enabled: true });
      await b.putRow('sessions', { sessionId: 'u', lastWriteTaskUid: 3, lastWriteAt: now, pinnedGroup: 1, minSettingsVersion: 2, expiresAt: now + 60_000 });
      await b.putRow('canaries', { id: 'c1', name: 'smoke', indexUid: 'movies', intervalS: 30, query: { q: 'a' }, assertions: [], enabled: true, createdAt: 'x' });
      assert.equal((await a.getRow('tenant_map', 'f00'))!.tenantId, 't1');
      assert.deepEqual((await a.getRow('search_ui_config', 'movies'))!.config, { title: 'Movies' });
      assert.equal((await a.getRow('rollover_policies', 'logs'))!.pattern, 'logs-*');
      assert.equal((await a.getRow('sessions', 'u'))!.pinnedGroup, 1);
      assert.equal((await a.getRow('canaries', 'c1'))!.intervalS, 30);
      await b.putRow('webhooks', { uuid: 'w1', url: 'http://127.0.0.1:1/hook', headers: { authorization: 'Bearer s' } });
      assert.deepEqual(await a.listRows('webhooks'), [{ uuid: 'w1', url: 'http://127.0.0.1:1/hook', headers: { authorization: 'Bearer s' } }]);
      await a.deleteRow('webhooks', 'w1');
      assert.deepEqual(await b.listRows('webhooks'), []);
    });

    t('canary runs keep the newest N; CDC cursors only move forward, even when raced', async (open) => {
      const [a, b] = [await open(), await open()];
      for (let i = 0; i < 6; i++) await (i % 2 ? a : b).addCanaryRun({ canaryId: 'c1', ranAt: 1000 + i, status: i === 4 ? 'fail' : 'pass', latencyMs: i, failedAssertions: null }, 3);
      assert.deepEqual((await a.canaryRuns('c1')).map((r) => [r.ranAt, r.status]), [[1005, 'pass'], [1004, 'fail'], [1003, 'pass']]);
      assert.deepEqual(await b.canaryRuns('other'), []);
      assert.equal(await a.cdcCursor('sink', 'movies'), undefined);
      const seqs = Array.from({ length: 40 }, (_, i) => (i * 37) % 40);
      await Promise.all(seqs.map((q, i) => (i % 2 ? a : b).advanceCdcCursor('sink', 'movies', q)));
      assert.equal(await b.cdcCursor('sink', 'movies'), 39);
      assert.equal(await a.advanceCdcCursor('sink', 'movies', 5), 39, 'a smaller sequence does not move it back');
    });
  });
}
