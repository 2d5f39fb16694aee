/**
 * `npm run test:chaos [-- --seeds 10] [--from 1] [--seed 7] [--duration 30] [--verbose]`: the chaos
 * scenario of chaos-kit.ts over several seeds, one line of counts per seed, a summary, and the
 * findings of each seed that was not clean; exit code 1 when any seed found a violation.
 * `MIROIR_CHAOS_SEEDS` / `MIROIR_CHAOS_DURATION_S` set the same from the environment.
 * The node test runner loads every file of this folder: without the `run` argument it does nothing.
 */
import { reportLine, runChaos, type ChaosReport } from './chaos-kit.js';
import { redisSkip } from './redis-kit.js';

if (process.argv[2] === 'run' && process.env.NODE_TEST_CONTEXT === undefined) await main(process.argv.slice(3));

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<void> {
  if ((await redisSkip()) !== undefined) {
    process.exitCode = 1;
    return;
  }
  const count = Number(arg(args, 'seeds') ?? process.env.MIROIR_CHAOS_SEEDS ?? 10);
  const from = Number(arg(args, 'from') ?? 1);
  const seeds = arg(args, 'seed') !== undefined ? [Number(arg(args, 'seed'))] : Array.from({ length: count }, (_, i) => from + i);
  const durationMs = 1000 * Number(arg(args, 'duration') ?? process.env.MIROIR_CHAOS_DURATION_S ?? 30);
  const verbose = args.includes('--verbose');
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`chaos: ${seeds.length} seeds (${seeds.join(', ')}), ${durationMs / 1000} s of load each`);
  const reports: ChaosReport[] = [];
  for (const seed of seeds) {
    let r: ChaosReport;
    try {
      r = await runChaos({ seed, durationMs, ...(verbose ? { log: (l: string) => out(`  [${seed}] ${l}`) } : {}) });
    } catch (e) {
      out(`seed ${seed}: ERROR ${(e as Error).stack ?? String(e)}`);
      process.exitCode = 1;
      continue;
    }
    reports.push(r);
    out(reportLine(r));
    if (r.problems.length > 0) {
      for (const e of r.events) out(`    +${(e.atMs / 1000).toFixed(2)}s ${e.what}`);
      for (const p of r.problems) out(`    problem: ${p}`);
      for (const x of r.examples) out(`    example: ${x}`);
      if (verbose) for (const l of r.logs) out(`    log: ${l}`);
    }
  }
  const bad = reports.filter((r) => r.problems.length > 0);
  const sum = (f: (r: ChaosReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  const acked = sum((r) => Object.values(r.writes.acked).reduce((a, b) => a + b, 0));
  out(
    `summary: ${reports.length - bad.length} of ${seeds.length} seeds clean; ${acked} writes acknowledged; ` +
      `lost ${sum((r) => r.placement?.lost.length ?? 0)}, stale ${sum((r) => r.placement?.stale.length ?? 0)}, ` +
      `resurrected ${sum((r) => r.placement?.resurrected.length ?? 0)}, misplaced ${sum((r) => r.placement?.misplaced.length ?? 0)}, ` +
      `failed tasks ${sum((r) => r.tasks.failed.length)}, anti-entropy mismatches ${sum((r) => r.antiEntropy?.mismatches ?? 0)}, ` +
      `verify failures ${reports.filter((r) => r.verify?.exitCode !== 0).length}; ${(sum((r) => r.elapsedMs) / 1000).toFixed(0)} s`,
  );
  if (bad.length > 0 || reports.length < seeds.length) process.exitCode = 1;
}
