import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  documentId,
  inferPrimaryKey,
  MeiliError,
  parseCsvDelimiter,
  parseDocumentsPayload,
  payloadFormat,
  validateDocumentIdValue,
} from '../src/index.js';

/** The thrown MeiliError as `[status, code, message]`. */
function fails(fn: () => unknown): [number, string, string] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MeiliError, `expected a MeiliError, got ${String(e)}`);
    return [e.status, e.code, e.message];
  }
  return assert.fail('expected an error');
}

const ACCEPTED = 'Accepted values for the Content-Type header are: `application/json`, `application/x-ndjson`, `text/csv`';
const malformedJson = (detail: string) =>
  `The \`json\` payload provided is malformed. \`Couldn't serialize document value: ${detail}\`.`;
const malformedNdjson = (detail: string) =>
  `The \`ndjson\` payload provided is malformed. \`Couldn't serialize document value: ${detail}\`.`;
const NOT_OBJECTS = 'data are neither an object nor a list of objects';

describe('content types', () => {
  const ok: [string, string | undefined, string][] = [
    ['application/json', undefined, 'json'],
    ['application/json; charset=utf-8', undefined, 'json'],
    ['Application/JSON', undefined, 'json'],
    ['application/x-ndjson', undefined, 'ndjson'],
    ['text/csv', undefined, 'csv'],
    ['text/csv; charset=utf-8', ';', 'csv'],
  ];
  for (const [ct, delimiter, format] of ok) {
    it(`${ct} ${delimiter ?? ''}`, () => assert.equal(payloadFormat(ct, delimiter), format));
  }

  it('missing Content-Type: 415 missing_content_type', () => {
    assert.deepEqual(fails(() => parseDocumentsPayload('[]', undefined)), [
      415,
      'missing_content_type',
      `A Content-Type header is missing. ${ACCEPTED}`,
    ]);
  });

  it('other Content-Types: 415 invalid_content_type', () => {
    assert.deepEqual(fails(() => parseDocumentsPayload('[]', 'text/plain; charset=utf-8')), [
      415,
      'invalid_content_type',
      `The Content-Type \`text/plain\` is invalid. ${ACCEPTED}`,
    ]);
    assert.deepEqual(fails(() => parseDocumentsPayload('[]', 'nonsense')), [
      415,
      'invalid_content_type',
      `The Content-Type \`nonsense\` is invalid. ${ACCEPTED}`,
    ]);
  });

  it('csvDelimiter only with text/csv', () => {
    assert.deepEqual(fails(() => parseDocumentsPayload('[]', 'application/json', { csvDelimiter: ';' })), [
      415,
      'invalid_content_type',
      `The Content-Type \`application/json\` is invalid. ${ACCEPTED}`,
    ]);
  });

  it('csvDelimiter must be one ASCII character', () => {
    assert.equal(parseCsvDelimiter('|'), '|');
    assert.deepEqual(fails(() => parseCsvDelimiter('ab')), [
      400,
      'invalid_document_csv_delimiter',
      'Invalid value in parameter `csvDelimiter`: expected a string of one character, but found the following string of 2 characters: `ab`',
    ]);
    assert.deepEqual(fails(() => parseCsvDelimiter('')), [
      400,
      'invalid_document_csv_delimiter',
      'Invalid value in parameter `csvDelimiter`: expected a string of one character, but found an empty string',
    ]);
    // The delimiter is checked before the content type, as query parameters are parsed first.
    assert.deepEqual(fails(() => parseDocumentsPayload('a', 'text/plain', { csvDelimiter: '🍰' })), [
      400,
      'invalid_document_csv_delimiter',
      'csv delimiter must be an ascii character. Found: `🍰`',
    ]);
  });

  it('empty body: 400 missing_payload, per format', () => {
    assert.deepEqual(fails(() => parseDocumentsPayload('', 'application/json')), [400, 'missing_payload', 'A json payload is missing.']);
    assert.deepEqual(fails(() => parseDocumentsPayload(Buffer.alloc(0), 'application/x-ndjson')), [
      400,
      'missing_payload',
      'A ndjson payload is missing.',
    ]);
    assert.deepEqual(fails(() => parseDocumentsPayload('', 'text/csv')), [400, 'missing_payload', 'A csv payload is missing.']);
  });
});

