// The HTTP envelope's rules, without a server: request-body decoding (bounded, errors surfaced to
// the reader), the JSON depth limit, content types, URL normalization, and how parser and
// framework errors become Meilisearch errors.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  checkJsonContentType,
  clientErrorResponse,
  decodeRequestBody,
  exceedsJsonDepth,
  frameworkError,
  isJsonContentType,
  jsonObject,
  MeiliError,
  normalizeRequestUrl,
  parseDocumentsPayload,
  parseJsonBody,
  serdeJsonError,
} from '../src/index.js';

/** Reads a stream to its end: the bytes, or the error it failed with. */
function drain(s: Readable): Promise<Buffer | Error> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', (e) => resolve(e));
  });
}

const headers = (h: Record<string, string>) => ({ ...h }) as Record<string, string | undefined>;

const noError = (e: MeiliError) => assert.fail(`unexpected decoding error: ${e.message}`);

test('decodeRequestBody: only bodies that are read and announced are decoded', () => {
  const src = new PassThrough();
  const decode = (method: string, h: Record<string, string>) => decodeRequestBody(src, method, headers(h), 100, noError);
  assert.equal(decode('GET', { 'content-encoding': 'gzip', 'content-length': '10' }), src);
  assert.equal(decode('POST', { 'content-encoding': 'gzip' }), src);
  assert.equal(decode('POST', { 'content-encoding': 'gzip', 'content-length': '0' }), src);
  assert.equal(decode('POST', { 'content-encoding': 'identity', 'content-length': '3' }), src);
  assert.notEqual(decode('DELETE', { 'content-encoding': 'br', 'transfer-encoding': 'chunked' }), src);
});

test('decodeRequestBody: a decoded body, its encoded length counted', async () => {
  const gz = gzipSync('{"q":"a"}');
  const out = decodeRequestBody(Readable.from([gz]), 'POST', headers({ 'content-encoding': 'gzip', 'content-length': String(gz.length) }), 100, noError);
  assert.equal(String(await drain(out)), '{"q":"a"}');
  assert.equal((out as Readable & { receivedEncodedLength: number }).receivedEncodedLength, gz.length);
});

test('decodeRequestBody: a body that does not decode is reported once, read to its end, and the stream ends', async () => {
  const incomplete = {
    message: 'The provided payload is incomplete and cannot be parsed',
    code: 'bad_request',
    type: 'invalid_request',
    link: 'https://docs.meilisearch.com/errors#bad_request',
  };
  const cases: [string, Buffer[]][] = [
    ['gzip', [Buffer.from('not compressed')]],
    ['deflate', [Buffer.from('not compressed')]],
    ['br', [Buffer.from('not compressed'), Buffer.from(' and more bytes after the failure')]],
    ['gzip', [gzipSync('{"q":"a"}').subarray(0, 8)]],
    ['gzip', [Buffer.alloc(0)]],
  ];
  for (const [enc, chunks] of cases) {
    const errors: MeiliError[] = [];
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const out = decodeRequestBody(Readable.from(chunks), 'POST', headers({ 'content-encoding': enc, 'transfer-encoding': 'chunked' }), 100, (e) => errors.push(e));
    // Nothing reads for a while: decoding waits for the reader, and nothing is thrown meanwhile.
    await new Promise((r) => setTimeout(r, 10));
    const result = await drain(out);
    assert.ok(Buffer.isBuffer(result), `${enc}: the stream ends`);
    assert.equal(errors.length, 1, enc);
    assert.deepEqual(errors[0]!.toJSON(), incomplete);
    assert.equal((out as Readable & { receivedEncodedLength: number }).receivedEncodedLength, total, `${enc}: every encoded byte read`);
  }
});

test('decodeRequestBody: past the limit of decoded bytes, 413 payload_too_large and decoding stops', async () => {
  const bomb = gzipSync(Buffer.alloc(5_000_000));
  const src = Readable.from([bomb]);
  const e = await drain(decodeRequestBody(src, 'POST', headers({ 'content-encoding': 'gzip', 'content-length': String(bomb.length) }), 1000, noError));
  assert.ok(e instanceof MeiliError);
  assert.equal(e.code, 'payload_too_large');
  assert.equal(e.message, 'The provided payload reached the size limit. The maximum accepted payload size is 1 KB.');
});

