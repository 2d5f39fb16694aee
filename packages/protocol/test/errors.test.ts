import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeInfo, MeiliError } from '../src/index.js';

describe('error codes', () => {
  it('a code named like an inherited property is an ordinary 400 (found by the fuzzer: a 500 before)', () => {
    for (const code of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.deepEqual(codeInfo(code), { status: 400, type: 'invalid_request' });
      assert.deepEqual(new MeiliError(code, 'm').toJSON(), { message: 'm', code, type: 'invalid_request', link: `https://docs.meilisearch.com/errors#${code}` });
    }
    assert.deepEqual(codeInfo('internal'), { status: 500, type: 'internal' });
  });
});
