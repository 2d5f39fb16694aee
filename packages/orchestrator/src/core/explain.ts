/**
 * The routing part of `POST /indexes/{uid}/explain` (spec S13.20): what the planner narrowed, which
 * group was chosen and why, and which node answers for each shard — computed without any node call
 * from the same planner and covering set a search uses.
 */
import type { SearchQuery } from '@miroir/protocol';
import type { CoveringSet } from './covering.js';
import type { ShardPlan } from './planner.js';

/** The rule that chose the group. */
export type GroupChoiceReason = 'round_robin' | 'tenant' | 'session';

/** Routing fields of an explain `plan`, keys in the spec's order. */
export interface ExplainRouting {
  narrowed: boolean;
  narrowing_reason: ShardPlan['reason'];
  target_shards: number[];
  chosen_group: { id: number; reason: GroupChoiceReason };
  /** Shard (as a string key, ascending) → node id answering for it. */
  target_nodes: Record<string, string>;
  /** Shards no node can serve right now. */
  uncovered_shards: number[];
}

/** One explain warning. */
export interface ExplainWarning {
  code: string;
  message: string;
}

/** Builds the routing part of an explain plan. */
export function explainRouting(plan: ShardPlan, cover: CoveringSet, shards: number, reason: GroupChoiceReason): ExplainRouting {
  const target = plan.shards ?? Array.from({ length: shards }, (_, i) => i);
  const byShard: [number, string][] = [];
  for (const [node, list] of cover.nodes) for (const s of list) byShard.push([s, node]);
  byShard.sort((a, b) => a[0] - b[0]);
  const target_nodes: Record<string, string> = {};
  for (const [s, node] of byShard) target_nodes[String(s)] = node;
  return {
    narrowed: plan.shards !== null,
    narrowing_reason: plan.reason,
    target_shards: target,
    chosen_group: { id: cover.groupId, reason },
    target_nodes,
    uncovered_shards: [...cover.uncovered],
  };
}

/** Options of {@link explainWarnings}. */
export interface ExplainWarningOptions {
  /** `pagination.maxTotalHits` of the index. */
  readonly maxTotalHits: number;
  /** Windows at or above this many hits per node are flagged (default 500). */
  readonly largeWindow?: number;
  /** `explain.max_warnings` (default 20). */
  readonly maxWarnings?: number;
}

const NOT_NARROWED: Partial<Record<ShardPlan['reason'], string>> = {
  not_pinned: 'The filter does not pin primary keys (an OR branch without the key, a negation, a range…): every shard is queried.',
  too_many_literals: 'The filter pins more primary keys than `query_planner.max_pk_literals_narrowable`: every shard is queried.',
  invalid_filter: 'The filter could not be parsed; the nodes will report the error.',
};

/** Query-shape warnings of an explain answer (operator-only warnings are added by the caller). */
export function explainWarnings(query: SearchQuery, plan: ShardPlan, opts: ExplainWarningOptions): ExplainWarning[] {
  const out: ExplainWarning[] = [];
  const why = NOT_NARROWED[plan.reason];
  if (why !== undefined) out.push({ code: 'not_narrowed', message: why });
  const paged = query.page !== undefined || query.hitsPerPage !== undefined;
  const end = paged ? (query.page ?? 1) * (query.hitsPerPage ?? 20) : (query.offset ?? 0) + (query.limit ?? 20);
  const window = Math.min(end, opts.maxTotalHits);
  if (window >= (opts.largeWindow ?? 500)) {
    out.push({ code: 'large_window', message: `Every queried node returns up to ${window} hits for this page (offset + limit); deep pages cost more on every node.` });
  }
  const wildcard = query.q === undefined || query.q.trim() === '';
  if (wildcard && plan.reason === 'no_filter' && query.vector === undefined) {
    out.push({ code: 'unbounded_wildcard_query', message: 'A placeholder query without a filter matches every document on every shard.' });
  }
  return out.slice(0, opts.maxWarnings ?? 20);
}
