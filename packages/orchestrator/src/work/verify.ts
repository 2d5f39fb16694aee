/**
 * `GET /_miroir/verify` (`miroir-ctl verify`): a read-only check that every shard of every index
 * has RF complete replicas in every group — each owner holds the same documents (counts, and with
 * `deep` fingerprints) — and that no node holds documents of shards it does not own.
 */
import type { Cluster } from '../cluster.js';
import { SHARD_FIELD } from '../core/documents.js';
import { divergentKeys } from '../core/fingerprint.js';
import { fingerprintShard, shardCount } from './node-io.js';

export interface VerifyReport {
  ok: boolean;
  /** Whether a rebalance is routing writes (copies beyond the placement are then expected). */
  rebalance_in_progress: boolean;
  indexes: number;
  shards_checked: number;
  problems: string[];
}

export async function verifyCluster(cluster: Cluster, opts: { index?: string; deep?: boolean }): Promise<VerifyReport> {
  const problems: string[] = [];
  let checked = 0;
  const metas = (await cluster.store.listIndexMeta()).filter((m) => opts.index === undefined || m.uid === opts.index);
  if (opts.index !== undefined && metas.length === 0) problems.push(`index ${opts.index}: unknown`);
  for (const meta of metas) {
    const placement = cluster.placement(meta.shards);
    for (let s = 0; s < meta.shards; s++) {
      const counts = new Map<string, number>();
      for (let gi = 0; gi < placement.groupCount; gi++) {
        const gid = placement.groupIds[gi]!;
        if (placement.groupStates[gi] !== 'active') continue;
        const members = placement.memberIds().filter((id) => placement.nodes.get(id)?.group === gid).length;
        const owners = placement.owners(gi, s);
        const want = Math.min(placement.replicationFactor, members);
        if (owners.length < want) problems.push(`${meta.uid} shard ${s}: group ${gid} has ${owners.length} of ${want} replicas`);
        for (const id of owners) {
          try {
            counts.set(id, await shardCount(cluster.node(id), meta.uid, s));
          } catch (e) {
            problems.push(`${meta.uid} shard ${s}: ${id} cannot be read (${(e as Error).message})`);
          }
        }
      }
      checked++;
      if (new Set(counts.values()).size > 1) {
        problems.push(`${meta.uid} shard ${s}: replicas differ in count (${[...counts].map(([id, n]) => `${id}=${n}`).join(', ')})`);
      } else if (opts.deep && counts.size > 1 && meta.primaryKey !== null) {
        const ids = [...counts.keys()];
        const prints = await Promise.all(ids.map((id) => fingerprintShard(cluster.node(id), meta.uid, meta.primaryKey!, s, 1000)));
        const differ = divergentKeys(prints);
        if (differ.length > 0) problems.push(`${meta.uid} shard ${s}: ${differ.length} documents differ between ${ids.join(', ')}`);
      }
    }
    if (cluster.migrating) continue;
    // Stray copies: documents a node holds for shards it does not own.
    for (const id of cluster.nodes.keys()) {
      const own = placement.shardsOf(id);
      const filter = own.length === 0 ? undefined : `${SHARD_FIELD} NOT IN [${own.join(', ')}]`;
      try {
        const { body } = await cluster.node(id).request<{ total: number }>({
          method: 'POST',
          path: `/indexes/${encodeURIComponent(meta.uid)}/documents/fetch`,
          body: { limit: 0, fields: [], ...(filter ? { filter } : {}) },
        });
        if (body.total > 0) problems.push(`${meta.uid}: ${id} holds ${body.total} documents of shards it does not own`);
      } catch (e) {
        problems.push(`${meta.uid}: ${id} cannot be read (${(e as Error).message})`);
      }
    }
  }
  return { ok: problems.length === 0, rebalance_in_progress: cluster.migrating, indexes: metas.length, shards_checked: checked, problems };
}
