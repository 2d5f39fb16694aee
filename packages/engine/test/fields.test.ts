// `POST /indexes/{uid}/fields` (Meilisearch ≥ 1.33, route `routes/indexes/fields.rs`): each field
// with its settings-derived capabilities, paginated, filtered by capability or name pattern.
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { http, meiliError, startTestEngine, writeAndWait } from './helpers.js';
import type { TestEngine } from './helpers.js';

let e: TestEngine;
before(async () => {
  e = await startTestEngine();
  const d = await writeAndWait(e.url, 'POST', '/indexes/f/documents', [{ id: 1, title: 'x', genre: 'g', meta: { year: 2000 }, title_ja: 'y' }]);
  assert.equal(d.status, 'succeeded');
  const s = await writeAndWait(e.url, 'PATCH', '/indexes/f/settings', {
    displayedAttributes: ['id', 'title', 'meta'],
    searchableAttributes: ['title'],
    sortableAttributes: ['meta.year'],
    distinctAttribute: 'genre',
    rankingRules: ['words', 'meta.year:desc'],
    filterableAttributes: ['genre', { attributePatterns: ['meta.*'], features: { facetSearch: false, filter: { equality: true, comparison: true } } }],
    faceting: { sortFacetValuesBy: { genre: 'count' } },
    localizedAttributes: [{ attributePatterns: ['*_ja'], locales: ['jpn'] }],
  });
  assert.equal(s.status, 'succeeded', JSON.stringify(s.error));
});
after(async () => {
  await e.close();
});

test('lists every field with its capabilities', async () => {
  const r = await http(e.url, 'POST', '/indexes/f/fields', {});
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.total, 6);
  assert.deepEqual(
    r.body.results.map((f: { name: string }) => f.name),
    ['genre', 'id', 'meta', 'meta.year', 'title', 'title_ja'],
  );
  const byName = Object.fromEntries(r.body.results.map((f: { name: string }) => [f.name, f]));
  assert.deepEqual(byName.genre, {
    name: 'genre',
    displayed: { enabled: false },
    searchable: { enabled: false },
    sortable: { enabled: false },
    distinct: { enabled: true },
    rankingRule: { enabled: false },
    filterable: { enabled: true, sortBy: 'count', facetSearch: true, equality: true, comparison: true },
    localized: { locales: [] },
  });
  assert.deepEqual(byName['meta.year'], {
    name: 'meta.year',
    displayed: { enabled: true },
    searchable: { enabled: false },
    sortable: { enabled: true },
    distinct: { enabled: false },
    rankingRule: { enabled: true, order: 'desc' },
    filterable: { enabled: true, sortBy: 'alpha', facetSearch: false, equality: true, comparison: true },
    localized: { locales: [] },
  });
  assert.deepEqual(byName.title_ja.localized, { locales: ['jpn'] });
  assert.deepEqual(byName.title.searchable, { enabled: true });
});

test('filters and paginates', async () => {
  const f = await http(e.url, 'POST', '/indexes/f/fields', { filter: { filterable: true }, limit: 1 });
  assert.deepEqual(
    { names: f.body.results.map((x: { name: string }) => x.name), offset: f.body.offset, limit: f.body.limit, total: f.body.total },
    { names: ['genre'], offset: 0, limit: 1, total: 2 },
  );
  const p = await http(e.url, 'POST', '/indexes/f/fields', { filter: { attributePatterns: ['title*'] } });
  assert.deepEqual(p.body.results.map((x: { name: string }) => x.name), ['title', 'title_ja']);
  const bad = await http(e.url, 'POST', '/indexes/f/fields', { filter: { displayed: 'yes' } });
  assert.deepEqual(
    bad.body,
    meiliError('invalid_index_fields_filter_displayed', 'Invalid value type at `.filter.displayed`: expected a boolean, but found a string: `"yes"`'),
  );
  const ghost = await http(e.url, 'POST', '/indexes/nope/fields', {});
  assert.equal(ghost.status, 404);
});
