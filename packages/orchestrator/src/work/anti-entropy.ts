/**
 * The anti-entropy reconciler (spec S13.8): on a schedule, every shard this process owns is read
 * from each of its replicas in every group (paging `_miroir_shard = s`), fingerprinted, and the
 * replicas compared bucket by bucket. Divergent documents are repaired: an expired copy is deleted
 * everywhere (never resurrected), otherwise the newest copy (`_miroir_updated_at`) is written to the
 * replicas that differ.
 *
 * A repair must not overwrite a newer client write. So it runs under the index's write lock (no
 * write from this process interleaves) and the index's write hold (none from another orchestrator
 * either: work/fence.ts), waits until each replica has processed everything already enqueued for
 * the index, re-reads the divergent documents, decides again on what it read, and only then
 * enqueues the repair, which every later write follows in each node's queue.
 *
 * Meilisearch cannot hash on the node, so every document crosses the wire once per pass; the pass
 * sleeps between pages to keep its share of node time near `duty_cycle`.
 */
import { Counter, Gauge } from 'prom-client';
import type { Logger } from 'pino';
import type { Cluster } from '../cluster.js';
import { scheduleMs } from '../config.js';
import { decideRepair, divergentKeys, type ShardFingerprint, type DocSummary, type Repair } from '../core/fingerprint.js';
import type { NodeClient } from '../nodes/node-client.js';
import { fingerprintShard, readDocuments, sleep, waitDrained, waitTask } from './node-io.js';
import type { Metrics } from '../obs/metrics.js';
import type { RoutingFence } from './fence.js';
import type { Ownership } from './ownership.js';

type Doc = Record<string, unknown>;

/** What one pass did. */
export interface PassReport {
  startedAt: string;
  finishedAt: string | null;
  /** Shards whose replicas were all read and compared. */
  shardsScanned: number;
  /** Shards left for a later pass (a replica unreachable or catching up, fewer than two copies). */
  shardsSkipped: number;
  /** Documents found divergent. */
  mismatches: number;
  /** Documents written or deleted to repair them. */
  repaired: number;
  errors: string[];
}

const enc = encodeURIComponent;

export class AntiEntropy {
  readonly #cluster: Cluster;
  readonly #ownership: Ownership;
  readonly #log: Logger;
  readonly #opts: Cluster['config']['anti_entropy'];
  /** Nodes that must not be read or repaired now (catching up on writes they missed). */
  readonly #busy: (nodeId: string) => boolean;
  readonly #m: { scanned: Counter; mismatches: Counter; repaired: Counter; lastCompleted: Gauge };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<PassReport> | undefined;
  #last: PassReport | undefined;
  /** Where the next pass starts when `shards_per_pass` limits a pass. */
  #cursor = 0;
  #closed = false;

  readonly #fence: Pick<RoutingFence, 'hold'>;

