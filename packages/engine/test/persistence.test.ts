// Restart on the same data dir: indexes, documents, settings, features and the task list survive,
// the search structures are rebuilt, and internal ids keep growing.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { http, startTestEngine, tempDir, writeAndWait } from './helpers.js';

test('everything survives a restart on the same data dir', async () => {
  const dataDir = tempDir();
  try {
    const first = await startTestEngine({ dataDir });
    const idx = first.client.index('books');
    await idx.addDocuments([
      { id: 1, title: 'Dune', genre: 'scifi' },
      { id: 2, title: 'Emma', genre: 'classic' },
    ]).waitTask();
    await idx.updateSettings({ filterableAttributes: ['genre'], stopWords: ['the'] }).waitTask();
    await first.client.createIndex('empty', { primaryKey: 'sku' }).waitTask();
    await http(first.url, 'PATCH', '/experimental-features', { metrics: true });
    const failed = await writeAndWait(first.url, 'POST', '/indexes/books/documents', [{ id: 'bad id' }]);
    assert.equal(failed.status, 'failed');
    const tasksBefore = (await http(first.url, 'GET', '/tasks?limit=100')).body;
    const statsBefore = (await http(first.url, 'GET', '/indexes/books/stats')).body;
    await first.stop();

    const second = await startTestEngine({ dataDir });
    try {
      const tasksAfter = (await http(second.url, 'GET', '/tasks?limit=100')).body;
      assert.deepEqual(tasksAfter, tasksBefore);
      assert.deepEqual((await http(second.url, 'GET', '/indexes/books/stats')).body, statsBefore);
      assert.deepEqual((await http(second.url, 'GET', '/indexes/books/documents')).body.results, [
        { id: 1, title: 'Dune', genre: 'scifi' },
        { id: 2, title: 'Emma', genre: 'classic' },
      ]);
      const s = await second.client.index('books').getSettings();
      assert.deepEqual(s.filterableAttributes, ['genre']);
      assert.deepEqual(s.stopWords, ['the']);
      assert.equal((await http(second.url, 'GET', '/indexes/empty')).body.primaryKey, 'sku');
      assert.equal((await http(second.url, 'GET', '/experimental-features')).body.metrics, true);
      // The rebuilt index answers filters and searches.
      const filtered = await http(second.url, 'GET', `/indexes/books/documents?filter=${encodeURIComponent('genre = classic')}`);
      assert.deepEqual(filtered.body.results, [{ id: 2, title: 'Emma', genre: 'classic' }]);
      const found = await second.client.index('books').search('dune');
      assert.deepEqual(found.hits, [{ id: 1, title: 'Dune', genre: 'scifi' }]);
      // New tasks continue the uid sequence; new documents go after the old ones.
      const t = await second.client.index('books').addDocuments([{ id: 0, title: 'Zero' }]).waitTask();
      assert.equal(t.uid, tasksBefore.results[0].uid + 1);
      const ids = (await http(second.url, 'GET', '/indexes/books/documents')).body.results.map((d: { id: number }) => d.id);
      assert.deepEqual(ids, [1, 2, 0]);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('API keys survive a restart and keep working', async () => {
  const dataDir = tempDir();
  const MASTER = 'persistence-master-key-0123456789';
  const master = { authorization: `Bearer ${MASTER}` };
  try {
    const first = await startTestEngine({ dataDir, masterKey: MASTER });
    const created = await http(first.url, 'POST', '/keys', { name: 'reader', actions: ['documents.get'], indexes: ['books'], expiresAt: null }, master);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const t = await writeAndWait(first.url, 'POST', '/indexes/books/documents', [{ id: 1 }], master);
    assert.equal(t.status, 'succeeded');
    const keysBefore = (await http(first.url, 'GET', '/keys?limit=100', undefined, master)).body;
    await first.stop();

    const second = await startTestEngine({ dataDir, masterKey: MASTER });
    try {
      assert.deepEqual((await http(second.url, 'GET', '/keys?limit=100', undefined, master)).body, keysBefore);
      const reader = { authorization: `Bearer ${created.body.key}` };
      const docs = await http(second.url, 'GET', '/indexes/books/documents', undefined, reader);
      assert.equal(docs.status, 200);
      assert.deepEqual(docs.body.results, [{ id: 1 }]);
      assert.equal((await http(second.url, 'GET', '/indexes/books/settings', undefined, reader)).status, 403);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
