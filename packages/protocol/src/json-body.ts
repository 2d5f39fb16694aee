/**
 * JSON request bodies as Meilisearch decodes them: any content type is accepted by its JSON
 * extractor; an empty body is `missing_payload`, an unparsable one `malformed_payload` with
 * serde_json's wording of the position. Shared by the engine and the orchestrator, so a bad body
 * gets the same answer from both.
 */
import { MeiliError } from './errors.js';

/** Line and column (1-based column, as serde_json counts) of a character offset. */
function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let col = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 0;
    } else col++;
  }
  return { line, column: col + 1 };
}

/**
 * serde_json's description of a syntax error (`expected value at line 1 column 1`, `EOF while
 * parsing a value at line 1 column 5`), recovered from V8's message, which words it differently.
 */
export function jsonSyntaxErrorText(text: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const m = /position (\d+)/.exec(msg);
  if (m === null || /end of JSON input/.test(msg)) {
    const { line, column } = lineColumn(text, Math.max(text.length - 1, 0));
    return `EOF while parsing a value at line ${line} column ${column}`;
  }
  const { line, column } = lineColumn(text, Number(m[1]));
  return `expected value at line ${line} column ${column}`;
}

/** True when the body carries nothing but white space. */
export function isEmptyBody(raw: Buffer | string | undefined): boolean {
  if (raw === undefined) return true;
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  return text.trim() === '';
}

/** Decodes a JSON body: empty → `missing_payload`, unparsable → `malformed_payload`. */
export function parseJsonBody(raw: Buffer | string | undefined): unknown {
  const text = raw === undefined ? '' : typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.trim() === '') throw new MeiliError('missing_payload', 'A json payload is missing.');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MeiliError('malformed_payload', `The json payload provided is malformed. \`${jsonSyntaxErrorText(text, err)}\`.`);
  }
}
