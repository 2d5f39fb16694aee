/**
 * The rebalancer (spec S2.7, S4.5): carries out a topology change by moving only the shards whose
 * owners change, without a reindex and without losing a write.
 *
 * One rebalance at a time (an in-process lock; a cluster-wide lease wraps it where several
 * processes run). Its state lives in the store, so a restart resumes it:
 * 1. `preparing`: every joining node gets every index (same primary key, the settings a serving
 *    node holds, the reserved filterable field included).
 * 2. `copying`: writes to moving shards go to the old and the new owners (dual write). Each move
 *    pages `_miroir_shard = s` from a healthy complete owner and writes the documents, as read, to
 *    the new owners, committing its offset after every page. Then the cutover: writes to the
 *    indexes concerned are frozen in every orchestrator (the move is `cutover`, behind a routing
 *    barrier, work/fence.ts), the nodes apply every write, the new owner's copy is compared with
 *    the source's (fingerprints, core/fingerprint.ts), what differs is written or deleted (the
 *    delta pass) and verified again, and ownership flips: the shard is read from and written to
 *    its new owners only. A move whose source or target is unreachable or catching up on missed
 *    writes pauses and is retried.
 * 3. `finalizing`: once every orchestrator routes by the cut-over placement, and after a grace
 *    delay (reads planned before a cutover), the moved shards are deleted from the old owners that
 *    stay, and the completed topology (version + 1) is committed.
 *
 * Each step that changes where writes go advances the routing epoch; the start of the copy, each
 * cutover and the cleanup wait for every live orchestrator to route by it (the fence's barrier), so
 * a write planned through another process under an older routing is never left on old owners only.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram } from 'prom-client';
import { moveKey, type Cluster } from '../cluster.js';
import { SHARD_FIELD } from '../core/documents.js';
import { divergentKeys } from '../core/fingerprint.js';
import { diffPlacements, Placement } from '../core/placement.js';
import { completedTopology, hasPendingChanges, TopologyChangeError } from '../core/topology.js';
import { miroirError } from '../errors.js';
import { NodeHttpError, type NodeClient } from '../nodes/node-client.js';
import type { Metrics } from '../obs/metrics.js';
import type { IndexMeta, MigrationMove, MigrationProgress, RebalanceState, StoredTopology } from '../state/store.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import type { Handoff } from './handoff.js';
import type { RoutingFence } from './fence.js';
import type { HeldLease, Leases } from './leases.js';
import { fingerprintShard, readDocuments, shardCount, shardPage, sleep, waitDrained, waitTask, type Doc } from './node-io.js';

const enc = encodeURIComponent;

/** A step cannot go on now (a node is unreachable, catching up, or a check failed): retried later. */
class Paused extends Error {}

/** One move as `GET /_miroir/rebalance/status` shows it. */
export interface MoveStatus {
  shards: number;
  group: number;
  shard: number;
  state: MigrationMove['state'];
  from: string[];
  to: string[];
  source: string | null;
  documents_copied: number;
  documents_total: number;
  error: string | null;
}

export interface RebalanceStatus {
  state: 'idle' | 'running' | 'paused';
  id: string | null;
  phase: RebalanceState['phase'] | null;
  started_at: string | null;
  topology_version: number;
  moves_total: number;
  moves_done: number;
  moves_paused: number;
  documents_moved: number;
  /** Documents the moves will copy (the sources' counts when each copy began; estimated before). */
  documents_total: number;
  rate_docs_per_sec: number | null;
  eta_seconds: number | null;
  moves: MoveStatus[];
  last: { id: string; finished_at: string; duration_seconds: number; documents_moved: number; topology_version: number } | null;
}

