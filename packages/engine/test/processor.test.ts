// The processor applies each task once: a task re-run after a crash that followed its commit
// returns the recorded details instead of failing (e.g. `index_already_exists`).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { defaultSettings, documentId, inferPrimaryKey, parseDocumentsPayload, validateDocumentIdValue } from '@miroir/protocol';
import { SearchIndex } from '@miroir/search';
import { Processor } from '../src/processor.js';
import { Registry } from '../src/registry.js';
import { Store } from '../src/store.js';
import { tempDir } from './helpers.js';

test('a task already applied is not applied twice', () => {
  const dir = tempDir();
  const store = new Store(dir);
  try {
    const registry = new Registry(store, (s, o) => new SearchIndex(s, o));
    const p = new Processor(store, registry, { parseDocumentsPayload, inferPrimaryKey, documentId, validateDocumentIdValue });
    const create = { uid: 0, type: 'indexCreation', indexUid: 'once', details: { primaryKey: 'id' } };
    assert.deepEqual(p.process(create, JSON.stringify({ primaryKey: 'id' })), { primaryKey: 'id' });
    assert.deepEqual(p.process(create, JSON.stringify({ primaryKey: 'id' })), { primaryKey: 'id' });
    const add = { uid: 1, type: 'documentAdditionOrUpdate', indexUid: 'once', details: { receivedDocuments: 1, indexedDocuments: null } };
    const payload = JSON.stringify({ method: 'replace', documents: [{ id: 1 }] });
    assert.deepEqual(p.process(add, payload), { receivedDocuments: 1, indexedDocuments: 1 });
    assert.deepEqual(p.process(add, payload), { receivedDocuments: 1, indexedDocuments: 1 });
    assert.equal(registry.require('once').numberOfDocuments, 1);
    // A new uid is applied normally.
    assert.throws(() => p.process({ ...create, uid: 2 }, JSON.stringify({ primaryKey: 'id' })), { code: 'index_already_exists' });
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unexpected failure in the middle of a write leaves memory as the store has it', () => {
  const dir = tempDir();
  const store = new Store(dir);
  try {
    // A search core that breaks on one document stands in for an unexpected internal error.
    const factory = (s: ReturnType<typeof defaultSettings>, o: { getDocument(iid: number): Record<string, unknown> | undefined }) => {
      const core = new SearchIndex(s, o);
      const add = core.add.bind(core);
      core.add = (iid, doc) => {
        if (doc.boom === true) throw new Error('disk on fire');
        add(iid, doc);
      };
      return core;
    };
    const registry = new Registry(store, factory);
    const p = new Processor(store, registry, { parseDocumentsPayload, inferPrimaryKey, documentId, validateDocumentIdValue });
    const add = (uid: number, documents: unknown[]) =>
      p.process(
        { uid, type: 'documentAdditionOrUpdate', indexUid: 'x', details: { receivedDocuments: documents.length, indexedDocuments: null } },
        JSON.stringify({ method: 'replace', documents }),
      );
    add(0, [{ id: 0, t: 'kept' }]);
    assert.throws(() => add(1, [{ id: 0, t: 'changed' }, { id: 1 }, { id: 2, boom: true }]), /disk on fire/);
    const idx = registry.require('x');
    assert.equal(idx.numberOfDocuments, 1);
    assert.deepEqual(idx.document(idx.ids.get('0')!), { id: 0, t: 'kept' });
    assert.deepEqual(idx.search.search({ q: 'kept' }, 'x').hits, [{ id: 0, t: 'kept' }]);
    assert.deepEqual(idx.search.search({ q: 'changed' }, 'x').hits, []);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
