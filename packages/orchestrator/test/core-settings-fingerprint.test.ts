/**
 * Settings fingerprints and the verify judgement (spec S13.5), pure.
 */
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultSettings, type Settings } from '@miroir/protocol';
import { canonicalSettings, judgeSettings, repairBody, settingsFingerprint, unheldSettings } from '../src/core/settings-fingerprint.js';

const base = (): Settings => ({ ...defaultSettings(), filterableAttributes: ['genre', '_miroir_shard'] });
const fp = (s: Settings) => settingsFingerprint(s as unknown as Record<string, unknown>);

describe('canonical form and fingerprint', () => {
  test('key order and the order of set-like lists do not matter', () => {
    const a = base();
    const b: Settings = { ...base(), filterableAttributes: ['_miroir_shard', 'genre'], stopWords: [] };
    const reordered = Object.fromEntries(Object.entries(b).reverse()) as unknown as Settings;
    assert.equal(fp(a), fp(reordered));
    assert.equal(fp({ ...a, synonyms: { x: ['b', 'a'] } }), fp({ ...a, synonyms: { x: ['a', 'b'] } }));
  });

  test('ranking rules, searchable attributes and localized rules keep their order', () => {
    const a = base();
    assert.notEqual(fp({ ...a, rankingRules: ['typo', 'words'] }), fp({ ...a, rankingRules: ['words', 'typo'] }));
    assert.notEqual(fp({ ...a, searchableAttributes: ['a', 'b'] }), fp({ ...a, searchableAttributes: ['b', 'a'] }));
    assert.deepEqual(canonicalSettings({ searchableAttributes: ['b', 'a'], sortableAttributes: ['b', 'a'] }), {
      searchableAttributes: ['b', 'a'],
      sortableAttributes: ['a', 'b'],
    });
  });

  test('a fingerprint is the sha256 of the canonical JSON', () => {
    assert.match(fp(base()), /^[0-9a-f]{64}$/);
    assert.notEqual(fp(base()), fp({ ...base(), distinctAttribute: 'genre' }));
  });
});

describe('unheldSettings', () => {
  test('whole values, partial objects and resets', () => {
    const node: Settings = { ...base(), typoTolerance: { ...base().typoTolerance, enabled: false }, synonyms: { a: ['b'] } };
    const n = node as unknown as Record<string, unknown>;
    assert.deepEqual(unheldSettings({ typoTolerance: { enabled: false } }, n), []);
    assert.deepEqual(unheldSettings({ typoTolerance: { enabled: true } }, n), ['typoTolerance']);
    assert.deepEqual(unheldSettings({ synonyms: { a: ['b'] }, filterableAttributes: ['_miroir_shard', 'genre'] }, n), []);
    assert.deepEqual(unheldSettings({ synonyms: { a: ['b', 'c'] } }, n), ['synonyms']);
    assert.deepEqual(unheldSettings({ distinctAttribute: null, stopWords: null }, n), []);
    assert.deepEqual(unheldSettings({ synonyms: null }, n), ['synonyms']);
    // A nested reset holds whatever the node's default is.
    assert.deepEqual(unheldSettings({ typoTolerance: { disableOnWords: null, enabled: false } }, n), []);
  });
});

describe('judgeSettings', () => {
  const changed: Settings = { ...base(), synonyms: { wolverine: ['logan'] } };
  const other: Settings = { ...changed, stopWords: ['the'] };

  test('a broadcast: the most common settings holding the proposal win; the others are divergent', () => {
    const j = judgeSettings(
      [
        { nodeId: 'n0', settings: changed },
        { nodeId: 'n1', settings: other },
        { nodeId: 'n2', settings: changed },
        { nodeId: 'n3', settings: base() },
        { nodeId: 'n4', error: 'connection refused' },
      ],
      { proposal: { synonyms: { wolverine: ['logan'] } } },
    );
    assert.equal(j.reference?.fingerprint, fp(changed));
    assert.deepEqual(j.verified, ['n0', 'n2']);
    assert.deepEqual(
      j.divergent.map((d) => d.nodeId),
      ['n1', 'n3', 'n4'],
    );
    assert.equal(j.divergent[2]!.reason, 'connection refused');
  });

  test('no node holds the proposal: no reference', () => {
    const j = judgeSettings([{ nodeId: 'n0', settings: base() }], { proposal: { synonyms: { a: ['b'] } } });
    assert.equal(j.reference, undefined);
    assert.match(j.divergent[0]!.reason, /does not hold synonyms/);
  });

  test('the drift check: the committed fingerprint wins even in a minority; else a strict majority; else none', () => {
    const reads = [
      { nodeId: 'n0', settings: other },
      { nodeId: 'n1', settings: other },
      { nodeId: 'n2', settings: changed },
    ];
    assert.deepEqual(judgeSettings(reads, { committed: fp(changed) }).verified, ['n2']);
    assert.deepEqual(judgeSettings(reads, {}).verified, ['n0', 'n1']);
    assert.equal(judgeSettings(reads.slice(1), {}).reference, undefined);
  });
});

test('repairBody removes embedders the reference does not have', () => {
  const ref: Settings = { ...base(), embedders: { a: { source: 'userProvided', dimensions: 2 } } };
  const current: Settings = { ...base(), embedders: { b: { source: 'userProvided', dimensions: 3 } } };
  assert.deepEqual(repairBody(ref, current).embedders, { a: { source: 'userProvided', dimensions: 2 }, b: null });
  assert.deepEqual(repairBody(ref, undefined).embedders, ref.embedders);
});
