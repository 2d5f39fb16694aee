/**
 * `GET` / `PATCH /network` through Miroir (3 nodes, client key ≠ node key): answered as one
 * Community Edition node whose network is not configured. The facts come from Meilisearch v1.50
 * (`routes/network/mod.rs`, `community_edition.rs`, `index-scheduler/src/features.rs`): both routes
 * need the `network` experimental feature; the unconfigured network is
 * `{self: null, remotes: {}, shards: {}, leader: null, version: <nil uuid>}`; setting `leader`
 * needs the Enterprise Edition (451 `requires_enterprise_edition`).
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startCluster, type TestCluster } from './harness.js';

const KEY = 'network-client-master-key';
let c: TestCluster;

before(async () => {
  c = await startCluster({ nodes: 3, rf: 2, shards: 4, masterKey: KEY });
});
after(async () => c?.stop());

const call = (method: string, body?: unknown, key: string | null = KEY) => http(c.url, method, '/network', { body, ...(key === null ? {} : { key }) });

test('without the network feature: feature_not_enabled, as a node answers', async () => {
  for (const [method, body] of [['GET', undefined], ['PATCH', { self: 'ms-0' }]] as const) {
    const r = await call(method, body);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      message: 'Using the /network route requires enabling the `network` experimental feature. See https://github.com/orgs/meilisearch/discussions/805',
      code: 'feature_not_enabled',
      type: 'invalid_request',
      link: 'https://docs.meilisearch.com/errors#feature_not_enabled',
    });
  }
});

test('authorization comes first', async () => {
  assert.equal((await call('GET', undefined, null)).body.code, 'missing_authorization_header');
  assert.equal((await call('GET', undefined, 'wrong')).body.code, 'invalid_api_key');
  assert.equal((await call('PATCH', {}, 'wrong')).status, 403);
});

test('with the feature: the unconfigured network; changes refused', async () => {
  const on = await http(c.url, 'PATCH', '/experimental-features', { body: { network: true }, key: KEY });
  assert.equal(on.status, 200);
  assert.equal(on.body.network, true);
  const got = await call('GET');
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, { self: null, remotes: {}, shards: {}, leader: null, version: '00000000-0000-0000-0000-000000000000' });
  assert.deepEqual(Object.keys(got.body), ['self', 'remotes', 'shards', 'leader', 'version']);

  const leader = await call('PATCH', { self: 'ms-0', leader: 'ms-0' });
  assert.equal(leader.status, 451);
  assert.deepEqual(leader.body, {
    message: 'Meilisearch Enterprise Edition is required to set `network.leader`',
    code: 'requires_enterprise_edition',
    type: 'invalid_request',
    link: 'https://docs.meilisearch.com/errors#requires_enterprise_edition',
  });

  const remotes = await call('PATCH', { self: 'ms-0', remotes: { 'ms-0': { url: 'http://127.0.0.1:7700' } } });
  assert.equal(remotes.status, 400);
  assert.equal(remotes.body.code, 'miroir_network_managed');
  assert.deepEqual(Object.keys(remotes.body), ['message', 'code', 'type', 'link']);
  // Nothing changed.
  assert.deepEqual((await call('GET')).body, got.body);

  const malformed = await http(c.url, 'PATCH', '/network', { raw: '{"self": ', key: KEY });
  assert.equal(malformed.body.code, 'malformed_payload');
});
