/**
 * Semantic and hybrid search through Miroir (spec S13.12, issue 18): Miroir over three engine
 * processes (RF=1, 8 shards) answers what one engine holding the same documents and the same
 * `userProvided` embedder answers, for seeded random hybrid queries, pure vector queries and
 * keyword queries; and `X-Miroir-Over-Fetch` sets the window the nodes are asked for.
 *
 * Scores are compared exactly: a keyword score is a function of the document and the query alone
 * (ranks over maximum ranks, corpus-independent as in Meilisearch) and a similarity is computed in
 * `f32` from the same two vectors on whichever process holds the document, so the same number
 * comes out of every process; there is no float noise to allow for.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Meilisearch, type SearchParams, type SearchResponse } from 'meilisearch';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { mulberry32 as rng } from './chaos-model.js';
import { http, startCluster, type TestCluster } from './harness.js';

const KEY = 'vector-search-master-key-0001';
const INDEX = 'vec';
const EMBEDDER = 'manual';
const DIMS = 4;

const WORDS = ['river', 'stone', 'light', 'forest', 'silver', 'harbor', 'garden', 'winter', 'copper', 'meadow'];
const GENRES = ['drama', 'comedy', 'horror'];

function vector(r: () => number): number[] {
  return Array.from({ length: DIMS }, () => Math.round((r() * 2 - 1) * 1000) / 1000);
}

/** 240 documents: titles of 1–4 words from a small vocabulary (so many strong keyword matches), most with an embedding. */
function documents(): Record<string, unknown>[] {
  const r = rng(18);
  return Array.from({ length: 240 }, (_, id) => {
    const n = 1 + Math.floor(r() * 4);
    const title = Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
    const doc: Record<string, unknown> = { id, title, genre: GENRES[id % 3] };
    if (id % 17 !== 5) doc._vectors = { [EMBEDDER]: vector(r) };
    return doc;
  });
}

let ref: EngineProcess;
let refDir: string;
let cluster: TestCluster;
let refClient: Meilisearch;
let mirClient: Meilisearch;

async function setUp(client: Meilisearch): Promise<void> {
  const wait = async (p: Promise<{ taskUid: number }>) => {
    const task = await client.tasks.waitForTask((await p).taskUid, { timeout: 60_000 });
    assert.equal(task.status, 'succeeded', JSON.stringify(task.error));
  };
  await wait(client.createIndex(INDEX, { primaryKey: 'id' }));
  await wait(
    client.index(INDEX).updateSettings({
      filterableAttributes: ['genre'],
      embedders: { [EMBEDDER]: { source: 'userProvided', dimensions: DIMS } },
    }),
  );
  await wait(client.index(INDEX).addDocuments(documents()));
}

before(async () => {
  refDir = mkdtempSync(join(tmpdir(), 'miroir-vector-ref-'));
  [ref, cluster] = await Promise.all([
    startEngineProcess({ dataDir: refDir, masterKey: KEY }),
    startCluster({
      nodes: 3,
      rf: 1,
      shards: 8,
      masterKey: KEY,
      recorded: true,
      // Every search below reaches the nodes (the over-fetch test counts what they are asked).
      config: { result_cache: { enabled: false }, query_coalescing: { enabled: false } },
    }),
  ]);
  refClient = new Meilisearch({ host: ref.url, apiKey: KEY });
  mirClient = cluster.client;
  await Promise.all([setUp(refClient), setUp(mirClient)]);
});

after(async () => {
  await cluster?.stop();
  await ref?.stop();
  if (refDir !== undefined) rmSync(refDir, { recursive: true, force: true });
});

/** A search answer as the SDK returns it, with the hybrid field its type lacks. */
type Answer = SearchResponse<Record<string, unknown>> & { semanticHitCount?: number };

/** What must be equal: ids in order, scores, semantic hit count, totals. */
function view(res: Answer) {
  return {
    hits: res.hits.map((h) => [h.id, h._rankingScore]),
    semanticHitCount: res.semanticHitCount,
    estimatedTotalHits: res.estimatedTotalHits,
  };
}

