/**
 * `_vectors` of documents sent for a user-provided embedder are validated when the documents task
 * runs: a bad value fails the whole task (and changes nothing), as on Meilisearch.
 */
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { http, startTestEngine, writeAndWait, type TestEngine } from './helpers.js';

let e: TestEngine;
before(async () => {
  e = await startTestEngine();
  const t = await writeAndWait(e.url, 'PATCH', '/indexes/vec/settings', { embedders: { emb: { source: 'userProvided', dimensions: 3 } } });
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
});
after(async () => e?.close());

test('a _vectors value that is not an object fails the task, and nothing is written', async () => {
  const t = await writeAndWait(e.url, 'POST', '/indexes/vec/documents?primaryKey=id', [
    { id: 1, _vectors: { emb: [0.1, 0.2, 0.3] } },
    { id: 2, _vectors: [1, 2, 3] },
  ]);
  assert.equal(t.status, 'failed');
  assert.equal(t.error.code, 'invalid_vectors_type');
  const docs = await http(e.url, 'GET', '/indexes/vec/documents');
  assert.equal(docs.body.total, 0);
});

test('vectors of the wrong dimension fail the task', async () => {
  const t = await writeAndWait(e.url, 'POST', '/indexes/vec/documents?primaryKey=id', [{ id: 3, _vectors: { emb: [0.1, 0.2] } }]);
  assert.equal(t.status, 'failed');
  assert.equal(t.error.code, 'invalid_vector_dimensions');
});

test('valid vectors are indexed and returned with retrieveVectors', async () => {
  const t = await writeAndWait(e.url, 'POST', '/indexes/vec/documents?primaryKey=id', [{ id: 4, _vectors: { emb: [0.1, 0.2, 0.3] } }]);
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
  const d = await http(e.url, 'GET', '/indexes/vec/documents/4?retrieveVectors=true');
  assert.deepEqual(d.body._vectors.emb.embeddings.length, 1);
});

test('retrieveVectors lists every configured embedder, empty where a document has no vectors', async () => {
  const t = await writeAndWait(e.url, 'POST', '/indexes/vec/documents?primaryKey=id', [{ id: 5, title: 'no vectors' }]);
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
  const d = await http(e.url, 'GET', '/indexes/vec/documents/5?retrieveVectors=true');
  assert.deepEqual(d.body._vectors, { emb: { embeddings: [], regenerate: false } });
});