describe('JSON payloads', () => {
  it('an array of objects or one object', () => {
    assert.deepEqual(parseDocumentsPayload('[{"id":1},{"id":"b","x":{"y":[1]}}]', 'application/json'), [
      { id: 1 },
      { id: 'b', x: { y: [1] } },
    ]);
    assert.deepEqual(parseDocumentsPayload(Buffer.from(' {"id": 1} '), 'application/json'), [{ id: 1 }]);
    assert.deepEqual(parseDocumentsPayload('[]', 'application/json'), []);
  });

  it('ignores bytes after a complete array, as Meilisearch does', () => {
    assert.deepEqual(parseDocumentsPayload('[{"a":1}] trailing', 'application/json'), [{ a: 1 }]);
  });

  const errors: [string, string][] = [
    ['{"id": 1,}', 'trailing comma at line 1 column 10'],
    ['[{"id": 1},]', 'trailing comma at line 1 column 12'],
    ['[{"id": 1}', 'EOF while parsing a list at line 1 column 10'],
    ['{"id": 1', 'EOF while parsing an object at line 1 column 8'],
    ['   ', 'EOF while parsing a value at line 1 column 3'],
    ['{"a":1} x', 'trailing characters at line 1 column 9'],
    ['{"a":tru}', 'expected ident at line 1 column 9'],
    ['{"a":01}', 'invalid number at line 1 column 7'],
    ['{"a":-}', 'invalid number at line 1 column 7'],
    ['{"a":1.}', 'invalid number at line 1 column 8'],
    ['{"a":x}', 'expected value at line 1 column 6'],
    ['{a:1}', 'key must be a string at line 1 column 2'],
    ['[{"a":1},\n {"b" 2}]', 'expected `:` at line 2 column 7'],
    ['[{"a":1} {"b":2}]', 'expected `,` or `]` at line 1 column 10'],
    ['{"a":1 "b":2}', 'expected `,` or `}` at line 1 column 8'],
    ['{"a":"x\\qy"}', 'invalid escape at line 1 column 9'],
    ['{"a":"x', 'EOF while parsing a string at line 1 column 7'],
    ['{"a":1e999}', 'number out of range at line 1 column 10'],
    ['xyz', 'expected value at line 1 column 1'],
  ];
  for (const [body, detail] of errors) {
    it(`malformed: ${JSON.stringify(body)}`, () =>
      assert.deepEqual(fails(() => parseDocumentsPayload(body, 'application/json')), [400, 'malformed_payload', malformedJson(detail)]));
  }

  for (const body of ['[1, 2]', '[{"a":1}, null]', '"str"', '42', 'null', '[[{"a":1}]]', 'true']) {
    it(`not objects: ${body}`, () =>
      assert.deepEqual(fails(() => parseDocumentsPayload(body, 'application/json')), [
        400,
        'malformed_payload',
        malformedJson(NOT_OBJECTS),
      ]));
  }

  it('shortens long parser messages like Meilisearch', () => {
    const long = `{"${'k'.repeat(200)}" 1}`;
    const detail = 'expected `:` at line 1 column 205';
    assert.equal(detail.length <= 138, true);
    assert.deepEqual(fails(() => parseDocumentsPayload(long, 'application/json'))[2], malformedJson(detail));
  });
});

