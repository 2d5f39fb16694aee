/**
 * Miroir's own error codes (spec S5.2). Meilisearch's codes come from `@miroir/protocol`; every
 * error a client sees is a {@link MeiliError}, serialized once by the API's error handler.
 * Every code here is documented in `docs/errors.md` (a test checks it).
 */
import { MeiliError, type ErrorType } from '@miroir/protocol';

export const MIROIR_ERRORS = {
  miroir_primary_key_required: { status: 400, type: 'invalid_request' },
  miroir_no_quorum: { status: 503, type: 'system' },
  miroir_shard_unavailable: { status: 503, type: 'system' },
  miroir_reserved_field: { status: 400, type: 'invalid_request' },
  miroir_idempotency_key_reused: { status: 409, type: 'invalid_request' },
  miroir_idempotency_key_in_flight: { status: 409, type: 'invalid_request' },
  miroir_invalid_idempotency_key: { status: 400, type: 'invalid_request' },
  miroir_settings_version_stale: { status: 503, type: 'system' },
  miroir_multi_alias_not_writable: { status: 409, type: 'invalid_request' },
  miroir_invalid_alias: { status: 400, type: 'invalid_request' },
  miroir_invalid_write_token: { status: 400, type: 'invalid_request' },
  miroir_invalid_session: { status: 400, type: 'invalid_request' },
  miroir_invalid_over_fetch: { status: 400, type: 'invalid_request' },
  miroir_alias_not_found: { status: 404, type: 'invalid_request' },
  miroir_alias_already_exists: { status: 409, type: 'invalid_request' },
  miroir_alias_name_conflict: { status: 409, type: 'invalid_request' },
  miroir_jwt_invalid: { status: 401, type: 'auth' },
  miroir_jwt_scope_denied: { status: 403, type: 'auth' },
  miroir_invalid_auth: { status: 401, type: 'auth' },
  miroir_writes_frozen: { status: 503, type: 'system' },
  miroir_settings_unrepairable: { status: 503, type: 'system' },
  miroir_settings_rolled_back: { status: 503, type: 'system' },
  miroir_settings_busy: { status: 503, type: 'system' },
  miroir_tenant_unknown: { status: 403, type: 'auth' },
  miroir_invalid_tenant_mapping: { status: 400, type: 'invalid_request' },
  miroir_not_supported: { status: 501, type: 'invalid_request' },
  miroir_multi_search_too_many_queries: { status: 400, type: 'invalid_request' },
  miroir_multi_search_timeout: { status: 504, type: 'system' },
  miroir_network_managed: { status: 400, type: 'invalid_request' },
  miroir_node_unavailable: { status: 503, type: 'system' },
  miroir_store_unavailable: { status: 503, type: 'system' },
  miroir_invalid_topology_change: { status: 400, type: 'invalid_request' },
  miroir_node_not_found: { status: 404, type: 'invalid_request' },
  miroir_node_removed: { status: 503, type: 'system' },
  miroir_rebalance_in_progress: { status: 409, type: 'invalid_request' },
  miroir_topology_changing: { status: 503, type: 'system' },
} as const satisfies Record<string, { status: number; type: ErrorType }>;

export type MiroirErrorCode = keyof typeof MIROIR_ERRORS;

export function miroirError(code: MiroirErrorCode, message: string, cause?: unknown): MeiliError {
  const { status, type } = MIROIR_ERRORS[code];
  return new MeiliError(code, message, { status, type, cause });
}
