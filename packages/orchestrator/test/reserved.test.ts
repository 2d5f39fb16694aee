import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { stripDocument } from '../src/core/documents.js';
import { mayMatchReserved, nodeSearchOn } from '../src/core/reserved-search.js';
import {
  clientSettings,
  nodeSettingsUpdate,
  withoutReservedFilterable,
  withoutReservedInMessage,
  withReservedFilterable,
} from '../src/core/reserved-settings.js';

test('nodes always keep the shard field filterable; clients never see it', () => {
  assert.deepEqual(withReservedFilterable(['genre']), ['genre', '_miroir_shard']);
  assert.deepEqual(withReservedFilterable(null), ['_miroir_shard']);
  assert.deepEqual(withReservedFilterable(['_miroir_shard', 'a']), ['a', '_miroir_shard']);
  assert.deepEqual(withoutReservedFilterable(['genre', '_miroir_shard']), ['genre']);
  const rule = { attributePatterns: ['_miroir_shard', 'price'], features: { filter: { equality: true, comparison: true } } };
  assert.deepEqual(withoutReservedFilterable([rule]), [{ ...rule, attributePatterns: ['price'] }]);
  assert.deepEqual(withoutReservedFilterable([{ attributePatterns: ['_miroir_expires_at'] }]), []);
  assert.deepEqual(clientSettings({ filterableAttributes: ['_miroir_shard'], synonyms: {} }), { filterableAttributes: [], synonyms: {} });
  assert.deepEqual(nodeSettingsUpdate({ filterableAttributes: ['x'] }), { filterableAttributes: ['x', '_miroir_shard'] });
  assert.deepEqual(nodeSettingsUpdate({ filterableAttributes: null }), { filterableAttributes: ['_miroir_shard'] });
  // A value a node would reject is left for the node to reject with its own message.
  assert.deepEqual(nodeSettingsUpdate({ filterableAttributes: 42 }), { filterableAttributes: 42 });
  assert.deepEqual(nodeSettingsUpdate({ synonyms: {} }), { synonyms: {} });
});

test('node error messages are reworded as one node without reserved fields would word them', () => {
  const filterMsg = (list: string) => `Index \`movies\`: Attribute \`title\` is not filterable. ${list}\n1:6 title = apple`;
  assert.equal(
    withoutReservedInMessage(filterMsg('Available filterable attribute patterns are: `_miroir_shard`, `genre`, `price`.')),
    filterMsg('Available filterable attribute patterns are: `genre`, `price`.'),
  );
  assert.equal(
    withoutReservedInMessage(filterMsg('Available filterable attribute patterns are: `_miroir_shard`.')),
    filterMsg('This index does not have configured filterable attributes.'),
  );
  assert.equal(
    withoutReservedInMessage('Invalid facet distribution: Attribute `body` is not filterable. Available filterable attributes patterns are: `_miroir_shard, genre, tags`.'),
    'Invalid facet distribution: Attribute `body` is not filterable. Available filterable attributes patterns are: `genre, tags`.',
  );
  const untouched = 'Attribute `x` is not sortable. Available sortable attributes are: `price`.';
  assert.equal(withoutReservedInMessage(untouched), untouched);
});

test('reserved fields are left out of what the nodes search', () => {
  const fields = ['_miroir_shard', '_miroir_updated_at', 'cast', 'cast.lead', 'title', 'year'];
  const star = { searchableAttributes: ['*'], fields, synonyms: false };
  // Only a query that could reach a digit-only word is rewritten.
  assert.equal(mayMatchReserved(undefined, false), false);
  assert.equal(mayMatchReserved('  ', true), false);
  assert.equal(mayMatchReserved('heat', false), false);
  assert.equal(mayMatchReserved('heat', true), true);
  assert.equal(mayMatchReserved('room 1', false), true);
  assert.equal(mayMatchReserved('１', false), true);
  assert.equal(mayMatchReserved('①', false), true);
  assert.equal(nodeSearchOn({ q: 'heat' }, star), undefined);
  assert.deepEqual(nodeSearchOn({ q: '17' }, star), ['cast', 'cast.lead', 'title', 'year']);
  assert.equal(nodeSearchOn({ q: '17' }, { ...star, fields: null }), undefined);
  // A client list: reserved names dropped, `*` expanded, patterns reaching a reserved field expanded.
  assert.deepEqual(nodeSearchOn({ q: '1', attributesToSearchOn: ['title', '_miroir_shard'] }, star), ['title']);
  assert.deepEqual(nodeSearchOn({ q: '1', attributesToSearchOn: ['_miroir_shard'] }, star), []);
  assert.deepEqual(nodeSearchOn({ q: '1', attributesToSearchOn: ['*', 'title'] }, star), ['cast', 'cast.lead', 'title', 'year']);
  assert.deepEqual(nodeSearchOn({ q: '1', attributesToSearchOn: ['*a*'] }, star), ['cast', 'cast.lead', 'year']);
  assert.equal(nodeSearchOn({ q: '1', attributesToSearchOn: ['title', 'ca*'] }, star), undefined);
  assert.equal(nodeSearchOn({ q: '1', attributesToSearchOn: ['nope'] }, star), undefined);
  // An explicit list is left alone unless it names a reserved field; a name it lacks is the nodes' to reject.
  const explicit = { searchableAttributes: ['title', 'year'], fields: null, synonyms: false };
  assert.equal(nodeSearchOn({ q: '1' }, explicit), undefined);
  const named = { searchableAttributes: ['title', '_miroir_shard', 'year'], fields: null, synonyms: false };
  assert.deepEqual(nodeSearchOn({ q: '1' }, named), ['title', 'year']);
  assert.deepEqual(nodeSearchOn({ q: '1', attributesToSearchOn: ['_miroir_shard', 'year'] }, named), ['year']);
  assert.equal(nodeSearchOn({ q: '1', attributesToSearchOn: ['_miroir_updated_at'] }, named), undefined);
  assert.deepEqual(stripDocument({ _miroir_shard: [], title: [{ start: 0, length: 1 }] }), { title: [{ start: 0, length: 1 }] });
});
