/**
 * The engine's wall clock in microseconds since the epoch. Meilisearch prints task dates with
 * sub-millisecond digits; `performance.timeOrigin + performance.now()` gives them, and the
 * value never goes backwards within a process so dates follow uid order.
 */
let last = 0;

/** Microseconds since the Unix epoch, never less than the previous call's result. */
export function nowMicros(): number {
  const t = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  last = t > last ? t : last;
  return last;
}

/** Like {@link nowMicros} but strictly greater than the previous call's result. */
export function nextMicros(): number {
  const t = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  last = t > last ? t : last + 1;
  return last;
}
