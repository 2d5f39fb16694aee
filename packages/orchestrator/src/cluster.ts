/**
 * The running cluster as the API layer sees it: node clients, their health, the placement of shards
 * (one per shard count S, rebuilt when the topology changes), and the state store. Built once by
 * `main`, then injected.
 */
import type { Config } from './config.js';
import type { Hasher } from './core/hash.js';
import { DualWritePlan, Placement, type Topology, type WriteRouter } from './core/placement.js';
import { readdressNodes } from './core/topology.js';
import { HealthChecker } from './nodes/health.js';
import { NodeClient, type NodeCallObserver } from './nodes/node-client.js';
import type { StateStore, StoredTopology } from './state/store.js';
import { KeyedMutex } from './util/keyed-mutex.js';

/** The key of one shard move: `<shards>/<group>/<shard>`. */
export const moveKey = (shards: number, groupId: number, shard: number): string => `${shards}/${groupId}/${shard}`;

/** A migration in flight: which moves exist and which are cut over (spec S4.5). */
interface Migration {
  /** Moves not yet cut over. */
  readonly moving: Set<string>;
  /** Moves cut over: their shards are read from, and written to, the target owners only. */
  readonly done: Set<string>;
  /** Moves being cut over: writes to indexes with their shard count wait (work/fence.ts). */
  readonly frozen: Set<string>;
}

export class Cluster {
  readonly config: Readonly<Config>;
  readonly hasher: Hasher;
  readonly store: StateStore;
  readonly health: HealthChecker;
  /** Clients of every node in the topology but `removed` ones. */
  readonly nodes = new Map<string, NodeClient>();
  /**
   * Per-index write lock: writes to one index reach the nodes in the order of their task uids, and
   * background repairs never interleave with them.
   */
  readonly writeLock = new KeyedMutex();
  #topology: StoredTopology;
  #migration: Migration | undefined;
  readonly #placements = new Map<number, { serving: Placement; target: Placement; router: WriteRouter }>();
  #observer: NodeCallObserver | undefined;
  /** Per-process request counter: group and replica choice (spec S2.2 `seq mod RG`). */
  #seq = 0;

  constructor(config: Readonly<Config>, hasher: Hasher, store: StateStore) {
    this.config = config;
    this.hasher = hasher;
    this.store = store;
    this.health = new HealthChecker({
      intervalMs: config.health.interval_ms,
      timeoutMs: config.health.timeout_ms,
      unhealthyThreshold: config.health.unhealthy_threshold,
      recoveryThreshold: config.health.recovery_threshold,
    });
    this.#topology = seedTopology(config);
    this.#syncClients();
  }

