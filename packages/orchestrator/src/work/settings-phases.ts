/**
 * The phases of one settings broadcast (spec S13.5), driven by {@link SettingsBroadcaster} under
 * the index's `settings_broadcast:<uid>` lease:
 *
 * - `two_phase`: propose (wait for every node task, within `verify_timeout_s`) → verify (read every
 *   node's settings back and compare fingerprints; the proposed values must hold) → repair each
 *   divergent node with exponential backoff, up to `max_repair_retries` → commit (the index's
 *   `settings_version` + 1, each verified node's `node_settings_version` advanced). A node still
 *   divergent fails the task and, with `freeze_writes_on_unrepairable`, freezes document writes.
 * - `sequential`: one node after another, each verified before the next; the first failure rolls
 *   every changed node back to the settings it had, and the task fails.
 *
 * Each phase is persisted in the task row before the next begins, and every phase is idempotent,
 * so the next holder of the lease resumes from the last persisted phase. Every write to the store
 * is fenced: it is made only after the lease is checked to be still this driver's, so a driver
 * deposed while it waited on a node never writes over its successor's progress.
 */
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { nowMicros, type Settings, type TaskError, type TaskView } from '@miroir/protocol';
import type { Catalog } from '../catalog.js';
import type { Cluster } from '../cluster.js';
import { judgeSettings, repairBody, settingsFingerprint, unheldSettings, type SettingsJudgement } from '../core/settings-fingerprint.js';
import { foldTask, type MappedNodeTask } from '../core/tasks.js';
import { miroirError, type MiroirErrorCode } from '../errors.js';
import type { Metrics } from '../obs/metrics.js';
import type { SettingsBroadcastState, StateStore, TaskRow } from '../state/store.js';
import type { HeldLease } from './leases.js';
import { applyAndWait, failureText, readNodeSettings, sendRequests, settingsPatch, waitNodeTasks } from './settings-io.js';
import type { RoutingFence } from './fence.js';
import type { SettingsVersions } from './settings-versions.js';
import type { NodeViews, TaskRegistry } from './tasks.js';

/** Phases as the `miroir_settings_broadcast_phase` gauge numbers them. */
export const PHASE_NUMBER = { idle: 0, propose: 1, verify: 2, repair: 3, commit: 4 } as const;
export type GaugePhase = keyof typeof PHASE_NUMBER;

export interface DriverDeps {
  cluster: Cluster;
  catalog: Catalog;
  tasks: TaskRegistry;
  versions: SettingsVersions;
  metrics: Metrics;
  log: Logger;
  /**
   * Announces a commit or a freeze to every orchestrator and waits until each dropped its cached
   * settings versions and finished the writes planned before (the routing fence's barrier).
   */
  fence: Pick<RoutingFence, 'advanceAndWait'>;
}

/** One drive of a broadcast: the lease it runs under and where it reports its phase. */
export interface DriveRun {
  /** The index's broadcast lease: checked before every store write (fencing). */
  readonly lease: HeldLease;
  /** Aborts when the process stops or the lease is lost: node waits and repair backoffs end. */
  readonly signal: AbortSignal;
  /** Called as each phase begins (the gauge, the other processes' `X-Miroir-Settings-Inconsistent`). */
  phase(p: GaugePhase): void;
}

export class BroadcastDriver {
  readonly #d: DriverDeps;

  constructor(deps: DriverDeps) {
    this.#d = deps;
  }

