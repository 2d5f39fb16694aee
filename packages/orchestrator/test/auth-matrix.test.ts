/**
 * The auth matrix: every route × every credential kind — no key, a wrong key, the Default Search
 * API Key, the Default Admin API Key, a scoped key (actions `search` and `documents.get`, index
 * `fuzz_seeded` only), tenant tokens (valid; expired; `alg: none`; signed with the wrong secret), a
 * malformed `Authorization` header, and the master key — with the status Meilisearch's decision
 * gives, the same table for Miroir (client key different from the nodes' master key) and for the
 * engine. Miroir's admin API (`/_miroir/*`) takes the admin key only (here the master key).
 *
 * Meilisearch's decision (meilisearch-auth, extractors/authentication): the master key opens every
 * route; no key → 401 `missing_authorization_header`; a key or token that does not grant the
 * route's action on the route's index → 403 `invalid_api_key`; `*` grants every action, `/keys`
 * included; a tenant token grants `search` only, on the indexes of its search rules, and only when
 * valid (signature of its API key, not expired, HS256/384/512). A granted request answers what the
 * master key gets.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CREDENTIALS, SCRATCH_INDEX, SEEDED_INDEX, type Credential } from './fuzz-cases.js';
import { rawRequest, startTargets, type Target } from './fuzz-kit.js';
import { ROUTES, SETTING_ROUTES, Side, type RouteSpec } from './fuzz-routes.js';


/** The scoped key's grants (see fuzz-kit `seed`). */
const SCOPED_ACTIONS = new Set(['search', 'documents.get']);

/** One harmless request per route: reads aim at the seeded index, writes at a scratch one or are invalid. */
function requestFor(route: RouteSpec, setting?: string): { path: string; body?: unknown } {
  const index = route.writes ? SCRATCH_INDEX : SEEDED_INDEX;
  const path = route.path
    .replace(':index', index)
    .replace(':doc', '3')
    .replace(':setting', setting ?? 'stop-words')
    .replace(':task', '0')
    .replace(':key', '11111111-2222-3333-4444-555555555555')
    .replace(':node', 'matrix-unknown');
  const p = route.path;
  if (p === '/multi-search') return { path, body: { queries: [{ indexUid: SEEDED_INDEX, q: 'film' }] } };
  if (p.endsWith('/search') && route.method === 'POST') return { path, body: { q: 'film' } };
  if (p.endsWith('/facet-search')) return { path, body: { facetName: 'genre' } };
  if (p.endsWith('/similar') && route.method === 'POST') return { path, body: { id: 3 } };
  if (p.endsWith('/similar')) return { path: `${path}?id=3` };
  if (p.endsWith('/documents/fetch')) return { path, body: { limit: 2 } };
  if (p.endsWith('/documents') && route.method !== 'GET' && route.method !== 'DELETE') return { path, body: [{ id: 1 }] };
  if (p.endsWith('/documents/delete-batch')) return { path, body: [1] };
  if (p.endsWith('/documents/delete')) return { path, body: { filter: 'id = 1' } };
  if (p === '/indexes' && route.method === 'POST') return { path, body: { uid: SCRATCH_INDEX } };
  if (p === '/swap-indexes') return { path, body: [] };
  // Invalid on purpose (400 once authorized): nothing is created.
  if (p === '/keys' && route.method === 'POST') return { path, body: {} };
  if (p === '/keys/:key' && route.method === 'PATCH') return { path, body: { name: 'x' } };
  if (p === '/experimental-features' && route.method === 'PATCH') return { path, body: {} };
  if (p.startsWith('/_miroir/nodes') || p.startsWith('/_miroir/groups')) return { path, body: {} };
  if (p.includes('/settings/') && route.method !== 'GET' && route.method !== 'DELETE') return { path, body: null };
  if (p.endsWith('/settings') && route.method === 'PATCH') return { path, body: {} };
  if (p.endsWith('/fields')) return { path, body: {} };
  if (route.method !== 'GET' && route.method !== 'DELETE') return { path, body: {} };
  return { path };
}

type Expected = { status: number; code: string } | 'granted';

/** Meilisearch's decision for a route and a credential (Miroir's for `/_miroir/*`). */
function decide(route: RouteSpec, cred: Credential): Expected {
  if (route.action === null) return 'granted';
  if (route.action === 'admin') {
    // `/_miroir/metrics` is open without credentials (docs/observability.md); any credential given must be the admin key.
    if (cred === 'master') return 'granted';
    if (cred === 'none' && route.path === '/_miroir/metrics') return 'granted';
    return { status: 401, code: 'miroir_invalid_auth' };
  }
  if (cred === 'master' || cred === 'admin') return 'granted';
  if (cred === 'none' || cred === 'malformed') return { status: 401, code: 'missing_authorization_header' };
  const onSeeded = !route.path.includes(':index') || !route.writes;
  const grants =
    (cred === 'search' && route.action === 'search') ||
    (cred === 'scoped' && SCOPED_ACTIONS.has(route.action) && onSeeded) ||
    (cred === 'token' && route.action === 'search' && onSeeded);
  return grants ? 'granted' : { status: 403, code: 'invalid_api_key' };
}

