/**
 * Rendezvous (highest-random-weight) placement of shards on nodes, per replica group (spec S2.2).
 *
 * A {@link Placement} is computed once per topology version and then only looked up: owners of a
 * shard per group, write targets, and each node's shard list. Two placements of the same topology
 * matter during a change: the *serving* one (who holds the data now) and the *target* one (who will
 * hold it); {@link diffPlacements} turns the pair into the rebalancer's list of moves.
 */
import type { Hasher } from './hash.js';

/** Node lifecycle (spec S2.7). */
export const NodeState = {
  Joining: 'joining',
  Active: 'active',
  Draining: 'draining',
  Failed: 'failed',
  Removed: 'removed',
} as const;
export type NodeState = (typeof NodeState)[keyof typeof NodeState];

/** Replica-group lifecycle (spec S2.7). */
export const GroupState = {
  Initializing: 'initializing',
  Active: 'active',
  Draining: 'draining',
} as const;
export type GroupState = (typeof GroupState)[keyof typeof GroupState];

/** One node as the topology knows it. */
export interface TopologyNode {
  readonly id: string;
  readonly address: string;
  /** Replica group id. */
  readonly group: number;
  readonly state: NodeState;
}

/** The inputs every pod must agree on to derive the same placement. */
export interface Topology {
  /** Monotonic version of this topology (informational; carried into the placement). */
  readonly version: number;
  /** Number of shards S of the index. */
  readonly shards: number;
  /** Copies per group (RF). */
  readonly replicationFactor: number;
  readonly nodes: readonly TopologyNode[];
  /** Group states; a group that only appears on nodes is `active`. */
  readonly groups?: readonly { readonly id: number; readonly state: GroupState }[];
}

/**
 * Which nodes take part in the hash ring.
 * - `serving`: who holds data now — everyone but `joining` (not yet filled) and `removed`.
 * - `target`: who should hold data — everyone but `draining` and `removed`.
 * A `failed` node keeps its shards in both: failure may be transient, and moving its shards away is
 * an explicit operator/rebalancer decision (it then becomes `removed`).
 */
export type PlacementView = 'serving' | 'target';

function isMember(state: NodeState, view: PlacementView): boolean {
  if (state === 'removed') return false;
  return view === 'serving' ? state !== 'joining' : state !== 'draining';
}

/** Where writes for a shard go. Implemented by {@link Placement} and by {@link DualWritePlan}. */
export interface WriteRouter {
  readonly shards: number;
  /** Node ids that receive a write to `shard`, across every group. */
  writeTargets(shard: number): readonly string[];
}

/**
 * Rendezvous placement of S shards for one topology and view. Immutable; build once per
 * topology version.
 */
export class Placement implements WriteRouter {
  readonly version: number;
  readonly shards: number;
  readonly replicationFactor: number;
  readonly view: PlacementView;
  /** Group ids, ascending. Group *index* below means a position in this list. */
  readonly groupIds: readonly number[];
  readonly groupStates: readonly GroupState[];
  /** Every node given to the constructor (members or not), by id. */
  readonly nodes: ReadonlyMap<string, TopologyNode>;
  /** owners[groupIndex][shard] = up to RF node ids, best score first. */
  readonly #owners: (readonly string[])[][];
  readonly #writeTargets: (readonly string[])[];
  readonly #nodeShards: Map<string, readonly number[]>;

