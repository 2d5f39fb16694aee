/**
 * Mode B leader leases (spec S14.5): one process at a time does the work of a scope
 * (`reshard:<index>`, `settings_broadcast:<index>`, `alias_flip:<name>`…). The lease is taken with
 * a TTL (`leader_election.lease_ttl_s`) and renewed every `renew_interval_s`; each acquisition gets
 * a larger fencing token. A holder that fails to renew, or whose last renewal is older than the
 * TTL, is deposed: its `signal` aborts, and `check()` throws, so it stops acting before another
 * process can have taken over. Work under a lease persists its phase and is idempotent per phase:
 * the next holder resumes from the last committed phase.
 */
import type { Logger } from 'pino';
import type { Lease, StateStore } from '../state/store.js';
import { Loops, repeat, type Repeating } from '../util/repeat.js';

/** The lease was lost (expired, or taken by another process after an expiry). */
export class LeaseLostError extends Error {
  constructor(readonly scope: string) {
    super(`lease ${scope} was lost`);
    this.name = 'LeaseLostError';
  }
}

export interface HeldLease {
  readonly scope: string;
  /** Fencing token: larger for every new holder of the scope. */
  readonly token: number;
  /** Aborts when the lease is lost. */
  readonly signal: AbortSignal;
  /** Throws {@link LeaseLostError} unless the store still names this holder and token. */
  check(): Promise<void>;
}

export interface LeaseOptions {
  ttlMs: number;
  renewMs: number;
}

export class Leases {
  readonly #store: StateStore;
  readonly #holder: string;
  readonly #opts: LeaseOptions;
  readonly #log: Logger;
  readonly #held = new Map<string, AbortController>();
  readonly #holds = new Loops();
  readonly #listeners: ((scope: string, held: boolean) => void)[] = [];

  constructor(store: StateStore, holder: string, opts: LeaseOptions, log: Logger) {
    this.#store = store;
    this.#holder = holder;
    this.#opts = opts;
    this.#log = log;
  }

  /** Scopes this process leads now. */
  get held(): string[] {
    return [...this.#held.keys()];
  }

  /** Called when this process gains or loses a scope (the `miroir_leader{scope}` gauge). */
  onChange(listener: (scope: string, held: boolean) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Runs `fn` under the scope's lease when no other process holds it; releases it afterwards.
   * Returns `{ ran: false }` without running when the lease is held elsewhere.
   */
  async run<T>(scope: string, fn: (lease: HeldLease) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const lease = await this.#store.acquireLease(scope, this.#holder, this.#opts.ttlMs);
    if (lease === undefined) return { ran: false };
    const ctl = new AbortController();
    this.#held.set(scope, ctl);
    for (const l of this.#listeners) l(scope, true);
    let renewedAt = Date.now();
    const depose = (why: string) => {
      if (ctl.signal.aborted) return;
      this.#log.warn({ scope, token: lease.token, why }, 'lease lost');
      ctl.abort(new LeaseLostError(scope));
    };
    const timer = setInterval(() => {
      if (Date.now() - renewedAt >= this.#opts.ttlMs) return depose('not renewed within the TTL');
      const started = Date.now();
      this.#store.renewLease(lease, this.#opts.ttlMs).then(
        (ok) => (ok ? (renewedAt = started) : depose('another holder or expired')),
        (e: unknown) => this.#log.warn({ err: e, scope }, 'lease renewal failed'),
      );
    }, this.#opts.renewMs);
    const held: HeldLease = {
      scope,
      token: lease.token,
      signal: ctl.signal,
      check: async () => {
        if (ctl.signal.aborted) throw ctl.signal.reason;
        const cur = await this.#store.currentLease(scope);
        if (cur?.token !== lease.token || cur.holder !== lease.holder) {
          depose('fenced');
          throw ctl.signal.reason;
        }
      },
    };
    try {
      return { ran: true, value: await fn(held) };
    } finally {
      clearInterval(timer);
      this.#held.delete(scope);
      for (const l of this.#listeners) l(scope, false);
      if (!ctl.signal.aborted) {
        ctl.abort(new LeaseLostError(scope));
        await this.#store.releaseLease(lease).catch(() => {});
      }
    }
  }

  /**
   * Keeps bidding for the scope (every renew interval) until stopped: whenever this process gets
   * the lease it runs `fn`, which should work until its lease's signal aborts. When `fn` returns or
   * the holder dies, another process takes over within TTL + renew interval.
   */
  hold(scope: string, fn: (lease: HeldLease) => Promise<void>): Repeating {
    const stopping = new AbortController();
    const bid = async () => {
      await this.run(scope, (lease) => fn({ ...lease, signal: AbortSignal.any([lease.signal, stopping.signal]) }));
    };
    const loop = repeat(bid, this.#opts.renewMs, (e) => this.#log.error({ err: e, scope }, 'leased work failed'), 0);
    return this.#holds.add(loop, () => stopping.abort(new Error('stopping')));
  }

  async close(): Promise<void> {
    await this.#holds.stopAll();
  }
}

export type { Lease };
