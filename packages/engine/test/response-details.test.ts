// Details of Meilisearch v1.50 answers the official client suite checks, each as found in
// Meilisearch's source: `performanceDetails` (routes/indexes/search.rs, federated/types.rs),
// batch `stats.progressTrace` (index-scheduler utils.rs `write_stats`), numbers as strings in
// `_formatted` (search/mod.rs `format_value`), documents-fetch filter errors without the index
// prefix (routes/indexes/documents.rs), embedders as derived from their config (milli
// vector/settings.rs `From<EmbeddingConfig>`), and `GET /tasks/{uid}/documents` (routes/tasks.rs).
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { DEFAULT_DOCUMENT_TEMPLATE } from '@miroir/protocol';
import { http, meiliError, startTestEngine, writeAndWait } from './helpers.js';
import type { TestEngine } from './helpers.js';

const MASTER = 'response-details-master-key-0123456789';
const master = { authorization: `Bearer ${MASTER}` };
let e: TestEngine;

/** Rust's `{:.2?}` of a `Duration`. */
const DURATION = /^\d+\.\d{2}(s|ms|µs|ns)$/;

before(async () => {
  e = await startTestEngine({ masterKey: MASTER });
  const d = await writeAndWait(e.url, 'POST', '/indexes/books/documents', [
    { id: 456, title: 'Le Petit Prince', isNull: null, isTrue: true, genre: 'tale' },
    { id: 4, title: 'Harry Potter and the Half-Blood Prince', isNull: null, isTrue: false, genre: 'fantasy' },
  ], master);
  assert.equal(d.status, 'succeeded', JSON.stringify(d.error));
});
after(async () => {
  await e.close();
});