describe('NDJSON payloads', () => {
  it('one object per line, blank lines ignored, values may span lines', () => {
    assert.deepEqual(parseDocumentsPayload('{"id":1}\n\n{"id":2}\n', 'application/x-ndjson'), [{ id: 1 }, { id: 2 }]);
    assert.deepEqual(parseDocumentsPayload('{"id":1} {"id":2}', 'application/x-ndjson'), [{ id: 1 }, { id: 2 }]);
    assert.deepEqual(parseDocumentsPayload('{"id":\n1}', 'application/x-ndjson'), [{ id: 1 }]);
    assert.deepEqual(parseDocumentsPayload('\n', 'application/x-ndjson'), []);
  });

  it('rejects non-objects and syntax errors', () => {
    assert.deepEqual(fails(() => parseDocumentsPayload('{"a":1}\n[1]', 'application/x-ndjson')), [
      400,
      'malformed_payload',
      malformedNdjson(NOT_OBJECTS),
    ]);
    assert.deepEqual(fails(() => parseDocumentsPayload('{"a":1}\n{"b":', 'application/x-ndjson')), [
      400,
      'malformed_payload',
      malformedNdjson('EOF while parsing a value at line 2 column 5'),
    ]);
    assert.deepEqual(fails(() => parseDocumentsPayload('{"a":1}\n{"b" 1}', 'application/x-ndjson')), [
      400,
      'malformed_payload',
      malformedNdjson('expected `:` at line 2 column 6'),
    ]);
  });
});

describe('CSV payloads', () => {
  it('typed headers, empty cells as null, numbers and booleans trimmed', () => {
    assert.deepEqual(
      parseDocumentsPayload('id,name:string,price:number,ok:boolean,raw:date\n1,foo, 3.5 , true ,x\n2,,,,\n3,"a,b",-7,false,\n', 'text/csv'),
      [
        { id: '1', name: 'foo', price: 3.5, ok: true, 'raw:date': 'x' },
        { id: '2', name: null, price: null, ok: null, 'raw:date': null },
        { id: '3', name: 'a,b', price: -7, ok: false, 'raw:date': null },
      ],
    );
  });

  it('splits the type on the last colon', () => {
    assert.deepEqual(parseDocumentsPayload('a:b:number\n12\n', 'text/csv'), [{ 'a:b': 12 }]);
  });

  it('uses the csvDelimiter', () => {
    assert.deepEqual(parseDocumentsPayload('id;name\n1;a,b\n', 'text/csv', { csvDelimiter: ';' }), [{ id: '1', name: 'a,b' }]);
  });

  it('keeps a `__proto__` column as data', () => {
    const [doc] = parseDocumentsPayload('id,__proto__\n1,x\n', 'text/csv');
    assert.deepEqual(Object.keys(doc), ['id', '__proto__']);
    assert.equal(Object.getPrototypeOf(doc), Object.prototype);
    assert.equal(JSON.stringify(doc), '{"id":"1","__proto__":"x"}');
  });

  it('an unclosed quote runs to the end of the input', () => {
    assert.deepEqual(parseDocumentsPayload('a,b\n1,"x\ny\n', 'text/csv'), [{ a: '1', b: 'x\ny\n' }]);
  });

  it('header only: no documents', () => {
    assert.deepEqual(parseDocumentsPayload('id,name\n', 'text/csv'), []);
  });

  const errors: [string, string][] = [
    ['id,price:number\n1,abc\n', 'Error parsing number "abc" at line 1: invalid float literal'],
    ['id,price:number\n1,2\n2, x y \n', 'Error parsing number " x y " at line 2: invalid float literal'],
    ['id,ok:boolean\n1,yes\n', 'Error parsing boolean "yes" at line 1: provided string was not `true` or `false`'],
    ['a,b\n1,2,3\n', 'CSV error: record 1 (line 2, byte: 4): found record with 3 fields, but the previous record has 2 fields'],
  ];
  for (const [body, detail] of errors) {
    it(`malformed: ${JSON.stringify(body)}`, () =>
      assert.deepEqual(fails(() => parseDocumentsPayload(body, 'text/csv')), [
        400,
        'malformed_payload',
        `The \`csv\` payload provided is malformed: \`${detail}\`.`,
      ]));
  }
});

