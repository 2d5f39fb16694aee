// The SQLite store: indexes and documents round-trip, pages read in iid order, and iterating a
// whole index leaves the connection free for other statements.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { defaultSettings } from '@miroir/protocol';
import { Store } from '../src/store.js';
import { tempDir } from './helpers.js';

test('documents iterate in pages while other statements run', () => {
  const dir = tempDir();
  const store = new Store(dir);
  try {
    const id = store.insertIndex('s', 'id', '2026-01-01T00:00:00Z', defaultSettings());
    store.transaction(() => {
      for (let i = 0; i < 4500; i++) store.putDocument(id, i, String(i), JSON.stringify({ id: i }));
    });
    let n = 0;
    for (const d of store.documents(id)) {
      // Another statement on the same connection in the middle of the iteration.
      assert.equal(store.documentBody(id, d.iid), d.body);
      assert.equal(d.iid, n);
      n++;
    }
    assert.equal(n, 4500);
    assert.deepEqual(store.documentPage(id, 10, 2).map((r) => r.iid), [10, 11]);
    const [row] = store.listIndexes();
    assert.deepEqual({ uid: row.uid, primaryKey: row.primaryKey, settings: row.settings }, { uid: 's', primaryKey: 'id', settings: defaultSettings() });
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
