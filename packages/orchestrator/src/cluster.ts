/**
 * The running cluster as the API layer sees it: node clients, their health, the placement of shards
 * (one per shard count S, rebuilt when the topology changes), and the state store. Built once by
 * `main`, then injected.
 */
import type { Config } from './config.js';
import type { Hasher } from './core/hash.js';
import { Placement, type Topology } from './core/placement.js';
import { HealthChecker } from './nodes/health.js';
import { NodeClient } from './nodes/node-client.js';
import type { StateStore } from './state/store.js';
import { KeyedMutex } from './util/keyed-mutex.js';

export class Cluster {
  readonly config: Readonly<Config>;
  readonly hasher: Hasher;
  readonly store: StateStore;
  readonly health: HealthChecker;
  readonly nodes = new Map<string, NodeClient>();
  /**
   * Per-index write lock: writes to one index reach the nodes in the order of their task uids, and
   * background repairs never interleave with them.
   */
  readonly writeLock = new KeyedMutex();
  #topology: Topology;
  readonly #placements = new Map<number, Placement>();
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
    for (const n of config.nodes) {
      const client = new NodeClient({
        id: n.id,
        address: n.address,
        apiKey: config.node_master_key,
        timeoutMs: config.scatter.node_timeout_ms,
        connections: config.connection_pool_per_node.max_total,
        keepAliveTimeoutMs: config.connection_pool_per_node.idle_timeout_s * 1000,
      });
      this.nodes.set(n.id, client);
      this.health.add(client);
    }
    this.#topology = {
      version: 1,
      shards: config.shards,
      replicationFactor: config.replication_factor,
      nodes: config.nodes.map((n) => ({ id: n.id, address: n.address, group: n.replica_group, state: 'active' as const })),
      groups: Array.from({ length: config.replica_groups }, (_, id) => ({ id, state: 'active' as const })),
    };
  }

  get topology(): Topology {
    return this.#topology;
  }

  /** The placement of an index with `shards` shards under the current topology. */
  placement(shards: number): Placement {
    let p = this.#placements.get(shards);
    if (p === undefined) {
      p = new Placement({ ...this.#topology, shards }, this.hasher, 'serving');
      this.#placements.set(shards, p);
    }
    return p;
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

  /** Healthy nodes first (in a rotating order), then the others: for reads any node can answer. */
  readOrder(): NodeClient[] {
    const all = [...this.nodes.values()];
    const start = this.nextSeq() % Math.max(1, all.length);
    const rotated = [...all.slice(start), ...all.slice(0, start)];
    return [...rotated.filter((n) => this.health.isHealthy(n.id)), ...rotated.filter((n) => !this.health.isHealthy(n.id))];
  }

  async close(): Promise<void> {
    this.health.stop();
    await Promise.all([...this.nodes.values()].map((n) => n.close()));
  }
}
