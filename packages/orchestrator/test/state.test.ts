/**
 * Both state stores against one conformance suite: SQLite (a file per test) and Redis (a key
 * prefix per test on the shared Redis; see redis-kit.ts for when it is skipped).
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { SqliteStore } from '../src/state/sqlite.js';
import { conformance, row } from './state-conformance.js';
import { dropPrefix, openRedis, REDIS_URL, redisSkip, testPrefix } from './redis-kit.js';

const dir = mkdtempSync(join(tmpdir(), 'miroir-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

conformance({
  name: 'sqlite',
  skip: async () => undefined,
  fresh: async () => {
    const path = join(dir, `store-${seq++}.db`);
    return { open: async () => new SqliteStore(path), cleanup: async () => rmSync(path, { force: true }) };
  },
});

conformance({
  name: 'redis',
  skip: redisSkip,
  fresh: async () => {
    const prefix = testPrefix();
    return { open: () => openRedis(prefix), cleanup: () => dropPrefix(prefix) };
  },
});

test('redis: rows use the S4.2 keyspace under the configured prefix, and a malformed row is refused', async (t) => {
  const skip = await redisSkip();
  if (skip) return t.skip(skip);
  const prefix = testPrefix();
  const s = await openRedis(prefix);
  const raw = new Redis(REDIS_URL);
  try {
    await s.nextTaskUid();
    await s.putTask(row(0, 'enqueued'));
    await s.putIndexMeta({ uid: 'movies', primaryKey: 'id', shards: 4, settingsVersion: 0, createdAt: 'x' });
    const keys = (await raw.keys(`${prefix}*`)).map((k) => k.slice(prefix.length)).sort();
    assert.deepEqual(keys, ['index_meta:_index', 'index_meta:movies', 'tasks:0', 'tasks:_index', 'tasks:_pending', 'tasks:_seq']);
    assert.equal(await raw.hget(`${prefix}tasks:0`, 'status'), 'enqueued');
    await raw.hset(`${prefix}tasks:0`, 'row', JSON.stringify({ ...row(0, 'enqueued'), status: 'bogus' }));
    await assert.rejects(s.getTask(0), /the tasks row 0 is malformed/);
  } finally {
    await s.destroy();
    await s.close();
    raw.disconnect();
  }
});
