/**
 * What Miroir knows about each index: its shard count and primary key (persisted in the state
 * store) and the node-side settings the merge needs (read from a node, cached briefly, dropped
 * whenever a Miroir task that changes them finishes).
 */
import { MeiliError, defaultSettings, type Settings } from '@miroir/protocol';
import type { Cluster } from './cluster.js';
import { NodeHttpError } from './nodes/node-client.js';
import type { IndexMeta } from './state/store.js';

export interface IndexInfo {
  readonly uid: string;
  readonly primaryKey: string | null;
  readonly shards: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Settings as the nodes hold them (reserved fields included). */
  readonly settings: Settings;
}

const TTL_MS = 5000;

export class Catalog {
  readonly #cluster: Cluster;
  readonly #cache = new Map<string, { info: IndexInfo; at: number }>();
  readonly #generations = new Map<string, number>();
  readonly #loading = new Map<string, Promise<IndexInfo | undefined>>();
  /** Index uid → the Miroir uids of its deletions enqueued here and not finished yet. */
  readonly #deleting = new Map<string, Set<number>>();

  constructor(cluster: Cluster) {
    this.#cluster = cluster;
  }

  /** The index as the nodes know it, or undefined when no node has it. */
  async get(uid: string): Promise<IndexInfo | undefined> {
    const hit = this.#cache.get(uid);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.info;
    let p = this.#loading.get(uid);
    if (p === undefined) {
      p = this.#load(uid).finally(() => this.#loading.delete(uid));
      this.#loading.set(uid, p);
    }
    return p;
  }

  /**
   * The description of the index this process last read, past its expiry but not after a change
   * was announced, without asking a node (the explain route plans without node calls).
   */
  peek(uid: string): IndexInfo | undefined {
    return this.#cache.get(uid)?.info;
  }

  invalidate(uid: string): void {
    this.#cache.delete(uid);
    this.#generations.set(uid, this.generation(uid) + 1);
  }

  /**
   * Bumped each time the index may have changed (a task on it finished here or anywhere): what is
   * derived from an index's contents (its field list) is kept while the generation holds.
   */
  generation(uid: string): number {
    return this.#generations.get(uid) ?? 0;
  }

  /**
   * An index deletion (or rename) was enqueued (Miroir task `taskUid`). Until it finishes the nodes still show
   * the index, but a write enqueued after it meets no index on the nodes: it must be treated as a
   * write to a missing index (see {@link deletionPending}).
   */
  deletionEnqueued(uid: string, taskUid: number): void {
    let set = this.#deleting.get(uid);
    if (set === undefined) this.#deleting.set(uid, (set = new Set()));
    set.add(taskUid);
  }

  /** The deletion task `taskUid` of `uid` finished (whatever its outcome). */
  deletionSettled(uid: string, taskUid: number): void {
    const set = this.#deleting.get(uid);
    if (set?.delete(taskUid) && set.size === 0) this.#deleting.delete(uid);
  }

  /** Every deletion of `uid` finished (nothing is pending on the index any more). */
  deletionsSettled(uid: string): void {
    this.#deleting.delete(uid);
  }

  /**
   * Whether a deletion of `uid` enqueued by any orchestrator may not have finished yet (the others
   * announce theirs with an `index_deleting` event).
   */
  deletionPending(uid: string): boolean {
    return this.#deleting.has(uid);
  }

