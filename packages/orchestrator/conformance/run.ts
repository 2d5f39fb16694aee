/**
 * `npm run conformance -- --suite <dir> [--files a,b] [--targets engine,miroir] [--out <dir>]`
 * (root; not part of `npm test`: it is long and wipes every index of its targets).
 *
 * Runs the official meilisearch-js test suite, from a checkout at the pinned commit, against
 * (a) one engine node and (b) `miroir demo` (3 nodes, RF=2, S=16), each started fresh on a free
 * port with a temporary data directory. Prints per-file pass/fail counts for both targets and the
 * tests passing on one but not the other; writes `report.json` and `report.md` under `--out`
 * (default `conformance-report/`). See docs/compatibility.md for how to get the checkout.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { markdown, passingOnlyOn, readVitestJson, summarize, type TargetResult } from './report.js';
import { startTarget, TargetKind } from './targets.js';

/** The meilisearch-js commit whose tests the project is measured against. */
export const PINNED_COMMIT = '8c8d29c4acfaf08a15659f4799330cb768fc2239';

/** The suite's files covering the Meilisearch API the project reproduces. */
export const DEFAULT_FILES = [
  'client', 'index', 'documents', 'raw_document', 'search', 'get_search', 'typed_search', 'facet_search',
  'settings', 'displayed_attributes', 'distinct_attribute', 'filterable_attributes', 'searchable_attributes',
  'sortable_attributes', 'ranking_rules', 'stop_words', 'synonyms', 'typo_tolerance', 'faceting', 'pagination',
  'dictionary', 'separator_tokens', 'non_separator_tokens', 'proximity_precision', 'search_cutoff_ms',
  'localized_attributes', 'facet_search_settings', 'prefix_search_settings', 'fields', 'task',
  'tasks-and-batches', 'wait_for_task', 'batch', 'keys', 'token',
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

const { values } = parseArgs({
  options: {
    suite: { type: 'string' },
    files: { type: 'string' },
    targets: { type: 'string', default: 'engine,miroir' },
    out: { type: 'string', default: join(root, 'conformance-report') },
  },
});

function fail(message: string): never {
  process.stderr.write(`conformance: ${message}\n`);
  process.exit(2);
}

if (values.suite === undefined) fail('--suite <dir> is required: a meilisearch-js checkout with its dependencies installed');
const suite = resolve(values.suite);
const head = spawnSync('git', ['-C', suite, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
if (head.status !== 0) fail(`${suite} is not a git checkout: ${head.stderr.trim()}`);
if (head.stdout.trim() !== PINNED_COMMIT) fail(`${suite} is at ${head.stdout.trim()}, expected the pinned commit ${PINNED_COMMIT}`);
if (!existsSync(join(suite, 'node_modules', 'vitest'))) fail(`${suite} has no node_modules/vitest: run \`pnpm install\` there first`);

const files = (values.files?.split(',') ?? DEFAULT_FILES).map((f) => f.trim().replace(/\.test\.ts$/, '').replace(/^tests\//, ''));
for (const f of files) if (!existsSync(join(suite, 'tests', `${f}.test.ts`))) fail(`no tests/${f}.test.ts in ${suite}`);
const kinds = values.targets.split(',').map((t) => {
  if (t !== TargetKind.engine && t !== TargetKind.miroir) fail(`unknown target ${t} (engine, miroir)`);
  return t;
});

const results: TargetResult[] = [];
for (const kind of kinds) {
  const target = await startTarget(kind, root);
  process.stdout.write(`\n== ${kind} at ${target.url}: ${files.length} files (its log: ${target.log}) ==\n`);
  const scratch = mkdtempSync(join(tmpdir(), 'miroir-conformance-vitest-'));
  const output = join(scratch, 'vitest.json');
  try {
    const vitest = join(suite, 'node_modules', 'vitest', 'vitest.mjs');
    const args = [vitest, 'run', '--reporter=json', `--outputFile=${output}`, ...files.map((f) => `tests/${f}.test.ts`)];
    spawnSync(process.execPath, args, { cwd: suite, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MEILISEARCH_URL: target.url } });
    // Thrown, not `fail()`: the `finally` below must stop the target first.
    if (!existsSync(output)) throw new Error(`vitest wrote no report for ${kind}; see ${target.log}`);
    const { tests, fileErrors } = readVitestJson(JSON.parse(readFileSync(output, 'utf8')));
    results.push(summarize(kind, target.url, tests, fileErrors));
  } finally {
    await target.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const pad = (s: string, n: number) => s.padEnd(n);
process.stdout.write(`\n${pad('file', 32)}${results.map((r) => pad(r.target, 16)).join('')}\n`);
for (const f of files.map((f) => `${f}.test.ts`)) {
  const cells = results.map((r) => {
    const c = r.files[f];
    return pad(c === undefined ? '-' : `${c.passed}/${c.passed + c.failed}${c.error ? ' ERR' : ''}`, 16);
  });
  process.stdout.write(`${pad(f, 32)}${cells.join('')}\n`);
}
process.stdout.write(`${pad('total', 32)}${results.map((r) => pad(`${r.totals.passed}/${r.totals.passed + r.totals.failed}`, 16)).join('')}\n`);
if (results.length === 2) {
  const [a, b] = results as [TargetResult, TargetResult];
  for (const [x, y] of [[a, b], [b, a]] as const) {
    const only = passingOnlyOn(x, y);
    process.stdout.write(`\npassing on ${x.target}, not on ${y.target}: ${only.length}\n`);
    for (const t of only) process.stdout.write(`  ${t.file} › ${t.name}\n`);
  }
}
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'report.json'), `${JSON.stringify({ commit: PINNED_COMMIT, files, results }, null, 2)}\n`);
writeFileSync(join(values.out, 'report.md'), markdown(PINNED_COMMIT, results));
process.stdout.write(`\nreport: ${join(values.out, 'report.md')}\n`);