  /**
   * `cutOver` blends in a migration's progress: a shard whose move in a group is done (cut over)
   * takes its owners in that group from `target`; every other shard keeps this view's owners. Reads
   * thus use only owners that hold a shard completely.
   */
  constructor(topology: Topology, hasher: Hasher, view: PlacementView = 'serving', cutOver?: CutOver) {
    const { shards, replicationFactor: rf } = topology;
    if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, got ${shards}`);
    if (!Number.isInteger(rf) || rf < 1) throw new RangeError(`replicationFactor must be a positive integer, got ${rf}`);
    this.version = topology.version;
    this.shards = shards;
    this.replicationFactor = rf;
    this.view = view;

    const nodes = new Map<string, TopologyNode>();
    for (const n of topology.nodes) {
      if (nodes.has(n.id)) throw new Error(`duplicate node id ${JSON.stringify(n.id)}`);
      nodes.set(n.id, n);
    }
    this.nodes = nodes;

    const states = new Map<number, GroupState>();
    for (const g of topology.groups ?? []) states.set(g.id, g.state);
    for (const n of topology.nodes) if (!states.has(n.group)) states.set(n.group, 'active');
    this.groupIds = [...states.keys()].sort((a, b) => a - b);
    this.groupStates = this.groupIds.map((g) => states.get(g) as GroupState);

    this.#owners = [];
    this.#nodeShards = new Map();
    const perNode = new Map<string, number[]>();
    for (const [gi, gid] of this.groupIds.entries()) {
      const members = topology.nodes
        .filter((n) => n.group === gid && isMember(n.state, view))
        .map((n) => n.id)
        .sort(compareIds);
      for (const id of members) perNode.set(id, []);
      const byShard: (readonly string[])[] = new Array(shards);
      const ti = cutOver ? cutOver.target.groupIndex(gid) : -1;
      for (let s = 0; s < shards; s++) {
        const owners = ti >= 0 && cutOver!.done(gid, s) ? cutOver!.target.owners(ti, s) : assign(hasher, s, members, rf);
        byShard[s] = owners;
        for (const id of owners) {
          if (!perNode.has(id)) perNode.set(id, []);
          (perNode.get(id) as number[]).push(s);
        }
      }
      this.#owners[gi] = byShard;
    }
    for (const [id, list] of perNode) this.#nodeShards.set(id, list);

    this.#writeTargets = new Array(shards);
    for (let s = 0; s < shards; s++) {
      const targets: string[] = [];
      for (let gi = 0; gi < this.groupIds.length; gi++) {
        for (const id of this.#owners[gi][s]) if (nodes.get(id)?.state !== 'failed') targets.push(id);
      }
      this.#writeTargets[s] = targets;
    }
  }

  /** Number of replica groups (RG). */
  get groupCount(): number {
    return this.groupIds.length;
  }

  /** Owners of `shard` in the group at `groupIndex`, best rendezvous score first. */
  owners(groupIndex: number, shard: number): readonly string[] {
    return this.#owners[groupIndex]?.[shard] ?? [];
  }

  /** The group index of a group id, or -1. */
  groupIndex(groupId: number): number {
    return this.groupIds.indexOf(groupId);
  }

  /**
   * Nodes written for `shard`: the owners in every group (including `initializing` groups, which
   * receive writes while they sync), minus `failed` nodes. Draining nodes are still written while
   * they serve reads, so a read they answer before the cutover is never stale.
   */
  writeTargets(shard: number): readonly string[] {
    return this.#writeTargets[shard];
  }

  /** Shards a member node holds in this placement, ascending; empty for non-members. */
  shardsOf(nodeId: string): readonly number[] {
    return this.#nodeShards.get(nodeId) ?? [];
  }

  /** Ids of the nodes taking part in this placement's ring. */
  memberIds(): string[] {
    return [...this.#nodeShards.keys()];
  }
}

/** A migration's progress blended into a serving placement (see the {@link Placement} constructor). */
export interface CutOver {
  readonly target: Placement;
  /** Whether the move of `shard` in group `groupId` is cut over to the target owners. */
  done(groupId: number, shard: number): boolean;
}

/** Node ids ascending by UTF-16 code units (stable, locale-free). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `assign(shard, group)`: the top `rf` of `nodeIds` by descending unsigned rendezvous score, ties
 * by node id ascending. Fewer than `rf` members → all of them.
 */
export function assign(hasher: Hasher, shard: number, nodeIds: readonly string[], rf: number): string[] {
  const scored = nodeIds.map((id) => ({ id, score: hasher.score(shard, id) }));
  scored.sort((a, b) => (a.score > b.score ? -1 : a.score < b.score ? 1 : compareIds(a.id, b.id)));
  const out: string[] = [];
  for (let i = 0; i < scored.length && i < rf; i++) out.push(scored[i].id);
  return out;
}

/** One shard whose owner set in one group differs between two placements. */
export interface ShardMove {
  readonly groupId: number;
  readonly shard: number;
  /** Owners before, best first. Any of them that is healthy can be the copy source. */
  readonly before: readonly string[];
  /** Owners after, best first. */
  readonly after: readonly string[];
  /** Nodes that must receive the shard (in `after`, not in `before`). */
  readonly gained: readonly string[];
  /** Nodes that drop the shard after the cutover (in `before`, not in `after`). */
  readonly lost: readonly string[];
}

/**
 * The moves that turn `from` into `to` (typically the serving and the target placement of one
 * topology), ordered by group id then shard. Groups present in only one side are skipped: a new
 * group is filled by a whole-group sync, not by shard moves.
 */
export function diffPlacements(from: Placement, to: Placement): ShardMove[] {
  if (from.shards !== to.shards) throw new Error(`shard counts differ (${from.shards} vs ${to.shards})`);
  const moves: ShardMove[] = [];
  for (const [gi, gid] of to.groupIds.entries()) {
    const fi = from.groupIndex(gid);
    if (fi < 0) continue;
    for (let s = 0; s < to.shards; s++) {
      const before = from.owners(fi, s);
      const after = to.owners(gi, s);
      const gained = after.filter((id) => !before.includes(id));
      const lost = before.filter((id) => !after.includes(id));
      if (gained.length > 0 || lost.length > 0) moves.push({ groupId: gid, shard: s, before, after, gained, lost });
    }
  }
  return moves;
}

/**
 * Write routing during a migration: every write goes to the union of the serving and the target
 * owners, so that a shard being copied misses no write that lands during the copy.
 */
export class DualWritePlan implements WriteRouter {
  readonly shards: number;
  readonly #targets: (readonly string[])[];

  constructor(serving: Placement, target: Placement) {
    if (serving.shards !== target.shards) throw new Error('shard counts differ');
    this.shards = serving.shards;
    this.#targets = new Array(this.shards);
    for (let s = 0; s < this.shards; s++) {
      const a = serving.writeTargets(s);
      const extra = target.writeTargets(s).filter((id) => !a.includes(id));
      this.#targets[s] = extra.length === 0 ? a : [...a, ...extra];
    }
  }

  writeTargets(shard: number): readonly string[] {
    return this.#targets[shard];
  }
}
