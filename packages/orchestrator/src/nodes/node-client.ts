/**
 * The only code that speaks HTTP to nodes. One bounded keep-alive undici Pool per node.
 *
 * Three failure kinds stay distinct (STYLE 6): the node answered non-2xx ({@link NodeHttpError}, the
 * node's Meilisearch error body kept verbatim), the transport failed or timed out
 * ({@link NodeTransportError}), or our own validation failed (a MeiliError, raised elsewhere).
 */
import { Pool } from 'undici';
import { isErrorBody, type ErrorBody } from '@miroir/protocol';
import { nodeOperation, type NodeOperation } from './operation.js';

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
  /** The metric label of this call; derived from the method and path when absent ({@link nodeOperation}). */
  operation?: NodeOperation;
  /** A 2xx answer's body is returned as text, not parsed (an NDJSON answer). */
  text?: boolean;
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
    /** The HTTP status when the node did answer, but with a body that is not a Meilisearch answer. */
    readonly status?: number,
  ) {
    super(`node ${nodeId}: ${message}`, { cause });
    this.name = 'NodeTransportError';
  }

  /** The `error_type` metric label of this failure. */
  get errorType(): NodeErrorType {
    if (this.timedOut) return 'timeout';
    if (this.status === undefined) return 'connection';
    return this.status >= 500 ? 'http_5xx' : 'invalid_response';
  }
}

/** Why a node call failed, as the `error_type` label of `miroir_node_errors_total`. */
export type NodeErrorType = 'timeout' | 'connection' | 'invalid_response' | 'http_5xx';

/**
 * Watches node calls (metrics, tracing). `start` runs before the request is sent and may add headers
 * (trace context); what it returns is handed back to `end`, so a call costs no closure.
 */
export interface NodeCallObserver {
  start(nodeId: string, operation: NodeOperation, method: string, headers: Record<string, string>): unknown;
  end(token: unknown, nodeId: string, operation: NodeOperation, seconds: number, status: number, error: NodeErrorType | null): void;
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
  #observer: NodeCallObserver | undefined;

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

  /** Attaches the observer of this node's calls (wiring time; none means no cost). */
  observe(observer: NodeCallObserver | undefined): void {
    this.#observer = observer;
  }

  /** Sends one request; resolves the parsed JSON body of a 2xx answer (null when empty). */
  async request<T = unknown>(req: NodeRequest): Promise<NodeResponse<T>> {
    // One async function for the whole call (no wrapper around it): observing a call must not add
    // promises to the hot path.
    const obs = this.#observer;
    const headers: Record<string, string> = {};
    let operation: NodeOperation = 'other';
    let token: unknown;
    let t0 = 0;
    if (obs !== undefined) {
      operation = req.operation ?? nodeOperation(req.method, req.path);
      token = obs.start(this.id, operation, req.method, headers);
      t0 = performance.now();
    }
    if (this.#auth) headers.authorization = this.#auth;
    let body: string | Buffer | undefined;
    if (req.raw !== undefined) {
      body = req.raw;
      headers['content-type'] = req.contentType ?? 'application/json';
    } else if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    // undici's own phase timers (headers, then body) bound the call: a per-call AbortSignal.timeout
    // would keep a timer alive for the whole timeout after the answer, tens of thousands under load.
    const timeout = req.timeoutMs ?? this.#timeoutMs;
    let status: number;
    let text: string;
    try {
      const res = await this.#pool.request({
        method: req.method,
        path: req.path,
        headers,
        body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
      const err = new NodeTransportError(this.id, timedOut, timedOut ? `timed out after ${timeout} ms` : (e as Error).message, e);
      if (obs !== undefined) obs.end(token, this.id, operation, (performance.now() - t0) / 1000, 0, err.errorType);
      throw err;
    }
    const seconds = obs === undefined ? 0 : (performance.now() - t0) / 1000;
    if (req.text === true && status >= 200 && status < 300) {
      if (obs !== undefined) obs.end(token, this.id, operation, seconds, status, null);
      return { status, body: text as T };
    }
    let parsed: unknown = null;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        const err = new NodeTransportError(this.id, false, `answered ${status} with a body that is not JSON`, e, status);
        if (obs !== undefined) obs.end(token, this.id, operation, seconds, status, err.errorType);
        throw err;
      }
    }
    if (status >= 200 && status < 300) {
      if (obs !== undefined) obs.end(token, this.id, operation, seconds, status, null);
      return { status, body: parsed as T };
    }
    if (isErrorBody(parsed)) {
      if (obs !== undefined) obs.end(token, this.id, operation, seconds, status, status >= 500 ? 'http_5xx' : null);
      throw new NodeHttpError(this.id, status, parsed);
    }
    const err = new NodeTransportError(this.id, false, `answered ${status} without a Meilisearch error body`, undefined, status);
    if (obs !== undefined) obs.end(token, this.id, operation, seconds, status, err.errorType);
    throw err;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
