/**
 * The SDK round trip (issue acceptance: create index → add documents → waitForTask → search → update
 * settings → waitForTask → search via synonym → get document → delete index), for any endpoint that
 * should behave as one Meilisearch: one orchestrator, or several behind a spreading client.
 */
import * as assert from 'node:assert/strict';
import type { Meilisearch } from 'meilisearch';

export async function sdkRoundTrip(client: Meilisearch): Promise<void> {
  const created = await client.createIndex('movies', { primaryKey: 'id' });
  assert.equal(typeof created.taskUid, 'number');
  assert.equal((await client.tasks.waitForTask(created.taskUid)).status, 'succeeded');

  const movies = [
    { id: 1, title: 'Carol', genre: 'drama' },
    { id: 2, title: 'Wonder Woman', genre: 'action' },
    { id: 3, title: 'Life of Pi', genre: 'adventure' },
    { id: 4, title: 'Mad Max: Fury Road', genre: 'action' },
    { id: 5, title: 'Moana', genre: 'animation' },
  ];
  const index = client.index('movies');
  const add = await index.addDocuments(movies);
  const addTask = await client.tasks.waitForTask(add.taskUid);
  assert.equal(addTask.status, 'succeeded');
  assert.equal(addTask.type, 'documentAdditionOrUpdate');
  assert.deepEqual(addTask.details, { receivedDocuments: 5, indexedDocuments: 5 });

  const res = await index.search('wonder');
  assert.deepEqual(res.hits, [{ id: 2, title: 'Wonder Woman', genre: 'action' }]);
  assert.equal(res.estimatedTotalHits, 1);
  assert.equal(res.query, 'wonder');

  const settings = await index.updateSettings({ synonyms: { superhero: ['wonder'] } });
  assert.equal((await client.tasks.waitForTask(settings.taskUid)).status, 'succeeded');
  assert.deepEqual((await index.getSettings()).synonyms, { superhero: ['wonder'] });
  const viaSynonym = await index.search('superhero');
  assert.deepEqual(
    viaSynonym.hits.map((h) => h.id),
    [2],
  );

  assert.deepEqual(await index.getDocument(4), { id: 4, title: 'Mad Max: Fury Road', genre: 'action' });

  const del = await client.deleteIndex('movies');
  assert.equal((await client.tasks.waitForTask(del.taskUid)).status, 'succeeded');
  await assert.rejects(client.getIndex('movies'), (e: Error & { cause?: { code?: string } }) => e.cause?.code === 'index_not_found');
}