describe('inferPrimaryKey', () => {
  it('the one field ending with id, any case', () => {
    assert.equal(inferPrimaryKey({ title: 'x', id: 1 }), 'id');
    assert.equal(inferPrimaryKey({ movie_id: 1, title: 'x' }), 'movie_id');
    assert.equal(inferPrimaryKey({ UUID: 'a' }), 'UUID');
    assert.equal(inferPrimaryKey({ paid: true }), 'paid');
  });

  it('none', () => {
    assert.deepEqual(fails(() => inferPrimaryKey({ title: 'x', identity: 1 })), [
      400,
      'index_primary_key_no_candidate_found',
      'The primary key inference failed as the engine did not find any field ending with `id` in its name. Please specify the primary key manually using the `primaryKey` query parameter.',
    ]);
  });

  it('several: names sorted, exact `id` without preference', () => {
    assert.deepEqual(fails(() => inferPrimaryKey({ id: 1, a_id: 2 })), [
      400,
      'index_primary_key_multiple_candidates_found',
      "The primary key inference failed as the engine found 2 fields ending with `id` in their names: 'a_id' and 'id'. Please specify the primary key manually using the `primaryKey` query parameter.",
    ]);
    assert.match(fails(() => inferPrimaryKey({ z_id: 1, b_id: 2, Cid: 3 }))[2], /found 3 fields ending with `id` in their names: 'b_id' and 'Cid'\./);
  });
});

describe('document ids', () => {
  const INVALID = (shown: string) =>
    `Document identifier \`${shown}\` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes.`;

  it('canonical strings: integers and valid strings', () => {
    assert.equal(documentId({ id: 1 }, 'id'), '1');
    assert.equal(documentId({ id: '1' }, 'id'), '1');
    assert.equal(documentId({ id: -42 }, 'id'), '-42');
    assert.equal(documentId({ id: 'Ab_c-9' }, 'id'), 'Ab_c-9');
    assert.equal(documentId({ id: ' padded ' }, 'id'), 'padded');
    assert.equal(documentId({ id: 'x'.repeat(511) }, 'id'), 'x'.repeat(511));
  });

  it('nested primary keys with dots', () => {
    assert.equal(documentId({ product: { id: 7 } }, 'product.id'), '7');
    assert.equal(documentId({ 'product.id': 'x' }, 'product.id'), 'x');
  });

  const invalid: [unknown, string][] = [
    ['a b', '"a b"'],
    ['', '""'],
    ['é', '"é"'],
    ['x'.repeat(512), JSON.stringify('x'.repeat(512))],
    [1.5, '1.5'],
    [true, 'true'],
    [null, 'null'],
    [{ a: 1 }, '{"a":1}'],
    [[1], '[1]'],
  ];
  for (const [value, shown] of invalid) {
    it(`invalid: ${JSON.stringify(value)}`, () => {
      assert.deepEqual(fails(() => documentId({ id: value }, 'id')), [400, 'invalid_document_id', INVALID(shown)]);
      assert.deepEqual(fails(() => validateDocumentIdValue(value)), [400, 'invalid_document_id', INVALID(shown)]);
    });
  }

  it('missing: the document rendered as compact JSON', () => {
    assert.deepEqual(fails(() => documentId({ title: 'Dune', tags: ['a'], n: 1 }, 'id')), [
      400,
      'missing_document_id',
      'Document doesn\'t have a `id` attribute: `{"title":"Dune","tags":["a"],"n":1}`.',
    ]);
    assert.deepEqual(fails(() => documentId({ product: { name: 'x' } }, 'product.id')), [
      400,
      'missing_document_id',
      'Document doesn\'t have a `product.id` attribute: `{"product":{"name":"x"}}`.',
    ]);
  });

  it('ids given alone', () => {
    assert.equal(validateDocumentIdValue(12), '12');
    assert.equal(validateDocumentIdValue('12'), '12');
  });
});
