/**
 * `/_miroir/*`: cluster state for operators (spec S4.4, S10.1). Never proxied to nodes.
 */
import type { FastifyInstance } from 'fastify';
import { coveringSet } from '../core/covering.js';
import { miroirError } from '../errors.js';
import type { AppContext } from '../main.js';

export function registerAdminRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { cluster } = ctx;
  const guard = { onRequest: async (req: Parameters<typeof ctx.auth.admin>[0]) => ctx.auth.admin(req) };

  /** Readiness: every serving group can assemble a covering set of healthy nodes. */
  app.get('/_miroir/ready', guard, async (_req, reply) => {
    const placement = cluster.placement(cluster.config.shards);
    const ready =
      cluster.nodes.size > 0 &&
      placement.groupIds.every((gid) => {
        const set = coveringSet(placement, { seq: 0, groupId: gid, eligible: (id) => cluster.health.isHealthy(id) });
        return set.groupId === gid && set.uncovered.length === 0 && set.fallbackShards.length === 0;
      });
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable' });
  });

  app.get('/_miroir/topology', guard, async () => {
    const placement = cluster.placement(cluster.config.shards);
    const nodes = cluster.topology.nodes.map((n) => {
      const h = cluster.health.view(n.id);
      return {
        id: n.id,
        address: n.address,
        status: h?.state === 'healthy' ? 'healthy' : 'degraded',
        // The health state machine: healthy, degraded (failing, still serving), failed, recovering.
        health: h?.state ?? 'healthy',
        state: h === undefined || cluster.health.isHealthy(n.id) ? n.state : 'failed',
        replica_group: n.group,
        shard_count: placement.shardsOf(n.id).length,
        last_seen_ms: h?.lastSeenMs ?? null,
        ...(h?.lastError ? { error: h.lastError } : {}),
      };
    });
    let fullyCovered = true;
    for (let gi = 0; gi < placement.groupCount && fullyCovered; gi++) {
      for (let s = 0; s < placement.shards; s++) {
        const owners = placement.owners(gi, s);
        if (owners.length < placement.replicationFactor || owners.some((id) => !cluster.health.isHealthy(id))) {
          fullyCovered = false;
          break;
        }
      }
    }
    return {
      shards: placement.shards,
      replication_factor: placement.replicationFactor,
      replica_groups: placement.groupCount,
      nodes,
      degraded_node_count: nodes.filter((n) => n.status !== 'healthy').length,
      rebalance_in_progress: false,
      fully_covered: fullyCovered,
    };
  });

  /** The shard → owners table; identical on every process for the same topology. */
  app.get('/_miroir/shards', guard, async () => {
    const placement = cluster.placement(cluster.config.shards);
    const shards = [];
    for (let s = 0; s < placement.shards; s++) {
      const groups: Record<string, readonly string[]> = {};
      placement.groupIds.forEach((gid, gi) => (groups[String(gid)] = placement.owners(gi, s)));
      shards.push({ shard: s, groups });
    }
    return { version: placement.version, shards };
  });

  /** Anti-entropy (spec S13.8): the last pass and whether one is running; POST starts one now. */
  app.get('/_miroir/anti-entropy', guard, async () => antiEntropy().status());
  app.post('/_miroir/anti-entropy/run', guard, async (_req, reply) => {
    void antiEntropy()
      .run()
      .catch((e: unknown) => ctx.log.error({ err: e }, 'anti-entropy pass failed'));
    return reply.code(202).send(antiEntropy().status());
  });
  const antiEntropy = () => {
    if (ctx.antiEntropy === undefined) throw miroirError('miroir_not_supported', 'Anti-entropy is disabled (`anti_entropy.enabled: false`).');
    return ctx.antiEntropy;
  };
}
