/**
 * Parity (spec S8): index settings through Miroir (3 nodes, RF=2) answer as one node answers — the
 * whole object, every sub-route's GET / update / reset, the 400 bodies of invalid values, and the
 * finished tasks' details. The reserved shard field Miroir keeps filterable must never show.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertSame, assertSameError, startParity, type Parity, type RequestSpec, writeBoth } from './parity-kit.js';

let p: Parity;

const write = (method: string, path: string, spec: RequestSpec, status?: 'succeeded' | 'failed') => writeBoth(p, method, path, spec, status);

interface SubRoute {
  route: string;
  method: 'PUT' | 'PATCH';
  value: unknown;
  invalid: unknown;
  code: string;
}

/** Values given out of order where a node keeps a set, so that the answers show its normalisation. */
const SUB_ROUTES: SubRoute[] = [
  { route: 'displayed-attributes', method: 'PUT', value: ['title', 'genre', 'id'], invalid: 'title', code: 'invalid_settings_displayed_attributes' },
  { route: 'searchable-attributes', method: 'PUT', value: ['title', 'genre'], invalid: [1], code: 'invalid_settings_searchable_attributes' },
  {
    route: 'filterable-attributes',
    method: 'PUT',
    value: ['year', 'genre', { attributePatterns: ['rating'], features: { facetSearch: false, filter: { equality: true, comparison: true } } }],
    invalid: 'genre',
    code: 'invalid_settings_filterable_attributes',
  },
  { route: 'sortable-attributes', method: 'PUT', value: ['year', 'title'], invalid: {}, code: 'invalid_settings_sortable_attributes' },
  {
    route: 'ranking-rules',
    method: 'PUT',
    value: ['words', 'typo', 'year:desc', 'sort', 'proximity', 'attribute', 'exactness'],
    invalid: ['nope'],
    code: 'invalid_settings_ranking_rules',
  },
  { route: 'stop-words', method: 'PUT', value: ['the', 'a', 'of'], invalid: 'the', code: 'invalid_settings_stop_words' },
  { route: 'synonyms', method: 'PUT', value: { wolverine: ['xmen', 'logan'], logan: ['wolverine'] }, invalid: ['a'], code: 'invalid_settings_synonyms' },
  { route: 'distinct-attribute', method: 'PUT', value: 'genre', invalid: 3, code: 'invalid_settings_distinct_attribute' },
  { route: 'non-separator-tokens', method: 'PUT', value: ['@', '#'], invalid: '@', code: 'invalid_settings_non_separator_tokens' },
  { route: 'separator-tokens', method: 'PUT', value: ['|', '&'], invalid: 1, code: 'invalid_settings_separator_tokens' },
  { route: 'dictionary', method: 'PUT', value: ['J.R.R.', 'C++'], invalid: [1], code: 'invalid_settings_dictionary' },
  { route: 'proximity-precision', method: 'PUT', value: 'byAttribute', invalid: 'byLetter', code: 'invalid_settings_proximity_precision' },
  {
    route: 'localized-attributes',
    method: 'PUT',
    value: [{ attributePatterns: ['*_ja'], locales: ['jpn'] }],
    // The reference engine accepts any locale string (`xx`); Meilisearch's locales are a closed list.
    invalid: [{ attributePatterns: 'x', locales: ['jpn'] }],
    code: 'invalid_settings_localized_attributes',
  },
  { route: 'search-cutoff-ms', method: 'PUT', value: 150, invalid: -1, code: 'invalid_settings_search_cutoff_ms' },
  { route: 'facet-search', method: 'PUT', value: false, invalid: 'no', code: 'invalid_settings_facet_search' },
  { route: 'prefix-search', method: 'PUT', value: 'disabled', invalid: 'sometimes', code: 'invalid_settings_prefix_search' },
  {
    route: 'typo-tolerance',
    method: 'PATCH',
    value: { minWordSizeForTypos: { oneTypo: 4 }, disableOnWords: ['xyz', 'abc'], disableOnAttributes: ['genre'] },
    invalid: { minWordSizeForTypos: { oneTypo: 10, twoTypos: 5 } },
    code: 'invalid_settings_typo_tolerance',
  },
  {
    route: 'faceting',
    method: 'PATCH',
    value: { maxValuesPerFacet: 50, sortFacetValuesBy: { genre: 'count' } },
    invalid: { maxValuesPerFacet: -1 },
    code: 'invalid_settings_faceting',
  },
  { route: 'pagination', method: 'PATCH', value: { maxTotalHits: 500 }, invalid: { maxTotalHits: 'all' }, code: 'invalid_settings_pagination' },
  {
    route: 'embedders',
    method: 'PATCH',
    value: { manual: { source: 'userProvided', dimensions: 3 } },
    invalid: { manual: { source: 'telepathy' } },
    code: 'invalid_settings_embedders',
  },
];

/**
 * Sub-route cases where Miroir once differed (see the `regressions` block):
 * - a JSON string body (`"genre"`) or a string value read from a node (`"byWord"`) is mishandled:
 *   string updates fail with `malformed_payload`, string reads with a 503;
 * - task details echo the submitted value where a node normalises it: set-like lists sorted
 *   (sortable attributes, stop words, (non-)separator tokens, dictionary, typo-tolerance word and
 *   attribute lists), synonyms by key; a reset of displayed/searchable attributes shows `["*"]`.
 */
