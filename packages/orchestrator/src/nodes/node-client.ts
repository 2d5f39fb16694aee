/**
 * The only code that speaks HTTP to nodes. One bounded keep-alive undici Pool per node.
 *
 * Three failure kinds stay distinct (STYLE 6): the node answered non-2xx ({@link NodeHttpError}, the
 * node's Meilisearch error body kept verbatim), the transport failed or timed out
 * ({@link NodeTransportError}), or our own validation failed (a MeiliError, raised elsewhere).
 */
import { Pool } from 'undici';
import { isErrorBody, type ErrorBody } from '@miroir/protocol';

export interface NodeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** A JSON value, encoded for the wire (a string is sent as a JSON string). */
  body?: unknown;
  /** Bytes sent as they are, with `contentType` (default JSON); takes precedence over `body`. */
  raw?: string | Buffer;
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface NodeResponse<T = unknown> {
  status: number;
  body: T;
}

/** The node answered with a non-2xx status. `body` is the node's error object. */
export class NodeHttpError extends Error {
  readonly code = 'MIROIR_NODE_HTTP';
  constructor(
    readonly nodeId: string,
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(`node ${nodeId} answered ${status}: ${body.code}: ${body.message}`);
    this.name = 'NodeHttpError';
  }
}

/** The request did not produce an HTTP answer: connection refused/reset, timeout, bad body. */
export class NodeTransportError extends Error {
  readonly code = 'MIROIR_NODE_TRANSPORT';
  constructor(
    readonly nodeId: string,
    readonly timedOut: boolean,
    message: string,
    cause?: unknown,
  ) {
    super(`node ${nodeId}: ${message}`, { cause });
    this.name = 'NodeTransportError';
  }
}

export interface NodeClientOptions {
  id: string;
  address: string;
  apiKey: string;
  timeoutMs: number;
  connections: number;
  keepAliveTimeoutMs: number;
}

export class NodeClient {
  readonly id: string;
  readonly address: string;
  readonly #pool: Pool;
  readonly #auth: string | undefined;
  readonly #timeoutMs: number;

  constructor(opts: NodeClientOptions) {
    this.id = opts.id;
    this.address = opts.address;
    this.#pool = new Pool(opts.address, {
      connections: opts.connections,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      pipelining: 1,
    });
    this.#auth = opts.apiKey ? `Bearer ${opts.apiKey}` : undefined;
    this.#timeoutMs = opts.timeoutMs;
  }

  /** Sends one request; resolves the parsed JSON body of a 2xx answer (null when empty). */
  async request<T = unknown>(req: NodeRequest): Promise<NodeResponse<T>> {
    const headers: Record<string, string> = {};
    if (this.#auth) headers.authorization = this.#auth;
    let body: string | Buffer | undefined;
    if (req.raw !== undefined) {
      body = req.raw;
      headers['content-type'] = req.contentType ?? 'application/json';
    } else if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = req.timeoutMs ?? this.#timeoutMs;
    const signal = req.signal ? AbortSignal.any([req.signal, AbortSignal.timeout(timeout)]) : AbortSignal.timeout(timeout);
    let status: number;
    let text: string;
    try {
      const res = await this.#pool.request({ method: req.method, path: req.path, headers, body, signal });
      status = res.statusCode;
      text = await res.body.text();
    } catch (e) {
      const timedOut = signal.aborted && !req.signal?.aborted;
      throw new NodeTransportError(this.id, timedOut, timedOut ? `timed out after ${timeout} ms` : (e as Error).message, e);
    }
    let parsed: unknown = null;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new NodeTransportError(this.id, false, `answered ${status} with a body that is not JSON`, e);
      }
    }
    if (status >= 200 && status < 300) return { status, body: parsed as T };
    if (isErrorBody(parsed)) throw new NodeHttpError(this.id, status, parsed);
    throw new NodeTransportError(this.id, false, `answered ${status} without a Meilisearch error body`);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
