// Settings routes (reference §8): whole-object GET/PATCH/DELETE, every sub-route with its
// PUT-or-PATCH method, task details = submitted settings, validation errors.
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { defaultSettings, settingsRouteName, SETTINGS_KEYS, PATCH_SETTINGS_KEYS } from '@miroir/protocol';
import { http, meiliError, startTestEngine, waitTask, writeAndWait } from './helpers.js';
import type { TestEngine } from './helpers.js';

let e: TestEngine;
before(async () => {
  e = await startTestEngine();
});
after(async () => {
  await e.close();
});

test('a fresh index has Meilisearch default settings, keys in order', async () => {
  await e.client.createIndex('fresh').waitTask();
  const r = await http(e.url, 'GET', '/indexes/fresh/settings');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, defaultSettings());
  assert.deepEqual(Object.keys(r.body), [...SETTINGS_KEYS]);
  assert.deepEqual(await e.client.index('fresh').getSettings(), defaultSettings());
});

test('PATCH /settings creates the index; details are the submitted settings', async () => {
  const enq = await http(e.url, 'PATCH', '/indexes/made_by_settings/settings', {
    stopWords: ['the', 'a', 'the'],
    rankingRules: ['words', 'price:asc'],
    displayedAttributes: ['*'],
    typoTolerance: { enabled: false },
  });
  assert.equal(enq.status, 202);
  assert.equal(enq.body.type, 'settingsUpdate');
  const t = await waitTask(e.url, enq.body.taskUid);
  assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
  assert.deepEqual(t.details, {
    displayedAttributes: ['*'],
    rankingRules: ['words', 'price:asc'],
    stopWords: ['a', 'the'],
    typoTolerance: { enabled: false },
  });
  const s = (await http(e.url, 'GET', '/indexes/made_by_settings/settings')).body;
  assert.deepEqual(s.stopWords, ['a', 'the']);
  assert.deepEqual(s.rankingRules, ['words', 'price:asc']);
  assert.deepEqual(s.typoTolerance, { ...defaultSettings().typoTolerance, enabled: false });

  const reset = await e.client.index('made_by_settings').resetSettings().waitTask();
  assert.equal(reset.status, 'succeeded');
  assert.deepEqual((reset.details as Record<string, unknown>).displayedAttributes, ['*']);
  assert.equal((reset.details as Record<string, unknown>).stopWords, null);
  assert.deepEqual((await http(e.url, 'GET', '/indexes/made_by_settings/settings')).body, defaultSettings());
});

test('every sub-route: GET bare value, update with its method, DELETE resets', async () => {
  await e.client.createIndex('subs').waitTask();
  const values: Record<string, unknown> = {
    displayedAttributes: ['title', 'id'],
    searchableAttributes: ['title'],
    filterableAttributes: ['genre'],
    sortableAttributes: ['year'],
    rankingRules: ['typo', 'words'],
    stopWords: ['of'],
    nonSeparatorTokens: ['@'],
    separatorTokens: ['|'],
    dictionary: ['J. R. R.'],
    synonyms: { movie: ['film'] },
    distinctAttribute: 'sku',
    proximityPrecision: 'byAttribute',
    typoTolerance: { disableOnNumbers: true },
    faceting: { maxValuesPerFacet: 7 },
    pagination: { maxTotalHits: 50 },
    embedders: { manual: { source: 'userProvided', dimensions: 3 } },
    searchCutoffMs: 150,
    localizedAttributes: [{ attributePatterns: ['*_ja'], locales: ['jpn'] }],
    facetSearch: false,
    prefixSearch: 'disabled',
  };
  const def = defaultSettings() as unknown as Record<string, unknown>;
  for (const key of SETTINGS_KEYS) {
    const path = `/indexes/subs/settings/${settingsRouteName(key)}`;
    const method = PATCH_SETTINGS_KEYS.has(key) ? 'PATCH' : 'PUT';
    const body = JSON.stringify(values[key]);
    const json = { 'content-type': 'application/json' };
    const wrong = await http(e.url, method === 'PATCH' ? 'PUT' : 'PATCH', path, body, json);
    assert.equal(wrong.status, 405, `${key}: the other method is not routed`);
    assert.equal(wrong.headers.get('allow'), `GET, ${method}, DELETE`, key);
    const t = await writeAndWait(e.url, method, path, body, json);
    assert.equal(t.status, 'succeeded', `${key}: ${JSON.stringify(t.error)}`);
    assert.deepEqual(t.details, { [key]: values[key] }, key);
    const got = await http(e.url, 'GET', path);
    assert.equal(got.status, 200);
    assert.match(got.headers.get('content-type') ?? '', /^application\/json/, key);
    const expected =
      key === 'typoTolerance' || key === 'faceting'
        ? { ...(def[key] as object), ...(values[key] as object) }
        : values[key];
    assert.deepEqual(got.body, expected, key);
    const d = await writeAndWait(e.url, 'DELETE', path);
    assert.equal(d.status, 'succeeded');
    const reset = await fetch(`${e.url}${path}`);
    assert.equal(await reset.text(), JSON.stringify(def[key]), key);
  }
});

