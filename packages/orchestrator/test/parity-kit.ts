/**
 * Shared tools of the parity suite (spec S8): one lone engine as the reference of what one node
 * answers, Miroir over three nodes with RF=2, both with a master key, and helpers that send the same
 * request to both and compare status, error bodies and response shapes. The file lives under the
 * suite's `parity-*.test.ts` name; it declares no tests of its own.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { http, startCluster, type TestCluster } from './harness.js';

/** The reference engine's master key. */
export const REF_KEY = 'parity-reference-master-key';
/** Miroir's own master key (the nodes behind it have another one, the harness's). */
export const MIR_KEY = 'parity-miroir-master-key-0001';

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

export interface Side {
  name: 'reference' | 'miroir';
  url: string;
  /** The master key of this side. */
  key: string;
}

export interface RequestSpec {
  /** A JSON body (serialized here) … */
  json?: unknown;
  /** … or a raw body. */
  raw?: string | Buffer;
  /** Content-Type; defaults to `application/json` when a body is given; `null` sends none. */
  contentType?: string | null;
  /** Bearer token: `'master'` (default) uses each side's master key, `null` sends no header. */
  auth?: 'master' | null | string;
  headers?: Record<string, string>;
}

/** One HTTP exchange; the body is parsed as JSON when it is JSON. */
export async function send(side: Side, method: string, path: string, spec: RequestSpec = {}): Promise<Answer> {
  const auth = spec.auth === undefined ? 'master' : spec.auth;
  return http(side.url, method, path, {
    raw: spec.raw,
    body: spec.json,
    contentType: spec.contentType,
    key: auth === null ? undefined : auth === 'master' ? side.key : auth,
    headers: spec.headers,
  });
}

export interface Pair {
  ref: Answer;
  mir: Answer;
  /** What was sent, for assertion messages. */
  what: string;
}

/**
 * Values that differ between two correct servers: task and batch uids, dates, durations, timings,
 * generated key values and uids. Masked by key name (only when of the listed type), so that the
 * rest of the object, its key order and the types of these values still compare.
 */
const VOLATILE: Record<string, readonly string[]> = {
  taskUid: ['number'],
  batchUid: ['number'],
  uid: ['number'],
  canceledBy: ['number'],
  enqueuedAt: ['string'],
  startedAt: ['string'],
  finishedAt: ['string'],
  duration: ['string'],
  createdAt: ['string'],
  updatedAt: ['string'],
  processingTimeMs: ['number'],
  requestUid: ['string'],
  from: ['number'],
  next: ['number'],
};

const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

export interface CompareOptions {
  /** Extra key names whose values are masked whatever their type (e.g. `key`, `uid` of API keys). */
  mask?: readonly string[];
  /** Key names dropped before comparison, at any depth. */
  ignore?: readonly string[];
}

/** The value with volatile leaves replaced by `<type>` markers (key order kept). */
export function normalize(v: unknown, opts: CompareOptions = {}, key?: string): unknown {
  if (key !== undefined) {
    const t = v === null ? 'null' : typeof v;
    if (VOLATILE[key]?.includes(t) || opts.mask?.includes(key)) {
      // Dates keep one observable property: being RFC 3339 in UTC.
      if (key.endsWith('At') && typeof v === 'string') return RFC3339_UTC.test(v) ? '<rfc3339>' : v;
      return `<${t}>`;
    }
  }
  if (Array.isArray(v)) return v.map((x) => normalize(x, opts));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (opts.ignore?.includes(k)) continue;
      out[k] = normalize(x, opts, k);
    }
    return out;
  }
  return v;
}

/** Every object's key list, by JSON path: deepEqual ignores key order, this does not. */
export function keyOrder(v: unknown, path = '$', out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x, i) => keyOrder(x, `${path}[${i}]`, out));
  else if (v !== null && typeof v === 'object') {
    out.push(`${path}: ${Object.keys(v).join(',')}`);
    for (const [k, x] of Object.entries(v)) keyOrder(x, `${path}.${k}`, out);
  }
  return out;
}

/** Same status, same body (volatile values masked), same key order everywhere. */
export function assertSame(p: Pair, opts: CompareOptions = {}): void {
  const ctx = `${p.what}\n  reference: ${p.ref.status} ${JSON.stringify(p.ref.body)}\n  miroir:    ${p.mir.status} ${JSON.stringify(p.mir.body)}`;
  assert.equal(p.mir.status, p.ref.status, `status of ${ctx}`);
  const ref = normalize(p.ref.body, opts);
  const mir = normalize(p.mir.body, opts);
  assert.deepEqual(mir, ref, `body of ${ctx}`);
  assert.deepEqual(keyOrder(mir), keyOrder(ref), `key order of ${ctx}`);
}

