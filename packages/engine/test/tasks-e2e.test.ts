/**
 * The task API end to end: a real engine on a socket, driven by the official Meilisearch client.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Meilisearch, MeilisearchApiError } from 'meilisearch';
import { startEngine } from '../src/index.js';
import type { RunningEngine } from '../src/index.js';

const MASTER = 'MASTER_KEY_FOR_E2E_TESTS_0123456789';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const TASK_KEYS = ['uid', 'batchUid', 'indexUid', 'status', 'type', 'canceledBy', 'details', 'error', 'duration', 'enqueuedAt', 'startedAt', 'finishedAt'];

describe('tasks through the official client', () => {
  let dir: string;
  let engine: RunningEngine;
  let client: Meilisearch;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miroir-tasks-e2e-'));
    engine = await startEngine({ port: 0, dataDir: dir, masterKey: MASTER });
    client = new Meilisearch({ host: engine.url, apiKey: MASTER });
  });

  after(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('enqueues writes without waiting and reports each task', async () => {
    // Enqueue index creation and documents back to back: the queue orders them.
    const create = await client.createIndex('movies', { primaryKey: 'id' });
    const add = await client.index('movies').addDocuments([{ id: 1, title: 'Carol' }, { id: 2, title: 'Wonder Woman' }]);
    assert.deepEqual(Object.keys(create), ['taskUid', 'indexUid', 'status', 'type', 'enqueuedAt']);
    assert.equal(create.status, 'enqueued');
    assert.equal(add.taskUid, create.taskUid + 1);

    const created = await client.tasks.waitForTask(create.taskUid);
    assert.deepEqual(Object.keys(created), TASK_KEYS);
    assert.equal(created.status, 'succeeded');
    assert.equal(created.type, 'indexCreation');
    assert.deepEqual(created.details, { primaryKey: 'id' });
    const added = await client.tasks.waitForTask(add.taskUid);
    assert.equal(added.status, 'succeeded');
    assert.deepEqual(added.details, { receivedDocuments: 2, indexedDocuments: 2 });
    assert.match(added.enqueuedAt, RFC3339);
    assert.match(added.duration!, /^PT\d+(\.\d+)?S$/);
    assert.equal(typeof added.batchUid, 'number');

    const failed = await client.createIndex('movies').waitTask();
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.error, {
      message: 'Index `movies` already exists.',
      code: 'index_already_exists',
      type: 'invalid_request',
      link: 'https://docs.meilisearch.com/errors#index_already_exists',
    });
  });

  it('lists with filters and pagination', async () => {
    const all = await client.tasks.getTasks();
    assert.equal(all.total, all.results.length);
    assert.deepEqual(all.results.map((t) => t.uid), [...all.results.map((t) => t.uid)].sort((a, b) => b - a));
    const movies = await client.tasks.getTasks({ indexUids: ['movies'], statuses: ['succeeded'] });
    assert.deepEqual(movies.results.map((t) => t.type), ['documentAdditionOrUpdate', 'indexCreation']);
    assert.equal(movies.total, 2);
    const page = await client.tasks.getTasks({ limit: 1 });
    assert.equal(page.results.length, 1);
    assert.equal(page.limit, 1);
    assert.equal(page.from, all.results[0]!.uid);
    assert.equal(page.next, all.results[1]!.uid);
    const rev = await client.tasks.getTasks({ reverse: true, limit: 1 });
    assert.equal(rev.results[0]!.uid, 0);
  });

  it('answers Meilisearch errors the client understands', async () => {
    await assert.rejects(client.tasks.getTask(9999), (e: unknown) => {
      assert.ok(e instanceof MeilisearchApiError);
      assert.equal(e.response.status, 404);
      assert.deepEqual(e.cause, {
        message: 'Task `9999` not found.',
        code: 'task_not_found',
        type: 'invalid_request',
        link: 'https://docs.meilisearch.com/errors#task_not_found',
      });
      return true;
    });
    await assert.rejects(client.tasks.cancelTasks({}), (e: unknown) => e instanceof MeilisearchApiError && e.cause?.code === 'missing_task_filters');
  });

  it('cancels and deletes tasks', async () => {
    const cancel = await client.tasks.cancelTasks({ statuses: ['enqueued', 'processing'] }).waitTask();
    assert.equal(cancel.type, 'taskCancelation');
    assert.equal(cancel.indexUid, null);
    assert.equal(cancel.status, 'succeeded');
    assert.deepEqual(cancel.details, { matchedTasks: 0, canceledTasks: 0, originalFilter: '?statuses=enqueued%2Cprocessing' });

    const del = await client.tasks.deleteTasks({ statuses: ['failed'] }).waitTask();
    assert.equal(del.type, 'taskDeletion');
    assert.deepEqual(del.details, { matchedTasks: 1, deletedTasks: 1, originalFilter: '?statuses=failed' });
    assert.deepEqual((await client.tasks.getTasks({ statuses: ['failed'] })).results, []);
  });

  it('lists batches', async () => {
    const batches = await client.batches.getBatches({ limit: 2 });
    assert.equal(batches.results.length, 2);
    const b = batches.results[0]!;
    assert.deepEqual(Object.keys(b), ['uid', 'progress', 'details', 'stats', 'duration', 'startedAt', 'finishedAt', 'batchStrategy']);
    assert.deepEqual(b.stats.types, { taskDeletion: 1 });
    const one = await client.batches.getBatch(b.uid);
    assert.deepEqual(one, b);
  });

  it('keeps tasks and keys across a restart', async () => {
    const before = await client.tasks.getTasks();
    const keys = await client.getKeys();
    await engine.close();
    engine = await startEngine({ port: 0, dataDir: dir, masterKey: MASTER });
    client = new Meilisearch({ host: engine.url, apiKey: MASTER });
    assert.deepEqual(await client.tasks.getTasks(), before);
    assert.deepEqual(await client.getKeys(), keys);
    const next = await client.createIndex('books');
    assert.equal(next.taskUid, before.results[0]!.uid + 1);
  });
});