async function same(q: string | null, params: SearchParams, what: string): Promise<Answer> {
  const [r, m]: Answer[] = await Promise.all([refClient.index(INDEX).search(q, params), mirClient.index(INDEX).search(q, params)]);
  assert.deepEqual(view(m), view(r), what);
  return r;
}

describe('vector and hybrid search', () => {
  test('50 seeded hybrid queries: hits, order, scores, semanticHitCount and totals equal one engine', async () => {
    const r = rng(1812);
    const kinds = { skipped: 0, mixed: 0 };
    for (let i = 0; i < 50; i++) {
      const words = Array.from({ length: 1 + Math.floor(r() * 2) }, () => WORDS[Math.floor(r() * WORDS.length)]);
      // Ratios over ]0, 1[ and, now and then, the ends (keyword only, semantic only).
      const pick = r();
      const semanticRatio = pick < 0.06 ? 0 : pick > 0.94 ? 1 : Math.round(r() * 100) / 100;
      const params: SearchParams = {
        vector: vector(r),
        hybrid: { embedder: EMBEDDER, semanticRatio },
        limit: 10,
        offset: r() < 0.3 ? Math.floor(r() * 6) : 0,
        showRankingScore: true,
      };
      if (r() < 0.25) params.filter = `genre = ${GENRES[Math.floor(r() * 3)]}`;
      const what = `query ${i}: ${JSON.stringify({ q: words.join(' '), ...params })}`;
      const res = await same(words.join(' '), params, what);
      if (res.semanticHitCount === 0) kinds.skipped++;
      else if (res.semanticHitCount !== undefined && res.semanticHitCount < res.hits.length) kinds.mixed++;
    }
    // The seed exercises both outcomes of Meilisearch's "keyword results good enough" decision,
    // and pages mixing keyword and semantic hits.
    assert.ok(kinds.skipped > 0 && kinds.mixed > 0, JSON.stringify(kinds));
  });

  test('a pure vector query (no q) ranks by similarity across shards', async () => {
    const r = rng(7);
    for (let i = 0; i < 5; i++) {
      const res = await same(null, { vector: vector(r), hybrid: { embedder: EMBEDDER, semanticRatio: 0.5 }, limit: 15, showRankingScore: true }, `vector ${i}`);
      assert.equal(res.semanticHitCount, 15);
    }
  });

  test('a keyword query is unaffected', async () => {
    const res = await same('silver harbor', { limit: 20, showRankingScore: true }, 'keyword');
    assert.equal(res.semanticHitCount, undefined);
    assert.ok(res.hits.length > 0);
  });
});