export class Rebalancer {
  readonly #cluster: Cluster;
  readonly #log: Logger;
  readonly #handoff: Handoff;
  readonly #opts: Cluster['config']['rebalancer'];
  readonly #m: { inProgress: Gauge; migrated: Counter; duration: Histogram };
  /** Serializes topology changes and rebalance starts in this process. */
  readonly #lock = new KeyedMutex();
  #state: RebalanceState | undefined;
  readonly #progress = new Map<string, MigrationProgress>();
  #running: Promise<void> | undefined;
  #closed = false;
  /** The lease this process runs the rebalance under (Mode B, scope `rebalancer`), while it runs it. */
  #lease: HeldLease | undefined;
  readonly #leases: Leases | undefined;
  readonly #fence: RoutingFence;
  #wake: (() => void) | undefined;
  /** Documents copied since this process started running the current rebalance (for the rate). */
  #runMoved = 0;
  #runStartedAt = 0;
  /** When the throttle lets the next page go (ms). */
  #nextSlot = 0;
  #last: RebalanceStatus['last'] = null;
  #follower: NodeJS.Timeout | undefined;
  #syncing = false;
  /**
   * Whether this process runs the rebalance in `#state` (it planned it, or resumed it at start);
   * false when it only follows one another process runs.
   */
  #owned = false;

