// The conformance runner's parts (packages/orchestrator/conformance): the two targets start on free
// ports and accept the suite's master key (the demo's nodes hold another one), and vitest's JSON
// report is read into per-file counts and a diff between targets.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdown, passingOnlyOn, readVitestJson, summarize } from '../conformance/report.js';
import { startTarget, SUITE_MASTER_KEY } from '../conformance/targets.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const auth = { authorization: `Bearer ${SUITE_MASTER_KEY}` };

for (const kind of ['engine', 'miroir'] as const) {
  test(`${kind} target: listens on a free port, takes the suite's master key, stops and removes its data`, async () => {
    const t = await startTarget(kind, root);
    try {
      const ok = await fetch(`${t.url}/keys`, { headers: auth });
      assert.equal(ok.status, 200, await ok.text());
      const denied = await fetch(`${t.url}/keys`, { headers: { authorization: 'Bearer not-the-key' } });
      assert.equal(denied.status, 403);
      if (kind === 'miroir') {
        const dataDir = join(dirname(t.log), 'data');
        const nodeKey = readFileSync(join(dataDir, 'node-master-key'), 'utf8').trim();
        assert.notEqual(nodeKey, SUITE_MASTER_KEY);
      }
    } finally {
      await t.stop();
    }
    assert.equal(existsSync(join(dirname(t.log), 'data')), false);
  });
}

/** A report in the shape vitest's `--reporter=json` writes (the fields the runner reads). */
function vitestReport(results: Array<[string, string, Array<[string, string, string?]>]>): unknown {
  return {
    numTotalTests: 0,
    testResults: results.map(([file, status, asserts]) => ({
      name: `/suite/tests/${file}`,
      status,
      message: status === 'failed' && asserts.length === 0 ? '\u001b[31mError: beforeAll hook failed\u001b[39m\n    at x' : '',
      assertionResults: asserts.map(([fullName, st, msg]) => ({
        ancestorTitles: [],
        fullName,
        title: fullName,
        status: st,
        failureMessages: msg === undefined ? [] : [`\n${msg}\n    at stack`],
      })),
    })),
  };
}

test('report: per-file counts, whole-file errors, tests passing on one target only, markdown', () => {
  const a = readVitestJson(vitestReport([
    ['search.test.ts', 'failed', [['q one', 'passed'], ['q two', 'passed'], ['q three', 'failed', 'AssertionError: expected 1 to be 2']]],
    ['keys.test.ts', 'passed', [['k one', 'passed'], ['k skip', 'skipped']]],
  ]));
  const b = readVitestJson(vitestReport([
    ['search.test.ts', 'failed', [['q one', 'failed', 'MeilisearchApiError: nope'], ['q two', 'passed'], ['q three', 'passed']]],
    ['keys.test.ts', 'failed', []],
  ]));
  assert.deepEqual(b.fileErrors, { 'keys.test.ts': 'Error: beforeAll hook failed' });
  const ra = summarize('engine', 'http://a', a.tests, a.fileErrors);
  const rb = summarize('miroir', 'http://b', b.tests, b.fileErrors);
  assert.deepEqual(ra.files['search.test.ts'], { passed: 2, failed: 1, skipped: 0 });
  assert.deepEqual(ra.totals, { passed: 3, failed: 1, skipped: 1 });
  assert.deepEqual(rb.files['keys.test.ts'], { passed: 0, failed: 0, skipped: 0, error: 'Error: beforeAll hook failed' });
  assert.equal(ra.tests.find((t) => t.name === 'q three')?.failure, 'AssertionError: expected 1 to be 2');
  assert.deepEqual(passingOnlyOn(ra, rb).map((t) => [t.name, t.status, t.failure]), [
    ['q one', 'failed', 'MeilisearchApiError: nope'],
    ['k one', 'skipped', 'not run'],
  ]);
  assert.deepEqual(passingOnlyOn(rb, ra).map((t) => t.name), ['q three']);
  const md = markdown('abc', [ra, rb]);
  assert.match(md, /\| search\.test\.ts \| 2\/3 \| 2\/3 \|/);
  assert.match(md, /\| keys\.test\.ts \| 1\/1 \| 0\/0 \(file error\) \|/);
  assert.match(md, /## Passing on engine but not on miroir \(2\)/);
});
