import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { MeiliError, parseTasksQuery } from '@miroir/protocol';
import type { TaskView } from '@miroir/protocol';
import { TaskQueue, registerTaskRoutes } from '../src/tasks/index.js';
import type { Task } from '../src/tasks/index.js';
import { Auth } from '../src/auth/index.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const DURATION = /^PT\d+(\.\d{3}|\.\d{6})?S$/;

/**
 * A processor whose behavior each test steers through the task's details:
 * `{fail: code}` throws that MeiliError, `{crash: true}` throws a plain Error,
 * `{hold: true}` waits until `release()` (or rejects when aborted, if `{abortable: true}`).
 */
class TestProcessor {
  readonly seen: number[] = [];
  readonly payloads = new Map<number, string | undefined>();
  #release: (() => void) | null = null;
  #held: ((t: Task) => void) | null = null;
  queue!: TaskQueue;

  readonly fn = async (task: Task, signal: AbortSignal): Promise<Record<string, unknown>> => {
    this.seen.push(task.uid);
    this.payloads.set(task.uid, this.queue.payload(task.uid)?.toString('utf8'));
    const d = task.details ?? {};
    if (d.hold === true) {
      this.#held?.(task);
      await new Promise<void>((resolve, reject) => {
        this.#release = resolve;
        if (d.abortable === true) signal.addEventListener('abort', () => reject(signal.reason as Error));
      });
    }
    if (typeof d.fail === 'string') throw new MeiliError(d.fail, `Index \`${task.indexUid}\` not found.`);
    if (d.crash === true) throw new Error('boom');
    return 'receivedDocuments' in d ? { ...d, indexedDocuments: d.receivedDocuments } : d;
  };

