/**
 * JSON request bodies as Meilisearch decodes them (actix's JSON extractor over serde_json):
 * a JSON content type only (415 `missing_content_type` / `invalid_content_type` otherwise), an empty
 * body is `missing_payload`, an unparsable one — or one nested deeper than serde_json's recursion
 * limit — `malformed_payload` with serde_json's wording. Shared by the engine and the orchestrator,
 * so a bad body gets the same answer from both.
 */
import { MeiliError } from './errors.js';
import { JSON_MAX_DEPTH, serdeJsonError } from './json-error.js';
import { invalidTypeError, isJsonObject } from './settings-validate.js';

/**
 * Whether a `Content-Type` value names JSON as actix reads it: a parsable `type/subtype` whose
 * subtype is `json` or has the `+json` suffix (`application/json; charset=utf-8`,
 * `application/merge-patch+json`).
 */
export function isJsonContentType(contentType: string): boolean {
  const m = /^\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+\/([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:;.*)?$/s.exec(contentType);
  if (m === null) return false;
  const sub = m[1]!.toLowerCase();
  return sub === 'json' || sub.endsWith('+json');
}

/** No header → 415 `missing_content_type`; a type that is not JSON (an empty one included) → 415 `invalid_content_type`. */
export function checkJsonContentType(contentType: string | undefined): void {
  if (contentType === undefined) {
    throw new MeiliError(
      'missing_content_type',
      'A Content-Type header is missing. Accepted values for the Content-Type header are: `application/json`',
    );
  }
  if (!isJsonContentType(contentType)) {
    throw new MeiliError(
      'invalid_content_type',
      `The Content-Type \`${contentType}\` is invalid. Accepted values for the Content-Type header are: \`application/json\``,
    );
  }
}

/** True when the body carries nothing but white space. */
export function isEmptyBody(raw: Buffer | string | undefined): boolean {
  if (raw === undefined) return true;
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  return text.trim() === '';
}

/**
 * True when the JSON text opens more than {@link JSON_MAX_DEPTH} - 1 nested arrays/objects at some
 * point. A linear scan over the bytes that skips strings; it says nothing about the text's validity.
 */
export function exceedsJsonDepth(json: Buffer | string): boolean {
  // The limit's depth takes that many opening brackets: shorter texts (most bodies) skip the scan.
  if (json.length < JSON_MAX_DEPTH) return false;
  const b = typeof json === 'string' ? Buffer.from(json) : json;
  let depth = 0;
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0x22) {
      // Skip a string, escapes included.
      for (i++; i < n; i++) {
        const s = b[i]!;
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth >= JSON_MAX_DEPTH) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** A `\uD800`–`\uDFFF` escape somewhere in a JSON text (a cheap test before a serde-style scan). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** The `malformed_payload` error of a JSON route body. */
export function malformedJsonPayload(detail: string): MeiliError {
  return new MeiliError('malformed_payload', `The json payload provided is malformed. \`${detail}\`.`);
}

/**
 * Decodes a JSON body as serde_json does: content type checked, empty → `missing_payload`,
 * unparsable or nested past the depth limit → `malformed_payload` with serde_json's message.
 */
export function parseJsonBody(raw: Buffer | string | undefined, contentType: string | undefined): unknown {
  checkJsonContentType(contentType);
  const bytes = raw === undefined ? Buffer.alloc(0) : typeof raw === 'string' ? Buffer.from(raw) : raw;
  const text = bytes.toString('utf8');
  if (text.trim() === '') throw new MeiliError('missing_payload', 'A json payload is missing.');
  if (!exceedsJsonDepth(bytes)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw malformedJsonPayload(serdeJsonError(text) ?? 'expected value at line 1 column 1');
    }
    // A surrogate escape: serde refuses one that is not part of a pair, V8 keeps it.
    const refused = SURROGATE_ESCAPE.test(text) ? serdeJsonError(text) : undefined;
    if (refused === undefined) return value;
    throw malformedJsonPayload(refused);
  }
  throw malformedJsonPayload(serdeJsonError(text) ?? 'recursion limit exceeded at line 1 column 1');
}

/**
 * A decoded body that must be a JSON object, as every Meilisearch route taking an object body
 * reads it (deserr at the root: 400 `bad_request`, ``Invalid value type: expected an object, but
 * found an array: `[]` ``). Routes read fields only from what this returns.
 */
export function jsonObject(body: unknown): Record<string, unknown> {
  if (!isJsonObject(body)) throw invalidTypeError('bad_request', '', 'an object', body);
  return body;
}

/** A query-string value read as Meilisearch reads `filter`: its JSON value when it parses as JSON, else the text. */
export function jsonOrText(raw: string): unknown {
  if (exceedsJsonDepth(raw)) return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