  get #store(): StateStore {
    return this.#d.cluster.store;
  }

  get #cfg() {
    return this.#d.cluster.config.settings_broadcast;
  }

  /**
   * Sequential strategy: every node's settings before the change, for the rollback. Nodes that
   * cannot be read are left out (they cannot be changed either).
   */
  async snapshot(uid: string): Promise<Record<string, Settings>> {
    const reads = await readNodeSettings(this.#d.cluster, uid, [...this.#d.cluster.nodes.keys()]);
    return Object.fromEntries(reads.filter((r) => r.settings !== undefined).map((r) => [r.nodeId, r.settings!]));
  }

  /** Persists the task row, unless this process no longer holds the broadcast's lease (fencing). */
  async #put(run: DriveRun, row: TaskRow): Promise<void> {
    await run.lease.check();
    await this.#store.putTask(row);
  }

  /** Persists a phase (or other broadcast state) of the task, fenced like {@link #put}. */
  async #save(run: DriveRun, row: TaskRow, state: Partial<SettingsBroadcastState>): Promise<TaskRow> {
    const next = { ...row, settingsBroadcast: { ...row.settingsBroadcast!, ...state } };
    await this.#put(run, next);
    return next;
  }

  #wait(run: DriveRun) {
    return {
      timeoutMs: this.#cfg.verify_timeout_s * 1000,
      pollMs: this.#d.cluster.config.task_registry.poll_interval_ms,
      signal: run.signal,
    };
  }

  /** Drives the broadcast of `row` from its persisted phase to its end. */
  async drive(row: TaskRow, run: DriveRun): Promise<void> {
    if (row.settingsBroadcast!.strategy === 'sequential') return this.#sequential(row, run);
    return this.#twoPhase(row, run);
  }

  /** The task as its node tasks show it, held at `processing` while the broadcast runs. */
  #folded(row: TaskRow, views: NodeViews): TaskRow {
    const mapped: MappedNodeTask[] = [];
    for (const [nodeId, uids] of Object.entries(row.nodeTasks)) {
      const byUid = new Map((views.get(nodeId) ?? []).map((v) => [v.uid, v]));
      for (const u of uids) mapped.push({ nodeId, groupId: 0, copies: 1, task: byUid.get(u) ?? null });
    }
    const first = Object.keys(row.nodeTasks)[0];
    const shownUid = first === undefined || row.detailsFrom === undefined ? undefined : row.nodeTasks[first]![row.detailsFrom];
    const shown = shownUid === undefined ? null : (views.get(first!)?.find((v) => v.uid === shownUid) ?? null);
    return foldTask({ ...row, status: row.status === 'enqueued' ? 'enqueued' : 'processing' }, mapped, shown);
  }

  /** Propose: waits for every node task, showing progress; the nodes' final views. */
  async #propose(row: TaskRow, run: DriveRun): Promise<{ row: TaskRow; views: Map<string, TaskView[]>; errors: Map<string, string> }> {
    const views = new Map<string, TaskView[]>();
    const errors = new Map<string, string>();
    let shownStatus = row.status;
    await Promise.all(
      Object.entries(row.nodeTasks).map(async ([nodeId, uids]) => {
        const out = await waitNodeTasks(this.#d.cluster, nodeId, uids, {
          ...this.#wait(run),
          progress: async (v) => {
            views.set(nodeId, v);
            const f = this.#folded(row, views);
            // Never terminal here: the client sees `succeeded` only after the commit.
            if (f.status !== 'enqueued' && shownStatus === 'enqueued') {
              shownStatus = 'processing';
              await this.#put(run, { ...row, status: 'processing', startedAt: f.startedAt ?? nowMicros() });
            }
          },
        });
        views.set(nodeId, out.views);
        if (out.error !== undefined) errors.set(nodeId, out.error);
      }),
    );
    return { row: { ...row, status: shownStatus === 'enqueued' ? row.status : 'processing' }, views, errors };
  }

  async #twoPhase(start: TaskRow, run: DriveRun): Promise<void> {
    const uid = start.indexUid!;
    const nodeIds = [...this.#d.cluster.nodes.keys()];
    let row = start;
    let state = row.settingsBroadcast!;
    let views: Map<string, TaskView[]> = new Map();
    if (state.phase === 'propose') {
      run.phase('propose');
      const p = await this.#propose(row, run);
      views = p.views;
      // The client's change, without the index setup sent before it (api/writes.ts).
      const all = [...p.views.values()].flatMap((v) => v.slice(row.detailsFrom ?? 0));
      // No node applied the change (every node refused it while processing, or it was canceled):
      // the settings changed nowhere, and the task ends as it would on one node.
      const ended = all.filter((v) => v.status === 'failed' || v.status === 'canceled');
      if (ended.length > 0 && !all.some((v) => v.status === 'succeeded')) {
        const folded = this.#folded(p.row, views);
        const failedView = all.find((v) => v.status === 'failed');
        await this.#finish(run, folded, views, failedView?.error ?? null, failedView ? 'failed' : 'canceled');
        return;
      }
      row = await this.#save(run, p.row, { phase: 'verify' });
      state = row.settingsBroadcast!;
    }
    let judgement: SettingsJudgement | undefined;
    if (state.phase === 'verify' || state.phase === 'repair') {
      run.phase('verify');
      judgement = await this.#verify(uid, nodeIds, state.proposal);
      for (let attempt = 0; judgement.divergent.length > 0 && attempt < this.#cfg.max_repair_retries; attempt++) {
        if (state.phase !== 'repair') {
          row = await this.#save(run, row, { phase: 'repair' });
          state = row.settingsBroadcast!;
        }
        run.phase('repair');
        await sleep(this.#cfg.repair_backoff_ms * 2 ** attempt, undefined, { signal: run.signal });
        const ref = judgement.reference;
        await Promise.all(
          judgement.divergent.map(async ({ nodeId }) => {
            const requests = ref
              ? [settingsPatch(uid, repairBody(ref.settings, (await readNodeSettings(this.#d.cluster, uid, [nodeId]))[0]!.settings))]
              : state.requests;
            const error = await applyAndWait(this.#d.cluster, nodeId, requests, this.#wait(run));
            if (error !== undefined) this.#d.log.warn({ index: uid, node: nodeId, attempt: attempt + 1, error }, 'settings repair failed');
          }),
        );
        run.phase('verify');
        judgement = await this.#verify(uid, nodeIds, state.proposal);
      }
    } else {
      // Resumed at commit: the nodes were judged before the restart; judge them again for the version rows.
      judgement = await this.#verify(uid, nodeIds, state.proposal);
    }
    if (views.size === 0) views = await this.#nodeViews(run, row);
    const folded = this.#folded(row, views);
    if (judgement.reference === undefined) {
      await this.#unrepairable(run, uid, judgement);
      await this.#finish(run, folded, views, this.#taskError('miroir_settings_unrepairable', uid, judgement), 'failed');
      return;
    }
    run.phase('commit');
    row = await this.#commit(run, row, uid, judgement);
    if (judgement.divergent.length > 0) {
      await this.#finish(run, { ...folded, settingsBroadcast: row.settingsBroadcast! }, views, this.#taskError('miroir_settings_unrepairable', uid, judgement), 'failed');
    } else {
      await this.#finish(run, { ...folded, settingsBroadcast: row.settingsBroadcast! }, views, null, 'succeeded');
    }
  }

  async #verify(uid: string, nodeIds: string[], proposal: Record<string, unknown>): Promise<SettingsJudgement> {
    const reads = await readNodeSettings(this.#d.cluster, uid, nodeIds);
    let j = judgeSettings(reads, { proposal });
    if (j.reference === undefined && j.fingerprints.size === reads.length && new Set(j.fingerprints.values()).size === 1) {
      // Every node applied the change and holds the same settings, only not in the form the proposal
      // was written in (a node normalized a value): the nodes agree, which is what ranking needs.
      this.#d.log.warn({ index: uid, proposal, divergent: j.divergent }, 'every node normalized the proposed settings the same way');
      j = judgeSettings(reads, {});
    }
    if (j.divergent.length > 0) {
      this.#d.metrics.settingsHashMismatch.labels(uid).inc(j.divergent.length);
      this.#d.log.warn({ index: uid, divergent: j.divergent }, 'settings differ between nodes after a change');
    }
    return j;
  }

  /**
   * Commit: the index's version + 1 (fixed in the task row first, so a resumed commit writes the
   * same number), the reference fingerprint, each verified node's version, and the frozen flag.
   */
  async #commit(run: DriveRun, row: TaskRow, uid: string, j: SettingsJudgement): Promise<TaskRow> {
    const meta = await this.#d.catalog.meta(uid);
    const version = row.settingsBroadcast!.commitVersion ?? meta.settingsVersion + 1;
    if (row.settingsBroadcast!.commitVersion === undefined) row = await this.#save(run, row, { phase: 'commit', commitVersion: version });
    const next = { ...meta, settingsVersion: version };
    if (j.reference) next.settingsFingerprint = j.reference.fingerprint;
    delete next.writesFrozen;
    if (j.divergent.length > 0 && this.#cfg.freeze_writes_on_unrepairable) next.writesFrozen = frozenReason(j);
    await run.lease.check();
    await this.#store.putIndexMeta(next);
    for (const nodeId of j.verified) await this.#store.putNodeSettingsVersion(uid, nodeId, version);
    this.#published(uid, version, next.writesFrozen);
    // Every orchestrator reads the new version (its floor) and the frozen flag from now on, and no
    // write it planned before is still on its way.
    await this.#d.fence.advanceAndWait(run.signal);
    if (j.divergent.length > 0) this.#d.log.error({ index: uid, divergent: j.divergent, frozen: next.writesFrozen !== undefined }, 'settings could not be repaired on every node');
    return row;
  }

  /** No node holds acceptable settings: nothing to commit; the index is frozen when so configured. */
  async #unrepairable(run: DriveRun, uid: string, j: SettingsJudgement): Promise<void> {
    if (!this.#cfg.freeze_writes_on_unrepairable) return;
    const meta = await this.#d.catalog.meta(uid);
    await run.lease.check();
    await this.#store.putIndexMeta({ ...meta, writesFrozen: frozenReason(j) });
    this.#published(uid, meta.settingsVersion, frozenReason(j));
    await this.#d.fence.advanceAndWait(run.signal);
  }

  #published(uid: string, version: number, frozen: string | undefined): void {
    this.#d.versions.invalidate(uid);
    this.#d.catalog.invalidate(uid);
    this.#d.metrics.settingsVersion.labels(uid).set(version);
    this.#d.metrics.settingsWritesFrozen.labels(uid).set(frozen === undefined ? 0 : 1);
  }

  #taskError(code: MiroirErrorCode, uid: string, j: SettingsJudgement): TaskError {
    const nodes = j.divergent.map((d) => `\`${d.nodeId}\` (${d.reason})`).join(', ');
    const what =
      code === 'miroir_settings_unrepairable'
        ? `The settings of index \`${uid}\` could not be made identical on every node after ${this.#cfg.max_repair_retries} repair attempt(s): ${nodes}.`
        : `The settings change on index \`${uid}\` failed on ${nodes}; the nodes already changed were rolled back.`;
    return miroirError(code, what).toJSON();
  }

  /** Node task views of the task (after a restart, when propose did not run in this process). */
  async #nodeViews(run: DriveRun, row: TaskRow): Promise<Map<string, TaskView[]>> {
    const views = new Map<string, TaskView[]>();
    await Promise.all(
      Object.entries(row.nodeTasks).map(async ([nodeId, uids]) => {
        const out = await waitNodeTasks(this.#d.cluster, nodeId, uids, { ...this.#wait(run), timeoutMs: 0 });
        views.set(nodeId, out.views);
      }),
    );
    return views;
  }

  /** Stores the task's final state and runs the completion hooks. */
  async #finish(run: DriveRun, folded: TaskRow, views: NodeViews, error: TaskError | null, status: 'succeeded' | 'failed' | 'canceled'): Promise<void> {
    const now = nowMicros();
    // A cancelation may have marked the task after this drive read it (the mark is kept apart).
    const mark = (await this.#store.getTask(folded.uid))?.cancelRequestedBy ?? folded.cancelRequestedBy;
    const final: TaskRow = {
      ...folded,
      ...(mark === undefined ? {} : { cancelRequestedBy: mark }),
      ...(status === 'canceled' ? { canceledBy: mark ?? folded.canceledBy } : {}),
      status,
      batchUid: folded.uid,
      startedAt: folded.startedAt ?? now,
      finishedAt: Math.max(now, folded.finishedAt ?? 0),
      error,
      settingsBroadcast: { ...folded.settingsBroadcast!, phase: 'done' },
    };
    await run.lease.check();
    await this.#d.tasks.settle(final, views);
  }

  /** Sequential: node by node, each verified; the first failure rolls back every node changed. */
  async #sequential(start: TaskRow, run: DriveRun): Promise<void> {
    const uid = start.indexUid!;
    const nodeIds = [...this.#d.cluster.nodes.keys()];
    let row = start;
    const state = () => row.settingsBroadcast!;
    const views = new Map<string, TaskView[]>();
    let failure: { nodeId: string; reason: string; nodeError?: TaskError | null } | undefined;
    let firstFingerprint: string | undefined;
    if (state().phase === 'apply') {
      run.phase('propose');
      for (const nodeId of nodeIds) {
        if (row.status === 'enqueued') row = { ...row, status: 'processing', startedAt: nowMicros() };
        let uids = row.nodeTasks[nodeId];
        if (uids === undefined) {
          const sent = await sendRequests(this.#d.cluster, nodeId, state().requests);
          if (sent.uids.length > 0) row = { ...row, nodeTasks: { ...row.nodeTasks, [nodeId]: sent.uids } };
          if (sent.error !== undefined) {
            failure = { nodeId, reason: failureText(sent.error) };
            break;
          }
          uids = sent.uids;
          await this.#put(run, row);
        }
        const out = await waitNodeTasks(this.#d.cluster, nodeId, uids, this.#wait(run));
        views.set(nodeId, out.views);
        const refused = out.views.find((v) => v.status === 'failed');
        if (out.error !== undefined || refused !== undefined) {
          failure = { nodeId, reason: out.error ?? `node task ${refused!.uid} failed`, nodeError: refused?.error ?? null };
          break;
        }
        const [read] = await readNodeSettings(this.#d.cluster, uid, [nodeId]);
        if (read!.settings === undefined) {
          failure = { nodeId, reason: read!.error ?? 'settings could not be read' };
          break;
        }
        const unheld = unheldSettings(state().proposal, read!.settings as unknown as Record<string, unknown>);
        const fp = settingsFingerprint(read!.settings as unknown as Record<string, unknown>);
        firstFingerprint ??= fp;
        if (unheld.length > 0 || fp !== firstFingerprint) {
          failure = { nodeId, reason: unheld.length > 0 ? `does not hold ${unheld.join(', ')}` : 'its settings differ from the nodes changed before it' };
          break;
        }
        row = await this.#save(run, row, { applied: [...(state().applied ?? []), nodeId] });
      }
      if (failure === undefined) row = await this.#save(run, row, { phase: 'commit' });
      else row = await this.#save(run, row, { phase: 'rollback' });
    }
    if (state().phase === 'rollback') {
      run.phase('repair');
      const touched = [...(state().applied ?? []), ...(failure ? [failure.nodeId] : [])];
      for (const nodeId of touched) {
        const previous = state().previous?.[nodeId] as Settings | undefined;
        if (previous === undefined) continue;
        const [now] = await readNodeSettings(this.#d.cluster, uid, [nodeId]);
        const error = await applyAndWait(this.#d.cluster, nodeId, [settingsPatch(uid, repairBody(previous, now!.settings))], this.#wait(run));
        if (error !== undefined) this.#d.log.error({ index: uid, node: nodeId, error }, 'settings rollback failed');
      }
      this.#d.catalog.invalidate(uid);
      const folded = this.#folded(row, views.size > 0 ? views : await this.#nodeViews(run, row));
      const reason = failure ?? { nodeId: 'unknown', reason: 'the change failed before a restart' };
      const error =
        reason.nodeError ?? this.#taskError('miroir_settings_rolled_back', uid, { verified: [], divergent: [reason], fingerprints: new Map() });
      await this.#finish(run, folded, views, error, 'failed');
      return;
    }
    const judgement = judgeSettings(await readNodeSettings(this.#d.cluster, uid, nodeIds), { proposal: state().proposal });
    run.phase('commit');
    row = await this.#commit(run, row, uid, { ...judgement, divergent: [] });
    const allViews = views.size > 0 ? views : await this.#nodeViews(run, row);
    await this.#finish(run, this.#folded(row, allViews), allViews, null, 'succeeded');
  }
}

function frozenReason(j: SettingsJudgement): string {
  return `settings differ on node(s) ${j.divergent.map((d) => `${d.nodeId} (${d.reason})`).join(', ')}`;
}
