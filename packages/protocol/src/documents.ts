/**
 * Document payloads as Meilisearch reads them: content types, JSON / NDJSON / CSV parsing with
 * Meilisearch's exact error messages, primary key inference and document id validation. Shared by
 * the engine and the orchestrator so that both reject exactly what one Meilisearch node rejects.
 *
 * @see https://www.meilisearch.com/docs/reference/api/documents/add-or-replace-documents
 * @see https://www.meilisearch.com/docs/resources/internals/primary_key
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { MeiliError } from './errors.js';
import { exceedsJsonDepth } from './json-body.js';
import { JSON_MAX_DEPTH } from './json-error.js';

export type Document = Record<string, unknown>;

/** The content types accepted by the document addition routes, in Meilisearch's order. */
export const ACCEPTED_DOCUMENT_CONTENT_TYPES: readonly string[] = Object.freeze([
  'application/json',
  'application/x-ndjson',
  'text/csv',
]);

const ACCEPTED_LIST = ACCEPTED_DOCUMENT_CONTENT_TYPES.map((t) => `\`${t}\``).join(', ');

export const PayloadFormat = { Json: 'json', Ndjson: 'ndjson', Csv: 'csv' } as const;
export type PayloadFormat = (typeof PayloadFormat)[keyof typeof PayloadFormat];

/**
 * The payload format for a `Content-Type` header (parameters such as `; charset=utf-8` ignored)
 * and an optional `csvDelimiter` query parameter, or the 415 error Meilisearch answers.
 */
export function payloadFormat(contentType: string | null | undefined, csvDelimiter?: string): PayloadFormat {
  if (csvDelimiter !== undefined) parseCsvDelimiter(csvDelimiter);
  if (contentType === undefined || contentType === null) {
    throw new MeiliError(
      'missing_content_type',
      `A Content-Type header is missing. Accepted values for the Content-Type header are: ${ACCEPTED_LIST}`,
    );
  }
  const essence = mimeEssence(contentType);
  if (essence === null) throw invalidContentType(contentType);
  if (essence === 'application/json' && csvDelimiter === undefined) return PayloadFormat.Json;
  if (essence === 'application/x-ndjson' && csvDelimiter === undefined) return PayloadFormat.Ndjson;
  if (essence === 'text/csv') return PayloadFormat.Csv;
  throw invalidContentType(essence);
}

function invalidContentType(shown: string): MeiliError {
  return new MeiliError(
    'invalid_content_type',
    `The Content-Type \`${shown}\` is invalid. Accepted values for the Content-Type header are: ${ACCEPTED_LIST}`,
  );
}

const MIME_TOKEN = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/;

/** `type/subtype`, lowercased, parameters dropped; null when the header is not a media type. */
function mimeEssence(header: string): string | null {
  const essence = header.split(';', 1)[0].trim();
  return MIME_TOKEN.test(essence) ? essence.toLowerCase() : null;
}

/**
 * The `csvDelimiter` query parameter: exactly one ASCII character, else
 * `invalid_document_csv_delimiter`.
 */
export function parseCsvDelimiter(raw: string): string {
  const chars = [...raw];
  if (chars.length === 0) {
    throw new MeiliError(
      'invalid_document_csv_delimiter',
      'Invalid value in parameter `csvDelimiter`: expected a string of one character, but found an empty string',
    );
  }
  if (chars.length > 1) {
    throw new MeiliError(
      'invalid_document_csv_delimiter',
      `Invalid value in parameter \`csvDelimiter\`: expected a string of one character, but found the following string of ${chars.length} characters: \`${raw}\``,
    );
  }
  if (raw.charCodeAt(0) > 0x7f) {
    throw new MeiliError(
      'invalid_document_csv_delimiter',
      `csv delimiter must be an ascii character. Found: \`${raw}\``,
    );
  }
  return raw;
}

export interface ParsePayloadOptions {
  /** The `csvDelimiter` query parameter, if given. */
  csvDelimiter?: string;
}

/**
 * Parse a document payload into documents, with the checks and errors of Meilisearch: 415
 * `missing_content_type` / `invalid_content_type`, 400 `missing_payload` for an empty body,
 * 400 `malformed_payload` for unreadable JSON / NDJSON / CSV or values that are not objects,
 * 400 `invalid_document_csv_delimiter`.
 */
