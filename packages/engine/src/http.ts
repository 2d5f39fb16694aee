/**
 * Request helpers shared by the routes: JSON bodies with Meilisearch's payload errors, query
 * parameters with deserr's query-parameter messages, index uid validation.
 */
import type { FastifyRequest } from 'fastify';
import { describeJsonValue, didYouMean, jsonObject, MeiliError, parseJsonBody } from '@miroir/protocol';

/** Raw body bytes as the catch-all content-type parser stored them; a body that did not decode is 400 `bad_request`. */
export function rawBody(req: FastifyRequest): Buffer | undefined {
  if (req.bodyError !== undefined) throw req.bodyError;
  return req.rawBody;
}

/**
 * Parses a JSON body: wrong content type → 415, empty → `missing_payload`, unparsable →
 * `malformed_payload`.
 */
export function jsonBody(req: FastifyRequest): unknown {
  return parseJsonBody(rawBody(req), req.headers['content-type']);
}

/** The JSON body of a route that reads an object: anything else is deserr's root `bad_request`. */
export function objectBody(req: FastifyRequest): Record<string, unknown> {
  return jsonObject(jsonBody(req));
}

const INDEX_UID_RE = /^[A-Za-z0-9_-]+$/;

/** Meilisearch's `invalid_index_uid` message body. */
export function invalidIndexUidText(uid: string): string {
  return `\`${uid}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`;
}

/** True for a valid index uid (the code limit is 400 bytes although the message says 512). */
export function isValidIndexUid(uid: string): boolean {
  return INDEX_UID_RE.test(uid) && Buffer.byteLength(uid) <= 400;
}

/** Validates an index uid taken from a path. */
export function checkIndexUid(uid: string): string {
  if (!isValidIndexUid(uid)) throw new MeiliError('invalid_index_uid', invalidIndexUidText(uid));
  return uid;
}

export type QueryParams = Record<string, string | string[] | undefined>;

/** ``Unknown parameter `x`: expected one of …`` when a query has a parameter outside `accepted`. */
export function rejectUnknownParams(query: QueryParams, accepted: readonly string[]): void {
  for (const k of Object.keys(query)) {
    if (!accepted.includes(k)) {
      throw new MeiliError(
        'bad_request',
        `Unknown parameter \`${k}\`: ${didYouMean(k, accepted)}expected one of ${accepted.map((a) => `\`${a}\``).join(', ')}`,
      );
    }
  }
}

/** Last value of a query parameter (repeated parameters keep the last). */
export function param(query: QueryParams, name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** A non-negative integer query parameter. */
export function intParam(query: QueryParams, name: string, code: string, dflt: number): number {
  const v = param(query, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new MeiliError(code, `Invalid value in parameter \`${name}\`: could not parse \`${v}\` as a positive integer`);
  }
  return Number(v);
}

/** A boolean query parameter (`true`/`false`). */
export function boolParam(query: QueryParams, name: string, code: string, dflt: boolean): boolean {
  const v = param(query, name);
  if (v === undefined) return dflt;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new MeiliError(
    code,
    `Invalid value in parameter \`${name}\`: could not parse \`${v}\` as a boolean, expected either \`true\` or \`false\``,
  );
}

/** A comma-separated list query parameter. */
export function listParam(query: QueryParams, name: string): string[] | undefined {
  const v = param(query, name);
  if (v === undefined) return undefined;
  return v.split(',').map((s) => s.trim());
}

/** deserr's "Invalid value type" text for a JSON body value. */
export function typeErrorText(path: string, expected: string, value: unknown): string {
  return `Invalid value type${path === '' ? '' : ` at \`${path}\``}: expected ${expected}, but found ${describeJsonValue(value)}`;
}
