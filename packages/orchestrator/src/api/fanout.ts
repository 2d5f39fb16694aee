/**
 * The three ways the API reaches nodes: any one node (reads every node can answer), every node
 * (broadcasts), or a chosen set in parallel (scatter). Transport failures feed node health; the
 * calls count towards the current request's fan-out (search scatters: api/search.ts, reads/read-path.ts).
 */
import type { Cluster } from '../cluster.js';
import { NodeTransportError, type NodeRequest, type NodeResponse } from '../nodes/node-client.js';
import { metricsOf } from '../obs/metrics.js';
import { addFanOut } from '../obs/request-scope.js';

/**
 * Calls one node after another (healthy first) until one answers; its HTTP answer wins, error or
 * not. Reads rotate over the nodes unless `stable`: then the first healthy node in topology order
 * answers, for values that differ from node to node (an index's dates) and must not change
 * between two reads.
 */
export async function firstAnswer<T = unknown>(cluster: Cluster, req: NodeRequest, opts: { stable?: boolean } = {}): Promise<T> {
  let last: unknown = new NodeTransportError('-', false, 'no node is configured');
  let attempts = 0;
  for (const node of cluster.readOrder({ rotate: opts.stable !== true })) {
    // A second attempt is a retry on another node after a transport failure.
    if (attempts++ > 0) metricsOf(cluster)?.scatterRetries.inc();
    addFanOut(1);
    try {
      const res = await node.request<T>(req);
      cluster.health.reportSuccess(node.id);
      return res.body;
    } catch (e) {
      if (!(e instanceof NodeTransportError)) throw e;
      cluster.health.reportFailure(node.id, e.message);
      last = e;
    }
  }
  throw last;
}

export interface NodeAnswer<T = unknown> extends NodeResponse<T> {
  nodeId: string;
}

/** Sends the same request to `nodeIds` in parallel; settles every call. */
export async function callEach<T = unknown>(
  cluster: Cluster,
  nodeIds: readonly string[],
  req: NodeRequest | ((nodeId: string) => NodeRequest),
): Promise<{ nodeId: string; ok: NodeAnswer<T> | undefined; error: unknown }[]> {
  addFanOut(nodeIds.length);
  const results = await Promise.all(
    nodeIds.map(async (nodeId) => {
      const r = typeof req === 'function' ? req(nodeId) : req;
      try {
        const res = await cluster.node(nodeId).request<T>(r);
        cluster.health.reportSuccess(nodeId);
        return { nodeId, ok: { nodeId, ...res }, error: undefined };
      } catch (e) {
        if (e instanceof NodeTransportError) cluster.health.reportFailure(nodeId, e.message);
        return { nodeId, ok: undefined, error: e };
      }
    }),
  );
  return results;
}

/** Sends to every node; any failure fails the whole call (the first node error, verbatim). */
export async function broadcast<T = unknown>(cluster: Cluster, req: NodeRequest): Promise<NodeAnswer<T>[]> {
  const results = await callEach<T>(cluster, [...cluster.nodes.keys()], req);
  const failed = results.find((r) => r.ok === undefined);
  if (failed) throw failed.error;
  return results.map((r) => r.ok!);
}
