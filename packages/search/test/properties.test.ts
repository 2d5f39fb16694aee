import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { Hit } from '@miroir/protocol';
import { compileFilter, parseFilter } from '@miroir/filter';
import { compareSortValues } from '../src/index.js';
import { makeIndex } from './helpers.js';

const WORDS = ['alpha', 'alpine', 'beta', 'better', 'gamma', 'gammas', 'delta', 'deltas', 'omega', 'mega', 'zeta', 'eta'];

const docArb = fc.record({
  title: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 4 }).map((w) => w.join(' ')),
  body: fc.array(fc.constantFrom(...WORDS), { minLength: 0, maxLength: 12 }).map((w) => w.join(' ')),
  price: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
});

const queryArb = fc.record({
  q: fc
    .array(fc.constantFrom(...WORDS, 'alph', 'gam', 'detla', 'omgea'), { minLength: 1, maxLength: 3 })
    .chain((w) => fc.constantFrom(w.join(' '), `${w.join(' ')} `)),
  sort: fc.constantFrom<string[] | undefined>(undefined, ['price:asc'], ['price:desc']),
  matchingStrategy: fc.constantFrom('last' as const, 'all' as const, 'frequency' as const),
});

/** Lexicographic comparison of `_rankingScoreDetails` in `order`: rule scores, then sort values. */
function compareDetails(a: Hit, b: Hit): number {
  const ea = Object.entries(a._rankingScoreDetails!).sort((x, y) => (x[1].order as number) - (y[1].order as number));
  const eb = Object.entries(b._rankingScoreDetails!).sort((x, y) => (x[1].order as number) - (y[1].order as number));
  assert.deepEqual(
    ea.map(([k]) => k),
    eb.map(([k]) => k),
  );
  for (let i = 0; i < ea.length; i++) {
    const [key, da] = ea[i];
    const db = eb[i][1];
    const m = /:(asc|desc)$/.exec(key);
    const c =
      m !== null
        ? compareSortValues(da.value as number | null, db.value as number | null, m[1] === 'asc')
        : (db.score as number) - (da.score as number);
    if (c !== 0) return c;
  }
  return 0;
}

test('hits are ordered by per-rule scores and sort values, then iid; pages agree with the full order', () => {
  fc.assert(
    fc.property(fc.array(docArb, { minLength: 1, maxLength: 40 }), queryArb, fc.integer({ min: 1, max: 5 }), (docs, query, limit) => {
      const { index } = makeIndex(
        docs.map((d, i) => ({ id: i, ...d })),
        { sortableAttributes: ['price'], searchableAttributes: ['title', 'body'] },
      );
      const full = index.search({ ...query, limit: 1000, showRankingScoreDetails: true }, 'p');
      for (let i = 1; i < full.hits.length; i++) {
        const c = compareDetails(full.hits[i - 1], full.hits[i]);
        assert.ok(c < 0 || (c === 0 && (full.hits[i - 1].id as number) < (full.hits[i].id as number)), `order at ${i}`);
      }
      // Any page equals the same slice of the full order (exercises the bounded top-k path).
      for (let offset = 0; offset < full.hits.length; offset += limit) {
        const page = index.search({ ...query, offset, limit }, 'p');
        assert.deepEqual(
          page.hits.map((h) => h.id),
          full.hits.slice(offset, offset + limit).map((h) => h.id),
        );
      }
    }),
    { numRuns: 150 },
  );
});

test("corpus independence: a document's score and details do not depend on other documents", () => {
  const rand = fc.sample(fc.array(docArb, { minLength: 2000, maxLength: 2000 }), { numRuns: 1, seed: 7 })[0];
  const target = { id: 'target', title: 'gamma delta alpha', body: 'omega beta gamma zeta', price: 3 };
  const small = makeIndex([...rand.slice(0, 10).map((d, i) => ({ id: i, ...d })), target], {
    filterableAttributes: ['id'],
    sortableAttributes: ['price'],
    searchableAttributes: ['title', 'body'],
  }).index;
  const big = makeIndex([...rand.map((d, i) => ({ id: i, ...d })), target], {
    filterableAttributes: ['id'],
    sortableAttributes: ['price'],
    searchableAttributes: ['title', 'body'],
  }).index;
  fc.assert(
    fc.property(queryArb, (query) => {
      const q = { ...query, matchingStrategy: query.matchingStrategy === 'frequency' ? ('last' as const) : query.matchingStrategy };
      const params = { ...q, filter: 'id = target', showRankingScore: true, showRankingScoreDetails: true };
      const a = small.search(params, 'p').hits;
      const b = big.search(params, 'p').hits;
      assert.deepEqual(a, b);
    }),
    { numRuns: 200 },
  );
});