test('search with showPerformanceDetails: step durations after the other keys; absent otherwise', async () => {
  const r = await http(e.url, 'POST', '/indexes/books/search', { q: 'prince', showPerformanceDetails: true }, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const keys = Object.keys(r.body);
  assert.equal(keys.at(-1), 'performanceDetails');
  assert.ok(Object.keys(r.body.performanceDetails).includes('search'));
  for (const v of Object.values(r.body.performanceDetails)) assert.match(v as string, DURATION);
  const get = await http(e.url, 'GET', '/indexes/books/search?q=prince&showPerformanceDetails=true', undefined, master);
  assert.match(get.body.performanceDetails.search, DURATION);
  const plain = await http(e.url, 'POST', '/indexes/books/search', { q: 'prince' }, master);
  assert.equal('performanceDetails' in plain.body, false);
});

test('multi-search: per query without federation, once at the top with federation.showPerformanceDetails', async () => {
  const multi = await http(e.url, 'POST', '/multi-search', { queries: [{ indexUid: 'books', q: 'prince', showPerformanceDetails: true }, { indexUid: 'books', q: 'x' }] }, master);
  assert.equal(multi.status, 200, JSON.stringify(multi.body));
  assert.match(multi.body.results[0].performanceDetails.search, DURATION);
  assert.equal('performanceDetails' in multi.body.results[1], false);
  const fed = await http(e.url, 'POST', '/multi-search', { federation: { showPerformanceDetails: true }, queries: [{ indexUid: 'books', q: '456' }] }, master);
  assert.equal(fed.status, 200, JSON.stringify(fed.body));
  assert.match(fed.body.performanceDetails.search, DURATION);
});

test('a finished batch reports a progressTrace of step durations', async () => {
  const t = await writeAndWait(e.url, 'POST', '/indexes/traced/documents', [{ id: 1 }], master);
  const b = await http(e.url, 'GET', `/batches/${t.batchUid}`, undefined, master);
  assert.equal(b.status, 200);
  assert.deepEqual(Object.keys(b.body.stats), ['totalNbTasks', 'status', 'types', 'indexUids', 'progressTrace']);
  assert.match(b.body.stats.progressTrace['processing tasks'], DURATION);
});

test('_formatted: every number becomes a string, highlighted or not; booleans and null stay', async () => {
  for (const attributesToHighlight of [['title'], ['title', 'id']]) {
    const r = await http(e.url, 'POST', '/indexes/books/search', { q: 'petit', attributesToHighlight }, master);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const f = r.body.hits[0]._formatted;
    assert.equal(f.id, '456');
    assert.equal(f.isNull, null);
    assert.equal(f.isTrue, true);
    assert.equal(r.body.hits[0].id, 456);
  }
});

test('filter on a non-filterable attribute: no index prefix on documents fetch, prefix on search and delete by filter', async () => {
  const msg = 'Attribute `id` is not filterable. This index does not have configured filterable attributes.\n1:3 id = 1';
  const post = await http(e.url, 'POST', '/indexes/books/documents/fetch', { filter: 'id = 1' }, master);
  assert.equal(post.status, 400);
  assert.deepEqual(post.body, meiliError('invalid_document_filter', msg));
  const get = await http(e.url, 'GET', `/indexes/books/documents?filter=${encodeURIComponent('id = 1')}`, undefined, master);
  assert.deepEqual(get.body, meiliError('invalid_document_filter', msg));
  const search = await http(e.url, 'POST', '/indexes/books/search', { filter: 'id = 1' }, master);
  assert.deepEqual(search.body, meiliError('invalid_search_filter', `Index \`books\`: ${msg}`));
  const del = await writeAndWait(e.url, 'POST', '/indexes/books/documents/delete', { filter: 'id = 1' }, master);
  assert.equal(del.status, 'failed');
  assert.equal(del.error.message, `Index \`books\`: ${msg}`);
});

test('embedders are shown as Meilisearch derives them: defaults per source, milli key order', async () => {
  const t = await writeAndWait(e.url, 'PATCH', '/indexes/emb/settings', {
    embedders: {
      hf: { source: 'huggingFace', model: 'sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2' },
      hfDefault: { source: 'huggingFace' },
      oa: { source: 'openAi', apiKey: 'sk-0123456789abcdefghijklmnopqrstuv', binaryQuantized: false },
      manual: { source: 'userProvided', dimensions: 3 },
      rest: { source: 'rest', url: 'http://127.0.0.1:1/embed', request: { input: '{{text}}' }, response: { e: '{{embedding}}' }, documentTemplate: '{{doc.title}}', documentTemplateMaxBytes: 100 },
      both: {
        source: 'composite',
        searchEmbedder: { source: 'huggingFace', model: 'baai/bge-small-en-v1.5' },
        indexingEmbedder: { source: 'rest', url: 'http://127.0.0.1:1/embed', request: { input: '{{text}}' }, response: { e: '{{embedding}}' } },
      },
    },
  }, master);
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
  const r = await http(e.url, 'GET', '/indexes/emb/settings/embedders', undefined, master);
  assert.equal(r.status, 200);
  const emb = r.body;
  assert.deepEqual(Object.entries(emb.hf), Object.entries({
    source: 'huggingFace',
    model: 'sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2',
    pooling: 'useModel',
    documentTemplate: DEFAULT_DOCUMENT_TEMPLATE,
    documentTemplateMaxBytes: 400,
  }));
  assert.equal(emb.hfDefault.model, 'BAAI/bge-base-en-v1.5');
  assert.equal(emb.hfDefault.revision, '617ca489d9e86b49b8167676d8220688b99db36e');
  assert.deepEqual(Object.keys(emb.oa), ['source', 'model', 'apiKey', 'binaryQuantized', 'documentTemplate', 'documentTemplateMaxBytes']);
  assert.equal(emb.oa.model, 'text-embedding-3-small');
  assert.equal(emb.oa.apiKey, 'sk-01XXXXXX...');
  assert.deepEqual(emb.manual, { source: 'userProvided', dimensions: 3 });
  assert.deepEqual(Object.entries(emb.rest), Object.entries({
    source: 'rest',
    documentTemplate: '{{doc.title}}',
    documentTemplateMaxBytes: 100,
    url: 'http://127.0.0.1:1/embed',
    request: { input: '{{text}}' },
    response: { e: '{{embedding}}' },
    headers: {},
  }));
  assert.deepEqual(emb.both, {
    source: 'composite',
    searchEmbedder: { source: 'huggingFace', model: 'baai/bge-small-en-v1.5', pooling: 'useModel' },
    indexingEmbedder: {
      source: 'rest',
      documentTemplate: DEFAULT_DOCUMENT_TEMPLATE,
      documentTemplateMaxBytes: 400,
      url: 'http://127.0.0.1:1/embed',
      request: { input: '{{text}}' },
      response: { e: '{{embedding}}' },
      headers: {},
    },
  });
  const all = await http(e.url, 'GET', '/indexes/emb/settings', undefined, master);
  assert.deepEqual(all.body.embedders, emb);
});

test('GET /tasks/{uid}/documents: behind getTaskDocumentsRoute; task_not_found; no documents once processed', async () => {
  const off = await http(e.url, 'GET', '/tasks/0/documents', undefined, master);
  assert.deepEqual(off.body, meiliError('feature_not_enabled', 'Getting the documents of an enqueued task requires enabling the `get task documents route` experimental feature. See https://github.com/orgs/meilisearch/discussions/808'));
  const on = await http(e.url, 'PATCH', '/experimental-features', { getTaskDocumentsRoute: true }, master);
  assert.equal(on.status, 200, JSON.stringify(on.body));
  const missing = await http(e.url, 'GET', '/tasks/254500/documents', undefined, master);
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, meiliError('task_not_found', 'Task `254500` not found.'));
  const bad = await http(e.url, 'GET', '/tasks/abc/documents', undefined, master);
  assert.equal(bad.body.code, 'invalid_task_uids');
  const t = await writeAndWait(e.url, 'POST', '/indexes/books/documents', [{ id: 9, title: 'x' }], master);
  const done = await http(e.url, 'GET', `/tasks/${t.uid}/documents`, undefined, master);
  assert.equal(done.status, 404);
  assert.deepEqual(done.body, meiliError('task_file_not_found', `Task \`${t.uid}\` does not contain any documents. Only \`documentAdditionOrUpdate\` tasks with the statuses \`enqueued\` or \`processing\` contain documents`));
  const none = await http(e.url, 'GET', '/tasks/0/documents', undefined, {});
  assert.equal(none.body.code, 'missing_authorization_header');
});