  /** Resolves when a held task starts. */
  held(): Promise<Task> {
    return new Promise((resolve) => (this.#held = resolve));
  }

  release(): void {
    this.#release?.();
  }
}

function setup(db = new Database(':memory:')): { db: Database.Database; queue: TaskQueue; proc: TestProcessor } {
  const proc = new TestProcessor();
  const queue = new TaskQueue(db, proc.fn);
  proc.queue = queue;
  return { db, queue, proc };
}

const docs = (n: number): Record<string, unknown> => ({ receivedDocuments: n, indexedDocuments: null });

describe('TaskQueue', () => {
  it('returns the 202 summary and processes tasks one at a time in uid order', async () => {
    const { queue, proc } = setup();
    const s0 = queue.enqueue({ type: 'indexCreation', indexUid: 'movies', details: { primaryKey: null } });
    const s1 = queue.enqueue({ type: 'documentAdditionOrUpdate', indexUid: 'movies', details: docs(2), payload: '[{"id":1},{"id":2}]' });
    assert.deepEqual(Object.keys(s0), ['taskUid', 'indexUid', 'status', 'type', 'enqueuedAt']);
    assert.deepEqual({ ...s0, enqueuedAt: 'x' }, { taskUid: 0, indexUid: 'movies', status: 'enqueued', type: 'indexCreation', enqueuedAt: 'x' });
    assert.equal(s1.taskUid, 1);
    assert.match(s1.enqueuedAt, RFC3339);
    // Not started: stays enqueued with its payload.
    assert.equal(queue.get(1)!.status, 'enqueued');
    assert.equal(queue.payload(1)!.toString(), '[{"id":1},{"id":2}]');

    queue.start();
    await queue.waitIdle();
    assert.deepEqual(proc.seen, [0, 1]);
    assert.equal(proc.payloads.get(1), '[{"id":1},{"id":2}]');
    assert.equal(queue.payload(1), undefined, 'payload dropped once processed');

    const t = queue.get(1)!;
    assert.deepEqual(Object.keys(t), ['uid', 'batchUid', 'indexUid', 'status', 'type', 'canceledBy', 'details', 'error', 'duration', 'enqueuedAt', 'startedAt', 'finishedAt']);
    assert.deepEqual(
      { ...t, duration: 'd', enqueuedAt: 'e', startedAt: 's', finishedAt: 'f' },
      {
        uid: 1,
        batchUid: 1,
        indexUid: 'movies',
        status: 'succeeded',
        type: 'documentAdditionOrUpdate',
        canceledBy: null,
        details: { receivedDocuments: 2, indexedDocuments: 2 },
        error: null,
        duration: 'd',
        enqueuedAt: 'e',
        startedAt: 's',
        finishedAt: 'f',
      },
    );
    assert.match(t.duration!, DURATION);
    assert.match(t.startedAt!, RFC3339);
    // Compared as times: RFC 3339 strings with trimmed fractions do not sort as text (`.1Z` > `.12Z`).
    const [enq, start, fin] = [t.enqueuedAt, t.startedAt!, t.finishedAt!].map(Date.parse) as [number, number, number];
    assert.ok(enq <= start && start <= fin, `${t.enqueuedAt} ${t.startedAt} ${t.finishedAt}`);
    await queue.close();
  });

  it('records a MeiliError as the task error and zeroes pending counters', async () => {
    const { queue } = setup();
    queue.enqueue({ type: 'documentAdditionOrUpdate', indexUid: 'nope', details: { ...docs(3), fail: 'index_not_found' } });
    queue.enqueue({ type: 'settingsUpdate', indexUid: 'x', details: { crash: true } });
    queue.start();
    await queue.waitIdle();
    const failed = queue.get(0)!;
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.error, {
      message: 'Index `nope` not found.',
      code: 'index_not_found',
      type: 'invalid_request',
      link: 'https://docs.meilisearch.com/errors#index_not_found',
    });
    assert.deepEqual(failed.details, { receivedDocuments: 3, indexedDocuments: 0, fail: 'index_not_found' });
    const crashed = queue.get(1)!;
    assert.equal(crashed.status, 'failed');
    assert.deepEqual(crashed.error, {
      message: 'An unexpected crash occurred when processing the task: boom',
      code: 'internal',
      type: 'internal',
      link: 'https://docs.meilisearch.com/errors#internal',
    });
    await queue.close();
  });

  it('keeps customMetadata and omits it when unset', async () => {
    const { queue } = setup();
    const withMeta = queue.enqueue({ type: 'indexCreation', indexUid: 'a', details: { primaryKey: null }, customMetadata: 'batch-7' });
    const without = queue.enqueue({ type: 'indexCreation', indexUid: 'b', details: { primaryKey: null } });
    assert.equal(withMeta.customMetadata, 'batch-7');
    assert.equal('customMetadata' in without, false);
    assert.equal(queue.get(0)!.customMetadata, 'batch-7');
    assert.equal(Object.keys(queue.get(0)!).at(-1), 'customMetadata');
    assert.equal('customMetadata' in queue.get(1)!, false);
    await queue.close();
  });

  it('survives a restart: enqueued payloads persist, an interrupted task runs again, uids continue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miroir-tasks-'));
    try {
      const file = join(dir, 'db.sqlite');
      const first = setup(new Database(file));
      first.queue.enqueue({ type: 'indexCreation', indexUid: 'movies', details: { hold: true } });
      first.queue.enqueue({ type: 'documentAdditionOrUpdate', indexUid: 'movies', details: docs(1), payload: Buffer.from('{"id":1}') });
      const held = first.proc.held();
      first.queue.start();
      await held;
      assert.equal(first.queue.get(0)!.status, 'processing');
      assert.equal(first.queue.get(0)!.batchUid, 0);
      // Crash: the process dies without closing anything.
      first.db.close();

      const second = setup(new Database(file));
      assert.equal(second.queue.get(0)!.status, 'enqueued', 'interrupted task re-enqueued');
      assert.equal(second.queue.get(0)!.batchUid, null);
      assert.equal(second.queue.get(0)!.startedAt, null);
      assert.equal(second.queue.payload(1)!.toString(), '{"id":1}');
      const s = second.queue.enqueue({ type: 'indexDeletion', indexUid: 'movies', details: { deletedDocuments: null } });
      assert.equal(s.taskUid, 2);
      const held2 = second.proc.held();
      second.queue.start();
      await held2;
      second.proc.release();
      await second.queue.waitIdle();
      assert.deepEqual(second.proc.seen, [0, 1, 2]);
      assert.equal(second.proc.payloads.get(1), '{"id":1}');
      assert.equal(second.queue.get(0)!.status, 'succeeded');
      assert.equal(second.queue.get(0)!.batchUid, 1, 'the re-run gets a new batch');
      await second.queue.close();
      second.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cancels enqueued tasks and an abortable task in progress; cancelations run first', async () => {
    const { queue, proc } = setup();
    queue.enqueue({ type: 'documentAdditionOrUpdate', indexUid: 'a', details: { ...docs(1), hold: true, abortable: true } });
    queue.enqueue({ type: 'documentAdditionOrUpdate', indexUid: 'a', details: docs(2) });
    queue.enqueue({ type: 'indexCreation', indexUid: 'b', details: { primaryKey: null } });
    const held = proc.held();
    queue.start();
    await held;
    const c = queue.enqueueCancelation('?indexUids=a', queue.matching({ indexUids: ['a'] }, { allIndexes: true, allowsIndex: () => true }));
    assert.equal(c.taskUid, 3);
    assert.equal(c.type, 'taskCancelation');
    assert.equal(c.indexUid, null);
    await queue.waitIdle();
    // The cancelation ran before task 2 although enqueued after it.
    assert.deepEqual(proc.seen, [0, 2]);

    const t0 = queue.get(0)!;
    assert.equal(t0.status, 'canceled');
    assert.equal(t0.canceledBy, 3);
    assert.equal(t0.error, null);
    assert.deepEqual(t0.details, { receivedDocuments: 1, indexedDocuments: 0, hold: true, abortable: true });
    const t1 = queue.get(1)!;
    assert.equal(t1.status, 'canceled');
    assert.equal(t1.canceledBy, 3);
    assert.equal(t1.batchUid, queue.get(3)!.batchUid, 'canceled tasks join the cancelation batch');
    assert.equal(t1.startedAt, queue.get(3)!.startedAt);
    assert.match(t1.duration!, DURATION);
    assert.deepEqual(queue.get(3)!.details, { matchedTasks: 2, canceledTasks: 2, originalFilter: '?indexUids=a' });
    assert.equal(queue.get(2)!.status, 'succeeded');

    const batch = queue.batch(queue.get(3)!.batchUid!, { allIndexes: true, allowsIndex: () => true })!;
    const { progressTrace, ...stats } = batch.stats;
    assert.deepEqual(stats, {
      totalNbTasks: 2,
      status: { succeeded: 1, canceled: 1 },
      types: { documentAdditionOrUpdate: 1, taskCancelation: 1 },
      indexUids: { a: 1 },
    });
    assert.deepEqual(Object.keys(progressTrace ?? {}), ['processing tasks']);
    assert.equal(batch.batchStrategy, 'created batch containing only task with id 3 of type `taskCancelation` that cannot be batched with any other task.');
    await queue.close();
  });

