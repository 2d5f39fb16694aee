/**
 * xxHash64 (seed 0) and the two byte layouts Miroir hashes: a primary key for its shard, and a
 * (shard, node) pair for its rendezvous score. Both layouts end with a 0xFF byte, which keeps them
 * compatible with the reference implementation (spec S2.2, S2.3).
 *
 * The hash itself comes from `xxhash-wasm`: measured at ~0.27 µs per short key including the UTF-8
 * encode, far below what routing needs, so a hand-written xxh64 over 32-bit halves would buy nothing.
 * Its factory is async, so the orchestrator awaits {@link loadHasher} once at start and passes the
 * resulting {@link Hasher} into the pure functions of the core.
 */
import xxhash from 'xxhash-wasm';

/** A loaded xxHash64 with Miroir's two key layouts. Not shared across threads (it owns a scratch buffer). */
export interface Hasher {
  /** xxh64(seed 0) of raw bytes, as an unsigned 64-bit BigInt. */
  hash64(bytes: Uint8Array): bigint;
  /** `xxh64(utf8(pk) ‖ 0xFF) mod shards` — the shard of a canonical primary key string. */
  shardOf(pk: string, shards: number): number;
  /** `xxh64(u32_le(shard) ‖ utf8(nodeId) ‖ 0xFF)` — a node's rendezvous score for a shard. */
  score(shard: number, nodeId: string): bigint;
}

type H64Raw = (bytes: Uint8Array, seed?: bigint) => bigint;

class XxHasher implements Hasher {
  readonly #h64: H64Raw;
  readonly #encoder = new TextEncoder();
  #scratch = new Uint8Array(1024);
  #modulus = 0;
  #modulusBig = 0n;

  constructor(h64: H64Raw) {
    this.#h64 = h64;
  }

  hash64(bytes: Uint8Array): bigint {
    return this.#h64(bytes);
  }

  shardOf(pk: string, shards: number): number {
    const n = this.#encode(pk, 0);
    if (shards !== this.#modulus) {
      this.#modulus = shards;
      this.#modulusBig = BigInt(shards);
    }
    return Number(this.#h64(this.#scratch.subarray(0, n)) % this.#modulusBig);
  }

  score(shard: number, nodeId: string): bigint {
    const n = this.#encode(nodeId, 4);
    const b = this.#scratch;
    b[0] = shard & 0xff;
    b[1] = (shard >>> 8) & 0xff;
    b[2] = (shard >>> 16) & 0xff;
    b[3] = (shard >>> 24) & 0xff;
    return this.#h64(b.subarray(0, n));
  }

  /** Writes `prefix bytes ‖ utf8(s) ‖ 0xFF` into the scratch buffer; returns the total length. */
  #encode(s: string, prefix: number): number {
    const need = prefix + s.length * 3 + 1;
    if (need > this.#scratch.length) this.#scratch = new Uint8Array(Math.max(need, this.#scratch.length * 2));
    const { written } = this.#encoder.encodeInto(s, this.#scratch.subarray(prefix));
    this.#scratch[prefix + written] = 0xff;
    return prefix + written + 1;
  }
}

/** Instantiates the WebAssembly xxHash64 once; await it at start and pass the result around. */
export async function loadHasher(): Promise<Hasher> {
  const api = await xxhash();
  return new XxHasher(api.h64Raw);
}

/** `xxh64(utf8(pk) ‖ 0xFF) mod shards`. The pk must already be canonical (see {@link canonicalId}). */
export function shardOf(hasher: Hasher, pk: string, shards: number): number {
  return hasher.shardOf(pk, shards);
}

/**
 * The canonical string of a document id, as Meilisearch stores it: strings as they are, integers in
 * decimal without `+` or leading zeros (`1` and `"1"` are the same document). Integers beyond 2^53
 * must arrive as `bigint` or as their raw JSON token string, since a `number` has already lost digits.
 * Returns `null` for values that are not ids at all (floats, booleans, objects…); id *syntax*
 * (allowed characters, 511 bytes) is validated by the caller, which owns the Meilisearch error text.
 */
export function canonicalId(id: unknown): string | null {
  if (typeof id === 'string') return id;
  if (typeof id === 'number') {
    if (!Number.isInteger(id)) return null;
    return Number.isSafeInteger(id) ? String(id === 0 ? 0 : id) : BigInt(id).toString();
  }
  if (typeof id === 'bigint') return id.toString();
  return null;
}
