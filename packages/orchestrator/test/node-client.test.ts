/**
 * The node client against real sockets: a node that never answers costs the timeout and is
 * reported as timed out; a refused connection is a transport error; a node error body is kept.
 */
import * as assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { NodeClient, NodeHttpError, NodeTransportError } from '../src/nodes/node-client.js';

let silent: Server;
let erring: Server;
const url = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
const client = (address: string, timeoutMs = 200) =>
  new NodeClient({ id: 'n', address, apiKey: '', timeoutMs, connections: 2, keepAliveTimeoutMs: 1000 });

before(async () => {
  silent = createServer(() => {}); // accepts and never answers
  erring = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'Index `x` not found.', code: 'index_not_found', type: 'invalid_request', link: 'l' }));
  });
  await Promise.all([silent, erring].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
});
after(() => {
  silent.closeAllConnections();
  silent.close();
  erring.close();
});

test('a node that never answers is a timeout', async () => {
  const c = client(url(silent));
  const err = await c.request({ method: 'GET', path: '/health' }).then(
    () => assert.fail('expected a timeout'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof NodeTransportError);
  assert.equal(err.timedOut, true);
  assert.match(err.message, /timed out after 200 ms/);
  await c.close();
});

test('a refused connection is a transport error, not a timeout', async () => {
  const c = client('http://127.0.0.1:1');
  const err = await c.request({ method: 'GET', path: '/health' }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof NodeTransportError);
  assert.equal(err.timedOut, false);
  await c.close();
});

test("a node's error answer keeps its status and Meilisearch body", async () => {
  const c = client(url(erring));
  const err = await c.request({ method: 'GET', path: '/indexes/x' }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof NodeHttpError);
  assert.equal(err.status, 404);
  assert.equal(err.body.code, 'index_not_found');
  await c.close();
});
