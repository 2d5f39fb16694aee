import { FilterError } from './errors.js';

/** The shape of `@miroir/protocol`'s `MeiliError` that this package needs. */
export interface MeiliErrorLike extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: string;
  toJSON(): { message: string; code: string; type: string; link: string };
}

type MeiliErrorFactory = (code: string, message: string, cause: unknown) => MeiliErrorLike;

/**
 * `@miroir/protocol` depends on this package, so this package cannot import its `MeiliError`;
 * the protocol package registers its constructor here when it loads (every caller that handles
 * `MeiliError`s has loaded it).
 */
let factory: MeiliErrorFactory | null = null;

/** Called by `@miroir/protocol` at load time. */
export function registerMeiliErrorFactory(f: MeiliErrorFactory): void {
  factory = f;
}

/**
 * Turn a filter error into the Meilisearch error of the caller's route (`invalid_search_filter`,
 * `invalid_document_filter`, `invalid_similar_filter`…). Any other error is returned unchanged.
 */
export function toMeiliError(err: FilterError, code: string): MeiliErrorLike;
export function toMeiliError(err: unknown, code: string): unknown;
export function toMeiliError(err: unknown, code: string): unknown {
  if (!(err instanceof FilterError)) return err;
  if (factory) return factory(code, err.message, err);
  return new FallbackMeiliError(code, err.message, err);
}

/** Used only if `@miroir/protocol` was never loaded: same fields, same JSON. */
class FallbackMeiliError extends Error implements MeiliErrorLike {
  readonly code: string;
  readonly status = 400;
  readonly type = 'invalid_request';
  constructor(code: string, message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'MeiliError';
    this.code = code;
  }
  toJSON(): { message: string; code: string; type: string; link: string } {
    return {
      message: this.message,
      code: this.code,
      type: this.type,
      link: `https://docs.meilisearch.com/errors#${this.code}`,
    };
  }
}
