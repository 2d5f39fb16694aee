/**
 * Webhooks [Meilisearch ≥ 1.17]: endpoints called with the tasks that finished. The rules are
 * shared by the engine (which keeps its own webhooks) and the orchestrator (which keeps the
 * cluster's and calls them once per Miroir task): body parsing, the changes a `POST` / `PATCH`
 * makes, their checks, the redacted view, and the call itself (the finished tasks as gzipped
 * NDJSON, one task object per line, with the webhook's headers).
 *
 * @see https://www.meilisearch.com/docs/reference/api/webhooks
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { MeiliError } from './errors.js';
import { invalidTypeError, isJsonObject, unknownFieldError } from './settings-validate.js';
import type { TaskView } from './tasks.js';

/** A stored webhook. */
export interface Webhook {
  url: string;
  /** Header name → value, sent with every call. */
  headers: Record<string, string>;
}

/** A webhook as the routes show it (keys in Meilisearch's order, `authorization` redacted). */
export interface WebhookView {
  uuid: string;
  isEditable: boolean;
  url: string;
  headers: Record<string, string>;
}

/** A parsed `POST` / `PATCH` body: absent = unchanged, null = reset. */
export interface WebhookSettings {
  url?: string | null;
  headers?: Record<string, string | null> | null;
}

/** At most this many webhooks (Meilisearch's limit). */
export const MAX_WEBHOOKS = 20;
/** At most this many headers per webhook. */
export const MAX_WEBHOOK_HEADERS = 200;
/** The uuid of a webhook defined on the command line (never editable through the API). */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const ACCEPTED = ['url', 'headers'];

/** Parses a `POST` / `PATCH /webhooks` body with Meilisearch's codes and messages. */
function parseWebhookSettings(body: unknown): WebhookSettings {
  if (!isJsonObject(body)) throw invalidTypeError('bad_request', '', 'an object', body);
  const out: WebhookSettings = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'url') {
      if (v !== null && typeof v !== 'string') throw invalidTypeError('invalid_webhook_url', '.url', 'a string', v);
      out.url = v;
    } else if (k === 'headers') {
      if (v === null) {
        out.headers = null;
        continue;
      }
      if (!isJsonObject(v)) throw invalidTypeError('invalid_webhook_headers', '.headers', 'an object', v);
      const headers: Record<string, string | null> = {};
      for (const [name, value] of Object.entries(v)) {
        if (value !== null && typeof value !== 'string') throw invalidTypeError('invalid_webhook_headers', `.headers.${name}`, 'a string', value);
        headers[name] = value;
      }
      out.headers = headers;
    } else if (k === 'uuid' || k === 'isEditable') {
      const code = k === 'uuid' ? 'immutable_webhook_uuid' : 'immutable_webhook_is_editable';
      throw new MeiliError(code, `Immutable field \`${k}\`: expected one of ${ACCEPTED.map((a) => `\`${a}\``).join(', ')}`);
    } else {
      throw unknownFieldError('bad_request', '', k, ACCEPTED);
    }
  }
  return out;
}

const HEX = /^[0-9a-fA-F]$/;

/**
 * The canonical (lowercase, hyphenated) form of a webhook uuid given in a path, as the `uuid`
 * crate parses it (hyphenated, simple, braced or `urn:uuid:` forms), or `invalid_webhook_uuid`.
 */
function parseWebhookUuid(raw: string): string {
  let s = raw;
  if (s.startsWith('urn:uuid:')) s = s.slice(9);
  else if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  const fail = (why: string) => new MeiliError('invalid_webhook_uuid', `Invalid UUID: ${why}`);
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '-' && !HEX.test(c)) {
      throw fail(`invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${c}\` at ${i + 1}`);
    }
  }
  if (!s.includes('-')) {
    if (s.length !== 32) throw fail(`invalid length: expected length 32 for simple format, found ${s.length}`);
  } else {
    const groups = s.split('-');
    if (groups.length !== 5) throw fail(`invalid group count: expected 5, found ${groups.length}`);
    const want = [8, 4, 4, 4, 12];
    groups.forEach((g, i) => {
      if (g.length !== want[i]) throw fail(`invalid group length in group ${i}: expected ${want[i]}, found ${g.length}`);
    });
  }
  const hex = s.replaceAll('-', '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A new webhook uuid (v4). */
function newWebhookUuid(): string {
  return randomUUID();
}

function notFound(uuid: string): MeiliError {
  return new MeiliError('webhook_not_found', `Webhook \`${uuid}\` not found.`);
}

function immutable(uuid: string): MeiliError {
  return new MeiliError('immutable_webhook', `Webhook \`${uuid}\` is immutable. The webhook defined from the command line cannot be modified using the API.`);
}

function missingUrl(uuid: string): MeiliError {
  return new MeiliError('invalid_webhook_url', `The URL for the webhook \`${uuid}\` is missing.`);
}

function tooManyHeaders(uuid: string): MeiliError {
  return new MeiliError(
    'invalid_webhook_headers',
    `Too many headers for the webhook \`${uuid}\`. Please limit the number of headers to ${MAX_WEBHOOK_HEADERS}. Hint: To remove an already defined header set its value to \`null\``,
  );
}

/** RFC 7230 token characters, as an HTTP header name must be made of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function isHeaderValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** The checks Meilisearch makes on a created or changed webhook (`check_changed`). */
function checkWebhook(uuid: string, w: Webhook): void {
  if (uuid === NIL_UUID) throw immutable(uuid);
  if (w.url === '') throw missingUrl(uuid);
  if (Object.keys(w.headers).length > MAX_WEBHOOK_HEADERS) throw tooManyHeaders(uuid);
  for (const [name, value] of Object.entries(w.headers)) {
    if (!HEADER_NAME.test(name)) throw new MeiliError('invalid_webhook_headers', `Invalid header name \`${name}\`: invalid HTTP header name`);
    if (!isHeaderValue(value)) throw new MeiliError('invalid_webhook_headers', `Invalid header value \`${name}\`: failed to parse header value`);
  }
  try {
    new URL(w.url);
  } catch {
    const why = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(w.url) ? 'invalid domain character' : 'relative URL without a base';
    throw new MeiliError('invalid_webhook_url', `Invalid URL \`${w.url}\`: ${why}`);
  }
}

const sorted = (h: Record<string, string>): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const k of Object.keys(h).sort()) out[k] = h[k]!;
  return out;
};