  it('a task in progress that cannot abort finishes and is not counted as canceled', async () => {
    const { queue, proc } = setup();
    queue.enqueue({ type: 'settingsUpdate', indexUid: 'a', details: { hold: true } });
    const held = proc.held();
    queue.start();
    await held;
    queue.enqueueCancelation('?uids=0', [0]);
    proc.release();
    await queue.waitIdle();
    assert.equal(queue.get(0)!.status, 'succeeded');
    assert.equal(queue.get(0)!.canceledBy, null);
    assert.deepEqual(queue.get(1)!.details, { matchedTasks: 1, canceledTasks: 0, originalFilter: '?uids=0' });
    await queue.close();
  });
});

describe('store failure', () => {
  it('stops processing with a warning instead of crashing when the database fails', async () => {
    const db = new Database(':memory:');
    const queue = new TaskQueue(db, () => {
      db.close(); // the disk goes away while the task runs
      return {};
    });
    queue.enqueue({ type: 'indexCreation', indexUid: 'a', details: { primaryKey: null } });
    const warning = new Promise<Error>((resolve) => process.once('warning', resolve));
    queue.start();
    await queue.waitIdle();
    assert.match((await warning).message, /^Task processing stopped: /);
    await queue.close();
  });
});

describe('task deletion', () => {
  it('removes matched finished tasks and their batches; enqueued ones stay', async () => {
    const db = new Database(':memory:');
    const { queue } = setup(db);
    queue.enqueue({ type: 'indexCreation', indexUid: 'a', details: { primaryKey: null } });
    queue.enqueue({ type: 'indexCreation', indexUid: 'b', details: { primaryKey: null } });
    queue.start();
    await queue.waitIdle();
    await queue.close();

    const proc = new TestProcessor();
    const q = new TaskQueue(db, proc.fn);
    proc.queue = q;
    q.enqueue({ type: 'indexCreation', indexUid: 'c', details: { primaryKey: null } });
    const all = q.matching({}, { allIndexes: true, allowsIndex: () => true });
    assert.deepEqual(all, [0, 1, 2]);
    const d = q.enqueueDeletion('?uids=*', all);
    assert.equal(d.taskUid, 3);
    q.start();
    await q.waitIdle();
    assert.equal(q.get(0), undefined);
    assert.equal(q.get(1), undefined);
    assert.equal(q.get(2)!.status, 'succeeded', 'was enqueued at registration: deletion skipped it');
    assert.deepEqual(q.get(3)!.details, { matchedTasks: 3, deletedTasks: 2, originalFilter: '?uids=*' });
    const access = { allIndexes: true, allowsIndex: () => true };
    assert.equal(q.batch(0, access), undefined);
    assert.equal(q.batch(1, access), undefined);
    assert.deepEqual(
      q.listBatches({ filter: {}, limit: 20, from: null, reverse: false, hasFilters: false }, access).results.map((b) => b.uid),
      [3, 2],
    );
    await q.close();
  });
});

