/**
 * Background-work ownership (spec S14.5 Mode A): which process of the fleet runs the periodic job
 * for an item (a shard, an (index, node) pair, a task uid). Every such job is idempotent, so two
 * processes briefly owning the same item during a peer change is harmless.
 */
export interface Ownership {
  /** True when this process runs the periodic work for `item`. */
  owns(item: string): boolean;
}

/** A single orchestrator process owns everything. */
export const soleOwner: Ownership = { owns: () => true };
