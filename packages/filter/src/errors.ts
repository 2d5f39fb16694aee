import type { Token } from './ast.js';
import { spanLine } from './text.js';

/**
 * A filter Meilisearch would reject. `message` is Meilisearch's text, including (where Meilisearch
 * has one) the trailing `\n<start>:<end> <filter>` span line. Callers map it onto their route's
 * error code (`invalid_search_filter`, `invalid_document_filter`, …) as a `MeiliError`.
 */
export class FilterError extends Error {
  /** The offending fragment, as UTF-16 offsets into `source`, when the message carries a span. */
  readonly span: { readonly source: string; readonly start: number; readonly end: number } | null;

  constructor(message: string, span?: { source: string; start: number; end: number }) {
    super(message);
    this.name = 'FilterError';
    this.span = span ?? null;
  }

  /** An error about a fragment of `source`: the diagnostic line, then the span line. */
  static at(diagnostic: string, source: string, start: number, end: number): FilterError {
    return new FilterError(`${diagnostic}\n${spanLine(source, start, end)}`, { source, start, end });
  }

  /** An error about a token (Meilisearch's `as_external_error`). */
  static atToken(diagnostic: string, token: Token): FilterError {
    return FilterError.at(diagnostic, token.source, token.start, token.end);
  }
}
