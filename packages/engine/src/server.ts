/**
 * The engine's fastify app: raw bodies decoded per `Content-Encoding` (routes that take a body
 * decode JSON/NDJSON/CSV themselves, with Meilisearch's errors; others ignore it), per-route
 * authorization, one error handler that renders every error as `{message, code, type, link}`, the
 * parser's and router's refusals in the same shape, and the 404/405 fallback. The rules are
 * `@miroir/protocol`'s, shared with the orchestrator.
 */
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  answerClientError,
  decodeRequestBody,
  frameworkError,
  MAX_PARAM_LENGTH,
  MEILISEARCH_CORS,
  MeiliError,
  MethodTable,
  normalizeRequestUrl,
  protocolError,
} from '@miroir/protocol';
import type { AuthContextPort, AuthPort } from './ports.js';

/** Meilisearch's default `--http-payload-size-limit` (100 MB). */
export const PAYLOAD_LIMIT = 100_000_000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The authorization of the request (null when the route is public or auth is off). */
    authCtx: AuthContextPort | null;
    /** The request body as received (after decompression). */
    rawBody: Buffer | undefined;
    /** The `Content-Type` held back from fastify's body reader (restored before the route). */
    heldContentType: string | undefined;
    /** Why the body did not decode per its `Content-Encoding`: raised by the routes that read it. */
    bodyError: MeiliError | undefined;
  }
  interface FastifyContextConfig {
    /** The key action the route needs (`search`, `documents.add`…); absent = public. */
    action?: string;
  }
}

export interface AppOptions {
  logger: boolean;
  auth: AuthPort | null;
}

/** The router's own refusals (a URL it cannot decode) in Meilisearch's shape. */
function answerFrameworkError(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const e = frameworkError(error, PAYLOAD_LIMIT) ?? protocolError(400);
  void reply.status(e.status).send(e.toJSON());
}

/** Creates the app with the cross-cutting behaviour; routes are added by the caller. */
export async function createApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ? { level: 'info' } : false,
    bodyLimit: PAYLOAD_LIMIT,
    // Any uid a URL can carry reaches the route (and gets `invalid_index_uid` when too long);
    // undecodable percent-encoding stays literal, as actix leaves it.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    rewriteUrl: (req) => normalizeRequestUrl(req.url ?? '/'),
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
  });

  await app.register(cors, { ...MEILISEARCH_CORS, methods: [...MEILISEARCH_CORS.methods] });

  // Responses compressed per `Accept-Encoding` (br, gzip, deflate), as Meilisearch's Compress
  // middleware does; small bodies are sent as they are. Request bodies are decoded below.
  // Registered (awaited) before any route: the plugin hooks into routes as they are added.
  await app.register(compress, { global: true, globalDecompression: false, threshold: 1024, encodings: ['br', 'gzip', 'deflate'] });

  app.decorateRequest('authCtx', null);
  app.decorateRequest('rawBody', undefined);
  app.decorateRequest('heldContentType', undefined);
  app.decorateRequest('bodyError', undefined);

  // Keep bodies raw: JSON, NDJSON and CSV are decoded by the routes that take a body, so that the
  // errors are Meilisearch's and not fastify's, and a route that takes none ignores it whatever
  // its type. Fastify would refuse a `Content-Type` it cannot parse before any route runs: the
  // header is held back while the body is read and restored before the route.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: PAYLOAD_LIMIT }, (req, body, done) => {
    req.rawBody = body as Buffer;
    done(null, undefined);
  });
  app.addHook('onRequest', async (req) => {
    const ct = req.raw.headers['content-type'];
    if (ct === undefined) return;
    req.heldContentType = ct;
    delete req.raw.headers['content-type'];
  });
  app.addHook('preParsing', async (req, _reply, payload) =>
    decodeRequestBody(payload, req.method, req.raw.headers, PAYLOAD_LIMIT, (err) => {
      req.bodyError = err;
    }),
  );
  app.addHook('preValidation', async (req) => {
    if (req.heldContentType !== undefined) req.raw.headers['content-type'] = req.heldContentType;
  });

  const auth = opts.auth;
  if (auth !== null) {
    app.addHook('onRequest', async (req: FastifyRequest) => {
      const action = req.routeOptions.config?.action;
      if (action === undefined) return;
      const uid = (req.params as { indexUid?: string } | undefined)?.indexUid ?? null;
      req.authCtx = auth.authorize(req.headers.authorization, action, uid);
    });
  }

  // The one place where errors become answers: Meilisearch errors as they are, framework errors as
  // the Meilisearch error they stand for, anything else a logged 500.
  app.setErrorHandler((err: FastifyError | MeiliError | Error, req, reply) => {
    const e = frameworkError(err, PAYLOAD_LIMIT);
    if (e !== null) {
      if (e.code === 'too_many_search_requests') void reply.header('Retry-After', '10');
      return reply.status(e.status).send(e.toJSON());
    }
    req.log.error({ err }, 'internal error');
    return reply.status(500).send(new MeiliError('internal', 'An internal error has occurred.').toJSON());
  });

  // Actix's answers: an unknown path is 404, a known path asked with another method 405 with
  // `Allow`; both with an empty body.
  const methods = new MethodTable();
  app.addHook('onRoute', (route) => methods.add(route.method, route.url));
  app.setNotFoundHandler((req, reply) => {
    const allowed = methods.allowed(req.url);
    if (allowed.length === 0 || allowed.includes(req.method)) return reply.status(404).send();
    return reply.status(405).header('allow', allowed.join(', ')).send();
  });

  return app;
}