  /**
   * Loads the topology from the store, seeding it from the config on the very first start (spec
   * S2.7: the config file seeds it; later changes go through the admin API).
   */
  async loadTopology(): Promise<{ readdressed: string[] }> {
    let stored = await this.store.getTopology();
    if (stored === undefined) {
      const seed = seedTopology(this.config);
      if (!(await this.store.putTopology(seed, null))) stored = await this.store.getTopology();
      else stored = seed;
    }
    // A node the config names by a known id is reached at the config's address (it moved, or an
    // engine restarted on another port): the address follows, the identity and the data stay.
    const addresses = new Map(this.config.nodes.map((n) => [n.id, n.address]));
    let readdressed: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const next = readdressNodes(stored!, addresses);
      if (next === stored) break;
      if (await this.store.putTopology(next, stored!.version)) {
        readdressed = stored!.nodes.filter((n) => addresses.has(n.id) && addresses.get(n.id) !== n.address).map((n) => n.id);
        stored = next;
        break;
      }
      stored = await this.store.getTopology();
    }
    this.setTopology(stored!);
    return { readdressed };
  }

  /** The topology (version, nodes and groups with their states) with this cluster's S and RF. */
  get topology(): Topology {
    return { ...this.#topology, shards: this.config.shards, replicationFactor: this.config.replication_factor };
  }

  get storedTopology(): StoredTopology {
    return this.#topology;
  }

  /** Replaces the topology (already persisted by the caller): node clients follow, placements are rebuilt. */
  setTopology(topology: StoredTopology): void {
    this.#topology = topology;
    this.#placements.clear();
    this.#syncClients();
  }

  /**
   * Starts routing a migration: writes to moving shards go to the old and the new owners, reads of
   * a shard use the new owners once its move is in `done`.
   */
  setMigration(moving: Iterable<string>, done: Iterable<string>, frozen: Iterable<string> = []): void {
    this.#migration = { moving: new Set(moving), done: new Set(done), frozen: new Set(frozen) };
    this.#placements.clear();
  }

  /** Whether a cutover holds writes to indexes with `shards` shards now (null: to any index). */
  frozen(shards: number | null): boolean {
    const f = this.#migration?.frozen;
    if (f === undefined || f.size === 0) return false;
    if (shards === null) return true;
    for (const key of f) if (key.startsWith(`${shards}/`)) return true;
    return false;
  }

  /** Ends the migration routing (the topology that completes it is set by the caller). */
  clearMigration(): void {
    this.#migration = undefined;
    this.#placements.clear();
  }

  /** Cuts one move over: its shard is read from and written to the target owners from now on. */
  cutOver(key: string): void {
    if (this.#migration === undefined) return;
    this.#migration.moving.delete(key);
    this.#migration.frozen.delete(key);
    this.#migration.done.add(key);
    this.#placements.clear();
  }

  /** Whether a migration is routing writes (nodes may then hold copies beyond their placement). */
  get migrating(): boolean {
    return this.#migration !== undefined;
  }

  /** Whether shard `shard` (of indexes with `shards` shards) is being moved in some group now. */
  isMoving(shards: number, shard: number): boolean {
    if (this.#migration === undefined) return false;
    for (const g of this.#topology.groups) if (this.#migration.moving.has(moveKey(shards, g.id, shard))) return true;
    return false;
  }

  #views(shards: number): { serving: Placement; target: Placement; router: WriteRouter } {
    let v = this.#placements.get(shards);
    if (v === undefined) {
      const topology = { ...this.topology, shards };
      const target = new Placement(topology, this.hasher, 'target');
      const m = this.#migration;
      const serving = m ? new Placement(topology, this.hasher, 'serving', { target, done: (g, s) => m.done.has(moveKey(shards, g, s)) }) : new Placement(topology, this.hasher, 'serving');
      v = { serving, target, router: m ? new DualWritePlan(serving, target) : serving };
      this.#placements.set(shards, v);
    }
    return v;
  }

  /**
   * The placement reads use for an index with `shards` shards: owners that hold each shard
   * completely (a moved shard's new owners once it is cut over).
   */
  placement(shards: number): Placement {
    return this.#views(shards).serving;
  }

  /** The placement the current topology changes lead to. */
  targetPlacement(shards: number): Placement {
    return this.#views(shards).target;
  }

  /** Where writes go: the serving owners, plus the target owners of shards being moved. */
  writeRouter(shards: number): WriteRouter {
    return this.#views(shards).router;
  }

  nextSeq(): number {
    const s = this.#seq;
    this.#seq = (s + 1) % Number.MAX_SAFE_INTEGER;
    return s;
  }

  node(id: string): NodeClient {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`unknown node ${id}`);
    return n;
  }

  /** Attaches the call observer to every node, present and future. */
  observeNodes(observer: NodeCallObserver | undefined): void {
    this.#observer = observer;
    for (const n of this.nodes.values()) n.observe(observer);
  }

  /**
   * Healthy nodes first (in a rotating order), then the others: for reads any node can answer.
   * Joining nodes come last: they may not hold every index or key yet.
   */
  readOrder(opts: { rotate?: boolean } = {}): NodeClient[] {
    const all = [...this.nodes.values()];
    const start = opts.rotate === false ? 0 : this.nextSeq() % Math.max(1, all.length);
    const rotated = [...all.slice(start), ...all.slice(0, start)];
    const joining = new Set(this.#topology.nodes.filter((n) => n.state === 'joining').map((n) => n.id));
    const rank = (n: NodeClient) => (joining.has(n.id) ? 2 : this.health.isHealthy(n.id) ? 0 : 1);
    return [0, 1, 2].flatMap((r) => rotated.filter((n) => rank(n) === r));
  }

  /** Creates clients for new nodes and closes those of nodes that left the topology. */
  #syncClients(): void {
    const wanted = new Map(this.#topology.nodes.filter((n) => n.state !== 'removed').map((n) => [n.id, n]));
    for (const [id, client] of this.nodes) {
      if (wanted.get(id)?.address === client.address) continue;
      this.nodes.delete(id);
      this.health.remove(id);
      void client.close();
    }
    for (const n of wanted.values()) {
      if (this.nodes.has(n.id)) continue;
      const client = new NodeClient({
        id: n.id,
        address: n.address,
        apiKey: this.config.node_master_key,
        timeoutMs: this.config.scatter.node_timeout_ms,
        connections: this.config.connection_pool_per_node.max_total,
        keepAliveTimeoutMs: this.config.connection_pool_per_node.idle_timeout_s * 1000,
      });
      client.observe(this.#observer);
      this.nodes.set(n.id, client);
      this.health.add(client);
    }
  }

  async close(): Promise<void> {
    this.health.stop();
    await Promise.all([...this.nodes.values()].map((n) => n.close()));
  }
}

/** The topology the config describes: version 1, every node and group active. */
export function seedTopology(config: Readonly<Config>): StoredTopology {
  return {
    version: 1,
    nodes: config.nodes.map((n) => ({ id: n.id, address: n.address, group: n.replica_group, state: 'active' as const })),
    groups: Array.from({ length: config.replica_groups }, (_, id) => ({ id, state: 'active' as const })),
  };
}
