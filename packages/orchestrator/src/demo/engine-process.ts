/**
 * Starts engine nodes as child processes (the demo launcher and the test harness are the only places
 * that start engines). The orchestrator never imports the engine: it runs its bin and speaks HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

export interface EngineProcess {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (a crash, for failure tests). */
  kill(): Promise<void>;
}

/** Absolute path of the `miroir-engine` bin in this workspace. */
export function engineBinPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@miroir/engine/package.json')), 'dist', 'src', 'bin.js');
}

/**
 * Spawns `miroir-engine` and resolves once it logs the URL it listens on.
 * `port: 0` lets the engine pick a free port.
 */
export function startEngineProcess(opts: {
  dataDir: string;
  port?: number;
  host?: string;
  masterKey?: string;
  startTimeoutMs?: number;
  inheritStderr?: boolean;
}): Promise<EngineProcess> {
  // The engine stops when its standard input closes: this process holds the other end, so engines
  // never outlive it, even when it crashes.
  const args = [engineBinPath(), '--port', String(opts.port ?? 0), '--host', opts.host ?? '127.0.0.1', '--data-dir', opts.dataDir, '--exit-with-parent'];
  const env = { ...process.env };
  delete env.MEILI_MASTER_KEY;
  if (opts.masterKey) env.MEILI_MASTER_KEY = opts.masterKey;
  const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', opts.inheritStderr ? 'inherit' : 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<EngineProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`engine did not start within ${opts.startTimeoutMs ?? 30_000} ms: ${stderr}`));
    }, opts.startTimeoutMs ?? 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`engine exited (${code ?? signal}) before listening: ${stderr}`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let url: unknown;
      try {
        url = (JSON.parse(line) as { url?: unknown }).url;
      } catch {
        return;
      }
      if (typeof url !== 'string') return;
      clearTimeout(timer);
      lines.removeAllListeners('line');
      child.stdout!.resume(); // keep draining logs so the child never blocks on a full pipe
      const port = Number(new URL(url).port);
      const stop = async (graceMs = 5000) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      };
      const kill = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await exited;
      };
      resolve({ url, port, dataDir: opts.dataDir, child, stop, kill });
    });
  });
}
