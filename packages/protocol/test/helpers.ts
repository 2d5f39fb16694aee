import { strict as assert } from 'node:assert';
import { MeiliError } from '../src/index.js';

/** Asserts that `fn` throws a MeiliError with exactly this code and message. */
export function fails(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MeiliError, String(e));
    assert.deepEqual({ code: e.code, message: e.message }, { code, message });
    return true;
  });
}
