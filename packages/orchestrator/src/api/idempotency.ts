/**
 * `Idempotency-Key` on client writes (spec S13.10 and S4.6; promises in docs/guarantees.md).
 *
 * Every write that becomes a Miroir task passes through {@link Idempotency.run} (api/writes.ts),
 * after its route authenticated and validated it and before anything reaches a node:
 * - no header (or the feature off): the write runs, and nothing else happens: no hashing, no store;
 * - a key never seen: the key is reserved in the state store (one atomic insert, so of two
 *   requests racing in two orchestrators exactly one runs), the write runs, and the key then maps
 *   to its task for `idempotency.ttl_seconds`;
 * - a key seen with the same request: 202 with that task's summary, and nothing is sent;
 * - a key seen with another request: 409 `miroir_idempotency_key_reused`;
 * - a key whose first request is still running (here or in another orchestrator): the request
 *   waits for it, then answers as above; a first request refused without a task (a 4xx, a 503)
 *   releases the key, and the waiting one runs as if it were first.
 *
 * "The same request" is the same method, URL (path and query string, byte for byte), media type and
 * body bytes (after `Content-Encoding` decoding): a key reused on another route never answers with
 * the other route's task. The key is not scoped to the credential: a retry with another key that
 * may make the same write gets the same task (the route has authorized it before this runs).
 */
