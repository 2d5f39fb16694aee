// The HTTP conventions of Meilisearch (reference §1, §10): error shapes, payload errors
// (messages from meilisearch `crates/meilisearch/src/error.rs`), compression, misc routes.
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { get } from 'node:http';
import { brotliCompressSync, brotliDecompressSync, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { http, meiliError, startTestEngine, waitTask } from './helpers.js';
import type { TestEngine } from './helpers.js';

let e: TestEngine;
before(async () => {
  e = await startTestEngine();
});
after(async () => {
  await e.close();
});

test('GET /health is public and available', async () => {
  const r = await http(e.url, 'GET', '/health');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: 'available' });
  assert.deepEqual(await e.client.health(), { status: 'available' });
});

test('GET /version reports a Meilisearch-compatible version', async () => {
  const v = await e.client.getVersion();
  assert.deepEqual(v, { commitSha: 'unknown', commitDate: 'unknown', pkgVersion: '1.37.0' });
});

test('an unknown route answers 404 with an empty body, another method on a known one 405 with Allow', async () => {
  const r = await http(e.url, 'GET', '/nope/nothing');
  assert.equal(r.status, 404);
  assert.equal(r.body, null);
  const m = await http(e.url, 'DELETE', '/indexes/x/search');
  assert.equal(m.status, 405);
  assert.equal(m.headers.get('allow'), 'GET, POST');
  assert.equal(m.body, null);
});

