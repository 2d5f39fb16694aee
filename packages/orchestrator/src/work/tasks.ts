/**
 * The task registry (spec S3.3): Miroir's tasks in the state store, each standing for node tasks.
 * A poller folds the node tasks' progress into the rows until they reach a terminal state; a read
 * of a pending task refreshes it first, so `waitForTask` never waits for the next poll tick.
 *
 * With several orchestrators on one store, each polls the pending tasks it owns (Mode A over the
 * task uid) and the pruning runs on one of them; a read on another process may fold the same task
 * at the same time: folding is idempotent, a folded row never overwrites a terminal one, and the
 * store lets exactly one process finish a task, so completion hooks run once in the fleet. A task reaching a terminal
 * state is announced on the store's event bus before the row is stored, so every process has
 * forgotten the cached index metadata it changes before any client can see the task finished.
 */
import type { Logger } from 'pino';
import { nowMicros, type TaskView } from '@miroir/protocol';
import type { Catalog } from '../catalog.js';
import type { Cluster } from '../cluster.js';
import { foldTask, isTerminal, type MappedNodeTask } from '../core/tasks.js';
import { miroirError } from '../errors.js';
import type { TaskRow } from '../state/store.js';
import { soleOwner, type Ownership } from './ownership.js';

/** A settings broadcast drives its own task (spec S13.5): the poller leaves it alone until it is done. */
const drivenElsewhere = (row: TaskRow) => row.settingsBroadcast !== undefined && row.settingsBroadcast.phase !== 'done';

/** The error of a task whose every node task was on nodes that left the topology before it was read. */
const NODES_GONE = miroirError(
  'miroir_node_removed',
  'Every node that took this write left the cluster before its outcome was known; it may not be held by the current owners. Send the write again.',
);

/** Node task views of a finished task, by node id, in the order they were sent (absent when settled by Miroir). */
export type NodeViews = ReadonlyMap<string, readonly TaskView[]>;
type FinishedHook = (row: TaskRow, nodes: NodeViews) => Promise<void> | void;

export class TaskRegistry {
  readonly #cluster: Cluster;
  readonly #catalog: Catalog;
  readonly #log: Logger;
  readonly #hooks: FinishedHook[] = [];
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #closed = false;
  readonly #fired = new Set<number>();

  readonly #ownership: Ownership;

  constructor(cluster: Cluster, catalog: Catalog, log: Logger, ownership: Ownership = soleOwner) {
    this.#ownership = ownership;
    this.#cluster = cluster;
    this.#catalog = catalog;
    this.#log = log;
    // Settings, primary keys and index existence change when these tasks finish.
    this.onFinished((row) => {
      if (row.indexUid) this.#catalog.deletionSettled(row.indexUid, row.uid);
      if (row.indexUid) this.#catalog.invalidate(row.indexUid);
      for (const uid of row.indexes ?? []) this.#catalog.invalidate(uid);
    });
  }

  /** Runs after a task reaches a terminal state (once per task and process). */
  onFinished(hook: FinishedHook): void {
    this.#hooks.push(hook);
  }

  async insert(row: TaskRow): Promise<void> {
    if (isTerminal(row.status)) await this.#announce(row);
    await this.#cluster.store.putTask(row);
    if (isTerminal(row.status)) await this.#finished(row, new Map());
  }

  /** The task, refreshed from its nodes when it is still pending. */
  async get(uid: number): Promise<TaskRow | undefined> {
    const row = await this.#cluster.store.getTask(uid);
    if (row === undefined || isTerminal(row.status) || drivenElsewhere(row)) return row;
    const [fresh] = await this.#refresh([row]);
    return fresh;
  }