import { createHash } from 'node:crypto';
import { toTaskSummary, type TaskSummary } from '@miroir/protocol';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config.js';
import { miroirError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import type { TableRow } from '../state/tables.js';
import { rawBody } from './http.js';

type Entry = TableRow<'idempotency'>;

/** The request header (lower case, as Node gives headers). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Longest key accepted: a UUID is 36 characters; room for a client's own prefix scheme. */
export const MAX_KEY_LENGTH = 255;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * How long a reservation lives unless its holder renews it: a process that dies mid-write frees its
 * keys after this. The holder renews every {@link RENEW_MS}, so a long write keeps its key.
 */
const RESERVATION_MS = 30_000;
const RENEW_MS = 10_000;
/**
 * How long a request waits for the first request with its key before 409
 * `miroir_idempotency_key_in_flight`: below `server.request_timeout_ms`'s default, so the client
 * gets that answer rather than a timeout.
 */
const WAIT_MS = 20_000;

/** Outcomes counted by `miroir_idempotency_requests_total`. */
export const OUTCOMES = ['hit', 'miss', 'conflict', 'in_flight', 'invalid', 'released'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * The key of a request, checked: non-empty printable ASCII up to {@link MAX_KEY_LENGTH}
 * characters; anything else is 400 `miroir_invalid_idempotency_key`.
 */
export function parseIdempotencyKey(header: string | string[]): string {
  const value = Array.isArray(header) ? undefined : header.trim();
  if (value === undefined || value.length === 0 || value.length > MAX_KEY_LENGTH || !PRINTABLE_ASCII.test(value)) {
    throw miroirError(
      'miroir_invalid_idempotency_key',
      `The \`Idempotency-Key\` header must be one value of 1 to ${MAX_KEY_LENGTH} printable ASCII characters (a UUID is a good key); send the request again with a valid key, or without the header.`,
    );
  }
  return value;
}

/** sha256 (hex) of what makes two requests "the same": method, URL, media type and body bytes. */
export function requestDigest(req: FastifyRequest): string {
  const contentType = req.headers['content-type'];
  const media = typeof contentType === 'string' ? contentType.split(';')[0]!.trim().toLowerCase() : '';
  const h = createHash('sha256').update(`${req.method}\n${req.url}\n${media}\n`);
  const body = rawBody(req);
  if (body !== undefined) h.update(body);
  return h.digest('hex');
}

/** How a write's own result carries its task, and what a replay of it returns. */
export interface WriteAnswer<T> {
  /** The task summary of the write's result (its 202 answer). */
  summary: (result: T) => TaskSummary;
  /** The result a replay returns, given the original task's summary. */
  replay: (summary: TaskSummary) => T;
}

export interface IdempotencyDeps {
  store: StateStore;
  config: Config['idempotency'];
  registry: Registry;
  log: Logger;
  /** The request's fingerprint ({@link requestDigest}); a test may count the calls. */
  digest?: (req: FastifyRequest) => string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Idempotency keys of one orchestrator process: a bounded LRU in front of the shared store. */
export class Idempotency {
  readonly #store: StateStore;
  readonly #enabled: boolean;
  readonly #ttlMs: number;
  readonly #maxCached: number;
  readonly #log: Logger;
  readonly #digest: (req: FastifyRequest) => string;
  /** Keys whose write was accepted, least recently used first (Map order). */
  readonly #cache = new Map<string, Entry>();
  /** Writes this process is running under a key: a request with the same key waits on it. */
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #requests: Counter<'outcome'> | undefined;

  constructor(deps: IdempotencyDeps) {
    this.#store = deps.store;
    this.#enabled = deps.config.enabled;
    this.#ttlMs = deps.config.ttl_seconds * 1000;
    this.#maxCached = deps.config.max_cached_keys;
    this.#log = deps.log.child({ component: 'idempotency' });
    this.#digest = deps.digest ?? requestDigest;
    // A family that could only read zero is not published.
    this.#requests = this.#enabled
      ? new Counter({
          name: 'miroir_idempotency_requests_total',
          help: 'Writes that carried an Idempotency-Key, by outcome: hit (answered with the earlier task), miss (run), conflict (key reused for another request), in_flight (still running elsewhere), invalid (malformed key), released (run, refused without a task, key freed).',
          labelNames: ['outcome'],
          registers: [deps.registry],
        })
      : undefined;
  }

  /** Keys held in this process's cache. */
  get cachedKeys(): number {
    return this.#cache.size;
  }

  /**
   * Runs a client's write under its `Idempotency-Key`, if it has one: see the module comment.
   * Without the header this is `write()`.
   */
  run<T>(req: FastifyRequest, write: () => Promise<T>, answer: WriteAnswer<T>): Promise<T> {
    const header = req.headers[IDEMPOTENCY_HEADER];
    if (header === undefined || !this.#enabled) return write();
    let key: string;
    try {
      key = parseIdempotencyKey(header);
    } catch (e) {
      this.#count('invalid');
      return Promise.reject(e);
    }
    return this.#keyed(key, this.#digest(req), write, answer);
  }

  async #keyed<T>(key: string, sha: string, write: () => Promise<T>, answer: WriteAnswer<T>): Promise<T> {
    const deadline = Date.now() + WAIT_MS;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const found = await this.#lookup(key);
      if (found === undefined) {
        const reservation: Entry = { key, bodySha256: sha, taskUid: null, expiresAt: Date.now() + RESERVATION_MS, summary: null };
        if (await this.#store.putRowIfAbsent('idempotency', reservation)) return this.#first(reservation, write, answer);
        // Another request reserved it between the read and the insert: read it again.
        continue;
      }
      if (found.bodySha256 !== sha) {
        this.#count('conflict');
        throw miroirError(
          'miroir_idempotency_key_reused',
          `The Idempotency-Key \`${key}\` was already used for a different request (another body, route, query string or content type). Use a new key for a new request.`,
        );
      }
      if (found.taskUid !== null) {
        this.#count('hit');
        return answer.replay(await this.#summaryOf(found, found.taskUid));
      }
      if (Date.now() >= deadline) {
        this.#count('in_flight');
        throw miroirError(
          'miroir_idempotency_key_in_flight',
          `The first request with the Idempotency-Key \`${key}\` is still being processed. Retry the same request later to get its task.`,
        );
      }
      const here = this.#running.get(key);
      if (here !== undefined) await Promise.race([here.catch(() => {}), sleep(deadline - Date.now())]);
      else await sleep(delay);
    }
  }

  /** The write of a key this request reserved: the key maps to its task, or is released when it fails. */
  async #first<T>(reservation: Entry, write: () => Promise<T>, answer: WriteAnswer<T>): Promise<T> {
    const key = reservation.key;
    const done = this.#held(reservation, write).then(
      async (result) => {
        const summary = answer.summary(result);
        const entry: Entry = { ...reservation, taskUid: summary.taskUid, expiresAt: Date.now() + this.#ttlMs, summary };
        try {
          await this.#store.putRow('idempotency', entry);
        } catch (err) {
          // The write is accepted: its answer stands. A retry through another process may run it
          // again once the reservation expires, which is what the key could not prevent.
          this.#log.warn({ err, key, taskUid: summary.taskUid }, 'could not record an idempotency key');
        }
        this.#remember(entry);
        return result;
      },
      async (err: unknown) => {
        this.#count('released');
        // Refused without a task (a 4xx from the nodes, no quorum…): the key is free for a retry.
        await this.#store.deleteRow('idempotency', key).catch((e: unknown) => this.#log.warn({ err: e, key }, 'could not release an idempotency key'));
        throw err;
      },
    );
    this.#count('miss');
    this.#running.set(key, done);
    try {
      return await done;
    } finally {
      this.#running.delete(key);
    }
  }

  /** Runs `write` while renewing its reservation; the last renewal is over when this settles. */
  async #held<T>(reservation: Entry, write: () => Promise<T>): Promise<T> {
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = this.#store
        .putRow('idempotency', { ...reservation, expiresAt: Date.now() + RESERVATION_MS })
        .catch((err: unknown) => this.#log.warn({ err, key: reservation.key }, 'could not renew an idempotency key reservation'));
    }, RENEW_MS);
    timer.unref();
    try {
      return await write();
    } finally {
      clearInterval(timer);
      // A renewal still in flight must not land after the final row (or the release).
      await renewing;
    }
  }

  /** The key's entry: from this process's cache, else from the store (cached once its write is accepted). */
  async #lookup(key: string): Promise<Entry | undefined> {
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#cache.delete(key);
      if (cached.expiresAt > Date.now()) {
        this.#cache.set(key, cached);
        return cached;
      }
    }
    const row = await this.#store.getRow('idempotency', key);
    if (row !== undefined && row.taskUid !== null) this.#remember(row);
    return row;
  }

  #remember(entry: Entry): void {
    if (this.#maxCached === 0) return;
    this.#cache.delete(entry.key);
    this.#cache.set(entry.key, entry);
    if (this.#cache.size > this.#maxCached) this.#cache.delete(this.#cache.keys().next().value!);
  }

  /** The original 202 answer, rebuilt from the task row; the kept copy when the task was deleted since. */
  async #summaryOf(entry: Entry, taskUid: number): Promise<TaskSummary> {
    const row = await this.#store.getTask(taskUid);
    if (row !== undefined) return toTaskSummary(row);
    if (entry.summary) return entry.summary as TaskSummary;
    throw new Error(`idempotency key ${entry.key}: task ${taskUid} is gone and no answer was kept`);
  }

  #count(outcome: Outcome): void {
    this.#requests?.labels(outcome).inc();
  }
}
