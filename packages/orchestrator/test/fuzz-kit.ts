/**
 * The fuzzing suite's machinery: the two targets (Miroir as a child process over engine child
 * processes, and one engine alone), their credentials, the seeded data, raw undici requests, and the
 * checks after each case — no 5xx but the documented ones, every error in Meilisearch's shape (an
 * unknown route: 404 with an empty body), the process alive and `/health` answering — and, at the
 * end, the seeded data unchanged. Used by `fuzz.test.ts` (a short seed-fixed run) and by
 * `bench/fuzz.ts` (`npm run fuzz`, the long run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { startEngineProcess, type EngineProcess } from '../src/demo/engine-process.js';
import { CREDENTIALS, SCRATCH_INDEX, SEEDED_INDEX, type Credential, type FuzzCase } from './fuzz-cases.js';
import { isRoute, routesOf, type RouteSpec } from './fuzz-routes.js';
import { normalizeRequestUrl } from '@miroir/protocol';

const here = dirname(fileURLToPath(import.meta.url));
const MIROIR_BIN = join(here, '..', '..', 'bin', 'miroir.js');
const ERRORS_DOC = join(here, '..', '..', '..', '..', 'docs', 'errors.md');

export const CLIENT_KEY = 'fuzz-client-master-key-0001';
export const NODE_KEY = 'fuzz-node-master-key-0002';
export const ENGINE_KEY = 'fuzz-engine-master-key-0003';

/** A server under test, with the header value of each credential kind. */
export interface Target {
  readonly name: 'miroir' | 'engine';
  readonly url: string;
  readonly routes: RouteSpec[];
  child: ChildProcess;
  /** `Authorization` header per credential (absent: no header). */
  auth: Partial<Record<Credential, string>>;
  /** What the process wrote last (for crash reports). */
  tail(): string;
  /** Its output so far, as a mark for `logSince`. */
  logMark(): number;
  /** What it wrote since a mark. */
  logSince(mark: number): string;
  /** Starts the process again after a crash, on the same data (a long run goes on). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function alive(t: Target): boolean {
  return t.child.exitCode === null && t.child.signalCode === null;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The last 64 KB a process wrote (stdout and stderr), with a running count of all it wrote. */
interface Log {
  tail(): string;
  /** Bytes written so far (a mark for `since`). */
  written(): number;
  /** What was written after a mark (as far as the kept tail reaches). */
  since(mark: number): string;
}

function keepLog(child: ChildProcess): Log {
  let kept = '';
  let total = 0;
  const keep = (d: Buffer) => {
    const text = d.toString();
    total += text.length;
    kept = (kept + text).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    tail: () => kept.slice(-4000),
    written: () => total,
    since: (mark) => kept.slice(-Math.min(kept.length, total - mark)),
  };
}

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 });

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Decoded per the response's `Content-Encoding`. */
  text: string;
}

/** One raw request: the headers as given (repeats kept), no normalisation of the body. */
export async function rawRequest(base: string, method: string, url: string, headers: [string, string][], body?: Buffer): Promise<Reply> {
  const res = await request(`${base}${url}`, {
    method: method as 'GET',
    headers: headers.flat(),
    body,
    dispatcher: agent,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  let bytes = Buffer.from(await res.body.arrayBuffer());
  const enc = String(res.headers['content-encoding'] ?? '').toLowerCase();
  if (bytes.length > 0 && enc === 'gzip') bytes = gunzipSync(bytes);
  else if (bytes.length > 0 && enc === 'br') bytes = brotliDecompressSync(bytes);
  else if (bytes.length > 0 && enc === 'deflate') bytes = inflateSync(bytes);
  return { status: res.statusCode, headers: res.headers, text: bytes.toString('utf8') };
}

/**
 * Writes a request on a socket as it is and reads the answer until the server closes (the
 * requests ask for `Connection: close`); null when the server answers nothing (it may drop a
 * request it cannot frame, as Meilisearch's does). 1xx interim answers are skipped.
 */
export function wireRequest(base: string, text: string): Promise<Reply | null> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.end(Buffer.from(text, 'latin1')));
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      let raw = Buffer.concat(chunks).toString('latin1');
      while (/^HTTP\/1\.[01] 1\d\d /.test(raw)) raw = raw.slice(raw.indexOf('\r\n\r\n') + 4);
      const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(raw);
      if (!m) return resolve(null);
      const headers: Record<string, string> = {};
      for (const line of m[2]!.split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      let body = m[3]!;
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        let out = '';
        for (let rest = body; ; ) {
          const nl = rest.indexOf('\r\n');
          const size = parseInt(rest.slice(0, nl), 16);
          if (!(size > 0)) break;
          out += rest.slice(nl + 2, nl + 2 + size);
          rest = rest.slice(nl + 2 + size + 2);
        }
        body = out;
      }
      resolve({ status: Number(m[1]), headers, text: Buffer.from(body, 'latin1').toString('utf8') });
    });
  });
}

