/**
 * Sharding transparency (ARCHITECTURE invariant 1, issue acceptance), as a suite any deployment
 * shape runs (one orchestrator, or several behind a spreading client): for random corpora and random
 * queries, one engine holding everything and Miroir over several topologies give the same answers —
 * same hits in the same order (hits tied on every ranking rule and sort value may come in another
 * order: one node breaks such ties by insertion order, Miroir by primary key), same facets, same
 * exhaustive totals, same errors.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { http } from './harness.js';

const WORDS = ['apple', 'banana', 'cherry', 'dragon', 'eagle', 'forest', 'garden', 'harbor', 'island', 'jungle', 'kettle', 'lantern'];
const GENRES = ['drama', 'comedy', 'horror', 'documentary'];
const NODE_KEY = 'node-master-key-for-tests';

interface Doc {
  id: number;
  title: string;
  body: string;
  genre: string;
  price: number;
  tags: string[];
}

const wordArb = fc.constantFrom(...WORDS);
const docArb = (id: number) =>
  fc.record({
    title: fc.array(wordArb, { minLength: 1, maxLength: 3 }).map((w) => w.join(' ')),
    body: fc.array(wordArb, { minLength: 0, maxLength: 8 }).map((w) => w.join(' ')),
    genre: fc.constantFrom(...GENRES),
    price: fc.integer({ min: 0, max: 40 }),
    tags: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 2 }),
  }).map((d): Doc => ({ id, ...d }));

const corpusArb = fc.integer({ min: 40, max: 160 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => docArb(i))));

/** A word, sometimes with one typo (a substituted letter past the first), sometimes cut short (prefix). */
const queryWordArb = fc.tuple(wordArb, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 9 })).map(([w, mode, pos]) => {
  if (mode === 0) return w.slice(0, 3);
  if (mode === 1) {
    const p = Math.min(pos, w.length - 1);
    return w.slice(0, p) + (w[p] === 'x' ? 'y' : 'x') + w.slice(p + 1);
  }
  return w;
});

/**
 * Numeric query words: digits and small shard numbers, and prefixes of a 13-digit millisecond
 * time, all of which the stamped reserved fields would match if the nodes searched them.
 */
const STAMP = String(Date.now());
const numericWordArb = fc.oneof(
  fc.integer({ min: 0, max: 40 }).map(String),
  fc.integer({ min: 1, max: 13 }).map((n) => STAMP.slice(0, n)),
);

const filterArb = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(...GENRES).map((g) => `genre = ${g}`),
  fc.integer({ min: 0, max: 40 }).map((p) => `price < ${p}`),
  fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 20, max: 40 })).map(([a, b]) => `price ${a} TO ${b}`),
  fc.constantFrom('a', 'b', 'c').map((t) => [`tags = ${t}`, ['genre = drama', 'genre = comedy']]),
  fc.constant('genre IN [horror, documentary] AND NOT price > 30'),
);

const queryArb = fc.record(
  {
    q: fc.oneof(
      fc.constant(''),
      fc.array(queryWordArb, { minLength: 1, maxLength: 3 }).map((w) => w.join(' ')),
      fc.array(fc.oneof(numericWordArb, queryWordArb), { minLength: 1, maxLength: 2 }).map((w) => w.join(' ')),
    ),
    filter: filterArb,
    facets: fc.constantFrom(undefined, ['genre'], ['genre', 'price', 'tags'], ['*']),
    attributesToHighlight: fc.constantFrom(undefined, ['*']),
    showMatchesPosition: fc.constantFrom(undefined, true),
    sort: fc.constantFrom(undefined, ['price:asc'], ['price:desc']),
    window: fc.oneof(
      fc.record({ offset: fc.integer({ min: 0, max: 200 }), limit: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ page: fc.integer({ min: 0, max: 12 }), hitsPerPage: fc.integer({ min: 1, max: 25 }) }),
    ),
    matchingStrategy: fc.constantFrom(undefined, 'last', 'all'),
  },
  { requiredKeys: ['q', 'window'] },
);

type Query = Record<string, unknown>;

/** The default rules, or rules with a custom `field:asc|desc` rule, or `sort` first. */
const rankingRulesArb = fc.constantFrom<string[] | undefined>(
  undefined,
  ['words', 'typo', 'price:desc', 'proximity', 'attributeRank', 'sort', 'wordPosition', 'exactness'],
  ['sort', 'words', 'typo', 'proximity', 'attributeRank', 'wordPosition', 'exactness', 'price:asc'],
  ['words', 'typo', 'proximity', 'attribute', 'sort', 'exactness'],
);

