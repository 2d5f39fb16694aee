/**
 * The key of a shared read (core/read-key.ts), table-driven: key order and formatting never
 * matter, everything that changes an answer does.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { canonicalQueryJson, readKey, ReadRoute, type ReadKeyParts } from '../src/core/read-key.js';

const BASE: ReadKeyParts = {
  route: ReadRoute.search,
  index: 'films',
  indexCreatedAt: '2026-01-01T00:00:00Z',
  settingsVersion: 3,
  generation: 0,
  credential: 'abc',
  tenantFilter: null,
  metadata: false,
  minSettingsVersion: undefined,
  query: { q: 'wonder', limit: 20, filter: ['genre = drama', ['year > 1990', 'year < 2000']] },
};

describe('canonicalQueryJson', () => {
  const same: [unknown, unknown][] = [
    [{ a: 1, b: 2 }, { b: 2, a: 1 }],
    [{ x: { d: [1, { z: 1, y: 2 }], c: null } }, { x: { c: null, d: [1, { y: 2, z: 1 }] } }],
    [{ q: 'a', offset: undefined }, { q: 'a' }],
    [JSON.parse('{ "q" : "a b",\n "limit":  3 }'), { limit: 3, q: 'a b' }],
  ];
  for (const [a, b] of same) it(`${JSON.stringify(a)} ≡ ${JSON.stringify(b)}`, () => assert.equal(canonicalQueryJson(a), canonicalQueryJson(b)));

  const different: [unknown, unknown][] = [
    [{ sort: ['a:asc', 'b:asc'] }, { sort: ['b:asc', 'a:asc'] }],
    [{ q: 'a b' }, { q: 'a  b' }],
    [{ limit: 1 }, { limit: '1' }],
    [{ filter: null }, {}],
    [{ a: { b: 1 } }, { 'a.b': 1 }],
  ];
  for (const [a, b] of different) it(`${JSON.stringify(a)} ≢ ${JSON.stringify(b)}`, () => assert.notEqual(canonicalQueryJson(a), canonicalQueryJson(b)));

  it('is JSON that parses back to the value', () => {
    const v = { b: [1, 'x"y', { d: true, c: -0.5 }], a: 'é\n' };
    assert.deepEqual(JSON.parse(canonicalQueryJson(v)), v);
  });
});

describe('readKey', () => {
  it('ignores the key order of the query', () => {
    assert.equal(readKey(BASE), readKey({ ...BASE, query: { filter: ['genre = drama', ['year > 1990', 'year < 2000']], limit: 20, q: 'wonder' } }));
  });
  const changes: [string, Partial<ReadKeyParts>][] = [
    ['route', { route: ReadRoute.facetSearch }],
    ['index', { index: 'films2' }],
    ['index created again', { indexCreatedAt: '2026-01-02T00:00:00Z' }],
    ['settings version', { settingsVersion: 4 }],
    ['credential', { credential: 'abd' }],
    ['tenant filter', { tenantFilter: 'genre = comedy' }],
    ['tenant filter as an array', { tenantFilter: ['genre = comedy'] }],
    ['metadata', { metadata: true }],
    ['min settings version', { minSettingsVersion: '3' }],
    ['query', { query: { q: 'wonder', limit: 21 } }],
  ];
  for (const [what, change] of changes) it(`changes with the ${what}`, () => assert.notEqual(readKey({ ...BASE, ...change }), readKey(BASE)));
  it('a part cannot run into the next', () => {
    assert.notEqual(readKey({ ...BASE, index: 'a\n1', settingsVersion: 2 }), readKey({ ...BASE, index: 'a', settingsVersion: 12 }));
  });
});