export function parseDocumentsPayload(
  body: Buffer | string,
  contentType: string | null | undefined,
  opts: ParsePayloadOptions = {},
): Document[] {
  const format = payloadFormat(contentType, opts.csvDelimiter);
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  if (bytes.length === 0) throw new MeiliError('missing_payload', `A ${format} payload is missing.`);
  switch (format) {
    case PayloadFormat.Json:
      return readJson(bytes);
    case PayloadFormat.Ndjson:
      return readNdjson(bytes);
    case PayloadFormat.Csv:
      return readCsv(bytes, opts.csvDelimiter ?? ',');
  }
}

// ---- JSON ----------------------------------------------------------------------------------------

const NOT_OBJECTS = 'data are neither an object nor a list of objects';

function jsonMalformed(format: PayloadFormat, detail: string): MeiliError {
  // Meilisearch shortens long parser messages to 50 + "..." + 85 characters.
  const message = detail.length > 138 ? `${detail.slice(0, 50)}...${detail.slice(detail.length - 85)}` : detail;
  return new MeiliError(
    'malformed_payload',
    `The \`${format}\` payload provided is malformed. \`Couldn't serialize document value: ${message}\`.`,
  );
}

function isObject(v: unknown): v is Document {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A JSON payload: an array of objects, or one object. The fast path is `JSON.parse`; only when it
 * fails (or the shape is wrong) does the scanner below work out Meilisearch's exact error.
 */
function readJson(bytes: Buffer): Document[] {
  const text = bytes.toString('utf8');
  let parsed: unknown;
  let ok = true;
  try {
    parsed = JSON.parse(text);
  } catch {
    ok = false;
  }
  // `JSON.parse` turns out-of-range numbers into Infinity where serde_json refuses them.
  if (ok && HUGE_NUMBER.test(text)) ok = false;
  // Deeper than serde_json's recursion limit: the scanner says where.
  if (ok && exceedsJsonDepth(bytes)) ok = false;
  if (ok) {
    if (Array.isArray(parsed)) {
      if (parsed.every(isObject)) return parsed as Document[];
      // An element is not an object: Meilisearch then retries the payload as one object.
      const err = new JsonScanner(bytes).scanArrayOfObjects();
      throw jsonMalformed(PayloadFormat.Json, err !== null && err !== DATA_ERROR ? err : NOT_OBJECTS);
    }
    if (isObject(parsed)) return [parsed];
  }
  const scanner = new JsonScanner(bytes);
  const first = scanner.scanArrayOfObjects();
  if (first === null) {
    // A well-formed array followed by trailing bytes, which Meilisearch ignores.
    return JSON.parse(bytes.subarray(0, scanner.index).toString('utf8')) as Document[];
  }
  if (first !== DATA_ERROR) throw jsonMalformed(PayloadFormat.Json, first);
  const second = new JsonScanner(bytes).scanObjectDocument();
  if (second === DATA_ERROR) throw jsonMalformed(PayloadFormat.Json, NOT_OBJECTS);
  if (second !== null) throw jsonMalformed(PayloadFormat.Json, second);
  return [JSON.parse(text) as Document];
}

/** NDJSON: a stream of JSON objects separated by whitespace. */
function readNdjson(bytes: Buffer): Document[] {
  const text = bytes.toString('utf8');
  const docs: Document[] = [];
  // Deeper than serde_json's recursion limit somewhere: the scanner says where.
  let fast = !exceedsJsonDepth(bytes);
  for (const line of fast ? text.split('\n') : []) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      fast = false;
      break;
    }
    if (!isObject(v)) {
      fast = false;
      break;
    }
    docs.push(v);
  }
  if (fast) return docs;
  // Slow path: values may span lines or share one; find each value's extent, or the error.
  const scanner = new JsonScanner(bytes);
  const out: Document[] = [];
  for (;;) {
    scanner.skipWhitespace();
    if (scanner.atEnd()) return out;
    const start = scanner.index;
    const err = scanner.scanStreamValue();
    if (err === DATA_ERROR) throw jsonMalformed(PayloadFormat.Ndjson, NOT_OBJECTS);
    if (err !== null) throw jsonMalformed(PayloadFormat.Ndjson, err);
    const v = JSON.parse(bytes.subarray(start, scanner.index).toString('utf8')) as unknown;
    if (!isObject(v)) throw jsonMalformed(PayloadFormat.Ndjson, NOT_OBJECTS);
    out.push(v);
  }
}

