/**
 * Index uid patterns of API keys and tenant tokens: an index uid, `*`, or a prefix ending in `*`
 * (`logs_*`).
 */
import { isValidIndexUid } from '../tasks.js';

/** Whether a string is a valid pattern (Meilisearch's `IndexUidPattern::from_str`). */
export function isValidIndexPattern(p: string): boolean {
  if (p === '*') return true;
  return isValidIndexUid(p.endsWith('*') ? p.slice(0, -1) : p);
}

/** The error text for an invalid pattern. */
export function invalidIndexPatternMessage(p: string): string {
  return (
    `\`${p}\` is not a valid index uid pattern. Index uid patterns can be an integer or a string containing ` +
    'only alphanumeric characters, hyphens (-), underscores (_), and optionally end with a star (*).'
  );
}

/** Whether a pattern matches an index uid. */
export function patternMatches(pattern: string, uid: string): boolean {
  return pattern.endsWith('*') ? uid.startsWith(pattern.slice(0, -1)) : pattern === uid;
}

/** Whether any of the patterns matches. */
export function anyPatternMatches(patterns: Iterable<string>, uid: string): boolean {
  for (const p of patterns) if (patternMatches(p, uid)) return true;
  return false;
}
