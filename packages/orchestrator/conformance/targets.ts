/**
 * The two targets of the conformance run, each started fresh on a free port with a temporary data
 * directory: one engine node, and `miroir demo` (engine nodes behind an orchestrator). Both accept
 * the suite's master key `masterKey`; the demo's nodes hold a different, random master key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The master key the meilisearch-js suite hard-codes. */
export const SUITE_MASTER_KEY = 'masterKey';

export const TargetKind = { engine: 'engine', miroir: 'miroir' } as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

export interface Target {
  kind: TargetKind;
  /** Base URL the suite's `MEILISEARCH_URL` points at. */
  url: string;
  /** File receiving the target's stdout and stderr. */
  log: string;
  /** Stops the processes and removes the data directory. */
  stop(): Promise<void>;
}

/** Starts a target from the repository at `root`; resolves once it listens. */
export async function startTarget(kind: TargetKind, root: string): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), `miroir-conformance-${kind}-`));
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.MEILI_MASTER_KEY;
  delete env.MIROIR_MASTER_KEY;
  let args: string[];
  let listening: (line: string) => string | undefined;
  if (kind === TargetKind.engine) {
    env.MEILI_MASTER_KEY = SUITE_MASTER_KEY;
    args = [resolve(root, 'packages/engine/bin/miroir-engine.js'), '--port', '0', '--data-dir', join(dir, 'data')];
    listening = (line) => {
      const m = /"msg":"engine listening".*"url":"([^"]+)"/.exec(line);
      return m?.[1];
    };
  } else {
    env.MIROIR_MASTER_KEY = SUITE_MASTER_KEY;
    env.MIROIR_LOG__LEVEL ??= 'warn';
    args = [resolve(root, 'packages/orchestrator/bin/miroir.js'), 'demo', '--nodes', '3', '--rf', '2', '--shards', '16', '--port', '0', '--data-dir', join(dir, 'data')];
    listening = (line) => /^\s*API:\s+(\S+)/.exec(line)?.[1];
  }
  const log = join(dir, `${kind}.log`);
  const out = createWriteStream(log);
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.pipe(out, { end: false });
  const url = await new Promise<string>((ok, fail) => {
    const lines = createInterface({ input: child.stdout! });
    let found = false;
    lines.on('line', (line) => {
      out.write(`${line}\n`);
      const u = found ? undefined : listening(line);
      if (u !== undefined) {
        found = true;
        ok(u);
      }
    });
    child.once('exit', (code) => fail(new Error(`${kind} exited with ${code} before listening; see ${log}`)));
  });
  return {
    kind,
    url,
    log,
    stop: async () => {
      await stopChild(child);
      out.end();
      rmSync(join(dir, 'data'), { recursive: true, force: true });
    },
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}
