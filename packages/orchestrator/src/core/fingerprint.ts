/**
 * Shard fingerprints and repair decisions for anti-entropy (spec S13.8). Pure: the reconciler pages
 * each replica of a shard, folds every document into a {@link ShardFingerprint}, compares the
 * replicas bucket by bucket, and asks {@link decideRepair} what to do with each divergent document.
 */
import { createHash } from 'node:crypto';
import { EXPIRES_AT_FIELD, UPDATED_AT_FIELD } from './documents.js';

/** Buckets a shard's documents are spread over (by a hash of the primary key), to narrow a mismatch. */
export const BUCKETS = 256;

/** What the reconciler keeps of one document of one replica. */
export interface DocSummary {
  /** 64-bit hash of the primary key and the document's canonical content. */
  readonly hash: bigint;
  /** `_miroir_updated_at` (ms); 0 when absent. */
  readonly updatedAt: number;
  /** `_miroir_expires_at` (ms), or null. */
  readonly expiresAt: number | null;
}

/** JSON with object keys sorted at every level; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out += ',';
    out += `${JSON.stringify(keys[i])}:${canonicalJson(obj[keys[i]!])}`;
  }
  return `${out}}`;
}

function hash64(...parts: string[]): bigint {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest().readBigUInt64BE(0);
}

/** The bucket of a primary key. */
export function bucketOf(pk: string): number {
  return Number(hash64(pk) & 0xffn) % BUCKETS;
}

const timeField = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Summarizes a document as read from a node (every field, reserved ones included). */
export function summarize(pk: string, doc: Record<string, unknown>): DocSummary {
  return {
    hash: hash64(pk, canonicalJson(doc)),
    updatedAt: timeField(doc[UPDATED_AT_FIELD]) ?? 0,
    expiresAt: timeField(doc[EXPIRES_AT_FIELD]),
  };
}

/** One replica's view of a shard. */
export class ShardFingerprint {
  readonly docs = new Map<string, DocSummary>();
  /** XOR of the document hashes in each bucket. */
  readonly buckets = new BigUint64Array(BUCKETS);
  readonly #bucketOf = new Map<string, number>();

  add(pk: string, doc: Record<string, unknown>): void {
    const s = summarize(pk, doc);
    const b = bucketOf(pk);
    this.docs.set(pk, s);
    this.#bucketOf.set(pk, b);
    this.buckets[b]! ^= s.hash;
  }

  /** Primary keys held in bucket `b`. */
  *keysIn(b: number): Iterable<string> {
    for (const [pk, bucket] of this.#bucketOf) if (bucket === b) yield pk;
  }
}

/**
 * Primary keys whose copies differ between replicas (a copy missing on some replica counts), found
 * by comparing bucket digests first and looking inside the buckets that differ only.
 */
export function divergentKeys(replicas: readonly ShardFingerprint[]): string[] {
  if (replicas.length < 2) return [];
  const out = new Set<string>();
  for (let b = 0; b < BUCKETS; b++) {
    const first = replicas[0]!.buckets[b];
    let same = true;
    for (let r = 1; r < replicas.length && same; r++) same = replicas[r]!.buckets[b] === first;
    // Equal XORs with equal documents is the common case; a collision (two different sets with
    // the same XOR) is caught on the next pass only if the data changes, an accepted 2^-64 risk.
    if (same && replicas.every((r) => r.docs.size === replicas[0]!.docs.size)) continue;
    for (const r of replicas) {
      for (const pk of r.keysIn(b)) {
        if (out.has(pk)) continue;
        const h = r.docs.get(pk)!.hash;
        if (replicas.some((o) => o.docs.get(pk)?.hash !== h)) out.add(pk);
      }
    }
  }
  return [...out].sort();
}

/** What to do with one divergent document. */
export type Repair =
  /** Some copy has expired: delete it from every replica holding a copy (never resurrected). */
  | { kind: 'delete'; from: string[] }
  /** Copy the winning replica's version to the replicas that differ. */
  | { kind: 'copy'; source: string; to: string[] }
  /** Nothing differs any more. */
  | { kind: 'none' };

/**
 * Decides the repair of one document from each replica's copy (`undefined` = the replica lacks it).
 * Expiry beats everything; otherwise the highest `_miroir_updated_at` wins (a copy without it counts
 * as 0), a tie goes to the version most replicas hold, then to the higher hash, so every pass and
 * every orchestrator decides the same way.
 */
export function decideRepair(copies: ReadonlyMap<string, DocSummary | undefined>, nowMs: number): Repair {
  const holders = [...copies].filter((e): e is [string, DocSummary] => e[1] !== undefined);
  if (holders.some(([, s]) => s.expiresAt !== null && s.expiresAt <= nowMs)) {
    return { kind: 'delete', from: holders.map(([id]) => id).sort() };
  }
  if (holders.length === 0) return { kind: 'none' };
  const votes = new Map<bigint, number>();
  for (const [, s] of holders) votes.set(s.hash, (votes.get(s.hash) ?? 0) + 1);
  let best = holders[0]!;
  for (const h of holders) {
    const [, a] = h;
    const [, b] = best;
    const better =
      a.updatedAt !== b.updatedAt ? a.updatedAt > b.updatedAt : votes.get(a.hash)! !== votes.get(b.hash)! ? votes.get(a.hash)! > votes.get(b.hash)! : a.hash > b.hash;
    if (better) best = h;
  }
  const to = [...copies].filter(([, s]) => s?.hash !== best[1].hash).map(([id]) => id).sort();
  return to.length === 0 ? { kind: 'none' } : { kind: 'copy', source: best[0], to };
}
