/**
 * The HTTP envelope never crashes and never answers 500: compressed empty or corrupt bodies, odd
 * content types, JSON nested past serde_json's recursion limit, bodies of the wrong JSON type, long
 * URLs and uids, undecodable paths, malformed HTTP, unknown routes, and bodies sent to routes that
 * take none. Every case runs against a lone engine process (what one node answers) and against
 * Miroir over a fleet; both must give the exact answer written here, and stay up.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { connect } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { startCluster } from './harness.js';
import { assertSame, send, startParity, type Answer, type Parity, type RequestSpec, type Side } from './parity-kit.js';

const LINK = 'https://docs.meilisearch.com/errors#';
const err = (code: string, message: string, type = 'invalid_request') => ({ message, code, type, link: `${LINK}${code}` });

let p: Parity;
let sides: Side[];

/** The same request to both sides; each must answer `status` with exactly `body` (null = empty). */
async function expectBoth(method: string, path: string, spec: RequestSpec, status: number, body: unknown): Promise<Answer[]> {
  const answers = await Promise.all(sides.map((s) => send(s, method, path, spec)));
  for (const [i, a] of answers.entries()) {
    const what = `${sides[i]!.name}: ${method} ${path.slice(0, 120)}`;
    assert.equal(a.status, status, `${what}: ${JSON.stringify(a.body)?.slice(0, 400)}`);
    assert.deepEqual(a.body, body, what);
  }
  return answers;
}

/** Both processes still answer `/health`, and the engine process has not exited. */
async function alive(): Promise<void> {
  assert.equal(p.engine.child.exitCode, null, 'the engine process exited');
  for (const s of sides) {
    const h = await send(s, 'GET', '/health', { auth: null });
    assert.equal(h.status, 200, `${s.name} /health`);
    assert.deepEqual(h.body, { status: 'available' });
  }
}

