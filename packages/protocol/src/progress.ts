/**
 * Timing breakdowns Meilisearch reports as `{ "step > sub-step": "<duration>" }`: a search's
 * `performanceDetails` and a batch's `stats.progressTrace` (milli's `Progress::accumulated_durations`).
 */

/** Step durations keyed by step path (`"search"`, `"processing tasks"`), in the order they ran. */
export type ProgressTrace = Record<string, string>;

const UNITS: ReadonlyArray<[number, string]> = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
];

/**
 * A duration as Rust prints `format!("{:.2?}", duration)`: the largest unit the duration reaches
 * (`s`, `ms`, `µs`, `ns`), two decimals rounded half up, e.g. `"1.50s"`, `"12.35µs"`, `"0.00ns"`.
 */
export function formatProgressDuration(nanos: number): string {
  const ns = Math.max(0, Math.round(nanos));
  const [unit, suffix] = UNITS.find(([u]) => ns >= u) ?? [1, 'ns'];
  const hundredths = Math.round((ns * 100) / unit);
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}${suffix}`;
}

/** Measures named steps with a monotonic clock and renders them as a {@link ProgressTrace}. */
export class ProgressTimer {
  readonly #steps = new Map<string, number>();

  /** Runs `fn` as step `name`, adding its duration to the step's total. */
  step<T>(name: string, fn: () => T): T {
    const start = process.hrtime.bigint();
    try {
      return fn();
    } finally {
      const took = Number(process.hrtime.bigint() - start);
      this.#steps.set(name, (this.#steps.get(name) ?? 0) + took);
    }
  }

  /** Adds a measured duration (nanoseconds) to step `name`. */
  add(name: string, nanos: number): void {
    this.#steps.set(name, (this.#steps.get(name) ?? 0) + nanos);
  }

  trace(): ProgressTrace {
    const out: ProgressTrace = {};
    for (const [name, ns] of this.#steps) out[name] = formatProgressDuration(ns);
    return out;
  }
}

/**
 * `res` with `performanceDetails` where Meilisearch serializes it: a search result has it after
 * `metadata` and before `semanticHitCount` (`SearchResult`); a federated or similar result ends
 * with it (`FederatedSearchResult`, `SimilarResult`). Pass `before` for the first kind.
 */
export function withPerformanceDetails<R extends object>(res: R, trace: ProgressTrace, before?: string): R & { performanceDetails: ProgressTrace } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(res)) {
    if (k === before) out.performanceDetails = trace;
    out[k] = v;
  }
  out.performanceDetails ??= trace;
  return out as R & { performanceDetails: ProgressTrace };
}
