/**
 * The request a piece of async work belongs to, so node calls deep in a handler can add to that
 * request's log line (fan-out size) and parent their trace span without every function passing it
 * down. The store is the fastify request itself: entering the scope allocates nothing of ours.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Span } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Node calls this request made (all fan-outs added up). */
    miroirFanOut: number;
    /** The request's server span while tracing is on. */
    miroirSpan: Span | null;
    /** True while the request is counted in `miroir_requests_in_flight`. */
    miroirInFlight: boolean;
    /** Counted against `server.max_concurrent_requests`. */
    miroirLimited: boolean;
  }
}

export const requestScope = new AsyncLocalStorage<FastifyRequest>();

/** Counts `n` node calls against the current request, if any. */
export function addFanOut(n: number): void {
  const req = requestScope.getStore();
  if (req !== undefined) req.miroirFanOut += n;
}