describe('/tasks and /batches routes', () => {
  let app: FastifyInstance;
  let queue: TaskQueue;
  let proc: TestProcessor;
  const send = async (method: 'GET' | 'POST' | 'DELETE', url: string): Promise<{ status: number; body: any }> => {
    const r = await app.inject({ method, url });
    return { status: r.statusCode, body: r.body === '' ? undefined : JSON.parse(r.body) };
  };

  before(async () => {
    const db = new Database(':memory:');
    ({ queue, proc } = setup(db));
    const auth = new Auth(db);
    app = Fastify();
    registerTaskRoutes(app, queue, auth);
    await app.ready();
    queue.enqueue({ type: 'indexCreation', indexUid: 'movies', details: { primaryKey: null } }); // 0
    queue.enqueue({ type: 'documentAdditionOrUpdate', indexUid: 'movies', details: docs(2) }); // 1
    queue.enqueue({ type: 'documentAdditionOrUpdate', indexUid: 'books', details: { ...docs(1), fail: 'index_not_found' } }); // 2
    queue.enqueue({ type: 'settingsUpdate', indexUid: 'books', details: { stopWords: ['the'] } }); // 3
    queue.start();
    await queue.waitIdle();
  });

  after(async () => {
    await queue.close();
    await app.close();
  });

  it('GET /tasks: newest first, page fields, limit/from/next', async () => {
    const all = await send('GET', '/tasks');
    assert.equal(all.status, 200);
    assert.deepEqual(Object.keys(all.body), ['results', 'total', 'limit', 'from', 'next']);
    assert.deepEqual(all.body.results.map((t: TaskView) => t.uid), [3, 2, 1, 0]);
    assert.deepEqual({ ...all.body, results: [] }, { results: [], total: 4, limit: 20, from: 3, next: null });

    const page = await send('GET', '/tasks?limit=2');
    assert.deepEqual({ ...page.body, results: page.body.results.map((t: TaskView) => t.uid) }, { results: [3, 2], total: 4, limit: 2, from: 3, next: 1 });
    const page2 = await send('GET', '/tasks?limit=2&from=1');
    assert.deepEqual({ ...page2.body, results: page2.body.results.map((t: TaskView) => t.uid) }, { results: [1, 0], total: 4, limit: 2, from: 1, next: null });
    const rev = await send('GET', '/tasks?reverse=true&limit=3');
    assert.deepEqual(rev.body.results.map((t: TaskView) => t.uid), [0, 1, 2]);
    assert.equal(rev.body.next, 3);
    const empty = await send('GET', '/tasks?uids=99');
    assert.deepEqual(empty.body, { results: [], total: 0, limit: 20, from: null, next: null });
  });

  it('GET /tasks filters', async () => {
    const ids = async (q: string): Promise<number[]> => (await send('GET', `/tasks?${q}`)).body.results.map((t: TaskView) => t.uid);
    assert.deepEqual(await ids('statuses=failed'), [2]);
    assert.deepEqual(await ids('statuses=FAILED,succeeded&indexUids=books'), [3, 2]);
    assert.deepEqual(await ids('types=documentAdditionOrUpdate'), [2, 1]);
    assert.deepEqual(await ids('uids=0,3'), [3, 0]);
    assert.deepEqual(await ids('batchUids=1'), [1]);
    assert.deepEqual(await ids('indexUids=*&types=*&statuses=*'), [3, 2, 1, 0]);
    const t1 = (await send('GET', '/tasks/1')).body as TaskView;
    assert.deepEqual(await ids(`afterEnqueuedAt=${encodeURIComponent(t1.enqueuedAt)}&beforeEnqueuedAt=2999-01-01`), [3, 2]);
    assert.deepEqual(await ids(`beforeStartedAt=${encodeURIComponent(t1.startedAt!)}`), [0]);
    assert.deepEqual(await ids('afterFinishedAt=2999-01-01'), []);
  });

  it('GET /tasks validation errors', async () => {
    const r = await send('GET', '/tasks?statuses=doggo');
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      message: 'Invalid value in parameter `statuses`: `doggo` is not a valid task status. Available statuses are `enqueued`, `processing`, `succeeded`, `failed`, `canceled`.',
      code: 'invalid_task_statuses',
      type: 'invalid_request',
      link: 'https://docs.meilisearch.com/errors#invalid_task_statuses',
    });
    const u = await send('GET', '/tasks?doggo=1');
    assert.equal(u.status, 400);
    assert.equal(u.body.code, 'bad_request');
  });

  it('GET /tasks/:uid', async () => {
    const ok = await send('GET', '/tasks/3');
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.details, { stopWords: ['the'] });
    assert.equal(ok.body.type, 'settingsUpdate');
    assert.deepEqual(await send('GET', '/tasks/42'), {
      status: 404,
      body: { message: 'Task `42` not found.', code: 'task_not_found', type: 'invalid_request', link: 'https://docs.meilisearch.com/errors#task_not_found' },
    });
    assert.deepEqual(await send('GET', '/tasks/doggo'), {
      status: 400,
      body: {
        message: 'Task uid `doggo` is invalid. It should only contain numeric characters.',
        code: 'invalid_task_uids',
        type: 'invalid_request',
        link: 'https://docs.meilisearch.com/errors#invalid_task_uids',
      },
    });
  });

  it('POST /tasks/cancel and DELETE /tasks need a filter', async () => {
    const c = await send('POST', '/tasks/cancel');
    assert.equal(c.status, 400);
    assert.equal(c.body.code, 'missing_task_filters');
    assert.match(c.body.message, /^Query parameters to filter the tasks to cancel are missing\./);
    const d = await send('DELETE', '/tasks');
    assert.equal(d.status, 400);
    assert.match(d.body.message, /^Query parameters to filter the tasks to delete are missing\./);
    const bad = await send('DELETE', '/tasks?from=3');
    assert.equal(bad.body.code, 'bad_request');
  });

  it('POST /tasks/cancel answers 200 with the summarized taskCancelation', async () => {
    const r = await send('POST', '/tasks/cancel?statuses=enqueued,processing');
    assert.equal(r.status, 200);
    assert.deepEqual({ ...r.body, enqueuedAt: 'x' }, { taskUid: 4, indexUid: null, status: 'enqueued', type: 'taskCancelation', enqueuedAt: 'x' });
    await queue.waitIdle();
    const t = (await send('GET', '/tasks/4')).body;
    assert.equal(t.status, 'succeeded');
    assert.deepEqual(t.details, { matchedTasks: 0, canceledTasks: 0, originalFilter: '?statuses=enqueued,processing' });
  });

  it('DELETE /tasks deletes matching finished tasks', async () => {
    const r = await send('DELETE', '/tasks?uids=2');
    assert.equal(r.status, 200);
    assert.equal(r.body.type, 'taskDeletion');
    await queue.waitIdle();
    assert.equal((await send('GET', '/tasks/2')).status, 404);
    assert.deepEqual((await send('GET', `/tasks/${r.body.taskUid}`)).body.details, { matchedTasks: 1, deletedTasks: 1, originalFilter: '?uids=2' });
  });

  it('GET /batches and /batches/:uid', async () => {
    const list = await send('GET', '/batches?limit=1');
    assert.equal(list.status, 200);
    assert.deepEqual(Object.keys(list.body), ['results', 'total', 'limit', 'from', 'next']);
    const b = list.body.results[0];
    assert.deepEqual(Object.keys(b), ['uid', 'progress', 'details', 'stats', 'duration', 'startedAt', 'finishedAt', 'batchStrategy']);
    assert.equal(list.body.next, b.uid - 1);

    const one = await send('GET', '/batches/1');
    assert.equal(one.status, 200);
    assert.match(one.body.stats.progressTrace['processing tasks'], /^\d+\.\d{2}(s|ms|µs|ns)$/);
    assert.deepEqual({ ...one.body, stats: { ...one.body.stats, progressTrace: 't' }, duration: 'd', startedAt: 's', finishedAt: 'f' }, {
      uid: 1,
      progress: null,
      details: { receivedDocuments: 2, indexedDocuments: 2 },
      stats: { totalNbTasks: 1, status: { succeeded: 1 }, types: { documentAdditionOrUpdate: 1 }, indexUids: { movies: 1 }, progressTrace: 't' },
      duration: 'd',
      startedAt: 's',
      finishedAt: 'f',
      batchStrategy: 'batched up to configured batch limit of 1 tasks',
    });
    assert.deepEqual((await send('GET', '/batches?statuses=failed')).body.results, [], 'the failed task was deleted with its batch');
    assert.deepEqual((await send('GET', '/batches?types=settingsUpdate')).body.results.map((x: { uid: number }) => x.uid), [3]);
    assert.deepEqual(await send('GET', '/batches/77'), {
      status: 404,
      body: { message: 'Batch `77` not found.', code: 'batch_not_found', type: 'invalid_request', link: 'https://docs.meilisearch.com/errors#batch_not_found' },
    });
    assert.equal((await send('GET', '/batches/x')).body.code, 'invalid_batch_uids');
  });

  it('shows a processing batch with its progress', async () => {
    const held = proc.held();
    queue.enqueue({ type: 'indexCreation', indexUid: 'slow', details: { hold: true } });
    const t = await held;
    const task = (await send('GET', `/tasks/${t.uid}`)).body;
    assert.equal(task.status, 'processing');
    assert.equal(task.duration, null);
    assert.equal(task.finishedAt, null);
    assert.equal(queue.isProcessing('slow'), true);
    assert.equal(queue.isProcessing('movies'), false);
    const b = (await send('GET', `/batches/${task.batchUid}`)).body;
    assert.deepEqual(b.progress, { steps: [{ currentStep: 'processing tasks', finished: 0, total: 1 }], percentage: 0 });
    assert.equal(b.finishedAt, null);
    assert.deepEqual(b.stats.status, { processing: 1 });
    assert.deepEqual((await send('GET', '/tasks?statuses=processing')).body.results.map((x: TaskView) => x.uid), [t.uid]);
    proc.release();
    await queue.waitIdle();
    assert.equal(queue.isProcessing('slow'), false);
  });
});

