/**
 * The time limits of one `/multi-search` batch (spec S13.11): each query must finish within
 * `per_query_timeout_ms`, the whole batch within `total_timeout_ms`. A query past either limit
 * fails the batch with 504 `miroir_multi_search_timeout`, its position named as Meilisearch names
 * a failing query's (`Inside .queries[i]`).
 *
 * A query that ran out of time is no longer waited for; its node calls are not cut short but end
 * within `scatter.node_timeout_ms` (each call's own bound), and their answers are dropped. Nothing
 * outlives that: the timers are cleared when a query settles and when the batch ends.
 */
import { insideQuery, type MeiliError } from '@miroir/protocol';
import type { Config } from '../config.js';
import { miroirError } from '../errors.js';

/** Runs query `i` of a batch; its error names its position. */
export type QueryRunner = <T>(i: number, work: () => Promise<T>) => Promise<T>;

function timedOut(i: number, what: string, key: string, ms: number): MeiliError {
  return insideQuery(i, miroirError('miroir_multi_search_timeout', `${what} did not finish within \`multi_search.${key}\` (${ms} ms).`));
}

export class BatchDeadline {
  readonly #perQueryMs: number;
  readonly #totalMs: number;
  /** Queries still running, by position: the batch timeout names the first. */
  readonly #running = new Set<number>();
  /** Each running query's way to fail at once. */
  readonly #fail = new Map<number, (e: MeiliError) => void>();
  #batchTimer: NodeJS.Timeout | undefined;
  #expired: MeiliError | undefined;

  constructor(limits: Pick<Config['multi_search'], 'per_query_timeout_ms' | 'total_timeout_ms'>) {
    this.#perQueryMs = limits.per_query_timeout_ms;
    this.#totalMs = limits.total_timeout_ms;
    this.#batchTimer = setTimeout(() => this.#expire(), this.#totalMs);
    this.#batchTimer.unref();
    this.#expired = undefined;
  }

  /** Runs `work` as query `i`: settles as it does, or fails when a limit passes first. */
  readonly run: QueryRunner = <T>(i: number, work: () => Promise<T>): Promise<T> => {
    if (this.#expired !== undefined) return Promise.reject(this.#expired);
    return new Promise<T>((resolve, reject) => {
      this.#running.add(i);
      const timer = setTimeout(() => fail(timedOut(i, 'The query', 'per_query_timeout_ms', this.#perQueryMs)), this.#perQueryMs);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        this.#running.delete(i);
        this.#fail.delete(i);
      };
      const fail = (e: MeiliError) => {
        done();
        reject(e);
      };
      this.#fail.set(i, fail);
      work().then(
        (v) => {
          done();
          resolve(v);
        },
        (e: unknown) => {
          done();
          reject(e);
        },
      );
    });
  };

  /** Ends the batch: no timer is left behind. */
  close(): void {
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
  }

  #expire(): void {
    this.#batchTimer = undefined;
    const first = Math.min(...this.#running);
    const err = timedOut(Number.isFinite(first) ? first : 0, 'The multi-search', 'total_timeout_ms', this.#totalMs);
    this.#expired = err;
    for (const fail of [...this.#fail.values()]) fail(err);
  }
}