  constructor(deps: { cluster: Cluster; ownership: Ownership; log: Logger; metrics: Metrics; fence: Pick<RoutingFence, 'hold'>; busy?: (nodeId: string) => boolean }) {
    this.#fence = deps.fence;
    this.#cluster = deps.cluster;
    this.#ownership = deps.ownership;
    this.#log = deps.log.child({ component: 'antientropy' });
    this.#opts = deps.cluster.config.anti_entropy;
    this.#busy = deps.busy ?? (() => false);
    const registers = [deps.metrics.registry];
    this.#m = {
      scanned: new Counter({ name: 'miroir_antientropy_shards_scanned_total', help: 'Shards whose replicas anti-entropy compared.', registers }),
      mismatches: new Counter({ name: 'miroir_antientropy_mismatches_found_total', help: 'Documents found differing between replicas.', registers }),
      repaired: new Counter({ name: 'miroir_antientropy_docs_repaired_total', help: 'Documents anti-entropy wrote or deleted on a replica.', registers }),
      lastCompleted: new Gauge({
        name: 'miroir_antientropy_last_scan_completed_seconds',
        help: 'Unix time at which the last anti-entropy pass completed.',
        registers,
      }),
    };
  }

  start(): void {
    const every = scheduleMs(this.#opts.schedule);
    const tick = () => {
      this.#timer = setTimeout(() => void this.run().finally(() => !this.#closed && tick()), every);
      this.#timer.unref();
    };
    tick();
  }

  /** Runs a pass now, or joins the one running. */
  run(): Promise<PassReport> {
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  status(): { running: boolean; last: PassReport | null } {
    return { running: this.#running !== undefined, last: this.#last ?? null };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  async #pass(): Promise<PassReport> {
    const report: PassReport = { startedAt: new Date().toISOString(), finishedAt: null, shardsScanned: 0, shardsSkipped: 0, mismatches: 0, repaired: 0, errors: [] };
    const work: { uid: string; pk: string; shard: number; shards: number }[] = [];
    for (const meta of await this.#cluster.store.listIndexMeta()) {
      if (meta.primaryKey === null) continue;
      for (let s = 0; s < meta.shards; s++) {
        if (this.#ownership.owns(`shard:${meta.uid}:${s}`)) work.push({ uid: meta.uid, pk: meta.primaryKey, shard: s, shards: meta.shards });
      }
    }
    const limit = this.#opts.shards_per_pass === 0 ? work.length : Math.min(this.#opts.shards_per_pass, work.length);
    const start = work.length === 0 ? 0 : this.#cursor % work.length;
    for (let i = 0; i < limit && !this.#closed; i++) {
      const item = work[(start + i) % work.length]!;
      try {
        await this.#shard(item.uid, item.pk, item.shard, item.shards, report);
      } catch (e) {
        report.shardsSkipped++;
        report.errors.push(`${item.uid} shard ${item.shard}: ${(e as Error).message}`);
        this.#log.warn({ index: item.uid, shard: item.shard, err: (e as Error).message }, 'anti-entropy could not compare a shard');
      }
    }
    this.#cursor = start + limit;
    report.finishedAt = new Date().toISOString();
    this.#m.lastCompleted.set(Date.now() / 1000);
    this.#last = report;
    this.#log.info({ ...report, errors: report.errors.length }, 'anti-entropy pass completed');
    return report;
  }

  async #shard(uid: string, pk: string, shard: number, shards: number, report: PassReport): Promise<void> {
    // A shard mid-move has an incomplete copy on its new owner: the rebalancer's cutover verifies
    // it; anti-entropy compares it once the move is cut over (only complete owners are listed).
    if (this.#cluster.isMoving(shards, shard)) {
      report.shardsSkipped++;
      return;
    }
    const placement = this.#cluster.placement(shards);
    const owners: string[] = [];
    for (let gi = 0; gi < placement.groupCount; gi++) owners.push(...placement.owners(gi, shard));
    const usable = owners.filter((id) => this.#cluster.health.isHealthy(id) && !this.#busy(id));
    // A replica that cannot be read now is compared on a later pass; the others are compared now.
    if (usable.length < owners.length) report.shardsSkipped++;
    if (usable.length >= 2) await this.#compare(uid, pk, shard, usable, report);
  }

  async #compare(uid: string, pk: string, shard: number, owners: string[], report: PassReport): Promise<void> {
    const prints = new Array<ShardFingerprint>(owners.length);
    let next = 0;
    const reader = async () => {
      while (next < owners.length) {
        const i = next++;
        prints[i] = await fingerprintShard(this.#cluster.node(owners[i]!), uid, pk, shard, this.#opts.fingerprint_batch_size, (ms) => this.#throttle(ms));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#opts.max_read_concurrency, owners.length) }, reader));
    report.shardsScanned++;
    this.#m.scanned.inc();
    const divergent = divergentKeys(prints);
    if (divergent.length === 0) return;
    report.mismatches += divergent.length;
    this.#m.mismatches.inc(divergent.length);
    this.#log.warn({ index: uid, shard, documents: divergent.length, sample: divergent.slice(0, 5) }, 'replicas diverge');
    if (!this.#opts.auto_repair) return;
    const repaired = await this.#repair(uid, pk, shard, owners, divergent);
    report.repaired += repaired;
    this.#m.repaired.inc(repaired);
  }

  async #throttle(activeMs: number): Promise<void> {
    const d = this.#opts.duty_cycle;
    if (d < 1) await sleep(Math.min(60_000, activeMs * (1 / d - 1)));
  }

  /** Repairs `keys` under the index's write lock; returns how many documents were written or deleted. */
  async #repair(uid: string, pk: string, shard: number, owners: string[], keys: string[]): Promise<number> {
    const nodes = owners.map((id) => this.#cluster.node(id));
    const enqueued: { node: NodeClient; taskUid: number }[] = [];
    let count = 0;
    await this.#cluster.writeLock.run([uid], () => this.#fence.hold(uid, async (check) => {
      await Promise.all(nodes.map((n) => waitDrained(n, uid)));
      // Decide again on what the replicas hold now that every earlier write has been applied.
      const copies = await Promise.all(nodes.map((n) => readDocuments(n, uid, pk, keys)));
      const now = Date.now();
      const writes = new Map<string, Doc[]>();
      const deletes = new Map<string, string[]>();
      for (const key of keys) {
        const views = new Map<string, DocSummary | undefined>();
        owners.forEach((id, i) => views.set(id, copies[i]!.get(key)?.summary));
        const repair: Repair = decideRepair(views, now);
        if (repair.kind === 'delete') {
          for (const id of repair.from) push(deletes, id, key);
          count++;
        } else if (repair.kind === 'copy') {
          const doc = copies[owners.indexOf(repair.source)]!.get(key)!.doc;
          for (const id of repair.to) push(writes, id, doc);
          count++;
        }
      }
      for (const [i, node] of nodes.entries()) {
        const id = owners[i]!;
        const docs = writes.get(id);
        if (docs) {
          check();
          const { body } = await node.request<{ taskUid: number }>({
            method: 'POST',
            path: `/indexes/${enc(uid)}/documents?primaryKey=${enc(pk)}`,
            raw: JSON.stringify(docs),
          });
          enqueued.push({ node, taskUid: body.taskUid });
        }
        const ids = deletes.get(id);
        if (ids) {
          check();
          const { body } = await node.request<{ taskUid: number }>({ method: 'POST', path: `/indexes/${enc(uid)}/documents/delete-batch`, body: ids });
          enqueued.push({ node, taskUid: body.taskUid });
        }
      }
    }));
    for (const { node, taskUid } of enqueued) await waitTask(node, taskUid);
    if (count > 0) this.#log.info({ index: uid, shard, documents: count, origin: 'antientropy' }, 'replicas repaired');
    return count;
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