/** The webhook a `POST` creates, given how many exist already; throws Meilisearch's errors. */
function createWebhook(uuid: string, s: WebhookSettings, existing: number): Webhook {
  if (s.headers !== undefined && s.headers !== null && Object.keys(s.headers).length > MAX_WEBHOOK_HEADERS) throw tooManyHeaders(uuid);
  if (existing >= MAX_WEBHOOKS) {
    throw new MeiliError(
      'invalid_webhooks',
      `Defining too many webhooks would crush the server. Please limit the number of webhooks to ${MAX_WEBHOOKS}. You may use a third-party proxy server to dispatch events to more than ${MAX_WEBHOOKS} endpoints.`,
    );
  }
  if (s.url === undefined || s.url === null) throw missingUrl(uuid);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.headers ?? {})) headers[k] = v ?? '';
  const w = { url: s.url, headers: sorted(headers) };
  checkWebhook(uuid, w);
  return w;
}

/** The webhook a `PATCH` makes of `old` (undefined: no such webhook); throws Meilisearch's errors. */
function patchWebhook(uuid: string, old: Webhook | undefined, s: WebhookSettings): Webhook {
  if (uuid === NIL_UUID) throw immutable(uuid);
  if (old === undefined) throw notFound(uuid);
  if (s.url === null) throw missingUrl(uuid);
  const url = s.url ?? old.url;
  let headers = { ...old.headers };
  if (s.headers === null) headers = {};
  else if (s.headers !== undefined) {
    for (const [k, v] of Object.entries(s.headers)) {
      if (v === null) delete headers[k];
      else headers[k] = v;
    }
  }
  if (Object.keys(headers).length > MAX_WEBHOOK_HEADERS) throw tooManyHeaders(uuid);
  const w = { url, headers: sorted(headers) };
  checkWebhook(uuid, w);
  return w;
}

/** `GET` / `DELETE` of a webhook that is not there, or of the command-line one (`DELETE` only). */
function requireWebhook<T>(uuid: string, w: T | undefined): T {
  if (w === undefined) throw notFound(uuid);
  return w;
}

