/**
 * Resource-pressure signals (spec S14.9): memory use against the container's limit and CPU
 * throttling, read from the cgroup filesystem (v2, else v1). Outside a limited container the limit
 * is the machine's memory and throttling is absent.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/** Above this many bytes a cgroup limit means "no limit" (v1 writes a page-rounded 2^63). */
const UNLIMITED = 2 ** 60;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function number(text: string | undefined): number | undefined {
  if (text === undefined || text === 'max') return undefined;
  const n = Number(text);
  return Number.isFinite(n) && n < UNLIMITED ? n : undefined;
}

/** The cgroup readings under `root` (the cgroup mount, `/sys/fs/cgroup` by default). */
export class Resources {
  constructor(private readonly root = '/sys/fs/cgroup') {}

  /** Memory limit in bytes: the container's, else the machine's. */
  memoryLimit(): number {
    return number(read(`${this.root}/memory.max`)) ?? number(read(`${this.root}/memory/memory.limit_in_bytes`)) ?? totalmem();
  }

  /** Memory in use: the container's, else this process's resident set. */
  memoryUsed(): number {
    return number(read(`${this.root}/memory.current`)) ?? number(read(`${this.root}/memory/memory.usage_in_bytes`)) ?? process.memoryUsage.rss();
  }

  /** 0 below 75% of the limit, 1 above 75%, 2 above 90%. */
  memoryPressure(): 0 | 1 | 2 {
    const share = this.memoryUsed() / this.memoryLimit();
    return share > 0.9 ? 2 : share > 0.75 ? 1 : 0;
  }

  /** Seconds the container's CPU was throttled, or undefined when the cgroup does not say. */
  cpuThrottledSeconds(): number | undefined {
    const v2 = read(`${this.root}/cpu.stat`);
    const usec = v2 === undefined ? undefined : /^throttled_usec (\d+)$/m.exec(v2)?.[1];
    if (usec !== undefined) return Number(usec) / 1e6;
    const v1 = read(`${this.root}/cpu/cpu.stat`);
    const ns = v1 === undefined ? undefined : /^throttled_time (\d+)$/m.exec(v1)?.[1];
    return ns === undefined ? undefined : Number(ns) / 1e9;
  }
}