  start(): void {
    const tick = async () => {
      if (this.#closed) return;
      this.#polling = this.pollOnce().catch((e: unknown) => this.#log.warn({ err: e }, 'task poll failed'));
      await this.#polling;
      if (!this.#closed) this.#timer = setTimeout(() => void tick(), this.#cluster.config.task_registry.poll_interval_ms);
    };
    void tick();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#polling;
  }

  /** One poll of every pending task; also prunes rows past the retention. */
  async pollOnce(): Promise<void> {
    const pending = (await this.#cluster.store.pendingTasks()).filter((r) => this.#ownership.owns(`task:${r.uid}`));
    if (pending.length > 0) await this.#refresh(pending);
    if (!this.#ownership.owns('task_pruner')) return;
    const retentionMicros = this.#cluster.config.task_registry.retention_days * 86_400_000_000;
    await this.#cluster.store.pruneTasks(Date.now() * 1000 - retentionMicros);
  }

  /** Reads the node tasks of `rows` (one request per node) and stores what changed. */
  async #refresh(all: TaskRow[]): Promise<TaskRow[]> {
    const rows = all.filter((r) => !drivenElsewhere(r));
    const wanted = new Map<string, Set<number>>();
    for (const row of rows) {
      for (const [nodeId, uids] of Object.entries(row.nodeTasks)) {
        let set = wanted.get(nodeId);
        if (set === undefined) wanted.set(nodeId, (set = new Set()));
        for (const u of uids) set.add(u);
      }
    }
    const views = new Map<string, Map<number, TaskView>>();
    await Promise.all(
      [...wanted].map(async ([nodeId, uids]) => {
        const node = this.#cluster.nodes.get(nodeId);
        if (node === undefined) return;
        const list = [...uids];
        const byUid = new Map<number, TaskView>();
        // Chunks keep the query string short; a node that cannot answer leaves its tasks as they were.
        for (let i = 0; i < list.length; i += 200) {
          const chunk = list.slice(i, i + 200);
          try {
            const res = await node.request<{ results: TaskView[] }>({
              method: 'GET',
              path: `/tasks?uids=${chunk.join(',')}&limit=${chunk.length}`,
            });
            for (const v of res.body.results) byUid.set(v.uid, v);
          } catch (e) {
            this.#log.debug({ node: nodeId, err: e }, 'node task read failed');
            return;
          }
        }
        views.set(nodeId, byUid);
      }),
    );
    const out: TaskRow[] = [];
    for (const row of rows) {
      const mapped: MappedNodeTask[] = [];
      for (const [nodeId, uids] of Object.entries(row.nodeTasks)) {
        const { groupId, copies } = this.#copiesOf(nodeId);
        const left = !this.#cluster.nodes.has(nodeId);
        const joining = row.joining?.includes(nodeId) === true;
        for (const u of uids) {
          const task = views.get(nodeId)?.get(u) ?? null;
          const gone = left || (joining && task?.status === 'failed' && task.error?.code === 'index_not_found');
          mapped.push({ nodeId, groupId, copies, task, gone });
        }
      }
      const first = Object.keys(row.nodeTasks)[0];
      const shown = row.detailsFrom === undefined || first === undefined ? null : views.get(first)?.get(row.nodeTasks[first]![row.detailsFrom]!);
      const next = foldTask(row, mapped, shown, { error: NODES_GONE.toJSON(), at: nowMicros() });
      if (next !== row) {
        if (isTerminal(next.status)) await this.#announce(next);
        // A row another process finished meanwhile is left as it is, and its hooks ran there.
        const written = await this.#cluster.store.putTaskIfPending(next);
        if (written && isTerminal(next.status)) {
          const byNode = new Map<string, TaskView[]>();
          for (const [nodeId, uids] of Object.entries(next.nodeTasks)) {
            byNode.set(nodeId, uids.map((u) => views.get(nodeId)?.get(u)).filter((v): v is TaskView => v !== undefined));
          }
          await this.#finished(next, byNode);
        }
      }
      out.push(next);
    }
    return out;
  }

  /**
   * Stores the final state of a task its driver (a settings broadcast) settled, and runs the
   * completion hooks with the node task views the driver read.
   */
  async settle(row: TaskRow, nodes: NodeViews = new Map()): Promise<void> {
    await this.#cluster.store.putTask(row);
    if (isTerminal(row.status)) {
      await this.#finished(row, nodes);
      await this.#announce(row);
    }
  }

  /** Tells every orchestrator that the indexes a finishing task touches may have changed. */
  async #announce(row: TaskRow): Promise<void> {
    const indexUids = [...new Set([...(row.indexUid ? [row.indexUid] : []), ...(row.indexes ?? [])])];
    if (indexUids.length === 0) return;
    try {
      await this.#cluster.store.publish({ kind: 'index_changed', indexUids });
    } catch (e) {
      this.#log.warn({ err: e, task: row.uid }, 'could not announce a finished task; other processes refresh within their cache TTL');
    }
  }

  /** A node's replica group and how many copies of each document that group holds. */
  #copiesOf(nodeId: string): { groupId: number; copies: number } {
    const topo = this.#cluster.topology;
    const groupId = topo.nodes.find((n) => n.id === nodeId)?.group ?? 0;
    const members = topo.nodes.filter((n) => n.group === groupId).length;
    return { groupId, copies: Math.max(1, Math.min(topo.replicationFactor, members)) };
  }

  async #finished(row: TaskRow, nodes: NodeViews): Promise<void> {
    // A read and the poller may both see a task finish; its hooks run once. The mark only has to
    // outlive that race, so it is dropped after a minute.
    if (this.#fired.has(row.uid)) return;
    this.#fired.add(row.uid);
    setTimeout(() => this.#fired.delete(row.uid), 60_000).unref();
    for (const hook of this.#hooks) {
      try {
        await hook(row, nodes);
      } catch (e) {
        this.#log.error({ err: e, task: row.uid }, 'task completion hook failed');
      }
    }
  }
}
