/**
 * The HTTP envelope both processes share: what a request's URL may look like, and how every error
 * raised by the HTTP layer itself (node's parser, fastify's router and body reader) becomes a
 * Meilisearch-shaped answer. Each process maps framework errors in one place with
 * {@link frameworkError}, and writes parser-level rejections with {@link clientErrorResponse}.
 */
import type { Socket } from 'node:net';
import { incompletePayloadError, payloadTooLargeError } from './encoding.js';
import { MeiliError } from './errors.js';

/**
 * Longest path parameter the routers accept. Larger than any URL node's HTTP parser lets through
 * (16 KiB of headers), so a long index uid always reaches the route and gets `invalid_index_uid`.
 */
export const MAX_PARAM_LENGTH = 65_536;

/**
 * CORS as Meilisearch configures it (actix-cors, permissive): any origin (answered with `*`), any
 * method, any request header, preflight results cached for a day. Options for `@fastify/cors`,
 * registered by the engine and the orchestrator alike so a browser sees one policy.
 */
export const MEILISEARCH_CORS = {
  origin: '*',
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  maxAge: 86_400,
  optionsSuccessStatus: 200,
  strictPreflight: false,
} as const;

/**
 * The request URL as Meilisearch's router sees it: consecutive slashes merged into one (actix's
 * `NormalizePath`, so `/indexes//search` is `/indexes/search`), and every path segment that is not
 * valid percent-encoding made literal (`%` → `%25`), as actix leaves undecodable sequences in
 * place: `/indexes/%zz` addresses the index uid `%zz` (and gets `invalid_index_uid`) instead of
 * failing in the router. A trailing slash is ignored by the routers themselves.
 */
export function normalizeRequestUrl(url: string): string {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  const merged = path.includes('//');
  if (merged) path = path.replace(/\/{2,}/g, '/');
  if (!path.includes('%')) return merged ? (q === -1 ? path : path + url.slice(q)) : url;
  const fixed = path
    .split('/')
    .map((seg) => {
      if (!seg.includes('%')) return seg;
      try {
        decodeURIComponent(seg);
        return seg;
      } catch {
        return seg.replaceAll('%', '%25');
      }
    })
    .join('/');
  return q === -1 ? fixed : fixed + url.slice(q);
}

/** Statuses of requests refused before any route ran, with their reason phrase and message. */
const PROTOCOL_ERRORS: Readonly<Record<number, { reason: string; message: string }>> = {
  400: { reason: 'Bad Request', message: 'The request could not be parsed as HTTP/1.1.' },
  408: { reason: 'Request Timeout', message: 'The request was not received in time.' },
  413: { reason: 'Payload Too Large', message: 'The request is too large.' },
  414: { reason: 'URI Too Long', message: 'The request URI is too long.' },
  431: { reason: 'Request Header Fields Too Large', message: 'The request header fields are too large.' },
};

/**
 * The Meilisearch-shaped error for a request refused at the HTTP level with `status` (a parser
 * error, an oversized URL or header block), with `bad_request` as its code and the status kept.
 */
export function protocolError(status: number): MeiliError {
  const known = PROTOCOL_ERRORS[status];
  return new MeiliError('bad_request', known?.message ?? `The request was refused with status ${status}.`, { status });
}

/**
 * The raw HTTP/1.1 response for an error of node's HTTP parser (`clientError`), or null when
 * nothing can be written (the peer reset the connection). The answer closes the connection.
 */
export function clientErrorResponse(err: { code?: unknown }): string | null {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return null;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify(protocolError(status).toJSON());
  return (
    `HTTP/1.1 ${status} ${PROTOCOL_ERRORS[status]!.reason}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/**
 * The `clientError` handler of both servers: writes {@link clientErrorResponse} and closes the
 * connection (or just destroys it when nothing can be written).
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  const response = socket.writable ? clientErrorResponse(err) : null;
  if (response === null) socket.destroy();
  else socket.end(response);
}

/**
 * A framework error (fastify's `FST_ERR_*`, a body-stream error) as the Meilisearch error one
 * node gives in its place, or null for an error that is a defect (a 500 `internal`).
 * `bodyLimit` is the process's payload size limit in bytes.
 */
export function frameworkError(err: Error & { code?: unknown; statusCode?: unknown }, bodyLimit: number): MeiliError | null {
  if (err instanceof MeiliError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return payloadTooLargeError(bodyLimit);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'ECONNRESET':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return incompletePayloadError(err);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return protocolError(414);
    case 'FST_ERR_BAD_URL':
      return protocolError(400);
  }
  if (err.message === 'aborted') return incompletePayloadError(err);
  const status = err.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new MeiliError('bad_request', err.message, { status });
  return null;
}

/** The methods Meilisearch routes take, in the order its router registers them (and lists them in `Allow`). */
const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Which methods each registered path takes, to tell an unknown path (404, empty body) from a known
 * path asked with another method (405, empty body, `Allow` listing the methods it takes), as
 * actix answers. Paths are router patterns (`/indexes/:uid/search`, `/ui/*`); HEAD and OPTIONS,
 * which the servers add on their own, do not count.
 */
export class MethodTable {
  readonly #routes: { re: RegExp; method: string }[] = [];

  /** Records a route as the router registers it. */
  add(method: string | readonly string[], pattern: string): void {
    const re = new RegExp(
      `^${pattern
        .replace(/\/+$/, '')
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/')}/?$`,
    );
    for (const m of typeof method === 'string' ? [method] : method) {
      if ((ROUTE_METHODS as readonly string[]).includes(m)) this.#routes.push({ re, method: m });
    }
  }

  /** The methods a request path (query string included or not) takes; empty for an unknown path. */
  allowed(url: string): string[] {
    const q = url.indexOf('?');
    const path = (q === -1 ? url : url.slice(0, q)).replace(/\/{2,}/g, '/');
    const found = new Set(this.#routes.filter((r) => r.re.test(path)).map((r) => r.method));
    return ROUTE_METHODS.filter((m) => found.has(m));
  }
}
