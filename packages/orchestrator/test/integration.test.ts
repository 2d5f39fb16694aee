/**
 * Integration tests from the spec's testing section (S8, S17 items 1–9, 12–15, 20–21), against three
 * real engine nodes behind a real orchestrator.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

const COLORS = ['red', 'green', 'blue'];
/**
 * A word unique to document i that no other document's word matches even with a typo or as a
 * prefix: one two-letter syllable per decimal digit, no letter shared between syllables, so two
 * keywords (8 letters, one typo allowed) differ by at least two substitutions.
 */
const SYL = ['bq', 'cw', 'dx', 'fz', 'gj', 'hk', 'lv', 'mp', 'ny', 'rt'];
const keyword = (i: number) => [...String(i).padStart(4, '0')].map((d) => SYL[Number(d)]).join('');
const docs = Array.from({ length: 1000 }, (_, i) => ({
  id: i,
  title: `document number ${i}`,
  keyword: keyword(i),
  color: COLORS[i % 3],
  price: i % 97,
}));

describe('RF=1, three nodes', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({ nodes: 3, rf: 1, shards: 16 });
    const t1 = await c.client.createIndex('items', { primaryKey: 'id' });
    const t2 = await c.client.index('items').updateSettings({ filterableAttributes: ['color', 'price'], sortableAttributes: ['price'] });
    const t3 = await c.client.index('items').addDocuments(docs);
    for (const t of [t1, t2, t3]) assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
  });
  after(async () => c?.stop());

  test('GET /health answers without auth', async () => {
    const r = await http(c.url, 'GET', '/health');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'available' });
  });

  test('1,000 documents round-trip by id and are spread over every node', async () => {
    for (const i of [0, 1, 17, 499, 999]) assert.deepEqual(await c.client.index('items').getDocument(i), docs[i]);
    let sum = 0;
    for (let n = 0; n < 3; n++) {
      const count = (await c.nodeClient(n).index('items').getDocuments({ limit: 0 })).total;
      assert.ok(count > 0, `node ${n} holds some documents`);
      sum += count;
    }
    assert.equal(sum, 1000);
  });

  test('no response exposes a reserved field', async () => {
    const one = await http(c.url, 'GET', '/indexes/items/documents/5');
    assert.deepEqual(Object.keys(one.body).sort(), ['color', 'id', 'keyword', 'price', 'title']);
    const page = await http(c.url, 'GET', '/indexes/items/documents?limit=5');
    for (const d of page.body.results) assert.ok(!Object.keys(d).some((k) => k.startsWith('_miroir')));
    const search = await c.client.index('items').search('document', { limit: 5, attributesToHighlight: ['*'] });
    for (const h of search.hits) {
      assert.ok(!Object.keys(h).some((k) => k.startsWith('_miroir')));
      assert.ok(!Object.keys(h._formatted ?? {}).some((k) => k.startsWith('_miroir')));
    }
  });

  test('a keyword unique to one document is found exactly once', async () => {
    for (const i of [3, 400, 998]) {
      const r = await c.client.index('items').search(docs[i]!.keyword);
      assert.equal(r.estimatedTotalHits, 1);
      assert.deepEqual(r.hits, [docs[i]]);
    }
  });

  test('facet counts sum to the document count', async () => {
    const r = await c.client.index('items').search('', { facets: ['color'], limit: 0 });
    assert.deepEqual(r.facetDistribution, { color: { blue: 333, green: 333, red: 334 } });
    assert.equal(r.estimatedTotalHits, 1000);
    const paged = await c.client.index('items').search('', { hitsPerPage: 10, page: 3 });
    assert.equal(paged.totalHits, 1000);
    assert.equal(paged.totalPages, 100);
  });

  test('five pages of ten concatenate to the limit=50 answer', async () => {
    const opts = { sort: ['price:asc'], filter: 'color = red' };
    const all = await c.client.index('items').search('document', { ...opts, limit: 50 });
    const pages = [];
    for (let p = 0; p < 5; p++) pages.push(...(await c.client.index('items').search('document', { ...opts, limit: 10, offset: p * 10 })).hits);
    assert.deepEqual(pages, all.hits);
    const byPage = [];
    for (let p = 1; p <= 5; p++) byPage.push(...(await c.client.index('items').search('document', { ...opts, hitsPerPage: 10, page: p })).hits);
    assert.deepEqual(byPage, all.hits);
    const prices = all.hits.map((h) => h.price as number);
    assert.deepEqual(prices, [...prices].sort((a, b) => a - b));
  });

  test('document listing paginates globally and deterministically', async () => {
    const all = await http(c.url, 'GET', '/indexes/items/documents?limit=60');
    assert.equal(all.body.total, 1000);
    assert.equal(all.body.results.length, 60);
    const parts = [];
    for (let off = 0; off < 60; off += 20) parts.push(...(await http(c.url, 'GET', `/indexes/items/documents?offset=${off}&limit=20`)).body.results);
    assert.deepEqual(parts, all.body.results);
    assert.equal(new Set(parts.map((d: { id: number }) => d.id)).size, 60);
    const fetched = await http(c.url, 'POST', '/indexes/items/documents/fetch', { body: { filter: 'color = blue', limit: 1000 } });
    assert.equal(fetched.body.total, 333);
    assert.ok(fetched.body.results.every((d: { color: string }) => d.color === 'blue'));
  });

  test('settings are visible on every node, reserved field hidden from the client', async () => {
    const s = await c.client.index('items').getSettings();
    assert.deepEqual(s.filterableAttributes, ['color', 'price']);
    for (let n = 0; n < 3; n++) {
      const ns = await c.nodeClient(n).index('items').getSettings();
      assert.deepEqual([...(ns.filterableAttributes as string[])].sort(), ['_miroir_shard', 'color', 'price']);
      assert.deepEqual(ns.sortableAttributes, ['price']);
    }
  });

  test('stats count every document once and hide reserved fields', async () => {
    const r = await http(c.url, 'GET', '/indexes/items/stats');
    assert.equal(r.status, 200);
    assert.equal(r.body.numberOfDocuments, 1000);
    assert.deepEqual(r.body.fieldDistribution, { color: 1000, id: 1000, keyword: 1000, price: 1000, title: 1000 });
  });

  test('a document with a reserved field is rejected', async () => {
    const r = await http(c.url, 'POST', '/indexes/items/documents', { body: [{ id: 5000, _miroir_shard: 1 }] });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'miroir_reserved_field');
    assert.deepEqual(Object.keys(r.body), ['message', 'code', 'type', 'link']);
  });

  test('a batch with a document lacking the primary key fails its task and writes nothing', async () => {
    const r = await http(c.url, 'POST', '/indexes/items/documents', { body: [{ id: 5001, title: 'ok' }, { title: 'no id' }] });
    assert.equal(r.status, 202);
    assert.equal(typeof r.body.taskUid, 'number');
    const task = await c.client.tasks.waitForTask(r.body.taskUid);
    assert.equal(task.status, 'failed');
    assert.equal(task.error?.code, 'missing_document_id');
    const get = await http(c.url, 'GET', '/indexes/items/documents/5001');
    assert.equal(get.status, 404);
    assert.equal(get.body.code, 'document_not_found');
  });

  test('integer and string primary keys address the same document', async () => {
    const t = await c.client.index('items').updateDocuments([{ id: '7', title: 'seven' }]);
    assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
    const d = await c.client.index('items').getDocument(7);
    assert.equal(d.title, 'seven');
    assert.equal(d.color, docs[7]!.color);
  });

  test('task uids are integers, monotonic, and the registry survives a restart', async () => {
    const list = await c.client.tasks.getTasks({ limit: 100 });
    const uids = list.results.map((t) => t.uid);
    assert.ok(uids.every((u) => Number.isInteger(u)));
    assert.deepEqual(uids, [...uids].sort((a, b) => b - a));
    await c.restartMiroir();
    const again = await c.client.tasks.getTasks({ limit: 100 });
    assert.deepEqual(again.results.map((t) => t.uid), uids);
    const next = await c.client.index('items').addDocuments([{ id: 2000, title: 'after restart' }]);
    assert.ok(next.taskUid > uids[0]!);
  });
});
