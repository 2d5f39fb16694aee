/**
 * The routing fence (spec S4.5, S14): a write is never applied under a routing (topology and shard
 * migration) that another orchestrator has already moved past. Elasticsearch fences a stale
 * primary with primary terms; Vespa's distributors act only on the newest cluster state version.
 * Here the routing has an **epoch** in the state store, advanced by every change of where writes
 * go (a topology change, a migration's start, each shard's cutover, its end).
 *
 * - Every orchestrator process acknowledges, in the store, the newest epoch it routes by, and only
 *   once no write it planned under an older epoch is still in flight. The acknowledgement doubles
 *   as a liveness registration that expires after `ttlMs` (store clock).
 * - A change that must not race writes (a cutover's delta pass, the first copy, the cleanup of old
 *   owners) advances the epoch and waits for the {@link RoutingFence.barrier}: every live process
 *   acknowledged it, or stopped being live.
 * - A write takes a {@link Ticket} (the epoch it is planned under) before routing and, once the
 *   nodes answered, {@link RoutingFence.confirm}s it before acknowledging the client. While this
 *   process's registration has been live without a gap since the ticket was taken, no barrier past
 *   the ticket's epoch can have completed (it waits for this process, which waits for the ticket):
 *   confirmed without a store call. Otherwise (the process was paused or cut off past its TTL) the
 *   store's epoch is read: unchanged, the write is safe; changed, the caller plans it again under
 *   the new routing and sends it again. A write is thus never acknowledged after reaching only
 *   owners that a completed barrier has retired.
 * - While a shard is being cut over (its move is `cutover`), writes to indexes with its shard count
 *   wait at {@link RoutingFence.enter} until it is done, within `freezeTimeoutMs` (then 503
 *   `miroir_topology_changing`, retryable).
 * - A read takes a ticket too ({@link RoutingFence.enterRead}), without waiting: a barrier before
 *   the old owners are cleaned up thus also waits for the reads that may still use them.
 * - A repair that must not interleave with client writes (anti-entropy) takes a write hold on its
 *   index ({@link RoutingFence.hold}): recorded in the store, behind a barrier, so every process's
 *   writes to the index wait until it is dropped (or its holder stops being live).
 */
