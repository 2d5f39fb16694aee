/**
 * API key secrets. Meilisearch never stores a key's value: it is `hex(HMAC-SHA256(masterKey, uid))`
 * (`generate_key_as_hexa`), so every node started with the same master key derives the same value
 * for a uid.
 */
import { createHmac } from 'node:crypto';

/** The value of the key `uid` on a node whose master key is `masterKey`. */
export function deriveKey(masterKey: string, uid: string): string {
  return createHmac('sha256', masterKey).update(uid).digest('hex');
}
