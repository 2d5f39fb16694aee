/**
 * Shard-aware query planner (spec S13.4): a search whose filter pins primary keys only needs the
 * shards that can hold those keys. The merge is unchanged, so the answer equals a full fan-out.
 */
import { parseFilter, pinnedPrimaryKeys } from '@miroir/filter';
import type { Hasher } from './hash.js';

/** Why a plan narrowed or not (for explain and logs). */
export type ShardPlanReason = 'disabled' | 'no_filter' | 'invalid_filter' | 'not_pinned' | 'too_many_literals' | 'pinned';

/** The planner's answer for one query. */
export interface ShardPlan {
  /** Needed shards, ascending; `null` = all shards. Empty when the filter can match nothing. */
  readonly shards: number[] | null;
  /** The canonical primary keys the filter pins, when it does. */
  readonly pinnedKeys: string[] | null;
  readonly reason: ShardPlanReason;
}

/** Planner settings (`query_planner.*`). */
export interface PlannerOptions {
  readonly enabled: boolean;
  /** `max_pk_literals_narrowable` (default 128). */
  readonly maxPkLiterals: number;
  /**
   * Ids are known to be compared exactly (no letters whose case could differ). Meilisearch
   * compares filter strings case-insensitively, so by default a literal with letters does not
   * narrow: `id = abc` also matches a document `ABC` that may live on another shard.
   */
  readonly lettersAreExact?: boolean;
}

/**
 * Plans the shards a filter needs. An invalid filter is not narrowed: the nodes report the error
 * with Meilisearch's exact message.
 */
export function planShards(
  filter: unknown,
  primaryKey: string,
  shards: number,
  hasher: Pick<Hasher, 'shardOf'>,
  opts: PlannerOptions,
): ShardPlan {
  if (!opts.enabled) return { shards: null, pinnedKeys: null, reason: 'disabled' };
  let ast;
  try {
    ast = parseFilter(filter);
  } catch {
    return { shards: null, pinnedKeys: null, reason: 'invalid_filter' };
  }
  if (ast === null) return { shards: null, pinnedKeys: null, reason: 'no_filter' };
  const keys = pinnedPrimaryKeys(ast, primaryKey, { lettersAreExact: opts.lettersAreExact ?? false });
  if (keys === null) return { shards: null, pinnedKeys: null, reason: 'not_pinned' };
  if (keys.length > opts.maxPkLiterals) return { shards: null, pinnedKeys: keys, reason: 'too_many_literals' };
  const set = new Set<number>();
  for (const k of keys) set.add(hasher.shardOf(k, shards));
  return { shards: [...set].sort((a, b) => a - b), pinnedKeys: keys, reason: 'pinned' };
}

/**
 * A bounded cache of plans per (index, filter text) — spec S13.4 "plans are cached". Owned by the
 * caller (one per process); evicts the oldest entry when full.
 */
export class PlanCache {
  readonly #max: number;
  readonly #map = new Map<string, ShardPlan>();

  constructor(max = 1024) {
    this.#max = max;
  }

  /** The cached plan, or the computed one (then cached). Keyed by index, S and the filter's JSON. */
  get(indexUid: string, shards: number, filter: unknown, compute: () => ShardPlan): ShardPlan {
    const text = typeof filter === 'string' ? `s${filter}` : `j${JSON.stringify(filter)}`;
    const key = `${indexUid}\u0000${shards}\u0000${text}`;
    const hit = this.#map.get(key);
    if (hit !== undefined) return hit;
    const plan = compute();
    if (this.#map.size >= this.#max) this.#map.delete(this.#map.keys().next().value as string);
    this.#map.set(key, plan);
    return plan;
  }

  /** Drops every plan (topology or primary-key change). */
  clear(): void {
    this.#map.clear();
  }
}
