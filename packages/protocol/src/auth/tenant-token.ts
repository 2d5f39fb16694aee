/**
 * Tenant tokens: JWTs (HS256/384/512) signed with an API key's secret, whose claims restrict
 * search to some indexes and add a filter per index. Checked as Meilisearch checks them: the
 * claims are read before the signature (to learn which key signed), `exp` is checked by hand,
 * and the texts of the errors follow `jsonwebtoken`/`serde_json`'s.
 *
 * @see https://www.meilisearch.com/docs/learn/security/tenant_tokens
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { anyPatternMatches, isValidIndexPattern, patternMatches } from './index-pattern.js';
import { parseUuid } from './uuid.js';

/** `searchRules`: a list of patterns, or patterns → `{filter}` (or null). */
export type SearchRules = { kind: 'set'; patterns: string[] } | { kind: 'map'; rules: Map<string, { filter: unknown } | null> };

/** Decoded claims. */
export interface TenantClaims {
  /** The header's `alg`. */
  alg: string;
  searchRules: SearchRules;
  exp: number | null;
  apiKeyUid: string;
}

/** Why a token was refused; `notAToken` means "treat the bearer as a plain API key". */
export type TenantTokenFailure = { notAToken: true } | { notAToken: false; message: string };

const ALGORITHMS = ['HS256', 'HS384', 'HS512'];

function b64urlDecode(part: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return undefined;
  return Buffer.from(part, 'base64url');
}

/** Where a top-level value of a JSON object text lies: `[start, end)`, and the next non-blank offset after it. */
interface ValueSpan {
  start: number;
  end: number;
  after: number;
}

/**
 * The spans of the top-level values of a JSON object text, by key. A small scanner because serde's
 * error positions ("at line 1 column N") are offsets into the text: just past the value for a
 * value serde rejects itself, at its start for a container it rejects unread, and past the closing
 * brace (or at the next comma) for an error the struct reports after the value.
 */
function valueSpans(text: string): Map<string, ValueSpan> {
  const spans = new Map<string, ValueSpan>();
  let i = text.indexOf('{') + 1;
  const skipWs = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const skipString = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipValue = (): void => {
    const c = text[i];
    if (c === '"') return skipString();
    if (c === '{' || c === '[') {
      let depth = 0;
      while (i < text.length) {
        const d = text[i]!;
        if (d === '"') {
          skipString();
          continue;
        }
        if (d === '{' || d === '[') depth++;
        if (d === '}' || d === ']') depth--;
        i++;
        if (depth === 0) return;
      }
      return;
    }
    while (i < text.length && !/[,}\]\s]/.test(text[i]!)) i++;
  };
  while (i < text.length) {
    skipWs();
    if (text[i] !== '"') break;
    const keyStart = i;
    skipString();
    let key: string;
    try {
      key = JSON.parse(text.slice(keyStart, i)) as string;
    } catch {
      break;
    }
    skipWs();
    i++; // ':'
    skipWs();
    const start = i;
    skipValue();
    const end = i;
    skipWs();
    spans.set(key, { start, end, after: i });
    if (text[i] === ',') i++;
  }
  return spans;
}

function jsonError(text: string, what: string, at: number): string {
  // Single-line payloads are the norm (every JWT library writes compact JSON).
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - (before.lastIndexOf('\n') + 1);
  return `JSON error: ${what} at line ${line} column ${column}`;
}

/**
 * serde's `Unexpected` wording for a JSON value (`string "x"`, `floating point `1.5``…); `raw` is
 * the value's text, which tells a float written `1.0` or `1e3` from an integer.
 */
function serdeUnexpected(v: unknown, raw: string): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'boolean') return `boolean \`${v}\``;
  if (typeof v === 'number') {
    if (!/[.eE]/.test(raw)) return `integer \`${raw}\``;
    // Rust prints floats in full with at least one decimal (`1000.0`).
    return `floating point \`${Number.isInteger(v) && Math.abs(v) < 1e21 ? `${BigInt(v)}.0` : String(v)}\``;
  }
  return Array.isArray(v) ? 'sequence' : 'map';
}

function parseSearchRules(v: unknown): SearchRules | undefined {
  if (Array.isArray(v)) {
    if (!v.every((p) => typeof p === 'string' && isValidIndexPattern(p))) return undefined;
    return { kind: 'set', patterns: v as string[] };
  }
  if (typeof v === 'object' && v !== null) {
    const rules = new Map<string, { filter: unknown } | null>();
    for (const [pattern, rule] of Object.entries(v)) {
      if (!isValidIndexPattern(pattern)) return undefined;
      if (rule === null) rules.set(pattern, null);
      else if (typeof rule === 'object' && !Array.isArray(rule)) rules.set(pattern, { filter: (rule as { filter?: unknown }).filter ?? null });
      else return undefined;
    }
    return { kind: 'map', rules };
  }
  return undefined;
}

