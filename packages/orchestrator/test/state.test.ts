import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteStore } from '../src/state/sqlite.js';
import type { TaskRow } from '../src/state/store.js';

const dir = mkdtempSync(join(tmpdir(), 'miroir-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function row(uid: number, status: TaskRow['status'], finishedAt: number | null = null): TaskRow {
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

test('task uids are integers from 0, monotonic, and survive a reopen', async () => {
  const path = join(dir, 'seq.db');
  let s = new SqliteStore(path);
  assert.deepEqual([await s.nextTaskUid(), await s.nextTaskUid(), await s.nextTaskUid()], [0, 1, 2]);
  await s.close();
  s = new SqliteStore(path);
  assert.equal(await s.nextTaskUid(), 3);
  await s.close();
});

test('rows persist; scans go newest first or oldest first from a uid; pending lists unfinished rows', async () => {
  const path = join(dir, 'rows.db');
  let s = new SqliteStore(path);
  for (let uid = 0; uid < 5; uid++) await s.putTask(row(uid, uid % 2 === 0 ? 'succeeded' : 'processing', uid % 2 === 0 ? 5_000_000 : null));
  await s.close();
  s = new SqliteStore(path);
  assert.deepEqual(await s.getTask(3), row(3, 'processing'));
  assert.equal(await s.getTask(9), undefined);
  const desc: number[] = [];
  for await (const r of s.scanTasks({ from: 3 })) desc.push(r.uid);
  assert.deepEqual(desc, [3, 2, 1, 0]);
  const asc: number[] = [];
  for await (const r of s.scanTasks({ from: 2, reverse: true })) asc.push(r.uid);
  assert.deepEqual(asc, [2, 3, 4]);
  assert.deepEqual((await s.pendingTasks()).map((r) => r.uid), [1, 3]);
  await s.close();
});

test('pruning deletes only finished rows older than the cut-off', async () => {
  const s = new SqliteStore(join(dir, 'prune.db'));
  await s.putTask(row(0, 'succeeded', 1_000));
  await s.putTask(row(1, 'failed', 9_000));
  await s.putTask(row(2, 'processing'));
  assert.equal(await s.countTasks(), 3);
  assert.equal(await s.pruneTasks(5_000), 1);
  assert.equal(await s.countTasks(), 2);
  assert.equal(await s.getTask(0), undefined);
  assert.ok(await s.getTask(1));
  assert.ok(await s.getTask(2));
  await s.close();
});

test('index metadata round-trips', async () => {
  const s = new SqliteStore(join(dir, 'meta.db'));
  const meta = { uid: 'movies', primaryKey: 'id', shards: 16, settingsVersion: 0, createdAt: '2026-01-01T00:00:00.000Z' };
  await s.putIndexMeta(meta);
  await s.putIndexMeta({ ...meta, uid: 'books', primaryKey: null });
  assert.deepEqual(await s.getIndexMeta('movies'), meta);
  assert.deepEqual((await s.listIndexMeta()).map((m) => m.uid), ['books', 'movies']);
  await s.deleteIndexMeta('movies');
  assert.equal(await s.getIndexMeta('movies'), undefined);
  await s.close();
});

test('node settings versions are kept per (index, node) and forgotten with the index', async () => {
  const path = join(dir, 'nsv.db');
  let s = new SqliteStore(path);
  await s.putNodeSettingsVersion('movies', 'node-0', 1);
  await s.putNodeSettingsVersion('movies', 'node-1', 2);
  await s.putNodeSettingsVersion('movies', 'node-0', 3);
  await s.putNodeSettingsVersion('books', 'node-0', 7);
  await s.close();
  s = new SqliteStore(path);
  assert.deepEqual([...(await s.nodeSettingsVersions('movies'))].sort(), [['node-0', 3], ['node-1', 2]]);
  await s.deleteNodeSettingsVersions('movies');
  assert.equal((await s.nodeSettingsVersions('movies')).size, 0);
  assert.deepEqual([...(await s.nodeSettingsVersions('books'))], [['node-0', 7]]);
  await s.close();
});

test('a settings broadcast phase and the committed fingerprint and frozen reason round-trip (S13.5)', async () => {
  const s = new SqliteStore(join(dir, 'broadcast.db'));
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
  await s.close();
});

test('the topology is written by compare-and-set on its version and survives a reopen', async () => {
  const path = join(dir, 'topology.db');
  let s = new SqliteStore(path);
  assert.equal(await s.getTopology(), undefined);
  const v1 = { version: 1, nodes: [{ id: 'n0', address: 'http://127.0.0.1:1', group: 0, state: 'active' as const }], groups: [{ id: 0, state: 'active' as const }] };
  assert.equal(await s.putTopology(v1, 1), false, 'nothing stored yet: only expectedVersion null seeds');
  assert.equal(await s.putTopology(v1, null), true);
  assert.equal(await s.putTopology(v1, null), false, 'a second seed loses');
  const v2 = { ...v1, version: 2, nodes: [...v1.nodes, { id: 'n1', address: 'http://127.0.0.1:2', group: 0, state: 'joining' as const }] };
  assert.equal(await s.putTopology(v2, 1), true);
  assert.equal(await s.putTopology({ ...v2, version: 3 }, 1), false, 'a stale writer is refused');
  await s.close();
  s = new SqliteStore(path);
  assert.deepEqual(await s.getTopology(), v2);
  await s.close();
});

test('a rebalance and its committed pages persist until the rebalance is deleted', async () => {
  const path = join(dir, 'rebalance.db');
  let s = new SqliteStore(path);
  assert.equal(await s.getRebalance(), undefined);
  const move = { key: '64/0/5', shards: 64, groupId: 0, shard: 5, before: ['a'], after: ['b'], gained: ['b'], lost: ['a'], state: 'copying' as const, source: 'a', error: null };
  const state = { id: 'r1', fromVersion: 2, phase: 'copying' as const, startedAt: '2026-01-01T00:00:00.000Z', moves: [move] };
  await s.putRebalance(state);
  await s.putMigrationProgress({ move: '64/0/5', index: 'movies', offset: 1000, total: 2500, complete: false });
  await s.putMigrationProgress({ move: '64/0/5', index: 'movies', offset: 2000, total: 2500, complete: false });
  await s.putMigrationProgress({ move: '64/0/5', index: 'books', offset: 0, total: 0, complete: true });
  await s.close();
  s = new SqliteStore(path);
  assert.deepEqual(await s.getRebalance(), state);
  assert.deepEqual(await s.listMigrationProgress(), [
    { move: '64/0/5', index: 'books', offset: 0, total: 0, complete: true },
    { move: '64/0/5', index: 'movies', offset: 2000, total: 2500, complete: false },
  ]);
  await s.deleteRebalance();
  assert.equal(await s.getRebalance(), undefined);
  assert.deepEqual(await s.listMigrationProgress(), []);
  await s.close();
});
