/**
 * The engine's HTTP envelope, on the `miroir-engine` process itself: whatever the request — an
 * empty or corrupt compressed body, an odd content type, JSON nested past serde_json's recursion
 * limit, a body of the wrong JSON type, a long or undecodable path, malformed HTTP, a body sent to
 * a route that takes none — the answer is Meilisearch's, never a 500, and the process stays up.
 * (The same cases run against Miroir in the orchestrator's `hardening-envelope` test.)
 */
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { meiliError, tempDir, waitTask } from './helpers.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'bin.js');
const KEY = 'envelope-engine-master-key-01';
const AUTH = { authorization: `Bearer ${KEY}` };

let child: ChildProcess;
let url: string;
let dataDir: string;

/** One request with exactly these headers and body (no content type unless given). */
async function send(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}${path}`, { method, headers: { ...AUTH, ...headers }, body: body === undefined ? undefined : Buffer.from(body) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

async function expectAnswer(method: string, path: string, body: string | Buffer | undefined, headers: Record<string, string>, status: number, expected: unknown): Promise<void> {
  const r = await send(method, path, body, headers);
  assert.equal(r.status, status, `${method} ${path.slice(0, 100)}: ${JSON.stringify(r.body)?.slice(0, 300)}`);
  assert.deepEqual(r.body, expected);
}

async function alive(): Promise<void> {
  assert.equal(child.exitCode, null, 'the engine exited');
  assert.deepEqual((await send('GET', '/health')).body, { status: 'available' });
}

before(async () => {
  dataDir = tempDir();
  child = spawn(process.execPath, [BIN, '--port', '0', '--data-dir', dataDir], { env: { ...process.env, MEILI_MASTER_KEY: KEY }, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { url?: unknown };
      if (typeof entry.url === 'string') resolve(entry.url);
    });
  });
  const created = await send('POST', '/indexes/env/documents', '[{"id":1}]', { 'content-type': 'application/json' });
  await waitTask(url, (created.body as { taskUid: number }).taskUid, AUTH);
});

after(async () => {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  rmSync(dataDir, { recursive: true, force: true });
});

test('an empty body with any Content-Encoding is answered and the engine stays up', async () => {
  for (const enc of ['gzip', 'deflate', 'br']) {
    await expectAnswer('GET', '/health', undefined, { 'content-encoding': enc }, 200, { status: 'available' });
    await expectAnswer('POST', '/keys', '', { 'content-encoding': enc, 'content-type': 'application/json' }, 400, meiliError('missing_payload', 'A json payload is missing.'));
    await alive();
  }
});

test('a corrupt or truncated compressed body is 400 bad_request', async () => {
  const incomplete = meiliError('bad_request', 'The provided payload is incomplete and cannot be parsed');
  const json = { 'content-type': 'application/json' };
  for (const enc of ['gzip', 'deflate', 'br']) await expectAnswer('POST', '/keys', 'garbage', { ...json, 'content-encoding': enc }, 400, incomplete);
  await expectAnswer('POST', '/keys', gzipSync('{"actions":[]}').subarray(0, 10), { ...json, 'content-encoding': 'gzip' }, 400, incomplete);
  await alive();
});

test('content types: empty is invalid on JSON routes; routes without a body ignore any body, type and encoding', async () => {
  await expectAnswer('POST', '/keys', '{}', { 'content-type': '' }, 415, meiliError('invalid_content_type', 'The Content-Type `` is invalid. Accepted values for the Content-Type header are: `application/json`'));
  for (const [body, headers] of [
    [undefined, {}],
    ['null', {}],
    ['null', { 'content-type': '' }],
    ['x', { 'content-type': 'text/plain' }],
    ['not gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
  ] as const) {
    for (const path of ['/indexes/env/documents/77', '/indexes/env/settings/synonyms', '/tasks?uids=424242', '/keys/00000000-0000-0000-0000-000000000000']) {
      const r = await send('DELETE', path, body, headers);
      assert.ok([200, 202, 404].includes(r.status), `DELETE ${path} ${body}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.notEqual((r.body as { code?: string } | null)?.code, 'missing_content_type');
    }
  }
  await alive();
});

test('JSON nested past the recursion limit is malformed_payload; bodies must be objects where objects are read', async () => {
  const json = { 'content-type': 'application/json' };
  await expectAnswer('POST', '/indexes/env/search', '['.repeat(5000), json, 400, meiliError('malformed_payload', 'The json payload provided is malformed. `recursion limit exceeded at line 1 column 128`.'));
  await expectAnswer('POST', '/keys', '{"a":' + '['.repeat(200), json, 400, meiliError('malformed_payload', 'The json payload provided is malformed. `recursion limit exceeded at line 1 column 132`.'));
  await expectAnswer('POST', '/indexes/env/documents', `[{"id":2,"a":${'['.repeat(3000)}${']'.repeat(3000)}}]`, json, 400, meiliError('malformed_payload', "The `json` payload provided is malformed. `Couldn't serialize document value: recursion limit exceeded at line 1 column 139`."));
  for (const [raw, found] of [['[]', 'an array: `[]`'], ['5', 'a positive integer: `5`'], ['null', 'null'], ['true', 'a boolean: `true`']]) {
    await expectAnswer('POST', '/indexes/env/documents/fetch', raw, json, 400, meiliError('bad_request', `Invalid value type: expected an object, but found ${found}`));
    await expectAnswer('POST', '/keys', raw, json, 400, meiliError('bad_request', `Invalid value type: expected an object, but found ${found}`));
  }
  await alive();
});

test('paths: long uids reach the route, undecodable escapes stay literal, unknown routes an empty 404, other methods 405', async () => {
  const msg = (u: string) =>
    `\`${u}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`;
  await expectAnswer('GET', `/indexes/${'a'.repeat(200)}`, undefined, {}, 404, meiliError('index_not_found', `Index \`${'a'.repeat(200)}\` not found.`));
  await expectAnswer('GET', `/indexes/${'a'.repeat(401)}`, undefined, {}, 400, meiliError('invalid_index_uid', msg('a'.repeat(401))));
  await expectAnswer('GET', '/indexes/%zz/documents', undefined, {}, 400, meiliError('invalid_index_uid', msg('%zz')));
  await expectAnswer('GET', '/not/a/route', undefined, {}, 404, null);
  await expectAnswer('PUT', '/indexes/env/search', undefined, {}, 405, null);
  await alive();
});

test('malformed HTTP gets a 400 with Connection: close and a Meilisearch body', async () => {
  const { hostname, port } = new URL(url);
  const response = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write('GET /health HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n'));
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
  const [head, body] = response.split('\r\n\r\n') as [string, string];
  assert.match(head, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(head, /\r\nConnection: close(\r\n|$)/i);
  assert.deepEqual(JSON.parse(body), meiliError('bad_request', 'The request could not be parsed as HTTP/1.1.'));
  await alive();
});
