/**
 * Per-request observability, installed as fastify hooks before any route: the request id echoed
 * back, the in-flight gauge, the request scope node calls report into, the server span (tracing
 * on), and at the end one metrics observation plus one JSON log line.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../api/auth.js';
import { UNMATCHED_ROUTE, type Metrics } from './metrics.js';
import { requestScope } from './request-scope.js';
import type { Tracing } from './tracing.js';

/** The request id: the client's `X-Request-Id` when it is sane, else a fresh UUID. */
export function requestIdOf(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && given.length > 0 && given.length <= 128 && /^[\x21-\x7e]+$/.test(given)
    ? given
    : crypto.randomUUID();
}

/** Routes whose degraded answers are partial search responses. */
const SEARCH_ROUTES = new Set(['/indexes/:uid/search', '/indexes/:uid/facet-search', '/multi-search']);

export interface RequestLogOptions {
  /** The per-request line is written (level `info` or lower). */
  enabled: boolean;
  /** The line carries `node_count` (config `log.node_count`). */
  nodeCount: boolean;
}

/** Operator routes are served even when the client limit is reached. */
const unlimited = (url: string) => url.startsWith('/_miroir/') || url === '/health';

/**
 * The request scope (an AsyncLocalStorage, which on Node 20 costs every promise a hook call) is
 * entered only when something reads it: tracing's parent span, or the log line's `node_count`.
 */
export function installRequestHooks(
  app: FastifyInstance,
  metrics: Metrics,
  tracing: Tracing | undefined,
  logs: RequestLogOptions,
  /** `server.max_concurrent_requests`: more wait, first come first served (`miroir_request_queue_depth`). */
  maxConcurrent = Infinity,
): void {
  const logRequests = logs.enabled;
  const nodeCount = logs.enabled && logs.nodeCount;
  const scoped = nodeCount || tracing !== undefined;
  app.decorateRequest('miroirFanOut', 0);
  app.decorateRequest('miroirSpan', null);
  app.decorateRequest('miroirInFlight', false);
  app.decorateRequest('miroirLimited', false);

  // Hand-written: a FIFO of callbacks is all a concurrency cap needs here, and a queueing library
  // would put a promise and a closure on every request's path even when nothing waits.
  const waiting: (() => void)[] = [];
  let limited = 0;
  const leave = (req: FastifyRequest) => {
    if (!req.miroirInFlight) return;
    req.miroirInFlight = false;
    metrics.inFlight--;
    if (req.miroirLimited) {
      limited--;
      admitNext();
    }
  };
  const admitNext = () => {
    const next = waiting.shift();
    metrics.queued = waiting.length;
    next?.();
  };
  const admit = (req: FastifyRequest, done: () => void) => {
    req.miroirInFlight = true;
    metrics.inFlight++;
    if (tracing !== undefined) req.miroirSpan = tracing.startRequest(req.method, req.routeOptions.url ?? UNMATCHED_ROUTE, req.headers);
    if (scoped) requestScope.run(req, done);
    else done();
  };

  // A callback hook, so the rest of the request's lifecycle runs inside the scope.
  app.addHook('onRequest', (req, reply, done) => {
    // Set here rather than in an onSend hook: a hook fewer on every request, and the header
    // survives to every answer, errors included.
    reply.header('x-request-id', req.id);
    if (maxConcurrent === Infinity || unlimited(req.url)) return admit(req, done);
    req.miroirLimited = true;
    if (limited < maxConcurrent) {
      limited++;
      return admit(req, done);
    }
    waiting.push(() => {
      // A client that gave up while waiting is dropped without taking a slot.
      if (req.raw.destroyed) return admitNext();
      limited++;
      admit(req, done);
    });
    metrics.queued = waiting.length;
  });
  app.addHook('onRequestAbort', (req, done) => {
    leave(req);
    done();
  });
  app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done) => {
    leave(req);
    const template = req.routeOptions.url ?? UNMATCHED_ROUTE;
    const status = reply.statusCode;
    const ms = reply.elapsedTime;
    const degraded = reply.hasHeader('x-miroir-degraded');
    metrics.observeRequest(req.method, template, status, ms / 1000);
    if (degraded && SEARCH_ROUTES.has(template)) metrics.scatterPartial.inc();
    if (req.miroirSpan !== null) tracing!.endRequest(req.miroirSpan, status, req.id, req.miroirFanOut);
    if (logRequests) {
      const uid = (req.params as { uid?: unknown } | undefined)?.uid;
      req.log.info(
        {
          method: req.method,
          path_template: template,
          ...(typeof uid === 'string' ? { index: uid } : {}),
          status,
          duration_ms: Math.round(ms * 100) / 100,
          ...(nodeCount ? { node_count: req.miroirFanOut } : {}),
          degraded,
        },
        'request',
      );
    }
    done();
  });
}

/**
 * `GET /_miroir/metrics`: the same registry as the metrics listener. The admin key is optional
 * (spec S16 item 6): without admin credentials the text is served; credentials that are given
 * must be right.
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, auth: Authenticator): void {
  app.get('/_miroir/metrics', async (req, reply) => {
    if (req.headers.authorization !== undefined || req.headers['x-admin-key'] !== undefined) auth.admin(req);
    const { contentType, body } = await metrics.expose();
    return reply.header('content-type', contentType).send(body);
  });
}
