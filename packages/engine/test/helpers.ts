/**
 * Test helpers: start an engine on port 0 in a fresh temporary data dir, talk to it with
 * `fetch`, wait for tasks. Reusable by every engine test (and by other packages' tests).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strict as assert } from 'node:assert';
import { Meilisearch } from 'meilisearch';
import { startEngine } from '../src/index.js';
import type { RunningEngine } from '../src/index.js';

export interface TestEngine {
  readonly url: string;
  readonly dataDir: string;
  readonly client: Meilisearch;
  readonly engine: RunningEngine;
  /** Stops the engine (keeps the data dir). */
  stop(): Promise<void>;
  /** Stops the engine and removes its data dir. */
  close(): Promise<void>;
}

/** A new temporary directory. */
export function tempDir(prefix = 'miroir-engine-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts an engine in `dataDir` (a new temporary dir by default). */
export async function startTestEngine(opts: { dataDir?: string; masterKey?: string } = {}): Promise<TestEngine> {
  const dataDir = opts.dataDir ?? tempDir();
  const engine = await startEngine({ port: 0, dataDir, ...(opts.masterKey === undefined ? {} : { masterKey: opts.masterKey }) });
  const client = new Meilisearch({ host: engine.url, ...(opts.masterKey === undefined ? {} : { apiKey: opts.masterKey }) });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await engine.close();
  };
  return {
    url: engine.url,
    dataDir,
    client,
    engine,
    stop,
    async close() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed body of a JSON response, else the raw text; null when empty. */
  body: any;
}

/** One HTTP request; strings and bytes are sent as they are, anything else as JSON. */
export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array) init.body = body as string;
    else {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let parsed: unknown = null;
  // Only a JSON response is parsed: a text answer stays a string (and fails JSON comparisons).
  if (text !== '') {
    const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
    parsed = isJson ? JSON.parse(text) : text;
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Polls `GET /tasks/{uid}` until the task is finished; returns the task. */
export async function waitTask(base: string, uid: number, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await http(base, 'GET', `/tasks/${uid}`, undefined, headers);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    if (r.body.status !== 'enqueued' && r.body.status !== 'processing') return r.body;
    if (Date.now() > deadline) throw new Error(`task ${uid} still ${r.body.status}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Sends a write, asserts the 202, waits for the task and returns it. */
export async function writeAndWait(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<any> {
  const r = await http(base, method, path, body, headers);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return waitTask(base, r.body.taskUid, headers);
}

/** The Meilisearch error body for a code and message. */
export function meiliError(code: string, message: string, type = 'invalid_request'): Record<string, string> {
  return { message, code, type, link: `https://docs.meilisearch.com/errors#${code}` };
}