const DATA_ERROR = '\0data';
const HUGE_NUMBER = /\d[eE]\+?\d{3}|\d{309}/;

/**
 * Finds where and why serde_json (Meilisearch's JSON parser) rejects a payload, with its messages
 * and its `line L column C` positions (column in bytes from the line start). Methods return null
 * when the input is accepted, `DATA_ERROR` for a type mismatch (not an object), or the message.
 */
class JsonScanner {
  readonly #b: Buffer;
  index = 0;

  constructor(bytes: Buffer) {
    this.#b = bytes;
  }

  atEnd(): boolean {
    return this.index >= this.#b.length;
  }

  skipWhitespace(): void {
    const b = this.#b;
    while (this.index < b.length) {
      const c = b[this.index];
      if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) break;
      this.index++;
    }
  }

  #peek(): number | null {
    return this.index < this.#b.length ? this.#b[this.index] : null;
  }

  #position(i: number): string {
    const lineStart = this.#b.lastIndexOf(0x0a, i - 1) + 1;
    let line = 1;
    for (let k = 0; k < lineStart; k++) if (this.#b[k] === 0x0a) line++;
    return `line ${line} column ${i - lineStart}`;
  }

  /** serde_json `peek_error`: positioned on the byte being looked at. */
  #peekError(msg: string): Error {
    return new ScanError(`${msg} at ${this.#position(Math.min(this.#b.length, this.index + 1))}`);
  }

  /** serde_json `error`: positioned after the last consumed byte. */
  #error(msg: string): Error {
    return new ScanError(`${msg} at ${this.#position(this.index)}`);
  }

  #run(fn: () => void): string | null {
    try {
      fn();
      return null;
    } catch (e) {
      if (e instanceof ScanError) return e.message;
      if (e === DATA) return DATA_ERROR;
      throw e;
    }
  }

  /** Meilisearch's first attempt: a sequence of objects (trailing bytes after it are ignored). */
  scanArrayOfObjects(): string | null {
    return this.#run(() => {
      this.skipWhitespace();
      const c = this.#peek();
      if (c === null) throw this.#peekError('EOF while parsing a value');
      if (c !== 0x5b) this.#invalidType();
      this.index++;
      this.#seq(() => this.#objectElement(1));
    });
  }

  /** Meilisearch's second attempt: the whole payload as one object. */
  scanObjectDocument(): string | null {
    return this.#run(() => {
      this.#objectElement(0);
      this.skipWhitespace();
      if (this.#peek() !== null) throw this.#peekError('trailing characters');
    });
  }

  /** One value of an NDJSON stream. */
  scanStreamValue(): string | null {
    return this.#run(() => {
      const c = this.#peek();
      const delimited = c === 0x5b || c === 0x7b || c === 0x22;
      this.#value(0);
      if (!delimited) {
        const n = this.#peek();
        if (n !== null && !' \n\t\r"[]{},:'.includes(String.fromCharCode(n))) {
          throw this.#peekError('trailing characters');
        }
      }
    });
  }

  /** Deserialize as an object: `{` parses one; anything else is a type mismatch once scanned. */
  #objectElement(depth: number): void {
    this.skipWhitespace();
    const c = this.#peek();
    if (c === null) throw this.#peekError('EOF while parsing a value');
    if (c === 0x7b) {
      this.#open(depth);
      this.#map(depth + 1);
      return;
    }
    this.#invalidType();
  }

  /** serde_json `peek_invalid_type`: scalars are parsed first (and may be malformed). */
  #invalidType(): never {
    const c = this.#peek()!;
    if (c === 0x5b || c === 0x7b) throw DATA;
    if (c === 0x22 || c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x6e || c === 0x74 || c === 0x66) {
      this.#value(0);
      throw DATA;
    }
    throw this.#peekError('expected value');
  }

  #seq(element: () => void): void {
    this.skipWhitespace();
    if (this.#peek() === 0x5d) {
      this.index++;
      return;
    }
    for (;;) {
      element();
      this.skipWhitespace();
      const c = this.#peek();
      if (c === 0x5d) {
        this.index++;
        return;
      }
      if (c === null) throw this.#peekError('EOF while parsing a list');
      if (c !== 0x2c) throw this.#peekError('expected `,` or `]`');
      this.index++;
      this.skipWhitespace();
      if (this.#peek() === 0x5d) throw this.#peekError('trailing comma');
    }
  }

  /**
   * Consumes the bracket opening a container nested in `depth` others: serde_json refuses the
   * {@link JSON_MAX_DEPTH}th level, positioned on that bracket.
   */
  #open(depth: number): void {
    if (depth + 1 >= JSON_MAX_DEPTH) throw this.#peekError('recursion limit exceeded');
    this.index++;
  }

  /** The members of an object whose `{` (at nesting level `level`) was consumed. */
  #map(level: number): void {
    this.skipWhitespace();
    let c = this.#peek();
    if (c === 0x7d) {
      this.index++;
      return;
    }
    for (;;) {
      if (c === null) throw this.#peekError('EOF while parsing an object');
      if (c !== 0x22) throw this.#peekError('key must be a string');
      this.index++;
      this.#string();
      this.skipWhitespace();
      const colon = this.#peek();
      if (colon === null) throw this.#peekError('EOF while parsing an object');
      if (colon !== 0x3a) throw this.#peekError('expected `:`');
      this.index++;
      this.#value(level);
      this.skipWhitespace();
      const next = this.#peek();
      if (next === 0x7d) {
        this.index++;
        return;
      }
      if (next === null) throw this.#peekError('EOF while parsing an object');
      if (next !== 0x2c) throw this.#peekError('expected `,` or `}`');
      this.index++;
      this.skipWhitespace();
      c = this.#peek();
      if (c === 0x7d) throw this.#peekError('trailing comma');
    }
  }

  #value(depth: number): void {
    this.skipWhitespace();
    const c = this.#peek();
    if (c === null) throw this.#peekError('EOF while parsing a value');
    switch (c) {
      case 0x6e:
        this.index++;
        this.#ident('ull');
        return;
      case 0x74:
        this.index++;
        this.#ident('rue');
        return;
      case 0x66:
        this.index++;
        this.#ident('alse');
        return;
      case 0x22:
        this.index++;
        this.#string();
        return;
      case 0x5b:
        this.#open(depth);
        this.#seq(() => this.#value(depth + 1));
        return;
      case 0x7b:
        this.#open(depth);
        this.#map(depth + 1);
        return;
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          this.#number();
          return;
        }
        throw this.#peekError('expected value');
    }
  }

  #ident(rest: string): void {
    for (let i = 0; i < rest.length; i++) {
      const c = this.#peek();
      if (c === null) throw this.#error('EOF while parsing a value');
      this.index++;
      if (c !== rest.charCodeAt(i)) throw this.#error('expected ident');
    }
  }

  #digit(c: number | null): boolean {
    return c !== null && c >= 0x30 && c <= 0x39;
  }

  #number(): void {
    const start = this.index;
    if (this.#peek() === 0x2d) {
      this.index++;
      const c = this.#peek();
      if (c === null) throw this.#error('EOF while parsing a value');
      if (!this.#digit(c)) {
        this.index++;
        throw this.#error('invalid number');
      }
    }
    if (this.#peek() === 0x30) {
      this.index++;
      if (this.#digit(this.#peek())) throw this.#peekError('invalid number');
    } else {
      while (this.#digit(this.#peek())) this.index++;
    }
    if (this.#peek() === 0x2e) {
      this.index++;
      if (!this.#digit(this.#peek())) {
        throw this.#peekError(this.#peek() === null ? 'EOF while parsing a value' : 'invalid number');
      }
      while (this.#digit(this.#peek())) this.index++;
    }
    const e = this.#peek();
    if (e === 0x65 || e === 0x45) {
      this.index++;
      const sign = this.#peek();
      if (sign === 0x2b || sign === 0x2d) this.index++;
      const d = this.#peek();
      if (d === null) throw this.#error('EOF while parsing a value');
      this.index++;
      if (!this.#digit(d)) throw this.#error('invalid number');
      while (this.#digit(this.#peek())) this.index++;
    }
    const n = Number(this.#b.subarray(start, this.index).toString('latin1'));
    if (!Number.isFinite(n)) throw this.#error('number out of range');
  }

  #string(): void {
    const b = this.#b;
    for (;;) {
      if (this.index >= b.length) throw this.#error('EOF while parsing a string');
      const c = b[this.index++];
      if (c === 0x22) return;
      if (c < 0x20) throw this.#error('control character (\\u0000-\\u001F) found while parsing a string');
      if (c !== 0x5c) continue;
      if (this.index >= b.length) throw this.#error('EOF while parsing a string');
      const esc = b[this.index++];
      if (esc === 0x75) {
        for (let k = 0; k < 4; k++) {
          if (this.index >= b.length) throw this.#error('EOF while parsing a string');
          const h = b[this.index++];
          const hex = (h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66);
          if (!hex) throw this.#error('invalid escape');
        }
      } else if (!'"\\/bfnrt'.includes(String.fromCharCode(esc))) {
        throw this.#error('invalid escape');
      }
    }
  }
}

class ScanError extends Error {}
const DATA = Symbol('data');

// ---- CSV -----------------------------------------------------------------------------------------

type CsvType = 'string' | 'number' | 'boolean';

/** `name:type` with the type after the last colon; an unknown type keeps the whole header. */
function parseCsvHeader(header: string): [string, CsvType] {
  const colon = header.lastIndexOf(':');
  if (colon !== -1) {
    const t = header.slice(colon + 1);
    if (t === 'string' || t === 'number' || t === 'boolean') return [header.slice(0, colon), t];
  }
  return [header, 'string'];
}

/** Rust's `Debug` for a string: double-quoted with escapes. */
function rustDebugString(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\0') out += '\\0';
    else if (/\p{Cc}/u.test(ch)) out += `\\u{${ch.codePointAt(0)!.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

function csvMalformed(detail: string): MeiliError {
  return new MeiliError('malformed_payload', `The \`csv\` payload provided is malformed: \`${detail}\`.`);
}

const RUST_INT = /^[+-]?\d+$/;
const RUST_FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;

function csvRows(bytes: Buffer, delimiter: string): string[][] {
  return parseCsv(bytes, {
    delimiter,
    bom: true,
    relax_quotes: true,
    skip_empty_lines: true,
    relax_column_count: false,
  }) as string[][];
}

function readCsv(bytes: Buffer, delimiter: string): Document[] {
  let rows: string[][];
  try {
    try {
      rows = csvRows(bytes, delimiter);
    } catch (e) {
      // The Rust csv reader ends an unclosed quoted field at the end of the input.
      if ((e as { code?: string }).code !== 'CSV_QUOTE_NOT_CLOSED') throw e;
      rows = csvRows(Buffer.concat([bytes, Buffer.from('"')]), delimiter);
    }
  } catch (e) {
    throw csvMalformed(csvErrorText(e));
  }
  if (rows.length === 0) return [];
  const fields = rows[0].map(parseCsvHeader);
  const docs: Document[] = [];
  for (let r = 1; r < rows.length; r++) {
    const record = rows[r];
    // `Object.fromEntries` defines own properties, so a column named `__proto__` stays data.
    const entries: [string, unknown][] = [];
    for (let i = 0; i < fields.length; i++) {
      const [name, type] = fields[i];
      const raw = record[i];
      const trimmed = raw.trim();
      let value: unknown;
      if (type === 'number') {
        if (trimmed === '') value = null;
        else if (RUST_INT.test(trimmed) || RUST_FLOAT.test(trimmed)) {
          const n = Number(/^[+-]?inf(inity)?$/i.test(trimmed) ? NaN : trimmed);
          value = Number.isFinite(n) ? n : null;
        } else {
          throw csvMalformed(`Error parsing number ${rustDebugString(raw)} at line ${r}: invalid float literal`);
        }
      } else if (type === 'boolean') {
        if (trimmed === '') value = null;
        else if (trimmed === 'true' || trimmed === 'false') value = trimmed === 'true';
        else {
          throw csvMalformed(
            `Error parsing boolean ${rustDebugString(raw)} at line ${r}: provided string was not \`true\` or \`false\``,
          );
        }
      } else {
        value = raw === '' ? null : raw;
      }
      entries.push([name, value]);
    }
    docs.push(Object.fromEntries(entries) as Document);
  }
  return docs;
}

/** The Rust `csv` crate's text for the errors csv-parse reports. */
function csvErrorText(e: unknown): string {
  const err = e as { code?: string; message?: string; records?: number; lines?: number; bytes_records?: number; record?: unknown[]; index?: number };
  if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' && Array.isArray(err.record)) {
    const m = /expect (\d+)/.exec(err.message ?? '');
    return `CSV error: record ${err.records ?? 0} (line ${err.lines ?? 0}, byte: ${err.bytes_records ?? 0}): found record with ${err.record.length} fields, but the previous record has ${m ? m[1] : '?'} fields`;
  }
  return `CSV error: ${err.message ?? String(e)}`;
}

// ---- primary key and document ids ---------------------------------------------------------------

/**
 * Infer the primary key from the first document of a batch: the one top-level field whose
 * lowercased name ends with `id`. None or several → Meilisearch's errors.
 */
export function inferPrimaryKey(firstDoc: Document): string {
  const candidates = Object.keys(firstDoc).filter((k) => k.toLowerCase().endsWith('id'));
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    throw new MeiliError(
      'index_primary_key_no_candidate_found',
      'The primary key inference failed as the engine did not find any field ending with `id` in its name. Please specify the primary key manually using the `primaryKey` query parameter.',
    );
  }
  const sorted = candidates
    .map((name, i) => ({ name, key: name.toLowerCase(), i }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i))
    .map((c) => c.name);
  throw new MeiliError(
    'index_primary_key_multiple_candidates_found',
    `The primary key inference failed as the engine found ${sorted.length} fields ending with \`id\` in their names: '${sorted[0]}' and '${sorted[1]}'. Please specify the primary key manually using the \`primaryKey\` query parameter.`,
  );
}

