/**
 * Proxy overhead with instant nodes: the same search against a canned-answer upstream reached
 * (a) directly, (b) through an nginx pass-through, (c) through a bare fastify + undici fan-out to
 * 1, 3 and 8 upstreams, (d) through Miroir with 1, 3 and 8 nodes. Every server runs in its own
 * process; autocannon (its own process) drives each at a fixed concurrency. Then, at half of
 * Miroir's maximum rate, a fixed-rate probe measures the latency Miroir adds over the direct call.
 * Those runs keep every search the same, so query coalescing and the result cache are off in them;
 * (e) at fan-out 3, the cost of both features on searches that never repeat (unique queries, on
 * vs. off) and the throughput of a repeated, cached search.
 * Prints a table, writes `bench/results/proxy.json`.
 *
 * Environment: BENCH_CONNECTIONS (default 32), BENCH_SECONDS (per measurement, default 8),
 * BENCH_SHARED_READS=0 (skip (e)), BENCH_SHARED_ROUNDS (rounds of (e)'s on/off pair, default 3),
 * BENCH_PROFILE=1 (run Miroir at fan-out BENCH_PROFILE_FANOUT, default 3, under `--cpu-prof`, profiles in bench/results/profiles).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { startNode, stop } from './processes.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_INDEX } from './canned-upstream.js';
import { BENCH_MASTER_KEY } from './miroir-server.js';
import type { ProbeResult } from './rate-probe.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../../..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const PROFILE = process.env.BENCH_PROFILE === '1';
const PROFILE_FANOUT = Number(process.env.BENCH_PROFILE_FANOUT ?? 3);
const FANOUTS = (process.env.BENCH_FANOUTS ?? '1,3,8').split(',').map(Number);
const BASELINES = process.env.BENCH_BASELINES !== '0';
const SEARCH_PATH = `/indexes/${BENCH_INDEX}/search`;
const BODY = JSON.stringify({ q: 'wonder', limit: 20 });
/** A body autocannon makes unique per request (`-I` replaces `[<id>]`): a search that never repeats. */
const UNIQUE_BODY = JSON.stringify({ q: 'wonder [<id>]', limit: 20 });
const SHARED_READS = process.env.BENCH_SHARED_READS !== '0';
/** Rounds of the unique-search pair (sharing off, on); the cached search runs once. */
const SHARED_ROUNDS = Number(process.env.BENCH_SHARED_ROUNDS ?? 3);
/** Miroir with query coalescing and the result cache off (the rows measured with one repeated body). */
const NOT_SHARED: NodeJS.ProcessEnv = { ...process.env, BENCH_SHARED_READS: '0' };
const AUTH = `Bearer ${BENCH_MASTER_KEY}`;
const autocannonBin = createRequire(import.meta.url).resolve('autocannon');

/** Peak resident set of a process (Linux), in MB; undefined elsewhere. */
function peakRssMb(pid: number | undefined): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