test('stats: sizeFormat raw (default) or human, showInternalDatabaseSizes, parameter errors (routes/indexes/mod.rs)', async () => {
  const raw = await http(e.url, 'GET', '/indexes/books/stats', undefined, master);
  assert.equal(typeof raw.body.rawDocumentDbSize, 'number');
  assert.equal('internalDatabaseSizes' in raw.body, false);
  const human = await http(e.url, 'GET', '/indexes/books/stats?sizeFormat=human&showInternalDatabaseSizes=true', undefined, master);
  assert.equal(human.status, 200, JSON.stringify(human.body));
  assert.deepEqual(Object.keys(human.body), ['numberOfDocuments', 'rawDocumentDbSize', 'avgDocumentSize', 'isIndexing', 'internalDatabaseSizes', 'numberOfEmbeddings', 'numberOfEmbeddedDocuments', 'fieldDistribution']);
  assert.match(human.body.rawDocumentDbSize, /^\d+(\.\d{1,2})? (B|KiB|MiB)$/);
  for (const v of Object.values(human.body.internalDatabaseSizes)) assert.match(v as string, /^\d+(\.\d{1,2})? (B|KiB|MiB)$/);
  const all = await http(e.url, 'GET', '/stats?sizeFormat=human', undefined, master);
  assert.match(all.body.databaseSize, /^\d+(\.\d{1,2})? (B|KiB|MiB|GiB)$/);
  assert.match(all.body.indexes.books.avgDocumentSize, / (B|KiB)$/);
  assert.deepEqual((await http(e.url, 'GET', '/stats?sizeFormat=humn', undefined, master)).body, meiliError(
    'invalid_stats_size_format',
    'Unknown value `humn` for parameter `sizeFormat`: did you mean `human`? expected one of `human`, `raw`',
  ));
  assert.deepEqual((await http(e.url, 'GET', '/indexes/books/stats?showInternalDatabaseSizes=yes', undefined, master)).body, meiliError(
    'invalid_stats_show_internal_database_sizes',
    'Invalid value in parameter `showInternalDatabaseSizes`: could not parse `yes` as a boolean, expected either `true` or `false`',
  ));
  assert.equal((await http(e.url, 'GET', '/stats?size=1', undefined, master)).body.code, 'bad_request');
});

