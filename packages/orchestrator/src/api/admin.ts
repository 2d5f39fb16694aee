/**
 * `/_miroir/*`: cluster state for operators (spec S4.4, S10.1). Never proxied to nodes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { indexNotFound } from '@miroir/protocol';
import { z } from 'zod';
import { coveringSet } from '../core/covering.js';
import { judgeSettings } from '../core/settings-fingerprint.js';
import { addGroup, addNode, drainNode, dropNode, removeGroup } from '../core/topology.js';
import { miroirError } from '../errors.js';
import type { AppContext } from './context.js';
import type { StoredTopology } from '../state/store.js';
import { verifyCluster } from '../work/verify.js';
import { readNodeSettings } from '../work/settings-io.js';
import { jsonBody } from './http.js';

const newNode = z.strictObject({ id: z.string(), address: z.string() });
const addNodeBody = newNode.extend({ replica_group: z.int().min(0).default(0) });
const addGroupBody = z.strictObject({ id: z.int().min(0).optional(), nodes: z.array(newNode).min(1) });

/** A topology change's body, checked: a bad one is a `miroir_invalid_topology_change`. */
function parseBody<T>(req: FastifyRequest, schema: z.ZodType<T>): T {
  const r = schema.safeParse(jsonBody(req));
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const at = issue.path.length > 0 ? `\`${issue.path.join('.')}\`: ` : '';
    throw miroirError('miroir_invalid_topology_change', `Invalid request body: ${at}${issue.message}.`);
  }
  return r.data;
}

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
        state: h === undefined || cluster.health.isHealthy(n.id) || n.state !== 'active' ? n.state : 'failed',
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
    const frozen = (await cluster.store.listIndexMeta()).filter((m) => m.writesFrozen !== undefined);
    return {
      shards: placement.shards,
      replication_factor: placement.replicationFactor,
      replica_groups: placement.groupCount,
      nodes,
      degraded_node_count: nodes.filter((n) => n.status !== 'healthy').length,
      version: cluster.storedTopology.version,
      groups: cluster.storedTopology.groups,
      rebalance_in_progress: ctx.rebalancer.busy,
      fully_covered: fullyCovered,
      // Indexes whose document writes are refused after an unrepairable settings divergence (S13.5).
      writes_frozen: frozen.map((m) => ({ index: m.uid, reason: m.writesFrozen })),
    };
  });

  /** Settings consistency of every index Miroir knows (spec S13.5). */
  app.get('/_miroir/settings', guard, async () => {
    const metas = await cluster.store.listIndexMeta();
    return {
      results: metas.map((m) => ({
        index: m.uid,
        settings_version: m.settingsVersion,
        fingerprint: m.settingsFingerprint ?? null,
        writes_frozen: m.writesFrozen ?? null,
        broadcast_phase: ctx.broadcasts.phase(m.uid) ?? null,
      })),
    };
  });

  /** One index: committed version and fingerprint, and what each node holds now. */
  app.get('/_miroir/settings/:index', guard, async (req) => {
    const uid = (req.params as { index: string }).index;
    const meta = await cluster.store.getIndexMeta(uid);
    if (meta === undefined) throw indexNotFound(uid);
    const nodeIds = [...cluster.nodes.keys()];
    const [reads, versions] = await Promise.all([readNodeSettings(cluster, uid, nodeIds), cluster.store.nodeSettingsVersions(uid)]);
    const j = judgeSettings(reads, { committed: meta.settingsFingerprint });
    return {
      index: uid,
      settings_version: meta.settingsVersion,
      fingerprint: meta.settingsFingerprint ?? null,
      writes_frozen: meta.writesFrozen ?? null,
      broadcast_phase: ctx.broadcasts.phase(uid) ?? null,
      nodes: reads.map((r) => ({
        id: r.nodeId,
        settings_version: versions.get(r.nodeId) ?? 0,
        fingerprint: j.fingerprints.get(r.nodeId) ?? null,
        matches: meta.settingsFingerprint === undefined ? null : j.fingerprints.get(r.nodeId) === meta.settingsFingerprint,
        ...(r.error ? { error: r.error } : {}),
      })),
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

  /**
   * Topology changes (spec S2.7, S4.4): each is persisted with a new version and starts a
   * rebalance; 202 with the new topology version and the rebalance status.
   */
  const change = async (reply: FastifyReply, fn: (t: StoredTopology) => StoredTopology) => {
    const { topology, rebalance } = await ctx.rebalancer.change(fn);
    return reply.code(202).send({ topology_version: topology.version, rebalance });
  };
  const nodeId = (req: FastifyRequest) => (req.params as { id: string }).id;
  const groupId = (req: FastifyRequest) => {
    const text = (req.params as { id: string }).id;
    if (!/^\d+$/.test(text)) throw miroirError('miroir_node_not_found', `Replica group \`${text}\` is not in the topology.`);
    return Number(text);
  };

  app.post('/_miroir/nodes', guard, async (req, reply) => {
    const body = parseBody(req, addNodeBody);
    return change(reply, (t) => addNode(t, { id: body.id, address: body.address, group: body.replica_group }));
  });
  app.post('/_miroir/nodes/:id/drain', guard, async (req, reply) => change(reply, (t) => drainNode(t, nodeId(req), false)));
  /** Drains, then removes; `?force=true` removes at once without moving the node's shards. */
  app.delete('/_miroir/nodes/:id', guard, async (req, reply) => {
    const force = (req.query as { force?: string }).force === 'true';
    return change(reply, (t) => (force ? dropNode(t, nodeId(req)) : drainNode(t, nodeId(req), true)));
  });
  app.post('/_miroir/groups', guard, async (req, reply) => {
    const body = parseBody(req, addGroupBody);
    return change(reply, (t) => addGroup(t, body));
  });
  app.delete('/_miroir/groups/:id', guard, async (req, reply) => change(reply, (t) => removeGroup(t, groupId(req))));

  /** Starts (or resumes) the rebalance of pending changes; 202 when one runs, 200 when there is nothing to do. */
  app.post('/_miroir/rebalance', guard, async (_req, reply) => {
    const status = await ctx.rebalancer.start();
    return reply.code(status.state === 'idle' ? 200 : 202).send(status);
  });
  app.get('/_miroir/rebalance/status', guard, async () => ctx.rebalancer.status());

  /** Read-only: every shard has RF complete replicas in every group, no node holds stray shards. */
  app.get('/_miroir/verify', guard, async (req) => {
    const q = req.query as { index?: string; deep?: string };
    return verifyCluster(cluster, { ...(q.index ? { index: q.index } : {}), deep: q.deep === 'true' });
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
