/**
 * Topology changes (spec S2.7), pure: each takes the current topology and returns the next one
 * (version + 1), or throws a {@link TopologyChangeError} naming what is wrong. The rebalancer then moves shards
 * from the serving to the target placement of the new topology and, once done, commits
 * {@link completedTopology}.
 */
import type { GroupState, NodeState } from './placement.js';

/** The persisted topology (the state store validates it when read back). */
export interface StoredTopology {
  version: number;
  nodes: { id: string; address: string; group: number; state: NodeState; remove?: boolean }[];
  groups: { id: number; state: GroupState }[];
}

type Node = StoredTopology['nodes'][number];

/** A topology change that cannot be made: malformed or unsafe (`invalid`), or naming nothing known (`not_found`). */
export class TopologyChangeError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not_found',
    message: string,
  ) {
    super(message);
    this.name = 'TopologyChangeError';
  }
}

const NODE_ID = /^[A-Za-z0-9_.:-]+$/;

function invalid(message: string): never {
  throw new TopologyChangeError('invalid', message);
}

function notFound(message: string): never {
  throw new TopologyChangeError('not_found', message);
}

function bump(t: StoredTopology, nodes: Node[], groups: StoredTopology['groups']): StoredTopology {
  return { version: t.version + 1, nodes, groups: [...groups].sort((a, b) => a.id - b.id) };
}

function findNode(t: StoredTopology, id: string): Node {
  const n = t.nodes.find((x) => x.id === id);
  if (n === undefined) notFound(`Node \`${id}\` is not in the topology.`);
  return n;
}

function checkNewNode(t: StoredTopology, n: { id: string; address: string }, seen: Set<string>): void {
  if (!NODE_ID.test(n.id)) invalid(`Node id \`${n.id}\` is invalid: node ids use letters, digits, \`_ . : -\`.`);
  if (t.nodes.some((x) => x.id === n.id) || seen.has(n.id)) invalid(`Node \`${n.id}\` is already in the topology.`);
  let url: URL | undefined;
  try {
    url = new URL(n.address);
  } catch {
    url = undefined;
  }
  if (url === undefined || !/^https?:$/.test(url.protocol)) invalid(`Node address \`${n.address}\` is not an http(s) URL.`);
  if (t.nodes.some((x) => x.address === n.address && x.state !== 'removed')) invalid(`Address \`${n.address}\` is already used by another node.`);
  seen.add(n.id);
}

/** Whether the topology has changes a rebalance has yet to carry out. */
export function hasPendingChanges(t: StoredTopology): boolean {
  return t.nodes.some((n) => n.state === 'joining' || n.state === 'draining') || t.groups.some((g) => g.state !== 'active');
}

/**
 * A node's id is its identity (it decides the shards the node owns); its address is only where to
 * reach it. The topology with the addresses of `addresses` (by node id) for the nodes it knows,
 * version + 1; the same object when no known node's address differs. Unknown ids are ignored:
 * adding a node is a topology change of its own ({@link addNode}).
 */
export function readdressNodes(t: StoredTopology, addresses: ReadonlyMap<string, string>): StoredTopology {
  const moved = t.nodes.filter((n) => addresses.has(n.id) && addresses.get(n.id) !== n.address);
  if (moved.length === 0) return t;
  return bump(
    t,
    t.nodes.map((n) => (addresses.has(n.id) ? { ...n, address: addresses.get(n.id)! } : n)),
    t.groups,
  );
}

/** Adds a node to an existing group as `joining`. */
export function addNode(t: StoredTopology, n: { id: string; address: string; group: number }): StoredTopology {
  const group = t.groups.find((g) => g.id === n.group);
  if (group === undefined) notFound(`Replica group ${n.group} is not in the topology.`);
  if (group.state === 'draining') invalid(`Replica group ${n.group} is draining.`);
  checkNewNode(t, n, new Set());
  return bump(t, [...t.nodes, { id: n.id, address: n.address, group: n.group, state: 'joining' }], t.groups);
}

