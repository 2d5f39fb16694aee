import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MIROIR_ERRORS } from '../src/errors.js';

test('every Miroir error code is documented in docs/errors.md with its status and type', () => {
  const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, { status, type }] of Object.entries(MIROIR_ERRORS)) {
    const row = doc.split('\n').find((l) => l.includes(`\`${code}\``));
    assert.ok(row, `${code} is documented`);
    assert.match(row, new RegExp(`\\| ${status} \\| ${type} \\|`), `${code}: status and type`);
  }
});
