/**
 * A failed task changes nothing (spec S3): every index, settings and documents call that fails —
 * at once or as a failed task — leaves the settings, documents, indexes and keys exactly as they
 * were, through Miroir (3 nodes, RF=2, client key ≠ node key) as on one node. Each call's answer
 * and finished task are compared with the reference engine's.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertSame, send, startParity, type Parity, type RequestSpec, type Side } from './parity-kit.js';

let p: Parity;

const SETTINGS = {
  filterableAttributes: ['genre', 'year'],
  sortableAttributes: ['year'],
  searchableAttributes: ['title', 'genre'],
  typoTolerance: { minWordSizeForTypos: { oneTypo: 4, twoTypos: 9 } },
};
const DOCS = [
  { id: 1, title: 'Alien', genre: 'horror', year: 1979 },
  { id: 2, title: 'Brazil', genre: 'comedy', year: 1985 },
  { id: 3, title: 'Carrie', genre: 'horror', year: 1976 },
];

before(async () => {
  p = await startParity();
  for (const [method, path, json] of [
    ['POST', '/indexes', { uid: 'movies', primaryKey: 'id' }],
    ['PATCH', '/indexes/movies/settings', SETTINGS],
    ['POST', '/indexes/movies/documents', DOCS],
    ['POST', '/indexes', { uid: 'bare' }],
  ] as const) {
    const { done } = await p.task(method, path, { json });
    assert.equal(done.ref.body.status, 'succeeded', JSON.stringify(done.ref.body));
    assert.equal(done.mir.body.status, 'succeeded', JSON.stringify(done.mir.body));
  }
  const key = { name: 'failed-tasks', actions: ['search'], indexes: ['movies'], expiresAt: null };
  for (const side of [p.ref, p.mir]) assert.equal((await send(side, 'POST', '/keys', { json: key })).status, 201);
});
after(async () => p?.stop());

/** Everything a client can read about the data: compared byte for byte before and after. */
async function snapshot(side: Side): Promise<string> {
  const paths = [
    '/indexes?limit=100',
    '/indexes/movies',
    '/indexes/movies/settings',
    '/indexes/movies/documents?limit=100',
    '/indexes/bare',
    '/indexes/bare/settings',
    '/indexes/bare/documents',
    '/indexes/ghost',
    '/indexes/ghost2',
  ];
  const out: string[] = [];
  for (const path of paths) {
    const a = await send(side, 'GET', path);
    out.push(`${path} ${a.status} ${JSON.stringify(a.body)}`);
  }
  // The keys a client made (each server has its own default keys); their dates are each node's.
  const keys = await send(side, 'GET', '/keys?limit=100');
  const made = keys.body.results.filter((k: { name: string | null }) => k.name === 'failed-tasks');
  out.push(`/keys ${keys.status} ${JSON.stringify(made).replace(/"(createdAt|updatedAt)":"[^"]*"/g, '"$1":"<date>"')}`);
  return out.join('\n');
}

/**
 * Runs a failing call on both sides: the answers match; a task fails on both with the same
 * object; the state read through each side is unchanged.
 */
