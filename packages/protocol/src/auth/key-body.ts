/**
 * Validation of `POST /keys` and `PATCH /keys/{key}` bodies with Meilisearch's codes and texts
 * (deserr: the first offending field in body order wins; missing required fields are reported
 * after, in struct order).
 */
import { MeiliError } from '../errors.js';
import { describeJsonValue, invalidTypeError, invalidValueError, isJsonObject, missingFieldError, unknownFieldError, unknownValueError } from '../settings-validate.js';
import { formatRfc3339, parseDateOnlyNanos, parseRfc3339Nanos } from '../tasks.js';
import { ACTIONS, isAction } from './actions.js';
import { invalidIndexPatternMessage, isValidIndexPattern } from './index-pattern.js';
import { parseUuid } from './uuid.js';

const CREATE_FIELDS = ['description', 'name', 'uid', 'actions', 'indexes', 'expiresAt'] as const;
const PATCH_FIELDS = ['description', 'name'] as const;
const IMMUTABLE: Record<string, string> = {
  uid: 'immutable_api_key_uid',
  actions: 'immutable_api_key_actions',
  indexes: 'immutable_api_key_indexes',
  expiresAt: 'immutable_api_key_expires_at',
  createdAt: 'immutable_api_key_created_at',
  updatedAt: 'immutable_api_key_updated_at',
};

/** A validated `POST /keys` body. */
export interface CreateKeyBody {
  description: string | null;
  name: string | null;
  uid: string | null;
  actions: string[];
  indexes: string[];
  expiresAt: { micros: number; offsetMinutes: number } | null;
}

/** A validated `PATCH /keys/{key}` body: `undefined` leaves a field, `null` clears it. */
export interface PatchKeyBody {
  description?: string | null;
  name?: string | null;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined) throw new MeiliError('missing_payload', 'A json payload is missing.');
  if (!isJsonObject(body)) {
    throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${describeJsonValue(body)}`);
  }
  return body;
}

function optionalString(code: string, field: string, v: unknown): string | null {
  if (v === null || typeof v === 'string') return v;
  throw invalidTypeError(code, `.${field}`, 'a string', v);
}

function expiryError(text: string): MeiliError {
  // Meilisearch formats this one with `writeln!`: the message really ends with a newline.
  return invalidValueError(
    'invalid_api_key_expires_at',
    '.expiresAt',
    `\`${text}\` is not a valid date. It should follow the RFC 3339 format to represents a date or datetime in the future or specified as a null value. e.g. 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'.\n`,
  );
}

const NAIVE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2}):(\d{2})$/;

/**
 * Meilisearch's `parse_expiration_date`: RFC 3339, `YYYY-MM-DDTHH:MM:SS`, `YYYY-MM-DD HH:MM:SS`
 * or `YYYY-MM-DD` (the last three in UTC), strictly in the future.
 */
export function parseExpiration(text: string, nowMicros: number): { micros: number; offsetMinutes: number } {
  let ns = parseRfc3339Nanos(text);
  let offsetMinutes = 0;
  if (ns !== undefined) {
    const m = /([+-])(\d{2}):(\d{2})$/.exec(text);
    if (m !== null) offsetMinutes = (Number(m[2]) * 60 + Number(m[3])) * (m[1] === '-' ? -1 : 1);
  } else {
    const m = NAIVE.exec(text);
    if (m !== null) {
      const day = parseDateOnlyNanos(m[1]!);
      const [h, mi, s] = [Number(m[2]), Number(m[3]), Number(m[4])];
      if (day !== undefined && h <= 23 && mi <= 59 && s <= 59) ns = day + BigInt((h * 3600 + mi * 60 + s) * 1_000_000_000);
    } else {
      ns = parseDateOnlyNanos(text);
    }
  }
  if (ns === undefined) throw expiryError(text);
  const micros = Number(ns / 1000n);
  if (ns <= BigInt(nowMicros) * 1000n) throw expiryError(text);
  return { micros, offsetMinutes };
}

