/**
 * `Content-Encoding` of request bodies: Meilisearch accepts gzip, deflate and br.
 */
import type { Transform } from 'node:stream';
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

/** Whether an error came from decoding a compressed body (truncated or not compressed at all). */
export function isDecompressionError(err: { code?: unknown; message: string }): boolean {
  const code = typeof err.code === 'string' ? err.code : '';
  return code.startsWith('Z_') || code === 'ERR_BROTLI_DECOMPRESSION_FAILED' || /incorrect header check|unexpected end of file/i.test(err.message);
}

/** Meilisearch's answer to a body that cannot be decompressed. */
export function incompletePayloadError(): MeiliError {
  return new MeiliError('bad_request', 'The provided payload is incomplete and cannot be parsed');
}
