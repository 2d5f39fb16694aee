/**
 * Hardening: no request can crash Miroir or the engine or get a 500. A short seed-fixed fuzz run
 * (property-based, fast-check) over HTTP against real processes — Miroir over two engine processes
 * and one engine alone — checking after each case: no 5xx but the documented ones, every error in
 * Meilisearch's shape (an unknown route: 404 with an empty body), the process alive and `/health`
 * answering; at the end the seeded data unchanged. The route table the fuzzer draws from is checked
 * against the routes both servers register. The long run is `npm run fuzz` (bench/fuzz.ts).
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEngine } from '@miroir/engine';
import fc from 'fast-check';
import { fuzzCase } from './fuzz-cases.js';
import { describeCase, documented5xx, meiliShaped, rawRequest, runCase, snapshot, startTargets, type Target } from './fuzz-kit.js';
import { parseRouteTree, routeKey, routesOf } from './fuzz-routes.js';
import { startCluster } from './harness.js';

/** Fixed, so that a failure here reproduces with `npm run fuzz -- --seed 20261207`. */
const SEED = 20261207;
const CASES = Number(process.env.MIROIR_FUZZ_CASES ?? 300);

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

describe('the fuzzer route table', () => {
  test('lists every route Miroir registers, and no other', async () => {
    const cluster = await startCluster({ nodes: 1, masterKey: 'route-table-key' });
    try {
      const served = parseRouteTree(cluster.miroir.app.printRoutes({ commonPrefix: false }));
      assert.ok(served.length > 50, `parsed ${served.length} routes`);
      assert.deepEqual(sorted(routesOf('miroir').map((r) => routeKey(r.method, r.path))), sorted(served));
    } finally {
      await cluster.stop();
    }
  });

  test('lists every route the engine registers, and no other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miroir-fuzz-routes-'));
    const engine = await startEngine({ port: 0, dataDir: dir, masterKey: 'route-table-key' });
    try {
      const served = engine.routes.filter((r) => !r.startsWith('HEAD ')).map((r) => routeKey(r.split(' ')[0]!, r.split(' ')[1]!));
      assert.deepEqual(sorted(routesOf('engine').map((r) => routeKey(r.method, r.path))), sorted(served));
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the documented 5xx codes are read from docs/errors.md', () => {
    const codes = documented5xx();
    assert.equal(codes.get('miroir_no_quorum'), 503);
    assert.equal(codes.get('miroir_not_supported'), 501);
    assert.equal(codes.has('miroir_reserved_field'), false);
  });
});

describe('fuzzing Miroir and the engine', () => {
  let targets: Target[];
  let stop: () => Promise<void>;
  let before_: string[];

  before(async () => {
    ({ targets, stop } = await startTargets(2));
    before_ = await Promise.all(targets.map(snapshot));
  });
  after(async () => stop?.());

  test(`${CASES} seed-fixed cases: no crash, no undocumented 5xx, every error in Meilisearch's shape`, async () => {
    let failure = '';
    const details = await fc.check(
      fc.asyncProperty(fuzzCase, async (c) => {
        const findings = (await Promise.all(targets.map((t) => runCase(t, c)))).flatMap((r) => r.findings);
        if (findings.length > 0) failure = `${describeCase(c)}\n${findings.map((f) => `  ${f.target}: ${f.problem}: ${f.detail.slice(0, 500)}`).join('\n')}`;
        return findings.length === 0;
      }),
      { numRuns: CASES, seed: SEED, endOnFailure: true },
    );
    assert.equal(details.failed, false, `case ${details.numRuns} of seed ${SEED} failed:\n${failure}`);
  });

  /** Cases the fuzzer found answering 500 (or crashing); each now answers as the lone engine does. */
  const FOUND: [what: string, method: string, url: string, body?: string][] = [
    ['an index uid with a lone surrogate', 'POST', '/indexes', '{"uid":"fz\\ud800","primaryKey":"id"}'],
    ['a key update naming an inherited property', 'PATCH', '/keys/11111111-2222-3333-4444-555555555555', '{"constructor":{"prototype":{"x":1}}}'],
    ['a key update naming __proto__', 'PATCH', '/keys/11111111-2222-3333-4444-555555555555', '{"__proto__":{"x":1}}'],
  ];
  for (const [what, method, url, body] of FOUND) {
    test(`found by the fuzzer: ${what} (${method} ${url}) answers as one node, in its error shape`, async () => {
      const answers = await Promise.all(
        targets.map((t) => rawRequest(t.url, method, url, [['authorization', t.auth.master!], ['content-type', 'application/json']], body === undefined ? undefined : Buffer.from(body))),
      );
      for (const [i, a] of answers.entries()) {
        assert.ok(a.status < 500, `${targets[i]!.name}: ${a.status} ${a.text}`);
        assert.ok(meiliShaped(a.text), `${targets[i]!.name}: ${a.text}`);
      }
      assert.equal(answers[0]!.status, answers[1]!.status);
      assert.deepEqual(JSON.parse(answers[0]!.text), JSON.parse(answers[1]!.text));
    });
  }

  test('the seeded index, documents, settings and keys are unchanged', async () => {
    const now = await Promise.all(targets.map(snapshot));
    for (const [i, t] of targets.entries()) assert.equal(now[i], before_[i], `${t.name}: seeded data changed`);
  });
});