/** The rows: every route; Miroir's `:setting` routes once per sub-route name, as the engine has them. */
const ROWS: { route: RouteSpec; label: string; setting?: string; on: Side }[] = [];
for (const route of ROUTES) {
  if (route.on === Side.engine && route.path.includes('/settings/')) {
    const name = route.path.split('/').pop()!;
    ROWS.push({ route, label: `${route.method} ${route.path}`, setting: name, on: Side.both });
  } else if (route.on === Side.miroir && route.path.endsWith('/:setting')) {
    // Covered by the engine's named rows above (same name, same method), sent to both.
    continue;
  } else {
    ROWS.push({ route, label: `${route.method} ${route.path}`, on: route.on });
  }
}

let targets: Target[];
let stop: () => Promise<void>;

/**
 * `invalid`: an unknown query parameter and a truncated JSON body — a refused credential must
 * still be refused first, as a node checks the key before it reads the request.
 */
async function send(t: Target, route: RouteSpec, cred: Credential, setting?: string, invalid = false) {
  const { path, body } = requestFor(route, setting);
  const headers: [string, string][] = [];
  const auth = t.auth[cred];
  if (auth !== undefined) headers.push(['authorization', auth]);
  if (body !== undefined || invalid) headers.push(['content-type', 'application/json']);
  const raw = invalid ? Buffer.from('{"fuzz": [') : body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const r = await rawRequest(t.url, route.method, invalid ? `${path}${path.includes('?') ? '&' : '?'}fuzzUnknownParameter=1` : path, headers, raw);
  let code: string | undefined;
  try {
    code = (JSON.parse(r.text) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  return { status: r.status, code, text: r.text.slice(0, 200) };
}

before(async () => {
  ({ targets, stop } = await startTargets(2));
});
after(async () => stop?.());

describe('auth matrix: every route × every credential, Meilisearch’s decision on Miroir and on the engine', () => {
  assert.ok(ROWS.length > 80);
  for (const row of ROWS) {
    test(row.label, async () => {
      const problems: string[] = [];
      for (const t of targets) {
        if (row.on !== Side.both && row.on !== t.name) continue;
        const route = t.name === 'miroir' && row.setting !== undefined ? { ...row.route, path: '/indexes/:index/settings/:setting' } : row.route;
        const granted = await send(t, route, 'master', row.setting);
        assert.ok(granted.status !== 401 && granted.status !== 403, `${t.name}: master key refused: ${granted.status} ${granted.text}`);
        for (const cred of CREDENTIALS) {
          const want = decide(row.route, cred);
          const got = cred === 'master' ? granted : await send(t, route, cred, row.setting);
          const ok = want === 'granted' ? got.status === granted.status : got.status === want.status && got.code === want.code;
          if (!ok) {
            const expected = want === 'granted' ? `${granted.status} (as the master key)` : `${want.status} ${want.code}`;
            problems.push(`${t.name} [${cred}]: expected ${expected}, got ${got.status} ${got.text}`);
          }
          if (want !== 'granted') {
            const bad = await send(t, route, cred, row.setting, true);
            if (bad.status !== want.status || bad.code !== want.code) {
              problems.push(`${t.name} [${cred}] with an invalid query and body: expected ${want.status} ${want.code}, got ${bad.status} ${bad.text}`);
            }
          }
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});

describe('routes Miroir does not serve judge a key by the action Meilisearch guards them with', () => {
  test('a key granting `export` gets 501 from /export, and 403 from /tasks/compact', async () => {
    const miroir = targets.find((t) => t.name === 'miroir')!;
    const master: [string, string][] = [['authorization', miroir.auth.master!], ['content-type', 'application/json']];
    const created = await rawRequest(miroir.url, 'POST', '/keys', master, Buffer.from(JSON.stringify({ actions: ['export'], indexes: ['*'], expiresAt: null })));
    assert.equal(created.status, 201, created.text);
    const key: [string, string][] = [['authorization', `Bearer ${(JSON.parse(created.text) as { key: string }).key}`], ['content-type', 'application/json']];
    const exported = await rawRequest(miroir.url, 'POST', '/export', key, Buffer.from('{}'));
    assert.equal(exported.status, 501, exported.text);
    assert.equal((JSON.parse(exported.text) as { code: string }).code, 'miroir_not_supported');
    const compact = await rawRequest(miroir.url, 'POST', '/tasks/compact', key, Buffer.from('{}'));
    assert.equal(compact.status, 403, compact.text);
    assert.equal((JSON.parse(compact.text) as { code: string }).code, 'invalid_api_key');
  });
});