/** Drains a node (its shards move to the others of its group); `remove` drops it once drained. */
export function drainNode(t: StoredTopology, id: string, remove: boolean): StoredTopology {
  const node = findNode(t, id);
  if (node.state === 'joining') invalid(`Node \`${id}\` is still joining; wait for the rebalance to finish.`);
  if (node.state === 'removed') {
    if (!remove) invalid(`Node \`${id}\` is already drained.`);
    return dropNode(t, id);
  }
  if (node.state === 'draining') {
    if (!remove || node.remove === true) invalid(`Node \`${id}\` is already draining.`);
  }
  const group = t.groups.find((g) => g.id === node.group);
  const others = t.nodes.filter((x) => x.group === node.group && x.id !== id && (x.state === 'active' || x.state === 'joining' || x.state === 'failed'));
  if (group?.state !== 'draining' && others.length === 0) {
    invalid(`Node \`${id}\` is the last node of replica group ${node.group}; remove the group instead.`);
  }
  return bump(
    t,
    t.nodes.map((x) => (x.id === id ? { ...x, state: 'draining' as const, ...(remove ? { remove: true } : {}) } : x)),
    t.groups,
  );
}

/** Drops a node at once, without moving its shards (`--force`: its copies are lost). */
export function dropNode(t: StoredTopology, id: string): StoredTopology {
  const node = findNode(t, id);
  const rest = t.nodes.filter((x) => x.id !== id);
  if (!rest.some((x) => x.group === node.group && x.state !== 'removed') && t.groups.some((g) => g.id === node.group && g.state !== 'draining')) {
    invalid(`Node \`${id}\` is the last node of replica group ${node.group}; remove the group instead.`);
  }
  return bump(t, rest, t.groups);
}

/** Adds a replica group (`initializing`, its nodes `joining`): it receives writes and syncs every shard. */
export function addGroup(t: StoredTopology, g: { id?: number; nodes: { id: string; address: string }[] }): StoredTopology {
  const id = g.id ?? Math.max(-1, ...t.groups.map((x) => x.id)) + 1;
  if (!Number.isInteger(id) || id < 0) invalid('A replica group id is a non-negative integer.');
  if (t.groups.some((x) => x.id === id)) invalid(`Replica group ${id} is already in the topology.`);
  if (g.nodes.length === 0) invalid('A new replica group needs at least one node.');
  const seen = new Set<string>();
  for (const n of g.nodes) checkNewNode(t, n, seen);
  return bump(
    t,
    [...t.nodes, ...g.nodes.map((n) => ({ id: n.id, address: n.address, group: id, state: 'joining' as const }))],
    [...t.groups, { id, state: 'initializing' as const }],
  );
}

/** Removes a replica group: it stops taking queries at once; it and its nodes leave once the rebalance runs. */
export function removeGroup(t: StoredTopology, id: number): StoredTopology {
  const group = t.groups.find((g) => g.id === id);
  if (group === undefined) notFound(`Replica group ${id} is not in the topology.`);
  if (group.state === 'draining') invalid(`Replica group ${id} is already draining.`);
  if (!t.groups.some((g) => g.id !== id && g.state === 'active')) invalid(`Replica group ${id} is the last active group.`);
  return bump(
    t,
    t.nodes.map((n) => (n.group === id ? { ...n, state: 'draining' as const, remove: true } : n)),
    t.groups.map((g) => (g.id === id ? { ...g, state: 'draining' as const } : g)),
  );
}

/**
 * The topology once a rebalance has moved every shard: joining nodes and initializing groups are
 * active, drained nodes are `removed` (or gone when they were removed), draining groups are gone.
 */
export function completedTopology(t: StoredTopology): StoredTopology {
  const gone = new Set(t.groups.filter((g) => g.state === 'draining').map((g) => g.id));
  const nodes: Node[] = [];
  for (const n of t.nodes) {
    if (gone.has(n.group) || (n.state === 'draining' && n.remove === true)) continue;
    if (n.state === 'joining') nodes.push({ id: n.id, address: n.address, group: n.group, state: 'active' });
    else if (n.state === 'draining') nodes.push({ id: n.id, address: n.address, group: n.group, state: 'removed' });
    else nodes.push(n);
  }
  return bump(
    t,
    nodes,
    t.groups.filter((g) => !gone.has(g.id)).map((g) => ({ id: g.id, state: 'active' as const })),
  );
}
