/**
 * `npm run fuzz [-- --cases N --seed S --nodes K]`: the long fuzz run. Starts Miroir (a child
 * process over K engine processes, default 2) and one engine alone, seeds both, sends N generated
 * cases (default 20,000) to each and checks every answer and the processes after each case (see
 * test/fuzz-kit.ts); at the end checks that the seeded data is unchanged. Prints the seed, each
 * kind of failure once with an example, and a summary line; exits 1 on any failure.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { fuzzCase, SEEDED_INDEX, type FuzzCase } from '../test/fuzz-cases.js';
import { alive, describeCase, rawRequest, runCase, snapshot, startTargets, type Finding } from '../test/fuzz-kit.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '20000' },
    seed: { type: 'string' },
    nodes: { type: 'string', default: '2' },
    batch: { type: 'string', default: '250' },
    /** Only cases with a JSON or no Content-Type, no Content-Encoding and no deep nesting (to look past the envelope causes). */
    plain: { type: 'boolean', default: false },
  },
});
const cases = Number(values.cases);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const batch = Number(values.batch);
if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(seed) || !Number.isInteger(batch) || batch < 1) {
  console.error('usage: npm run fuzz -- [--cases N] [--seed S] [--nodes K]');
  process.exit(2);
}

console.log(`fuzz: seed ${seed}, ${cases} cases, Miroir over ${values.nodes} engine processes and one engine alone`);
const started = Date.now();
const { targets, stop } = await startTargets(Number(values.nodes));
const before = await Promise.all(targets.map(snapshot));

/** Failures grouped by what they are (target, kind, status and error code, route). */
const kinds = new Map<string, { count: number; first: Finding; index: number }>();
const counts = { crashes: 0, fiveXX: 0, shapes: 0, noAnswer: 0 };
let run = 0;

function isPlain(c: FuzzCase): boolean {
  return c.bodyKind !== 'deep nesting' && c.headers.every(([k, v]) => k !== 'content-encoding' && (k !== 'content-type' || v === 'application/json'));
}

/**
 * Where Miroir and the lone engine answered the same case with different statuses (not a failure:
 * tasks run at different paces and Miroir has routes of its own; a lead for the parity suites).
 */
const differences = new Map<string, { count: number; first: FuzzCase }>();
function noteStatuses(c: FuzzCase, statuses: (number | null)[]): void {
  const [m, e] = statuses;
  if (m === e || m === undefined || e === undefined || c.route?.on !== 'both') return;
  const key = `${c.method} ${c.route.path}: miroir ${m ?? '-'}, engine ${e ?? '-'}`;
  const d = differences.get(key);
  if (d) d.count++;
  else differences.set(key, { count: 1, first: c });
}

/** A kind of failure: the target, the problem, the status and error code (and the route, for a 5xx). */
function signature(f: Finding): string {
  const m = /^(?:unknown route: )?(\d{3}) (?:.*?"code":"([^"]+)")?/.exec(f.detail);
  const route = f.case.route === null ? '(unknown route)' : `${f.case.route.method} ${f.case.route.path}`;
  // A crash or a missing answer is told apart by the cause the process logged, not by its output.
  const what = m ? `${m[1]} ${m[2] ?? (f.detail.length > 4 ? f.detail.slice(4, 40) : '(empty body)')}` : f.detail.startsWith('process exited') ? 'exited' : f.detail.slice(0, 40).replace(/\s+/g, ' ');
  const cause = /\[[^\]]*\]/.exec(f.detail)?.[0];
  return `${f.target} | ${f.problem} | ${what}${f.problem === 'bad shape' ? '' : ` | ${cause ?? route}`}`;
}

for (let start = 0; start < cases; start += batch) {
  // Batches keep memory flat; batch b is drawn with seed+b, so a run replays exactly.
  const sample = fc.sample(values.plain ? fuzzCase.filter(isPlain) : fuzzCase, { numRuns: Math.min(batch, cases - start), seed: seed + start / batch });
  for (const [i, c] of sample.entries()) {
    const results = await Promise.all(targets.map((t) => runCase(t, c)));
    const findings = results.flatMap((r) => r.findings);
    noteStatuses(c, results.map((r) => r.status));
    run++;
    for (const f of findings) {
      if (f.problem === 'crash') counts.crashes++;
      else if (f.problem === 'unexpected 5xx') counts.fiveXX++;
      else if (f.problem === 'bad shape') counts.shapes++;
      else counts.noAnswer++;
      const key = signature(f);
      const k = kinds.get(key);
      if (k) k.count++;
      else {
        kinds.set(key, { count: 1, first: f, index: start + i });
        console.log(`\n#${start + i} ${key}\n  ${describeCase(c)}\n  -> ${f.detail.slice(0, 600)}`);
      }
    }
    // A crashed process is counted and started again on the same data, so the run goes on.
    for (const t of targets) if (!alive(t)) await t.restart();
  }
  if ((start / batch) % 8 === 7) console.log(`… ${run} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

const seededChanged: string[] = [];
for (const [i, t] of targets.entries()) {
  if (!alive(t)) continue;
  const now = JSON.parse(await snapshot(t)) as Record<string, unknown>;
  const was = JSON.parse(before[i]!) as Record<string, unknown>;
  const changed = Object.keys(was).filter((k) => JSON.stringify(now[k]) !== JSON.stringify(was[k]));
  if (changed.length > 0) {
    seededChanged.push(`${t.name} (${changed.join(', ')})`);
    const tasks = await rawRequest(t.url, 'GET', `/tasks?indexUids=${SEEDED_INDEX}&limit=8`, [['authorization', t.auth.master!]]);
    console.log(`\n${t.name}: the last tasks on the seeded index: ${tasks.text.slice(0, 3000)}`);
    for (const k of changed) console.log(`\n${t.name}: seeded ${k} changed\n  before: ${JSON.stringify(was[k]).slice(0, 600)}\n  after:  ${JSON.stringify(now[k]).slice(0, 600)}`);
  }
}
await stop();

console.log('\nfailure kinds:');
for (const [key, k] of [...kinds].sort((a, b) => b[1].count - a[1].count)) console.log(`  ${String(k.count).padStart(6)}  ${key}  (first: case #${k.index})`);
if (differences.size > 0) {
  console.log('\nstatus differences between Miroir and the engine (not failures; the 15 most frequent):');
  for (const [key, d] of [...differences].sort((a, b) => b[1].count - a[1].count).slice(0, 15)) console.log(`  ${String(d.count).padStart(6)}  ${key}\n          e.g. ${describeCase(d.first).slice(0, 300)}`);
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const failed = counts.crashes + counts.fiveXX + counts.shapes + counts.noAnswer + seededChanged.length;
console.log(
  `\nfuzz summary: seed ${seed}, ${run} cases × ${targets.length} targets in ${seconds} s: ${counts.crashes} crashes, ${counts.fiveXX} unexpected 5xx, ` +
    `${counts.shapes} bad shapes, ${counts.noAnswer} unanswered, seeded data ${seededChanged.length === 0 ? 'unchanged' : `CHANGED on ${seededChanged.join(', ')}`}`,
);
process.exit(failed === 0 ? 0 : 1);