async function failsAndChangesNothing(method: string, path: string, spec: RequestSpec, code: string) {
  const [refBefore, mirBefore] = await Promise.all([snapshot(p.ref), snapshot(p.mir)]);
  const pair = await p.both(method, path, spec);
  assert.equal(pair.mir.status, pair.ref.status, `${pair.what}: ${JSON.stringify(pair.ref.body)} / ${JSON.stringify(pair.mir.body)}`);
  if (typeof pair.ref.body?.taskUid === 'number') {
    assertSame(pair);
    const [r, m] = await Promise.all([p.wait(p.ref, pair.ref.body.taskUid), p.wait(p.mir, pair.mir.body.taskUid)]);
    assertSame({ ref: r, mir: m, what: `task of ${pair.what}` });
    assert.equal(r.body.status, 'failed', `reference task of ${pair.what}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code);
  } else {
    assertSame(pair);
    assert.equal(pair.ref.body.code, code, `${pair.what}: ${JSON.stringify(pair.ref.body)}`);
  }
  // Work Miroir may have queued on the side of the call has had the time of a whole task to land.
  const [refAfter, mirAfter] = await Promise.all([snapshot(p.ref), snapshot(p.mir)]);
  assert.equal(refAfter, refBefore, `the reference changed after ${pair.what}`);
  assert.equal(mirAfter, mirBefore, `Miroir changed after ${pair.what}`);
}

describe('a failed call changes nothing', () => {
  test('the state reads the same through Miroir as on one node', async () => {
    const [ref, mir] = await Promise.all([snapshot(p.ref), snapshot(p.mir)]);
    // The listing order is Miroir's own (docs/limits.md): the documents compare in a sorted listing.
    const masked = (s: string) =>
      s
        .replace(/"(createdAt|updatedAt|key|uid)":"[^"]*"/g, '"$1":"<masked>"')
        .replace(/^\/indexes\/movies\/documents\?limit=100 .*$/m, '');
    assert.equal(masked(mir), masked(ref));
    assertSame(await p.both('GET', '/indexes/movies/documents?limit=100&sort=year:asc'));
  });

  test('creating an index that exists (issue: the settings were wiped)', async () => {
    await failsAndChangesNothing('POST', '/indexes', { json: { uid: 'movies' } }, 'index_already_exists');
    await failsAndChangesNothing('POST', '/indexes', { json: { uid: 'movies', primaryKey: 'title' } }, 'index_already_exists');
    await failsAndChangesNothing('POST', '/indexes', { json: { uid: 'bare' } }, 'index_already_exists');
  });

  test('creating an index with bad input', async () => {
    await failsAndChangesNothing('POST', '/indexes', { json: { uid: 'bad uid!' } }, 'invalid_index_uid');
    await failsAndChangesNothing('POST', '/indexes', { json: { uid: 'ghost', primaryKey: 7 } }, 'invalid_index_primary_key');
  });

  test('changing the primary key of an index with documents, or of a missing index', async () => {
    await failsAndChangesNothing('PATCH', '/indexes/movies', { json: { primaryKey: 'title' } }, 'index_primary_key_already_exists');
    await failsAndChangesNothing('PATCH', '/indexes/ghost', { json: { primaryKey: 'id' } }, 'index_not_found');
  });

  test('deleting a missing index; swapping with a missing index', async () => {
    await failsAndChangesNothing('DELETE', '/indexes/ghost', {}, 'index_not_found');
    await failsAndChangesNothing('POST', '/swap-indexes', { json: [{ indexes: ['movies', 'ghost'] }] }, 'index_not_found');
    await failsAndChangesNothing('POST', '/swap-indexes', { json: [{ indexes: ['ghost', 'ghost2'] }] }, 'index_not_found');
  });

  test('invalid settings values', async () => {
    await failsAndChangesNothing('PATCH', '/indexes/movies/settings', { json: { filterableAttributes: 'genre' } }, 'invalid_settings_filterable_attributes');
    await failsAndChangesNothing('PATCH', '/indexes/movies/settings', { json: { rankingRules: ['bogus'] } }, 'invalid_settings_ranking_rules');
    await failsAndChangesNothing('PATCH', '/indexes/movies/settings', { json: { distinctAttribute: 3 } }, 'invalid_settings_distinct_attribute');
    await failsAndChangesNothing('PUT', '/indexes/movies/settings/filterable-attributes', { json: 'genre' }, 'invalid_settings_filterable_attributes');
    await failsAndChangesNothing('PATCH', '/indexes/movies/settings', { json: { color: 1 } }, 'bad_request');
  });

  test('settings resets and updates of a missing index with bad values', async () => {
    await failsAndChangesNothing('PATCH', '/indexes/ghost/settings', { json: { rankingRules: ['bogus'] } }, 'invalid_settings_ranking_rules');
    await failsAndChangesNothing('PUT', '/indexes/ghost/settings/filterable-attributes', { json: 3 }, 'invalid_settings_filterable_attributes');
  });

  test('a reset of a missing index creates it, as on one node (it does not fail)', async () => {
    for (const path of ['/indexes/phantom/settings', '/indexes/phantom2/settings/filterable-attributes']) {
      const { done } = await p.task('DELETE', path);
      assertSame(done);
      assert.equal(done.ref.body.status, 'succeeded');
      assertSame(await p.both('GET', path));
      const { done: gone } = await p.task('DELETE', `/indexes/${path.split('/')[2]}`);
      assertSame(gone);
    }
  });

  test('documents with invalid or missing ids, or the wrong primary key', async () => {
    await failsAndChangesNothing('POST', '/indexes/movies/documents', { json: [{ id: 'bad id!', title: 'x' }] }, 'invalid_document_id');
    await failsAndChangesNothing('POST', '/indexes/movies/documents', { json: [{ id: 9, title: 'ok' }, { title: 'no id' }] }, 'missing_document_id');
    await failsAndChangesNothing('PUT', '/indexes/movies/documents', { json: [{ id: true }] }, 'invalid_document_id');
    await failsAndChangesNothing('POST', '/indexes/movies/documents?primaryKey=title', { json: [{ id: 10, title: 'T' }] }, 'index_primary_key_already_exists');
    await failsAndChangesNothing('POST', '/indexes/movies/documents', { raw: '[{"id": 1', contentType: 'application/json' }, 'malformed_payload');
  });

  test('document deletions that fail', async () => {
    await failsAndChangesNothing('POST', '/indexes/movies/documents/delete', { json: { filter: 'title = Alien' } }, 'invalid_document_filter');
    await failsAndChangesNothing('POST', '/indexes/movies/documents/delete', { json: { filter: 'genre = ' } }, 'invalid_document_filter');
    await failsAndChangesNothing('POST', '/indexes/movies/documents/delete-batch', { json: { ids: [1] } }, 'bad_request');
  });

  test('calls sent without waiting: a duplicate creation and a first document batch keep the settings queued before them', async () => {
    const calls: [string, string, unknown][] = [
      ['POST', '/indexes', { uid: 'queued', primaryKey: 'id' }],
      ['PATCH', '/indexes/queued/settings', { filterableAttributes: ['genre'] }],
      ['POST', '/indexes', { uid: 'queued' }],
      ['PATCH', '/indexes/fresh/settings', { filterableAttributes: ['genre'], sortableAttributes: ['year'] }],
      ['POST', '/indexes/fresh/documents', DOCS],
      ['POST', '/indexes/fresh/documents', [{ id: 4, title: 'Dune', genre: 'sf', year: 1984 }]],
    ];
    const uids: { ref: number; mir: number }[] = [];
    for (const [method, path, json] of calls) {
      const pair = await p.both(method, path, { json });
      assertSame(pair);
      uids.push({ ref: pair.ref.body.taskUid, mir: pair.mir.body.taskUid });
    }
    for (const u of uids) {
      const [r, m] = await Promise.all([p.wait(p.ref, u.ref), p.wait(p.mir, u.mir)]);
      assertSame({ ref: r, mir: m, what: `task ${u.mir}` });
    }
    for (const path of ['/indexes/queued/settings', '/indexes/fresh/settings', '/indexes/fresh/documents?sort=year:asc']) {
      const pair = await p.both('GET', path);
      assertSame(pair);
      assert.equal(pair.mir.status, 200);
    }
    for (const uid of ['queued', 'fresh']) await p.task('DELETE', `/indexes/${uid}`);
  });
});
