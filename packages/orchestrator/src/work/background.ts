/**
 * Background work split between orchestrator processes (spec S14.5), one object per process:
 *  - `ownership` (Mode A): `ownership.owns(item)` says whether this process runs the periodic work
 *    of an item (a shard: `shardItem(index, shard)`, an (index, node) pair, a task uid…);
 *  - `leases` (Mode B): `leases.run(scope, fn)` / `leases.hold(scope, fn)` for one-leader work;
 *  - `jobs` (Mode C): `jobs.enqueue(type, params)` and `jobs.handle(type, fn)` for queued work;
 *  - `periodic(name, everyMs, items, fn)`: runs `fn(item)` each cycle for the items this process owns.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Hasher } from '../core/hash.js';
import type { StateStore } from '../state/store.js';
import { Loops, repeat, type Repeating } from '../util/repeat.js';
import { JobWorker } from './jobs.js';
import { Leases } from './leases.js';
import { PeerSet } from './peers.js';

export class Background {
  readonly peers: PeerSet;
  readonly leases: Leases;
  readonly jobs: JobWorker;
  readonly #log: Logger;
  readonly #loops = new Loops();

  constructor(store: StateStore, config: Readonly<Config>, hasher: Hasher, log: Logger) {
    this.#log = log;
    this.peers = new PeerSet(store, config, hasher, log);
    const le = config.leader_election;
    this.leases = new Leases(store, this.peers.self, { ttlMs: le.lease_ttl_s * 1000, renewMs: le.renew_interval_s * 1000 }, log);
    const j = config.jobs;
    this.jobs = new JobWorker(
      store,
      this.peers.self,
      { claimTtlMs: j.claim_ttl_s * 1000, heartbeatMs: j.heartbeat_interval_s * 1000, pollMs: j.poll_interval_ms },
      log,
    );
  }

  /** Mode A: whether this process runs the periodic work of `item`. */
  get ownership(): PeerSet {
    return this.peers;
  }

  async start(): Promise<void> {
    await this.peers.start();
  }

  /**
   * Every `everyMs`, runs `fn` for each item of `items()` this process owns (items run one after
   * another; a failing item is logged and the cycle goes on).
   */
  periodic(name: string, everyMs: number, items: () => Promise<readonly string[]> | readonly string[], fn: (item: string) => Promise<void>): Repeating {
    let stopped = false;
    const cycle = async () => {
      for (const item of await items()) {
        if (stopped) return;
        if (!this.peers.owns(item)) continue;
        try {
          await fn(item);
        } catch (e) {
          this.#log.warn({ err: e, job: name, item }, 'periodic job failed');
        }
      }
    };
    const loop = repeat(cycle, everyMs, (e) => this.#log.warn({ err: e, job: name }, 'periodic job failed'));
    return this.#loops.add(loop, () => (stopped = true));
  }

  async close(): Promise<void> {
    await this.#loops.stopAll();
    await this.leases.close();
    await this.jobs.close();
    await this.peers.close();
  }
}