/** An error answer: the exact `{message, code, type, link}` and status, and the code expected. */
export function assertSameError(p: Pair, status: number, code: string): void {
  assertSame(p);
  assert.equal(p.ref.status, status, `reference status for ${p.what}: ${JSON.stringify(p.ref.body)}`);
  assert.equal(p.ref.body?.code, code, `reference code for ${p.what}`);
  assert.deepEqual(Object.keys(p.mir.body), ['message', 'code', 'type', 'link']);
}

export interface Parity {
  ref: Side;
  mir: Side;
  cluster: TestCluster;
  engine: EngineProcess;
  /** Sends the same request to both sides (at the same time). */
  both(method: string, path: string, spec?: RequestSpec): Promise<Pair>;
  /**
   * Sends a write to both sides, expects the reference to enqueue a task (202, or 200 for the task
   * routes) and Miroir to answer with the same status, waits for both tasks and returns the pair of
   * finished task objects (`GET /tasks/{uid}`).
   */
  task(method: string, path: string, spec?: RequestSpec): Promise<{ enqueued: Pair; done: Pair }>;
  /** Waits until the task is finished on one side; returns `GET /tasks/{uid}`. */
  wait(side: Side, taskUid: number): Promise<Answer>;
  stop(): Promise<void>;
}

const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

/** Starts the reference engine and a 3-node RF=2 Miroir, each with its own master key. */
export async function startParity(): Promise<Parity> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-parity-'));
  const [engine, cluster] = await Promise.all([
    startEngineProcess({ dataDir: join(dir, 'ref'), masterKey: REF_KEY }),
    startCluster({ nodes: 3, rf: 2, shards: 8, masterKey: MIR_KEY }),
  ]);
  const ref: Side = { name: 'reference', url: engine.url, key: REF_KEY };
  const mir: Side = { name: 'miroir', url: cluster.url, key: MIR_KEY };
  const both = async (method: string, path: string, spec: RequestSpec = {}): Promise<Pair> => {
    const [r, m] = await Promise.all([send(ref, method, path, spec), send(mir, method, path, spec)]);
    const body = spec.json !== undefined ? ` ${JSON.stringify(spec.json)}` : spec.raw !== undefined ? ` ${String(spec.raw).slice(0, 200)}` : '';
    return { ref: r, mir: m, what: `${method} ${path}${body}` };
  };
  const wait = async (side: Side, taskUid: number): Promise<Answer> => {
    for (;;) {
      const t = await send(side, 'GET', `/tasks/${taskUid}`);
      assert.equal(t.status, 200, `${side.name} GET /tasks/${taskUid}: ${JSON.stringify(t.body)}`);
      if (FINISHED.has(t.body.status)) return t;
      await new Promise((r) => setTimeout(r, 15));
    }
  };
  const task = async (method: string, path: string, spec: RequestSpec = {}) => {
    const enqueued = await both(method, path, spec);
    assert.ok(typeof enqueued.ref.body?.taskUid === 'number', `reference: ${enqueued.what}: ${enqueued.ref.status} ${JSON.stringify(enqueued.ref.body)}`);
    assert.equal(enqueued.mir.status, enqueued.ref.status, `miroir: ${enqueued.what}: ${JSON.stringify(enqueued.mir.body)}`);
    const [r, m] = await Promise.all([wait(ref, enqueued.ref.body.taskUid), wait(mir, enqueued.mir.body.taskUid)]);
    return { enqueued, done: { ref: r, mir: m, what: `task of ${enqueued.what}` } };
  };
  return {
    ref,
    mir,
    cluster,
    engine,
    both,
    task,
    wait,
    stop: async () => {
      await Promise.all([cluster.stop(), engine.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a write on both sides; both tasks must end as the reference's does, with the same object. */
export async function writeBoth(p: Parity, method: string, path: string, spec: RequestSpec, status: 'succeeded' | 'failed' = 'succeeded'): Promise<Pair> {
  const { enqueued, done } = await p.task(method, path, spec);
  assertSame(enqueued);
  assertSame(done);
  assert.equal(done.ref.body.status, status, `reference task of ${enqueued.what}: ${JSON.stringify(done.ref.body)}`);
  return done;
}
