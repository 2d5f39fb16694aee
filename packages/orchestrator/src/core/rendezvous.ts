/**
 * Mode A ownership (spec S14.5): the owner of an item among live peers is
 * `argmax over peers p of xxh64(utf8(item) ‖ 0xFF ‖ utf8(p))`, ties to the smaller id. A peer joining
 * or leaving moves only the items it wins or held.
 */
import type { Hasher } from './hash.js';

const encoder = new TextEncoder();

export function ownerOf(item: string, peers: readonly string[], hasher: Hasher): string | undefined {
  const head = encoder.encode(item);
  let best: string | undefined;
  let bestScore = -1n;
  for (const p of peers) {
    const tail = encoder.encode(p);
    const bytes = new Uint8Array(head.length + 1 + tail.length);
    bytes.set(head);
    bytes[head.length] = 0xff;
    bytes.set(tail, head.length + 1);
    const score = hasher.hash64(bytes);
    if (score > bestScore || (score === bestScore && best !== undefined && p < best)) {
      best = p;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Which SRV target of a headless Service is this pod: the one whose first DNS label is the pod IP
 * with dashes (Deployment pods) or the pod name (StatefulSet pods).
 */
export function selfTarget(targets: readonly string[], pod: { ip?: string; name?: string }): string | undefined {
  const labels = new Set([pod.ip?.replaceAll('.', '-'), pod.name].filter((x): x is string => !!x));
  return targets.find((t) => labels.has(t.split('.')[0]!));
}

/** The Mode A item name of a shard of an index (anti-entropy and other per-shard work). */
export const shardItem = (indexUid: string, shard: number) => `shard:${indexUid}:${shard}`;