/** A JSON request with the master key; throws unless the status is the one expected. */
async function call(t: Target, method: string, url: string, body?: unknown, expect = [200, 201, 202]): Promise<any> {
  const headers: [string, string][] = [['authorization', t.auth.master!]];
  if (body !== undefined) headers.push(['content-type', 'application/json']);
  const r = await rawRequest(t.url, method, url, headers, body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
  if (!expect.includes(r.status)) throw new Error(`${t.name} ${method} ${url}: ${r.status} ${r.text}`);
  return r.text === '' ? null : JSON.parse(r.text);
}

async function waitTask(t: Target, uid: number): Promise<void> {
  for (;;) {
    const task = await call(t, 'GET', `/tasks/${uid}`);
    if (task.status === 'failed') throw new Error(`${t.name} task ${uid} failed: ${JSON.stringify(task.error)}`);
    if (task.status === 'succeeded') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A compact JWT signed with HS256 (or unsigned with `alg: none`). */
function jwt(claims: Record<string, unknown>, secret: string, alg: 'HS256' | 'none' = 'HS256'): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const unsigned = `${part({ alg, typ: 'JWT' })}.${part(claims)}`;
  return alg === 'none' ? `${unsigned}.` : `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

export const MOVIES = Array.from({ length: 30 }, (_, i) => ({ id: i, title: `film ${['red', 'blue', 'green'][i % 3]} ${i}`, genre: ['drama', 'comedy', 'horror'][i % 3], year: 1990 + i }));

/** Creates the seeded index, its settings and documents, the scratch index and a scoped key; fills in `auth`. */
export async function seed(t: Target): Promise<void> {
  for (const [m, u, b] of [
    ['POST', '/indexes', { uid: SEEDED_INDEX, primaryKey: 'id' }],
    ['PATCH', `/indexes/${SEEDED_INDEX}/settings`, { filterableAttributes: ['genre', 'year'], sortableAttributes: ['year'], synonyms: { film: ['movie'] } }],
    ['POST', `/indexes/${SEEDED_INDEX}/documents`, MOVIES],
    ['POST', '/indexes', { uid: SCRATCH_INDEX, primaryKey: 'id' }],
  ] as const) {
    await waitTask(t, (await call(t, m, u, b)).taskUid);
  }
  const keys = (await call(t, 'GET', '/keys?limit=100')).results as { name: string; key: string; uid: string }[];
  const search = keys.find((k) => k.name === 'Default Search API Key')!;
  const admin = keys.find((k) => k.name === 'Default Admin API Key')!;
  const scoped = await call(t, 'POST', '/keys', { name: 'fuzz scoped', actions: ['search', 'documents.get'], indexes: [SEEDED_INDEX], expiresAt: null });
  const now = Math.floor(Date.now() / 1000);
  const rules = { searchRules: { [SEEDED_INDEX]: { filter: 'genre = drama' } }, apiKeyUid: search.uid };
  t.auth.search = `Bearer ${search.key}`;
  t.auth.admin = `Bearer ${admin.key}`;
  t.auth.scoped = `Bearer ${scoped.key}`;
  t.auth.token = `Bearer ${jwt({ ...rules, exp: now + 86_400 }, search.key)}`;
  t.auth['token-expired'] = `Bearer ${jwt({ ...rules, exp: now - 60 }, search.key)}`;
  t.auth['token-alg-none'] = `Bearer ${jwt({ ...rules, exp: now + 86_400 }, search.key, 'none')}`;
  t.auth['token-wrong-secret'] = `Bearer ${jwt({ ...rules, exp: now + 86_400 }, 'not-the-key-secret-000000000000000')}`;
}

/** What must not change: the seeded index, its documents and settings, and the seeded keys. */
export async function snapshot(t: Target): Promise<string> {
  const index = await call(t, 'GET', `/indexes/${SEEDED_INDEX}`);
  const docs = await call(t, 'POST', `/indexes/${SEEDED_INDEX}/documents/fetch`, { limit: 1000, sort: undefined });
  const settings = await call(t, 'GET', `/indexes/${SEEDED_INDEX}/settings`);
  const keys = (await call(t, 'GET', '/keys?limit=1000')).results as { name: string | null }[];
  const seededKeys = keys.filter((k) => k.name === 'Default Search API Key' || k.name === 'Default Admin API Key' || k.name === 'fuzz scoped');
  const hits = await call(t, 'POST', `/indexes/${SEEDED_INDEX}/search`, { q: 'film', filter: 'genre = drama', sort: ['year:asc'], limit: 100 });
  const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
  return JSON.stringify({ index, docs: [...docs.results].sort(byId), settings, keys: seededKeys, hits: hits.hits });
}

/** A process-backed target: `spawn` starts (and restarts) the process and says where it listens. */
async function processTarget(
  name: Target['name'],
  masterKey: string,
  spawnIt: () => Promise<{ child: ChildProcess; url: string }>,
  after: () => Promise<void> = async () => {},
): Promise<Target> {
  let log: Log = { tail: () => '', written: () => 0, since: () => '' };
  const launch = async () => {
    const p = await spawnIt();
    log = keepLog(p.child);
    return p;
  };
  const first = await launch();
  const stopChild = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const t: Target = {
    name,
    url: first.url,
    routes: routesOf(name),
    child: first.child,
    auth: { master: `Bearer ${masterKey}`, wrong: 'Bearer not-a-key-at-all', malformed: `Basic ${Buffer.from('a:b').toString('base64')}` },
    tail: () => log.tail(),
    logMark: () => log.written(),
    logSince: (mark) => log.since(mark),
    restart: async () => {
      await stopChild(t.child);
      const p = await launch();
      t.child = p.child;
    },
    stop: async () => {
      await stopChild(t.child);
      await after();
    },
  };
  return t;
}

/** One engine alone, with its own master key. */
export async function startEngineTarget(dir: string): Promise<Target> {
  let port = 0;
  return processTarget('engine', ENGINE_KEY, async () => {
    const e: EngineProcess = await startEngineProcess({ dataDir: join(dir, 'lone-engine'), masterKey: ENGINE_KEY, port });
    port = e.port;
    return { child: e.child, url: e.url };
  });
}

/** Miroir (a `miroir serve` child process, SQLite store) over `nodes` engine child processes, RF 2 when possible. */
export async function startMiroirTarget(dir: string, nodes: number): Promise<Target> {
  const engines = await Promise.all(Array.from({ length: nodes }, (_, i) => startEngineProcess({ dataDir: join(dir, `node-${i}`), masterKey: NODE_KEY })));
  const port = await freePort();
  const config = {
    shards: 8,
    replication_factor: Math.min(2, nodes),
    replica_groups: 1,
    nodes: engines.map((e, i) => ({ id: `node-${i}`, address: e.url, replica_group: 0 })),
    task_store: { backend: 'sqlite', path: join(dir, 'miroir-tasks.db') },
    server: { port, bind: '127.0.0.1' },
    metrics: { port: 0, bind: '127.0.0.1' },
    task_registry: { poll_interval_ms: 50 },
    health: { interval_ms: 500, timeout_ms: 2000 },
    log: { level: 'warn' },
  };
  const configFile = join(dir, 'miroir.yaml');
  writeFileSync(configFile, stringify(config));
  const env: NodeJS.ProcessEnv = { ...process.env, MIROIR_NODE_MASTER_KEY: NODE_KEY, MIROIR_MASTER_KEY: CLIENT_KEY };
  for (const k of Object.keys(env)) if (k.startsWith('MIROIR_') && !k.endsWith('MASTER_KEY')) delete env[k];
  const url = `http://127.0.0.1:${port}`;
  const spawnIt = async () => {
    const child = spawn(process.execPath, [MIROIR_BIN, 'serve', '--config', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`miroir exited: ${err}`);
      try {
        if ((await rawRequest(url, 'GET', '/health', [])).status === 200) return { child, url };
      } catch {
        /* not listening yet */
      }
      if (Date.now() - started > 30_000) {
        child.kill('SIGKILL');
        throw new Error(`miroir did not start: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return processTarget('miroir', CLIENT_KEY, spawnIt, async () => {
    await Promise.all(engines.map((e) => e.stop()));
  });
}

/** Both targets in a fresh directory, seeded. */
export async function startTargets(nodes = 2): Promise<{ targets: Target[]; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-fuzz-'));
  const targets = await Promise.all([startMiroirTarget(dir, nodes), startEngineTarget(dir)]);
  await Promise.all(targets.map(seed));
  return {
    targets,
    stop: async () => {
      await Promise.all(targets.map((t) => t.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- checks ------------------------------------------------------------------------------------------

/** The 5xx codes docs/errors.md documents (Miroir's own; every other 5xx is a defect). */
export function documented5xx(doc = readFileSync(ERRORS_DOC, 'utf8')): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of doc.matchAll(/^\|[^|]*`([a-z_]+)`\s*\|\s*(5\d\d)\s*\|/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

const FIVE_XX = documented5xx();
const TYPES = new Set(['invalid_request', 'auth', 'internal', 'system']);

export const Problem = { crash: 'crash', fiveXX: 'unexpected 5xx', shape: 'bad shape', noAnswer: 'no answer' } as const;
export type Problem = (typeof Problem)[keyof typeof Problem];

export interface Finding {
  target: string;
  problem: Problem;
  detail: string;
  case: FuzzCase;
}

/** Whether a body is exactly `{message, code, type, link}` with string values. */
export function meiliShaped(text: string): boolean {
  let b: unknown;
  try {
    b = JSON.parse(text);
  } catch {
    return false;
  }
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return false;
  const o = b as Record<string, unknown>;
  return (
    Object.keys(o).join() === 'message,code,type,link' &&
    typeof o.message === 'string' &&
    typeof o.code === 'string' &&
    typeof o.link === 'string' &&
    TYPES.has(o.type as string)
  );
}

/** The problems with one answer (empty when it is acceptable). */
export function judge(t: Target, c: FuzzCase, r: Reply): { problem: Problem; detail: string }[] {
  const out: { problem: Problem; detail: string }[] = [];
  // The path as it went out: the client's URL parser resolves `.`/`..` segments and reads `\` as `/`
  // (a raw request line keeps them); then as Meilisearch's router sees it (slashes merged).
  const sent = c.wire !== undefined ? c.url.split('?')[0]! : new URL(`${t.url}${c.url}`).pathname;
  const path = normalizeRequestUrl(sent);
  const known = isRoute(t.routes, c.method, path);
  const said = `${r.status} ${r.text.slice(0, 300)}`;
  if (r.status >= 500) {
    const code = meiliShaped(r.text) ? (JSON.parse(r.text) as { code: string }).code : null;
    // A HEAD answer has no body to name its code: its status must be one a documented code has.
    const documented = c.method === 'HEAD' ? [...FIVE_XX.values()].includes(r.status) : code !== null && FIVE_XX.get(code) === r.status;
    if (!documented) out.push({ problem: Problem.fiveXX, detail: said });
  }
  if (r.status >= 400 && c.method !== 'HEAD' && out.length === 0) {
    if (c.wire !== undefined && r.text === '') {
      // A request the HTTP layer refuses before any route: an empty 4xx, as actix answers it.
    } else if (!known || c.method === 'OPTIONS') {
      // No such route (OPTIONS is a route only as a CORS preflight): Meilisearch (actix, no default
      // service) answers 404 for an unknown path, 405 for a known one with another method, both
      // with an empty body. An error raised before routing (a bad request) keeps the error shape.
      const routeMiss = r.status === 404 || r.status === 405;
      if (routeMiss ? r.text !== '' : !meiliShaped(r.text)) out.push({ problem: Problem.shape, detail: `unknown route: ${said}` });
    } else if (r.status === 431 && r.text === '') {
      // Headers too large: answered by the HTTP layer before any route, as Meilisearch's does.
    } else if (!meiliShaped(r.text)) {
      out.push({ problem: Problem.shape, detail: said });
    }
  }
  return out;
}

/**
 * The cause the process logged last (error type, message and first frame of the project's code),
 * to tell 500s and crashes apart by cause; '' when it logged none.
 */
export function loggedCause(tail: string): string {
  const lines = tail.split('\n').filter((l) => l.includes('"err"') || l.includes('Error:'));
  const last = lines.at(-1);
  if (last === undefined) return '';
  const type = /"type":"([^"]+)"/.exec(last)?.[1] ?? /(\w*Error)/.exec(last)?.[1] ?? '';
  const message = (/"message":"([^"]{0,120})/.exec(last)?.[1] ?? '').replace(/\d+/g, 'N');
  const frame = /(packages\/[a-z]+\/dist\/src\/[\w/.-]+:\d+)/.exec(last)?.[1] ?? '';
  return `[${type}: ${message}${frame ? ` at ${frame}` : ''}]`;
}

/** What one case did on one target: the status it got (null: no answer) and what is wrong. */
export interface CaseResult {
  status: number | null;
  findings: Finding[];
}

/** Sends one case to one target and checks the answer and the process afterwards. */
export async function runCase(t: Target, c: FuzzCase): Promise<CaseResult> {
  const found = (problem: Problem, detail: string): Finding => ({ target: t.name, problem, detail, case: c });
  const headers: [string, string][] = [];
  const auth = t.auth[c.credential];
  if (auth !== undefined) headers.push(['authorization', auth]);
  headers.push(...c.headers);
  const out: Finding[] = [];
  const mark = t.logMark();
  let status: number | null = null;
  try {
    const r = c.wire !== undefined ? await wireRequest(t.url, c.wire.replace('{auth}', auth ?? '')) : await rawRequest(t.url, c.method, c.url, headers, c.body);
    if (r !== null) {
      status = r.status;
      const problems = judge(t, c, r);
      // A 5xx: name the cause the process logged for it (its log line may trail the answer a little).
      if (r.status >= 500) await new Promise((res) => setTimeout(res, 20));
      const logged = r.status >= 500 ? loggedCause(t.logSince(mark)) : '';
      for (const p of problems) out.push(found(p.problem, logged ? `${p.detail} ${logged}` : p.detail));
    }
  } catch (e) {
    // The client refusing to send (an invalid header for undici) is not an answer of the server.
    if ((e as { code?: string }).code === 'UND_ERR_INVALID_ARG' || (e as { code?: string }).code === 'UND_ERR_NOT_SUPPORTED') return { status, findings: out };
    await new Promise((r) => setTimeout(r, 50));
    if (alive(t)) out.push(found(Problem.noAnswer, String(e)));
  }
  return { status, findings: [...out, ...(await afterCase(t, c))] };
}

/** The process alive and `/health` answering after a case. */
async function afterCase(t: Target, c: FuzzCase): Promise<Finding[]> {
  const found = (problem: Problem, detail: string): Finding => ({ target: t.name, problem, detail, case: c });
  const out: Finding[] = [];
  if (!alive(t)) return [...out, found(Problem.crash, `process exited (${t.child.exitCode ?? t.child.signalCode}) ${loggedCause(t.tail())}: ${t.tail().slice(-1500)}`)];
  try {
    const h = await rawRequest(t.url, 'GET', '/health', []);
    if (h.status !== 200) out.push(found(Problem.noAnswer, `/health answered ${h.status} ${h.text}`));
  } catch (e) {
    out.push(found(alive(t) ? Problem.noAnswer : Problem.crash, `/health: ${String(e)} ${loggedCause(t.tail())} ${t.tail().slice(-1500)}`));
  }
  return out;
}

/** A case as text, to reproduce it by hand. */
export function describeCase(c: FuzzCase): string {
  if (c.wire !== undefined) return `raw HTTP [${c.credential}]: ${JSON.stringify(c.wire)}`;
  const body = c.body === undefined ? '(no body)' : c.body.length > 200 ? `${JSON.stringify(c.body.subarray(0, 200).toString('latin1'))}… (${c.body.length} bytes)` : JSON.stringify(c.body.toString('latin1'));
  const url = c.url.length > 300 ? `${c.url.slice(0, 300)}…` : c.url;
  const headers = c.headers.map(([k, v]) => `${k}: ${v.length > 80 ? `${v.slice(0, 80)}…` : v}`).join(' | ');
  return `${c.method} ${url} [${c.credential}] {${headers}} ${c.bodyKind}: ${body}`;
}

export { CREDENTIALS };