describe('X-Miroir-Over-Fetch', () => {
  /** The `limit` of each `/search` body the nodes received since the last clear, hybrid and keyword halves apart. */
  function nodeLimits(): { hybrid: number[]; keyword: number[] } {
    const out = { hybrid: [] as number[], keyword: [] as number[] };
    for (const rec of cluster.recorders.values()) {
      for (const req of rec.requests) {
        if (req.method !== 'POST' || !req.path.endsWith('/search')) continue;
        const body = JSON.parse(req.body) as { limit: number; hybrid?: unknown };
        (body.hybrid === undefined ? out.keyword : out.hybrid).push(body.limit);
      }
    }
    return out;
  }

  const clear = () => {
    for (const rec of cluster.recorders.values()) rec.clear();
  };

  const hybridBody = { q: 'stone light', vector: [0.2, -0.4, 0.9, 0.1], hybrid: { embedder: EMBEDDER, semanticRatio: 0.6 }, offset: 1, limit: 4 };

  test('raises the per-node window of a hybrid query to (offset + limit) × factor; its keyword half is not over-fetched', async () => {
    clear();
    const plain = await http(cluster.url, 'POST', `/indexes/${INDEX}/search`, { key: KEY, body: hybridBody });
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    // The configured factor (3).
    assert.deepEqual(nodeLimits(), { hybrid: [15, 15, 15], keyword: [5, 5, 5] });
    clear();
    const five = await http(cluster.url, 'POST', `/indexes/${INDEX}/search`, { key: KEY, body: hybridBody, headers: { 'X-Miroir-Over-Fetch': '5' } });
    assert.equal(five.status, 200, JSON.stringify(five.body));
    assert.deepEqual(nodeLimits(), { hybrid: [25, 25, 25], keyword: [5, 5, 5] });
    // The answer does not depend on the factor.
    assert.deepEqual(five.body.hits, plain.body.hits);
  });

  test('a pure vector query is over-fetched; a keyword query never is', async () => {
    clear();
    const vec = await http(cluster.url, 'POST', `/indexes/${INDEX}/search`, {
      key: KEY,
      body: { vector: [1, 0, 0, 0], hybrid: { embedder: EMBEDDER, semanticRatio: 0.5 }, limit: 3 },
      headers: { 'X-Miroir-Over-Fetch': '5' },
    });
    assert.equal(vec.status, 200, JSON.stringify(vec.body));
    assert.deepEqual(nodeLimits(), { hybrid: [15, 15, 15], keyword: [] });
    clear();
    const kw = await http(cluster.url, 'POST', `/indexes/${INDEX}/search`, { key: KEY, body: { q: 'river', limit: 3 }, headers: { 'X-Miroir-Over-Fetch': '5' } });
    assert.equal(kw.status, 200, JSON.stringify(kw.body));
    assert.deepEqual(nodeLimits(), { hybrid: [], keyword: [3, 3, 3] });
  });

  test('an invalid value is a 400 miroir_invalid_over_fetch, and no node is asked', async () => {
    for (const bad of ['0', '0.5', 'abc', '', '101', '3, 5']) {
      clear();
      const res = await http(cluster.url, 'POST', `/indexes/${INDEX}/search`, { key: KEY, body: hybridBody, headers: { 'X-Miroir-Over-Fetch': bad } });
      assert.equal(res.status, 400, `${bad}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'miroir_invalid_over_fetch');
      assert.equal(res.body.type, 'invalid_request');
      assert.deepEqual(nodeLimits(), { hybrid: [], keyword: [] });
    }
  });

  test('over-fetched searches are counted, and the merge strategy is published', async () => {
    const metrics = await http(cluster.url, 'GET', '/_miroir/metrics', { key: KEY });
    const text = String(metrics.body);
    assert.match(text, /^miroir_vector_merge_strategy\{strategy="convex"\} 1$/m);
    const over = /^miroir_vector_search_over_fetched_total (\d+)$/m.exec(text);
    assert.ok(over !== null && Number(over[1]) >= 3, text.slice(0, 200));
  });
});

describe('vector_search.hybrid_alpha_default', () => {
  let one: TestCluster;
  before(async () => {
    one = await startCluster({
      nodes: 1,
      rf: 1,
      shards: 2,
      recorded: true,
      config: { vector_search: { hybrid_alpha_default: 0.8 }, result_cache: { enabled: false }, query_coalescing: { enabled: false } },
    });
    await setUp(one.client);
  });
  after(async () => one?.stop());

  const ratiosSent = (): unknown[] =>
    one.recorders
      .get(0)!
      .requests.filter((r) => r.method === 'POST' && r.path.endsWith('/search'))
      .map((r) => (JSON.parse(r.body) as { hybrid?: { semanticRatio: number } }).hybrid?.semanticRatio);

  test('is the ratio of a hybrid query that gives none (POST and GET); a given ratio is kept', async () => {
    const vec = [0.1, 0.2, 0.3, 0.4];
    one.recorders.get(0)!.clear();
    const omitted = await http(one.url, 'POST', `/indexes/${INDEX}/search`, { body: { q: 'river', vector: vec, hybrid: { embedder: EMBEDDER } } });
    assert.equal(omitted.status, 200, JSON.stringify(omitted.body));
    const given = await http(one.url, 'POST', `/indexes/${INDEX}/search`, { body: { q: 'river', vector: vec, hybrid: { embedder: EMBEDDER, semanticRatio: 0.5 } } });
    assert.equal(given.status, 200, JSON.stringify(given.body));
    const get = await http(one.url, 'GET', `/indexes/${INDEX}/search?q=river&vector=${vec.join(',')}&hybridEmbedder=${EMBEDDER}`);
    assert.equal(get.status, 200, JSON.stringify(get.body));
    // Each hybrid search sends its hybrid half (with the ratio) and its keyword half (without).
    assert.deepEqual(ratiosSent().filter((r) => r !== undefined), [0.8, 0.5, 0.8]);
  });
});
