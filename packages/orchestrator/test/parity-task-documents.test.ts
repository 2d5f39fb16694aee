/**
 * Parity (spec S8): `GET /tasks/{uid}/documents` (experimental `getTaskDocumentsRoute`) through
 * Miroir (3 nodes, RF=2) answers as one node: the feature gate, `invalid_task_uids`,
 * `task_not_found`, `task_file_not_found` for a processed task or a task of another type, and for
 * a task still enqueued, its documents as NDJSON, each once, without reserved fields.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mergeTaskDocuments } from '../src/core/task-documents.js';
import { assertSame, assertSameError, send, startParity, writeBoth, type Parity } from './parity-kit.js';

/** The nodes' master key in the test harness. */
const NODE_KEY = 'node-master-key-for-tests';

let p: Parity;
before(async () => {
  p = await startParity();
  await writeBoth(p, 'POST', '/indexes', { json: { uid: 'books', primaryKey: 'id' } });
});
after(async () => p?.stop());

describe('GET /tasks/{uid}/documents', () => {
  test('behind the experimental feature, as one node', async () => {
    assertSameError(await p.both('GET', '/tasks/0/documents'), 400, 'feature_not_enabled');
    assertSameError(await p.both('GET', '/tasks/abc/documents'), 400, 'feature_not_enabled');
    assertSame(await p.both('PATCH', '/experimental-features', { json: { getTaskDocumentsRoute: true } }));
  });

  test('errors: invalid uid, unknown task, no documents', async () => {
    assertSameError(await p.both('GET', '/tasks/abc/documents'), 400, 'invalid_task_uids');
    assertSameError(await p.both('GET', '/tasks/254500/documents'), 404, 'task_not_found');
    const added = await writeBoth(p, 'POST', '/indexes/books/documents', { json: [{ id: 1, title: 'a' }] });
    const processed = await p.both('GET', `/tasks/${added.ref.body.uid}/documents`);
    assert.equal(processed.mir.status, 404);
    assert.equal(processed.mir.body.code, 'task_file_not_found');
    assert.equal(processed.mir.body.message, processed.ref.body.message.replace(String(added.ref.body.uid), String(added.mir.body.uid)));
    const settings = await writeBoth(p, 'PATCH', '/indexes/books/settings', { json: { sortableAttributes: ['title'] } });
    const [r, m] = await Promise.all([
      send(p.ref, 'GET', `/tasks/${settings.ref.body.uid}/documents`),
      send(p.mir, 'GET', `/tasks/${settings.mir.body.uid}/documents`),
    ]);
    assert.equal(m.status, r.status);
    assert.equal(m.body.code, 'task_file_not_found');
  });

  test('an enqueued task: its documents once each, reserved fields removed', async () => {
    // A backlog on every node first, sent straight to the nodes at once (an index Miroir does not
    // serve): a node processes one task at a time and answers requests between two tasks, so the
    // task below stays enqueued while Miroir reads it. How long a backlog lasts depends on the
    // machine's load: when the nodes got through it before the read (each answered
    // task_file_not_found), or were so busy that Miroir found no replica to take the write (503),
    // the attempt is made again.
    const big = (n: number) => Array.from({ length: 1500 }, (_, i) => ({ id: 10_000 * n + i, title: `backlog ${n} ${i}`, text: 'lorem ipsum dolor sit amet '.repeat(4) }));
    const docs = [{ id: 'x1', title: 'first' }, { id: 'x2', title: 'second', year: 2001 }, { id: 'x3', title: 'third' }];
    let res: Awaited<ReturnType<typeof send>> | undefined;
    for (let attempt = 0; attempt < 6 && res?.status !== 200; attempt++) {
      const backlog = await Promise.all(
        p.cluster.engines.flatMap((e) =>
          Array.from({ length: 20 }, (_, n) => send({ name: 'reference', url: e.url, key: NODE_KEY }, 'POST', '/indexes/backlog/documents', { json: big(n) })),
        ),
      );
      for (const r of backlog) assert.equal(r.status, 202, JSON.stringify(r.body));
      const t = await send(p.mir, 'POST', '/indexes/books/documents', { json: docs });
      if (t.status === 503) {
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      assert.equal(t.status, 202, JSON.stringify(t.body));
      res = await send(p.mir, 'GET', `/tasks/${t.body.taskUid}/documents`);
      await p.wait(p.mir, t.body.taskUid);
      if (res.status !== 200) assert.equal(res.body.code, 'task_file_not_found', JSON.stringify(res.body));
    }
    assert.equal(res?.status, 200, JSON.stringify(res?.body));
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const text = typeof res.body === 'string' ? res.body : '';
    const lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    assert.deepEqual(lines.sort((a, b) => a.id.localeCompare(b.id)), docs);
    assert.ok(text.endsWith('\n'));
  });
});

describe('mergeTaskDocuments', () => {
  test('union of the nodes’ parts: replicas once, reserved fields removed, node order', () => {
    const a = '{"id":1,"t":"a","_miroir_shard":3,"_miroir_updated_at":5}\n{"id":"2","t":"b","_miroir_shard":0}\n';
    const b = '{"id":2,"t":"b","_miroir_shard":0}\n{"id":3,"t":"c","_miroir_shard":1}\n';
    assert.equal(mergeTaskDocuments([a, b], 'id'), '{"id":1,"t":"a"}\n{"id":"2","t":"b"}\n{"id":3,"t":"c"}\n');
    assert.equal(mergeTaskDocuments(['{"t":"x","_miroir_shard":1}\n', '{"t":"x"}\n{"t":"y"}'], null), '{"t":"x"}\n{"t":"y"}\n');
    assert.equal(mergeTaskDocuments([], 'id'), '');
  });
});
