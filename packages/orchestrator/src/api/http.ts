/**
 * The HTTP envelope shared by every route: the server options that keep fastify's router and
 * parser answers Meilisearch-shaped, raw bodies decoded per `Content-Encoding`, JSON decoding with
 * Meilisearch's errors, and the one place where errors become wire responses.
 */
import cors from '@fastify/cors';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import {
  answerClientError,
  decodeRequestBody,
  frameworkError,
  isEmptyBody,
  jsonObject,
  MAX_PARAM_LENGTH,
  MEILISEARCH_CORS,
  MeiliError,
  MethodTable,
  normalizeRequestUrl,
  parseJsonBody,
  protocolError,
} from '@miroir/protocol';
import { withoutReservedInMessage } from '../core/reserved-settings.js';
import { miroirError } from '../errors.js';
import { NodeHttpError, NodeTransportError } from '../nodes/node-client.js';
import { isStoreUnavailable } from '../state/unavailable.js';

/** The router's own refusals (a URL it cannot decode) in Meilisearch's shape. */
function answerFrameworkError(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  void sendError(reply, frameworkError(error, 0) ?? protocolError(400));
}

/**
 * Fastify options of the envelope: path parameters as long as a URL can be (uids get
 * `invalid_index_uid`, never a router error), undecodable percent-encoding kept literal, the
 * parser's and the router's own errors answered in Meilisearch's shape.
 */
export function envelopeServerOptions(): Pick<FastifyServerOptions, 'rewriteUrl' | 'clientErrorHandler' | 'frameworkErrors'> & {
  routerOptions: { maxParamLength: number };
} {
  return {
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    rewriteUrl: (req) => normalizeRequestUrl(req.url ?? '/'),
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
  };
}

/** Content types held back from fastify's body reader, by request. */
const heldContentTypes = new WeakMap<object, string>();
/** Bodies that did not decode per their `Content-Encoding`, by request: raised by the routes that read them. */
const undecodableBodies = new WeakMap<object, MeiliError>();

/** CORS as one Meilisearch node answers it (any origin, method and header), so browser clients work. */
export async function allowCrossOrigin(app: FastifyInstance): Promise<void> {
  await app.register(cors, { ...MEILISEARCH_CORS, methods: [...MEILISEARCH_CORS.methods] });
}

/**
 * Every body arrives as a Buffer, decoded per `Content-Encoding`; routes decode it (documents
 * accept JSON, NDJSON and CSV), and a route that takes no body never looks at it. Fastify would
 * refuse a `Content-Type` it cannot parse before any route runs, where Meilisearch looks at it
 * only on routes that read a body: the header is held back while the body is read and restored
 * before the route.
 */
export function acceptRawBodies(app: FastifyInstance): void {
  const bodyLimit = app.initialConfig.bodyLimit ?? 0;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addHook('onRequest', async (req) => {
    const ct = req.raw.headers['content-type'];
    if (ct === undefined) return;
    heldContentTypes.set(req.raw, ct);
    delete req.raw.headers['content-type'];
  });
  app.addHook('preParsing', async (req, _reply, payload) =>
    decodeRequestBody(payload, req.method, req.raw.headers, bodyLimit, (err) => undecodableBodies.set(req.raw, err)),
  );
  app.addHook('preValidation', async (req) => {
    const ct = heldContentTypes.get(req.raw);
    if (ct !== undefined) req.raw.headers['content-type'] = ct;
  });
}

/** The raw body, or undefined when the request had none; a body that did not decode is 400 `bad_request`. */
export function rawBody(req: FastifyRequest): Buffer | undefined {
  const undecodable = undecodableBodies.get(req.raw);
  if (undecodable !== undefined) throw undecodable;
  const b = req.body;
  return Buffer.isBuffer(b) && b.length > 0 ? b : undefined;
}

/**
 * The JSON body of a non-document route, decoded as one node decodes it (JSON content type;
 * `missing_payload` / `malformed_payload`). With `required` false an empty body is undefined.
 */
export function jsonBody(req: FastifyRequest, required = true): unknown {
  const raw = rawBody(req);
  if (!required && isEmptyBody(raw)) return undefined;
  return parseJsonBody(raw, req.headers['content-type']);
}

/** The JSON body of a route that takes an object: anything else is deserr's root `bad_request`. */
export function jsonObjectBody(req: FastifyRequest): Record<string, unknown> {
  return jsonObject(jsonBody(req));
}

/** Sends a Meilisearch-shaped error. */
export function sendError(reply: FastifyReply, err: MeiliError): FastifyReply {
  if (err.status === 503) reply.header('retry-after', '10');
  return reply.code(err.status).send(err.toJSON());
}

/**
 * Maps any thrown value to the wire exactly once: our MeiliErrors as they are, node error bodies
 * verbatim with the node's status, a node's refusal of the request's size as that status, transport
 * failures as 503, fastify's own envelope errors to the Meilisearch code one node would give,
 * anything else as a logged 500 `internal`. Unknown routes are 404, known ones asked with another
 * method 405, with an empty body.
 */
export function installErrorHandler(app: FastifyInstance): void {
  const bodyLimit = app.initialConfig.bodyLimit ?? 0;
  app.setErrorHandler((error: FastifyError | Error, req, reply) => {
    if (error instanceof NodeHttpError) {
      return reply.code(error.status).send({ ...error.body, message: withoutReservedInMessage(error.body.message) });
    }
    if (error instanceof NodeTransportError) {
      // A node that answered 4xx without a Meilisearch body refused the request, it is not
      // unavailable: no such route (404/405) is passed on as the node gave it, with an empty body;
      // a request line or headers too large for it (414/431) gets that status in Meilisearch's shape.
      const status = error.status;
      if (status === 404 || status === 405) return reply.code(status).send();
      if (status !== undefined && status >= 400 && status < 500) return sendError(reply, protocolError(status));
      return sendError(reply, miroirError('miroir_node_unavailable', `A node could not be reached: ${error.message}.`, error));
    }
    if (isStoreUnavailable(error)) {
      req.log.warn({ err: error }, 'state store unavailable');
      return sendError(reply, miroirError('miroir_store_unavailable', `Miroir's state store could not be reached: ${error.message}`, error));
    }
    const mapped = frameworkError(error, bodyLimit);
    if (mapped !== null) return sendError(reply, mapped);
    req.log.error({ err: error }, 'unhandled error');
    return sendError(reply, new MeiliError('internal', 'An internal error has occurred.'));
  });
  // Actix's answers: an unknown path is 404, a known path asked with another method 405 with
  // `Allow`; both with an empty body.
  const methods = new MethodTable();
  app.addHook('onRoute', (route) => methods.add(route.method, route.url));
  app.setNotFoundHandler((req, reply) => {
    const allowed = methods.allowed(req.url);
    if (allowed.length === 0 || allowed.includes(req.method)) return reply.code(404).send();
    return reply.code(405).header('allow', allowed.join(', ')).send();
  });
}
