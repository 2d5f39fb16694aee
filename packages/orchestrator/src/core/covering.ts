/**
 * Covering sets for a search (spec S2.6 steps 2–4): one group, one eligible owner per needed shard,
 * and for each chosen node the exact list of shards it answers for.
 */
import type { Hasher } from './hash.js';
import type { Placement } from './placement.js';

/** Inputs of {@link coveringSet}. */
export interface CoveringOptions {
  /** Per-pod request counter: picks the group (`seq mod RG` among serving groups) and the replica. */
  readonly seq: number;
  /**
   * Whether `nodeId` may answer for `shard` right now (healthy, at or above the settings floor…).
   * Called once per (owner, shard) considered.
   */
  readonly eligible: (nodeId: string, shard: number) => boolean;
  /** Serve shards with no eligible owner in the chosen group from another serving group. */
  readonly groupFallback?: boolean;
  /** Pinned group id (session pin, tenant affinity); used when that group is serving. */
  readonly groupId?: number;
  /**
   * The group ids reads may rotate over and fall back to (tenant affinity keeps unmapped tenants
   * out of dedicated groups); default every serving group. A pinned `groupId` is used even when
   * it is not listed.
   */
  readonly groupIds?: readonly number[];
  /**
   * Replicas to use only when no group has another eligible owner of the shard (spec S13.3: a
   * shard whose replicas all score far above the fleet are served by another group).
   */
  readonly avoid?: (nodeId: string) => boolean;
  /** Only these shards are needed (PK-narrowed filter); default all shards. */
  readonly shards?: readonly number[];
  /** A migration is in flight: nodes may hold copies beyond their placement, so always filter. */
  readonly migrationInFlight?: boolean;
  /**
   * Picks one of a shard's eligible owners (best rendezvous score first), e.g. adaptive replica
   * selection ({@link chooseAdaptive}). Default: round-robin by `seq`.
   */
  readonly choose?: (eligible: readonly string[], shard: number) => string;
}

/** The result of {@link coveringSet}. */
export interface CoveringSet {
  /** Chosen group id, or -1 when no group is serving. */
  readonly groupId: number;
  /** nodeId → shards it answers for, ascending. Insertion order = first shard served. */
  readonly nodes: Map<string, number[]>;
  /** Needed shards no eligible node could serve, ascending. */
  readonly uncovered: number[];
  /** Shards served by a group other than the chosen one, ascending. */
  readonly fallbackShards: number[];
  /**
   * Whether a node's request needs `_miroir_shard IN [...]`: false only when the node holds
   * exactly the shards it answers for (and no migration is in flight).
   */
  needsShardFilter(nodeId: string): boolean;
}

/**
 * Indexes of the groups that may take queries (`active`), in group-id order. Groups that are
 * `initializing` or `draining` are never chosen.
 */
export function servingGroups(placement: Placement): number[] {
  const out: number[] = [];
  for (let gi = 0; gi < placement.groupCount; gi++) if (placement.groupStates[gi] === 'active') out.push(gi);
  return out;
}

function pickOwner(
  placement: Placement,
  gi: number,
  shard: number,
  seq: number,
  opts: CoveringOptions,
  avoid: ((nodeId: string) => boolean) | undefined,
): string | undefined {
  const owners = placement.owners(gi, shard);
  const eligible = opts.eligible;
  // One owner (RF 1): nothing to choose between.
  if (owners.length === 1) return eligible(owners[0], shard) && (avoid === undefined || !avoid(owners[0])) ? owners[0] : undefined;
  let ok: string[] | undefined;
  for (const id of owners) if (eligible(id, shard) && (avoid === undefined || !avoid(id))) (ok ??= []).push(id);
  if (ok === undefined) return undefined;
  return opts.choose !== undefined ? opts.choose(ok, shard) : ok[seq % ok.length];
}

