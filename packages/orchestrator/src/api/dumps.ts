/**
 * `POST /dumps` and `POST /snapshots` (spec S5.1): broadcast to every node as one Miroir task of
 * type `dumpCreation` / `snapshotCreation`, which succeeds when every node's task succeeds. Each
 * node writes its dump or snapshot into its own dump / snapshot directory; the task's `dumpUid` is
 * the first node's (each node names its file after its own start time).
 *
 * @see https://www.meilisearch.com/docs/reference/api/dump
 * @see https://www.meilisearch.com/docs/reference/api/snapshots
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../main.js';
import { broadcastWrite } from './writes.js';

export function registerDumpRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post('/dumps', async (req, reply) => {
    await ctx.auth.client(req, 'dumps.create', null);
    const summary = await broadcastWrite(ctx, reply, { indexUid: null, type: 'dumpCreation', details: { dumpUid: null } }, [{ method: 'POST', path: '/dumps' }], {
      detailsFrom: 0,
    });
    return reply.code(202).send(summary);
  });

  app.post('/snapshots', async (req, reply) => {
    await ctx.auth.client(req, 'snapshots.create', null);
    const summary = await broadcastWrite(ctx, reply, { indexUid: null, type: 'snapshotCreation', details: null }, [{ method: 'POST', path: '/snapshots' }]);
    return reply.code(202).send(summary);
  });
}
