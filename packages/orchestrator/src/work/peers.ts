/**
 * Peer discovery and Mode A ownership (spec S14.5). The live peer set comes from one of:
 *  - `single`: this process alone (the SQLite backend);
 *  - `static`: a configured list of orchestrator URLs, each probed on `/health`;
 *  - `dns`: SRV records of a headless Service (Kubernetes), which lists ready pods only;
 *  - `redis`: heartbeats in the shared store (any platform; the default with the redis backend).
 * It is refreshed three times per `refresh_interval_s`; a Redis heartbeat lives two thirds of the
 * interval, so a killed peer leaves everyone's set within one interval.
 */
import { promises as dns } from 'node:dns';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Hasher } from '../core/hash.js';
import { ownerOf, selfTarget } from '../core/rendezvous.js';
import type { StateStore } from '../state/store.js';
import { repeat, type Repeating } from '../util/repeat.js';
import type { Ownership } from './ownership.js';

export type DiscoveryMode = 'single' | 'static' | 'dns' | 'redis';

export class PeerSet implements Ownership {
  readonly self: string;
  readonly mode: DiscoveryMode;
  #live: readonly string[];
  readonly #store: StateStore;
  readonly #config: Readonly<Config>;
  readonly #hasher: Hasher;
  readonly #log: Logger;
  readonly #periodMs: number;
  #loop: Repeating | undefined;
  readonly #listeners: ((peers: readonly string[]) => void)[] = [];

  constructor(store: StateStore, config: Readonly<Config>, hasher: Hasher, log: Logger) {
    this.#store = store;
    this.#config = config;
    this.#hasher = hasher;
    this.#log = log;
    const d = config.peer_discovery;
    this.mode = d.mode === 'auto' ? (config.task_store.backend === 'redis' ? 'redis' : 'single') : d.mode;
    this.self = d.self || process.env.POD_NAME || `${hostname()}:${process.pid}`;
    this.#live = [this.self];
    this.#periodMs = (d.refresh_interval_s * 1000) / 3;
  }

  /** The live peers, this one included, sorted. */
  get peers(): readonly string[] {
    return this.#live;
  }

  owns(item: string): boolean {
    return this.#live.length === 1 || ownerOf(item, this.#live, this.#hasher) === this.self;
  }

  /** Called whenever the live set changes. */
  onChange(listener: (peers: readonly string[]) => void): void {
    this.#listeners.push(listener);
  }

  /** Joins (a first refresh completes before it resolves), then refreshes periodically. */
  async start(): Promise<void> {
    if (this.mode === 'single') return;
    await this.refresh();
    this.#loop = repeat(() => this.refresh(), this.#periodMs, () => {});
  }

  /** One discovery round. A failed round keeps the last known set. */
  async refresh(): Promise<void> {
    try {
      const found = await this.#discover();
      const next = [...new Set([...found, this.self])].sort();
      if (next.join('\n') !== this.#live.join('\n')) {
        this.#log.info({ peers: next, self: this.self }, 'orchestrator peers changed');
        this.#live = next;
        for (const l of this.#listeners) l(next);
      }
    } catch (e) {
      this.#log.warn({ err: e, mode: this.mode }, 'peer discovery failed; keeping the last known peers');
    }
  }

  async #discover(): Promise<string[]> {
    const d = this.#config.peer_discovery;
    switch (this.mode) {
      case 'single':
        return [];
      case 'redis':
        await this.#store.heartbeatPeer(this.self, Math.ceil(this.#periodMs * 2));
        return this.#store.livePeers();
      case 'static': {
        const up = await Promise.all(
          d.peers.map(async (url) => {
            if (url === this.self) return url;
            try {
              const res = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(this.#config.health.timeout_ms) });
              await res.body?.cancel();
              return res.ok ? url : undefined;
            } catch {
              return undefined;
            }
          }),
        );
        return up.filter((u): u is string => u !== undefined);
      }
      case 'dns': {
        const targets = (await dns.resolveSrv(d.service_name)).map((r) => r.name.toLowerCase().replace(/\.$/, ''));
        const me = selfTarget(targets, { ip: process.env.POD_IP, name: process.env.POD_NAME });
        // This pod's own record names it; the others are known by theirs.
        return targets.map((t) => (t === me ? this.self : t));
      }
    }
  }

  async close(): Promise<void> {
    await this.#loop?.stop();
    if (this.mode === 'redis') await this.#store.removePeer(this.self).catch(() => {});
  }
}
