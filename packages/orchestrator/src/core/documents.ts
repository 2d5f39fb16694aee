/**
 * Write routing (spec S2.4, S2.5, S5.3): reserved-field checks, shard stamping, one batch per
 * target node, and the quorum arithmetic that decides what the client is told.
 */
import { MeiliError } from '@miroir/protocol';
import type { Hasher } from './hash.js';
import type { Placement, WriteRouter } from './placement.js';

/** Reserved document fields. */
export const SHARD_FIELD = '_miroir_shard';
export const UPDATED_AT_FIELD = '_miroir_updated_at';
export const EXPIRES_AT_FIELD = '_miroir_expires_at';
/** Every reserved field starts with this. */
export const RESERVED_PREFIX = '_miroir_';

/**
 * Whether a field (top-level or nested) is Miroir's: every `_miroir_*` name. Such fields never
 * reach a client (spec S5.3) and are never searched, faceted or listed.
 */
export function isReservedField(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}

/** Copies a document without reserved fields and without the fields in `drop`. */
export function stripDocument(doc: Record<string, unknown>, drop?: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in doc) if (!isReservedField(k) && (drop === undefined || !drop.has(k))) out[k] = doc[k];
  return out;
}

/** Which optional reserved fields are active for the index (spec S5.3). */
export interface ReservedFieldOptions {
  /** Anti-entropy on: `_miroir_updated_at` is reserved and stamped. */
  readonly antiEntropy: boolean;
  /** TTL on: `_miroir_expires_at`, when present, must be an integer (unix ms). */
  readonly ttl: boolean;
}

type Doc = Record<string, unknown>;

/**
 * Throws `miroir_reserved_field` (400) when `doc` carries an active reserved field: always
 * `_miroir_shard`; `_miroir_updated_at` while anti-entropy is on; a non-integer
 * `_miroir_expires_at` while TTL is on. `position` is the document's index in the payload.
 */
export function checkReservedFields(doc: Doc, position: number, opts: ReservedFieldOptions): void {
  if (SHARD_FIELD in doc) throw reservedError(SHARD_FIELD, position);
  if (opts.antiEntropy && UPDATED_AT_FIELD in doc) throw reservedError(UPDATED_AT_FIELD, position);
  if (opts.ttl && EXPIRES_AT_FIELD in doc) {
    const v = doc[EXPIRES_AT_FIELD];
    if (!(typeof v === 'number' && Number.isInteger(v)) && typeof v !== 'bigint') {
      throw new MeiliError(
        'miroir_reserved_field',
        `Document at position ${position} has an invalid \`${EXPIRES_AT_FIELD}\`: expected an integer (unix time in milliseconds), found \`${JSON.stringify(v) ?? String(v)}\`.`,
        { status: 400 },
      );
    }
  }
}

function reservedError(field: string, position: number): MeiliError {
  return new MeiliError(
    'miroir_reserved_field',
    `Document at position ${position} sets the reserved field \`${field}\`. This field is managed by Miroir and cannot be written by clients.`,
    { status: 400 },
  );
}

/** Options of {@link routeDocuments}. */
export interface RouteDocumentsOptions {
  /** Reserved-field policy; when given, every document is checked before it is stamped. */
  readonly reserved?: ReservedFieldOptions;
  /** Stamp `_miroir_updated_at` with this value (ms; one value per request) when anti-entropy is on. */
  readonly updatedAt?: number;
}

/** Documents (or ids) grouped per target node, in payload order. */
export interface RoutedWrite<T> {
  /** nodeId → the items it receives, in payload order. */
  readonly batches: Map<string, T[]>;
  /** Shard of each item, by payload position. */
  readonly shardOfItem: Int32Array;
  /** Distinct shards touched, ascending. */
  readonly shards: number[];
}

/**
 * Routes parsed documents: computes each shard from its canonical id (`ids[i]` for `docs[i]`),
 * stamps `_miroir_shard` (and `_miroir_updated_at` when `opts.updatedAt` is set) **in place**, and
 * builds one batch per target node across all groups, preserving payload order. The documents
 * are request-local, so stamping in place saves a copy per document; if a reserved-field check
 * throws, the request is rejected whole and nothing is sent.
 */
export function routeDocuments(
  docs: readonly Doc[],
  ids: readonly string[],
  router: WriteRouter,
  hasher: Hasher,
  opts: RouteDocumentsOptions = {},
): RoutedWrite<Doc> {
  if (docs.length !== ids.length) throw new Error(`${docs.length} documents but ${ids.length} ids`);
  const reserved = opts.reserved;
  if (reserved !== undefined) for (let i = 0; i < docs.length; i++) checkReservedFields(docs[i], i, reserved);
  const stamp = opts.updatedAt;
  return route(docs, ids, router, hasher, (doc, shard) => {
    doc[SHARD_FIELD] = shard;
    if (stamp !== undefined) doc[UPDATED_AT_FIELD] = stamp;
  });
}

/**
 * Routes the ids of a delete-by-ids request (`DELETE …/documents/{id}`, `POST …/delete-batch`) to
 * the owners of their shards. `items[i]` is sent as given (a node stringifies numbers itself);
 * `ids[i]` is its canonical string.
 */
