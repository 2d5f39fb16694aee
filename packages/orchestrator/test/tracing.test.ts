/**
 * Tracing (spec S10.4): with `tracing.enabled`, a server span per client request, a client span per
 * node call under it, and W3C `traceparent` on the wire to the nodes; with it off, nothing is sent.
 * Nodes sit behind a recording proxy so the headers they receive can be read.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { http } from './harness.js';
import { startObservedCluster, type ObservedCluster } from './metrics-kit.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** A pass-through proxy in front of one engine that remembers every request's headers. */
async function recordingProxy(target: string, seen: Seen[]): Promise<{ url: string; server: Server }> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const up = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

async function setup(tracing: boolean, exporter?: InMemorySpanExporter) {
  const seen: Seen[] = [];
  const proxies: Server[] = [];
  const c = await startObservedCluster({
    nodes: 2,
    spanExporter: exporter,
    config: {
      tracing: { enabled: tracing, sample_rate: 1 },
      // Probes would add untraced /health calls: keep them out of the way.
      health: { interval_ms: 60_000 },
    },
    addresses: async (urls) =>
      Promise.all(
        urls.map(async (u) => {
          const p = await recordingProxy(u, seen);
          proxies.push(p.server);
          return p.url;
        }),
      ),
  });
  const created = await http(c.miroir.url, 'POST', '/indexes', { body: { uid: 'songs', primaryKey: 'id' } });
  for (let i = 0; i < 200; i++) {
    if ((await http(c.miroir.url, 'GET', `/tasks/${created.body.taskUid}`)).body.status === 'succeeded') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    await c.stop();
    for (const p of proxies) p.closeAllConnections();
    await Promise.all(proxies.map((p) => new Promise((r) => p.close(r))));
  };
  return { c, seen, stop };
}

describe('tracing on', () => {
  const exporter = new InMemorySpanExporter();
  let env: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    env = await setup(true, exporter);
  });
  after(async () => {
    await env?.stop();
  });

  test('a search is a server span with one child span per node reached, each propagated as traceparent', async () => {
    exporter.reset();
    env.seen.length = 0;
    const r = await http(env.c.miroir.url, 'POST', '/indexes/songs/search', { body: { q: 'x' }, headers: { 'x-request-id': 'trace-1' } });
    assert.equal(r.status, 200);
    await waitForSpan(exporter, (s) => s.kind === SpanKind.SERVER && s.attributes['miroir.request_id'] === 'trace-1');
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['miroir.request_id'] === 'trace-1')!;
    assert.equal(server.name, 'POST /indexes/:uid/search');
    assert.equal(server.attributes['http.route'], '/indexes/:uid/search');
    assert.equal(server.attributes['http.response.status_code'], 200);
    // The fan-out: nodes the scatter reached (metadata reads are not part of it).
    assert.equal(server.attributes['miroir.node_count'], 2);
    assert.equal(server.parentSpanContext, undefined);
    const traceId = server.spanContext().traceId;
    // Every node call of the request is a child: the index metadata read (first use) and the scatter.
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId && s !== server);
    assert.ok(inTrace.every((s) => s.kind === SpanKind.CLIENT && s.parentSpanContext?.spanId === server.spanContext().spanId));
    assert.deepEqual(new Set(inTrace.map((s) => s.name)), new Set(['node indexes', 'node settings', 'node search']));
    const children = inTrace.filter((s) => s.name === 'node search');
    assert.deepEqual(children.map((s) => s.attributes['miroir.node_id']).sort(), ['node-0', 'node-1']);
    for (const child of children) assert.equal(child.attributes['http.response.status_code'], 200);
    // What the nodes received: each search carries its own child span's context.
    const searches = env.seen.filter((s) => s.url === '/indexes/songs/search');
    assert.equal(searches.length, 2);
    const sent = searches.map((s) => TRACEPARENT.exec(String(s.headers.traceparent)));
    assert.ok(sent.every((m) => m !== null));
    assert.deepEqual(sent.map((m) => m![1]), [traceId, traceId]);
    assert.deepEqual(sent.map((m) => m![2]).sort(), children.map((s) => s.spanContext().spanId).sort());
  });

  test("a caller's traceparent is continued", async () => {
    exporter.reset();
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const r = await http(env.c.miroir.url, 'GET', '/indexes/songs', {
      headers: { traceparent: `00-${callerTrace}-${callerSpan}-01`, 'x-request-id': 'trace-2' },
    });
    assert.equal(r.status, 200);
    await waitForSpan(exporter, (s) => s.attributes['miroir.request_id'] === 'trace-2');
    const server = exporter.getFinishedSpans().find((s) => s.attributes['miroir.request_id'] === 'trace-2')!;
    assert.equal(server.spanContext().traceId, callerTrace);
    assert.equal(server.parentSpanContext?.spanId, callerSpan);
    const child = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT && s.spanContext().traceId === callerTrace);
    assert.deepEqual(child.map((s) => s.name), ['node indexes']);
  });

  test('a node call that fails is an error span with its error type', async () => {
    exporter.reset();
    await env.c.engines[1]!.kill();
    // A query not sent before: not an answer the result cache kept.
    const r = await http(env.c.miroir.url, 'POST', '/indexes/songs/search', { body: { q: 'x', limit: 7 }, headers: { 'x-request-id': 'trace-3' } });
    assert.equal(r.status, 200);
    await waitForSpan(exporter, (s) => s.attributes['miroir.request_id'] === 'trace-3');
    const failed = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT && s.attributes['error.type'] !== undefined);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.attributes['miroir.node_id'], 'node-1');
    // The proxy answers 502 without a Meilisearch body when its engine is gone.
    assert.equal(failed[0]!.attributes['error.type'], 'http_5xx');
    assert.equal(failed[0]!.attributes['http.response.status_code'], 502);
    assert.equal(failed[0]!.status.code, 2);
  });
});

describe('tracing off (the default)', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    env = await setup(false);
  });
  after(async () => {
    await env?.stop();
  });

  test('no trace context is sent to nodes', async () => {
    env.seen.length = 0;
    const r = await http(env.c.miroir.url, 'POST', '/indexes/songs/search', {
      body: { q: 'x' },
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    assert.equal(r.status, 200);
    assert.equal(env.c.config.tracing.enabled, false);
    const searches = env.seen.filter((s) => s.url === '/indexes/songs/search');
    assert.equal(searches.length, 2);
    for (const s of searches) assert.equal(s.headers.traceparent, undefined);
  });
});

async function waitForSpan(exporter: InMemorySpanExporter, pred: (s: ReadableSpan) => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (exporter.getFinishedSpans().some(pred)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('span not exported');
}

