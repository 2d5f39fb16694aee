/**
 * The settings broadcast (spec S13.5, S14.5 Mode B): one change per index at a time in the whole
 * cluster, under the lease `settings_broadcast:<uid>`.
 *
 * - A client's change ({@link SettingsBroadcaster.change}, called by the write path inside the
 *   index's write lock) waits until no broadcast on the index runs in this process or holds the
 *   lease anywhere, takes the lease, finishes any broadcast on the index whose driver died, then
 *   enqueues the change on the nodes and drives its task ({@link BroadcastDriver}) under the lease.
 * - A broadcast whose driver died is taken over: every `leader_election.renew_interval_s`, each
 *   process looks for unfinished broadcast task rows whose lease is free, and drives them
 *   (so within lease TTL + renew interval of the death). A process never drives a broadcast whose
 *   lease is held, at start or later.
 * - Every process knows which indexes have a broadcast between propose and commit anywhere (for
 *   `X-Miroir-Settings-Inconsistent`, the drift reconciler and the status endpoint) without a store
 *   read per request: its own broadcasts, the drivers' phase events on the store's bus, and the
 *   periodic look at the unfinished rows (which corrects a missed event).
 */
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Settings } from '@miroir/protocol';
import { miroirError } from '../errors.js';
import type { SettingsBroadcastState, StateStore, StoreEvent, TaskRow } from '../state/store.js';
import { Loops, repeat } from '../util/repeat.js';
import type { HeldLease, Leases } from './leases.js';
import { BroadcastDriver, PHASE_NUMBER, type DriverDeps, type GaugePhase } from './settings-phases.js';

export interface BroadcastDeps extends DriverDeps {
  /** Mode B leases shared with the other orchestrators. */
  leases: Leases;
  /** This process's peer id (the holder named in phase events). */
  self: string;
}

/** What the write path hands {@link SettingsBroadcaster.change}: the client's answer, and the task to drive. */
export interface Enqueued<T> {
  value: T;
  /** The recorded task; undefined when nothing was enqueued (a write refused before any node call). */
  row: TaskRow | undefined;
}

/** The lease scope of an index's broadcasts. */
export const broadcastScope = (uid: string) => `settings_broadcast:${uid}`;

/** An unfinished settings broadcast's task row. */
const isBroadcasting = (row: TaskRow) => row.settingsBroadcast !== undefined && row.settingsBroadcast.phase !== 'done' && row.indexUid !== null;

/** The gauge phase of a persisted phase (sequential: apply shows as propose, rollback as repair). */
const GAUGE_OF: Record<SettingsBroadcastState['phase'], GaugePhase> = {
  propose: 'propose',
  verify: 'verify',
  repair: 'repair',
  commit: 'commit',
  apply: 'propose',
  rollback: 'repair',
  done: 'idle',
};

/** Phases in which nodes may hold different settings. */
const inconsistentPhase = (p: GaugePhase | undefined) => p === 'propose' || p === 'verify' || p === 'repair';

export class SettingsBroadcaster {
  readonly #d: BroadcastDeps;
  readonly #driver: BroadcastDriver;
  /** Index uid → a change or takeover of this process on it (waiting, enqueuing or driving). */
  readonly #running = new Map<string, Promise<void>>();
  /** Index uid → the phase of the broadcast this process drives on it. */
  readonly #phase = new Map<string, GaugePhase>();
  /** Task uids this process drives now. */
  readonly #driving = new Set<number>();
  /** Index uid → the phase of a broadcast another process drives (from events and the periodic look). */
  #remote = new Map<string, GaugePhase>();
  /** Events seen, and the count when each index's last event arrived (a look never undoes a newer event). */
  #events = 0;
  readonly #eventAt = new Map<string, number>();
  readonly #abort = new AbortController();
  readonly #loops = new Loops();

  constructor(deps: BroadcastDeps) {
    this.#d = deps;
    this.#driver = new BroadcastDriver(deps);
  }

