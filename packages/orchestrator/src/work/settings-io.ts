/**
 * The node calls of the settings broadcast and the drift reconciler (spec S13.5): read a node's
 * settings, send it requests, wait for its tasks, make it hold given settings.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Settings, TaskView } from '@miroir/protocol';
import type { Cluster } from '../cluster.js';
import type { NodeSettingsRead } from '../core/settings-fingerprint.js';
import { NodeHttpError, NodeTransportError } from '../nodes/node-client.js';
import type { StoredNodeRequest } from '../state/store.js';

const enc = encodeURIComponent;

/** Why a node call failed, in one line for logs, task errors and the status endpoint. */
export function failureText(e: unknown): string {
  if (e instanceof NodeHttpError) return `${e.body.code}: ${e.body.message}`;
  if (e instanceof NodeTransportError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** Every listed node's settings for an index (node-side, reserved fields included), in `nodeIds` order. */
export async function readNodeSettings(cluster: Cluster, uid: string, nodeIds: readonly string[]): Promise<NodeSettingsRead[]> {
  return Promise.all(
    nodeIds.map(async (nodeId): Promise<NodeSettingsRead> => {
      try {
        const res = await cluster.node(nodeId).request<Settings>({ method: 'GET', path: `/indexes/${enc(uid)}/settings`, operation: 'settings' });
        return { nodeId, settings: res.body };
      } catch (e) {
        return { nodeId, error: failureText(e) };
      }
    }),
  );
}

/** Sends a node its requests in order; the node task uids, or the first failure. */
export async function sendRequests(
  cluster: Cluster,
  nodeId: string,
  requests: readonly StoredNodeRequest[],
): Promise<{ uids: number[]; error?: undefined } | { uids: number[]; error: unknown }> {
  const uids: number[] = [];
  for (const req of requests) {
    try {
      const res = await cluster.node(nodeId).request<{ taskUid: number }>(req);
      uids.push(res.body.taskUid);
    } catch (e) {
      return { uids, error: e };
    }
  }
  return { uids };
}

/** The outcome of a node's tasks: their views when all finished, else why not. */
export type NodeTasksOutcome = { views: TaskView[]; error?: undefined } | { views: TaskView[]; error: string };

/**
 * Polls a node until its tasks `uids` are all finished or `timeoutMs` passed. `progress` sees each
 * read (the broadcast shows the client a `processing` task meanwhile).
 */
export async function waitNodeTasks(
  cluster: Cluster,
  nodeId: string,
  uids: readonly number[],
  opts: { timeoutMs: number; pollMs: number; signal: AbortSignal; progress?: (views: TaskView[]) => Promise<void> | void },
): Promise<NodeTasksOutcome> {
  if (uids.length === 0) return { views: [] };
  const deadline = Date.now() + opts.timeoutMs;
  let views: TaskView[] = [];
  let lastError = 'the node tasks did not finish in time';
  for (;;) {
    try {
      const res = await cluster.node(nodeId).request<{ results: TaskView[] }>({
        method: 'GET',
        path: `/tasks?uids=${uids.join(',')}&limit=${uids.length}`,
      });
      const byUid = new Map(res.body.results.map((v) => [v.uid, v]));
      views = uids.map((u) => byUid.get(u)).filter((v): v is TaskView => v !== undefined);
      await opts.progress?.(views);
      const done = views.length === uids.length && views.every((v) => v.status === 'succeeded' || v.status === 'failed' || v.status === 'canceled');
      if (done) return { views };
    } catch (e) {
      lastError = failureText(e);
    }
    if (Date.now() >= deadline) return { views, error: `${lastError} (within ${opts.timeoutMs} ms)` };
    await sleep(opts.pollMs, undefined, { signal: opts.signal });
  }
}

/**
 * Sends a node its requests and waits for their tasks; `undefined` when all succeeded, else why
 * not (a failed node task gives the node's error).
 */
export async function applyAndWait(
  cluster: Cluster,
  nodeId: string,
  requests: readonly StoredNodeRequest[],
  opts: { timeoutMs: number; pollMs: number; signal: AbortSignal },
): Promise<string | undefined> {
  const sent = await sendRequests(cluster, nodeId, requests);
  if (sent.error !== undefined) return failureText(sent.error);
  const out = await waitNodeTasks(cluster, nodeId, sent.uids, opts);
  if (out.error !== undefined) return out.error;
  const failed = out.views.find((v) => v.status !== 'succeeded');
  return failed ? `node task ${failed.uid} ${failed.status}${failed.error ? `: ${failed.error.message}` : ''}` : undefined;
}

/** The request that replaces a node's settings with `body` (see `repairBody`). */
export function settingsPatch(uid: string, body: Record<string, unknown>): StoredNodeRequest {
  return { method: 'PATCH', path: `/indexes/${enc(uid)}/settings`, body };
}