function body(q: Record<string, unknown>): Record<string, unknown> {
  const { window, ...rest } = q as { window: Record<string, number> };
  const out: Record<string, unknown> = { ...rest, ...window, showRankingScoreDetails: true };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

type Hit = Record<string, unknown> & { id: number; _rankingScoreDetails?: unknown };
const tieKey = (h: Hit) => JSON.stringify(h._rankingScoreDetails);

/**
 * Compares Miroir's window with the reference's: the same sequence of tie keys, and, for every tie
 * group wholly inside the window, the same set of ids; at the window's edges, Miroir's hits must
 * come from the same tie group of the full reference ranking.
 */
function assertSameHits(ref: Hit[], got: Hit[], fullRef: Hit[]): void {
  assert.deepEqual(got.map(tieKey), ref.map(tieKey), 'tie keys in the same order');
  const groups = new Map<string, Set<number>>();
  for (const h of fullRef) {
    const k = tieKey(h);
    if (!groups.has(k)) groups.set(k, new Set());
    groups.get(k)!.add(h.id);
  }
  for (let i = 0; i < got.length; i++) {
    const k = tieKey(got[i]!);
    assert.ok(groups.get(k)?.has(got[i]!.id), `hit ${got[i]!.id} belongs to its tie group`);
  }
  const strip = (h: Hit) => JSON.stringify(h);
  const byKeyRef = new Map<string, string[]>();
  const byKeyGot = new Map<string, string[]>();
  ref.forEach((h) => byKeyRef.set(tieKey(h), [...(byKeyRef.get(tieKey(h)) ?? []), strip(h)]));
  got.forEach((h) => byKeyGot.set(tieKey(h), [...(byKeyGot.get(tieKey(h)) ?? []), strip(h)]));
  for (const [k, list] of byKeyRef) {
    if ((groups.get(k)?.size ?? 0) === list.length) assert.deepEqual([...(byKeyGot.get(k) ?? [])].sort(), [...list].sort(), 'a whole tie group matches');
  }
}

export interface Topology {
  name: string;
  nodes: number;
  groups: number;
  rf: number;
}

/** What the suite needs of a running deployment: its one endpoint. */
export interface Served {
  readonly url: string;
  /** The client key (the nodes' master key is another one); none when the deployment is open. */
  readonly key?: string;
  stop(): Promise<void>;
}

export function transparencySuite(title: string, topologies: Topology[], start: (t: Topology) => Promise<Served>): void {
  describe(title, () => {
    let dir: string;
    let ref: EngineProcess;
    const clusters: { name: string; c: Served }[] = [];
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'miroir-ref-'));
      ref = await startEngineProcess({ dataDir: join(dir, 'ref'), masterKey: NODE_KEY });
      for (const t of topologies) clusters.push({ name: t.name, c: await start(t) });
    });
    after(async () => {
      await Promise.all(clusters.map(({ c }) => c.stop()));
      await ref?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    let corpusSeq = 0;
    /**
     * Loads the same corpus into a fresh index on the reference and on every cluster, with an
     * explicit searchable list or the default `["*"]` (which searches `id`, `price` and `genre` too).
     */
    async function load(docs: Doc[], rankingRules?: string[], searchAll = false): Promise<string> {
      const uid = `corpus${corpusSeq++}`;
      const settings = {
        filterableAttributes: ['genre', 'price', 'tags'],
        sortableAttributes: ['price'],
        ...(searchAll ? {} : { searchableAttributes: ['title', 'body'] }),
        ...(rankingRules ? { rankingRules } : {}),
      };
      const targets = [{ url: ref.url, key: NODE_KEY }, ...clusters.map(({ c }) => ({ url: c.url, key: c.key }))];
      await Promise.all(
        targets.map(async (t) => {
          const steps = [
            await http(t.url, 'POST', '/indexes', { body: { uid, primaryKey: 'id' }, key: t.key }),
            await http(t.url, 'PATCH', `/indexes/${uid}/settings`, { body: settings, key: t.key }),
            await http(t.url, 'POST', `/indexes/${uid}/documents`, { body: docs, key: t.key }),
          ];
          for (const s of steps) {
            assert.equal(s.status, 202, JSON.stringify(s.body));
            for (;;) {
              const task = await http(t.url, 'GET', `/tasks/${s.body.taskUid}`, { key: t.key });
              if (task.body.status === 'succeeded') break;
              assert.ok(task.body.status === 'enqueued' || task.body.status === 'processing', JSON.stringify(task.body));
              await new Promise((r) => setTimeout(r, 20));
            }
          }
        }),
      );
      return uid;
    }

    test('random corpora and queries answer alike', async () => {
      await fc.assert(
        fc.asyncProperty(corpusArb, rankingRulesArb, fc.boolean(), fc.array(queryArb, { minLength: 8, maxLength: 8 }), async (docs, rules, searchAll, queries) => {
          const uid = await load(docs, rules, searchAll);
          for (const q of queries as Query[]) {
            const b = body(q);
            const expected = await http(ref.url, 'POST', `/indexes/${uid}/search`, { body: b, key: NODE_KEY });
            const full = await http(ref.url, 'POST', `/indexes/${uid}/search`, {
              body: { ...b, offset: 0, limit: 1000, page: undefined, hitsPerPage: undefined },
              key: NODE_KEY,
            });
            for (const { name, c } of clusters) {
              const got = await http(c.url, 'POST', `/indexes/${uid}/search`, { body: b, key: c.key });
              assert.equal(got.status, expected.status, `${name}: status for ${JSON.stringify(b)}`);
              const { hits: eh, processingTimeMs: _e, ...erest } = expected.body;
              const { hits: gh, processingTimeMs: _g, ...grest } = got.body;
              assert.deepEqual(grest, erest, `${name}: response for ${JSON.stringify(b)}`);
              assertSameHits(eh, gh, full.body.hits);
            }
          }
        }),
        { numRuns: 8, seed: 20261126, endOnFailure: true, includeErrorInReport: true },
      );
    });

    test('federated multi-search merges like one node', async () => {
      await fc.assert(
        fc.asyncProperty(corpusArb, corpusArb, fc.array(queryWordArb, { minLength: 1, maxLength: 2 }), fc.double({ min: 0.2, max: 2, noNaN: true }), async (a, b, words, weight) => {
          const uidA = await load(a);
          const uidB = await load(b.map((d) => ({ ...d, id: d.id + 10_000 })));
          const q = words.join(' ');
          const request = (federation: Record<string, unknown>) => ({
            federation,
            queries: [
              { indexUid: uidA, q, showRankingScoreDetails: true },
              { indexUid: uidB, q, filter: 'price > 5', showRankingScoreDetails: true, federationOptions: { weight } },
            ],
          });
          const fed = { offset: 3, limit: 15, facetsByIndex: { [uidA]: ['genre'], [uidB]: ['genre', 'price'] } };
          const expected = await http(ref.url, 'POST', '/multi-search', { body: request(fed), key: NODE_KEY });
          assert.equal(expected.status, 200, JSON.stringify(expected.body));
          const full = await http(ref.url, 'POST', '/multi-search', { body: request({ limit: 1000 }), key: NODE_KEY });
          for (const { name, c } of clusters) {
            const got = await http(c.url, 'POST', '/multi-search', { body: request(fed), key: c.key });
            assert.equal(got.status, 200, `${name}: ${JSON.stringify(got.body)}`);
            const { hits: eh, processingTimeMs: _e, ...erest } = expected.body;
            const { hits: gh, processingTimeMs: _g, ...grest } = got.body;
            assert.deepEqual(grest, erest, name);
            assertSameHits(eh, gh, full.body.hits);
          }
        }),
        { numRuns: 3, seed: 7, endOnFailure: true, includeErrorInReport: true },
      );
    });

    test('distinct leaves no duplicate values across shards', async () => {
      const docs = Array.from({ length: 60 }, (_, id) => ({ id, title: `apple ${WORDS[id % 12]}`, body: '', genre: GENRES[id % 4]!, price: id % 7, tags: [] }));
      const uid = await load(docs);
      for (const b of [{ q: 'apple', distinct: 'genre' }, { q: '', distinct: 'price', sort: ['price:asc'] }]) {
        const expected = await http(ref.url, 'POST', `/indexes/${uid}/search`, { body: b, key: NODE_KEY });
        for (const { name, c } of clusters) {
          const got = await http(c.url, 'POST', `/indexes/${uid}/search`, { body: b, key: c.key });
          assert.equal(got.status, 200, name);
          const field = b.distinct as 'genre' | 'price';
          const values = got.body.hits.map((h: Doc) => h[field]);
          assert.equal(new Set(values).size, values.length, `${name}: no duplicate ${field}`);
          assert.deepEqual([...values].sort(), expected.body.hits.map((h: Doc) => h[field]).sort(), name);
        }
      }
    });

    test('errors are the ones one node gives', async () => {
      const uid = await load([{ id: 1, title: 'apple', body: '', genre: 'drama', price: 1, tags: [] }]);
      const bad = [
        { filter: 'title = apple' },
        { filter: 'genre = ' },
        { sort: ['title:asc'] },
        { facets: ['body'] },
        { limit: 'ten' },
        { unknownParam: true },
        // Miroir's own fields do not exist for a client: one node refuses them like any unknown field.
        { filter: 'genre = drama AND _miroir_shard = 1' },
        { facets: ['genre', '_miroir_shard'] },
        { distinct: '_miroir_updated_at' },
        { sort: ['_miroir_shard:desc'] },
      ];
      for (const b of bad) {
        const expected = await http(ref.url, 'POST', `/indexes/${uid}/search`, { body: b, key: NODE_KEY });
        assert.equal(expected.status, 400);
        for (const { name, c } of clusters) {
          const got = await http(c.url, 'POST', `/indexes/${uid}/search`, { body: b, key: c.key });
          assert.equal(got.status, expected.status, name);
          assert.deepEqual(got.body, expected.body, `${name}: ${JSON.stringify(b)}`);
        }
      }
      const missing = await http(clusters[0]!.c.url, 'POST', '/indexes/nope/search', { body: {}, key: clusters[0]!.c.key });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'index_not_found');
    });
  });
}
