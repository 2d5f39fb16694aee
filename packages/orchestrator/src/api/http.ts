/**
 * The HTTP envelope shared by every route: raw bodies, JSON decoding with Meilisearch's errors, and
 * the one place where errors become wire responses.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  incompletePayloadError,
  isDecompressionError,
  isEmptyBody,
  MeiliError,
  parseJsonBody,
  requestDecompressor,
} from '@miroir/protocol';
import { withoutReservedInMessage } from '../core/reserved-settings.js';
import { miroirError } from '../errors.js';
import { NodeHttpError, NodeTransportError } from '../nodes/node-client.js';

/** Every body arrives as a Buffer; routes decode it (documents accept JSON, NDJSON and CSV). */
export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addHook('preParsing', async (req, _reply, payload) => {
    const d = requestDecompressor(req.headers['content-encoding']);
    if (d === null) return payload;
    // The declared length is the compressed one; the body limit applies to the decoded bytes.
    delete req.headers['content-length'];
    return payload.pipe(d);
  });
}

/** The raw body, or undefined when the request had none. */
export function rawBody(req: FastifyRequest): Buffer | undefined {
  const b = req.body;
  return Buffer.isBuffer(b) && b.length > 0 ? b : undefined;
}

/**
 * The JSON body of a non-document route, decoded as one node decodes it (any content type;
 * `missing_payload` / `malformed_payload`). With `required` false an empty body is undefined.
 */
export function jsonBody(req: FastifyRequest, required = true): unknown {
  const raw = rawBody(req);
  if (!required && isEmptyBody(raw)) return undefined;
  return parseJsonBody(raw, req.headers['content-type']);
}

/** Sends a Meilisearch-shaped error. */
export function sendError(reply: FastifyReply, err: MeiliError): FastifyReply {
  if (err.status === 503) reply.header('retry-after', '10');
  return reply.code(err.status).send(err.toJSON());
}

/**
 * Maps any thrown value to the wire exactly once: our MeiliErrors as they are, node error bodies
 * verbatim with the node's status, transport failures as 503, fastify's own envelope errors to the
 * Meilisearch code one node would give, anything else as a logged 500 `internal`.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, req, reply) => {
    if (error instanceof MeiliError) return sendError(reply, error);
    if (error instanceof NodeHttpError) {
      return reply.code(error.status).send({ ...error.body, message: withoutReservedInMessage(error.body.message) });
    }
    if (error instanceof NodeTransportError) {
      return sendError(reply, miroirError('miroir_node_unavailable', `A node could not be reached: ${error.message}.`, error));
    }
    const code = (error as FastifyError).code;
    if (isDecompressionError(error)) return sendError(reply, incompletePayloadError());
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(
        reply,
        new MeiliError(
          'payload_too_large',
          `The provided payload reached the size limit. The maximum accepted payload size is ${formatBytes(app.initialConfig.bodyLimit ?? 0)}.`,
        ),
      );
    }
    if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return sendError(reply, new MeiliError('bad_request', error.message));
    }
    req.log.error({ err: error }, 'unhandled error');
    return sendError(reply, new MeiliError('internal', 'An internal error has occurred.'));
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send());
}

/** Meilisearch prints sizes in decimal units (`100 MB`). */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(2)} ${units[i]}`;
}
