// serde_json's syntax error texts (as Meilisearch shows them in `malformed_payload`), e.g.
// "EOF while parsing a value at line 1 column 8", "trailing characters at line 1 column 9".
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { serdeJsonError } from '../src/json-error.js';

test('serde-style messages and positions', () => {
  const cases: [string, string][] = [
    ['{"a": }', 'expected value at line 1 column 7'],
    ['{"uid": ', 'EOF while parsing a value at line 1 column 8'],
    ['abc', 'expected value at line 1 column 1'],
    ['{"a":1} x', 'trailing characters at line 1 column 9'],
    ['[1,]', 'trailing comma at line 1 column 4'],
    ['{"a" 1}', 'expected `:` at line 1 column 6'],
    ['{a:1}', 'key must be a string at line 1 column 2'],
    ['[1 2]', 'expected `,` or `]` at line 1 column 4'],
    ['{"a":1 "b"}', 'expected `,` or `}` at line 1 column 8'],
    ['{"a":"x', 'EOF while parsing a string at line 1 column 7'],
    ['\n\n  {"a":,}', 'expected value at line 3 column 8'],
    ['01', 'invalid number at line 1 column 2'],
    ['[tru]', 'expected ident at line 1 column 5'],
  ];
  for (const [input, expected] of cases) assert.equal(serdeJsonError(input), expected, input);
});

// serde_json's `parse_unicode_escape` (src/read.rs): decoding into a string, a trailing surrogate
// alone is "lone leading surrogate in hex escape" at its last hex digit; a leading one must be
// followed by `\u` and a trailing one ("unexpected end of hex escape" at the byte that is not).
test('surrogate escapes: pairs accepted, lone ones refused as serde refuses them', () => {
  const cases: [string, string | undefined][] = [
    ['{"q":"\\ud83d\\ude00"}', undefined],
    ['{"q":"\\\\ud800"}', undefined],
    ['{"q":"\\udc00"}', 'lone leading surrogate in hex escape at line 1 column 12'],
    ['{"q":"\\ud800"}', 'unexpected end of hex escape at line 1 column 13'],
    ['{"q":"\\ud800x"}', 'unexpected end of hex escape at line 1 column 13'],
    ['{"q":"\\ud800\\n"}', 'unexpected end of hex escape at line 1 column 14'],
    ['{"q":"\\ud800\\u0041"}', 'lone leading surrogate in hex escape at line 1 column 18'],
    ['{"\\udfff":1}', 'lone leading surrogate in hex escape at line 1 column 8'],
  ];
  for (const [input, expected] of cases) assert.equal(serdeJsonError(input), expected, input);
});

test('a JSON body with a lone surrogate escape is malformed_payload, as Meilisearch answers it', async () => {
  const { parseJsonBody } = await import('../src/json-body.js');
  assert.deepEqual(parseJsonBody('{"q":"\\ud83d\\ude00"}', 'application/json'), { q: '\u{1F600}' });
  assert.throws(() => parseJsonBody('{"q":"\\ud800"}', 'application/json'), {
    code: 'malformed_payload',
    message: 'The json payload provided is malformed. `unexpected end of hex escape at line 1 column 13`.',
  });
});
