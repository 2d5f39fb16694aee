/**
 * Per-index settings state the request path reads (spec S13.5, S5.4): the committed settings
 * version, each node's verified version (the freshness floor), and the writes-frozen reason.
 * Read from the state store, kept for a second (other processes commit too), dropped at once when
 * this process commits or repairs.
 */
import type { StateStore } from '../state/store.js';

export interface IndexSettingsView {
  readonly version: number;
  readonly fingerprint: string | undefined;
  /** Why document writes are refused, when they are. */
  readonly frozen: string | undefined;
  /** node id → last settings version verified on it (absent: 0). */
  readonly nodes: ReadonlyMap<string, number>;
}

const TTL_MS = 1000;

export class SettingsVersions {
  readonly #store: StateStore;
  readonly #cache = new Map<string, { view: IndexSettingsView | undefined; at: number }>();

  constructor(store: StateStore) {
    this.#store = store;
  }

  /** The cached view when fresh (no I/O); `null` when it must be loaded. */
  cached(uid: string): IndexSettingsView | undefined | null {
    const hit = this.#cache.get(uid);
    return hit !== undefined && Date.now() - hit.at < TTL_MS ? hit.view : null;
  }

  /** The index's view; undefined when Miroir has no metadata for it. */
  async get(uid: string): Promise<IndexSettingsView | undefined> {
    const hit = this.cached(uid);
    if (hit !== null) return hit;
    const [meta, nodes] = await Promise.all([this.#store.getIndexMeta(uid), this.#store.nodeSettingsVersions(uid)]);
    const view = meta === undefined ? undefined : { version: meta.settingsVersion, fingerprint: meta.settingsFingerprint, frozen: meta.writesFrozen, nodes };
    this.#cache.set(uid, { view, at: Date.now() });
    return view;
  }

  /** A node's verified version for an index (0 when never verified). */
  static nodeVersion(view: IndexSettingsView | undefined, nodeId: string): number {
    return view?.nodes.get(nodeId) ?? 0;
  }

  invalidate(uid: string): void {
    this.#cache.delete(uid);
  }

  /** Another orchestrator committed or froze something (a routing epoch passed): everything is read again. */
  invalidateAll(): void {
    this.#cache.clear();
  }
}
