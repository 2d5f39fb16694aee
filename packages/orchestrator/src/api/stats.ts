/**
 * `GET /indexes/{uid}/stats` and `GET /stats` (spec S3.1): every document counted once — the
 * document count is the sum of shard-filtered counts over one group's covering set — and the
 * reserved fields hidden.
 */
import type { FastifyInstance } from 'fastify';
import { indexNotFound, parseStatsParams, type StatsParams } from '@miroir/protocol';
import type { IndexInfo } from '../catalog.js';
import { coveringSet } from '../core/covering.js';
import { shardFilterExpression } from '../core/search-merge.js';
import {
  aggregateGlobalStats,
  aggregateIndexStats,
  formatGlobalStats,
  formatIndexStats,
  type IndexStats,
  type NodeGlobalStats,
  type NodeIndexStats,
} from '../core/stats.js';
import type { AppContext } from '../main.js';
import { callEach } from './fanout.js';
import { enc, uidParam } from './indexes.js';

export function registerStatsRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { cluster } = ctx;

  /** Sizes are read from the nodes in bytes and formatted once merged. */
  async function indexStats(info: IndexInfo, params: StatsParams): Promise<IndexStats> {
    const placement = cluster.placement(info.shards);
    const cover = coveringSet(placement, {
      seq: cluster.nextSeq(),
      eligible: (id) => cluster.health.isHealthy(id),
      groupFallback: true,
      migrationInFlight: cluster.migrating,
    });
    const path = `/indexes/${enc(info.uid)}`;
    const counts = await callEach<{ total: number }>(cluster, [...cover.nodes.keys()], (id) => ({
      method: 'POST',
      path: `${path}/documents/fetch`,
      body: { limit: 0, filter: shardFilterExpression(cover.nodes.get(id)!) },
    }));
    let numberOfDocuments = 0;
    for (const c of counts) {
      if (c.ok === undefined) throw c.error;
      numberOfDocuments += c.ok.body.total;
    }
    const gi = Math.max(0, placement.groupIndex(cover.groupId));
    const groupNodes = placement.memberIds().filter((id) => placement.nodes.get(id)?.group === placement.groupIds[gi]);
    const query = params.showInternalDatabaseSizes ? '?showInternalDatabaseSizes=true' : '';
    const all = await callEach<NodeIndexStats>(cluster, [...cluster.nodes.keys()], { method: 'GET', path: `${path}/stats${query}` });
    const stats = new Map(all.filter((r) => r.ok).map((r) => [r.nodeId, r.ok!.body]));
    return aggregateIndexStats({
      numberOfDocuments,
      groupNodes: groupNodes.map((id) => stats.get(id)).filter((s): s is NodeIndexStats => s !== undefined),
      copies: Math.min(placement.replicationFactor, Math.max(1, groupNodes.length)),
      indexingAnywhere: [...stats.values()].map((s) => s.isIndexing),
    });
  }

  app.get('/indexes/:uid/stats', async (req) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'stats.get', uid);
    const params = parseStatsParams(req.query as Record<string, string | string[]>);
    const info = await ctx.catalog.get(uid);
    if (info === undefined) throw indexNotFound(uid);
    return formatIndexStats(await indexStats(info, params), params.sizeFormat);
  });

  app.get('/stats', async (req) => {
    const access = await ctx.auth.client(req, 'stats.get', null);
    const params = parseStatsParams(req.query as Record<string, string | string[]>);
    const all = await callEach<NodeGlobalStats & { indexes: Record<string, unknown> }>(cluster, [...cluster.nodes.keys()], {
      method: 'GET',
      path: '/stats',
    });
    const answered = all.filter((r) => r.ok).map((r) => ({ nodeId: r.nodeId, body: r.ok!.body }));
    if (answered.length === 0) throw all[0]!.error;
    const uids = new Set<string>();
    for (const a of answered) for (const uid of Object.keys(a.body.indexes)) if (access.allowsIndex(uid)) uids.add(uid);
    const indexes: Record<string, IndexStats> = {};
    for (const uid of uids) {
      const info = await ctx.catalog.get(uid);
      if (info !== undefined) indexes[uid] = await indexStats(info, params);
    }
    const placement = cluster.placement(cluster.config.shards);
    const group0 = new Set(placement.memberIds().filter((id) => placement.nodes.get(id)?.group === placement.groupIds[0]));
    const stats = aggregateGlobalStats(
      answered.filter((a) => group0.has(a.nodeId)).map((a) => a.body),
      Math.min(placement.replicationFactor, Math.max(1, group0.size)),
      answered.map((a) => a.body),
      indexes,
    );
    return formatGlobalStats(stats, params.sizeFormat);
  });
}