interface Load {
  rps: number;
  /** CPU time (user + system) the server process spent per request answered, in µs. */
  cpuUsPerRequest?: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** autocannon in its own process at the fixed concurrency; latencies in whole milliseconds. */
function autocannon(url: string, seconds: number, unique = false): Load & { total: number } {
  const args = [autocannonBin, '-c', String(CONNECTIONS), '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-H', `authorization=${AUTH}`];
  args.push(...(unique ? ['-I', '-b', UNIQUE_BODY] : ['-b', BODY]), '-j', url);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`autocannon failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
  };
  return { rps: j.requests.average, total: j.requests.total, p50: j.latency.p50, p99: j.latency.p99, errors: j.errors, non2xx: j.non2xx };
}

/** CPU seconds (user + system) a process has used so far (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * A 2 s warm-up (JIT, pools), then the measured run. With `pid`, also the server's CPU per request:
 * unlike throughput, it barely depends on what else the shared machine is doing.
 */
function measure(url: string, pid?: number, unique = false): Load {
  autocannon(url, 2, unique);
  const cpu0 = cpuSeconds(pid);
  const { total, ...load } = autocannon(url, SECONDS, unique);
  const cpu1 = cpuSeconds(pid);
  if (load.errors > 0 || load.non2xx > 0) throw new Error(`${url}: ${load.errors} errors, ${load.non2xx} non-2xx answers`);
  return cpu0 === undefined || cpu1 === undefined ? load : { ...load, cpuUsPerRequest: ((cpu1 - cpu0) * 1e6) / total };
}

async function probe(url: string, rate: number): Promise<ProbeResult> {
  const { info, child } = await startNode('rate-probe.js', [url, String(Math.round(rate)), String(SECONDS), BODY, AUTH], 'p50');
  await stop(child);
  return info as unknown as ProbeResult;
}

/** nginx as a keep-alive pass-through to one upstream, one worker (Miroir is one process too). */
async function startNginx(dir: string, upstreamPort: number): Promise<{ child: ChildProcess; url: string } | undefined> {
  if (spawnSync('nginx', ['-v']).error !== undefined) return undefined;
  const port = await freePort();
  const p = join(dir, 'nginx');
  mkdirSync(p, { recursive: true });
  const conf = `worker_processes 1;
pid ${p}/nginx.pid;
error_log ${p}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${p}/body;
  proxy_temp_path ${p}/proxy;
  fastcgi_temp_path ${p}/fastcgi;
  uwsgi_temp_path ${p}/uwsgi;
  scgi_temp_path ${p}/scgi;
  upstream canned { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://canned;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
  writeFileSync(join(p, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-p', p, '-c', join(p, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { child, url };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop(child);
  throw new Error(`nginx did not start; see ${p}/error.log`);
}

/** The fan-out 3 runs of query coalescing and the result cache: name, Miroir's environment, unique bodies. */
const SHARED_READ_ROWS: [string, NodeJS.ProcessEnv, boolean][] = [
  ['miroir 3 unique, not shared', NOT_SHARED, true],
  ['miroir 3 unique, shared', process.env, true],
  ['miroir 3 repeated, cached', process.env, false],
];

interface CacheCounts {
  hit: number;
  miss: number;
  coalesced: number;
}

/** The result cache and coalescing counters of a Miroir (its `/_miroir/metrics`), to show what each run exercised. */
async function cacheCounts(base: string): Promise<CacheCounts> {
  const text = await (await fetch(`${base}/_miroir/metrics`)).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return {
    hit: value(/^miroir_result_cache_requests_total\{outcome="hit"\} (\S+)$/m),
    miss: value(/^miroir_result_cache_requests_total\{outcome="miss"\} (\S+)$/m),
    coalesced: value(/^miroir_coalesced_requests_total (\S+)$/m),
  };
}

const fmt = (x: number | undefined, d = 0): string => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-proxy-bench-'));
  const upstream = await startNode('canned-upstream.js', [String(Math.max(...FANOUTS))], 'ports');
  const ports = upstream.info.ports as number[];
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const rows: { name: string; load: Load; rssMb?: number; cache?: CacheCounts }[] = [];
  const latency: Record<
    string,
    { rate: number; direct: ProbeResult; miroir: ProbeResult; bare: ProbeResult; addedP50: number; addedP99: number; bareAddedP50: number }
  > = {};
  let nginxNote: string | undefined;
  try {
    process.stdout.write(`connections ${CONNECTIONS}, ${SECONDS} s per measurement, body ${BODY}\n`);
    if (BASELINES) rows.push({ name: 'direct', load: measure(`${urls[0]}${SEARCH_PATH}`, upstream.child.pid) });

    const nginx = BASELINES ? await startNginx(dir, ports[0]!) : undefined;
    if (BASELINES && nginx === undefined) {
      nginxNote = 'nginx is not installed (Debian: apt-get install -y nginx): the pass-through baseline is skipped';
      process.stdout.write(`NOTICE: ${nginxNote}\n`);
    } else if (nginx !== undefined) {
      try {
        rows.push({ name: 'nginx pass-through', load: measure(`${nginx.url}${SEARCH_PATH}`) });
      } finally {
        await stop(nginx.child);
      }
    }

    for (const n of BASELINES ? FANOUTS : []) {
      const bare = await startNode('bare-fanout.js', urls.slice(0, n), 'url');
      try {
        rows.push({ name: `bare fan-out ${n}`, load: measure(`${bare.info.url as string}${SEARCH_PATH}`, bare.child.pid), rssMb: peakRssMb(bare.child.pid) });
      } finally {
        await stop(bare.child);
      }
    }

    for (const n of FANOUTS) {
      const flags = PROFILE && n === PROFILE_FANOUT ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench', 'results', 'profiles')}`] : [];
      const miroir = await startNode('miroir-server.js', [join(dir, `miroir-${n}`), ...urls.slice(0, n)], 'url', flags, NOT_SHARED);
      try {
        const url = `${miroir.info.url as string}${SEARCH_PATH}`;
        const load = measure(url, miroir.child.pid);
        if (n <= 3) {
          const rate = load.rps / 2;
          const direct = await probe(`${urls[0]}${SEARCH_PATH}`, rate);
          const via = await probe(url, rate);
          // The same probe through the bare fan-out: the latency any extra hop adds on this machine.
          const bare = await startNode('bare-fanout.js', urls.slice(0, n), 'url');
          let viaBare: ProbeResult;
          try {
            viaBare = await probe(`${bare.info.url as string}${SEARCH_PATH}`, rate);
          } finally {
            await stop(bare.child);
          }
          latency[`fan-out ${n}`] = {
            rate,
            direct,
            miroir: via,
            bare: viaBare,
            addedP50: via.p50 - direct.p50,
            addedP99: via.p99 - direct.p99,
            bareAddedP50: viaBare.p50 - direct.p50,
          };
        }
        rows.push({ name: `miroir fan-out ${n}`, load, rssMb: peakRssMb(miroir.child.pid) });
      } finally {
        await stop(miroir.child);
      }
    }

    // Query coalescing and the result cache at fan-out 3, against this run's own baseline.
    // Rounds alternate on and off; each row keeps its round with the least CPU per request (the
    // least disturbed one on a shared machine), as the other figures here are compared by CPU too.
    const best = new Map<string, { name: string; load: Load; rssMb?: number; cache?: CacheCounts }>();
    for (let round = 0; round < (SHARED_READS ? SHARED_ROUNDS : 0); round++) {
      for (const [name, env, unique] of SHARED_READ_ROWS) {
        if (!unique && round > 0) continue;
        const miroir = await startNode('miroir-server.js', [join(dir, `miroir-shared-${round}-${best.size}`), ...urls.slice(0, 3)], 'url', [], env);
        try {
          const base = miroir.info.url as string;
          const load = measure(`${base}${SEARCH_PATH}`, miroir.child.pid, unique);
          const row = { name, load, rssMb: peakRssMb(miroir.child.pid), cache: await cacheCounts(base) };
          const kept = best.get(name);
          if (kept === undefined || (load.cpuUsPerRequest ?? Infinity) < (kept.load.cpuUsPerRequest ?? Infinity)) best.set(name, row);
        } finally {
          await stop(miroir.child);
        }
      }
    }
    rows.push(...best.values());
  } finally {
    await stop(upstream.child);
    rmSync(dir, { recursive: true, force: true });
  }

  const rps = (name: string) => rows.find((r) => r.name === name)?.load.rps;
  const ratio = (a: string, b: string) => {
    const x = rps(a);
    const y = rps(b);
    return x === undefined || y === undefined ? undefined : x / y;
  };
  const ratios: Record<string, number | undefined> = {
    'miroir 1 / nginx': ratio('miroir fan-out 1', 'nginx pass-through'),
    'miroir 1 / bare 1': ratio('miroir fan-out 1', 'bare fan-out 1'),
    'miroir 3 / bare 3': ratio('miroir fan-out 3', 'bare fan-out 3'),
    'miroir 8 / bare 8': ratio('miroir fan-out 8', 'bare fan-out 8'),
    'miroir 1 / direct': ratio('miroir fan-out 1', 'direct'),
    'bare 1 / nginx': ratio('bare fan-out 1', 'nginx pass-through'),
    'unique shared / not shared': ratio('miroir 3 unique, shared', 'miroir 3 unique, not shared'),
    'cached / not shared': ratio('miroir 3 repeated, cached', 'miroir 3 unique, not shared'),
  };
  // CPU per search with both features on, over the same searches with them off: their cost on a miss.
  const cpuOf = (name: string) => rows.find((r) => r.name === name)?.load.cpuUsPerRequest;
  const sharedCpu = cpuOf('miroir 3 unique, shared');
  const plainCpu = cpuOf('miroir 3 unique, not shared');
  const cpuRatios: Record<string, number | undefined> = {
    'unique shared / not shared': sharedCpu === undefined || plainCpu === undefined ? undefined : sharedCpu / plainCpu,
  };

  const pad = (s: string, n: number) => s.padEnd(n);
  process.stdout.write(
    `\n${pad('target', 30)}${'req/s'.padStart(10)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'CPU µs/req'.padStart(12)}${'peak RSS MB'.padStart(13)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(`${pad(r.name, 30)}${fmt(r.load.rps).padStart(10)}${fmt(r.load.p50).padStart(8)}${fmt(r.load.p99).padStart(8)}${fmt(r.load.cpuUsPerRequest).padStart(12)}${fmt(r.rssMb).padStart(13)}\n`);
  }
  process.stdout.write('\nratios (throughput)\n');
  for (const [k, v] of Object.entries(ratios)) process.stdout.write(`  ${pad(k, 20)}${fmt(v, 2).padStart(8)}\n`);
  for (const [k, v] of Object.entries(cpuRatios)) process.stdout.write(`  CPU µs/req ${pad(k, 28)}${fmt(v, 3).padStart(8)}\n`);
  for (const r of rows) {
    if (r.cache !== undefined) process.stdout.write(`  ${pad(r.name, 28)} cache hits ${r.cache.hit}, misses ${r.cache.miss}, coalesced ${r.cache.coalesced}\n`);
  }
  process.stdout.write('\nadded latency at half of Miroir\'s max rate (fixed-rate probe, ms)\n');
  for (const [k, v] of Object.entries(latency)) {
    process.stdout.write(
      `  ${pad(k, 12)} rate ${fmt(v.rate)}/s  direct p50 ${fmt(v.direct.p50, 3)} p99 ${fmt(v.direct.p99, 3)}  miroir p50 ${fmt(v.miroir.p50, 3)} p99 ${fmt(v.miroir.p99, 3)}  added p50 ${fmt(v.addedP50, 3)} p99 ${fmt(v.addedP99, 3)}  (bare fan-out: p50 ${fmt(v.bare.p50, 3)} p99 ${fmt(v.bare.p99, 3)})\n`,
    );
  }
  if (nginxNote) process.stdout.write(`\nNOTICE: ${nginxNote}\n`);

  const out = {
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    connections: CONNECTIONS,
    seconds: SECONDS,
    body: BODY,
    rows,
    ratios,
    cpuRatios,
    latency,
    ...(nginxNote ? { notice: nginxNote } : {}),
  };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const file = join(root, 'bench', 'results', 'proxy.json');
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`\nwrote ${file}\n`);
}

await main();
