/**
 * Alias flips under continuous search load through two orchestrators on one Redis (spec S13.7):
 * no error, no answer mixing the two indexes, and once a flip is answered (through either
 * orchestrator) every search that starts afterwards, through either one, reads the new index.
 * Each flip bumps the version by one and is recorded in the alias's history.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFleet, waitTerminal, type Fleet } from './fleet.js';
import { http } from './harness.js';
import { redisSkip } from './redis-kit.js';

const skip = await redisSkip();

describe('alias flips under search load, two orchestrators', { skip }, () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet({ orchestrators: 2, nodes: 3, rf: 2, shards: 8 });
    const url = f.orchestrators[0]!.url;
    for (const v of [1, 2]) {
      const docs = Array.from({ length: 40 }, (_, i) => ({ id: i, title: `product ${i}`, v }));
      const r = await http(url, 'POST', `/indexes/products_v${v}/documents?primaryKey=id`, { body: docs });
      assert.equal(r.status, 202);
      assert.equal((await waitTerminal(url, r.body.taskUid)).status, 'succeeded');
    }
    const created = await http(url, 'POST', '/_miroir/aliases', { body: { name: 'products', target: 'products_v1' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  });
  after(async () => f?.stop());

  test('no error, no mixed answer, and the flip is seen everywhere once answered', async () => {
    const [a, b] = f.orchestrators as [(typeof f.orchestrators)[0], (typeof f.orchestrators)[0]];
    type Answer = { startedAt: number; via: string; status: number; versions: number[] };
    const answers: Answer[] = [];
    let stop = false;
    const searcher = async (k: number) => {
      for (let n = 0; !stop; n++) {
        const o = (k + n) % 2 === 0 ? a : b;
        const startedAt = Date.now();
        const r = await http(o.url, 'POST', '/indexes/products/search', { body: { q: 'product', limit: 50 } });
        const versions = r.status === 200 ? [...new Set((r.body.hits as { v: number }[]).map((h) => h.v))] : [];
        answers.push({ startedAt, via: o.id, status: r.status, versions });
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(searcher));
    const flips: { sent: number; at: number; to: number; version: number }[] = [];
    await new Promise((r) => setTimeout(r, 500));
    for (const [to, via] of [
      [2, a],
      [1, b],
      [2, b],
      [1, a],
    ] as const) {
      const sent = Date.now();
      const r = await http(via.url, 'PUT', '/_miroir/aliases/products', { body: { target: `products_v${to}` } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      flips.push({ sent, at: Date.now(), to, version: r.body.version });
      await new Promise((res) => setTimeout(res, 400));
    }
    stop = true;
    await load;

    assert.ok(answers.length > 100, `only ${answers.length} searches ran`);
    const failed = answers.filter((x) => x.status !== 200);
    assert.deepEqual(failed, [], 'searches that failed');
    const mixed = answers.filter((x) => x.versions.length !== 1);
    assert.deepEqual(mixed, [], 'answers mixing the two indexes (or empty)');
    assert.deepEqual(
      flips.map((x) => x.version),
      [2, 3, 4, 5],
      'each flip bumps the version by one',
    );
    for (const [i, flip] of flips.entries()) {
      const next = flips[i + 1]?.sent ?? Infinity;
      // Searches started after the flip's answer and before the next flip was sent.
      const window = answers.filter((x) => x.startedAt > flip.at && x.startedAt < next);
      assert.ok(window.length > 0, `no search after flip ${i}`);
      const stale = window.filter((x) => x.versions[0] !== flip.to);
      assert.deepEqual(stale, [], `searches started after flip ${i} was answered read the old index`);
    }
    const seenBoth = new Set(answers.map((x) => x.via));
    assert.equal(seenBoth.size, 2);
    const alias = await http(b.url, 'GET', '/_miroir/aliases/products');
    assert.equal(alias.body.version, 5);
    assert.deepEqual(
      alias.body.history.map((h: { version: number; to: string[] }) => [h.version, h.to[0]]),
      [
        [1, 'products_v1'],
        [2, 'products_v2'],
        [3, 'products_v1'],
        [4, 'products_v2'],
        [5, 'products_v1'],
      ],
    );
  });

  test('a write through the alias, through the other orchestrator, lands in the index it names now', async () => {
    const [a, b] = f.orchestrators as [(typeof f.orchestrators)[0], (typeof f.orchestrators)[0]];
    assert.equal((await http(a.url, 'PUT', '/_miroir/aliases/products', { body: { target: 'products_v2' } })).status, 200);
    const w = await http(b.url, 'POST', '/indexes/products/documents', { body: [{ id: 999, title: 'new', v: 2 }] });
    assert.equal(w.status, 202);
    assert.equal(w.body.indexUid, 'products_v2');
    assert.equal((await waitTerminal(b.url, w.body.taskUid)).status, 'succeeded');
    assert.equal((await http(a.url, 'GET', '/indexes/products_v2/documents/999')).status, 200);
    assert.equal((await http(a.url, 'GET', '/indexes/products_v1/documents/999')).status, 404);
  });
});
