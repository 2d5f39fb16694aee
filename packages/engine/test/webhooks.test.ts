/**
 * Webhooks on one engine, as Meilisearch v1.50 `routes/webhooks.rs` and the scheduler's
 * `notify_webhooks` behave: the routes (views with `authorization` redacted, 201/204, errors), and
 * the call made once a batch finishes — a POST of the finished tasks as gzipped NDJSON with the
 * webhook's headers — received by a real HTTP server on port 0.
 */
import { strict as assert } from 'node:assert';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { http, startTestEngine, writeAndWait, type TestEngine } from './helpers.js';

const MASTER = 'webhooks-master-key-0123456789';
const auth = { authorization: `Bearer ${MASTER}` };

interface Call {
  headers: IncomingHttpHeaders;
  tasks: any[];
}

let e: TestEngine;
let receiver: Server;
let receiverUrl: string;
const calls: Call[] = [];
let waiting: (() => void) | null = null;

before(async () => {
  e = await startTestEngine({ masterKey: MASTER });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = gunzipSync(Buffer.concat(chunks)).toString('utf8');
      calls.push({ headers: req.headers, tasks: text.trim().split('\n').map((l) => JSON.parse(l)) });
      res.end();
      waiting?.();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const addr = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/hook`;
});
after(async () => {
  await e?.close();
  await new Promise((r) => receiver?.close(r));
});

/** Waits until the receiver got at least `n` calls. */
async function callsAtLeast(n: number): Promise<Call[]> {
  while (calls.length < n) await new Promise<void>((r) => (waiting = r));
  return calls;
}

test('routes: create, list, get, patch, delete, with the authorization header redacted', async () => {
  const created = await http(e.url, 'POST', '/webhooks', { url: 'https://example.com/a', headers: { authorization: 'Bearer abcdefghijklmnopqrstuvwxyz', 'x-b': 'b' } }, auth);
  assert.equal(created.status, 201);
  assert.deepEqual(Object.keys(created.body), ['uuid', 'isEditable', 'url', 'headers']);
  assert.match(created.body.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.deepEqual(created.body.headers, { authorization: 'Bearer abcXXXXX...', 'x-b': 'b' });
  assert.equal(created.body.isEditable, true);
  const uuid = created.body.uuid;

  assert.deepEqual((await http(e.url, 'GET', `/webhooks/${uuid}`, undefined, auth)).body, created.body);
  assert.deepEqual((await http(e.url, 'GET', `/webhooks/${uuid.toUpperCase().replaceAll('-', '')}`, undefined, auth)).body, created.body);
  assert.deepEqual((await http(e.url, 'GET', '/webhooks', undefined, auth)).body, { results: [created.body] });

  const patched = await http(e.url, 'PATCH', `/webhooks/${uuid}`, { headers: { 'x-b': null, Authorization: 'TOKEN' } }, auth);
  assert.equal(patched.status, 200);
  assert.deepEqual(patched.body, { uuid, isEditable: true, url: 'https://example.com/a', headers: { Authorization: 'XXX...', authorization: 'Bearer abcXXXXX...' } });

  const deleted = await http(e.url, 'DELETE', `/webhooks/${uuid}`, undefined, auth);
  assert.equal(deleted.status, 204);
  assert.equal((await http(e.url, 'GET', `/webhooks/${uuid}`, undefined, auth)).body.code, 'webhook_not_found');
  assert.deepEqual((await http(e.url, 'GET', '/webhooks', undefined, auth)).body, { results: [] });
});

test('errors', async () => {
  const cases: [string, string, unknown, number, string][] = [
    ['POST', '/webhooks', {}, 400, 'invalid_webhook_url'],
    ['POST', '/webhooks', { url: 3 }, 400, 'invalid_webhook_url'],
    ['POST', '/webhooks', { url: 'not a url' }, 400, 'invalid_webhook_url'],
    ['POST', '/webhooks', { url: 'https://x.y', headers: [] }, 400, 'invalid_webhook_headers'],
    ['POST', '/webhooks', { url: 'https://x.y', headers: { 'bad name': 'v' } }, 400, 'invalid_webhook_headers'],
    ['POST', '/webhooks', { url: 'https://x.y', uuid: 'x' }, 400, 'immutable_webhook_uuid'],
    ['POST', '/webhooks', { url: 'https://x.y', isEditable: false }, 400, 'immutable_webhook_is_editable'],
    ['POST', '/webhooks', { url: 'https://x.y', color: 1 }, 400, 'bad_request'],
    ['GET', '/webhooks/not-a-uuid', undefined, 400, 'invalid_webhook_uuid'],
    ['GET', '/webhooks/4b3c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d', undefined, 404, 'webhook_not_found'],
    ['PATCH', '/webhooks/4b3c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d', { url: 'https://x.y' }, 404, 'webhook_not_found'],
    ['PATCH', '/webhooks/00000000-0000-0000-0000-000000000000', {}, 400, 'immutable_webhook'],
    ['DELETE', '/webhooks/00000000-0000-0000-0000-000000000000', undefined, 400, 'immutable_webhook'],
  ];
  for (const [method, path, body, status, code] of cases) {
    const r = await http(e.url, method, path, body, auth);
    assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, code, `${method} ${path} ${JSON.stringify(body)}`);
  }
  const id = (await http(e.url, 'POST', '/webhooks', { url: 'https://x.y' }, auth)).body.uuid;
  assert.equal((await http(e.url, 'PATCH', `/webhooks/${id}`, { url: null }, auth)).body.message, `The URL for the webhook \`${id}\` is missing.`);
  await http(e.url, 'DELETE', `/webhooks/${id}`, undefined, auth);
  // At most 20.
  const made: string[] = [];
  for (let i = 0; i < 20; i++) made.push((await http(e.url, 'POST', '/webhooks', { url: `https://x.y/${i}` }, auth)).body.uuid);
  const over = await http(e.url, 'POST', '/webhooks', { url: 'https://x.y/21' }, auth);
  assert.equal(over.body.code, 'invalid_webhooks');
  for (const u of made) await http(e.url, 'DELETE', `/webhooks/${u}`, undefined, auth);
  // Authorization.
  assert.equal((await http(e.url, 'GET', '/webhooks')).body.code, 'missing_authorization_header');
});

test('a finished task is POSTed to the webhook: gzipped NDJSON task views with its headers', async () => {
  const hook = await http(e.url, 'POST', '/webhooks', { url: receiverUrl, headers: { authorization: 'Bearer receiver-secret', 'x-extra': 'yes' } }, auth);
  assert.equal(hook.status, 201);
  const before = calls.length;
  const task = await writeAndWait(e.url, 'POST', '/indexes', { uid: 'hooked', primaryKey: 'id' }, auth);
  const [call] = (await callsAtLeast(before + 1)).slice(before);
  assert.equal(call!.headers['content-type'], 'application/x-ndjson');
  assert.equal(call!.headers['content-encoding'], 'gzip');
  assert.equal(call!.headers.authorization, 'Bearer receiver-secret');
  assert.equal(call!.headers['x-extra'], 'yes');
  assert.deepEqual(call!.tasks, [task]);
  await http(e.url, 'DELETE', `/webhooks/${hook.body.uuid}`, undefined, auth);
});
