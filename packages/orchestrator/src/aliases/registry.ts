/**
 * Index aliases (spec S13.7, docs/aliases.md): a name that resolves to one index (`single`) or to
 * several (`multi`, read through the federated merge). The aliases live in the state store's
 * `aliases` table; every orchestrator keeps them in memory and reads them again at each routing
 * epoch (work/fence.ts). A change (create, flip, delete) runs under the lease `alias_flip:<name>`,
 * is written to the store, then advances the routing epoch and waits for its barrier: when the
 * change is answered, every live orchestrator resolves the name the new way and no request it
 * resolved the old way is still in flight (reads and writes hold routing tickets).
 */
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { indexNotFound, invalidIndexUidMessage, isValidIndexUid } from '@miroir/protocol';
import type { Config } from '../config.js';
import { miroirError } from '../errors.js';
import type { Metrics } from '../obs/metrics.js';
import type { StateStore } from '../state/store.js';
import type { TableRow } from '../state/tables.js';
import type { RoutingFence } from '../work/fence.js';
import type { HeldLease, Leases } from '../work/leases.js';

export type AliasRow = TableRow<'aliases'>;

/** One entry of an alias's history: what a change made it point at. */
export interface AliasChange {
  version: number;
  at: string;
  from: string[];
  to: string[];
}

export interface AliasDeps {
  store: StateStore;
  fence: RoutingFence;
  leases: Leases;
  config: Config['aliases'];
  log: Logger;
  metrics: Metrics;
  /** Whether an index of that uid exists (on the nodes). */
  indexExists: (uid: string) => Promise<boolean>;
  /** How long a change waits for another change of the same alias (the lease) before it gives up. */
  leaseWaitMs: number;
}

const POLL_MS = 25;

export class Aliases {
  readonly #d: AliasDeps;
  #byName = new Map<string, AliasRow>();
  readonly #resolutions: Counter<'alias'>;
  readonly #flips: Counter<'alias'>;

  constructor(deps: AliasDeps) {
    this.#d = deps;
    const registers = [deps.metrics.registry];
    this.#resolutions = new Counter({ name: 'miroir_alias_resolutions_total', help: 'Requests that named an alias, by alias.', labelNames: ['alias'], registers });
    this.#flips = new Counter({ name: 'miroir_alias_flips_total', help: 'Alias changes (creations, flips, deletions) made through this process, by alias.', labelNames: ['alias'], registers });
  }

  get enabled(): boolean {
    return this.#d.config.enabled;
  }

  /** Reads every alias from the store (at start and at every routing epoch). */
  async reload(): Promise<void> {
    if (!this.enabled) return;
    const rows = await this.#d.store.listRows('aliases');
    this.#byName = new Map(rows.map((r) => [r.name, r]));
  }

  /** The alias of that name, if any, counted as a resolution; undefined when aliases are disabled. */
  resolve(name: string): AliasRow | undefined {
    if (this.#byName.size === 0) return undefined;
    const row = this.#byName.get(name);
    if (row !== undefined) this.#resolutions.labels(name).inc();
    return row;
  }

  /** Whether `name` is an alias (no counting: a check, not a request through it). */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  list(): AliasRow[] {
    return [...this.#byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The alias as the store holds it now. */
  async get(name: string): Promise<AliasRow> {
    const row = await this.#d.store.getRow('aliases', name);
    if (row === undefined) throw aliasNotFound(name);
    return row;
  }

  async create(name: string, targets: string[], kind: AliasRow['kind']): Promise<AliasRow | null> {
    checkName(name);
    for (const t of targets) checkName(t);
    return this.#change(name, async () => {
      if ((await this.#d.store.getRow('aliases', name)) !== undefined) {
        throw miroirError('miroir_alias_already_exists', `Alias \`${name}\` already exists; change its target with PUT /_miroir/aliases/${name}.`);
      }
      if (await this.#d.indexExists(name)) {
        throw miroirError('miroir_alias_name_conflict', `An index named \`${name}\` exists: an alias may not take the name of an index.`);
      }
      await this.#targetsExist(targets);
      const at = new Date().toISOString();
      return { name, kind, currentUid: kind === 'single' ? targets[0]! : null, targetUids: targets, version: 1, createdAt: at, history: [change(1, at, [], targets)] };
    });
  }

  /** Points the alias at new targets (its kind unchanged): version + 1, recorded in its history. */
  async flip(name: string, targets: string[], kind: AliasRow['kind']): Promise<AliasRow | null> {
    for (const t of targets) checkName(t);
    return this.#change(name, async () => {
      const row = await this.get(name);
      if (row.kind !== kind) {
        throw miroirError('miroir_invalid_alias', `Alias \`${name}\` is a \`${row.kind}\` alias: send \`${row.kind === 'single' ? 'target' : 'targets'}\`.`);
      }
      await this.#targetsExist(targets);
      const version = row.version + 1;
      const history = [...row.history, change(version, new Date().toISOString(), row.targetUids, targets)].slice(-Math.max(1, this.#d.config.history_retention));
      return { ...row, currentUid: kind === 'single' ? targets[0]! : null, targetUids: targets, version, history };
    });
  }

  /** Deletes the alias; its indexes are left as they are. */
  async delete(name: string): Promise<void> {
    await this.#change(name, async () => {
      await this.get(name);
      return null;
    });
  }

  /**
   * Runs one change of an alias under its lease: `next` reads the store and returns the row to
   * write (null: delete). Once written, every orchestrator is made to follow before this returns.
   */
  async #change(name: string, next: () => Promise<AliasRow | null>): Promise<AliasRow | null> {
    const deadline = Date.now() + this.#d.leaseWaitMs;
    for (;;) {
      const r = await this.#d.leases.run(`alias_flip:${name}`, (lease) => this.#write(name, lease, next));
      if (r.ran) return r.value;
      if (Date.now() > deadline) {
        throw miroirError('miroir_topology_changing', `Another change of alias \`${name}\` did not finish within ${this.#d.leaseWaitMs} ms; retry the request.`);
      }
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
  }

  async #write(name: string, lease: HeldLease, next: () => Promise<AliasRow | null>): Promise<AliasRow | null> {
    const row = await next();
    await lease.check();
    if (row === null) await this.#d.store.deleteRow('aliases', name);
    else await this.#d.store.putRow('aliases', row);
    this.#flips.labels(name).inc();
    this.#d.log.info({ alias: name, targets: row?.targetUids ?? null, version: row?.version ?? null }, row === null ? 'alias deleted' : 'alias changed');
    // Every orchestrator reads the aliases again at the new epoch; the barrier waits for them all.
    await this.#d.fence.advanceAndWait(lease.signal);
    if (row === null) this.#byName.delete(name);
    else this.#byName.set(name, row);
    return row;
  }

  async #targetsExist(targets: readonly string[]): Promise<void> {
    for (const t of targets) {
      if (this.#byName.has(t)) throw miroirError('miroir_invalid_alias', `\`${t}\` is an alias: an alias points at indexes, not at other aliases.`);
      if (this.#d.config.require_target_exists && !(await this.#d.indexExists(t))) throw indexNotFound(t);
    }
  }
}

function change(version: number, at: string, from: string[], to: string[]): AliasChange {
  return { version, at, from, to };
}

/** Alias names follow the rules of index uids (they stand where a uid stands). */
function checkName(name: string): void {
  if (!isValidIndexUid(name)) throw miroirError('miroir_invalid_alias', invalidIndexUidMessage(name));
}

export function aliasNotFound(name: string) {
  return miroirError('miroir_alias_not_found', `Alias \`${name}\` not found.`);
}
