/**
 * Index lifecycle (spec S3.1): reads from any node, changes broadcast to every node as one task.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isValidIndexUid } from '@miroir/protocol';
import { miroirError } from '../errors.js';
import type { AppContext } from './context.js';
import { FULL_ACCESS } from './auth.js';
import { callEach, firstAnswer } from './fanout.js';
import { jsonBody } from './http.js';
import { indexList, indexView } from './index-view.js';
import { broadcastWrite } from './writes.js';

export const enc = encodeURIComponent;

/** The query string of a request, `?`-prefixed, or ''. */
export function queryString(req: FastifyRequest): string {
  const i = req.url.indexOf('?');
  return i < 0 ? '' : req.url.slice(i);
}

export function uidParam(req: FastifyRequest): string {
  return (req.params as { uid: string }).uid;
}

interface IndexView {
  uid: string;
  createdAt: string;
  updatedAt: string;
  primaryKey: string | null;
}

export function registerIndexRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { cluster } = ctx;

  app.get('/indexes', async (req) => {
    const access = await ctx.auth.client(req, 'indexes.get', null);
    if (access === FULL_ACCESS) return indexList(cluster, `/indexes${queryString(req)}`);
    // An index-scoped key sees only its indexes: filter the whole list, then paginate it here.
    const q = req.query as { offset?: string; limit?: string };
    const validation = await firstAnswer<{ offset: number; limit: number }>(cluster, {
      method: 'GET',
      path: `/indexes${queryString(req)}`,
    });
    const all = await indexList<{ results: IndexView[] }>(cluster, '/indexes?limit=1000000');
    const visible = all.results.filter((i) => access.allowsIndex(i.uid));
    const offset = q.offset === undefined ? 0 : validation.offset;
    const limit = q.limit === undefined ? 20 : validation.limit;
    return { results: visible.slice(offset, offset + limit), offset, limit, total: visible.length };
  });

  app.get('/indexes/:uid', async (req) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'indexes.get', uid);
    return indexView(cluster, `/indexes/${enc(uid)}`);
  });

  /** Created on every node, then the shard field is made filterable there (same task; see IndexSetup). */
  app.post('/indexes', async (req, reply) => {
    // The key first, the body then, as a node: a refused key wins over a bad body.
    const access = await ctx.auth.client(req, 'indexes.create', null);
    const body = jsonBody(req) as { uid?: unknown; primaryKey?: unknown };
    const uid = typeof body?.uid === 'string' ? body.uid : null;
    if (uid !== null && !access.allowsIndex(uid)) await ctx.auth.client(req, 'indexes.create', uid);
    if (uid !== null) refuseAliasName(ctx, uid);
    const primaryKey = typeof body?.primaryKey === 'string' ? body.primaryKey : null;
    const summary = await broadcastWrite(
      ctx,
      reply,
      { indexUid: uid, type: 'indexCreation', details: { primaryKey } },
      [{ method: 'POST', path: '/indexes', body }],
      // A uid the nodes refuse creates nothing, so nothing is set up (nor named in a node path).
      uid === null || !isValidIndexUid(uid) ? {} : { creates: { index: uid, primaryKey } },
    );
    return reply.code(202).send(summary);
  });

  app.patch('/indexes/:uid', async (req, reply) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'indexes.update', uid);
    const body = jsonBody(req) as { primaryKey?: unknown; uid?: unknown };
    const details: Record<string, unknown> = { primaryKey: typeof body?.primaryKey === 'string' ? body.primaryKey : null };
    const renameTo = typeof body?.uid === 'string' && body.uid !== uid ? body.uid : null;
    if (renameTo !== null) {
      refuseAliasName(ctx, renameTo);
      Object.assign(details, { oldIndexUid: uid, newIndexUid: renameTo });
    }
    const summary = await broadcastWrite(
      ctx,
      reply,
      { indexUid: uid, type: 'indexUpdate', details, ...(renameTo ? { indexes: [uid, renameTo] } : {}) },
      [{ method: 'PATCH', path: `/indexes/${enc(uid)}`, body }],
      { lockKeys: renameTo ? [uid, renameTo] : [uid] },
    );
    return reply.code(202).send(summary);
  });

  app.delete('/indexes/:uid', async (req, reply) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'indexes.delete', uid);
    const summary = await broadcastWrite(ctx, reply, { indexUid: uid, type: 'indexDeletion', details: { deletedDocuments: null } }, [
      { method: 'DELETE', path: `/indexes/${enc(uid)}` },
    ]);
    return reply.code(202).send(summary);
  });

  app.post('/swap-indexes', async (req, reply) => {
    const access = await ctx.auth.client(req, 'indexes.swap', null);
    const body = jsonBody(req);
    const pairs = Array.isArray(body) ? body : [];
    const uids = pairs.flatMap((p: { indexes?: unknown }) => (Array.isArray(p?.indexes) ? p.indexes.filter((x): x is string => typeof x === 'string') : []));
    for (const uid of uids) if (!access.allowsIndex(uid)) await ctx.auth.client(req, 'indexes.swap', uid);
    const swaps = pairs.map((p: { indexes?: unknown; rename?: unknown }) => ({ indexes: p?.indexes, rename: p?.rename ?? false }));
    const summary = await broadcastWrite(ctx, reply, { indexUid: null, indexes: uids, type: 'indexSwap', details: { swaps } }, [
      { method: 'POST', path: '/swap-indexes', body },
    ], { lockKeys: uids.length > 0 ? uids : ['*'] });
    return reply.code(202).send(summary);
  });

  // An index creation that failed on some node is rolled back on the nodes where it succeeded,
  // so the index exists everywhere or nowhere.
  ctx.tasks.onFinished(async (row, nodes) => {
    if (row.type !== 'indexCreation' || row.status !== 'failed' || row.indexUid === null) return;
    const created = [...nodes].filter(([, views]) => views[0]?.status === 'succeeded').map(([id]) => id);
    if (created.length === 0) return;
    ctx.log.warn({ index: row.indexUid, nodes: created, task: row.uid }, 'rolling back a partial index creation');
    await callEach(cluster, created, { method: 'DELETE', path: `/indexes/${enc(row.indexUid)}` });
  });

  // Index metadata follows the nodes once they applied a change.
  ctx.tasks.onFinished(async (row) => {
    if (row.status !== 'succeeded') return;
    if (row.type === 'indexDeletion' && row.indexUid) await ctx.catalog.forget(row.indexUid);
    if (row.type === 'indexUpdate' && row.indexUid) {
      const d = row.details ?? {};
      if (typeof d.newIndexUid === 'string') await ctx.catalog.rename(row.indexUid, d.newIndexUid);
      else if (typeof d.primaryKey === 'string') await ctx.catalog.setPrimaryKey(row.indexUid, d.primaryKey);
    }
    if (row.type === 'indexSwap') {
      for (const s of (row.details?.swaps ?? []) as { indexes: [string, string]; rename: boolean }[]) {
        await (s.rename ? ctx.catalog.rename(s.indexes[0], s.indexes[1]) : ctx.catalog.swap(s.indexes[0], s.indexes[1]));
      }
    }
    // Settings versions moved or went with the metadata.
    const touched = [row.indexUid, ...(row.indexes ?? []), row.details?.newIndexUid];
    for (const uid of touched) if (typeof uid === 'string') ctx.versions.invalidate(uid);
  });
}

/** An index may not take the name of an alias (spec S13.7): the name would resolve to the alias. */
function refuseAliasName(ctx: AppContext, uid: string): void {
  if (ctx.aliases.has(uid)) {
    throw miroirError('miroir_alias_name_conflict', `\`${uid}\` is the name of an alias: an index may not take it. Delete the alias first (DELETE /_miroir/aliases/${uid}).`);
  }
}
