/**
 * `POST` and `GET /indexes/{uid}/similar`: parsed as one node parses them, then answered by one
 * covering set (see core/similar.ts): the node covering the reference document's shard answers
 * `/similar` for its shards and lends the reference's embedding; every other node answers a
 * vector search with it; the hits are merged by similarity.
 *
 * @see https://www.meilisearch.com/docs/reference/api/similar/get-similar-documents-with-post
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fuseFilters, parseSimilarBody, parseSimilarParams, type SimilarQuery } from '@miroir/protocol';
import { mergeSimilar, nodeSimilarBody, nodeVectorSearchBody, referenceVector, similarNodeLimit, type NodeSimilarAnswer } from '../core/similar.js';
import { miroirError } from '../errors.js';
import type { AppContext } from './context.js';
import { NodeHttpError } from '../nodes/node-client.js';
import { callEach } from './fanout.js';
import { jsonBody } from './http.js';
import { enc, uidParam } from './indexes.js';
import { degrade, indexFor, searchContext, timedMerge } from './search.js';
import { awaitWrite, gatedCover, readGate } from './settings-consistency.js';

/** `parse` reads the query once the key is checked: a refused key wins over a bad body, as on a node. */
async function similar(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, parse: () => SimilarQuery) {
  const { cluster } = ctx;
  const uid = uidParam(req);
  const access = await ctx.auth.client(req, 'search', uid);
  const q = parse();
  const info = await indexFor(ctx, uid);
  const filter = fuseFilters(q.filter, access.searchFilter(uid));
  const gate = await readGate(ctx, req, uid);
  const cover = gatedCover(ctx, cluster.placement(info.shards), uid, gate);
  await awaitWrite(ctx, gate, cover.nodes.keys());
  const refShard = cluster.hasher.shardOf(q.id, info.shards);
  const owner = [...cover.nodes].find(([, shards]) => shards.includes(refShard))?.[0];
  if (owner === undefined) throw miroirError('miroir_shard_unavailable', `No node can serve shard(s) ${refShard} right now.`);
  const maxTotalHits = info.settings.pagination.maxTotalHits;
  const limit = similarNodeLimit(q, maxTotalHits, searchContext(info).customSortRules === true);
  const path = `/indexes/${enc(uid)}`;
  const shardsOf = (id: string) => (cover.needsShardFilter(id) ? cover.nodes.get(id)! : null);

  // The owner's answer (and its errors: unknown embedder, invalid filter, unknown document, as one
  // node gives them) and the reference's embedding.
  const [[own], [ref]] = await Promise.all([
    callEach<NodeSimilarAnswer>(cluster, [owner], { method: 'POST', path: `${path}/similar`, body: nodeSimilarBody(q, filter, shardsOf(owner), limit) }),
    callEach<{ results: Record<string, unknown>[] }>(cluster, [owner], {
      method: 'POST',
      path: `${path}/documents/fetch`,
      body: { ids: [q.id], retrieveVectors: true, limit: 1 },
    }),
  ]);
  if (own!.ok === undefined) throw own!.error;
  const answers: NodeSimilarAnswer[] = [own!.ok.body];
  const missing = [...cover.uncovered];
  if (ref!.ok === undefined) throw ref!.error;
  const vector = referenceVector(ref!.ok.body.results[0], q.embedder);
  const others = [...cover.nodes.keys()].filter((id) => id !== owner);
  if (others.length > 0) {
    const results = await callEach<NodeSimilarAnswer>(cluster, others, (id) => ({
      method: 'POST',
      path: `${path}/search`,
      body: nodeVectorSearchBody(q, vector, filter, shardsOf(id), limit),
    }));
    for (const r of results) {
      if (r.ok) answers.push(r.ok.body);
      else if (r.error instanceof NodeHttpError) throw r.error;
      else missing.push(...cover.nodes.get(r.nodeId)!);
    }
  }
  missing.sort((a, b) => a - b);
  if (missing.length > 0 && cluster.config.scatter.unavailable_shard_policy === 'error') {
    throw miroirError('miroir_shard_unavailable', `No node can serve shard(s) ${missing.join(', ')} right now.`);
  }
  degrade(reply, missing);
  return timedMerge(answers, () => mergeSimilar(q, answers, maxTotalHits, 0), q.showPerformanceDetails === true ? {} : undefined);
}

export function registerSimilarRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post('/indexes/:uid/similar', async (req, reply) => {
    return similar(ctx, req, reply, () => parseSimilarBody(jsonBody(req)));
  });

  app.get('/indexes/:uid/similar', async (req, reply) => {
    const raw = req.query as Record<string, string | string[]>;
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) flat[k] = Array.isArray(v) ? v[0]! : v;
    return similar(ctx, req, reply, () => parseSimilarParams(flat));
  });
}