/** Builds the covering set for one search. Pure: the same inputs give the same set on every pod. */
export function coveringSet(placement: Placement, opts: CoveringOptions): CoveringSet {
  const seq = Math.max(0, Math.trunc(opts.seq));
  const pinned = opts.groupId === undefined ? -1 : placement.groupIndex(opts.groupId);
  const allowed = opts.groupIds;
  const groups =
    allowed === undefined ? servingGroups(placement) : servingGroups(placement).filter((gi) => gi === pinned || allowed.includes(placement.groupIds[gi]));
  const needed = opts.shards ?? rangeOf(placement.shards);
  const nodes = new Map<string, number[]>();
  const uncovered: number[] = [];
  const fallbackShards: number[] = [];
  if (groups.length === 0) {
    return finish(placement, -1, nodes, [...needed].sort(byNumber), fallbackShards, opts);
  }
  let gPos = seq % groups.length;
  if (pinned >= 0) {
    const at = groups.indexOf(pinned);
    if (at >= 0) gPos = at;
  }
  const gi = groups[gPos];
  const sorted = opts.shards === undefined ? needed : [...new Set(needed)].sort(byNumber);
  for (const shard of sorted) {
    if (!Number.isInteger(shard) || shard < 0 || shard >= placement.shards) throw new RangeError(`shard ${shard} out of range`);
    let node: string | undefined;
    let fellBack = false;
    // With replicas to avoid: another group's owner first, the avoided ones only as a last resort.
    for (const avoid of opts.avoid === undefined ? [undefined] : [opts.avoid, undefined]) {
      node = pickOwner(placement, gi, shard, seq, opts, avoid);
      if (node === undefined && (opts.groupFallback === true || avoid !== undefined)) {
        for (let k = 1; k < groups.length && node === undefined; k++) {
          node = pickOwner(placement, groups[(gPos + k) % groups.length], shard, seq, opts, avoid);
        }
        fellBack = node !== undefined;
      }
      if (node !== undefined) break;
    }
    if (fellBack) fallbackShards.push(shard);
    if (node === undefined) {
      uncovered.push(shard);
      continue;
    }
    const list = nodes.get(node);
    if (list === undefined) nodes.set(node, [shard]);
    else list.push(shard);
  }
  return finish(placement, placement.groupIds[gi], nodes, uncovered, fallbackShards, opts);
}

function finish(
  placement: Placement,
  groupId: number,
  nodes: Map<string, number[]>,
  uncovered: number[],
  fallbackShards: number[],
  opts: CoveringOptions,
): CoveringSet {
  const migrating = opts.migrationInFlight === true;
  return {
    groupId,
    nodes,
    uncovered,
    fallbackShards,
    needsShardFilter(nodeId: string): boolean {
      if (migrating) return true;
      const answers = nodes.get(nodeId);
      // Answered shards are a subset of held shards, so equal sizes mean equal sets.
      return answers === undefined || answers.length !== placement.shardsOf(nodeId).length;
    },
  };
}

function rangeOf(n: number): readonly number[] {
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function byNumber(a: number, b: number): number {
  return a - b;
}

/**
 * The shards that can hold the given primary keys (canonical strings): the PK-narrowing step of the
 * planner (spec S13.4). Returns ascending distinct shards.
 */
export function shardsForKeys(
  hasher: { shardOf(pk: string, shards: number): number },
  keys: Iterable<string>,
  shards: number,
): number[] {
  const set = new Set<number>();
  for (const k of keys) set.add(hasher.shardOf(k, shards));
  return [...set].sort(byNumber);
}

/**
 * `X-Miroir-Degraded` value for a read that could not cover some shards (`shards=3,7,11`), or
 * null when every shard was served (spec S3.4). A shard served by a surviving replica or by
 * another group is not a degradation.
 */
export function readDegradedHeader(uncovered: readonly number[]): string | null {
  return uncovered.length === 0 ? null : `shards=${uncovered.join(',')}`;
}

/**
 * Adaptive replica selection (spec S13.3): the eligible replica with the lowest score; ties go to
 * the earlier candidate (better rendezvous rank). Exploration is decided once per read by the
 * caller (reads/read-path.ts), which then rotates replicas instead of calling this.
 */
export function chooseAdaptive(candidates: readonly string[], scoreOf: (nodeId: string) => number): string {
  if (candidates.length === 1) return candidates[0];
  let best = candidates[0];
  let bestScore = scoreOf(best);
  for (let i = 1; i < candidates.length; i++) {
    const s = scoreOf(candidates[i]);
    if (s < bestScore) {
      best = candidates[i];
      bestScore = s;
    }
  }
  return best;
}

/**
 * Group for a tenant routed by hash (spec S13.15): `xxh64(utf8(tenant) ‖ 0xFF) mod n` over the
 * candidate group ids (the non-dedicated serving groups, ascending), or -1 when there are none.
 */
export function tenantGroupId(hasher: Pick<Hasher, 'shardOf'>, tenant: string, candidateGroupIds: readonly number[]): number {
  if (candidateGroupIds.length === 0) return -1;
  return candidateGroupIds[hasher.shardOf(tenant, candidateGroupIds.length)];
}
