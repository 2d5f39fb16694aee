/**
 * "Sharding is invisible", on the pure core: documents placed by the real hash and placement, a
 * covering set with per-node shard filters, node bodies built by `nodeSearchBody`, and the answers
 * merged by `mergeSearch` equal what one node holding every document answers — hits and order,
 * totals, facets, pagination. The node is a small in-test model of a Meilisearch node (relevancy
 * buckets, `price` sort, facet counts, windowing); it is the reference, not the code under test.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Hit, SearchQuery } from '@miroir/protocol';
import { loadHasher, type Hasher } from '../src/core/hash.js';
import { Placement, type TopologyNode } from '../src/core/placement.js';
import { coveringSet } from '../src/core/covering.js';
import { mergeSearch, nodeSearchBody, type NodeSearchResponse, type SearchContext } from '../src/core/search-merge.js';
import { nodeSearchOn } from '../src/core/reserved-search.js';

let hasher: Hasher;
before(async () => {
  hasher = await loadHasher();
});

interface Doc {
  id: number;
  words: number;
  price: number;
  color: string;
  _miroir_shard?: number;
}

const ctx: SearchContext = { primaryKey: 'id', maxTotalHits: 1000, distinctAttribute: null, maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'alpha' } };

/** A one-node model: filter by shard list, order by words desc then price asc then id, window, facets. */
function answer(docs: readonly Doc[], body: Record<string, unknown>): NodeSearchResponse {
  let pool = [...docs];
  const filter = body.filter as string[] | undefined;
  if (filter !== undefined) {
    const m = /_miroir_shard IN \[(.*)\]/.exec(filter[filter.length - 1]);
    const allowed = new Set((m?.[1] ?? '').split(', ').map(Number));
    pool = pool.filter((d) => allowed.has(d._miroir_shard as number));
  }
  pool.sort((a, b) => b.words - a.words || a.price - b.price || a.id - b.id);
  const paged = body.page !== undefined;
  const offset = paged ? 0 : (body.offset as number);
  const limit = paged ? (body.hitsPerPage as number) : (body.limit as number);
  const hits: Hit[] = pool.slice(offset, offset + limit).map((d) => ({
    ...d,
    _rankingScore: d.words / 4,
    _rankingScoreDetails: { words: { order: 0, score: d.words / 4 }, 'price:asc': { order: 1, value: d.price } },
  }));
  const res: NodeSearchResponse = { hits, processingTimeMs: 0 };
  if (paged) res.totalHits = pool.length;
  else res.estimatedTotalHits = pool.length;
  if (body.facets !== undefined) {
    const colors: Record<string, number> = {};
    for (const c of [...new Set(pool.map((d) => d.color))].sort()) colors[c] = pool.filter((d) => d.color === c).length;
    res.facetDistribution = { color: colors };
    res.facetStats = pool.length === 0 ? {} : { price: { min: Math.min(...pool.map((d) => d.price)), max: Math.max(...pool.map((d) => d.price)) } };
  }
  return res;
}

const nodes: TopologyNode[] = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ id, address: id, group: i < 3 ? 0 : 1, state: 'active' }));

