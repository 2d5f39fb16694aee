/**
 * Latency at a fixed request rate (open loop), with microsecond resolution: autocannon records
 * whole milliseconds, too coarse for "Miroir adds under 0.5 ms". Sends `rate` requests per second
 * for `seconds`, each timed from dispatch to the last body byte; prints one JSON line.
 *
 * `node rate-probe.js <url> <rate> <seconds> <body> [authorization]`
 */
import { Pool } from 'undici';

export interface ProbeResult {
  rate: number;
  achievedRate: number;
  sent: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
}

async function main(): Promise<void> {
  const [url, rateArg, secondsArg, body, auth] = process.argv.slice(2);
  if (url === undefined || body === undefined) throw new Error('usage: rate-probe <url> <rate> <seconds> <body> [authorization]');
  const rate = Number(rateArg);
  const seconds = Number(secondsArg);
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: 64, pipelining: 1 });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth) headers.authorization = auth;
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  // The first second opens connections and warms the JIT on both sides: sent, not recorded.
  const WARMUP_S = 1;
  let recording = false;
  const one = async (): Promise<void> => {
    const record = recording;
    const t0 = performance.now();
    try {
      const res = await pool.request({ method: 'POST', path: u.pathname, headers, body });
      await res.body.dump();
      if (res.statusCode !== 200) errors++;
      else if (record) latencies.push(performance.now() - t0);
    } catch {
      errors++;
    }
  };
  const start = performance.now();
  const end = start + (WARMUP_S + seconds) * 1000;
  let recordFrom = Infinity;
  // Each tick sends what the schedule owes since the start, so timer jitter does not lower the rate.
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (!recording && now - start >= WARMUP_S * 1000) {
        recording = true;
        recordFrom = now;
      }
      const due = Math.min(rate * (WARMUP_S + seconds), Math.floor(((now - start) / 1000) * rate));
      while (sent < due) {
        sent++;
        const p = one().finally(() => inflight.delete(p));
        inflight.add(p);
      }
      if (now >= end) {
        clearInterval(timer);
        done();
      }
    }, 1);
  });
  await Promise.all(inflight);
  const elapsed = (performance.now() - recordFrom) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!);
  const out: ProbeResult = { rate, achievedRate: latencies.length / elapsed, sent, errors, p50: pct(0.5), p90: pct(0.9), p99: pct(0.99) };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (process.argv[1]?.endsWith('rate-probe.js')) await main();
