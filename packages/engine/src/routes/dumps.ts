/**
 * `POST /dumps` and `POST /snapshots`: enqueue a `dumpCreation` (details `{dumpUid}`, set when it
 * succeeds) or a `snapshotCreation` (no details) task; the files are written by the processor.
 *
 * @see https://www.meilisearch.com/docs/reference/api/dump
 * @see https://www.meilisearch.com/docs/reference/api/snapshots
 */
import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../context.js';

export function registerDumpRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.post('/dumps', { config: { action: 'dumps.create' } }, async (_req, reply) =>
    reply.status(202).send(ctx.queue.enqueue({ type: 'dumpCreation', indexUid: null, details: { dumpUid: null } })),
  );

  app.post('/snapshots', { config: { action: 'snapshots.create' } }, async (_req, reply) =>
    reply.status(202).send(ctx.queue.enqueue({ type: 'snapshotCreation', indexUid: null, details: null })),
  );
}
