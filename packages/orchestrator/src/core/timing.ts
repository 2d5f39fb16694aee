/**
 * A cluster's `processingTimeMs` and `performanceDetails` (docs/search.md, "Processing time").
 *
 * Meilisearch's `processingTimeMs` is the server's own processing time (`Instant` taken when the
 * search starts, `as_millis()` when it ends), not the time the client waited. Through Miroir the
 * nodes search in parallel, so the answer waits for the slowest of them, then for the merge:
 * the cluster's processing time is the slowest node's `processingTimeMs` plus Miroir's own merge
 * time, truncated to a whole millisecond as Meilisearch truncates. The network between Miroir and
 * the nodes is not processing and is not counted.
 *
 * `performanceDetails` (asked with `showPerformanceDetails`) is the slowest node's own trace:
 * the steps that bounded the answer, as that node measured and named them.
 *
 * Pure: the merge time is measured by the caller.
 */
import { withPerformanceDetails, type ProgressTrace } from '@miroir/protocol';

/** The timing fields of one node's answer. */
export interface NodeTiming {
  readonly processingTimeMs?: number;
  readonly performanceDetails?: ProgressTrace;
}

/** The answer whose node took longest (the first of equals), or undefined when there is none. */
export function slowestAnswer<T extends NodeTiming>(answers: readonly T[]): T | undefined {
  let slowest: T | undefined;
  for (const a of answers) {
    if (slowest === undefined || (a.processingTimeMs ?? 0) > (slowest.processingTimeMs ?? 0)) slowest = a;
  }
  return slowest;
}

/** The slowest node's `processingTimeMs` plus `mergeMs`, truncated to whole milliseconds. */
export function clusterProcessingTimeMs(answers: readonly NodeTiming[], mergeMs: number): number {
  const node = slowestAnswer(answers)?.processingTimeMs ?? 0;
  return Math.floor(node + Math.max(0, mergeMs));
}

/**
 * `res` (a merged answer) with the cluster's `processingTimeMs` in place of the one it was merged
 * with (same key position) and, when `details` is set, the slowest node's `performanceDetails`
 * where the response kind has it (`details.before`; none: last).
 */
export function withClusterTiming<R extends { processingTimeMs: number }>(
  res: R,
  answers: readonly NodeTiming[],
  mergeMs: number,
  details?: { before?: string },
): R {
  res.processingTimeMs = clusterProcessingTimeMs(answers, mergeMs);
  if (details === undefined) return res;
  const trace = slowestAnswer(answers.filter((a) => a.performanceDetails !== undefined))?.performanceDetails ?? {};
  return withPerformanceDetails(res, trace, details.before);
}
