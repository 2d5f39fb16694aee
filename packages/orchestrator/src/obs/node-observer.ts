/**
 * What watches every node call: latency and errors into the metrics, a child span of the current
 * request's span when tracing is on (health probes run outside any request and get none).
 */
import type { Span } from '@opentelemetry/api';
import type { NodeCallObserver, NodeErrorType } from '../nodes/node-client.js';
import type { NodeOperation } from '../nodes/operation.js';
import type { Metrics } from './metrics.js';
import { requestScope } from './request-scope.js';
import type { Tracing } from './tracing.js';

export class NodeObserver implements NodeCallObserver {
  constructor(
    readonly metrics: Metrics,
    readonly tracing: Tracing | undefined,
  ) {}

  start(nodeId: string, operation: NodeOperation, method: string, headers: Record<string, string>): Span | undefined {
    if (this.tracing === undefined) return undefined;
    const parent = requestScope.getStore()?.miroirSpan;
    return parent ? this.tracing.startNode(parent, nodeId, operation, method, headers) : undefined;
  }

  end(token: unknown, nodeId: string, operation: NodeOperation, seconds: number, status: number, error: NodeErrorType | null): void {
    this.metrics.observeNodeCall(nodeId, operation, seconds, error);
    if (token !== undefined) this.tracing!.endNode(token as Span, status, error);
  }
}
