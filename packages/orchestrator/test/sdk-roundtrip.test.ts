/**
 * The official Meilisearch JS client, unchanged, against Miroir over three engine nodes
 * (issue acceptance: create index → add documents → waitForTask → search → update settings →
 * waitForTask → search via synonym → get document → delete index).
 */
import { after, before, test } from 'node:test';
import { startCluster, type TestCluster } from './harness.js';
import { sdkRoundTrip } from './sdk-roundtrip-kit.js';

let c: TestCluster;
before(async () => {
  c = await startCluster({ nodes: 3, rf: 2, shards: 16, masterKey: 'miroir-master-key-0123456789' });
});
after(async () => c?.stop());

test('SDK round trip through Miroir', () => sdkRoundTrip(c.client));