  get #store(): StateStore {
    return this.#d.cluster.store;
  }

  /** True while a broadcast on `uid` is between propose and commit, here or in another process. */
  inconsistent(uid: string): boolean {
    return inconsistentPhase(this.#phase.get(uid)) || (this.#remote.size > 0 && inconsistentPhase(this.#remote.get(uid)));
  }

  /** True while a broadcast on `uid` runs or waits in this process, or runs in another one. */
  busy(uid: string): boolean {
    return this.#running.has(uid) || this.#remote.has(uid);
  }

  /** The phase of the broadcast running on `uid`, here or elsewhere (for the status endpoint). */
  phase(uid: string): GaugePhase | undefined {
    const local = this.#phase.get(uid);
    return local !== undefined && local !== 'idle' ? local : this.#remote.get(uid);
  }

  /** Resolves once no change or takeover of this process runs on `uid`. */
  async idle(uid: string): Promise<void> {
    for (let p = this.#running.get(uid); p !== undefined; p = this.#running.get(uid)) await p;
  }

  /** Sequential strategy: every node's settings before the change, for the rollback. */
  snapshot(uid: string): Promise<Record<string, Settings>> {
    return this.#driver.snapshot(uid);
  }

  /**
   * A client's settings change on `uid` (call it inside the index's write lock): once this process
   * holds the index's broadcast lease and no earlier broadcast on the index is unfinished anywhere,
   * runs `enqueue` (which sends the change to the nodes and records its task), then drives that task
   * under the lease in the background. Resolves with `enqueue`'s value as soon as it returns.
   * Waits at most as long as a broadcast may take plus a takeover; then 503 `miroir_settings_busy`.
   */
  async change<T>(uid: string, enqueue: () => Promise<Enqueued<T>>): Promise<T> {
    await this.idle(uid);
    const release = this.#mark(uid);
    const deadline = Date.now() + this.#waitBoundMs();
    try {
      for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
        const got = await this.#exclusive(uid, enqueue, release);
        if (got !== undefined) return got.value;
        if (Date.now() > deadline) {
          throw miroirError(
            'miroir_settings_busy',
            `Another settings change on index \`${uid}\` is still being applied by another orchestrator after ${Math.round(this.#waitBoundMs() / 1000)} s. Retry the request.`,
          );
        }
        await sleep(delay, undefined, { signal: this.#abort.signal });
      }
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Looks for broadcasts to take over now, then every renew interval; listens to the drivers' phase events. */
  async start(): Promise<void> {
    await this.#store.subscribe((e) => this.#onEvent(e));
    await this.#look().catch((e: unknown) => this.#d.log.warn({ err: e }, 'could not look for unfinished settings broadcasts'));
    const every = this.#d.cluster.config.leader_election.renew_interval_s * 1000;
    this.#loops.add(repeat(() => this.#look(), every, (e) => this.#d.log.warn({ err: e }, 'could not look for unfinished settings broadcasts')));
  }

  /** Stops driving (the lease is given up; the next holder resumes from the persisted phase). */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#loops.stopAll();
    await Promise.allSettled([...this.#running.values()]);
  }

  /** The longest a change waits for the index's lease: a whole broadcast with every repair, plus a takeover. */
  #waitBoundMs(): number {
    const { settings_broadcast: b, leader_election: le } = this.#d.cluster.config;
    const broadcast = b.verify_timeout_s * 1000 * (2 + b.max_repair_retries) + b.repair_backoff_ms * 2 ** b.max_repair_retries;
    return broadcast + (le.lease_ttl_s + le.renew_interval_s) * 1000;
  }

  /** Marks a change or takeover on `uid` as running here; the returned function ends it (once). */
  #mark(uid: string): () => void {
    let settle!: () => void;
    const held = new Promise<void>((r) => (settle = r));
    this.#running.set(uid, held);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (this.#running.get(uid) === held) this.#running.delete(uid);
      this.#setPhase(uid, 'idle');
      settle();
    };
  }

  /**
   * One attempt at the index's lease. Held elsewhere: undefined. Taken: unfinished broadcasts on the
   * index are finished first, then `enqueue` runs and its value is returned, while its task is
   * driven under the same lease; `release` runs once that drive ends.
   */
  #exclusive<T>(uid: string, enqueue: () => Promise<Enqueued<T>>, release: () => void): Promise<{ value: T } | undefined> {
    return new Promise((resolve, reject) => {
      let answered = false;
      this.#d.leases
        .run(broadcastScope(uid), async (lease) => {
          await this.#driveUnfinished(uid, lease, true);
          await lease.check();
          this.#setPhase(uid, 'propose');
          const out = await enqueue();
          answered = true;
          resolve({ value: out.value });
          if (out.row !== undefined) await this.#drive(out.row, lease, 'driving a settings broadcast');
        })
        .then(
          () => {
            if (!answered) resolve(undefined);
            else release();
          },
          (e: unknown) => {
            if (!answered) return reject(e as Error);
            this.#d.log.error({ err: e, index: uid }, 'settings broadcast failed');
            release();
          },
        );
    });
  }

  /**
   * Under the index's lease: drives each broadcast on `uid` still unfinished in the store (its
   * driver died or let go), oldest first. With `strict`, one that fails stops the caller (a newer
   * change must not overtake it).
   */
  async #driveUnfinished(uid: string, lease: HeldLease, strict: boolean): Promise<void> {
    const rows = (await this.#store.pendingTasks()).filter((r) => isBroadcasting(r) && r.indexUid === uid);
    for (const row of rows) {
      const ok = await this.#drive(row, lease, 'resuming a settings broadcast');
      if (!ok && strict) throw miroirError('miroir_settings_busy', `An earlier settings change on index \`${uid}\` (task ${row.uid}) could not be finished. Retry the request.`);
    }
  }

  /** Drives one broadcast task under `lease`; false when it stopped before its end. */
  async #drive(row: TaskRow, lease: HeldLease, what: string): Promise<boolean> {
    const uid = row.indexUid!;
    const signal = AbortSignal.any([this.#abort.signal, lease.signal]);
    this.#d.log.info({ task: row.uid, index: uid, phase: row.settingsBroadcast!.phase, fencing_token: lease.token }, what);
    this.#driving.add(row.uid);
    this.#remote.delete(uid);
    try {
      await this.#driver.drive(row, { lease, signal, phase: (p) => this.#setPhase(uid, p) });
      return true;
    } catch (e) {
      if (lease.signal.aborted) this.#d.log.warn({ task: row.uid, index: uid, fencing_token: lease.token }, 'settings broadcast stopped: its lease was lost');
      else if (!this.#abort.signal.aborted) this.#d.log.error({ err: e, task: row.uid, index: uid }, 'settings broadcast failed');
      return false;
    } finally {
      this.#driving.delete(row.uid);
    }
  }

  /**
   * The periodic look: which indexes have a broadcast driven elsewhere (their phase, as persisted),
   * and which unfinished broadcasts have no live driver (their lease is free): those are taken over.
   */
  async #look(): Promise<void> {
    if (this.#abort.signal.aborted) return;
    const since = this.#events;
    const rows = (await this.#store.pendingTasks()).filter(isBroadcasting);
    const remote = new Map<string, GaugePhase>();
    for (const row of rows) {
      if (!this.#driving.has(row.uid) && !remote.has(row.indexUid!)) remote.set(row.indexUid!, GAUGE_OF[row.settingsBroadcast!.phase]);
    }
    // An event that arrived during the read is newer than what was read.
    for (const [uid, at] of this.#eventAt) {
      if (at <= since) continue;
      const p = this.#remote.get(uid);
      if (p === undefined) remote.delete(uid);
      else remote.set(uid, p);
    }
    this.#remote = remote;
    for (const uid of new Set(rows.map((r) => r.indexUid!))) {
      if (this.#running.has(uid) || this.#abort.signal.aborted) continue;
      if ((await this.#store.currentLease(broadcastScope(uid))) !== undefined) continue;
      this.#takeOver(uid);
    }
  }

  /** Drives the unfinished broadcasts on `uid` when this process gets their lease. */
  #takeOver(uid: string): void {
    const release = this.#mark(uid);
    this.#d.leases
      .run(broadcastScope(uid), (lease) => this.#driveUnfinished(uid, lease, false))
      .catch((e: unknown) => this.#d.log.warn({ err: e, index: uid }, 'could not take over a settings broadcast'))
      .finally(release);
  }

  #onEvent(e: StoreEvent): void {
    if (e.kind !== 'settings_broadcast' || e.holder === this.#d.self) return;
    this.#eventAt.set(e.indexUid, ++this.#events);
    if (e.phase === 'idle') this.#remote.delete(e.indexUid);
    else this.#remote.set(e.indexUid, e.phase);
  }

  #setPhase(uid: string, phase: GaugePhase): void {
    const before = this.#phase.get(uid) ?? 'idle';
    if (phase === 'idle') this.#phase.delete(uid);
    else this.#phase.set(uid, phase);
    this.#d.metrics.settingsBroadcastPhase.labels(uid).set(PHASE_NUMBER[phase]);
    if (phase === before) return;
    this.#store.publish({ kind: 'settings_broadcast', indexUid: uid, phase, holder: this.#d.self }).catch((e: unknown) => {
      this.#d.log.warn({ err: e, index: uid }, 'could not announce a settings broadcast phase; other processes see it within a renew interval');
    });
  }
}
