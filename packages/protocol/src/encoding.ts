/**
 * `Content-Encoding` of request bodies: Meilisearch accepts gzip, deflate and br. One decoding path
 * for both processes: only a request that has a body is decoded, and every decoder failure
 * (truncated, empty or not compressed at all) surfaces as one Meilisearch error on the stream the
 * server reads, never as an unhandled stream error.
 */
import { Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { MeiliError } from './errors.js';

/** A decoding stream for a request's `Content-Encoding`, or null for identity / unknown encodings. */
export function requestDecompressor(encoding: string | undefined): Transform | null {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return null;
  }
}

/** Meilisearch's answer to a body that cannot be decompressed. */
export function incompletePayloadError(cause?: unknown): MeiliError {
  return new MeiliError('bad_request', 'The provided payload is incomplete and cannot be parsed', { cause });
}


/** Meilisearch prints sizes in decimal units (`100 MB`). */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(2)} ${units[i]}`;
}

/** 413 `payload_too_large` for a body above `limit` bytes. */
export function payloadTooLargeError(limit: number): MeiliError {
  return new MeiliError(
    'payload_too_large',
    `The provided payload reached the size limit. The maximum accepted payload size is ${formatBytes(limit)}.`,
  );
}

/** Headers as node's `IncomingMessage` exposes them. */
type Headers = Record<string, string | string[] | undefined>;

/**
 * Whether a request has a body the server reads: not a GET or HEAD (whose bodies are ignored), and
 * a non-zero `Content-Length` or a `Transfer-Encoding`.
 */
export function hasRequestBody(method: string, headers: Headers): boolean {
  if (method === 'GET' || method === 'HEAD') return false;
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * A request body as it is decoded. Decoding starts when the reader first reads, and stops with 413
 * `payload_too_large` past `limit` decoded bytes (a compression bomb is not inflated into the
 * void). A body that does not decode is not an error of the stream: the failure goes to
 * `onDecodeError`, the rest of the encoded bytes are read and dropped, and the stream ends — a
 * route that reads the body raises the failure, one that takes no body never sees it. An error
 * nobody listens to any more is dropped rather than thrown.
 */
class DecodedBody extends Readable {
  readonly #payload: Readable;
  readonly #decoder: Transform;
  readonly #limit: number;
  readonly #onDecodeError: (err: MeiliError) => void;
  #started = false;
  #failed = false;
  #decoded = 0;
  /** Encoded bytes read so far: fastify checks these against `Content-Length` and its limit. */
  receivedEncodedLength = 0;

  constructor(payload: Readable, decoder: Transform, limit: number, onDecodeError: (err: MeiliError) => void) {
    super();
    this.#payload = payload;
    this.#decoder = decoder;
    this.#limit = limit;
    this.#onDecodeError = onDecodeError;
    this.on('error', () => {});
  }

  override _read(): void {
    if (this.#started) {
      if (!this.#failed) this.#decoder.resume();
      return;
    }
    this.#started = true;
    const decoder = this.#decoder;
    const payload = this.#payload;
    decoder.on('data', (chunk: Buffer) => {
      this.#decoded += chunk.length;
      if (this.#decoded > this.#limit) this.destroy(payloadTooLargeError(this.#limit));
      else if (!this.push(chunk)) decoder.pause();
    });
    decoder.on('end', () => this.push(null));
    decoder.on('error', (err) => {
      this.#failed = true;
      this.#onDecodeError(incompletePayloadError(err));
      payload.unpipe(decoder);
      decoder.destroy();
      if (payload.readableEnded) this.push(null);
      else {
        payload.on('end', () => this.push(null));
        payload.resume();
      }
    });
    payload.on('error', (err) => this.destroy(err));
    payload.on('data', (chunk: Buffer) => {
      this.receivedEncodedLength += chunk.length;
    });
    payload.pipe(decoder);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#payload.unpipe(this.#decoder);
    this.#decoder.destroy();
    callback(err);
  }
}

/**
 * The request body decoded per `Content-Encoding`, or `payload` itself when the request has no body
 * or an identity encoding. The size limit, `limit` bytes, applies to the decoded bytes; the
 * declared `Content-Length` is checked against the encoded ones. A body that does not decode ends
 * the stream early and is reported to `onDecodeError` (400 `bad_request`, to be raised by the
 * routes that read the body).
 */
export function decodeRequestBody(
  payload: Readable,
  method: string,
  headers: Headers,
  limit: number,
  onDecodeError: (err: MeiliError) => void,
): Readable {
  if (!hasRequestBody(method, headers)) return payload;
  const encoding = headers['content-encoding'];
  const decoder = requestDecompressor(typeof encoding === 'string' ? encoding : undefined);
  if (decoder === null) return payload;
  return new DecodedBody(payload, decoder, limit, onDecodeError);
}
