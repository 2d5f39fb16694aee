/**
 * The wall clock of task dates, in microseconds since the epoch. Meilisearch prints task dates with
 * sub-millisecond digits: the milliseconds come from `Date.now()` (so the clock follows system
 * time adjustments over a long uptime) and the digits below them from the monotonic
 * `performance.now()`. The two clocks are not aligned, so every reading is forced strictly past
 * the previous one: dates follow uid order and no two events of one process share a date.
 */
let last = 0;

/** Microseconds since the Unix epoch, strictly greater than the previous call's result. */
export function nowMicros(): number {
  const t = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
  last = t > last ? t : last + 1;
  return last;
}