/** Prints an expiry as Meilisearch does: RFC 3339 with the offset it was given. */
export function formatExpiration(micros: number, offsetMinutes: number): string {
  if (offsetMinutes === 0) return formatRfc3339(micros);
  const local = formatRfc3339(micros + offsetMinutes * 60_000_000).slice(0, -1);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Validates a `POST /keys` body. */
export function parseCreateKey(body: unknown, nowMicros: number): CreateKeyBody {
  const obj = objectBody(body);
  const out: Partial<CreateKeyBody> = { description: null, name: null, uid: null };
  for (const [field, v] of Object.entries(obj)) {
    switch (field) {
      case 'description':
        out.description = optionalString('invalid_api_key_description', field, v);
        break;
      case 'name':
        out.name = optionalString('invalid_api_key_name', field, v);
        break;
      case 'uid': {
        if (typeof v !== 'string') throw invalidTypeError('invalid_api_key_uid', '.uid', 'a string', v);
        const r = parseUuid(v);
        if ('error' in r) throw invalidValueError('invalid_api_key_uid', '.uid', r.error);
        out.uid = r.uuid;
        break;
      }
      case 'actions': {
        if (!Array.isArray(v)) throw invalidTypeError('invalid_api_key_actions', '.actions', 'an array', v);
        out.actions = v.map((a: unknown, i) => {
          if (typeof a !== 'string') throw invalidTypeError('invalid_api_key_actions', `.actions[${i}]`, 'a string', a);
          if (!isAction(a)) throw unknownValueError('invalid_api_key_actions', `.actions[${i}]`, a, ACTIONS);
          return a;
        });
        break;
      }
      case 'indexes': {
        if (!Array.isArray(v)) throw invalidTypeError('invalid_api_key_indexes', '.indexes', 'an array', v);
        out.indexes = v.map((p: unknown, i) => {
          if (typeof p !== 'string') throw invalidTypeError('invalid_api_key_indexes', `.indexes[${i}]`, 'a string', p);
          if (!isValidIndexPattern(p)) throw invalidValueError('invalid_api_key_indexes', `.indexes[${i}]`, invalidIndexPatternMessage(p));
          return p;
        });
        break;
      }
      case 'expiresAt': {
        if (v === null) out.expiresAt = null;
        else if (typeof v === 'string') out.expiresAt = parseExpiration(v, nowMicros);
        else throw invalidTypeError('invalid_api_key_expires_at', '.expiresAt', 'a string', v);
        break;
      }
      default:
        throw unknownFieldError('bad_request', '', field, CREATE_FIELDS);
    }
  }
  if (out.actions === undefined) throw missingFieldError('missing_api_key_actions', '', 'actions');
  if (out.indexes === undefined) throw missingFieldError('missing_api_key_indexes', '', 'indexes');
  if (!('expiresAt' in out)) throw missingFieldError('missing_api_key_expires_at', '', 'expiresAt');
  return out as CreateKeyBody;
}

/** Validates a `PATCH /keys/{key}` body (only `name` and `description` may change). */
export function parsePatchKey(body: unknown): PatchKeyBody {
  const obj = objectBody(body);
  const out: PatchKeyBody = {};
  for (const [field, v] of Object.entries(obj)) {
    if (field === 'description') out.description = optionalString('invalid_api_key_description', field, v);
    else if (field === 'name') out.name = optionalString('invalid_api_key_name', field, v);
    else if (Object.hasOwn(IMMUTABLE, field)) {
      throw new MeiliError(IMMUTABLE[field]!, `Immutable field \`${field}\`: expected one of ${PATCH_FIELDS.map((f) => `\`${f}\``).join(', ')}`);
    } else throw unknownFieldError('bad_request', '', field, PATCH_FIELDS);
  }
  return out;
}
