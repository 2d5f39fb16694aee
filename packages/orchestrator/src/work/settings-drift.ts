/**
 * The settings drift reconciler (spec S13.5, always on): every `settings_drift_check.interval_s`,
 * fingerprints the settings of the (index, node) pairs this process owns (Mode A) and compares them
 * with the committed fingerprint. A node that differs (changed out of band, or left divergent by a
 * broadcast) is counted in `miroir_settings_hash_mismatch_total` and, with `auto_repair`, brought
 * back to the committed settings (`miroir_settings_drift_repair_total`) and its
 * `node_settings_version` advanced. An index frozen by an unrepairable broadcast is unfrozen once
 * every node holds the committed version again.
 *
 * A node that comes back from `failed` is checked as soon as it answers again, and does not serve
 * reads ({@link SettingsDriftReconciler.serves}) until its settings have been checked.
 */
import { canonicalQueryJson } from '../core/read-key.js';
import type { Logger } from 'pino';
import type { Catalog } from '../catalog.js';
import type { Cluster } from '../cluster.js';
import { judgeSettings, repairBody } from '../core/settings-fingerprint.js';
import type { Metrics } from '../obs/metrics.js';
import type { IndexMeta } from '../state/store.js';
import type { Ownership } from './ownership.js';
import type { SettingsBroadcaster } from './settings-broadcast.js';
import { applyAndWait, readNodeSettings, settingsPatch } from './settings-io.js';
import type { SettingsVersions } from './settings-versions.js';

export interface DriftDeps {
  cluster: Cluster;
  catalog: Catalog;
  versions: SettingsVersions;
  broadcasts: SettingsBroadcaster;
  ownership: Ownership;
  metrics: Metrics;
  log: Logger;
}

/** What one pass found, per index (tests and logs read it). */
export interface DriftReport {
  checked: number;
  drifted: { index: string; nodeId: string }[];
  repaired: { index: string; nodeId: string }[];
  unfrozen: string[];
}

