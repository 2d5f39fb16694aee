#!/usr/bin/env node
/**
 * `miroir-engine --port P --data-dir D [--master-key K] [--host 127.0.0.1] [--exit-with-parent]`: runs
 * one engine node with structured JSON logs on stdout until SIGINT/SIGTERM (or, with
 * `--exit-with-parent`, until its standard input closes: the launcher holds the other end, so a
 * launcher that dies, even by a crash, takes its engines with it).
 */
import { Command, InvalidArgumentError } from 'commander';
import { startEngine } from './index.js';

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

/** One JSON log line on stdout (same shape as the request logs). */
function log(level: number, msg: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, msg, ...extra })}\n`);
}

const program = new Command()
  .name('miroir-engine')
  .description('A Meilisearch-compatible search node')
  .requiredOption('--port <port>', 'TCP port to listen on (0 = any free port)', port)
  .requiredOption('--data-dir <dir>', 'directory holding the database')
  .option('--master-key <key>', 'master key (default: env MEILI_MASTER_KEY)')
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--exit-with-parent', 'stop when standard input closes (the launcher exited)')
  .showHelpAfterError();

program.parse();
const opts = program.opts<{ port: number; dataDir: string; masterKey?: string; host: string; exitWithParent?: boolean }>();
const masterKey = opts.masterKey ?? (process.env.MEILI_MASTER_KEY || undefined);

try {
  const engine = await startEngine({
    port: opts.port,
    host: opts.host,
    dataDir: opts.dataDir,
    logger: true,
    ...(masterKey === undefined ? {} : { masterKey }),
  });
  log(30, 'engine listening', { url: engine.url, port: engine.port, dataDir: opts.dataDir, masterKey: masterKey !== undefined });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(30, 'engine stopping', { signal });
    engine.close().then(
      () => {
        log(30, 'engine stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log(50, 'engine stop failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (opts.exitWithParent) {
    process.stdin.on('end', () => stop('parent exited')).on('error', () => stop('parent exited')).resume();
  }
} catch (err) {
  log(60, 'engine failed to start', { err: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