const ID_CHARS = /^[A-Za-z0-9_-]+$/;
const MAX_ID_BYTES = 511;

function invalidDocumentId(value: unknown): MeiliError {
  return new MeiliError(
    'invalid_document_id',
    `Document identifier \`${JSON.stringify(value)}\` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes.`,
  );
}

/**
 * A document id given on its own (delete by id, delete batch, get document): an integer, or a
 * string of `[A-Za-z0-9_-]` (surrounding whitespace trimmed) of at most 511 bytes. Returns its
 * canonical string (`1` and `"1"` are both `"1"`), else throws `invalid_document_id`.
 */
export function validateDocumentIdValue(value: unknown): string {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed !== '' && trimmed.length <= MAX_ID_BYTES && ID_CHARS.test(trimmed)) return trimmed;
    throw invalidDocumentId(value);
  }
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 2 ** 64) return String(value);
  throw invalidDocumentId(value);
}

/**
 * The canonical id of `doc` under `primaryKey` (dots reach into nested objects, `product.id`), or
 * `missing_document_id` / `invalid_document_id` as Meilisearch reports them.
 */
export function documentId(doc: Document, primaryKey: string): string {
  const values = primaryKeyValues(doc, primaryKey);
  if (values.length === 0) {
    throw new MeiliError(
      'missing_document_id',
      `Document doesn't have a \`${primaryKey}\` attribute: \`${JSON.stringify(doc)}\`.`,
    );
  }
  if (values.length > 1) {
    throw new MeiliError(
      'invalid_document_id',
      `Document have too many matching \`${primaryKey}\` attribute: \`${JSON.stringify(doc)}\`.`,
    );
  }
  return validateDocumentIdValue(values[0]);
}

/** Values at a primary key path: a top-level field, or nested objects joined by dots. */
function primaryKeyValues(doc: Document, path: string): unknown[] {
  if (Object.hasOwn(doc, path)) {
    if (!path.includes('.')) return [doc[path]];
  } else if (!path.includes('.')) {
    return [];
  }
  const out: unknown[] = [];
  collect(doc, path, out);
  return out;
}

function collect(obj: Document, path: string, out: unknown[]): void {
  if (Object.hasOwn(obj, path)) out.push(obj[path]);
  for (let i = path.indexOf('.'); i !== -1; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    const next = obj[head];
    if (Object.hasOwn(obj, head) && isObject(next)) collect(next, path.slice(i + 1), out);
  }
}