/** `DELETE` of the command-line webhook. */
function checkDeletable(uuid: string): void {
  if (uuid === NIL_UUID) throw immutable(uuid);
}

/** Meilisearch's `hide_secret`: keeps a prefix of the secret (longer for longer secrets). */
function hideSecret(secret: string, offset: number): string {
  const chars = [...secret];
  const n = Buffer.byteLength(secret) - offset;
  if (n < 0) return secret;
  const [keep, mark] = n < 10 ? [0, 'XXX...'] : n < 20 ? [2, 'XXXX...'] : n < 30 ? [3, 'XXXXX...'] : [5, 'XXXXXX...'];
  // Byte offsets rounded up to a character boundary.
  let bytes = 0;
  let i = 0;
  while (i < chars.length && bytes < offset + keep) bytes += Buffer.byteLength(chars[i++]!);
  return chars.slice(0, i).join('') + mark;
}

/** The view the routes return: `authorization` headers redacted (any case). */
function webhookView(uuid: string, w: Webhook): WebhookView {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(w.headers)) {
    headers[k] = k.toLowerCase() !== 'authorization' ? v : v.startsWith('Bearer ') ? hideSecret(v, 'Bearer '.length) : hideSecret(v, 0);
  }
  return { uuid, isEditable: uuid !== NIL_UUID, url: w.url, headers };
}

/** Webhooks in the order the list shows them (by uuid). */
function webhookList(all: ReadonlyMap<string, Webhook> | Record<string, Webhook>): { results: WebhookView[] } {
  const entries = all instanceof Map ? [...all.entries()] : Object.entries(all);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { results: entries.map(([uuid, w]) => webhookView(uuid, w)) };
}

/** How long one call may take before it is given up (Meilisearch: 30 s). */
export const WEBHOOK_TIMEOUT_MS = 30_000;

/**
 * Calls one webhook with finished tasks: `POST`, gzipped NDJSON (one task object per line),
 * `Content-Encoding: gzip`, `Content-Type: application/x-ndjson`, then the webhook's headers. The
 * answer is not read beyond its status; failures are the caller's to log (they are not retried).
 */
export async function callWebhook(w: Webhook, tasks: readonly TaskView[]): Promise<number> {
  const body = gzipSync(tasks.map((t) => `${JSON.stringify(t)}\n`).join(''));
  const headers: Record<string, string> = { 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' };
  for (const [k, v] of Object.entries(w.headers)) headers[k.toLowerCase()] = v;
  const res = await fetch(w.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
  await res.body?.cancel();
  return res.status;
}

/** Where a server keeps its webhooks (the engine: its database; Miroir: the state store). */
export interface WebhookBook {
  all(): Promise<ReadonlyMap<string, Webhook>> | ReadonlyMap<string, Webhook>;
  get(uuid: string): Promise<Webhook | undefined> | Webhook | undefined;
  put(uuid: string, w: Webhook): Promise<void> | void;
  delete(uuid: string): Promise<void> | void;
}

/**
 * The `/webhooks` routes as Meilisearch answers them, over any book: each takes the request's raw
 * path parameter and decoded body, and returns the answer's body (`create` answers 201, `remove`
 * 204 with none).
 */
export function webhookRoutes(book: WebhookBook) {
  return {
    list: async () => webhookList(await book.all()),
    create: async (body: unknown) => {
      const s = parseWebhookSettings(body);
      const uuid = newWebhookUuid();
      const w = createWebhook(uuid, s, (await book.all()).size);
      await book.put(uuid, w);
      return webhookView(uuid, w);
    },
    get: async (raw: string) => {
      const uuid = parseWebhookUuid(raw);
      return webhookView(uuid, requireWebhook(uuid, await book.get(uuid)));
    },
    update: async (raw: string, body: unknown) => {
      const uuid = parseWebhookUuid(raw);
      const w = patchWebhook(uuid, await book.get(uuid), parseWebhookSettings(body));
      await book.put(uuid, w);
      return webhookView(uuid, w);
    },
    remove: async (raw: string) => {
      const uuid = parseWebhookUuid(raw);
      checkDeletable(uuid);
      requireWebhook(uuid, await book.get(uuid));
      await book.delete(uuid);
    },
  };
}