test('a phrase is one match: one highlighted span, one _matchesPosition entry; its words alone do not match (milli matches/mod.rs)', async () => {
  const d = await writeAndWait(e.url, 'POST', '/indexes/phrases/documents', [{ id: 1, text: 'Le Petit Prince is a small prince' }], master);
  assert.equal(d.status, 'succeeded');
  const r = await http(e.url, 'POST', '/indexes/phrases/search', { q: '"petit prince" small', attributesToHighlight: ['text'], showMatchesPosition: true }, master);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.hits[0]._formatted.text, 'Le <em>Petit Prince</em> is a <em>small</em> prince');
  assert.deepEqual(r.body.hits[0]._matchesPosition, { text: [{ start: 3, length: 12 }, { start: 21, length: 5 }] });
  const crop = await http(e.url, 'POST', '/indexes/phrases/search', { q: '"small prince"', attributesToCrop: ['text:3'], attributesToHighlight: ['text'] }, master);
  assert.equal(crop.body.hits[0]._formatted.text, '…a <em>small prince</em>');
});

test('_geojson documents in geo filters (meilisearch tests/documents/geojson)', async () => {
  const s = await writeAndWait(e.url, 'PATCH', '/indexes/shapes/settings', { filterableAttributes: ['_geojson'] }, master);
  assert.equal(s.status, 'succeeded');
  const d = await writeAndWait(e.url, 'POST', '/indexes/shapes/documents', [
    { id: 'missing' },
    { id: 'point', _geojson: { type: 'Point', coordinates: [1, 1] } },
    { id: 'geoOnly', _geo: { lat: 1, lng: 1 } },
  ], master);
  assert.equal(d.status, 'succeeded', JSON.stringify(d.error));
  const ids = async (filter: string) => {
    const r = await http(e.url, 'GET', `/indexes/shapes/search?filter=${encodeURIComponent(filter)}`, undefined, master);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.hits.map((h: { id: string }) => h.id);
  };
  assert.deepEqual(await ids('_geoPolygon([0,0],[0,2],[2,2],[2,0])'), ['point']);
  assert.deepEqual(await ids('_geoPolygon([0,0],[0,0.9],[0.9,0.9],[0.9,0])'), []);
  // `_geo` is not filterable here: only the GeoJSON shape answers radius and box filters.
  assert.deepEqual(await ids('_geoRadius(1, 1, 1000)'), ['point']);
  assert.deepEqual(await ids('_geoBoundingBox([2, 2], [0, 0])'), ['point']);
  const bad = await http(e.url, 'POST', '/indexes/books/search', { filter: '_geoPolygon([0, 0], [0, 2], [2, 2], [2, 0])' }, master);
  assert.deepEqual(bad.body, meiliError(
    'invalid_search_filter',
    'Index `books`: Attribute `_geojson` is not filterable. This index does not have configured filterable attributes.\n14:15 _geoPolygon([0, 0], [0, 2], [2, 2], [2, 0])',
  ));
});