test('the official client reads and writes sub-settings', async () => {
  const idx = e.client.index('client_subs');
  await idx.updateSynonyms({ big: ['large'] }).waitTask();
  assert.deepEqual(await idx.getSynonyms(), { big: ['large'] });
  await idx.updateTypoTolerance({ minWordSizeForTypos: { oneTypo: 3 } }).waitTask();
  assert.deepEqual((await idx.getTypoTolerance())?.minWordSizeForTypos, { oneTypo: 3, twoTypos: 9 });
  await idx.updateFaceting({ sortFacetValuesBy: { genre: 'count' } }).waitTask();
  assert.deepEqual(await idx.getFaceting(), { maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'alpha', genre: 'count' } });
});

test('validation errors are synchronous with exact codes', async () => {
  const unknown = await http(e.url, 'PATCH', '/indexes/v/settings', { foo: [] });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.code, 'bad_request');
  assert.match(unknown.body.message, /^Unknown field `foo`: expected one of `displayedAttributes`, /);
  const rr = await http(e.url, 'PUT', '/indexes/v/settings/ranking-rules', ['manyTheFish']);
  assert.deepEqual(
    rr.body,
    meiliError(
      'invalid_settings_ranking_rules',
      'Invalid value at `[0]`: `manyTheFish` ranking rule is invalid. Valid ranking rules are words, typo, sort, proximity, attribute, exactness and custom ranking rules.',
    ),
  );
  const typo = await http(e.url, 'PATCH', '/indexes/v/settings/typo-tolerance', { minWordSizeForTypos: { oneTypo: 6, twoTypos: 5 } });
  assert.equal(typo.body.code, 'invalid_settings_typo_tolerance');
  const mth = await http(e.url, 'PATCH', '/indexes/v/settings', { pagination: { maxTotalHits: 0 } });
  assert.equal(mth.body.code, 'invalid_settings_pagination');
  const sub = await http(e.url, 'PUT', '/indexes/v/settings/displayed-attributes', '"title"', { 'content-type': 'application/json' });
  assert.deepEqual(
    sub.body,
    meiliError('invalid_settings_displayed_attributes', 'Invalid value type: expected an array, but found a string: `"title"`'),
  );
  assert.equal((await http(e.url, 'GET', '/indexes/v')).status, 404);
  const ghost = await http(e.url, 'GET', '/indexes/v/settings');
  assert.deepEqual(ghost.body, meiliError('index_not_found', 'Index `v` not found.'));
});

test('typo tolerance bounds merged with stored values fail the task', async () => {
  await e.client.index('typo_merge').updateTypoTolerance({ minWordSizeForTypos: { oneTypo: 2, twoTypos: 4 } }).waitTask();
  const t = await writeAndWait(e.url, 'PATCH', '/indexes/typo_merge/settings/typo-tolerance', { minWordSizeForTypos: { oneTypo: 6 } });
  assert.equal(t.status, 'failed');
  assert.equal(t.error.code, 'invalid_settings_typo_tolerance');
  assert.deepEqual((await http(e.url, 'GET', '/indexes/typo_merge/settings/typo-tolerance')).body.minWordSizeForTypos, { oneTypo: 2, twoTypos: 4 });
});
