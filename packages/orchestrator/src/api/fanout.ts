/**
 * The three ways the API reaches nodes: any one node (reads every node can answer), every node
 * (broadcasts), or a chosen set in parallel (scatter). Transport failures feed node health.
 */
import type { Cluster } from '../cluster.js';
import { NodeTransportError, type NodeRequest, type NodeResponse } from '../nodes/node-client.js';

/** Calls one node after another (healthy first) until one answers; its HTTP answer wins, error or not. */
export async function firstAnswer<T = unknown>(cluster: Cluster, req: NodeRequest): Promise<T> {
  let last: unknown = new NodeTransportError('-', false, 'no node is configured');
  for (const node of cluster.readOrder()) {
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
  return Promise.all(
    nodeIds.map(async (nodeId) => {
      try {
        const res = await cluster.node(nodeId).request<T>(typeof req === 'function' ? req(nodeId) : req);
        cluster.health.reportSuccess(nodeId);
        return { nodeId, ok: { nodeId, ...res }, error: undefined };
      } catch (e) {
        if (e instanceof NodeTransportError) cluster.health.reportFailure(nodeId, e.message);
        return { nodeId, ok: undefined, error: e };
      }
    }),
  );
}

/** Sends to every node; any failure fails the whole call (the first node error, verbatim). */
export async function broadcast<T = unknown>(cluster: Cluster, req: NodeRequest): Promise<NodeAnswer<T>[]> {
  const results = await callEach<T>(cluster, [...cluster.nodes.keys()], req);
  const failed = results.find((r) => r.ok === undefined);
  if (failed) throw failed.error;
  return results.map((r) => r.ok!);
}
