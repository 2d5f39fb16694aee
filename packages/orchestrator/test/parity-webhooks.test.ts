/**
 * Parity (spec S8): `/webhooks` through Miroir (3 nodes, RF=2) answers as one engine — views,
 * statuses, errors — and the cluster's webhooks are called once per Miroir task, with the task as
 * `GET /tasks/{uid}` shows it, received by a real HTTP server on port 0. The nodes hold no webhook.
 */
import * as assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { assertSame, assertSameError, send, startParity, type Parity } from './parity-kit.js';

let p: Parity;
let receiver: Server;
let receiverUrl: string;
const calls: { headers: IncomingHttpHeaders; tasks: any[] }[] = [];
let arrived: (() => void) | null = null;

before(async () => {
  p = await startParity();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const lines = gunzipSync(Buffer.concat(chunks)).toString('utf8').trim().split('\n');
      calls.push({ headers: req.headers, tasks: lines.map((l) => JSON.parse(l)) });
      res.end();
      arrived?.();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const addr = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/miroir-hook`;
});
after(async () => {
  await p?.stop();
  await new Promise((r) => receiver?.close(r));
});

async function callsAtLeast(n: number) {
  while (calls.length < n) await new Promise<void>((r) => (arrived = r));
  return calls;
}

/** Creates the same webhook on both sides; returns both uuids. */
async function createBoth(json: unknown): Promise<{ ref: string; mir: string }> {
  const pair = await p.both('POST', '/webhooks', { json });
  assertSame(pair, { mask: ['uuid'] });
  assert.equal(pair.mir.status, 201);
  return { ref: pair.ref.body.uuid, mir: pair.mir.body.uuid };
}

/** The same request on both sides, each with its own webhook uuid in the path. */
async function perSide(method: string, ids: { ref: string; mir: string }, json?: unknown) {
  const spec = json === undefined ? {} : { json };
  const [ref, mir] = await Promise.all([send(p.ref, method, `/webhooks/${ids.ref}`, spec), send(p.mir, method, `/webhooks/${ids.mir}`, spec)]);
  return { ref, mir, what: `${method} /webhooks/{uuid} ${JSON.stringify(json)}` };
}

describe('webhooks', () => {
  test('create, list, get, patch, delete as one node', async () => {
    assertSame(await p.both('GET', '/webhooks'));
    const ids = await createBoth({ url: 'https://example.com/a', headers: { authorization: 'TOKEN', 'x-b': 'b' } });
    assertSame(await p.both('GET', '/webhooks'), { mask: ['uuid'] });
    assertSame(await perSide('GET', ids), { mask: ['uuid'] });
    assertSame(await perSide('PATCH', ids, { url: 'https://example.com/b', headers: { authorization: 'UPDATED TOKEN', 'x-b': null } }), { mask: ['uuid'] });
    assertSame(await perSide('PATCH', ids, { headers: null }), { mask: ['uuid'] });
    assertSame(await perSide('DELETE', ids));
    assertSame(await perSide('GET', ids), { mask: ['message'] });
    assertSame(await p.both('GET', '/webhooks'));
  });

  test('errors as one node gives them', async () => {
    assertSameError(await p.both('POST', '/webhooks', { json: { url: 3 } }), 400, 'invalid_webhook_url');
    assertSameError(await p.both('POST', '/webhooks', { json: { url: 'nope' } }), 400, 'invalid_webhook_url');
    assertSameError(await p.both('POST', '/webhooks', { json: { url: 'https://x.y', headers: { a: 1 } } }), 400, 'invalid_webhook_headers');
    assertSameError(await p.both('POST', '/webhooks', { json: { url: 'https://x.y', uuid: 'x' } }), 400, 'immutable_webhook_uuid');
    assertSameError(await p.both('POST', '/webhooks', { json: { url: 'https://x.y', other: 1 } }), 400, 'bad_request');
    assertSameError(await p.both('POST', '/webhooks', { raw: '{"url": ' }), 400, 'malformed_payload');
    assertSameError(await p.both('GET', '/webhooks/zz'), 400, 'invalid_webhook_uuid');
    assertSameError(await p.both('GET', '/webhooks/4b3c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d'), 404, 'webhook_not_found');
    assertSameError(await p.both('DELETE', '/webhooks/00000000-0000-0000-0000-000000000000'), 400, 'immutable_webhook');
    assertSameError(await p.both('PATCH', '/webhooks/00000000-0000-0000-0000-000000000000', { json: {} }), 400, 'immutable_webhook');
    assertSameError(await p.both('GET', '/webhooks', { auth: null }), 401, 'missing_authorization_header');
    assertSameError(await p.both('POST', '/webhooks', { json: { url: 'https://x.y' }, auth: 'nope' }), 403, 'invalid_api_key');
  });

  test('one call per Miroir task, with the task a client reads; nothing on the nodes', async () => {
    const hook = await send(p.mir, 'POST', '/webhooks', { json: { url: receiverUrl, headers: { authorization: 'Bearer hook-secret' } } });
    assert.equal(hook.status, 201);
    const first = calls.length;
    const writes = [
      ['POST', '/indexes', { uid: 'hooked', primaryKey: 'id' }],
      ['POST', '/indexes/hooked/documents', Array.from({ length: 30 }, (_, i) => ({ id: i, title: `t${i}` }))],
    ] as const;
    const finished: any[] = [];
    for (const [method, path, json] of writes) {
      const enq = await send(p.mir, method, path, { json });
      assert.equal(enq.status, 202);
      finished.push((await p.wait(p.mir, enq.body.taskUid)).body);
    }
    const got = (await callsAtLeast(first + 2)).slice(first);
    // Exactly one call per task (the documents task spans every node), in order, nothing more.
    assert.deepEqual(got.map((c) => c.tasks), finished.map((t) => [t]));
    assert.equal(calls.length, first + 2);
    for (const c of got) {
      assert.equal(c.headers.authorization, 'Bearer hook-secret');
      assert.equal(c.headers['content-type'], 'application/x-ndjson');
    }
    for (let i = 0; i < p.cluster.engines.length; i++) {
      const nodeHooks = await p.cluster.nodeClient(i).getWebhooks();
      assert.deepEqual(nodeHooks.results, []);
    }
    await send(p.mir, 'DELETE', `/webhooks/${hook.body.uuid}`);
  });
});