test('malformed JSON is a 400 malformed_payload; an empty body is missing_payload', async () => {
  const bad = await http(e.url, 'POST', '/indexes', '{"uid": ', { 'content-type': 'application/json' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'malformed_payload');
  assert.match(bad.body.message, /^The json payload provided is malformed\. `.+`\.$/);
  assert.equal(bad.body.type, 'invalid_request');
  const empty = await http(e.url, 'POST', '/indexes', '', { 'content-type': 'application/json' });
  assert.equal(empty.status, 400);
  assert.deepEqual(empty.body, meiliError('missing_payload', 'A json payload is missing.'));
});

test('bodies over 100 MB are rejected with 413 payload_too_large', async () => {
  const big = Buffer.alloc(100_000_001, 0x20);
  const r = await http(e.url, 'POST', '/indexes', big, { 'content-type': 'application/json' });
  assert.equal(r.status, 413);
  assert.deepEqual(
    r.body,
    meiliError('payload_too_large', 'The provided payload reached the size limit. The maximum accepted payload size is 100 MB.'),
  );
});

test('gzip, deflate and br request bodies are decoded', async () => {
  const cases: [string, (b: Buffer) => Buffer][] = [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ];
  for (const [encoding, compress] of cases) {
    const uid = `compressed_${encoding}`;
    const body = compress(Buffer.from(JSON.stringify({ uid, primaryKey: 'id' })));
    const r = await http(e.url, 'POST', '/indexes', body, { 'content-type': 'application/json', 'content-encoding': encoding });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const task = await waitTask(e.url, r.body.taskUid);
    assert.equal(task.status, 'succeeded');
    const idx = await http(e.url, 'GET', `/indexes/${uid}`);
    assert.equal(idx.body.primaryKey, 'id');
  }
  const broken = await http(e.url, 'POST', '/indexes', Buffer.from('not gzip at all'), {
    'content-type': 'application/json',
    'content-encoding': 'gzip',
  });
  assert.equal(broken.status, 400);
  assert.equal(broken.body.code, 'bad_request');
});

test('experimental features: GET lists every flag, PATCH merges, unknown flag is bad_request', async () => {
  const all = {
    metrics: false,
    logsRoute: false,
    editDocumentsByFunction: false,
    containsFilter: false,
    network: false,
    getTaskDocumentsRoute: false,
    compositeEmbedders: false,
    chatCompletions: false,
    multimodal: false,
    vectorStoreSetting: false,
  };
  const g = await http(e.url, 'GET', '/experimental-features');
  assert.equal(g.status, 200);
  assert.deepEqual(g.body, all);
  const p = await http(e.url, 'PATCH', '/experimental-features', { containsFilter: true });
  assert.equal(p.status, 200);
  assert.deepEqual(p.body, { ...all, containsFilter: true });
  assert.deepEqual((await http(e.url, 'GET', '/experimental-features')).body, { ...all, containsFilter: true });
  const bad = await http(e.url, 'PATCH', '/experimental-features', { vectorStore: true });
  assert.equal(bad.status, 400);
  assert.deepEqual(
    bad.body,
    meiliError(
      'bad_request',
      'Unknown field `vectorStore`: expected one of `metrics`, `logsRoute`, `editDocumentsByFunction`, `containsFilter`, `network`, `getTaskDocumentsRoute`, `compositeEmbedders`, `chatCompletions`, `multimodal`, `vectorStoreSetting`',
    ),
  );
  const badType = await http(e.url, 'PATCH', '/experimental-features', { metrics: 'yes' });
  assert.deepEqual(
    badType.body,
    meiliError('bad_request', 'Invalid value type at `.metrics`: expected a boolean, but found a string: `"yes"`'),
  );
  await http(e.url, 'PATCH', '/experimental-features', { containsFilter: false });
});

test('JSON routes need Content-Type application/json', async () => {
  const missing = await http(e.url, 'POST', '/indexes', Buffer.from('{"uid":"ct"}'));
  assert.equal(missing.status, 415);
  assert.deepEqual(
    missing.body,
    meiliError('missing_content_type', 'A Content-Type header is missing. Accepted values for the Content-Type header are: `application/json`'),
  );
  const wrong = await http(e.url, 'POST', '/indexes', '{"uid":"ct"}', { 'content-type': 'text/plain' });
  assert.equal(wrong.status, 415);
  assert.deepEqual(
    wrong.body,
    meiliError('invalid_content_type', 'The Content-Type `text/plain` is invalid. Accepted values for the Content-Type header are: `application/json`'),
  );
  const charset = await http(e.url, 'POST', '/indexes', '{"uid":"ct"}', { 'content-type': 'application/json; charset=utf-8' });
  assert.equal(charset.status, 202);
});

test('startEngine validates its options', async () => {
  const { startEngine } = await import('../src/index.js');
  await assert.rejects(startEngine({ port: -1, dataDir: '/tmp/x' }), /`port` must be an integer in 0-65535, got -1/);
  await assert.rejects(startEngine({ port: 0, dataDir: '' }), /`dataDir` must be a non-empty path/);
});

test('CORS: any origin, preflight answered for any method and header', async () => {
  const simple = await http(e.url, 'GET', '/health', undefined, { origin: 'https://app.example' });
  assert.equal(simple.headers.get('access-control-allow-origin'), '*');
  const pre = await fetch(`${e.url}/indexes/x/search`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
  assert.equal(pre.headers.get('access-control-allow-headers'), 'authorization,content-type');
  assert.equal(pre.headers.get('access-control-max-age'), '86400');
});

/** A GET that leaves the body as sent (fetch would decode it). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

test('responses are compressed per Accept-Encoding', async () => {
  // Small bodies stay as they are.
  const small = await rawGet(`${e.url}/experimental-features`, { 'accept-encoding': 'gzip' });
  assert.equal(small.headers['content-encoding'], undefined);
  const docs = Array.from({ length: 50 }, (_, i) => ({ id: i, text: 'lorem ipsum dolor sit amet '.repeat(4) }));
  const t = await http(e.url, 'POST', '/indexes/gz/documents', docs);
  await waitTask(e.url, t.body.taskUid);
  const decode = { gzip: gunzipSync, br: brotliDecompressSync, deflate: inflateSync };
  for (const enc of ['gzip', 'br', 'deflate'] as const) {
    const r = await rawGet(`${e.url}/indexes/gz/documents?limit=50`, { 'accept-encoding': enc });
    assert.equal(r.headers['content-encoding'], enc);
    assert.equal(JSON.parse(decode[enc](r.body).toString()).total, 50);
  }
  const none = await rawGet(`${e.url}/indexes/gz/documents?limit=50`);
  assert.equal(none.headers['content-encoding'], undefined);
  assert.equal(JSON.parse(none.body.toString()).total, 50);
});