import type { Logger } from 'pino';
import { miroirError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import { repeat, type Repeating } from '../util/repeat.js';

/** A write hold may have lapsed: the writes meant to run under it are not sent. */
export class HoldLapsedError extends Error {
  constructor(readonly index: string) {
    super(`the write hold on index ${index} may have lapsed`);
    this.name = 'HoldLapsedError';
  }
}

/** The routing a write was planned under. */
export interface Ticket {
  readonly epoch: number;
  readonly incarnation: number;
}

export interface FenceOptions {
  /** How long an acknowledgement keeps this process live in the store. */
  ttlMs: number;
  /** How often it is renewed (and the store's epoch read, should an event be missed). */
  heartbeatMs: number;
  /** How long a write waits for a shard cutover before it is refused (retryable). */
  freezeTimeoutMs: number;
}

export interface FenceDeps {
  store: StateStore;
  /** This process's id among the orchestrators. */
  self: string;
  /** Loads the routing (topology and migration) from the store; false when it cannot yet (retried). */
  load: () => Promise<boolean>;
  /** Whether writes to indexes with `shards` shards (null: any index) must wait for a cutover now. */
  frozen: (shards: number | null) => boolean;
  log: Logger;
}

/** The share of the TTL this process counts on locally: the rest absorbs clock-rate differences. */
const SAFE_SHARE = 0.8;
const POLL_MS = 20;

export class RoutingFence {
  readonly #d: FenceDeps;
  readonly #o: FenceOptions;
  /** The epoch of the routing this process has loaded. */
  #epoch = 0;
  /** Bumped after each gap in this process's registration, once it has caught up with the store. */
  #incarnation = 0;
  /** Until when this process is surely registered (local clock), counted from its last renewal. */
  #validUntil = 0;
  /** Tickets (writes and reads) in flight, by epoch. */
  readonly #inflight = new Map<number, number>();
  #waiters: (() => void)[] = [];
  /** Write holds of live processes: index uid → holder. */
  #holds = new Map<string, string>();
  #refreshing: Promise<void> | undefined;
  #again = false;
  #loop: Repeating | undefined;
  #closed = false;
  /** A renewal found a gap in the registration; cleared once the next incarnation opens. */
  #lapsed = false;

  constructor(deps: FenceDeps, opts: FenceOptions) {
    this.#d = deps;
    this.#o = opts;
  }

  /** The epoch this process routes by. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Registers this process (after its routing is loaded), then renews and follows the epoch. */
  async start(): Promise<void> {
    await this.refresh();
    this.#loop = repeat(() => this.refresh(), this.#o.heartbeatMs, (e) => this.#d.log.warn({ err: e }, 'routing fence renewal failed'));
  }

  /** A `routing_changed` event: follow at once. */
  onAdvanced(epoch: number): void {
    if (epoch > this.#epoch) void this.refresh().catch((e: unknown) => this.#d.log.warn({ err: e }, 'routing fence refresh failed'));
  }

  /**
   * Reads the store's epoch, loads the routing when it advanced, waits for the writes planned
   * under older epochs, and acknowledges. Concurrent calls share one run (plus one after it).
   */
  refresh(): Promise<void> {
    if (this.#refreshing !== undefined) {
      this.#again = true;
      return this.#refreshing;
    }
    const run = async () => {
      try {
        do {
          this.#again = false;
          await this.#tick();
          // A gap in the registration (or the first one): a barrier may have passed without this
          // process. Once registered again, the epoch is read again and acknowledged; only then
          // may the tickets of a new incarnation be confirmed without the store.
          if (this.#lapsed) {
            while (!this.#closed && !(await this.#tick()));
            this.#incarnation++;
            this.#lapsed = false;
          }
        } while (this.#again && !this.#closed);
      } finally {
        this.#refreshing = undefined;
      }
    };
    return (this.#refreshing = run());
  }

  /** One round; false when this process's registration may have lapsed before this renewal. */
  async #tick(): Promise<boolean> {
    // A closed process acknowledges nothing more (its writes in flight are no longer waited for).
    if (this.#closed) return true;
    const stored = await this.#d.store.routingEpoch();
    // Another epoch (a lower one only if the store was emptied meanwhile): the routing is loaded again.
    if (stored !== this.#epoch) {
      if (await this.#d.load()) {
        await this.#reloadHolds();
        this.#epoch = stored;
        this.#wake();
      } else {
        // Not loaded: the older epoch stays acknowledged, and the load is tried again shortly.
        setTimeout(() => void this.refresh().catch(() => {}), POLL_MS).unref();
      }
    }
    await this.#drained(this.#epoch);
    const sentAt = Date.now();
    await this.#d.store.ackRouting(this.#d.self, this.#epoch, this.#o.ttlMs);
    const continuous = Date.now() < this.#validUntil;
    this.#validUntil = sentAt + this.#o.ttlMs * SAFE_SHARE;
    if (!continuous) this.#lapsed = true;
    return continuous;
  }

  /**
   * Takes a ticket for a write to an index with `shards` shards (null: a write to every node),
   * waiting first while a cutover freezes such writes.
   */
  async enter(shards: number | null, index: string | null = null): Promise<Ticket> {
    // Not surely registered now (renewals late: a loaded or paused process): barriers may have
    // passed without this process, so the routing (and the nodes behind) is read again first.
    if (this.#lapsed || Date.now() >= this.#validUntil) {
      const before = this.#epoch;
      await this.refresh();
      if (this.#epoch !== before) this.#d.log.info({ from: before, epoch: this.#epoch }, 'the routing was read again before planning a write: this process may have been paused');
    }
    const deadline = Date.now() + this.#o.freezeTimeoutMs;
    let polls = 0;
    for (;;) {
      const cutover = this.#d.frozen(shards);
      const held = index !== null && this.#heldElsewhere(index);
      if (!cutover && !held) break;
      if (Date.now() > deadline) {
        const what = cutover ? 'A shard cutover' : `A repair of index \`${index}\``;
        throw miroirError('miroir_topology_changing', `${what} did not finish within ${this.#o.freezeTimeoutMs} ms; retry the request.`);
      }
      // The end comes as an event; the store is read too, should the event be lost or the holder die.
      if (++polls % 10 === 0) void (held ? this.#reloadHolds() : this.refresh()).catch(() => {});
      await this.#changed(POLL_MS * 5);
    }
    const t: Ticket = { epoch: this.#epoch, incarnation: this.#incarnation };
    this.#inflight.set(t.epoch, (this.#inflight.get(t.epoch) ?? 0) + 1);
    return t;
  }

  /**
   * A ticket for a read (a search, a document listing), taken at once: reads do not wait for
   * cutovers, but a barrier waits for them as for writes, so a read planned under an older routing
   * has ended before the old owners it may read from are cleaned up.
   */
  enterRead(): Ticket {
    const t: Ticket = { epoch: this.#epoch, incarnation: this.#incarnation };
    this.#inflight.set(t.epoch, (this.#inflight.get(t.epoch) ?? 0) + 1);
    return t;
  }

  leave(t: Ticket): void {
    const n = (this.#inflight.get(t.epoch) ?? 1) - 1;
    if (n <= 0) this.#inflight.delete(t.epoch);
    else this.#inflight.set(t.epoch, n);
    this.#wake();
  }

  /**
   * Whether a write sent under `t` may be acknowledged as sent. False: the routing changed, the
   * caller leaves the ticket, {@link refresh}es and plans the write again.
   */
  async confirm(t: Ticket): Promise<boolean> {
    if (t.incarnation === this.#incarnation && !this.#lapsed && Date.now() < this.#validUntil) return true;
    return (await this.#d.store.routingEpoch()) === t.epoch;
  }

  /** Advances the epoch (the routing in the store already changed) and tells the others. */
  async advance(): Promise<number> {
    const epoch = await this.#d.store.advanceRoutingEpoch();
    await this.#d.store.publish({ kind: 'routing_changed', epoch });
    return epoch;
  }

  /**
   * Resolves once every live orchestrator (this one included) acknowledged `epoch` or stopped
   * being live; rejects when `signal` aborts.
   */
  async barrier(epoch: number, signal?: AbortSignal): Promise<void> {
    await this.refresh();
    for (;;) {
      signal?.throwIfAborted();
      const acks = await this.#d.store.routingAcks();
      const behind = [...acks].filter(([, e]) => e < epoch).map(([p]) => p);
      if (behind.length === 0) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (this.#epoch < epoch) await this.refresh();
    }
  }

  /**
   * Runs `fn` while client writes to `index` wait in every orchestrator: the hold is recorded, a
   * barrier passes (every process knows it and finished the writes to the index it had in flight),
   * and the hold is dropped afterwards. Writes from this process are the caller's to exclude.
   */
  async hold<T>(index: string, fn: (check: () => void) => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#d.store.putWriteHold(index, this.#d.self);
    try {
      await this.advanceAndWait(signal);
      const incarnation = this.#incarnation;
      // Throws once the hold may have lapsed (this process paused or cut off past its TTL: the
      // others then treat the hold as void): call it before each write made under the hold.
      const check = () => {
        if (incarnation !== this.#incarnation || this.#lapsed || Date.now() >= this.#validUntil) throw new HoldLapsedError(index);
      };
      return await fn(check);
    } finally {
      // Writes to the index wait until the hold is gone: the drop is retried before giving up.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#d.store.dropWriteHold(index, this.#d.self);
          break;
        } catch (e) {
          if (attempt >= 5) {
            this.#d.log.error({ err: e, index }, 'could not drop a write hold: it is void once this process stops');
            break;
          }
          await new Promise((r) => setTimeout(r, 100 * attempt));
        }
      }
      await this.advance().catch((e: unknown) => this.#d.log.warn({ err: e, index }, 'could not announce the end of a write hold'));
    }
  }

  #heldElsewhere(index: string): boolean {
    const h = this.#holds.get(index);
    return h !== undefined && h !== this.#d.self;
  }

  /** Reads the write holds; a hold whose holder is no longer live is void. */
  async #reloadHolds(): Promise<void> {
    const [holds, live] = await Promise.all([this.#d.store.writeHolds(), this.#d.store.routingAcks()]);
    const next = new Map<string, string>();
    for (const [index, holder] of holds) if (live.has(holder)) next.set(index, holder);
    this.#holds = next;
    this.#wake();
  }

  /** Advances the epoch and waits for its barrier. */
  async advanceAndWait(signal?: AbortSignal): Promise<number> {
    const epoch = await this.advance();
    await this.barrier(epoch, signal);
    return epoch;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#loop?.stop();
    this.#wake();
    await this.#d.store.dropRoutingPeer(this.#d.self).catch(() => {});
  }

  /** Resolves once no ticket of another epoch than `epoch` is in flight. */
  async #drained(epoch: number): Promise<void> {
    while (!this.#closed && [...this.#inflight.keys()].some((e) => e !== epoch)) await this.#changed(1000);
  }

  /** Resolves at the next ticket release or epoch change, or after `ms`. */
  #changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#waiters.push(done);
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
