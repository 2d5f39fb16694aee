/**
 * Reserved fields are never searched, highlighted, faceted or listed (spec S5.3): through Miroir,
 * a query answers exactly what one engine holding the same documents answers, under the default
 * settings (`searchableAttributes: ["*"]`) where the nodes would otherwise tokenize the stamped
 * `_miroir_shard` and `_miroir_updated_at` values (so that `q=1` or `q=17` matched every document).
 * The client key differs from the nodes' master key.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { http, startCluster, type TestCluster } from './harness.js';

const NODE_KEY = 'node-master-key-for-tests';
const CLIENT_KEY = 'client-master-key';

describe('reserved fields are invisible to search', () => {
  let dir: string;
  let ref: EngineProcess;
  let cluster: TestCluster;
  const both = () => [
    { name: 'engine', url: ref.url, key: NODE_KEY },
    { name: 'miroir', url: cluster.url, key: CLIENT_KEY },
  ];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miroir-reserved-search-'));
    ref = await startEngineProcess({ dataDir: join(dir, 'ref'), masterKey: NODE_KEY });
    cluster = await startCluster({ nodes: 3, rf: 1, shards: 8, masterKey: CLIENT_KEY, nodeMasterKey: NODE_KEY });
  });
  after(async () => {
    await cluster?.stop();
    await ref?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function waitTask(url: string, key: string, uid: number): Promise<void> {
    for (;;) {
      const t = await http(url, 'GET', `/tasks/${uid}`, { key });
      if (t.body.status === 'succeeded') return;
      assert.ok(t.body.status === 'enqueued' || t.body.status === 'processing', JSON.stringify(t.body));
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Runs the same steps on the engine and on Miroir, each waiting for its task. */
  async function onBoth(method: string, path: string, body: unknown): Promise<void> {
    for (const t of both()) {
      const r = await http(t.url, method, path, { body, key: t.key });
      assert.equal(r.status, 202, `${t.name}: ${JSON.stringify(r.body)}`);
      await waitTask(t.url, t.key, r.body.taskUid);
    }
  }

  /** The same request on both; the answers must be equal (processing times aside). */
  async function same(method: string, path: string, body?: unknown): Promise<any> {
    const [e, m] = await Promise.all(both().map((t) => http(t.url, method, path, { body, key: t.key })));
    const clean = (b: any) => {
      if (b !== null && typeof b === 'object') {
        delete b.processingTimeMs;
        for (const r of b.results ?? []) if (r && typeof r === 'object') delete r.processingTimeMs;
      }
      return b;
    };
    assert.equal(m!.status, e!.status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(m!.body)}`);
    assert.deepEqual(clean(m!.body), clean(e!.body), `${method} ${path} ${JSON.stringify(body)}`);
    return m!.body;
  }

  /**
   * The Meilisearch behaviour the mechanism relies on (milli `SearchContext::attributes_to_search_on`;
   * meilisearch `tests/search/restrict_searchable.rs`), recorded on the engine and through Miroir:
   * under `["*"]` an unknown name in `attributesToSearchOn` is ignored (alone it leaves nothing to
   * search: no hit, no error), `[]` searches nothing, and the list's order does not weigh fields.
   * (Meilisearch answers `1` before `2` for the ranking query below: its `wordPosition` rule reads
   * positions in every field, `title` included. The engine reads them in the listed fields only and
   * answers `2` first; see docs/limits.md.)
   */
  test('attributesToSearchOn under ["*"]: unknown names ignored, list order not a weight', async () => {
    await onBoth('POST', '/indexes', { uid: 'marvel', primaryKey: 'id' });
    await onBoth('POST', '/indexes/marvel/documents', [
      { title: 'Captain Marvel', desc: 'a Shazam ersatz', footer: 'The story of Captain Marvel', id: '1' },
      { title: 'The Avengers', desc: 'Captain Marvel is far from the earth', footer: 'A super hero team', id: '2' },
    ]);
    const ids = (body: { hits: { id: string }[] }) => body.hits.map((h) => h.id);
    assert.deepEqual(ids(await same('POST', '/indexes/marvel/search', { q: 'Captain Marvel', attributesToSearchOn: ['unknown'] })), []);
    assert.deepEqual(ids(await same('POST', '/indexes/marvel/search', { q: 'Captain Marvel', attributesToSearchOn: [] })), []);
    assert.deepEqual(ids(await same('POST', '/indexes/marvel/search', { q: 'Captain Marvel', attributesToSearchOn: ['unknown', 'desc'] })), ['2']);
    const rank = (on: string[]) => same('POST', '/indexes/marvel/search', { q: 'Captain Marvel', attributesToSearchOn: on, showRankingScoreDetails: true });
    const [a, b] = [await rank(['desc', 'footer']), await rank(['footer', 'desc'])];
    assert.equal(a.hits.length, 2);
    assert.deepEqual(a.hits, b.hits);
  });

  test('numeric queries under the default settings match what one node matches', async () => {
    await onBoth('POST', '/indexes', { uid: 'movies', primaryKey: 'id' });
    await onBoth('POST', '/indexes/movies/documents', [
      { id: 'a', title: 'Carol' },
      { id: 'b', title: 'Heat' },
      { id: 'c', title: 'Ronin' },
    ]);
    // Digits, small shard numbers and prefixes of a 13-digit millisecond stamp.
    const now = String(Date.now());
    const queries = ['0', '1', '2', '7', '17', '179', now.slice(0, 4), now.slice(0, 8), now, 'carol 1', '１'];
    for (const q of queries) {
      const body = await same('POST', '/indexes/movies/search', { q });
      assert.equal(body.hits.length, q === 'carol 1' ? 1 : 0, `q=${q}`);
      await same('GET', `/indexes/movies/search?q=${encodeURIComponent(q)}`);
    }
    await same('GET', '/indexes/movies/settings');
    // Sizes differ (each node stores its share, stamps included); documents and fields do not.
    const [es, ms] = await Promise.all(both().map((t) => http(t.url, 'GET', '/indexes/movies/stats', { key: t.key })));
    assert.deepEqual(ms!.body.fieldDistribution, es!.body.fieldDistribution);
    assert.deepEqual(ms!.body.fieldDistribution, { id: 3, title: 3 });
    assert.equal(ms!.body.numberOfDocuments, 3);
  });

  test('facets, highlighting, cropping and match positions show no reserved field', async () => {
    await onBoth('POST', '/indexes', { uid: 'films', primaryKey: 'id' });
    await onBoth('PATCH', '/indexes/films/settings', { filterableAttributes: ['genre', 'year'] });
    const docs = Array.from({ length: 24 }, (_, i) => ({ id: i + 1, title: `film ${i % 3 === 0 ? 'one' : 'two'} ${i}`, genre: i % 2 === 0 ? 'drama' : 'comedy', year: 1990 + i }));
    await onBoth('POST', '/indexes/films/documents', docs);
    for (const q of ['1', '17', '2', 'film 1', 'one', '', '199']) {
      for (const extra of [
        { facets: ['*'] },
        { attributesToHighlight: ['*'] },
        { attributesToCrop: ['*'], cropLength: 3 },
        { showMatchesPosition: true },
        { showRankingScoreDetails: true, sort: undefined },
        { attributesToSearchOn: ['*'] },
        { attributesToSearchOn: ['title'] },
        { attributesToSearchOn: ['_miroir_shard'] },
        { attributesToSearchOn: ['_mir*', 'title'] },
        { attributesToSearchOn: ['*e*'] },
      ]) {
        await same('POST', '/indexes/films/search', { q, ...extra });
      }
    }
    await same('POST', '/multi-search', {
      queries: [
        { indexUid: 'films', q: '1', showMatchesPosition: true },
        { indexUid: 'movies', q: '17', attributesToHighlight: ['*'] },
      ],
    });
    await same('POST', '/multi-search', {
      federation: { limit: 50 },
      queries: [
        { indexUid: 'films', q: '1', showMatchesPosition: true, attributesToHighlight: ['*'] },
        { indexUid: 'movies', q: '179' },
      ],
    });
    await same('POST', '/indexes/films/facet-search', { facetName: 'genre', q: '1' });
    await same('POST', '/indexes/films/facet-search', { facetName: 'genre', q: '17' });
  });

  test('a client naming a reserved field gets the error one node gives', async () => {
    for (const body of [
      { filter: '_miroir_shard = 0' },
      { filter: 'genre = drama AND _miroir_shard = 1' },
      { filter: ['genre = drama', ['_miroir_updated_at > 0', 'year = 1990']] },
      { filter: '_miroir_shard EXISTS' },
      { facets: ['_miroir_shard'] },
      { facets: ['genre', '_miroir_shard', 'title'] },
      { facets: ['_miroir_*'] },
      { distinct: '_miroir_shard' },
      { sort: ['_miroir_shard:asc'] },
      { q: '1', attributesToSearchOn: ['_miroir_shard'], filter: 'year > 1995' },
    ]) {
      await same('POST', '/indexes/films/search', body);
    }
    await same('POST', '/indexes/films/facet-search', { facetName: '_miroir_shard' });
    await same('POST', '/indexes/films/facet-search', { facetName: 'genre', filter: '_miroir_shard = 2' });
    await same('POST', '/multi-search', { queries: [{ indexUid: 'films', q: 'film' }, { indexUid: 'films', filter: '_miroir_shard = 0' }] });
    await same('POST', '/multi-search', { federation: { facetsByIndex: { films: ['genre', '_miroir_shard'] } }, queries: [{ indexUid: 'films', q: 'film' }] });
    await same('POST', '/indexes/films/documents/fetch', { filter: '_miroir_shard = 1' });
    await same('GET', `/indexes/films/documents?filter=${encodeURIComponent('_miroir_shard = 1')}`);
    // A delete by a filter on a stamp is accepted, then fails, deleting nothing.
    const tasks = await Promise.all(
      both().map(async (t) => {
        const r = await http(t.url, 'POST', '/indexes/films/documents/delete', { body: { filter: 'genre = drama OR _miroir_shard = 3' }, key: t.key });
        assert.equal(r.status, 202, `${t.name}: ${JSON.stringify(r.body)}`);
        for (;;) {
          const task = await http(t.url, 'GET', `/tasks/${r.body.taskUid}`, { key: t.key });
          if (task.body.status !== 'enqueued' && task.body.status !== 'processing') return task.body;
          await new Promise((res) => setTimeout(res, 20));
        }
      }),
    );
    const view = ({ status, type, details, error }: any) => ({ status, type, details, error });
    assert.equal(tasks[0].status, 'failed');
    assert.deepEqual(view(tasks[1]), view(tasks[0]));
    const [e, m] = await Promise.all(both().map((t) => http(t.url, 'GET', '/indexes/films/stats', { key: t.key })));
    assert.equal(m!.body.numberOfDocuments, e!.body.numberOfDocuments);
    assert.equal(m!.body.numberOfDocuments, 24);
  });

  test('a field new to the index is searched as soon as its task has succeeded', async () => {
    await onBoth('POST', '/indexes/movies/documents', [{ id: 'd', title: 'Alien', year: 1979, cast: { lead: 'Weaver', born: 1949 } }]);
    // `1` is a prefix of 1979 and 1949: the new document, and only it, matches.
    for (const q of ['1979', '1949', '19', '1', '0']) {
      const body = await same('POST', '/indexes/movies/search', { q, showMatchesPosition: true });
      assert.equal(body.hits.length, q === '0' ? 0 : 1, `q=${q}`);
    }
  });

  test('an explicit searchable list naming a reserved field searches only the client fields', async () => {
    await onBoth('PATCH', '/indexes/movies/settings', { searchableAttributes: ['title', '_miroir_shard', 'year'] });
    for (const q of ['0', '1', '2', '3', '1979', 'heat']) await same('POST', '/indexes/movies/search', { q, showRankingScoreDetails: true });
    await same('POST', '/indexes/movies/search', { q: '1', attributesToSearchOn: ['_miroir_shard'] });
    await same('GET', '/indexes/movies/settings/searchable-attributes');
  });
});
