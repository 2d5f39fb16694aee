// Expected messages come from meilisearch `crates/meilisearch/tests/settings/*.rs` snapshots
// (e.g. ranking rules: "Invalid value at `.rankingRules[0]`: `custom` ranking rule is invalid…")
// and from the deserr crate's JSON message formats (`src/errors/json.rs`).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  applySettingsPatch,
  defaultSettings,
  didYouMean,
  MeiliError,
  resetAllSettingsPatch,
  settingsErrorCode,
  settingsRouteName,
  settingsTaskDetails,
  settingsView,
  validateSettings,
  validateSettingValue,
} from '../src/index.js';
import { fails } from './helpers.js';


test('route names and codes derive from the key', () => {
  assert.equal(settingsRouteName('typoTolerance'), 'typo-tolerance');
  assert.equal(settingsRouteName('searchCutoffMs'), 'search-cutoff-ms');
  assert.equal(settingsErrorCode('displayedAttributes'), 'invalid_settings_displayed_attributes');
  assert.equal(settingsErrorCode('searchCutoffMs'), 'invalid_settings_search_cutoff_ms');
});

test('unknown top-level key is a bad_request listing every key', () => {
  fails(
    () => validateSettings({ foo: 1 }),
    'bad_request',
    'Unknown field `foo`: expected one of `displayedAttributes`, `searchableAttributes`, `filterableAttributes`, `sortableAttributes`, `rankingRules`, `stopWords`, `nonSeparatorTokens`, `separatorTokens`, `dictionary`, `synonyms`, `distinctAttribute`, `proximityPrecision`, `typoTolerance`, `faceting`, `pagination`, `embedders`, `searchCutoffMs`, `localizedAttributes`, `facetSearch`, `prefixSearch`',
  );
  fails(
    () => validateSettings({ rankingRule: [] }),
    'bad_request',
    'Unknown field `rankingRule`: did you mean `rankingRules`? expected one of `displayedAttributes`, `searchableAttributes`, `filterableAttributes`, `sortableAttributes`, `rankingRules`, `stopWords`, `nonSeparatorTokens`, `separatorTokens`, `dictionary`, `synonyms`, `distinctAttribute`, `proximityPrecision`, `typoTolerance`, `faceting`, `pagination`, `embedders`, `searchCutoffMs`, `localizedAttributes`, `facetSearch`, `prefixSearch`',
  );
});

test('did you mean follows deserr thresholds', () => {
  assert.equal(didYouMean('sart', ['sort', 'q']), 'did you mean `sort`? ');
  assert.equal(didYouMean('abc', ['abd']), '');
  assert.equal(didYouMean('zzzzzz', ['sort']), '');
});

test('type errors carry the key code and location', () => {
  fails(
    () => validateSettings({ displayedAttributes: 'x' }),
    'invalid_settings_displayed_attributes',
    'Invalid value type at `.displayedAttributes`: expected an array, but found a string: `"x"`',
  );
  fails(
    () => validateSettings({ stopWords: [1] }),
    'invalid_settings_stop_words',
    'Invalid value type at `.stopWords[0]`: expected a string, but found a positive integer: `1`',
  );
  fails(
    () => validateSettingValue('searchCutoffMs', -5, ''),
    'invalid_settings_search_cutoff_ms',
    'Invalid value type: expected a positive integer, but found a negative integer: `-5`',
  );
  fails(
    () => validateSettings({ facetSearch: 'yes' }),
    'invalid_settings_facet_search',
    'Invalid value type at `.facetSearch`: expected a boolean, but found a string: `"yes"`',
  );
  fails(
    () => validateSettings({ proximityPrecision: 'byWords' }),
    'invalid_settings_proximity_precision',
    'Unknown value `byWords` at `.proximityPrecision`: did you mean `byWord`? expected one of `byWord`, `byAttribute`',
  );
});

test('ranking rules are parsed like milli', () => {
  fails(
    () => validateSettings({ rankingRules: ['custom'] }),
    'invalid_settings_ranking_rules',
    'Invalid value at `.rankingRules[0]`: `custom` ranking rule is invalid. Valid ranking rules are words, typo, sort, proximity, attribute, exactness and custom ranking rules.',
  );
  fails(
    () => validateSettings({ rankingRules: ['words', '_geoPoint(1,2):asc'] }),
    'invalid_settings_ranking_rules',
    "Invalid value at `.rankingRules[1]`: `_geoPoint` is a reserved keyword and thus can't be used as a ranking rule. `_geoPoint` can only be used for sorting at search time",
  );
  fails(
    () => validateSettings({ rankingRules: ['_geo:asc'] }),
    'invalid_settings_ranking_rules',
    "Invalid value at `.rankingRules[0]`: `_geo` is a reserved keyword and thus can't be used as a ranking rule",
  );
  assert.deepEqual(validateSettings({ rankingRules: ['words', 'price:asc', 'a:b:desc', 'attributeRank'] }), {
    rankingRules: ['words', 'price:asc', 'a:b:desc', 'attributeRank'],
  });
  assert.throws(() => validateSettings({ rankingRules: ['attribute', 'wordPosition'] }), { code: 'invalid_settings_ranking_rules' });
});

