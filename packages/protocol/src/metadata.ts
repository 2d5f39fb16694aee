/**
 * `Meili-Include-Metadata` on search routes: the response gains
 * `metadata: {queryUid, indexUid, primaryKey}`.
 */
import { randomBytes } from 'node:crypto';

/** `Meili-Include-Metadata: true|1` (any case). */
export function wantsSearchMetadata(header: string | string[] | undefined): boolean {
  return typeof header === 'string' && ['true', '1'].includes(header.toLowerCase());
}

/**
 * A UUIDv7 (RFC 9562: 48-bit millisecond timestamp, version, random bits), the form of
 * Meilisearch's `queryUid`. Node 20 has no v7 generator, hence these few lines.
 */
export function uuidV7(): string {
  const b = randomBytes(16);
  b.writeUIntBE(Date.now(), 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The `metadata` object of one search response. */
export function searchMetadata(indexUid: string, primaryKey: string | null): { queryUid: string; indexUid: string; primaryKey: string | null } {
  return { queryUid: uuidV7(), indexUid, primaryKey };
}
