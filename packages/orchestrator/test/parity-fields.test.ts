/**
 * Parity (spec S8): `POST /indexes/{uid}/fields` through Miroir (3 nodes, RF=2, 8 shards) answers
 * as one engine holding the same documents: the union of the nodes' fields, `_miroir_*` hidden,
 * sorted and paginated once, the body's errors as one node gives them.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertSame, assertSameError, startParity, writeBoth, type Parity } from './parity-kit.js';

let p: Parity;

before(async () => {
  p = await startParity();
  // Each document brings a field of its own, so no single node holds every field.
  const docs = Array.from({ length: 24 }, (_, i) => ({ id: i, title: `t${i}`, [`only${String(i).padStart(2, '0')}`]: i, nested: { a: i } }));
  await writeBoth(p, 'POST', '/indexes', { json: { uid: 'fields', primaryKey: 'id' } });
  await writeBoth(p, 'POST', '/indexes/fields/documents', { json: docs });
  await writeBoth(p, 'PATCH', '/indexes/fields/settings', {
    json: {
      filterableAttributes: ['only03', { attributePatterns: ['nested.*'], features: { facetSearch: true, filter: { equality: true, comparison: true } } }],
      sortableAttributes: ['title'],
      rankingRules: ['words', 'only05:desc'],
      searchableAttributes: ['title', 'nested'],
    },
  });
});
after(async () => p?.stop());

describe('fields', () => {
  test('every field of the index, once, reserved ones hidden', async () => {
    const pair = await p.both('POST', '/indexes/fields/fields', { json: { limit: 1000 } });
    assertSame(pair);
    assert.equal(pair.mir.status, 200);
    assert.equal(pair.mir.body.total, 24 + 4); // id, title, nested, nested.a
    assert.ok(!pair.mir.body.results.some((f: { name: string }) => f.name.startsWith('_miroir')));
  });

  test('pagination as one node paginates', async () => {
    for (const json of [{}, { offset: 5, limit: 7 }, { offset: 26, limit: 3 }, { offset: 100 }, { limit: 0 }]) {
      assertSame(await p.both('POST', '/indexes/fields/fields', { json }));
    }
  });

  test('filters', async () => {
    for (const filter of [
      { attributePatterns: ['only1*'] },
      { attributePatterns: ['_miroir*'] },
      { filterable: true },
      { sortable: true, displayed: true },
      { rankingRule: true },
      { searchable: false, attributePatterns: ['nested*', 'id'] },
      { distinct: false, filterable: null },
    ]) {
      assertSame(await p.both('POST', '/indexes/fields/fields', { json: { filter, limit: 50 } }));
    }
  });

  test('errors: bad body, unknown index', async () => {
    assertSameError(await p.both('POST', '/indexes/fields/fields', { json: { offset: -1 } }), 400, 'invalid_index_offset');
    assertSameError(await p.both('POST', '/indexes/fields/fields', { json: { limit: 'x' } }), 400, 'invalid_index_limit');
    assertSameError(await p.both('POST', '/indexes/fields/fields', { json: { filter: { color: true } } }), 400, 'invalid_index_fields_filter');
    assertSameError(await p.both('POST', '/indexes/fields/fields', { json: { filter: { sortable: 1 } } }), 400, 'invalid_index_fields_filter_sortable');
    assertSameError(await p.both('POST', '/indexes/fields/fields', { json: { page: 1 } }), 400, 'bad_request');
    assertSameError(await p.both('POST', '/indexes/fields/fields', { json: [] }), 400, 'bad_request');
    assertSameError(await p.both('POST', '/indexes/nope/fields', { json: {} }), 404, 'index_not_found');
  });

  test('auth: no key, a key without the action', async () => {
    assertSameError(await p.both('POST', '/indexes/fields/fields', { json: {}, auth: null }), 401, 'missing_authorization_header');
    assertSameError(await p.both('POST', '/indexes/fields/fields', { json: {}, auth: 'wrong' }), 403, 'invalid_api_key');
  });
});