  /** Events were missed: every cached index is dropped and the pending deletions are read from the store. */
  async resync(): Promise<void> {
    for (const uid of [...this.#cache.keys()]) this.invalidate(uid);
    for (const row of await this.#cluster.store.pendingTasks()) {
      if (row.indexUid !== null && (row.type === 'indexDeletion' || (row.type === 'indexUpdate' && row.indexes !== undefined))) this.deletionEnqueued(row.indexUid, row.uid);
    }
  }

  /** Shard count and primary key as Miroir recorded them; creates the record on first write. */
  async meta(uid: string, primaryKey: string | null = null): Promise<IndexMeta> {
    const store = this.#cluster.store;
    // Two orchestrators creating the record at once agree on the one the store kept.
    return (
      (await store.getIndexMeta(uid)) ??
      (await store.createIndexMeta({ uid, primaryKey, shards: this.#cluster.config.shards, settingsVersion: 0, createdAt: new Date().toISOString() }))
    );
  }

  /** Records the primary key Miroir resolved for an index (so every later batch uses the same). */
  async setPrimaryKey(uid: string, primaryKey: string): Promise<void> {
    const meta = await this.meta(uid, primaryKey);
    if (meta.primaryKey !== primaryKey) await this.#cluster.store.putIndexMeta({ ...meta, primaryKey });
    this.invalidate(uid);
  }

  /** After a rename: the metadata (and each node's verified settings version) moves with the index. */
  async rename(from: string, to: string): Promise<void> {
    const store = this.#cluster.store;
    const [meta, versions] = await Promise.all([store.getIndexMeta(from), store.nodeSettingsVersions(from)]);
    if (meta) {
      await store.putIndexMeta({ ...meta, uid: to });
      await store.deleteIndexMeta(from);
    }
    await this.#putVersions(to, versions);
    await store.deleteNodeSettingsVersions(from);
    this.invalidate(from);
    this.invalidate(to);
  }

  /** After a swap: each name now holds the other's data, hence the other's metadata and versions. */
  async swap(a: string, b: string): Promise<void> {
    const store = this.#cluster.store;
    const [ma, mb, va, vb] = await Promise.all([store.getIndexMeta(a), store.getIndexMeta(b), store.nodeSettingsVersions(a), store.nodeSettingsVersions(b)]);
    if (mb) await store.putIndexMeta({ ...mb, uid: a });
    else await store.deleteIndexMeta(a);
    if (ma) await store.putIndexMeta({ ...ma, uid: b });
    else await store.deleteIndexMeta(b);
    await Promise.all([store.deleteNodeSettingsVersions(a), store.deleteNodeSettingsVersions(b)]);
    await this.#putVersions(a, vb);
    await this.#putVersions(b, va);
    this.invalidate(a);
    this.invalidate(b);
  }

  async #putVersions(uid: string, versions: ReadonlyMap<string, number>): Promise<void> {
    for (const [nodeId, v] of versions) await this.#cluster.store.putNodeSettingsVersion(uid, nodeId, v);
  }

  async forget(uid: string): Promise<void> {
    await this.#cluster.store.deleteIndexMeta(uid);
    await this.#cluster.store.deleteNodeSettingsVersions(uid);
    this.invalidate(uid);
  }

  async #load(uid: string): Promise<IndexInfo | undefined> {
    let lastError: unknown;
    for (const node of this.#cluster.readOrder()) {
      try {
        const [idx, settings] = await Promise.all([
          node.request<{ uid: string; primaryKey: string | null; createdAt: string; updatedAt: string }>({
            method: 'GET',
            path: `/indexes/${encodeURIComponent(uid)}`,
          }),
          node.request<Settings>({ method: 'GET', path: `/indexes/${encodeURIComponent(uid)}/settings` }),
        ]);
        const meta = await this.meta(uid, idx.body.primaryKey);
        const info: IndexInfo = {
          uid,
          primaryKey: idx.body.primaryKey ?? meta.primaryKey,
          shards: meta.shards,
          createdAt: idx.body.createdAt,
          updatedAt: idx.body.updatedAt,
          settings: { ...defaultSettings(), ...settings.body },
        };
        this.#cache.set(uid, { info, at: Date.now() });
        return info;
      } catch (e) {
        if (e instanceof NodeHttpError && e.body.code === 'index_not_found') return undefined;
        lastError = e;
      }
    }
    if (lastError instanceof Error) throw lastError;
    throw new MeiliError('internal', 'No node is configured.');
  }
}