export class SettingsDriftReconciler {
  readonly #d: DriftDeps;
  /** Nodes back from a failure whose settings are not checked yet. */
  readonly #unchecked = new Set<string>();
  readonly #abort = new AbortController();
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: DriftDeps) {
    this.#d = deps;
    deps.cluster.health.onChange((nodeId, state) => {
      if (state === 'failed') this.#unchecked.add(nodeId);
      else if (this.#unchecked.has(nodeId) && (state === 'recovering' || state === 'healthy')) void this.checkNode(nodeId);
    });
  }

  /** False for a node back from a failure whose settings have not been checked yet. */
  serves(nodeId: string): boolean {
    return this.#unchecked.size === 0 || !this.#unchecked.has(nodeId);
  }

  start(): void {
    const tick = async () => {
      if (this.#closed) return;
      await this.runOnce().catch((e: unknown) => this.#d.log.warn({ err: e }, 'settings drift pass failed'));
      if (!this.#closed) this.#timer = setTimeout(() => void tick(), this.#d.cluster.config.settings_drift_check.interval_s * 1000);
    };
    // The first pass runs at once: nodes new to the configuration get the committed settings.
    this.#timer = setTimeout(() => void tick(), 0);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#queue.catch(() => undefined);
  }

  /** One pass over every index and every owned node. */
  runOnce(): Promise<DriftReport> {
    return this.#serial(() => this.#pass([...this.#d.cluster.nodes.keys()]));
  }

  /** Checks (and repairs) one node's settings on every index; it serves reads again once done. */
  checkNode(nodeId: string): Promise<DriftReport> {
    return this.#serial(() => this.#pass([nodeId]));
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #pass(candidates: string[]): Promise<DriftReport> {
    const report: DriftReport = { checked: 0, drifted: [], repaired: [], unfrozen: [] };
    const unreadable = new Set<string>();
    for (const meta of await this.#d.cluster.store.listIndexMeta()) {
      if (this.#closed) break;
      const owned = candidates.filter((n) => this.#d.ownership.owns(`settings:${meta.uid}:${n}`));
      if (owned.length === 0 || this.#d.broadcasts.busy(meta.uid)) continue;
      await this.#checkIndex(meta, owned, report, unreadable);
    }
    for (const n of candidates) if (!unreadable.has(n)) this.#unchecked.delete(n);
    if (report.drifted.length > 0 || report.unfrozen.length > 0) this.#d.log.info({ ...report }, 'settings drift pass');
    return report;
  }

  async #checkIndex(meta: IndexMeta, owned: string[], report: DriftReport, unreadable: Set<string>): Promise<void> {
    const { cluster, metrics, log } = this.#d;
    const uid = meta.uid;
    const all = [...cluster.nodes.keys()];
    const reads = await readNodeSettings(cluster, uid, all);
    const j = judgeSettings(reads, { committed: meta.settingsFingerprint });
    const committed = j.reference !== undefined && (meta.settingsFingerprint === undefined || j.reference.fingerprint === meta.settingsFingerprint);
    const versions = await cluster.store.nodeSettingsVersions(uid);
    const wait = {
      timeoutMs: cluster.config.settings_broadcast.verify_timeout_s * 1000,
      pollMs: cluster.config.task_registry.poll_interval_ms,
      signal: this.#abort.signal,
    };
    let changed = false;
    // Owned nodes not known, after this pass, to hold the reference (plus one when there is none).
    let unsettled = j.reference === undefined ? 1 : 0;
    for (const nodeId of owned) {
      report.checked++;
      const read = reads.find((r) => r.nodeId === nodeId)!;
      if (read.settings === undefined) {
        // A node without the index is not drift (the index is being created or deleted, or the
        // node has not joined it): settings are repaired only where the index exists. An
        // unreachable node is the health checker's business; it is checked when it answers again.
        if (!read.error?.startsWith('index_not_found')) {
          unreadable.add(nodeId);
          unsettled++;
        }
        continue;
      }
      if (j.fingerprints.get(nodeId) === j.reference?.fingerprint && j.reference !== undefined) {
        if (committed && (versions.get(nodeId) ?? 0) < meta.settingsVersion) {
          await cluster.store.putNodeSettingsVersion(uid, nodeId, meta.settingsVersion);
          changed = true;
        }
        continue;
      }
      report.drifted.push({ index: uid, nodeId });
      unsettled++;
      metrics.settingsHashMismatch.labels(uid).inc();
      if (j.reference !== undefined && canonicalQueryJson(read.settings.embedders ?? {}) !== canonicalQueryJson(j.reference.settings.embedders ?? {})) {
        metrics.vectorEmbedderDrift.inc();
      }
      log.warn({ index: uid, node: nodeId, committed: meta.settingsFingerprint ?? null, found: j.fingerprints.get(nodeId) ?? null }, 'settings drift');
      if (!cluster.config.settings_drift_check.auto_repair || j.reference === undefined) continue;
      const error = await applyAndWait(cluster, nodeId, [settingsPatch(uid, repairBody(j.reference.settings, read.settings))], wait);
      const [after] = await readNodeSettings(cluster, uid, [nodeId]);
      const again = judgeSettings([...reads.filter((r) => r.nodeId !== nodeId), after!], { committed: j.reference.fingerprint });
      if (error !== undefined || again.fingerprints.get(nodeId) !== j.reference.fingerprint) {
        log.warn({ index: uid, node: nodeId, error: error ?? 'the settings still differ' }, 'settings drift repair failed');
        continue;
      }
      report.repaired.push({ index: uid, nodeId });
      unsettled--;
      metrics.settingsDriftRepair.labels(uid).inc();
      if (committed) await cluster.store.putNodeSettingsVersion(uid, nodeId, meta.settingsVersion);
      changed = true;
    }
    if (meta.writesFrozen !== undefined && unsettled === 0) changed = (await this.#unfreeze(uid, report)) || changed;
    if (changed) {
      this.#d.versions.invalidate(uid);
      this.#d.catalog.invalidate(uid);
    }
  }

  /** Lifts the freeze when every node holds the committed version (the owned ones were just checked). */
  async #unfreeze(uid: string, report: DriftReport): Promise<boolean> {
    const store = this.#d.cluster.store;
    const [meta, versions] = await Promise.all([store.getIndexMeta(uid), store.nodeSettingsVersions(uid)]);
    if (meta?.writesFrozen === undefined || this.#d.broadcasts.busy(uid)) return false;
    for (const nodeId of this.#d.cluster.nodes.keys()) if ((versions.get(nodeId) ?? 0) < meta.settingsVersion) return false;
    const next = { ...meta };
    delete next.writesFrozen;
    await store.putIndexMeta(next);
    this.#d.metrics.settingsWritesFrozen.labels(uid).set(0);
    this.#d.log.info({ index: uid }, 'every node holds the committed settings again: writes unfrozen');
    report.unfrozen.push(uid);
    return true;
  }
}