test('decodeRequestBody: an error after the reader left is dropped, not thrown', async () => {
  const bomb = gzipSync(Buffer.alloc(1_000_000));
  const out = decodeRequestBody(Readable.from([bomb]), 'POST', headers({ 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' }), 100, noError);
  const onData = () => {};
  out.on('data', onData);
  out.removeListener('data', onData);
  // Destroyed once the inflater reports the overflow (a few ms; longer on a loaded machine).
  for (const end = Date.now() + 5000; !out.destroyed && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  assert.ok(out.destroyed);
});

test('JSON depth: the 128th nested container is refused, strings do not count', () => {
  const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
  assert.equal(exceedsJsonDepth(nest(127)), false);
  assert.equal(exceedsJsonDepth(nest(128)), true);
  assert.equal(exceedsJsonDepth(`{"a":"${'['.repeat(500)}","b\\"[":${nest(3)}}`), false);
  assert.equal(serdeJsonError(nest(128)), 'recursion limit exceeded at line 1 column 128');
  assert.equal(serdeJsonError(`{\n "a": ${'['.repeat(200)}`), 'recursion limit exceeded at line 2 column 133');
  // A syntax error met first wins.
  assert.equal(serdeJsonError(`[1 2 ${'['.repeat(200)}`), 'expected `,` or `]` at line 1 column 4');
  assert.throws(() => parseJsonBody('['.repeat(100_000), 'application/json'), {
    code: 'malformed_payload',
    message: 'The json payload provided is malformed. `recursion limit exceeded at line 1 column 128`.',
  });
  assert.deepEqual(parseJsonBody(nest(127), 'application/json'), JSON.parse(nest(127)));
});

test('JSON depth in document payloads: JSON arrays (the array counts) and NDJSON values', () => {
  const doc = (n: number) => `{"id":1,"a":${'['.repeat(n)}${']'.repeat(n)}}`;
  assert.equal(parseDocumentsPayload(`[${doc(125)}]`, 'application/json').length, 1);
  assert.throws(() => parseDocumentsPayload(`[${doc(126)}]`, 'application/json'), {
    message: "The `json` payload provided is malformed. `Couldn't serialize document value: recursion limit exceeded at line 1 column 139`.",
  });
  assert.equal(parseDocumentsPayload(doc(126), 'application/x-ndjson').length, 1);
  assert.throws(() => parseDocumentsPayload(`${doc(1)}\n${doc(127)}`, 'application/x-ndjson'), {
    message: "The `ndjson` payload provided is malformed. `Couldn't serialize document value: recursion limit exceeded at line 2 column 139`.",
  });
});

test('content types: JSON routes take */json and */*+json; an empty or unparsable one is invalid', () => {
  for (const ct of ['application/json', 'Application/JSON; charset=utf-8', 'text/json', 'application/merge-patch+json']) assert.ok(isJsonContentType(ct), ct);
  for (const ct of ['', ' ', 'json', 'application/jsonx', 'text/plain', 'application/x-ndjson', '/json']) assert.ok(!isJsonContentType(ct), ct);
  assert.throws(() => checkJsonContentType(''), {
    code: 'invalid_content_type',
    message: 'The Content-Type `` is invalid. Accepted values for the Content-Type header are: `application/json`',
  });
  assert.throws(() => checkJsonContentType(undefined), { code: 'missing_content_type' });
});

test('object bodies: anything else is deserr root error', () => {
  assert.deepEqual(jsonObject({ a: 1 }), { a: 1 });
  const cases: [unknown, string][] = [
    [[], 'an array: `[]`'],
    [5, 'a positive integer: `5`'],
    [null, 'null'],
    [true, 'a boolean: `true`'],
    ['x', 'a string: `"x"`'],
  ];
  for (const [v, found] of cases) {
    assert.throws(() => jsonObject(v), { code: 'bad_request', message: `Invalid value type: expected an object, but found ${found}` });
  }
});

test('URLs: slashes merged as actix NormalizePath merges them; undecodable percent-encoding made literal, segment by segment', () => {
  const cases: [string, string][] = [
    ['//indexes', '/indexes'],
    ['/indexes//search?q=a//b', '/indexes/search?q=a//b'],
    ['/indexes///movies//documents/', '/indexes/movies/documents/'],
    ['//indexes/%zz', '/indexes/%25zz'],
    ['/indexes/movies/search?q=%zz', '/indexes/movies/search?q=%zz'],
    ['/indexes/%zz', '/indexes/%25zz'],
    ['/indexes/%', '/indexes/%25'],
    ['/indexes/a%20b/%E0%A4%A/x', '/indexes/a%20b/%25E0%25A4%25A/x'],
    ['/indexes/%C3%A9t%C3%A9', '/indexes/%C3%A9t%C3%A9'],
    ['/indexes/%zz?filter=%', '/indexes/%25zz?filter=%'],
  ];
  for (const [url, expected] of cases) assert.equal(normalizeRequestUrl(url), expected, url);
});

test('parser errors: a closing HTTP/1.1 answer with a Meilisearch body; none for a reset', () => {
  assert.equal(clientErrorResponse({ code: 'ECONNRESET' }), null);
  const bad = clientErrorResponse({ code: 'HPE_INVALID_HEADER_TOKEN' })!;
  const [head, body] = bad.split('\r\n\r\n') as [string, string];
  assert.deepEqual(head.split('\r\n'), ['HTTP/1.1 400 Bad Request', 'Connection: close', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`]);
  assert.deepEqual(JSON.parse(body), {
    message: 'The request could not be parsed as HTTP/1.1.',
    code: 'bad_request',
    type: 'invalid_request',
    link: 'https://docs.meilisearch.com/errors#bad_request',
  });
  assert.match(clientErrorResponse({ code: 'HPE_HEADER_OVERFLOW' })!, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.match(clientErrorResponse({ code: 'ERR_HTTP_REQUEST_TIMEOUT' })!, /^HTTP\/1\.1 408 Request Timeout\r\n/);
});

test('framework errors map to the Meilisearch error one node gives; defects stay unmapped', () => {
  const fst = (code: string, statusCode?: number) => Object.assign(new Error(code), { code, statusCode });
  assert.equal(frameworkError(fst('FST_ERR_CTP_BODY_TOO_LARGE', 413), 100_000_000)?.message, 'The provided payload reached the size limit. The maximum accepted payload size is 100 MB.');
  assert.equal(frameworkError(fst('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400), 1)?.message, 'The provided payload is incomplete and cannot be parsed');
  assert.equal(frameworkError(fst('FST_ERR_MAX_PARAM_LENGTH', 414), 1)?.status, 414);
  assert.equal(frameworkError(fst('FST_ERR_BAD_URL', 400), 1)?.code, 'bad_request');
  const own = new MeiliError('index_not_found', 'x');
  assert.equal(frameworkError(own, 1), own);
  assert.equal(frameworkError(new TypeError('x.map is not a function'), 1), null);
  assert.equal(frameworkError(fst('ERR_SOMETHING', 500), 1), null);
});
