/**
 * Background reads and waits on one node's copy of a shard, shared by anti-entropy and the
 * rebalancer: page the documents of `_miroir_shard = s` (with their vectors, so a copy keeps its
 * embeddings), fold them into a fingerprint, read single documents, and wait for node tasks.
 */
import { documentId, type TaskStatus } from '@miroir/protocol';
import { SHARD_FIELD } from '../core/documents.js';
import { ShardFingerprint, summarize, type DocSummary } from '../core/fingerprint.js';
import { isTerminal } from '../core/tasks.js';
import { NodeHttpError, type NodeClient } from '../nodes/node-client.js';

export type Doc = Record<string, unknown>;

/** Node tasks finished before background work moves on. */
const TASK_WAIT_MS = 60_000;
const POLL_MS = 25;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
const enc = encodeURIComponent;

/** One page of a shard's documents on a node, as the node holds them (reserved fields included). */
export async function shardPage(node: NodeClient, uid: string, shard: number, offset: number, limit: number): Promise<{ results: Doc[]; total: number }> {
  const { body } = await node.request<{ results: Doc[]; total: number }>({
    method: 'POST',
    path: `/indexes/${enc(uid)}/documents/fetch`,
    // Vectors are part of a document: a copy without them would drop its embeddings.
    body: { filter: `${SHARD_FIELD} = ${shard}`, limit, offset, retrieveVectors: true },
  });
  return body;
}

/** How many documents of the shard the node holds. */
export async function shardCount(node: NodeClient, uid: string, shard: number): Promise<number> {
  const { body } = await node.request<{ total: number }>({
    method: 'POST',
    path: `/indexes/${enc(uid)}/documents/fetch`,
    body: { filter: `${SHARD_FIELD} = ${shard}`, limit: 0, fields: [] },
  });
  return body.total;
}

/**
 * The fingerprint of a node's copy of a shard, read page by page; `afterPage` runs after each page
 * with the time the read took (to throttle).
 */
export async function fingerprintShard(
  node: NodeClient,
  uid: string,
  pk: string,
  shard: number,
  limit: number,
  afterPage: (activeMs: number) => Promise<void> = async () => {},
): Promise<ShardFingerprint> {
  const print = new ShardFingerprint();
  for (let offset = 0; ; offset += limit) {
    const began = performance.now();
    const body = await shardPage(node, uid, shard, offset, limit);
    for (const doc of body.results) print.add(documentId(doc, pk), doc);
    await afterPage(performance.now() - began);
    if (body.results.length < limit || offset + limit >= body.total) return print;
  }
}

/** The current copies of `keys` on one node (absent keys are missing from the map). */
export async function readDocuments(node: NodeClient, uid: string, pk: string, keys: readonly string[]): Promise<Map<string, { doc: Doc; summary: DocSummary }>> {
  const out = new Map<string, { doc: Doc; summary: DocSummary }>();
  for (const key of keys) {
    try {
      const { body } = await node.request<Doc>({ method: 'GET', path: `/indexes/${enc(uid)}/documents/${enc(key)}?retrieveVectors=true` });
      out.set(key, { doc: body, summary: summarize(documentId(body, pk), body) });
    } catch (e) {
      if (e instanceof NodeHttpError && e.status === 404) continue;
      throw e;
    }
  }
  return out;
}

/** Waits until the node has processed every task already enqueued for the index. */
export async function waitDrained(node: NodeClient, uid: string): Promise<void> {
  const deadline = Date.now() + TASK_WAIT_MS;
  for (;;) {
    const { body } = await node.request<{ total: number }>({
      method: 'GET',
      path: `/tasks?indexUids=${enc(uid)}&statuses=enqueued,processing&limit=1`,
    });
    if (body.total === 0) return;
    if (Date.now() > deadline) throw new Error(`node ${node.id} still has tasks for ${uid} after ${TASK_WAIT_MS} ms`);
    await sleep(POLL_MS);
  }
}

/** Waits for a node task to reach a terminal state; returns the task as the node shows it. */
export async function waitTask(node: NodeClient, taskUid: number): Promise<{ status: TaskStatus; error?: { code: string; message: string } | null }> {
  const deadline = Date.now() + TASK_WAIT_MS;
  for (;;) {
    const { body } = await node.request<{ status: TaskStatus; error?: { code: string; message: string } | null }>({ method: 'GET', path: `/tasks/${taskUid}` });
    if (isTerminal(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`node ${node.id} task ${taskUid} unfinished after ${TASK_WAIT_MS} ms`);
    await sleep(POLL_MS);
  }
}