  constructor(deps: { cluster: Cluster; log: Logger; metrics: Metrics; handoff: Handoff; fence: RoutingFence; leases?: Leases }) {
    this.#cluster = deps.cluster;
    this.#leases = deps.leases;
    this.#fence = deps.fence;
    this.#log = deps.log.child({ component: 'rebalancer' });
    this.#handoff = deps.handoff;
    this.#opts = deps.cluster.config.rebalancer;
    const registers = [deps.metrics.registry];
    this.#m = {
      inProgress: new Gauge({
        name: 'miroir_rebalance_in_progress',
        help: '1 while a rebalance (topology change) is being carried out, else 0.',
        registers,
        collect: () => this.#m.inProgress.set(this.#state === undefined ? 0 : 1),
      }),
      migrated: new Counter({ name: 'miroir_rebalance_documents_migrated_total', help: 'Documents copied to new shard owners by the rebalancer.', registers }),
      duration: new Histogram({
        name: 'miroir_rebalance_duration_seconds',
        help: 'Duration of completed rebalances.',
        buckets: [1, 5, 15, 60, 300, 900, 3600, 14_400, 86_400],
        registers,
      }),
    };
  }

  /**
   * Follows changes another process made through the shared store: a newer topology version, and
   * the routing of a rebalance it runs (moves started and cut over). Runs every health interval
   * while this process runs no rebalance itself.
   */
  follow(): void {
    this.#follower ??= setInterval(() => {
      if (this.#running !== undefined || this.#syncing) return;
      this.#syncing = true;
      void this.#lock
        .run(['topology'], () => this.#sync())
        .catch((e: unknown) => this.#log.warn({ err: (e as Error).message }, 'could not read the topology from the store'))
        .finally(() => (this.#syncing = false));
    }, Math.min(this.#cluster.config.health.interval_ms, this.#cluster.config.leader_election.renew_interval_s * 1000));
    this.#follower.unref();
  }

  /**
   * Loads the topology and the migration's routing from the store (the routing fence calls it).
   * False when it cannot yet: a run is about to take or give up the lease.
   */
  reload(): Promise<boolean> {
    return this.#lock.run(['topology'], () => this.#sync());
  }

  async #sync(): Promise<boolean> {
    if (this.#running !== undefined) {
      // Running the rebalance under a live lease, this process's own routing is the newest.
      if (this.#leases === undefined || (this.#lease !== undefined && !this.#lease.signal.aborted)) return true;
      // About to run it or to find it taken: the state is the run's until then.
      if (this.#lease === undefined) return false;
      // The lease was lost mid-run: this process follows the store like any other.
    }
    const stored = await this.#cluster.store.getTopology();
    if (stored !== undefined && stored.version !== this.#cluster.storedTopology.version) {
      this.#cluster.setTopology(stored);
      this.#log.info({ version: stored.version }, 'topology changed by another process');
    }
    const state = await this.#cluster.store.getRebalance();
    if (this.#running === undefined) this.#owned = false;
    this.#state = state;
    if (state === undefined || state.phase === 'preparing') this.#cluster.clearMigration();
    else this.#route(state);
    // A rebalance whose runner stopped (its lease free for a renew interval: the process that just
    // planned one takes the lease a moment after storing it): this process takes it over.
    if (state === undefined || this.#leases === undefined || this.#closed) return true;
    if ((await this.#cluster.store.currentLease('rebalancer')) !== undefined) {
      this.#orphan = undefined;
      return true;
    }
    const renewMs = this.#cluster.config.leader_election.renew_interval_s * 1000;
    if (this.#orphan?.id !== state.id) this.#orphan = { id: state.id, since: Date.now() };
    else if (Date.now() - this.#orphan.since >= renewMs) {
      this.#orphan = undefined;
      await this.#adopt(state);
    }
    return true;
  }

  /** A stored rebalance seen without a runner (its lease free), and since when. */
  #orphan: { id: string; since: number } | undefined;

  /** Becomes the runner of a stored rebalance: its committed pages are loaded, then it runs. */
  async #adopt(state: RebalanceState): Promise<void> {
    this.#state = state;
    this.#owned = true;
    this.#progress.clear();
    for (const p of await this.#cluster.store.listMigrationProgress()) this.#progress.set(`${p.move}|${p.index}`, p);
    if (state.phase !== 'preparing') this.#route(state);
    this.#log.info({ id: state.id, phase: state.phase }, 'resuming a rebalance');
    this.#launch();
  }

  /** Closing, or the lease this process ran the rebalance under was lost: stop acting. */
  get #stopped(): boolean {
    return this.#closed || this.#lease?.signal.aborted === true;
  }

  /** A rebalance is planned or running: topology changes wait for it. */
  get busy(): boolean {
    return this.#state !== undefined;
  }

  /**
   * Resumes a rebalance the store holds (a restart mid-migration): its routing is restored before
   * the process serves, then it runs in the background.
   */
  async resume(): Promise<void> {
    const state = await this.#cluster.store.getRebalance();
    if (state === undefined) return;
    await this.#adopt(state);
  }

  /**
   * Applies a topology change: `change` computes the next topology from the current one; it is
   * persisted (compare-and-set on the version) and a rebalance starts.
   */
  async change(change: (t: StoredTopology) => StoredTopology): Promise<{ topology: StoredTopology; rebalance: RebalanceStatus }> {
    return this.#lock.run(['topology'], async () => {
      if (this.busy) {
        throw miroirBusy();
      }
      const current = this.#cluster.storedTopology;
      let next: StoredTopology;
      try {
        next = change(current);
      } catch (e) {
        if (!(e instanceof TopologyChangeError)) throw e;
        throw miroirError(e.kind === 'invalid' ? 'miroir_invalid_topology_change' : 'miroir_node_not_found', e.message);
      }
      if (!(await this.#cluster.store.putTopology(next, current.version))) {
        throw miroirBusy('The topology was changed by another process; retry.');
      }
      this.#cluster.setTopology(next);
      await this.#fence.advance();
      this.#log.info({ version: next.version }, 'topology changed');
      return { topology: next, rebalance: await this.#startLocked() };
    });
  }

  /** Starts (or resumes, or joins) a rebalance of the pending topology changes. */
  async start(): Promise<RebalanceStatus> {
    return this.#lock.run(['topology'], () => this.#startLocked());
  }

  async #startLocked(): Promise<RebalanceStatus> {
    if (this.#state === undefined) {
      const topology = this.#cluster.storedTopology;
      if (!hasPendingChanges(topology)) return this.status();
      this.#state = await this.#plan(topology);
      this.#owned = true;
      await this.#cluster.store.putRebalance(this.#state);
      this.#log.info({ id: this.#state.id, moves: this.#state.moves.length }, 'rebalance planned');
    }
    // A rebalance another process runs is only followed here (a cluster-wide lease decides who runs).
    if (!this.#owned) return this.status();
    this.#wake?.();
    this.#launch();
    return this.status();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#follower);
    this.#wake?.();
    await this.#running?.catch(() => undefined);
  }

  status(): RebalanceStatus {
    const s = this.#state;
    const moves: MoveStatus[] = (s?.moves ?? []).map((m) => {
      let copied = 0;
      let total = 0;
      for (const [key, p] of this.#progress) {
        if (!key.startsWith(`${m.key}|`)) continue;
        copied += p.offset;
        total += Math.max(p.total, p.offset);
      }
      return {
        shards: m.shards,
        group: m.groupId,
        shard: m.shard,
        state: m.state,
        from: m.before,
        to: m.after,
        source: m.source,
        documents_copied: copied,
        documents_total: total,
        error: m.error,
      };
    });
    const started = moves.filter((m) => m.state !== 'pending');
    const moved = moves.reduce((n, m) => n + m.documents_copied, 0);
    const known = started.reduce((n, m) => n + m.documents_total, 0);
    // Moves not started yet are estimated at the average of the started ones.
    const total = started.length === 0 ? 0 : Math.round(known + (known / started.length) * (moves.length - started.length));
    const elapsed = (Date.now() - this.#runStartedAt) / 1000;
    const rate = this.#running !== undefined && elapsed > 0 && this.#runMoved > 0 ? this.#runMoved / elapsed : null;
    const paused = moves.filter((m) => m.state === 'paused').length;
    return {
      // A rebalance another process runs shows as running here.
      state: s === undefined ? 'idle' : !this.#owned ? 'running' : this.#running === undefined || (paused > 0 && paused === moves.filter((m) => m.state !== 'done').length) ? 'paused' : 'running',
      id: s?.id ?? null,
      phase: s?.phase ?? null,
      started_at: s?.startedAt ?? null,
      topology_version: this.#cluster.storedTopology.version,
      moves_total: moves.length,
      moves_done: moves.filter((m) => m.state === 'done').length,
      moves_paused: paused,
      documents_moved: moved,
      documents_total: Math.max(total, moved),
      rate_docs_per_sec: rate,
      eta_seconds: rate === null ? null : Math.max(0, total - moved) / rate,
      moves,
      last: this.#last,
    };
  }

  /** The moves from the serving to the target placement, for every shard count in use. */
  async #plan(topology: StoredTopology): Promise<RebalanceState> {
    const metas = await this.#cluster.store.listIndexMeta();
    const counts = [...new Set([this.#cluster.config.shards, ...metas.map((m) => m.shards)])].sort((a, b) => a - b);
    const draining = new Set(topology.groups.filter((g) => g.state === 'draining').map((g) => g.id));
    const moves: MigrationMove[] = [];
    for (const shards of counts) {
      const t = { ...topology, shards, replicationFactor: this.#cluster.config.replication_factor };
      const serving = new Placement(t, this.#cluster.hasher, 'serving');
      const target = new Placement(t, this.#cluster.hasher, 'target');
      for (const m of diffPlacements(serving, target)) {
        // A group being removed stops serving at once; its shards go nowhere.
        if (draining.has(m.groupId)) continue;
        moves.push({
          key: moveKey(shards, m.groupId, m.shard),
          shards,
          groupId: m.groupId,
          shard: m.shard,
          before: [...m.before],
          after: [...m.after],
          gained: [...m.gained],
          lost: [...m.lost],
          state: 'pending',
          source: null,
          error: null,
        });
      }
    }
    return { id: randomUUID(), fromVersion: topology.version, phase: 'preparing', startedAt: new Date().toISOString(), moves };
  }

  #route(state: RebalanceState): void {
    this.#cluster.setMigration(
      state.moves.filter((m) => m.state !== 'done').map((m) => m.key),
      state.moves.filter((m) => m.state === 'done').map((m) => m.key),
      state.moves.filter((m) => m.state === 'cutover').map((m) => m.key),
    );
  }

  /**
   * Advances the routing epoch (the new routing is already in the store) and waits until every
   * live orchestrator routes by it with no write planned under an older one still in flight.
   * Returns false when this process stopped running the rebalance meanwhile.
   */
  async #fenced(): Promise<boolean> {
    try {
      await this.#fence.advanceAndWait(this.#lease?.signal);
      return !this.#stopped;
    } catch (e) {
      if (this.#stopped) return false;
      throw e;
    }
  }

  /**
   * Runs the rebalance, under the `rebalancer` lease when the process has leases: of several
   * orchestrators one runs it, and when it dies another takes over (follow()) within the lease's
   * TTL plus two renew intervals, resuming from the last committed page.
   */
  #launch(): void {
    const run = async () => {
      if (this.#leases === undefined) return this.#run();
      try {
        await this.#leases.run('rebalancer', async (lease) => {
          this.#lease = lease;
          try {
            await this.#run();
          } finally {
            this.#lease = undefined;
          }
        });
      } finally {
        // Another process holds the lease (it runs the rebalance), or this one stopped running it
        // (lease lost, or a step failed): from now on this process follows, and takes the
        // rebalance over if its lease falls free.
        if (this.#state !== undefined) this.#owned = false;
      }
    };
    this.#running ??= run()
      .catch((e: unknown) => this.#log.error({ err: e }, 'rebalance stopped'))
      .finally(() => (this.#running = undefined));
  }

  async #save(): Promise<void> {
    // A runner that lost its lease must not write over its successor's state.
    if (this.#stopped) throw new Paused('this process no longer runs the rebalance');
    await this.#cluster.store.putRebalance(this.#state!);
  }

  async #run(): Promise<void> {
    const s = this.#state!;
    this.#runStartedAt = Date.now();
    this.#runMoved = 0;
    if (s.phase === 'preparing') {
      // Every orchestrator knows the joining nodes before they get their indexes: index and
      // settings changes sent from then on reach them too.
      if (!(await this.#fenced())) return;
      const joining = this.#cluster.storedTopology.nodes.filter((n) => n.state === 'joining').map((n) => n.id);
      await this.#retrying('prepare new nodes', async () => {
        for (const id of joining) await this.#prepareNode(id);
      });
      if (this.#stopped) return;
      s.phase = 'copying';
      await this.#save();
      this.#route(s);
      // Every orchestrator writes to the new owners too, and filters reads by shard, before a page is copied.
      if (!(await this.#fenced())) return;
    }
    if (s.phase === 'copying') {
      await this.#copyAll(s);
      if (this.#stopped) return;
      s.phase = 'finalizing';
      await this.#save();
    }
    await this.#retrying('finalize', () => this.#finalize(s));
  }

  /** Runs `step` until it succeeds, pausing `retry_interval_ms` after each failure. */
  async #retrying(what: string, step: () => Promise<void>): Promise<void> {
    while (!this.#stopped) {
      try {
        return await step();
      } catch (e) {
        this.#log.warn({ err: (e as Error).message }, `rebalance could not ${what}; retrying`);
        await this.#pause();
      }
    }
  }

  async #pause(): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.#opts.retry_interval_ms);
      t.unref();
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  async #copyAll(s: RebalanceState): Promise<void> {
    while (!this.#stopped) {
      const todo = s.moves.filter((m) => m.state !== 'done');
      if (todo.length === 0) return;
      let next = 0;
      const worker = async () => {
        while (next < todo.length && !this.#stopped) {
          const m = todo[next++]!;
          try {
            await this.#migrate(m);
          } catch (e) {
            if (this.#stopped) return;
            const frozen = m.state === 'cutover';
            m.state = 'paused';
            m.error = (e as Error).message;
            if (frozen) {
              // The cutover gave up: writes to its indexes go on (dual written) until it is retried,
              // here at once, in the other processes once the store says so.
              this.#route(s);
              await this.#retrying('release a cutover', async () => {
                await this.#save();
                await this.#fence.advance();
              });
            } else {
              await this.#save();
            }
            this.#log.warn({ move: m.key, err: m.error }, 'shard move paused');
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.#opts.max_concurrent_migrations, todo.length) }, worker));
      if (s.moves.some((m) => m.state !== 'done')) await this.#pause();
    }
  }

  async #indexes(shards: number): Promise<IndexMeta[]> {
    return (await this.#cluster.store.listIndexMeta()).filter((m) => m.shards === shards && m.primaryKey !== null);
  }

  async #migrate(m: MigrationMove): Promise<void> {
    // A cutover the previous runner left unfinished: the copies are complete, the cutover is redone.
    if (m.state === 'cutover') return this.#cutover(m);
    m.state = 'copying';
    m.error = null;
    await this.#save();
    for (const meta of await this.#indexes(m.shards)) {
      if (this.#stopped) return;
      await this.#copy(m, meta.uid, meta.primaryKey!);
    }
    if (this.#stopped) return;
    await this.#cutover(m);
  }

  /** A node that can take part in a move now: reachable and not catching up on missed writes. */
  #usable(id: string): boolean {
    return this.#cluster.nodes.has(id) && this.#cluster.health.isHealthy(id) && !this.#handoff.pending(id);
  }

  /** A complete owner of the moving shard: an old owner in its group, else an owner in another serving group. */
  #source(m: MigrationMove): NodeClient {
    const candidates = [...(m.source === null ? [] : [m.source]), ...m.before];
    const placement = this.#cluster.placement(m.shards);
    for (let gi = 0; gi < placement.groupCount; gi++) {
      if (placement.groupIds[gi] !== m.groupId && placement.groupStates[gi] === 'active') candidates.push(...placement.owners(gi, m.shard));
    }
    const id = candidates.find((c) => !m.gained.includes(c) && this.#usable(c));
    if (id === undefined) throw new Paused(`no healthy owner of shard ${m.shard} can be read`);
    m.source = id;
    return this.#cluster.node(id);
  }

  #targets(m: MigrationMove): NodeClient[] {
    const down = m.gained.filter((id) => !this.#usable(id));
    if (down.length > 0) throw new Paused(`new owner(s) ${down.join(', ')} unreachable or catching up`);
    return m.gained.map((id) => this.#cluster.node(id));
  }

  /** Copies one index's share of a moving shard, page by page, from the last committed page on. */
  async #copy(m: MigrationMove, uid: string, pk: string): Promise<void> {
    const key = `${m.key}|${uid}`;
    let p = this.#progress.get(key);
    if (p?.complete) return;
    const targets = this.#targets(m);
    if (targets.length === 0) return;
    const source = this.#source(m);
    const commit = async (next: MigrationProgress) => {
      await this.#cluster.store.putMigrationProgress(next);
      this.#progress.set(key, next);
      p = next;
    };
    try {
      if (p === undefined) await commit({ move: m.key, index: uid, offset: 0, total: await shardCount(source, uid, m.shard), complete: false });
      const limit = this.#opts.batch_size;
      while (!p!.complete && !this.#stopped) {
        const page = await shardPage(source, uid, m.shard, p!.offset, limit);
        if (page.results.length > 0) {
          const raw = JSON.stringify(page.results);
          for (const t of targets) {
            await t.request({ method: 'POST', path: `/indexes/${enc(uid)}/documents?primaryKey=${enc(pk)}`, raw });
          }
          this.#runMoved += page.results.length;
          this.#m.migrated.inc(page.results.length);
        }
        await commit({ ...p!, offset: p!.offset + page.results.length, total: Math.max(p!.total, page.total), complete: page.results.length < limit });
        await this.#throttle(page.results.length);
      }
    } catch (e) {
      // The index was deleted meanwhile: nothing left to copy.
      if (e instanceof NodeHttpError && e.status === 404) return void (await commit({ move: m.key, index: uid, offset: p?.offset ?? 0, total: p?.total ?? 0, complete: true }));
      throw e;
    }
  }

  async #throttle(docs: number): Promise<void> {
    const rate = this.#opts.throttle_docs_per_sec;
    if (rate === 0 || docs === 0) return;
    const now = Date.now();
    const wait = Math.max(0, this.#nextSlot - now);
    this.#nextSlot = Math.max(now, this.#nextSlot) + (docs * 1000) / rate;
    if (wait > 0) await sleep(wait);
  }

  /**
   * Spec S4.5 cutover: writes to the indexes concerned are frozen in every orchestrator (the move
   * is `cutover` in the store, behind a routing barrier), the nodes apply what they have, the delta
   * pass makes the new owners' copies equal to the source's, the copies are verified, and
   * ownership flips, persisted before the writes resume.
   */
  async #cutover(m: MigrationMove): Promise<void> {
    const s = this.#state!;
    m.state = 'cutover';
    m.error = null;
    await this.#save();
    this.#route(s);
    if (!(await this.#fenced())) return;
    const targets = this.#targets(m);
    if (targets.length > 0) {
      const source = this.#source(m);
      for (const meta of await this.#indexes(m.shards)) await this.#delta(source, targets, meta.uid, meta.primaryKey!, m.shard);
    }
    if (this.#stopped) return;
    m.state = 'done';
    await this.#save();
    this.#cluster.cutOver(m.key);
    await this.#fence.advance();
    this.#log.info({ move: m.key, from: m.before, to: m.after }, 'shard cut over');
  }

  async #delta(source: NodeClient, targets: NodeClient[], uid: string, pk: string, shard: number): Promise<void> {
    try {
      await Promise.all([source, ...targets].map((n) => waitDrained(n, uid)));
    } catch (e) {
      if (e instanceof NodeHttpError && e.status === 404) return;
      throw e;
    }
    const batch = this.#opts.batch_size;
    const want = await fingerprintShard(source, uid, pk, shard, batch);
    for (const t of targets) {
      const keys = divergentKeys([want, await fingerprintShard(t, uid, pk, shard, batch)]);
      if (keys.length === 0) continue;
      const docs = await readDocuments(source, uid, pk, keys);
      const writes: Doc[] = [];
      const deletes: string[] = [];
      for (const k of keys) {
        const d = docs.get(k);
        if (d) writes.push(d.doc);
        else deletes.push(k);
      }
      const tasks: number[] = [];
      if (writes.length > 0) {
        const { body } = await t.request<{ taskUid: number }>({ method: 'POST', path: `/indexes/${enc(uid)}/documents?primaryKey=${enc(pk)}`, raw: JSON.stringify(writes) });
        tasks.push(body.taskUid);
      }
      if (deletes.length > 0) {
        const { body } = await t.request<{ taskUid: number }>({ method: 'POST', path: `/indexes/${enc(uid)}/documents/delete-batch`, body: deletes });
        tasks.push(body.taskUid);
      }
      for (const task of tasks) {
        const done = await waitTask(t, task);
        if (done.status !== 'succeeded') throw new Paused(`the delta pass failed on ${t.id}: ${done.error?.message ?? done.status}`);
      }
      this.#runMoved += writes.length;
      this.#m.migrated.inc(writes.length);
      this.#log.info({ index: uid, shard, node: t.id, written: writes.length, deleted: deletes.length }, 'delta pass');
      const again = divergentKeys([want, await fingerprintShard(t, uid, pk, shard, batch)]);
      if (again.length > 0) throw new Paused(`shard ${shard} of ${uid} on ${t.id} still differs from its source after the delta pass (${again.length} documents)`);
    }
  }

  /**
   * Creates every index on a joining node with the primary key and settings a serving node holds.
   * API keys are not copied: the cluster's keys live in the state store (api/keys.ts), and a node
   * is only ever reached with the node master key.
   */
  async #prepareNode(id: string): Promise<void> {
    const node = this.#cluster.node(id);
    const joining = new Set(this.#cluster.storedTopology.nodes.filter((n) => n.state !== 'active').map((n) => n.id));
    const refId = [...this.#cluster.nodes.keys()].find((n) => !joining.has(n) && this.#usable(n));
    if (refId === undefined) throw new Paused('no serving node can be read');
    const ref = this.#cluster.node(refId);

    // An index whose creation is still queued on the reference is not listed by it yet: Miroir's
    // own records name it too.
    const listed = (await pages<{ uid: string }>(ref, '/indexes')).map((i) => i.uid);
    const uids = [...new Set([...listed, ...(await this.#cluster.store.listIndexMeta()).map((m) => m.uid)])];
    for (const uid of uids) {
      await this.#cluster.writeLock.run([uid], async () => {
        await waitDrained(ref, uid);
        let idx: { uid: string; primaryKey: string | null };
        try {
          idx = (await ref.request<{ uid: string; primaryKey: string | null }>({ method: 'GET', path: `/indexes/${enc(uid)}` })).body;
        } catch (e) {
          if (e instanceof NodeHttpError && e.status === 404) return;
          throw e;
        }
        const { body: settings } = await ref.request<Record<string, unknown>>({ method: 'GET', path: `/indexes/${enc(idx.uid)}/settings` });
        let exists = true;
        try {
          await node.request({ method: 'GET', path: `/indexes/${enc(idx.uid)}` });
        } catch (e) {
          if (!(e instanceof NodeHttpError && e.status === 404)) throw e;
          exists = false;
        }
        const tasks: number[] = [];
        if (!exists) {
          const { body } = await node.request<{ taskUid: number }>({ method: 'POST', path: '/indexes', body: { uid: idx.uid, primaryKey: idx.primaryKey } });
          tasks.push(body.taskUid);
        }
        const { body } = await node.request<{ taskUid: number }>({ method: 'PATCH', path: `/indexes/${enc(idx.uid)}/settings`, body: settings });
        tasks.push(body.taskUid);
        for (const task of tasks) {
          const done = await waitTask(node, task);
          if (done.status !== 'succeeded') throw new Error(`setting up index ${idx.uid} on ${id} failed: ${done.error?.message ?? done.status}`);
        }
        const meta = await this.#cluster.store.getIndexMeta(idx.uid);
        if (meta !== undefined) await this.#cluster.store.putNodeSettingsVersion(idx.uid, id, meta.settingsVersion);
      });
    }
    this.#log.info({ node: id, from: refId }, 'new node has every index and key');
  }

  async #finalize(s: RebalanceState): Promise<void> {
    if (this.#stopped) return;
    // No orchestrator writes to or plans reads from an old owner any more.
    if (!(await this.#fenced())) return;
    const topology = this.#cluster.storedTopology;
    const final = completedTopology(topology);
    const stays = new Set(final.nodes.filter((n) => n.state === 'active' || n.state === 'failed').map((n) => n.id));
    const cleanup = s.moves.flatMap((m) => m.lost.filter((id) => stays.has(id)).map((id) => ({ m, id })));
    if (cleanup.length > 0) {
      await sleep(this.#opts.cleanup_delay_ms);
      for (const { m, id } of cleanup) {
        if (!this.#usable(id)) throw new Paused(`old owner ${id} unreachable: its copy of shard ${m.shard} is not deleted yet`);
        const node = this.#cluster.node(id);
        for (const meta of await this.#cluster.store.listIndexMeta()) {
          if (meta.shards !== m.shards || this.#stopped) continue;
          try {
            const { body } = await node.request<{ taskUid: number }>({
              method: 'POST',
              path: `/indexes/${enc(meta.uid)}/documents/delete`,
              body: { filter: `${SHARD_FIELD} = ${m.shard}` },
            });
            await waitTask(node, body.taskUid);
          } catch (e) {
            if (!(e instanceof NodeHttpError && e.status === 404)) throw e;
          }
        }
      }
    }
    if (this.#stopped) return;
    if (!(await this.#cluster.store.putTopology(final, topology.version))) throw new Error('the topology changed during the rebalance');
    await this.#cluster.store.deleteRebalance();
    this.#cluster.setTopology(final);
    this.#cluster.clearMigration();
    await this.#fence.advance();
    const duration = (Date.now() - Date.parse(s.startedAt)) / 1000;
    this.#m.duration.observe(duration);
    const moved = [...this.#progress.values()].reduce((n, p) => n + p.offset, 0);
    this.#last = { id: s.id, finished_at: new Date().toISOString(), duration_seconds: duration, documents_moved: moved, topology_version: final.version };
    this.#progress.clear();
    this.#state = undefined;
    this.#owned = false;
    this.#log.info({ id: s.id, version: final.version, moves: s.moves.length, documents: moved, duration_s: duration }, 'rebalance completed');
  }
}

function miroirBusy(message = 'A rebalance is in progress; retry once `GET /_miroir/rebalance/status` shows it finished.') {
  return miroirError('miroir_rebalance_in_progress', message);
}

/** Every item of a paginated node list (`/indexes`). */
async function pages<T>(node: NodeClient, path: string): Promise<T[]> {
  const out: T[] = [];
  const limit = 1000;
  for (let offset = 0; ; offset += limit) {
    const { body } = await node.request<{ results: T[]; total: number }>({ method: 'GET', path: `${path}?offset=${offset}&limit=${limit}` });
    out.push(...body.results);
    if (offset + limit >= body.total) return out;
  }
}
