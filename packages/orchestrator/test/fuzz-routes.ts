/**
 * The route table of the fuzzing suite and the auth matrix: every route Miroir and the engine serve,
 * with the parameters each path takes. `fuzz.test.ts` checks it against the routes the two servers
 * register (Miroir's fastify tree, the engine's `routes`), so a new route cannot be left out.
 */

/** Which server serves a route. */
export const Side = { both: 'both', miroir: 'miroir', engine: 'engine' } as const;
export type Side = (typeof Side)[keyof typeof Side];

/**
 * A path parameter's kind (it picks the values the fuzzer puts there):
 * `:index` an index uid, `:doc` a document id, `:setting` a settings sub-route name, `:task` a task
 * or batch uid, `:key` an API key or webhook uid (or key value), `:node` a node or replica-group id.
 */
export type ParamKind = 'index' | 'doc' | 'setting' | 'task' | 'key' | 'node';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with `:kind` parameters (see {@link ParamKind}). */
  path: string;
  on: Side;
  /** The Meilisearch key action the route needs; `admin` = Miroir's admin key; null = public. */
  action: string | null;
  /** The route changes state (the fuzzer never aims it at the seeded data). */
  writes: boolean;
}

/** The settings sub-routes, with the method that updates each (Meilisearch: PUT or PATCH). */
export const SETTING_ROUTES: readonly [name: string, update: 'PUT' | 'PATCH'][] = [
  ['displayed-attributes', 'PUT'],
  ['searchable-attributes', 'PUT'],
  ['filterable-attributes', 'PUT'],
  ['sortable-attributes', 'PUT'],
  ['ranking-rules', 'PUT'],
  ['stop-words', 'PUT'],
  ['non-separator-tokens', 'PUT'],
  ['separator-tokens', 'PUT'],
  ['dictionary', 'PUT'],
  ['synonyms', 'PUT'],
  ['distinct-attribute', 'PUT'],
  ['proximity-precision', 'PUT'],
  ['typo-tolerance', 'PATCH'],
  ['faceting', 'PATCH'],
  ['pagination', 'PATCH'],
  ['embedders', 'PATCH'],
  ['search-cutoff-ms', 'PUT'],
  ['localized-attributes', 'PUT'],
  ['facet-search', 'PUT'],
  ['prefix-search', 'PUT'],
];

function r(method: RouteSpec['method'], path: string, action: string | null, on: Side = Side.both): RouteSpec {
  const writes = method !== 'GET' && action !== 'search' && action !== 'explain' && !path.endsWith('/documents/fetch');
  return { method, path, on, action, writes };
}

const I = '/indexes/:index';

