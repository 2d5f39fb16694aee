/**
 * Reading vitest's JSON report and comparing the two targets: per-file counts, the tests that
 * pass on one target and not on the other, and the markdown summary.
 */
import { basename } from 'node:path';

/** One test's outcome as vitest's JSON reporter writes it (the fields used here). */
export interface TestOutcome {
  file: string;
  name: string;
  status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo';
  /** First line of the first failure message, if it failed. */
  failure?: string;
}

export interface FileCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** Set when the file failed as a whole (import or hook error) with no test results. */
  error?: string;
}

export interface TargetResult {
  target: string;
  url: string;
  totals: FileCounts;
  files: Record<string, FileCounts>;
  tests: TestOutcome[];
}

/** Parses vitest's `--reporter=json` output. */
export function readVitestJson(json: unknown): { tests: TestOutcome[]; fileErrors: Record<string, string> } {
  const tests: TestOutcome[] = [];
  const fileErrors: Record<string, string> = {};
  const results = (json as { testResults?: unknown }).testResults;
  if (!Array.isArray(results)) throw new Error('vitest JSON report without testResults');
  for (const fr of results as Array<{ name: string; status: string; message?: string; assertionResults?: Array<Record<string, unknown>> }>) {
    const file = basename(fr.name);
    const asserts = fr.assertionResults ?? [];
    if (asserts.length === 0 && fr.status === 'failed') fileErrors[file] = firstLine(fr.message ?? 'failed');
    for (const a of asserts) {
      const status = String(a.status) as TestOutcome['status'];
      const messages = Array.isArray(a.failureMessages) ? (a.failureMessages as string[]) : [];
      const t: TestOutcome = { file, name: String(a.fullName ?? a.title), status };
      if (status === 'failed' && messages.length > 0) t.failure = firstLine(messages[0]!);
      tests.push(t);
    }
  }
  return { tests, fileErrors };
}

function firstLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/\u001b\[[0-9;]*m/g, '');
  const line = clean.split('\n').find((l) => l.trim() !== '') ?? clean;
  return line.trim().slice(0, 400);
}

/** Per-file and total counts of a target's outcomes. */
export function summarize(target: string, url: string, tests: TestOutcome[], fileErrors: Record<string, string>): TargetResult {
  const files: Record<string, FileCounts> = {};
  const totals: FileCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const t of tests) {
    const c = (files[t.file] ??= { passed: 0, failed: 0, skipped: 0 });
    const key = t.status === 'passed' ? 'passed' : t.status === 'failed' ? 'failed' : 'skipped';
    c[key]++;
    totals[key]++;
  }
  for (const [file, error] of Object.entries(fileErrors)) (files[file] ??= { passed: 0, failed: 0, skipped: 0 }).error = error;
  return { target, url, totals, files, tests };
}

/** Tests passing on `a` that do not pass on `b`. */
export function passingOnlyOn(a: TargetResult, b: TargetResult): TestOutcome[] {
  const passB = new Set(b.tests.filter((t) => t.status === 'passed').map(key));
  return a.tests.filter((t) => t.status === 'passed' && !passB.has(key(t))).map((t) => b.tests.find((u) => key(u) === key(t)) ?? { ...t, status: 'skipped', failure: 'not run' });
}

const key = (t: TestOutcome) => `${t.file}\u0000${t.name}`;

/** The markdown report of a run. */
export function markdown(commit: string, results: TargetResult[]): string {
  const lines = [`# Conformance: meilisearch-js ${commit}`, ''];
  const files = [...new Set(results.flatMap((r) => Object.keys(r.files)))].sort();
  lines.push(`| file | ${results.map((r) => `${r.target} passed/total`).join(' | ')} |`, `|---|${results.map(() => '---').join('|')}|`);
  const cell = (c: FileCounts | undefined) => (c === undefined ? '-' : `${c.passed}/${c.passed + c.failed}${c.error ? ' (file error)' : ''}`);
  for (const f of files) lines.push(`| ${f} | ${results.map((r) => cell(r.files[f])).join(' | ')} |`);
  lines.push(`| **total** | ${results.map((r) => `**${cell(r.totals)}**`).join(' | ')} |`, '');
  for (const r of results) {
    const failed = r.tests.filter((t) => t.status === 'failed');
    lines.push(`## Failing on ${r.target} (${failed.length})`, '');
    for (const [f, e] of Object.entries(r.files)) if (e.error) lines.push(`- ${f}: whole file failed: ${e.error}`);
    for (const t of failed) lines.push(`- ${t.file} › ${t.name}: ${t.failure ?? ''}`);
    lines.push('');
  }
  if (results.length === 2) {
    const [a, b] = results as [TargetResult, TargetResult];
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const only = passingOnlyOn(x, y);
      lines.push(`## Passing on ${x.target} but not on ${y.target} (${only.length})`, '');
      for (const t of only) lines.push(`- ${t.file} › ${t.name}: ${t.failure ?? t.status}`);
      lines.push('');
    }
  }
  return lines.join('\n');
}