describe('sharding is invisible (pure core)', () => {
  it('merged answers equal one node holding everything, at RF=2 over two groups', () => {
    const placement = new Placement({ version: 1, shards: 8, replicationFactor: 2, nodes }, hasher);
    const docArb = fc.array(
      fc.record({ words: fc.integer({ min: 1, max: 4 }), price: fc.integer({ min: 0, max: 9 }), color: fc.constantFrom('red', 'Green', 'blue') }),
      { maxLength: 60 },
    );
    const queryArb = fc.oneof(
      fc.record({ offset: fc.nat({ max: 30 }), limit: fc.nat({ max: 30 }), facets: fc.constant(['color', 'price']) }),
      fc.record({ page: fc.nat({ max: 5 }), hitsPerPage: fc.nat({ max: 12 }) }),
    );
    fc.assert(
      fc.property(docArb, queryArb, fc.nat({ max: 100 }), (raw, q, seq) => {
        const docs: Doc[] = raw.map((d, id) => ({ id, ...d }));
        const perNode = new Map<string, Doc[]>();
        for (const d of docs) {
          const shard = hasher.shardOf(String(d.id), 8);
          for (const n of placement.writeTargets(shard)) {
            if (!perNode.has(n)) perNode.set(n, []);
            perNode.get(n)?.push({ ...d, _miroir_shard: shard });
          }
        }
        const query = q as SearchQuery;
        const cover = coveringSet(placement, { seq, eligible: () => true });
        const responses = [...cover.nodes].map(([id, shards]) =>
          answer(perNode.get(id) ?? [], nodeSearchBody(query, ctx, cover.needsShardFilter(id) ? shards : null)),
        );
        const merged = mergeSearch(query, ctx, responses, { processingTimeMs: 0 });
        const single = answer(docs, { ...query, offset: query.offset ?? 0, limit: query.limit ?? 20 });
        const window = query.page !== undefined ? { offset: query.page === 0 ? 0 : (query.page - 1) * (query.hitsPerPage ?? 20), limit: query.page === 0 ? 0 : query.hitsPerPage ?? 20 } : { offset: query.offset ?? 0, limit: query.limit ?? 20 };
        const expected = answer(docs, { offset: window.offset, limit: window.limit });
        assert.deepEqual(
          merged.hits.map((h) => h.id),
          expected.hits.map((h) => h.id),
        );
        for (const h of merged.hits) assert.deepEqual(Object.keys(h), ['id', 'words', 'price', 'color']);
        if (query.page !== undefined) assert.equal(merged.totalHits, docs.length);
        else {
          assert.equal(merged.estimatedTotalHits, docs.length);
          assert.deepEqual(merged.facetDistribution, { color: Object.fromEntries(Object.entries(single.facetDistribution?.color ?? {}).sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))) });
          assert.deepEqual(merged.facetStats, single.facetStats);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('numeric queries match what one node matches under searchableAttributes ["*"]', () => {
    const placement = new Placement({ version: 1, shards: 8, replicationFactor: 1, nodes }, hasher);
    const stamp = 1_796_000_000_000;
    const docArb = fc.array(fc.record({ words: fc.integer({ min: 1, max: 4 }), price: fc.integer({ min: 0, max: 40 }), color: fc.constantFrom('red', 'blue') }), {
      maxLength: 40,
    });
    const qArb = fc.oneof(fc.integer({ min: 0, max: 40 }).map(String), fc.integer({ min: 1, max: 13 }).map((n) => String(stamp).slice(0, n)));
    /** A node under `["*"]`: a word matches a field whose value starts with it; every field is searched unless the body restricts them. */
    const matches = (doc: Record<string, unknown>, q: string, on: readonly string[] | undefined) =>
      Object.keys(doc).some((k) => (on === undefined || on.includes(k)) && String(doc[k]).startsWith(q));
    const positions = (doc: Record<string, unknown>, q: string) =>
      Object.fromEntries(Object.keys(doc).filter((k) => String(doc[k]).startsWith(q)).map((k) => [k, [{ start: 0, length: q.length }]]));
    fc.assert(
      fc.property(docArb, qArb, fc.nat({ max: 100 }), (raw, q, seq) => {
        const docs = raw.map((d, id) => ({ id, ...d }));
        const perNode = new Map<string, Record<string, unknown>[]>();
        for (const d of docs) {
          const shard = hasher.shardOf(String(d.id), 8);
          for (const n of placement.writeTargets(shard)) perNode.set(n, [...(perNode.get(n) ?? []), { ...d, _miroir_shard: shard, _miroir_updated_at: stamp + d.id }]);
        }
        const fields = ['id', 'words', 'price', 'color', '_miroir_shard', '_miroir_updated_at'];
        const client: SearchQuery = { q, showMatchesPosition: true, limit: 100 };
        const on = nodeSearchOn(client, { searchableAttributes: ['*'], fields, synonyms: false });
        assert.deepEqual(on, ['id', 'words', 'price', 'color']);
        const query: SearchQuery = { ...client, attributesToSearchOn: on };
        const cover = coveringSet(placement, { seq, eligible: () => true });
        const responses = [...cover.nodes].map(([id, shards]) => {
          const body = nodeSearchBody(query, ctx, cover.needsShardFilter(id) ? shards : null);
          const pool = (perNode.get(id) ?? []).filter((d) => matches(d, q, body.attributesToSearchOn as string[]));
          const res = answer(pool as unknown as Doc[], body);
          for (const h of res.hits) h._matchesPosition = positions(pool.find((d) => d.id === h.id)!, q) as Hit['_matchesPosition'];
          return res;
        });
        const merged = mergeSearch(client, ctx, responses, { processingTimeMs: 0 });
        const expected = docs.filter((d) => matches(d, q, undefined)).sort((a, b) => b.words - a.words || a.price - b.price || a.id - b.id);
        assert.deepEqual(merged.hits.map((h) => h.id), expected.map((d) => d.id));
        for (const h of merged.hits) {
          assert.deepEqual(Object.keys(h).filter((k) => k.startsWith('_miroir_')), []);
          assert.deepEqual(h._matchesPosition, positions(docs[h.id as number]!, q));
        }
      }),
      { numRuns: 150 },
    );
  });
});