const KNOWN = new Set<string>([
  'displayed-attributes: update, read, reset',
  'displayed-attributes: invalid value',
  'searchable-attributes: update, read, reset',
  'filterable-attributes: invalid value',
  'sortable-attributes: update, read, reset',
  'stop-words: update, read, reset',
  'stop-words: invalid value',
  'synonyms: update, read, reset',
  'distinct-attribute: update, read, reset',
  'non-separator-tokens: update, read, reset',
  'non-separator-tokens: invalid value',
  'separator-tokens: update, read, reset',
  'dictionary: update, read, reset',
  'proximity-precision: GET on a fresh index',
  'proximity-precision: update, read, reset',
  'proximity-precision: invalid value',
  'facet-search: invalid value',
  'prefix-search: GET on a fresh index',
  'prefix-search: update, read, reset',
  'prefix-search: invalid value',
  'typo-tolerance: update, read, reset',
]);

before(async () => {
  p = await startParity();
  await write('POST', '/indexes', { json: { uid: 'films', primaryKey: 'id' } });
  await write('POST', '/indexes/films/documents', { json: [{ id: 1, title: 'Alien', genre: 'horror', year: 1979, rating: 8 }] });
  // Invalid values go here, so that a value one side wrongly accepts cannot change `films`.
  await write('POST', '/indexes', { json: { uid: 'scratch', primaryKey: 'id' } });
});
after(async () => p?.stop());

/** Each case on its own index, so that a difference in one cannot leak into the others. */
function updateCase(s: SubRoute) {
  return async () => {
    const uid = `set-${s.route}`;
    await write('POST', '/indexes', { json: { uid, primaryKey: 'id' } });
    await write('POST', `/indexes/${uid}/documents`, { json: [{ id: 1, title: 'Alien', genre: 'horror', year: 1979, rating: 8 }] });
    const path = `/indexes/${uid}/settings/${s.route}`;
    const done = await write(s.method, path, { json: s.value });
    assert.equal(done.mir.body.type, 'settingsUpdate');
    assertSame(await p.both('GET', path));
    assertSame(await p.both('GET', `/indexes/${uid}/settings`));
    await write('DELETE', path, {});
    assertSame(await p.both('GET', path));
    assertSame(await p.both('GET', `/indexes/${uid}/settings`));
  };
}

function freshCase(s: SubRoute) {
  return async () => {
    assertSame(await p.both('GET', `/indexes/films/settings/${s.route}`));
  };
}

/** The three cases of every sub-route, by name. */
function subRouteCases(): [string, () => Promise<void>][] {
  return SUB_ROUTES.flatMap((s): [string, () => Promise<void>][] => [
    [`${s.route}: GET on a fresh index`, freshCase(s)],
    [`${s.route}: update, read, reset`, updateCase(s)],
    [`${s.route}: invalid value`, invalidCase(s)],
  ]);
}

function invalidCase(s: SubRoute) {
  return async () => {
    assertSameError(await p.both(s.method, `/indexes/scratch/settings/${s.route}`, { json: s.invalid }), 400, s.code);
  };
}

describe('settings', () => {
  test('the whole object of a fresh index', async () => {
    assertSame(await p.both('GET', '/indexes/films/settings'));
  });

  test('PATCH creates a missing index', async () => {
    await write('PATCH', '/indexes/bornfromsettings/settings', { json: { filterableAttributes: ['a'] } });
    assertSame(await p.both('GET', '/indexes/bornfromsettings/settings/filterable-attributes'));
  });

  test('errors of the whole-object routes', async () => {
    assertSameError(await p.both('GET', '/indexes/nope/settings'), 404, 'index_not_found');
    assertSameError(await p.both('GET', '/indexes/nope/settings/ranking-rules'), 404, 'index_not_found');
    assertSameError(await p.both('PATCH', '/indexes/scratch/settings', { json: { color: 'red' } }), 400, 'bad_request');
    assertSameError(await p.both('PATCH', '/indexes/scratch/settings', { json: ['a'] }), 400, 'bad_request');
    assertSameError(await p.both('PATCH', '/indexes/scratch/settings', { json: { rankingRules: 'words' } }), 400, 'invalid_settings_ranking_rules');
    assertSameError(await p.both('PATCH', '/indexes/scratch/settings', { raw: '{"a":' }), 400, 'malformed_payload');
    assertSameError(await p.both('PATCH', '/indexes/bad%20uid/settings', { json: {} }), 400, 'invalid_index_uid');
  });

  test('an unknown sub-route is not found', async () => {
    const pair = await p.both('GET', '/indexes/films/settings/colors');
    assertSame(pair);
    assert.equal(pair.ref.status, 404);
  });

  for (const [name, fn] of subRouteCases()) if (!KNOWN.has(name)) test(name, fn);
});

describe('regressions', () => {
  test('PATCH many settings at once, then a whole reset: its task details list every setting', async () => {
    const json = {
      searchableAttributes: ['title', 'genre'],
      filterableAttributes: ['genre'],
      rankingRules: ['words', 'typo', 'proximity', 'attribute', 'sort', 'exactness'],
      distinctAttribute: null,
      typoTolerance: { enabled: false },
      pagination: { maxTotalHits: 200 },
    };
    const done = await write('PATCH', '/indexes/films/settings', { json });
    assert.equal(done.mir.body.type, 'settingsUpdate');
    assertSame(await p.both('GET', '/indexes/films/settings'));
    await write('DELETE', '/indexes/films/settings', {});
    assertSame(await p.both('GET', '/indexes/films/settings'));
  });

  for (const [name, fn] of subRouteCases()) if (KNOWN.has(name)) test(name, fn);
});
