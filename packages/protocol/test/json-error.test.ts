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
