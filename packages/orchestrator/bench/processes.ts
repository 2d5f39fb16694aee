/** Child processes of the benchmark suite: the servers and probes each run in their own. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface Server {
  child: ChildProcess;
  info: Record<string, unknown>;
}

/** Spawns a node script and waits for the stdout line (a JSON object) that has the key `expect`. */
export function startNode(script: string, args: string[], expect: string, flags: string[] = [], env?: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, [...flags, join(here, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: env ?? process.env });
  return new Promise((ok, fail) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let info: unknown;
      try {
        info = JSON.parse(line);
      } catch {
        return;
      }
      if (info !== null && typeof info === 'object' && expect in info) ok({ child, info: info as Record<string, unknown> });
    });
    child.once('exit', (code) => fail(new Error(`${script} exited with ${code}`)));
  });
}

export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}
