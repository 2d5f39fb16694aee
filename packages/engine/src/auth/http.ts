/**
 * Route glue shared by the task and key routes: a `MeiliError` thrown by a handler becomes
 * Meilisearch's error response here, so these routes answer correctly whatever error handler the
 * hosting app installs.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MeiliError } from '@miroir/protocol';

type Handler = (req: FastifyRequest, reply: FastifyReply) => unknown;

/** Wraps a handler so a thrown `MeiliError` is sent as `{message, code, type, link}` with its status. */
export function meiliRoute(handler: Handler): (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  return async (req, reply) => {
    try {
      return await handler(req, reply);
    } catch (e) {
      if (e instanceof MeiliError) return reply.code(e.status).send(e.toJSON());
      throw e;
    }
  };
}

/** The raw query string of a request (without `?`), as Meilisearch echoes it in `originalFilter`. */
export function rawQueryString(req: FastifyRequest): string {
  const i = req.url.indexOf('?');
  return i === -1 ? '' : req.url.slice(i + 1);
}