describe('pagination (property)', () => {
  it('following `next` visits exactly the filtered tasks, in order, for any limit and direction', async () => {
    const { queue } = setup();
    const indexes = ['a', 'b', 'c'];
    for (let i = 0; i < 40; i++) {
      queue.enqueue({ type: i % 4 === 0 ? 'settingsUpdate' : 'documentAdditionOrUpdate', indexUid: indexes[i % 3]!, details: docs(1) });
    }
    queue.start();
    await queue.waitIdle();
    const access = { allIndexes: true, allowsIndex: () => true };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 45 }), fc.boolean(), fc.subarray(indexes, { minLength: 1 }), (limit, reverse, idx) => {
        const base = { indexUids: idx.join(','), limit: String(limit), reverse: String(reverse) };
        const full = queue.list(parseTasksQuery({ ...base, limit: '1000' }, 'list'), access);
        const seen: number[] = [];
        let from: number | null = null;
        for (let guard = 0; guard < 100; guard++) {
          const q = parseTasksQuery(from === null ? base : { ...base, from: String(from) }, 'list');
          const page = queue.list(q, access);
          assert.equal(page.total, full.total);
          assert.ok(page.results.length <= limit);
          seen.push(...page.results.map((t) => t.uid));
          if (page.next === null) break;
          from = page.next;
        }
        assert.deepEqual(seen, full.results.map((t) => t.uid));
        assert.equal(seen.length, full.total);
      }),
      { numRuns: 60 },
    );
    await queue.close();
  });
});