test('typo tolerance: nested errors keep the typo code; oneTypo > twoTypos is rejected', () => {
  fails(
    () => validateSettings({ typoTolerance: { foo: true } }),
    'invalid_settings_typo_tolerance',
    'Unknown field `foo` inside `.typoTolerance`: expected one of `enabled`, `minWordSizeForTypos`, `disableOnWords`, `disableOnAttributes`, `disableOnNumbers`',
  );
  fails(
    () => validateSettings({ typoTolerance: { minWordSizeForTypos: { oneTypo: 9, twoTypos: 5 } } }),
    'invalid_settings_typo_tolerance',
    'Invalid value at `.typoTolerance.minWordSizeForTypos`: `minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should be between `0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` but found `oneTypo: 9` and twoTypos: 5`.',
  );
  // Only one bound sent: the check happens when merging with the stored value.
  const patch = validateSettings({ typoTolerance: { minWordSizeForTypos: { oneTypo: 10 } } });
  assert.throws(() => applySettingsPatch(defaultSettings(), patch), { code: 'invalid_settings_typo_tolerance' });
});

test('pagination.maxTotalHits must be at least 1', () => {
  assert.throws(() => validateSettings({ pagination: { maxTotalHits: 0 } }), { code: 'invalid_settings_pagination' });
  assert.deepEqual(validateSettings({ pagination: { maxTotalHits: 5 } }), { pagination: { maxTotalHits: 5 } });
});

test('sets are sorted and de-duplicated; wildcard lists collapse to a reset', () => {
  const p = validateSettings({
    sortableAttributes: ['b', 'a', 'b'],
    displayedAttributes: ['title', '*'],
    synonyms: { b: ['x'], a: ['y'] },
  });
  assert.deepEqual(p, { displayedAttributes: null, sortableAttributes: ['a', 'b'], synonyms: { a: ['y'], b: ['x'] } });
  assert.deepEqual(Object.keys(p.synonyms!), ['a', 'b']);
});

test('patches merge into settings; nested objects merge partially; null resets', () => {
  let s = defaultSettings();
  s = applySettingsPatch(s, validateSettings({ typoTolerance: { enabled: false }, faceting: { sortFacetValuesBy: { genre: 'count' } } }));
  assert.equal(s.typoTolerance.enabled, false);
  assert.deepEqual(s.typoTolerance.minWordSizeForTypos, { oneTypo: 5, twoTypos: 9 });
  assert.deepEqual(s.faceting, { maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'alpha', genre: 'count' } });
  s = applySettingsPatch(s, validateSettings({ typoTolerance: { minWordSizeForTypos: { oneTypo: 2 } } }));
  assert.deepEqual(s.typoTolerance, {
    enabled: false,
    minWordSizeForTypos: { oneTypo: 2, twoTypos: 9 },
    disableOnWords: [],
    disableOnAttributes: [],
    disableOnNumbers: false,
  });
  s = applySettingsPatch(s, { typoTolerance: null, faceting: null });
  assert.deepEqual(s, defaultSettings());
  s = applySettingsPatch(s, validateSettings({ filterableAttributes: ['a', { attributePatterns: ['b*'] }] }));
  assert.deepEqual(s.filterableAttributes, [
    'a',
    { attributePatterns: ['b*'], features: { facetSearch: false, filter: { equality: true, comparison: false } } },
  ]);
  assert.deepEqual(applySettingsPatch(s, resetAllSettingsPatch()), defaultSettings());
});

test('task details list the submitted keys in Meilisearch order; wildcard resets show ["*"]', () => {
  const d = settingsTaskDetails(validateSettings({ stopWords: ['the'], displayedAttributes: ['*'], rankingRules: null }));
  assert.deepEqual(Object.keys(d), ['displayedAttributes', 'rankingRules', 'stopWords']);
  assert.deepEqual(d, { displayedAttributes: ['*'], rankingRules: null, stopWords: ['the'] });
  const all = settingsTaskDetails(resetAllSettingsPatch());
  assert.equal(Object.keys(all).length, 20);
  assert.deepEqual(all.searchableAttributes, ['*']);
  assert.equal(all.typoTolerance, null);
});

test('embedder secrets are hidden in views and details', () => {
  const patch = validateSettings({ embedders: { emb: { source: 'openAi', apiKey: 'sk-0123456789abcdefghij' } } });
  assert.deepEqual(settingsTaskDetails(patch), { embedders: { emb: { source: 'openAi', apiKey: 'sk-XXXXX...' } } });
  const s = applySettingsPatch(defaultSettings(), patch);
  assert.equal(s.embedders.emb.apiKey, 'sk-0123456789abcdefghij');
  assert.equal(settingsView(s).embedders.emb.apiKey, 'sk-XXXXX...');
  fails(
    () => validateSettings({ embedders: { emb: { source: 'userProvided' } } }),
    'invalid_settings_embedders',
    'Missing field `dimensions` inside `.embedders.emb`',
  );
});