test('filter by facet tables agrees with the document predicate of @miroir/filter', () => {
  const value = fc.oneof(
    fc.constantFrom('Action', 'action ', 'Drama', 'true', '10', ''),
    fc.integer({ min: 0, max: 12 }),
    fc.boolean(),
    fc.constant(null),
  );
  const field = fc.option(fc.oneof(value, fc.array(value, { maxLength: 3 })), { nil: undefined });
  const docs = fc.array(fc.record({ a: field, b: field }, { requiredKeys: [] }), { minLength: 1, maxLength: 30 });
  const literal = fc.constantFrom('Action', 'drama', '10', '3', 'true', "''");
  const cond = fc.oneof(
    fc.tuple(fc.constantFrom('a', 'b'), fc.constantFrom('=', '!=', '>', '>=', '<', '<='), literal).map(([f, op, v]) => `${f} ${op} ${v}`),
    fc.tuple(fc.constantFrom('a', 'b'), literal, literal).map(([f, x, y]) => `${f} ${x} TO ${y}`),
    fc.tuple(fc.constantFrom('a', 'b'), fc.array(literal, { maxLength: 3 })).map(([f, vs]) => `${f} IN [${vs.join(', ')}]`),
    fc.constantFrom('a EXISTS', 'b IS NULL', 'a IS EMPTY', 'b NOT EXISTS'),
  );
  const filter = fc
    .array(fc.tuple(cond, fc.constantFrom(' AND ', ' OR '), fc.boolean()), { minLength: 1, maxLength: 3 })
    .map((parts) => parts.map(([c, op, neg], i) => `${i > 0 ? op : ''}${neg ? 'NOT ' : ''}${c}`).join(''));
  fc.assert(
    fc.property(docs, filter, (ds, f) => {
      const { index } = makeIndex(
        ds.map((d, i) => ({ id: i, ...d })),
        { filterableAttributes: ['a', 'b'] },
      );
      const pred = compileFilter(parseFilter(f)!);
      const expected = ds.flatMap((d, i) => (pred({ id: i, ...d }) ? [i] : []));
      assert.deepEqual(index.filter(f, 'invalid_document_filter', 'p'), expected);
    }),
    { numRuns: 300 },
  );
});

test('an index after adds, removals and re-adds answers like one built from the final documents', () => {
  fc.assert(
    fc.property(
      fc.array(docArb, { minLength: 1, maxLength: 60 }),
      fc.array(fc.tuple(fc.nat(59), docArb), { maxLength: 30 }),
      queryArb,
      (initial, updates, query) => {
        const settings = { sortableAttributes: ['price'], filterableAttributes: ['price'], searchableAttributes: ['title', 'body'] };
        const { index, docs } = makeIndex(
          initial.map((d, i) => ({ id: i, ...d })),
          settings,
        );
        for (const [k, d] of updates) {
          const iid = k % initial.length;
          index.remove(iid, docs.get(iid)!);
          const next = { id: iid, ...d };
          docs.set(iid, next);
          index.add(iid, next);
        }
        const fresh = makeIndex([...docs.values()], settings).index;
        const q = { ...query, facets: ['price'], showRankingScoreDetails: true, limit: 100 };
        // processingTimeMs is a measurement, not part of the answer.
        assert.deepEqual({ ...index.search(q, 'p'), processingTimeMs: 0 }, { ...fresh.search(q, 'p'), processingTimeMs: 0 });
      },
    ),
    { numRuns: 150 },
  );
});
