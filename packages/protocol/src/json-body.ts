/**
 * JSON request bodies as Meilisearch decodes them: `application/json` only (415
 * `missing_content_type` / `invalid_content_type` otherwise), an empty body is `missing_payload`, an
 * unparsable one `malformed_payload` with serde_json's wording. Shared by the engine and the
 * orchestrator, so a bad body gets the same answer from both.
 */
import { MeiliError } from './errors.js';
import { serdeJsonError } from './json-error.js';

/** No header → 415 `missing_content_type`; a type other than `application/json` → 415 `invalid_content_type`. */
export function checkJsonContentType(contentType: string | undefined): void {
  if (contentType === undefined) {
    throw new MeiliError(
      'missing_content_type',
      'A Content-Type header is missing. Accepted values for the Content-Type header are: `application/json`',
    );
  }
  if (contentType.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
    throw new MeiliError(
      'invalid_content_type',
      `The Content-Type \`${contentType}\` is invalid. Accepted values for the Content-Type header are: \`application/json\``,
    );
  }
}

/** True when the body carries nothing but white space. */
export function isEmptyBody(raw: Buffer | string | undefined): boolean {
  if (raw === undefined) return true;
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  return text.trim() === '';
}

/** Decodes a JSON body: content type checked, empty → `missing_payload`, unparsable → `malformed_payload`. */
export function parseJsonBody(raw: Buffer | string | undefined, contentType: string | undefined): unknown {
  checkJsonContentType(contentType);
  const text = raw === undefined ? '' : typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.trim() === '') throw new MeiliError('missing_payload', 'A json payload is missing.');
  try {
    return JSON.parse(text);
  } catch {
    throw new MeiliError('malformed_payload', `The json payload provided is malformed. \`${serdeJsonError(text)}\`.`);
  }
}

/** A query-string value read as Meilisearch reads `filter`: its JSON value when it parses as JSON, else the text. */
export function jsonOrText(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
