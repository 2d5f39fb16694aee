/**
 * The engine's fastify app: raw-body parsing (routes decode JSON/NDJSON/CSV themselves, with
 * Meilisearch's errors), request decompression, per-route authorization, one error handler that
 * renders every error as `{message, code, type, link}`, and the 404 fallback.
 */
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { incompletePayloadError, isDecompressionError, MeiliError, requestDecompressor } from '@miroir/protocol';
import { jsonBody } from './http.js';
import type { AuthContextPort, AuthPort } from './ports.js';

/** Meilisearch's default `--http-payload-size-limit` (100 MB). */
export const PAYLOAD_LIMIT = 100_000_000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The authorization of the request (null when the route is public or auth is off). */
    authCtx: AuthContextPort | null;
    /** The request body as received (after decompression). */
    rawBody: Buffer | undefined;
  }
  interface FastifyContextConfig {
    /** The key action the route needs (`search`, `documents.add`…); absent = public. */
    action?: string;
    /** The route decodes its body itself (documents in JSON, NDJSON or CSV). */
    rawBody?: boolean;
  }
}

export interface AppOptions {
  logger: boolean;
  auth: AuthPort | null;
}

function isMeiliError(err: unknown): err is MeiliError {
  return err instanceof MeiliError;
}

/** Creates the app with the cross-cutting behaviour; routes are added by the caller. */
export async function createApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ? { level: 'info' } : false,
    bodyLimit: PAYLOAD_LIMIT,
    // Meilisearch accepts `%2F`-free uids only, but clients may still send encoded paths.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
  });

  // CORS as Meilisearch configures it: any origin (answered with `*`), any method, any header,
  // preflight results cached for a day.
  await app.register(cors, {
    origin: '*',
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    maxAge: 86_400,
    optionsSuccessStatus: 200,
    strictPreflight: false,
  });

  // Responses compressed per `Accept-Encoding` (br, gzip, deflate), as Meilisearch's Compress
  // middleware does; small bodies are sent as they are. Request bodies are decoded below.
  // Registered (awaited) before any route: the plugin hooks into routes as they are added.
  await app.register(compress, { global: true, globalDecompression: false, threshold: 1024, encodings: ['br', 'gzip', 'deflate'] });

  app.decorateRequest('authCtx', null);
  app.decorateRequest('rawBody', undefined);

  // Keep bodies raw: JSON, NDJSON and CSV are decoded by the routes so that the errors are
  // Meilisearch's and not fastify's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: PAYLOAD_LIMIT }, (req, body, done) => {
    req.rawBody = body as Buffer;
    done(null, undefined);
  });

  // Routes that do not decode their body themselves get it as parsed JSON (any content type, as
  // Meilisearch's JSON extractor accepts every mime type), or undefined when it is empty.
  app.addHook('preHandler', async (req) => {
    if (req.routeOptions.config?.rawBody === true) return;
    const raw = req.rawBody;
    if (raw !== undefined && raw.length > 0 && raw.toString('utf8').trim() !== '') req.body = jsonBody(req);
  });

  app.addHook('preParsing', async (req, _reply, payload) => {
    const enc = req.headers['content-encoding'];
    if (typeof enc !== 'string' || enc === '' || enc.toLowerCase() === 'identity') return payload;
    const d = requestDecompressor(enc);
    if (d === null) return payload;
    // The declared length is the compressed one; the limit applies to the decoded bytes.
    delete req.headers['content-length'];
    return payload.pipe(d);
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

  app.setErrorHandler((err: FastifyError | MeiliError | Error, req, reply) => {
    if (isMeiliError(err)) {
      if (err.code === 'too_many_search_requests') void reply.header('Retry-After', '10');
      return reply.status(err.status).send(err.toJSON());
    }
    const code = (err as { code?: string }).code ?? '';
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const e = new MeiliError(
        'payload_too_large',
        'The provided payload reached the size limit. The maximum accepted payload size is 100 MB.',
      );
      return reply.status(e.status).send(e.toJSON());
    }
    if (isDecompressionError(err)) {
      const e = incompletePayloadError();
      return reply.status(e.status).send(e.toJSON());
    }
    const status = (err as FastifyError).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const e = new MeiliError('bad_request', err.message, { status });
      return reply.status(status).send(e.toJSON());
    }
    req.log.error({ err }, 'internal error');
    const e = new MeiliError('internal', err.message);
    return reply.status(500).send(e.toJSON());
  });

  app.setNotFoundHandler((_req, reply) => {
    const e = new MeiliError('not_found', 'Not Found');
    return reply.status(404).send(e.toJSON());
  });

  return app;
}
