/**
 * Parity (spec S8, S5.1): `POST /dumps` and `POST /snapshots` through Miroir (3 nodes) are one
 * Miroir task each, shaped as one engine's, that succeeds once every node wrote its dump or
 * snapshot; the same authorization as one node.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertSame, assertSameError, startParity, writeBoth, type Parity } from './parity-kit.js';

let p: Parity;

before(async () => {
  p = await startParity();
  await writeBoth(p, 'POST', '/indexes', { json: { uid: 'movies', primaryKey: 'id' } });
  await writeBoth(p, 'POST', '/indexes/movies/documents', { json: [{ id: 1, title: 'Alien' }] });
});
after(async () => p?.stop());

describe('dumps and snapshots', () => {
  test('POST /dumps: one task, succeeded when every node wrote its dump', async () => {
    const { enqueued, done } = await p.task('POST', '/dumps');
    assertSame(enqueued);
    assertSame(done, { mask: ['dumpUid'] });
    assert.equal(done.mir.body.status, 'succeeded');
    assert.match(done.mir.body.details.dumpUid, /^\d{8}-\d{9}$/);
    for (const e of p.cluster.engines) {
      const files = readdirSync(join(e.dataDir, 'dumps'));
      assert.equal(files.length, 1, `${e.dataDir}: ${files.join(', ')}`);
      assert.match(files[0]!, /^\d{8}-\d{9}\.dump$/);
    }
    assert.ok(existsSync(join(p.cluster.engines[0]!.dataDir, 'dumps', `${done.mir.body.details.dumpUid}.dump`)));
    // The task reads back in the task list as on one node.
    assertSame(await p.both('GET', '/tasks?types=dumpCreation'), { mask: ['dumpUid'] });
  });

  test('POST /snapshots: one task without details, a snapshot on every node', async () => {
    const { enqueued, done } = await p.task('POST', '/snapshots');
    assertSame(enqueued);
    assertSame(done);
    assert.equal(done.mir.body.status, 'succeeded');
    assert.ok(!('details' in done.mir.body));
    for (const e of p.cluster.engines) assert.deepEqual(readdirSync(join(e.dataDir, 'snapshots')), ['data.ms.snapshot']);
  });

  test('authorization as one node', async () => {
    for (const path of ['/dumps', '/snapshots']) {
      assertSameError(await p.both('POST', path, { auth: null }), 401, 'missing_authorization_header');
      assertSameError(await p.both('POST', path, { auth: 'not-a-key' }), 403, 'invalid_api_key');
    }
  });
});
