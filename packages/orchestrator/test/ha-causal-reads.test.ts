/**
 * Causal reads through two orchestrators on one Redis (docs/guarantees.md): a write through A
 * answers with `X-Miroir-Write-Token`; a search, a document fetch and a document listing sent at
 * once through B with `X-Miroir-Read-After: <token>` see the write, 100 times out of 100, with
 * `write_quorum: one`, one node reached through a fault proxy that delays it, and the nodes busy
 * with a backlog now and then (a plain read sent at once then misses the write; the wait is allowed
 * 30 s, as a loaded machine may take seconds to work through the backlog). The same in a session
 * (`X-Miroir-Session`, no token), 100 times out of 100. A token that was not signed by the cluster
 * is refused; a token of another index is ignored.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFleet, waitTerminal, type Fleet } from './fleet.js';
import { http } from './harness.js';
import { redisSkip } from './redis-kit.js';

const skip = await redisSkip();
const NODE_KEY = 'node-master-key-for-tests';

describe('read after write through another orchestrator', { skip }, () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet({ orchestrators: 2, nodes: 3, rf: 2, shards: 8, proxied: [1], config: { write_quorum: 'one', health: { interval_ms: 1000, timeout_ms: 4000 }, causal_reads: { max_wait_ms: 30_000 } } });
    const url = f.orchestrators[0]!.url;
    const r = await http(url, 'PATCH', '/indexes/notes/settings', { body: { filterableAttributes: ['id'] } });
    assert.equal(r.status, 202);
    assert.equal((await waitTerminal(url, r.body.taskUid)).status, 'succeeded');
    f.proxies.get(1)!.set({ kind: 'delay', ms: 60 });
  });
  after(async () => f?.stop());

  test('the write is seen at once with its token, 100 times out of 100', async (t) => {
    const [a, b] = f.orchestrators as [(typeof f.orchestrators)[0], (typeof f.orchestrators)[0]];
    let found = 0;
    let withoutToken = 0;
    for (let i = 0; i < 100; i++) {
      // Now and then a backlog on every node (an index Miroir does not serve): the nodes process one
      // task at a time, so the write's node tasks wait behind it.
      if (i % 10 === 0) {
        const big = (n: number) => Array.from({ length: 1500 }, (_, k) => ({ id: 10_000 * n + k, text: `backlog ${n} ${k} ${'lorem ipsum dolor sit amet '.repeat(4)}` }));
        const sent = await Promise.all(f.engines.flatMap((e) => Array.from({ length: 8 }, (_, n) => http(e.url, 'POST', '/indexes/backlog/documents?primaryKey=id', { body: big(n), key: NODE_KEY }))));
        for (const s of sent) assert.equal(s.status, 202);
      }
      const w = await http(a.url, 'POST', '/indexes/notes/documents?primaryKey=id', { body: [{ id: i, text: `note ${i}` }] });
      assert.equal(w.status, 202, JSON.stringify(w.body));
      const token = w.headers.get('x-miroir-write-token');
      assert.ok(token, 'a write answers with its token');
      const headers = { 'x-miroir-read-after': token };
      const [plain, search, doc, list] = await Promise.all([
        // The same search without the token, for comparison (not asserted: it may or may not see it).
        http(b.url, 'POST', '/indexes/notes/search', { body: { filter: `id = ${i}` } }),
        http(b.url, 'POST', '/indexes/notes/search', { body: { filter: `id = ${i}` }, headers }),
        http(b.url, 'GET', `/indexes/notes/documents/${i}`, { headers }),
        http(b.url, 'POST', '/indexes/notes/documents/fetch', { body: { filter: `id = ${i}` }, headers }),
      ]);
      if (plain.status === 200 && plain.body.hits.length === 1) withoutToken++;
      assert.equal(search.status, 200, JSON.stringify(search.body));
      if (search.body.hits.length === 1 && doc.status === 200 && list.body.results?.length === 1) found++;
      else t.diagnostic(`MISS ${i}: search ${search.body.hits.length} doc ${doc.status} list ${list.body.results?.length} ${Date.now()}`);
    }
    t.diagnostic(`seen with the token: ${found}/100; the same search without it, sent at the same time: ${withoutToken}/100`);
    assert.equal(found, 100);
  });

  test('a session (X-Miroir-Session, block) reads its own writes through the other orchestrator', async (t) => {
    const [a, b] = f.orchestrators as [(typeof f.orchestrators)[0], (typeof f.orchestrators)[0]];
    const headers = { 'x-miroir-session': `s-${Date.now()}` };
    let found = 0;
    for (let i = 1000; i < 1100; i++) {
      if (i % 10 === 0) {
        const big = (n: number) => Array.from({ length: 1500 }, (_, k) => ({ id: 10_000 * n + k, text: `backlog ${n} ${k} ${'lorem ipsum dolor sit amet '.repeat(4)}` }));
        await Promise.all(f.engines.flatMap((e) => Array.from({ length: 8 }, (_, n) => http(e.url, 'POST', '/indexes/backlog/documents?primaryKey=id', { body: big(n), key: NODE_KEY }))));
      }
      const w = await http(a.url, 'POST', '/indexes/notes/documents', { body: [{ id: i, text: `note ${i}` }], headers });
      assert.equal(w.status, 202, JSON.stringify(w.body));
      assert.equal(w.headers.get('x-miroir-session'), headers['x-miroir-session'], 'the session is echoed');
      const [search, doc, list] = await Promise.all([
        http(b.url, 'POST', '/indexes/notes/search', { body: { filter: `id = ${i}` }, headers }),
        http(b.url, 'GET', `/indexes/notes/documents/${i}`, { headers }),
        http(b.url, 'POST', '/indexes/notes/documents/fetch', { body: { filter: `id = ${i}` }, headers }),
      ]);
      assert.equal(search.headers.get('x-miroir-session'), headers['x-miroir-session']);
      if (search.body.hits?.length === 1 && doc.status === 200 && list.body.results?.length === 1) found++;
      else t.diagnostic(`MISS ${i}: search ${search.body.hits?.length} doc ${doc.status} list ${list.body.results?.length}`);
    }
    assert.equal(found, 100);
    const bad = await http(a.url, 'POST', '/indexes/notes/documents', { body: [{ id: 5000 }], headers: { 'x-miroir-session': 'not a session id' } });
    assert.deepEqual([bad.status, bad.body.code], [400, 'miroir_invalid_session']);
    assert.equal((await http(a.url, 'GET', '/indexes/notes/documents/5000')).status, 404, 'the refused write changed nothing');
  });

  test('a token not signed by the cluster is refused; a token of another index is ignored', async () => {
    const [a, b] = f.orchestrators as [(typeof f.orchestrators)[0], (typeof f.orchestrators)[0]];
    const w = await http(a.url, 'POST', '/indexes/other/documents?primaryKey=id', { body: [{ id: 1 }] });
    const token = w.headers.get('x-miroir-write-token')!;
    assert.equal((await waitTerminal(a.url, w.body.taskUid)).status, 'succeeded');
    const other = await http(b.url, 'POST', '/indexes/notes/search', { body: {}, headers: { 'x-miroir-read-after': token } });
    assert.equal(other.status, 200);
    const [payload] = token.split('.');
    for (const bad of ['nonsense', `${payload}.AAAA`, `${Buffer.from('{"i":"notes","t":{"node-0":99999}}').toString('base64url')}.${token.split('.')[1]}`]) {
      const r = await http(b.url, 'POST', '/indexes/notes/search', { body: {}, headers: { 'x-miroir-read-after': bad } });
      assert.deepEqual([r.status, r.body.code], [400, 'miroir_invalid_write_token'], bad);
    }
  });
});