/** One raw HTTP/1.1 exchange over a socket, read until the server closes it. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

before(async () => {
  p = await startParity();
  sides = [p.ref, p.mir];
  for (const s of sides) {
    assert.equal((await send(s, 'POST', '/indexes', { json: { uid: 'env', primaryKey: 'id' } })).status, 202);
  }
  // Deleted piece by piece by the DELETE-route checks.
  await p.task('POST', '/indexes/scratch/documents', { json: [{ id: 1 }] });
  await p.task('PATCH', '/indexes/env/settings', { json: { filterableAttributes: ['id', 'tag'] } });
  await p.task('POST', '/indexes/env/documents', { json: [{ id: 1, tag: 'a' }, { id: 2, tag: 'b' }, { id: 3, tag: 'a' }] });
});

after(async () => {
  await p?.stop();
});

describe('compressed request bodies', () => {
  it('an empty body with any Content-Encoding, on any route, before auth: answered, and the process stays up', async () => {
    for (const enc of ['gzip', 'deflate', 'br']) {
      const headers = { 'content-encoding': enc };
      await expectBoth('GET', '/health', { auth: null, headers }, 200, { status: 'available' });
      await expectBoth('POST', '/indexes/env/search', { auth: null, headers }, 401, err('missing_authorization_header', 'The Authorization header is missing. It must use the bearer authorization method.', 'auth'));
      await expectBoth('POST', '/indexes/env/search', { headers, raw: '', contentType: 'application/json' }, 400, err('missing_payload', 'A json payload is missing.'));
      await alive();
    }
  });

  it('a body that is not what its Content-Encoding says is 400 bad_request, br included', async () => {
    const incomplete = err('bad_request', 'The provided payload is incomplete and cannot be parsed');
    for (const enc of ['gzip', 'deflate', 'br']) {
      await expectBoth('POST', '/indexes/env/search', { headers: { 'content-encoding': enc }, raw: 'not compressed at all' }, 400, incomplete);
    }
    // Truncated: a valid stream cut short.
    const cut = gzipSync('{"q":"a"}').subarray(0, 12);
    await expectBoth('POST', '/indexes/env/search', { headers: { 'content-encoding': 'gzip' }, raw: cut }, 400, incomplete);
    await alive();
  });

  it('a compressed body that decodes past the payload limit is 413, both limits being 100 MB', async () => {
    const bomb = gzipSync(Buffer.alloc(100_000_001, 0x20));
    await expectBoth('POST', '/indexes/env/documents', { headers: { 'content-encoding': 'gzip' }, raw: bomb }, 413, err('payload_too_large', 'The provided payload reached the size limit. The maximum accepted payload size is 100 MB.'));
    await alive();
  });

  it('a well-compressed body is decoded (gzip, deflate)', async () => {
    for (const [enc, raw] of [['gzip', gzipSync('{"filter":"id = 2"}')], ['deflate', deflateSync('{"filter":"id = 2"}')]] as const) {
      const answers = await Promise.all(sides.map((s) => send(s, 'POST', '/indexes/env/search', { headers: { 'content-encoding': enc }, raw })));
      for (const a of answers) {
        assert.equal(a.status, 200, JSON.stringify(a.body));
        assert.deepEqual(a.body.hits, [{ id: 2, tag: 'b' }]);
      }
    }
  });
});

describe('content types', () => {
  it('an empty Content-Type on a JSON route is 415 invalid_content_type', async () => {
    await expectBoth('POST', '/indexes/env/search', { raw: '{}', contentType: '' }, 415, err('invalid_content_type', 'The Content-Type `` is invalid. Accepted values for the Content-Type header are: `application/json`'));
    await expectBoth('POST', '/indexes/env/search', { raw: '{}', contentType: 'not a type' }, 415, err('invalid_content_type', 'The Content-Type `not a type` is invalid. Accepted values for the Content-Type header are: `application/json`'));
    await expectBoth('POST', '/indexes/env/search', { raw: '{}', contentType: null }, 415, err('missing_content_type', 'A Content-Type header is missing. Accepted values for the Content-Type header are: `application/json`'));
    await alive();
  });

  it('a JSON route accepts any json subtype or +json suffix, as actix does', async () => {
    for (const ct of ['application/json; charset=utf-8', 'text/json', 'application/vnd.api+json']) {
      const answers = await Promise.all(sides.map((s) => send(s, 'POST', '/indexes/env/search', { raw: '{"filter":"id = 1"}', contentType: ct })));
      for (const a of answers) assert.equal(a.status, 200, `${ct}: ${JSON.stringify(a.body)}`);
    }
  });

  it('every DELETE route ignores a body it does not take, whatever its content type or encoding', async () => {
    const routes = [
      '/indexes/scratch/documents/999',
      '/indexes/scratch/settings/synonyms',
      '/indexes/scratch/settings/stop-words',
      '/indexes/scratch/settings/typo-tolerance',
      '/indexes/scratch/settings',
      '/indexes/scratch/documents',
      '/keys/00000000-0000-0000-0000-000000000000',
      '/tasks?uids=999999',
      '/indexes/scratch',
    ];
    const specs: RequestSpec[] = [
      { contentType: null },
      { raw: 'null', contentType: null },
      { raw: 'null', contentType: '' },
      { raw: 'garbage', contentType: 'text/plain' },
      { raw: 'not gzip', contentType: 'application/json', headers: { 'content-encoding': 'gzip' } },
    ];
    for (const route of routes) {
      const plain = await Promise.all(sides.map((s) => send(s, 'DELETE', route)));
      assert.ok(plain[0]!.status < 500 && plain[0]!.status !== 415, `${route}: ${plain[0]!.status}`);
      for (const spec of specs) {
        const answers = await Promise.all(sides.map((s) => send(s, 'DELETE', route, spec)));
        for (const [i, a] of answers.entries()) {
          assert.equal(a.status, plain[i]!.status, `${sides[i]!.name} DELETE ${route} ${JSON.stringify(spec)}: ${JSON.stringify(a.body)}`);
          if (a.status >= 400) assert.deepEqual(a.body, plain[i]!.body);
          else assert.equal(typeof a.body?.taskUid, 'number', `${route}: ${JSON.stringify(a.body)}`);
        }
      }
      if (plain[0]!.status === 202) await p.wait(p.ref, plain[0]!.body.taskUid);
    }
    await alive();
  });

  it('a POST route that takes no body ignores one', async () => {
    const route = '/tasks/cancel?uids=999999';
    const plain = await Promise.all(sides.map((s) => send(s, 'POST', route)));
    for (const spec of [{ raw: 'garbage', contentType: 'text/plain' }, { raw: 'null', contentType: '' }] satisfies RequestSpec[]) {
      const answers = await Promise.all(sides.map((s) => send(s, 'POST', route, spec)));
      for (const [i, a] of answers.entries()) {
        assert.equal(a.status, plain[i]!.status, `${sides[i]!.name}: ${JSON.stringify(a.body)}`);
        assert.equal(a.body.type, 'taskCancelation');
      }
    }
  });
});

describe('JSON depth', () => {
  it('a body nested past the limit is 400 malformed_payload with serde_json recursion message', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    await expectBoth('POST', '/indexes/env/search', { raw: deep }, 400, err('malformed_payload', 'The json payload provided is malformed. `recursion limit exceeded at line 1 column 128`.'));
    // The 128th nested container is refused, the 127th accepted (then the value is judged).
    const at = (n: number) => `{"filter":${'['.repeat(n - 1)}"id = 1"${']'.repeat(n - 1)}}`;
    await expectBoth('POST', '/indexes/env/search', { raw: at(128) }, 400, err('malformed_payload', 'The json payload provided is malformed. `recursion limit exceeded at line 1 column 137`.'));
    const ok = await Promise.all(sides.map((s) => send(s, 'POST', '/indexes/env/search', { raw: at(127) })));
    assertSame({ ref: ok[0]!, mir: ok[1]!, what: 'filter nested 126 deep' });
    assert.notEqual(ok[0]!.body.code, 'malformed_payload');
    // A syntax error before the limit is reported first.
    await expectBoth('POST', '/indexes/env/search', { raw: `{"q":x${'['.repeat(300)}` }, 400, err('malformed_payload', 'The json payload provided is malformed. `expected value at line 1 column 6`.'));
    await alive();
  });

  it('documents nested past the limit are refused: JSON arrays and NDJSON lines', async () => {
    const doc = (levels: number) => `{"id":9,"a":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    const prefix = '[{"id":9,"a":'.length;
    await expectBoth('POST', '/indexes/env/documents', { raw: `[${doc(126)}]` }, 400, err('malformed_payload', `The \`json\` payload provided is malformed. \`Couldn't serialize document value: recursion limit exceeded at line 1 column ${prefix + 126}\`.`));
    await expectBoth('POST', '/indexes/env/documents', { raw: `[${doc(3000)}]` }, 400, err('malformed_payload', `The \`json\` payload provided is malformed. \`Couldn't serialize document value: recursion limit exceeded at line 1 column ${prefix + 126}\`.`));
    await expectBoth('POST', '/indexes/env/documents', { raw: `{"id":1}\n${doc(200)}\n`, contentType: 'application/x-ndjson' }, 400, err('malformed_payload', `The \`ndjson\` payload provided is malformed. \`Couldn't serialize document value: recursion limit exceeded at line 2 column ${prefix - 1 + 127}\`.`));
    // Within the limit, the documents are accepted and indexed.
    const { done } = await p.task('POST', '/indexes/env/documents', { raw: `[${doc(125)}]` });
    assert.equal(done.ref.body.status, 'succeeded', JSON.stringify(done.ref.body));
    assert.equal(done.mir.body.status, 'succeeded', JSON.stringify(done.mir.body));
    await alive();
  });
});

describe('bodies of the wrong JSON type', () => {
  it('documents/fetch and documents/delete refuse a body that is not an object, with deserr message', async () => {
    const cases: [string, string][] = [
      ['[]', 'an array: `[]`'],
      ['5', 'a positive integer: `5`'],
      ['null', 'null'],
      ['true', 'a boolean: `true`'],
      ['"x"', 'a string: `"x"`'],
    ];
    for (const route of ['/indexes/env/documents/fetch', '/indexes/env/documents/delete']) {
      for (const [raw, found] of cases) {
        await expectBoth('POST', route, { raw }, 400, err('bad_request', `Invalid value type: expected an object, but found ${found}`));
      }
    }
    await expectBoth('POST', '/indexes/env/documents/fetch', { raw: '' }, 400, err('missing_payload', 'A json payload is missing.'));
    await alive();
  });

  it('other JSON routes refuse a body of the wrong type without a 500', async () => {
    const routes: [string, string][] = [
      ['POST', '/indexes/env/search'],
      ['POST', '/indexes/env/facet-search'],
      ['POST', '/multi-search'],
      ['PATCH', '/indexes/env/settings'],
      ['POST', '/indexes/env/documents/delete-batch'],
      ['POST', '/keys'],
      ['POST', '/swap-indexes'],
      ['POST', '/indexes'],
      ['PATCH', '/indexes/env'],
      ['PATCH', '/experimental-features'],
    ];
    for (const [method, route] of routes) {
      for (const raw of ['[]', '5', 'null', 'true', '{}', '[5]']) {
        const answers = await Promise.all(sides.map((s) => send(s, method, route, { raw })));
        const what = `${method} ${route} ${raw}`;
        for (const a of answers) assert.ok(a.status < 500, `${what}: ${a.status} ${JSON.stringify(a.body)}`);
        if (answers[0]!.status >= 400) assertSame({ ref: answers[0]!, mir: answers[1]!, what });
      }
    }
    await alive();
  });
});

describe('URLs', () => {
  it('consecutive slashes are merged before routing, as actix NormalizePath merges them in Meilisearch', async () => {
    const plain = await Promise.all(sides.map((s) => send(s, 'GET', '/indexes/env')));
    for (const path of ['//indexes/env', '/indexes//env', '/indexes///env/']) {
      const answers = await Promise.all(sides.map((s) => send(s, 'GET', path)));
      for (const [i, a] of answers.entries()) {
        assert.equal(a.status, 200, `${sides[i]!.name} ${path}`);
        assert.deepEqual(a.body, plain[i]!.body, `${sides[i]!.name} ${path}`);
      }
    }
    // `/indexes//search` is `/indexes/search`: the index named `search`, which does not exist.
    await expectBoth('GET', '/indexes//search', {}, 404, err('index_not_found', 'Index `search` not found.'));
    await alive();
  });

  it('a long GET filter is judged by the filter rules, never refused for its length by a node', async () => {
    // About 12 KB of URL: within the HTTP parser's limits, longer than Miroir's own node requests could carry.
    const long = Array.from({ length: 600 }, (_, i) => `id = ${i + 1}`).join(' OR ');
    const ok = await Promise.all(sides.map((s) => send(s, 'GET', `/indexes/env/documents?filter=${encodeURIComponent(long)}&fields=id`)));
    for (const a of ok) {
      assert.equal(a.status, 200, JSON.stringify(a.body)?.slice(0, 300));
      const ids = (a.body.results as { id: number }[]).map((d) => d.id).sort((x, y) => x - y);
      assert.deepEqual({ ...a.body, results: ids }, { results: [1, 2, 3, 9], offset: 0, limit: 20, total: 4 });
    }
    const unfilterable = Array.from({ length: 600 }, (_, i) => `nope = ${i}`).join(' OR ');
    const refused = await Promise.all(sides.map((s) => send(s, 'GET', `/indexes/env/documents?filter=${encodeURIComponent(unfilterable)}`)));
    assertSame({ ref: refused[0]!, mir: refused[1]!, what: 'unfilterable long filter' });
    assert.equal(refused[0]!.status, 400);
    assert.equal(refused[0]!.body.code, 'invalid_document_filter');
    // GET and POST listings agree, parameters included.
    await expectBoth('GET', '/indexes/env/documents?filter=%5B%22tag%20%3D%20a%22%2C%20%22id%20%3D%203%22%5D&fields=id,tag&limit=1', {}, 200, {
      results: [{ id: 3, tag: 'a' }],
      offset: 0,
      limit: 1,
      total: 1,
    });
    await expectBoth('GET', '/indexes/env/documents?limit=x', {}, 400, err('invalid_document_limit', 'Invalid value in parameter `limit`: could not parse `x` as a positive integer'));
    await alive();
  });

  it('index uids up to 400 bytes are addressable; longer ones are invalid_index_uid', async () => {
    const uid = 'u'.repeat(200);
    const { done } = await p.task('POST', '/indexes', { json: { uid } });
    assert.equal(done.ref.body.status, 'succeeded');
    assert.equal(done.mir.body.status, 'succeeded');
    for (const s of sides) {
      const r = await send(s, 'GET', `/indexes/${uid}`);
      assert.equal(r.status, 200, `${s.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.uid, uid);
    }
    const tooLong = 'v'.repeat(401);
    const msg = (u: string) =>
      `\`${u}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`;
    await expectBoth('GET', `/indexes/${tooLong}/documents`, {}, 400, err('invalid_index_uid', msg(tooLong)));
    await expectBoth('GET', `/indexes/${'w'.repeat(5000)}/settings`, {}, 400, err('invalid_index_uid', msg('w'.repeat(5000))));
    await alive();
  });

  it('undecodable percent-encoding stays literal in the path', async () => {
    const msg = (u: string) =>
      `\`${u}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`;
    await expectBoth('GET', '/indexes/%zz', {}, 400, err('invalid_index_uid', msg('%zz')));
    await expectBoth('GET', '/indexes/a%E0%A4%A/search', {}, 400, err('invalid_index_uid', msg('a%E0%A4%A')));
    await expectBoth('GET', '/nothing/%zz', {}, 404, null);
    await alive();
  });

  it('unknown paths are 404 and known paths asked with another method 405 with Allow, with an empty body', async () => {
    await expectBoth('GET', '/no/such/route', {}, 404, null);
    await expectBoth('POST', '/indexes/env/nothing', { json: {} }, 404, null);
    for (const [method, path, allow] of [
      ['PUT', '/health', 'GET'],
      ['DELETE', '/indexes/env/search', 'GET, POST'],
      ['POST', '/indexes/env', 'GET, PATCH, DELETE'],
      ['PATCH', '/indexes/env/documents/1', 'GET, DELETE'],
    ] as const) {
      const answers = await expectBoth(method, path, { auth: null }, 405, null);
      for (const a of answers) assert.equal(a.headers.get('allow'), allow, `${method} ${path}`);
    }
  });
});

describe('malformed HTTP', () => {
  it('the parser refusal is a 400 with Connection: close and a Meilisearch error body, then the socket closes', async () => {
    for (const s of sides) {
      const response = await rawExchange(s.url, 'GET /health HTTP/1.1\r\nHost: x\r\nNot a header line\r\n\r\n');
      const [head, body] = response.split('\r\n\r\n') as [string, string];
      const lines = head.split('\r\n');
      assert.equal(lines[0], 'HTTP/1.1 400 Bad Request', `${s.name}: ${response}`);
      assert.ok(lines.some((l) => l.toLowerCase() === 'connection: close'), head);
      assert.deepEqual(JSON.parse(body), err('bad_request', 'The request could not be parsed as HTTP/1.1.'));
    }
    for (const s of sides) {
      const response = await rawExchange(s.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
      assert.match(response, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/, s.name);
      assert.deepEqual(JSON.parse(response.split('\r\n\r\n')[1]!), err('bad_request', 'The request header fields are too large.'));
    }
    await alive();
  });
});

describe('a node refusing a request for its size', () => {
  it('is answered with the status the node gave (414/431) in the Meilisearch shape, never a 503', async () => {
    const c = await startCluster({ nodes: 1, proxied: [0], masterKey: 'envelope-master-key-0001' });
    try {
      const side: Side = { name: 'miroir', url: c.url, key: 'envelope-master-key-0001' };
      const created = await send(side, 'POST', '/indexes/big/documents', { json: [{ id: 1 }] });
      assert.equal(created.status, 202);
      await c.client.tasks.waitForTask(created.body.taskUid);
      const proxy = c.proxies.get(0)!;
      for (const [status, reason, message] of [
        [431, 'Request Header Fields Too Large', 'The request header fields are too large.'],
        [414, 'URI Too Long', 'The request URI is too long.'],
      ] as const) {
        proxy.set({ kind: 'answer', request: /^(GET|POST) \/indexes\/big\/documents/, status, reason });
        const r = await send(side, 'GET', '/indexes/big/documents');
        assert.equal(r.status, status, JSON.stringify(r.body));
        assert.deepEqual(r.body, err('bad_request', message));
      }
      proxy.set({ kind: 'pass' });
      assert.equal((await send(side, 'GET', '/indexes/big/documents')).status, 200);
    } finally {
      await c.stop();
    }
  });
});

describe('cross-origin requests', () => {
  it('a browser preflight and a cross-origin search get the CORS answer one node gives', async () => {
    const preflight = {
      auth: null,
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, x-meilisearch-client',
      },
    };
    for (const s of sides) {
      const a = await send(s, 'OPTIONS', '/indexes/env/search', preflight);
      assert.equal(a.status, 200, s.name);
      assert.equal(a.headers.get('access-control-allow-origin'), '*', s.name);
      assert.match(a.headers.get('access-control-allow-methods') ?? '', /POST/, s.name);
      assert.equal(a.headers.get('access-control-allow-headers'), 'authorization, content-type, x-meilisearch-client', s.name);
      assert.equal(a.headers.get('access-control-max-age'), '86400', s.name);
      const search = await send(s, 'POST', '/indexes/env/search', { json: { q: '' }, headers: { origin: 'https://shop.example' } });
      assert.equal(search.status, 200, s.name);
      assert.equal(search.headers.get('access-control-allow-origin'), '*', s.name);
    }
    await alive();
  });
});
