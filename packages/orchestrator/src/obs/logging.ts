/**
 * The orchestrator's logger: pino JSON lines on stdout (spec S10.4) with `timestamp`, a textual
 * `level` and `message`. Secrets are redacted by path as a second line of defence: the request log
 * line itself carries no headers, query strings or bodies, only the route template.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config.js';

/** Where a secret could sit in a logged object (headers, configs, key objects). */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'headers["x-admin-key"]',
  'headers["x-meili-api-key"]',
  'req.headers.authorization',
  'req.headers["x-admin-key"]',
  'master_key',
  'node_master_key',
  'api_key',
  'apiKey',
  'key',
  'token',
  'config.master_key',
  'config.node_master_key',
  'config.admin.api_key',
  'admin.api_key',
];

/** A logger in Miroir's log format at `level`; `destination` defaults to stdout. */
export function createLogger(level: Config['log']['level'], destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'miroir' },
      messageKey: 'message',
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/** Where the orchestrator's own logger writes: stdout, buffered when `log.buffer_bytes` > 0. */
export interface LogSink {
  readonly stream: DestinationStream;
  /** Writes out what is buffered (synchronously) and stops the periodic flush. */
  close(): void;
}

/** Stdout for {@link createLogger}; a buffered sink is flushed at least once a second. */
export function stdoutSink(bufferBytes: number): LogSink {
  if (bufferBytes === 0) {
    const stream = pino.destination({ dest: 1, sync: true });
    return { stream, close: () => undefined };
  }
  const stream = pino.destination({ dest: 1, sync: false, minLength: bufferBytes });
  const timer = setInterval(() => stream.flush(), 1000);
  timer.unref();
  return {
    stream,
    close: () => {
      clearInterval(timer);
      stream.flushSync();
    },
  };
}