/** Every route, once per method (HEAD is implied by GET). */
export const ROUTES: readonly RouteSpec[] = [
  r('GET', '/health', null),
  r('GET', '/version', 'version'),
  r('GET', '/experimental-features', 'experimental.get'),
  r('PATCH', '/experimental-features', 'experimental.update'),
  r('GET', '/stats', 'stats.get'),
  r('GET', '/indexes', 'indexes.get'),
  r('POST', '/indexes', 'indexes.create'),
  r('GET', I, 'indexes.get'),
  r('PATCH', I, 'indexes.update'),
  r('DELETE', I, 'indexes.delete'),
  r('POST', '/swap-indexes', 'indexes.swap'),
  r('GET', `${I}/stats`, 'stats.get'),
  r('POST', `${I}/documents`, 'documents.add'),
  r('PUT', `${I}/documents`, 'documents.add'),
  r('GET', `${I}/documents`, 'documents.get'),
  r('DELETE', `${I}/documents`, 'documents.delete'),
  r('POST', `${I}/documents/fetch`, 'documents.get'),
  r('GET', `${I}/documents/:doc`, 'documents.get'),
  r('DELETE', `${I}/documents/:doc`, 'documents.delete'),
  r('POST', `${I}/documents/delete-batch`, 'documents.delete'),
  r('POST', `${I}/documents/delete`, 'documents.delete'),
  r('POST', `${I}/documents/edit`, 'documents.*', Side.miroir),
  r('GET', `${I}/settings`, 'settings.get'),
  r('PATCH', `${I}/settings`, 'settings.update'),
  r('DELETE', `${I}/settings`, 'settings.update'),
  // Miroir serves every sub-route under one parameter; the engine has one route per name (below).
  r('GET', `${I}/settings/:setting`, 'settings.get', Side.miroir),
  r('PUT', `${I}/settings/:setting`, 'settings.update', Side.miroir),
  r('PATCH', `${I}/settings/:setting`, 'settings.update', Side.miroir),
  r('DELETE', `${I}/settings/:setting`, 'settings.update', Side.miroir),
  ...SETTING_ROUTES.flatMap(([name, update]) => [
    r('GET', `${I}/settings/${name}`, 'settings.get', Side.engine),
    r(update, `${I}/settings/${name}`, 'settings.update', Side.engine),
    r('DELETE', `${I}/settings/${name}`, 'settings.update', Side.engine),
  ]),
  r('POST', `${I}/fields`, 'fields.post'),
  r('POST', `${I}/search`, 'search'),
  r('GET', `${I}/search`, 'search'),
  r('POST', `${I}/facet-search`, 'search'),
  r('POST', `${I}/similar`, 'search'),
  r('GET', `${I}/similar`, 'search'),
  r('POST', `${I}/compact`, 'indexes.compact', Side.miroir),
  r('POST', '/multi-search', 'search'),
  // The master key or the admin key only (docs/read-path.md#explain).
  r('POST', `${I}/explain`, 'explain', Side.miroir),
  r('GET', '/tasks', 'tasks.get'),
  r('GET', '/tasks/:task', 'tasks.get'),
  r('POST', '/tasks/cancel', 'tasks.cancel'),
  r('DELETE', '/tasks', 'tasks.delete'),
  r('POST', '/tasks/compact', 'tasks.compact', Side.miroir),
  r('GET', '/batches', 'tasks.get'),
  r('GET', '/batches/:task', 'tasks.get'),
  r('POST', '/keys', 'keys.create'),
  r('GET', '/keys', 'keys.get'),
  r('GET', '/keys/:key', 'keys.get'),
  r('PATCH', '/keys/:key', 'keys.update'),
  r('DELETE', '/keys/:key', 'keys.delete'),
  r('GET', '/tasks/:task/documents', 'tasks.get'),
  r('GET', '/webhooks', 'webhooks.get'),
  r('POST', '/webhooks', 'webhooks.create'),
  r('GET', '/webhooks/:key', 'webhooks.get'),
  r('PATCH', '/webhooks/:key', 'webhooks.update'),
  r('DELETE', '/webhooks/:key', 'webhooks.delete'),
  r('POST', '/dumps', 'dumps.create'),
  r('POST', '/snapshots', 'snapshots.create'),
  r('POST', '/export', 'export', Side.miroir),
  r('GET', '/network', 'network.get', Side.miroir),
  r('PATCH', '/network', 'network.update', Side.miroir),
  r('GET', '/_miroir/metrics', 'admin', Side.miroir),
  r('GET', '/_miroir/ready', 'admin', Side.miroir),
  r('GET', '/_miroir/topology', 'admin', Side.miroir),
  r('GET', '/_miroir/settings', 'admin', Side.miroir),
  r('GET', '/_miroir/settings/:index', 'admin', Side.miroir),
  r('GET', '/_miroir/shards', 'admin', Side.miroir),
  r('POST', '/_miroir/nodes', 'admin', Side.miroir),
  r('POST', '/_miroir/nodes/:node/drain', 'admin', Side.miroir),
  r('DELETE', '/_miroir/nodes/:node', 'admin', Side.miroir),
  r('POST', '/_miroir/groups', 'admin', Side.miroir),
  r('DELETE', '/_miroir/groups/:node', 'admin', Side.miroir),
  r('POST', '/_miroir/rebalance', 'admin', Side.miroir),
  r('GET', '/_miroir/rebalance/status', 'admin', Side.miroir),
  r('GET', '/_miroir/verify', 'admin', Side.miroir),
  r('GET', '/_miroir/anti-entropy', 'admin', Side.miroir),
  r('POST', '/_miroir/anti-entropy/run', 'admin', Side.miroir),
  r('GET', '/_miroir/aliases', 'admin', Side.miroir),
  r('POST', '/_miroir/aliases', 'admin', Side.miroir),
  r('GET', '/_miroir/aliases/:index', 'admin', Side.miroir),
  r('PUT', '/_miroir/aliases/:index', 'admin', Side.miroir),
  r('DELETE', '/_miroir/aliases/:index', 'admin', Side.miroir),
  r('GET', '/_miroir/tenants', 'admin', Side.miroir),
  r('PUT', '/_miroir/tenants', 'admin', Side.miroir),
  r('DELETE', '/_miroir/tenants/:key', 'admin', Side.miroir),
];

/** The routes one server serves. */
export function routesOf(side: 'miroir' | 'engine'): RouteSpec[] {
  return ROUTES.filter((x) => x.on === Side.both || x.on === side);
}

/** `METHOD /path` with every parameter written `:` (names differ between the servers). */
export function routeKey(method: string, path: string): string {
  return `${method} ${path.replace(/:[A-Za-z_]+/g, ':')}`;
}

/**
 * The routes of a fastify `printRoutes({ commonPrefix: false })` tree as {@link routeKey}s, HEAD
 * left out (fastify adds one to every GET), and OPTIONS (the CORS preflight, answered on every
 * path, as Meilisearch's CORS middleware does).
 */
export function parseRouteTree(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│   |    )*)(?:├── |└── )(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x !== '' && x !== 'HEAD' && x !== 'OPTIONS')) out.push(routeKey(method, path));
  }
  return out;
}

const UPDATE_METHOD = new Map(SETTING_ROUTES);

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Whether `method path` (a concrete path) is a route of Meilisearch: compares segment by segment,
 * a parameter matching any one non-empty segment, except a settings sub-route name: Meilisearch
 * has one route per name, updated by PUT or PATCH (Miroir serves them under one parameter).
 */
export function isRoute(routes: readonly RouteSpec[], method: string, path: string): boolean {
  const m = method === 'HEAD' ? 'GET' : method;
  const segs = path.split('?')[0]!.replace(/\/+$/, '').split('/');
  return routes.some((route) => {
    if (route.method !== m) return false;
    const want = route.path.split('/');
    if (want.length !== segs.length) return false;
    return want.every((w, i) => {
      if (w === ':setting') {
        const update = UPDATE_METHOD.get(decoded(segs[i]!));
        return update !== undefined && (m === 'GET' || m === 'DELETE' || m === update);
      }
      return w.startsWith(':') ? segs[i] !== '' : w === segs[i];
    });
  });
}
