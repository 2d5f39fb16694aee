/**
 * Mode C job queue worker (spec S14.5): jobs wait in the store; any process claims one (a claim is
 * a lease kept alive by heartbeats every `jobs.heartbeat_interval_s`, expiring after
 * `jobs.claim_ttl_s`), works through it and records a progress cursor as it goes. When a claimant
 * dies, its claim expires and another process claims the job and resumes from the cursor.
 */
import type { Logger } from 'pino';
import type { JobRow, StateStore } from '../state/store.js';
import { repeat, type Repeating } from '../util/repeat.js';

/** The job's claim passed to another process (this one stopped heartbeating in time). */
export class JobLostError extends Error {
  constructor(readonly jobId: number) {
    super(`job ${jobId} was claimed by another process`);
    this.name = 'JobLostError';
  }
}

export interface JobContext {
  /** The progress recorded so far (null for a fresh job): where to resume. */
  readonly progress: unknown;
  /** Records progress (the cursor) and extends the claim; throws {@link JobLostError} when lost. */
  save(progress: unknown): Promise<void>;
  /** Aborts when the claim is lost or the process stops. */
  readonly signal: AbortSignal;
}

export type JobHandler = (job: JobRow, ctx: JobContext) => Promise<void>;

export interface JobOptions {
  claimTtlMs: number;
  heartbeatMs: number;
  pollMs: number;
}

export class JobWorker {
  readonly #store: StateStore;
  readonly #claimant: string;
  readonly #opts: JobOptions;
  readonly #log: Logger;
  readonly #handlers = new Map<string, JobHandler>();
  #loop: Repeating | undefined;
  readonly #stop = new AbortController();

  constructor(store: StateStore, claimant: string, opts: JobOptions, log: Logger) {
    this.#store = store;
    this.#claimant = claimant;
    this.#opts = opts;
    this.#log = log;
  }

  /** Registers the handler of a job type; the worker starts polling with the first one. */
  handle(type: string, handler: JobHandler): void {
    this.#handlers.set(type, handler);
    this.#loop ??= repeat(() => this.#pollOnce(), this.#opts.pollMs, (e) => this.#log.warn({ err: e }, 'job poll failed'), 0);
  }

  /** The job types this process runs. */
  get types(): string[] {
    return [...this.#handlers.keys()];
  }

  enqueue(type: string, params: unknown): Promise<JobRow> {
    return this.#store.enqueueJob({ type, params });
  }

  /** Claims and runs jobs until none is claimable. */
  async #pollOnce(): Promise<void> {
    for (const [type, handler] of this.#handlers) {
      while (!this.#stop.signal.aborted) {
        const job = await this.#store.claimJob(type, this.#claimant, this.#opts.claimTtlMs);
        if (job === undefined) break;
        await this.#run(job, handler);
      }
    }
  }

  async #run(job: JobRow, handler: JobHandler): Promise<void> {
    const lost = new AbortController();
    const signal = AbortSignal.any([lost.signal, this.#stop.signal]);
    let progress = job.progress;
    const beat = async (p?: unknown) => {
      if (!(await this.#store.heartbeatJob(job.id, this.#claimant, this.#opts.claimTtlMs, p))) {
        lost.abort(new JobLostError(job.id));
        throw new JobLostError(job.id);
      }
    };
    const timer = setInterval(() => void beat().catch(() => {}), this.#opts.heartbeatMs);
    this.#log.info({ job: job.id, type: job.type, resumed: job.progress !== null }, 'job claimed');
    try {
      await handler(job, {
        progress: job.progress,
        signal,
        save: async (p) => {
          progress = p;
          await beat(p);
        },
      });
      if (!lost.signal.aborted) await this.#store.finishJob(job.id, this.#claimant, 'completed', progress);
    } catch (e) {
      if (lost.signal.aborted || this.#stop.signal.aborted) return; // another process carries on
      this.#log.error({ err: e, job: job.id, type: job.type }, 'job failed');
      await this.#store.finishJob(job.id, this.#claimant, 'failed', progress);
    } finally {
      clearInterval(timer);
    }
  }

  async close(): Promise<void> {
    this.#stop.abort(new Error('stopping'));
    await this.#loop?.stop();
  }
}
