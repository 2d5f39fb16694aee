/**
 * The engine's wall clock in microseconds since the epoch. Meilisearch prints task dates with
 * sub-millisecond digits: the milliseconds come from `Date.now()` (so the clock follows system
 * time adjustments over a long uptime) and the microseconds below them from the monotonic
 * `performance.now()`. Values never go backwards within a process, so dates follow uid order.
 */
let last = 0;

function read(): number {
  return Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
}

/** Microseconds since the Unix epoch, never less than the previous call's result. */
export function nowMicros(): number {
  const t = read();
  last = t > last ? t : last;
  return last;
}

/** Like {@link nowMicros} but strictly greater than the previous call's result. */
export function nextMicros(): number {
  const t = read();
  last = t > last ? t : last + 1;
  return last;
}