export function routeDeleteIds<T>(
  items: readonly T[],
  ids: readonly string[],
  router: WriteRouter,
  hasher: Hasher,
): RoutedWrite<T> {
  if (items.length !== ids.length) throw new Error(`${items.length} items but ${ids.length} ids`);
  return route(items, ids, router, hasher, undefined);
}

function route<T>(
  items: readonly T[],
  ids: readonly string[],
  router: WriteRouter,
  hasher: Hasher,
  visit: ((item: T, shard: number) => void) | undefined,
): RoutedWrite<T> {
  const S = router.shards;
  const batches = new Map<string, T[]>();
  // Per shard, the batch arrays of its targets: resolved once per shard, not once per item.
  const perShard: (T[][] | undefined)[] = new Array(S);
  const shardOfItem = new Int32Array(items.length);
  let touched = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const shard = hasher.shardOf(ids[i], S);
    shardOfItem[i] = shard;
    if (visit !== undefined) visit(item, shard);
    let targets = perShard[shard];
    if (targets === undefined) {
      touched++;
      targets = [];
      for (const nodeId of router.writeTargets(shard)) {
        let batch = batches.get(nodeId);
        if (batch === undefined) {
          batch = [];
          batches.set(nodeId, batch);
        }
        targets.push(batch);
      }
      perShard[shard] = targets;
    }
    for (let t = 0; t < targets.length; t++) targets[t].push(item);
  }
  const shards: number[] = new Array(touched);
  for (let s = 0, k = 0; s < S; s++) if (perShard[s] !== undefined) shards[k++] = s;
  return { batches, shardOfItem, shards };
}

/**
 * The nodes a write to `shards` goes to (every owner in every replica group, as
 * {@link WriteRouter.writeTargets} lists them), each once, in first-seen order: a write that only
 * these shards' documents can be touched by (a delete whose filter pins primary keys).
 */
export function shardWriteTargets(shards: readonly number[], router: WriteRouter): string[] {
  const nodes = new Set<string>();
  for (const s of shards) for (const id of router.writeTargets(s)) nodes.add(id);
  return [...nodes];
}

/** `majority`: floor(RF/2)+1 ACKs per group; `one`: a single ACK satisfies a group (spec S2.5). */
export type WriteQuorumMode = 'majority' | 'one';

/** ACKs a group needs for a shard with `replicas` owners. */
export function requiredAcks(replicas: number, mode: WriteQuorumMode): number {
  if (replicas <= 0) return 1;
  return mode === 'one' ? 1 : Math.floor(replicas / 2) + 1;
}

/** Outcome of {@link evaluateQuorum}. */
export interface QuorumResult {
  /** Every shard has at least one group that met quorum. */
  readonly ok: boolean;
  /** Group ids that missed quorum for some shard, ascending. */
  readonly degradedGroups: number[];
  /** Shards for which some group has fewer than a majority of its copies, ascending. */
  readonly degradedShards: number[];
  /** Shards for which no group met quorum (→ 503 `miroir_no_quorum`), ascending. */
  readonly noQuorumShards: number[];
}

/**
 * Evaluates the two quorum rules of spec S2.5 for the shards of one write. `acked(nodeId)` tells
 * whether the node answered 202 with a task uid. A group's replica count is `min(RF, members)` —
 * its owner list in the placement — so a group smaller than RF is judged on the copies it can hold.
 * Owners that were not sent the write (failed nodes) count as missing ACKs.
 */
export function evaluateQuorum(
  shards: Iterable<number>,
  placement: Placement,
  acked: (nodeId: string) => boolean,
  mode: WriteQuorumMode,
): QuorumResult {
  const degradedGroups = new Set<number>();
  const degradedShards: number[] = [];
  const noQuorumShards: number[] = [];
  const groups = placement.groupCount;
  const sorted = [...shards].sort((a, b) => a - b);
  for (const shard of sorted) {
    let anyMet = false;
    let anyMissed = false;
    for (let gi = 0; gi < groups; gi++) {
      // A group still syncing (spec S2.7) receives writes but does not count towards quorum.
      if (placement.groupStates[gi] === 'initializing') continue;
      const owners = placement.owners(gi, shard);
      let acks = 0;
      for (const id of owners) if (acked(id)) acks++;
      if (owners.length > 0 && acks >= requiredAcks(owners.length, mode)) anyMet = true;
      // Degraded = below a majority of the group's copies: with `write_quorum: one` such a write
      // is accepted, and the header says which copies are short until they are repaired.
      if (owners.length === 0 || acks < requiredAcks(owners.length, 'majority')) {
        anyMissed = true;
        degradedGroups.add(placement.groupIds[gi]);
      }
    }
    if (anyMissed) degradedShards.push(shard);
    if (!anyMet) noQuorumShards.push(shard);
  }
  return {
    ok: noQuorumShards.length === 0,
    degradedGroups: [...degradedGroups].sort((a, b) => a - b),
    degradedShards,
    noQuorumShards,
  };
}

/** `X-Miroir-Degraded` value for a write (`groups=0,1; shards=3,7`), or null when nothing was missed. */
export function writeDegradedHeader(q: QuorumResult): string | null {
  if (q.degradedShards.length === 0) return null;
  return `groups=${q.degradedGroups.join(',')}; shards=${q.degradedShards.join(',')}`;
}
