// Bad input never yields a 500 or a crash: random JSON bodies and query strings sent to every
// route answer either success or a 4xx with the Meilisearch error shape.
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { http, startTestEngine, writeAndWait } from './helpers.js';
import type { TestEngine } from './helpers.js';

let e: TestEngine;
before(async () => {
  e = await startTestEngine();
  const t = await writeAndWait(e.url, 'POST', '/indexes/fuzz/documents', [{ id: 1, a: 'x' }]);
  assert.equal(t.status, 'succeeded');
});
after(async () => {
  await e.close();
});

const ROUTES: [string, string][] = [
  ['POST', '/indexes'],
  ['PATCH', '/indexes/fuzz'],
  ['POST', '/swap-indexes'],
  ['POST', '/indexes/fuzz/documents'],
  ['PUT', '/indexes/fuzz/documents'],
  ['POST', '/indexes/fuzz/documents/fetch'],
  ['POST', '/indexes/fuzz/documents/delete-batch'],
  ['POST', '/indexes/fuzz/documents/delete'],
  ['PATCH', '/indexes/fuzz/settings'],
  ['PUT', '/indexes/fuzz/settings/ranking-rules'],
  ['PATCH', '/indexes/fuzz/settings/typo-tolerance'],
  ['PATCH', '/indexes/fuzz/settings/faceting'],
  ['PUT', '/indexes/fuzz/settings/filterable-attributes'],
  ['POST', '/indexes/fuzz/search'],
  ['POST', '/indexes/fuzz/facet-search'],
  ['POST', '/multi-search'],
  ['PATCH', '/experimental-features'],
];

function assertShape(status: number, body: any, what: string): void {
  assert.ok(status < 500, `${what} → ${status} ${JSON.stringify(body)}`);
  if (status >= 400) {
    assert.deepEqual(Object.keys(body), ['message', 'code', 'type', 'link'], what);
    assert.equal(body.link, `https://docs.meilisearch.com/errors#${body.code}`);
  }
}

test('random JSON bodies on every write/read route', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ROUTES), fc.jsonValue({ maxDepth: 3 }), async ([method, path], value) => {
      const r = await http(e.url, method, path, JSON.stringify(value), { 'content-type': 'application/json' });
      assertShape(r.status, r.body, `${method} ${path} ${JSON.stringify(value)}`);
    }),
    { numRuns: 300 },
  );
});

test('random bytes and query strings', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ROUTES),
      fc.string({ maxLength: 40 }),
      fc.dictionary(fc.constantFrom('offset', 'limit', 'fields', 'filter', 'sort', 'ids', 'primaryKey', 'csvDelimiter', 'q', 'x'), fc.string({ maxLength: 8 })),
      async ([method, path], body, query) => {
        const qs = new URLSearchParams(query).toString();
        const r = await http(e.url, method, `${path}?${qs}`, body, { 'content-type': 'application/json' });
        assertShape(r.status, r.body, `${method} ${path}?${qs} ${JSON.stringify(body)}`);
        const g = await http(e.url, 'GET', `/indexes/fuzz/documents?${qs}`);
        assertShape(g.status, g.body, `GET documents?${qs}`);
        const s = await http(e.url, 'GET', `/indexes/fuzz/search?${qs}`);
        assertShape(s.status, s.body, `GET search?${qs}`);
      },
    ),
    { numRuns: 200 },
  );
  // The engine still answers after all of it.
  assert.equal((await http(e.url, 'GET', '/health')).status, 200);
});

test('no task enqueued by the fuzzing failed with an internal error', async () => {
  for (;;) {
    const pending = await http(e.url, 'GET', '/tasks?statuses=enqueued,processing&limit=1');
    if (pending.body.total === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const failed = await http(e.url, 'GET', '/tasks?statuses=failed&limit=1000');
  const internal = failed.body.results.filter((t: { error: { code: string } }) => t.error.code === 'internal');
  assert.deepEqual(internal, []);
});
