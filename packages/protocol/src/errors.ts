/**
 * Meilisearch's error model: every error a client can see is `{message, code, type, link}`.
 * One class carries all of them; the HTTP status and `type` are derived from the code once,
 * here, so no call site picks a status by hand.
 *
 * @see https://www.meilisearch.com/docs/reference/errors/error_codes
 */

export const ErrorType = {
  InvalidRequest: 'invalid_request',
  Auth: 'auth',
  Internal: 'internal',
  System: 'system',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

interface CodeInfo {
  readonly status: number;
  readonly type: ErrorType;
}

/** Codes whose status or type differ from the default `400 invalid_request`. */
const EXCEPTIONS: Readonly<Record<string, CodeInfo>> = {
  missing_authorization_header: { status: 401, type: 'auth' },
  missing_master_key: { status: 401, type: 'auth' },
  invalid_api_key: { status: 403, type: 'auth' },
  remote_invalid_api_key: { status: 403, type: 'auth' },
  index_not_found: { status: 404, type: 'invalid_request' },
  document_not_found: { status: 404, type: 'invalid_request' },
  task_not_found: { status: 404, type: 'invalid_request' },
  webhook_not_found: { status: 404, type: 'invalid_request' },
  batch_not_found: { status: 404, type: 'invalid_request' },
  api_key_not_found: { status: 404, type: 'invalid_request' },
  dump_not_found: { status: 404, type: 'invalid_request' },
  task_file_not_found: { status: 404, type: 'invalid_request' },
  not_found: { status: 404, type: 'invalid_request' },
  index_already_exists: { status: 409, type: 'invalid_request' },
  api_key_already_exists: { status: 409, type: 'invalid_request' },
  dump_already_processing: { status: 409, type: 'invalid_request' },
  payload_too_large: { status: 413, type: 'invalid_request' },
  missing_content_type: { status: 415, type: 'invalid_request' },
  invalid_content_type: { status: 415, type: 'invalid_request' },
  unsupported_media_type: { status: 415, type: 'invalid_request' },
  io_error: { status: 422, type: 'system' },
  no_space_left_on_device: { status: 422, type: 'system' },
  too_many_open_files: { status: 422, type: 'system' },
  requires_enterprise_edition: { status: 451, type: 'invalid_request' },
  internal: { status: 500, type: 'internal' },
  index_creation_failed: { status: 500, type: 'internal' },
  invalid_state: { status: 500, type: 'internal' },
  invalid_store_file: { status: 500, type: 'internal' },
  dump_process_failed: { status: 500, type: 'internal' },
  database_size_limit_reached: { status: 500, type: 'internal' },
  unretrievable_document: { status: 400, type: 'internal' },
  remote_bad_response: { status: 502, type: 'system' },
  remote_could_not_send_request: { status: 502, type: 'system' },
  remote_remote_error: { status: 502, type: 'system' },
  remote_timeout: { status: 502, type: 'system' },
  too_many_search_requests: { status: 503, type: 'system' },
};

const DEFAULT_INFO: CodeInfo = { status: 400, type: 'invalid_request' };

/** Status and type for a Meilisearch error code. */
export function codeInfo(code: string): CodeInfo {
  return Object.hasOwn(EXCEPTIONS, code) ? EXCEPTIONS[code]! : DEFAULT_INFO;
}

/** The wire shape of every error. */
export interface ErrorBody {
  message: string;
  code: string;
  type: ErrorType;
  link: string;
}

/** Meilisearch's documentation anchor for its codes; Miroir's own `miroir_*` codes point at its docs. */
export function errorLink(code: string): string {
  return code.startsWith('miroir_') ? `docs/errors.md#${code}` : `https://docs.meilisearch.com/errors#${code}`;
}

/**
 * An error with a Meilisearch code. `status` and `type` come from {@link codeInfo} unless given
 * (Miroir's own `miroir_*` codes pass them explicitly).
 */
export class MeiliError extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: ErrorType;

  constructor(code: string, message: string, opts?: { status?: number; type?: ErrorType; cause?: unknown }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    const info = codeInfo(code);
    this.name = 'MeiliError';
    this.code = code;
    this.status = opts?.status ?? info.status;
    this.type = opts?.type ?? info.type;
  }

  toJSON(): ErrorBody {
    return { message: this.message, code: this.code, type: this.type, link: errorLink(this.code) };
  }
}

/** True for a value shaped like a Meilisearch error body (as a node sends it). */
export function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.message === 'string' && typeof o.code === 'string' && typeof o.type === 'string';
}

/** `Index \`x\` not found.` */
export function indexNotFound(uid: string): MeiliError {
  return new MeiliError('index_not_found', `Index \`${uid}\` not found.`);
}

/**
 * Meilisearch's `feature_not_enabled` (index-scheduler `FeatureNotEnabledError`): `action` needs
 * the experimental `feature`, discussed at `issue`.
 */
export function featureNotEnabled(action: string, feature: string, issue: string): MeiliError {
  return new MeiliError('feature_not_enabled', `${action} requires enabling the \`${feature}\` experimental feature. See ${issue}`);
}