/** Reads the claims of a payload text, with serde-like error texts. */
function decodeClaims(text: string): Omit<TenantClaims, 'alg'> | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return jsonError(text, 'expected value', 1);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return jsonError(text, 'invalid type: expected struct Claims', text.length);
  }
  const spans = valueSpans(text);
  const obj = raw as Record<string, unknown>;
  let searchRules: SearchRules | undefined;
  let exp: number | null = null;
  let apiKeyUid: string | undefined;
  for (const [k, v] of Object.entries(obj)) {
    const span = spans.get(k) ?? { start: text.length, end: text.length, after: text.length };
    // A rejected value: serde reads a scalar before refusing it, not an array or an object.
    const typeAt = typeof v === 'object' && v !== null ? span.start : span.end;
    const unexpected = (): string => serdeUnexpected(v, text.slice(span.start, span.end));
    if (k === 'searchRules') {
      searchRules = parseSearchRules(v);
      // The untagged enum's error surfaces after the struct reads on to its closing brace (or stops at a comma).
      if (searchRules === undefined) {
        const at = text[span.after] === '}' ? span.after + 1 : span.after;
        return jsonError(text, 'data did not match any variant of untagged enum SearchRules', at);
      }
    } else if (k === 'exp') {
      if (v === null) exp = null;
      else if (typeof v === 'number' && Number.isInteger(v) && !/[.eE]/.test(text.slice(span.start, span.end))) exp = v;
      else return jsonError(text, `invalid type: ${unexpected()}, expected i64`, typeAt);
    } else if (k === 'apiKeyUid') {
      if (typeof v !== 'string') return jsonError(text, `invalid type: ${unexpected()}, expected a UUID string`, typeAt);
      const r = parseUuid(v);
      if ('error' in r) return jsonError(text, `UUID parsing failed: ${r.error}`, span.end);
      apiKeyUid = r.uuid;
    }
  }
  const close = text.lastIndexOf('}') + 1;
  if (searchRules === undefined) return jsonError(text, 'missing field `searchRules`', close);
  if (apiKeyUid === undefined) return jsonError(text, 'missing field `apiKeyUid`', close);
  return { searchRules, exp, apiKeyUid };
}

/**
 * Reads a token's claims without checking its signature (to find the key that signed it).
 * A bearer with fewer than three dot-separated parts is not a JWT: `notAToken`.
 */
export function readTenantClaims(token: string): TenantClaims | TenantTokenFailure {
  const parts = token.split('.');
  if (parts.length < 3) return { notAToken: true };
  // jsonwebtoken splits from the right: the header is everything before the last two dots.
  const payloadPart = parts[parts.length - 2]!;
  const headerPart = parts.slice(0, -2).join('.');
  const header = b64urlDecode(headerPart);
  if (header === undefined) return { notAToken: false, message: 'Base64 error: Invalid symbol' };
  let alg: unknown;
  try {
    alg = (JSON.parse(header.toString('utf8')) as { alg?: unknown }).alg;
  } catch {
    return { notAToken: false, message: 'JSON error: expected value at line 1 column 1' };
  }
  if (typeof alg !== 'string') return { notAToken: false, message: 'JSON error: missing field `alg`' };
  const payload = b64urlDecode(payloadPart);
  if (payload === undefined) return { notAToken: false, message: 'Base64 error: Invalid symbol' };
  const claims = decodeClaims(payload.toString('utf8'));
  return typeof claims === 'string' ? { notAToken: false, message: claims } : { alg, ...claims };
}

/**
 * Checks the signature with the parent key's secret; returns an error text or null. Done with
 * `node:crypto` rather than `jose` because authorization is synchronous and jose only verifies
 * asynchronously; an HMAC comparison is all HS256/384/512 verification is.
 */
export function verifyTenantSignature(token: string, alg: string, secret: string): string | null {
  if (!ALGORITHMS.includes(alg)) return 'InvalidAlgorithm';
  const dot = token.lastIndexOf('.');
  const given = b64urlDecode(token.slice(dot + 1));
  if (given === undefined) return 'Base64 error: Invalid symbol';
  const expected = createHmac(`sha${alg.slice(2)}`, secret).update(token.slice(0, dot)).digest();
  return given.length === expected.length && timingSafeEqual(given, expected) ? null : 'InvalidSignature';
}

/** Whether the rules allow an index. */
export function rulesAllow(rules: SearchRules, uid: string): boolean {
  return rules.kind === 'set' ? anyPatternMatches(rules.patterns, uid) : anyPatternMatches(rules.rules.keys(), uid);
}

/** Whether the rules allow every index (a `*` pattern). */
export function rulesAllowAll(rules: SearchRules): boolean {
  return rules.kind === 'set' ? rules.patterns.includes('*') : rules.rules.has('*');
}

/** The patterns of the rules, sorted (as the error messages list them). */
export function rulesPatterns(rules: SearchRules): string[] {
  return (rules.kind === 'set' ? [...new Set(rules.patterns)] : [...rules.rules.keys()]).sort();
}

/**
 * The filter of the most specific rule for an index: exact patterns beat prefixes, longer beat
 * shorter (Meilisearch's `max_by_key((is_exact, len))`).
 */
export function rulesFilter(rules: SearchRules, uid: string): unknown | null {
  if (rules.kind === 'set') return null;
  let best: { exact: boolean; len: number; rule: { filter: unknown } | null } | undefined;
  for (const [pattern, rule] of rules.rules) {
    if (!patternMatches(pattern, uid)) continue;
    const exact = !pattern.endsWith('*');
    const cand = { exact, len: pattern.length, rule };
    if (best === undefined || (cand.exact && !best.exact) || (cand.exact === best.exact && cand.len >= best.len)) best = cand;
  }
  return best?.rule?.filter ?? null;
}

/**
 * A search's filter with a tenant token's rule filter added, as Meilisearch fuses them
 * (`fuse_filters`): either side alone as it is; both, as one array (AND) of the client's parts then
 * the rule's parts, an array side contributing its elements. Nothing is checked here: a rule filter
 * of the wrong type stays in the array, where the filter parser refuses it (never dropped).
 */
export function fuseFilters(client: unknown, rule: unknown): unknown {
  if (rule === null || rule === undefined) return client;
  if (client === null || client === undefined) return rule;
  return [...(Array.isArray(client) ? client : [client]), ...(Array.isArray(rule) ? rule : [rule])];
}
