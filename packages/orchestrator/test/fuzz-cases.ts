/**
 * The fuzzer's request generator (fast-check arbitraries; pure, no I/O): a route from the table or
 * an unknown path, path parameters (huge, unicode, percent-encoded), query parameters of the wrong
 * type, a credential kind, odd/missing/duplicated headers, `Content-Type` and `Content-Encoding`
 * variants, and a body: none, empty, random bytes, a valid template with wrong JSON types put at
 * its fields, truncated JSON, deep nesting, NDJSON/CSV garbage, random filters.
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ROUTES, SETTING_ROUTES, type RouteSpec } from './fuzz-routes.js';

/** The seeded index (read-only for the fuzzer) and a scratch index the fuzzer may change. */
export const SEEDED_INDEX = 'fuzz_seeded';
export const SCRATCH_INDEX = 'fuzz_scratch';

export const CREDENTIALS = [
  'none',
  'wrong',
  'search',
  'admin',
  'scoped',
  'token',
  'token-expired',
  'token-alg-none',
  'token-wrong-secret',
  'master',
  'malformed',
] as const;
export type Credential = (typeof CREDENTIALS)[number];

export interface FuzzCase {
  method: string;
  /** Path and query string, percent-encoded as sent. */
  url: string;
  /** The route this case aims at (null for an unknown path). */
  route: RouteSpec | null;
  credential: Credential;
  /** Extra headers in order; a name may repeat. */
  headers: [string, string][];
  body: Buffer | undefined;
  /** What the body is, for reports. */
  bodyKind: string;
  /**
   * A whole HTTP/1.1 request written on a socket as it is (`{auth}` is replaced by the credential's
   * header value): framing an HTTP client would normalise or refuse to send.
   */
  wire?: string;
}

// ---- values ---------------------------------------------------------------------------------------

const weird = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\ud800',
  '🦀',
  'é',
  'a'.repeat(513),
  '%',
  '%zz',
  '%00',
  '..',
  '../..',
  '*',
  'null',
  '-1',
  '1e309',
  '9007199254740993',
  '0x10',
  'true',
  '[]',
  '{}',
  '"',
  "'",
  '\\',
  '_miroir_shard',
  // Names every object inherits: a table looked up with user input must not find them.
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
);

const anyString = fc.oneof(weird, fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));

/** Any JSON value, with the numbers and strings that break parsers more often than random ones. */
const jsonLeaf = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0, 2 ** 53 + 2, 1e300, -1e300, 4294967296, 18446744073709552000),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  anyString,
);
const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, jsonLeaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(anyString, tie('value'), { maxKeys: 4 })),
})).value;

// ---- path parameters -------------------------------------------------------------------------------

const validUid = fc.stringMatching(/^[a-zA-Z0-9_-]{1,20}$/);
/** An index uid for a route that changes state: never the seeded one. */
const scratchUid = fc.oneof(
  { weight: 3, arbitrary: fc.constant(SCRATCH_INDEX) },
  { weight: 2, arbitrary: validUid.map((u) => `fz${u}`) },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(401), 'x'.repeat(5000), 'ünï', '🦀', 'a b', 'a/b', 'a.b', '-', '_') },
  { weight: 1, arbitrary: anyString.map((s) => `fz${s}`) },
);
const readUid = fc.oneof({ weight: 3, arbitrary: fc.constant(SEEDED_INDEX) }, { weight: 3, arbitrary: scratchUid });

const docId = fc.oneof(fc.constantFrom('1', '0', '-1', '1.5', 'a'.repeat(600), 'ü', '%2F', 'a b'), validUid, anyString, fc.integer().map(String));
const settingName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SETTING_ROUTES.map(([n]) => n)) }, { weight: 1, arbitrary: anyString });
const taskUid = fc.oneof(fc.nat(50).map(String), fc.constantFrom('-1', '4294967296', '1e3', 'abc', '0x1', '99999999999999999999', ''), anyString);
const keyParam = fc.oneof(fc.uuid(), fc.constantFrom('abc', '00000000-0000-0000-0000-000000000000', 'x'.repeat(300)), anyString);
/** Node and replica-group ids never name real ones (`node-*`, digits), so topology stays put. */
const nodeParam = fc.oneof(validUid.map((u) => `fz-${u}`), anyString.map((s) => `fz${s}`));

function encodeSegment(s: string): string {
  // Lone surrogates cannot be percent-encoded; fall back to the raw UTF-16 units as bytes.
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s, 'latin1')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

/** A raw segment, sometimes left unencoded or with broken escapes (the server decodes it). */
const segment = (value: fc.Arbitrary<string>) =>
  fc.tuple(value, fc.nat(9)).map(([v, mode]) => (mode === 0 ? v.replace(/[/?#\s\u0000-\u001f\u007f-\uffff]/g, '') || 'x' : mode === 1 ? `${encodeSegment(v)}%` : encodeSegment(v)));

/** `writes`: the request may change state (the route writes, or it is sent with another method). */
function pathFor(route: RouteSpec, writes: boolean): fc.Arbitrary<string> {
  const parts = route.path.split('/').map((p): fc.Arbitrary<string> => {
    if (!p.startsWith(':')) return fc.constant(p);
    switch (p.slice(1)) {
      case 'index':
        return segment(writes ? scratchUid : readUid);
      case 'doc':
        return segment(docId);
      case 'setting':
        return segment(settingName);
      case 'task':
        return segment(taskUid);
      case 'key':
        return segment(keyParam);
      default:
        return segment(nodeParam);
    }
  });
  return fc.tuple(...parts).map((xs) => xs.join('/'));
}

// ---- query strings -----------------------------------------------------------------------------------

const QUERY_NAMES = [
  'q', 'limit', 'offset', 'fields', 'filter', 'attributesToRetrieve', 'sort', 'retrieveVectors', 'ids', 'uids', 'batchUids',
  'statuses', 'types', 'indexUids', 'canceledBy', 'from', 'reverse', 'afterEnqueuedAt', 'beforeEnqueuedAt', 'afterStartedAt',
  'beforeFinishedAt', 'primaryKey', 'csvDelimiter', 'customMetadata', 'hitsPerPage', 'page', 'facets', 'attributesToHighlight',
  'attributesToCrop', 'cropLength', 'showRankingScore', 'showMatchesPosition', 'matchingStrategy', 'vector', 'hybrid', 'index',
  'deep', 'force', 'distinct', 'locales', 'rankingScoreThreshold', 'embedder', 'id',
];
const queryValue = fc.oneof(
  fc.constantFrom('', '-1', '0', '1', 'abc', 'true', 'null', '1e309', '4294967296', '99999999999999999999', '*', 'a,b', ',', 'genre = drama', '%', '%zz', '%00', '[1]', '{"a":1}'),
  anyString.map(encodeSegment),
  fc.nat().map(String),
);
const queryString = fc
  .array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...QUERY_NAMES) }, { weight: 1, arbitrary: anyString.map(encodeSegment) }), queryValue, fc.boolean()), { maxLength: 5 })
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v, bare]) => (bare && v === '' ? k : `${k}=${v}`)).join('&')}`));

// ---- filters -----------------------------------------------------------------------------------------

const filterAttr = fc.constantFrom('genre', 'year', 'id', 'title', '_geo', '_miroir_shard', 'missing', 'a.b', '"genre"', '`x`');
const filterValue = fc.oneof(fc.constantFrom('drama', '"drama"', "'x'", '1', '-1.5', '1e400', '"', "'", '[', '', '"a\\"b"'), fc.integer().map(String), anyString);
const filterAtom = fc.oneof(
  fc.tuple(filterAttr, fc.constantFrom('=', '!=', '>', '>=', '<', '<=', 'CONTAINS', 'STARTS WITH', '=='), filterValue).map(([a, o, v]) => `${a} ${o} ${v}`),
  fc.tuple(filterAttr, filterValue, filterValue).map(([a, x, y]) => `${a} ${x} TO ${y}`),
  fc.tuple(filterAttr, fc.array(filterValue, { maxLength: 4 })).map(([a, vs]) => `${a} IN [${vs.join(', ')}]`),
  filterAttr.chain((a) => fc.constantFrom(`${a} EXISTS`, `${a} NOT EXISTS`, `${a} IS NULL`, `${a} IS NOT EMPTY`, `NOT ${a} = 1`)),
  fc.constantFrom('_geoRadius(1, 2, 3)', '_geoRadius(a)', '_geoBoundingBox([1, 2], [3, 4])', '_geoBoundingBox([1', '_geoPolygon([1,2],[3,4],[5,6])'),
  anyString,
);
const filterString: fc.Arbitrary<string> = fc.letrec((tie) => ({
  f: fc.oneof(
    { depthSize: 'small' },
    filterAtom,
    fc.tuple(tie('f'), fc.constantFrom(' AND ', ' OR ', ' and ', ' '), tie('f')).map(([a, op, b]) => `${a}${op}${b}`),
    tie('f').map((x) => `(${x})`),
    tie('f').map((x) => `NOT ${x}`),
  ),
})).f as fc.Arbitrary<string>;
/** A filter as Meilisearch takes it: a string, an array of strings and arrays, or deep nesting. */
export const filter: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: filterString },
  { weight: 2, arbitrary: fc.array(fc.oneof(filterString, fc.array(filterString, { maxLength: 3 })), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(1000, 5000).map((n) => `${'('.repeat(n)}genre = drama${')'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.constantFrom(1000, 5000).map((n) => `${'NOT '.repeat(n)}genre = drama`) },
  { weight: 1, arbitrary: jsonValue },
);

// ---- bodies ------------------------------------------------------------------------------------------

/** A valid body of each route (the mutations below then put wrong types at its fields). */
function template(route: RouteSpec): fc.Arbitrary<unknown> {
  const p = route.path;
  const m = route.method;
  if (p === '/indexes' && m === 'POST') return scratchUid.map((uid) => ({ uid, primaryKey: 'id' }));
  if (p === '/indexes/:index' && m === 'PATCH') return fc.constant({ primaryKey: 'id', uid: SCRATCH_INDEX });
  if (p === '/swap-indexes') return fc.tuple(scratchUid, scratchUid).map(([a, b]) => [{ indexes: [a, b], rename: false }]);
  if (p.endsWith('/documents') && (m === 'POST' || m === 'PUT')) {
    return fc.array(fc.record({ id: fc.oneof(fc.nat(), validUid, jsonLeaf), title: anyString, genre: fc.constantFrom('drama', 'comedy'), _geo: fc.constant({ lat: 1, lng: 2 }) }, { requiredKeys: ['id'] }), { maxLength: 4 });
  }
  if (p.endsWith('/documents/fetch')) return fc.record({ filter, limit: fc.nat(30), offset: fc.nat(5), fields: fc.constant(['id', 'title']), ids: fc.array(docId, { maxLength: 3 }), retrieveVectors: fc.boolean() }, { requiredKeys: [] });
  if (p.endsWith('/documents/delete-batch')) return fc.array(fc.oneof(docId, fc.nat()), { maxLength: 4 });
  if (p.endsWith('/documents/delete')) return filter.map((f) => ({ filter: f }));
  if (p.endsWith('/documents/edit')) return fc.constant({ function: 'doc.title = "x"', filter: 'id = 1' });
  if (p.endsWith('/settings') && m === 'PATCH') {
    return fc.record({ filterableAttributes: fc.constant(['genre', 'year']), sortableAttributes: fc.constant(['year']), rankingRules: fc.constant(['words', 'sort']), synonyms: fc.constant({ a: ['b'] }), typoTolerance: fc.constant({ enabled: true, minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 } }), pagination: fc.constant({ maxTotalHits: 10 }), faceting: fc.constant({ maxValuesPerFacet: 5 }), distinctAttribute: fc.constant('genre'), searchCutoffMs: fc.nat(), proximityPrecision: fc.constant('byWord') }, { requiredKeys: [] });
  }
  if (p.includes('/settings/')) return fc.oneof(fc.constant(['genre']), fc.constant({ enabled: false }), fc.constant({ a: ['b'] }), fc.constant('genre'), fc.constant(100), fc.constant(null));
  if (p.endsWith('/search') || p.endsWith('/similar')) {
    return fc.record(
      { q: anyString, filter, limit: fc.nat(50), offset: fc.nat(10), page: fc.nat(3), hitsPerPage: fc.nat(10), sort: fc.constant(['year:asc']), facets: fc.constant(['genre', '*']), attributesToRetrieve: fc.constant(['*']), attributesToHighlight: fc.constant(['title']), attributesToCrop: fc.constant(['title:2']), showRankingScore: fc.boolean(), matchingStrategy: fc.constantFrom('last', 'all', 'frequency'), distinct: fc.constant('genre'), id: docId, vector: fc.constant([0.1, 0.2]), hybrid: fc.constant({ embedder: 'default' }), rankingScoreThreshold: fc.double() },
      { requiredKeys: [] },
    );
  }
  if (p.endsWith('/facet-search')) return fc.record({ facetName: fc.constantFrom('genre', 'year', 'title', 'missing'), facetQuery: anyString, q: anyString, filter }, { requiredKeys: [] });
  if (p === '/multi-search') {
    const query = fc.record({ indexUid: readUid, q: anyString, filter, limit: fc.nat(20), federationOptions: fc.constant({ weight: 1.5 }) }, { requiredKeys: ['indexUid'] });
    return fc.record({ queries: fc.array(query, { maxLength: 3 }), federation: fc.constant({ limit: 5, offset: 0, facetsByIndex: {} }) }, { requiredKeys: ['queries'] });
  }
  if (p === '/keys' && m === 'POST') return fc.record({ actions: fc.constant(['search']), indexes: fc.constant([SCRATCH_INDEX]), expiresAt: fc.constantFrom(null, '2099-01-01T00:00:00Z'), description: anyString, name: anyString, uid: fc.uuid() }, { requiredKeys: ['actions', 'indexes', 'expiresAt'] });
  if (p === '/keys/:key') return fc.record({ name: anyString, description: anyString }, { requiredKeys: [] });
  // Webhooks call their URL on every finished task: the discard port of this machine, refused at once.
  if (p === '/webhooks' || p === '/webhooks/:key') return fc.record({ url: fc.constant('http://127.0.0.1:9/fuzz'), headers: fc.constant({ authorization: 'x' }) }, { requiredKeys: [] });
  if (p === '/experimental-features') return fc.constant({ metrics: false, logsRoute: false });
  if (p === '/tasks/cancel' || p === '/tasks') return fc.constant({});
  if (p.endsWith('/fields')) return fc.constant({ offset: 0, limit: 20 });
  // Topology changes: addresses that are never http(s) URLs, so nothing joins the topology.
  if (p === '/_miroir/nodes') return fc.record({ id: nodeParam, address: fc.constant('ftp://fuzz.invalid'), replica_group: fc.constant(0) });
  if (p === '/_miroir/groups') return fc.constant({ nodes: [{ id: 'fz-g', address: 'ftp://fuzz.invalid' }] });
  return jsonValue;
}

/** Replaces, removes or adds one field somewhere in `v` (`pick` chooses where). */
function mutate(v: unknown, pick: number, op: number, key: string, value: unknown): unknown {
  const spots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach((y, i) => (spots.push({ parent: x, key: i }), walk(y)));
    else if (x !== null && typeof x === 'object') for (const [k, y] of Object.entries(x)) spots.push({ parent: x as Record<string, unknown>, key: k }), walk(y);
  };
  const root = structuredClone(v);
  walk(root);
  if (spots.length === 0) return op === 0 ? value : root;
  const s = spots[pick % spots.length]!;
  if (op === 0 || Array.isArray(s.parent)) (s.parent as Record<string | number, unknown>)[s.key] = value;
  else if (op === 1) delete (s.parent as Record<string, unknown>)[s.key as string];
  else (s.parent as Record<string, unknown>)[key] = value;
  return root;
}

const deep = fc.tuple(fc.constantFrom(64, 129, 1000, 5000, 20000), fc.constantFrom('[', '{"a":', '{"filter":['), fc.boolean()).map(([n, open, closed]) => {
  const close = open === '[' ? ']' : open === '{"a":' ? '}' : ']}';
  return `${open.repeat(n)}1${closed ? close.repeat(n) : ''}`;
});

/** JSON text with the tricks random values do not produce. */
const rawJsonTrick = fc.constantFrom(
  '{"a":1,"a":2}',
  '{"uid":"x","uid":"y"}',
  '\ufeff{}',
  '{}garbage',
  '{} {}',
  '[1e999]',
  '{"limit":1e999}',
  '{"limit":-0}',
  '{"q":"\\ud800"}',
  '{"q":"\\u0000"}',
  '"just a string"',
  'null',
  'true',
  '123',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '[{"id":1},]',
  "{'a':1}",
  '{"a":NaN}',
  '{"a":Infinity}',
  '// comment\n{}',
);

const documentsText = fc.oneof(
  fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }).map((lines) => lines.join('\n')),
  fc.constantFrom('id,title\n1,a\n2', 'id,title\n"1,a', 'id:number,title\nabc,x', '{"id":1}\n{"id":', '{"id":1}\n[1]\n', ',,,\n', 'id\n' + '1\n'.repeat(3)),
);

export interface Body {
  bytes: Buffer | undefined;
  kind: string;
}

function bodyFor(route: RouteSpec | null): fc.Arbitrary<Body> {
  const base = route === null ? jsonValue : template(route);
  const mutated = fc.tuple(base, fc.array(fc.tuple(fc.nat(), fc.nat(2), anyString, jsonValue), { maxLength: 3 })).map(([v, ms]) => ms.reduce((acc, [pick, op, key, value]) => mutate(acc, pick, op, key, value), v));
  const text = (s: fc.Arbitrary<string>, kind: string) => s.map((t): Body => ({ bytes: Buffer.from(t), kind }));
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant<Body>({ bytes: undefined, kind: 'none' }) },
    { weight: 2, arbitrary: fc.constantFrom<Body>({ bytes: Buffer.alloc(0), kind: 'empty' }, { bytes: Buffer.from('  \n'), kind: 'blank' }) },
    { weight: 6, arbitrary: base.map((v): Body => ({ bytes: Buffer.from(JSON.stringify(v) ?? 'null'), kind: 'template' })) },
    { weight: 10, arbitrary: mutated.map((v): Body => ({ bytes: Buffer.from(JSON.stringify(v) ?? 'null'), kind: 'wrong types' })) },
    { weight: 2, arbitrary: fc.tuple(mutated, fc.nat()).map(([v, cut]): Body => {
      const t = JSON.stringify(v) ?? 'null';
      return { bytes: Buffer.from(t.slice(0, cut % Math.max(1, t.length))), kind: 'truncated JSON' };
    }) },
    { weight: 2, arbitrary: text(deep, 'deep nesting') },
    { weight: 2, arbitrary: text(rawJsonTrick, 'JSON trick') },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b): Body => ({ bytes: Buffer.from(b), kind: 'random bytes' })) },
    { weight: 1, arbitrary: text(anyString, 'random text') },
    { weight: 1, arbitrary: text(documentsText, 'ndjson/csv text') },
    { weight: 1, arbitrary: fc.constantFrom(100_000, 1_000_000).map((n): Body => ({ bytes: Buffer.from(JSON.stringify({ q: 'a'.repeat(n), uid: 'b'.repeat(n) })), kind: 'large' })) },
  );
}

// ---- headers -----------------------------------------------------------------------------------------

const contentType = fc.constantFrom(
  undefined,
  undefined,
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  '',
  ' ',
  'application/x-ndjson',
  'text/csv',
  'text/csv; charset=utf-8',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'a/b/c',
  ';',
  'application/json, text/csv',
  'application/json;;;',
  'application/json; boundary="',
);

/** The encoding header and what happens to the body: encoded for real, left raw, or emptied. */
const encoding = fc.tuple(
  fc.constantFrom('gzip', 'deflate', 'br', 'identity', '', 'GZIP', 'gzip, br', 'compress', 'zstd', 'x-gzip', 'gzip;q=1', 'unknown'),
  fc.constantFrom('encoded', 'raw', 'empty', 'truncated'),
);

function encode(body: Buffer | undefined, name: string, how: string): Buffer | undefined {
  if (how === 'empty') return Buffer.alloc(0);
  if (body === undefined || how === 'raw') return body;
  const n = name.toLowerCase().split(',')[0]!.trim();
  const coded = n === 'gzip' || n === 'x-gzip' ? gzipSync(body) : n === 'deflate' ? deflateSync(body) : n === 'br' ? brotliCompressSync(body) : body;
  return how === 'truncated' ? coded.subarray(0, Math.floor(coded.length / 2)) : coded;
}

const extraHeader = fc.oneof(
  fc.constantFrom<[string, string]>(
    ['accept-encoding', 'gzip'],
    ['accept-encoding', 'br, deflate'],
    ['accept-encoding', '*;q=0'],
    ['accept', 'text/csv'],
    ['x-meili-api-key', 'whatever'],
    ['x-admin-key', 'not-the-admin-key'],
    ['idempotency-key', 'fuzz-idempotency'],
    ['x-miroir-min-settings-version', '-1'],
    ['x-miroir-min-settings-version', '99999999999999999999'],
    ['x-miroir-min-settings-version', 'abc'],
    ['meili-include-metadata', 'true'],
    ['meili-include-metadata', 'maybe'],
    ['x-request-id', '\u00e9'],
    ['origin', 'http://example.com'],
    ['access-control-request-method', 'DELETE'],
    ['content-language', 'xx'],
    ['range', 'bytes=0-1'],
    ['if-none-match', '*'],
  ),
  fc.constantFrom('x-fuzz', 'x-miroir-session', 'x-miroir-tenant', 'traceparent', 'cookie', 'authorization', 'content-type').chain((name) =>
    fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('a'.repeat(8000), '00-zz-zz-01')).map((v): [string, string] => [name, v.replace(/[\r\n\u0000]/g, ' ').replace(/[^\t\x20-\x7e\x80-\xff]/g, '?')]),
  ),
);

// ---- the case ----------------------------------------------------------------------------------------

const unknownPath = fc.oneof(
  fc.constantFrom('/', '/indexes/fuzz_seeded/nothing', '/indexes/fuzz_seeded/documents/1/x', '/tasks/1/x', '/_miroir', '/_miroir/nothing', '/keys/a/b', '/v1/indexes', '/INDEXES', '/health/'),
  fc.array(segment(anyString), { minLength: 1, maxLength: 4 }).map((s) => `/fz${s.join('/')}`),
);

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

const H = 'Host: fuzz\r\nConnection: close\r\nAuthorization: {auth}\r\n';
/** Requests only a socket sends: broken framing, conflicting lengths, odd request lines. */
const WIRE: readonly [method: string, url: string, text: string][] = [
  ['POST', '/indexes', `POST /indexes HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\nContent-Type: application/json\r\n\r\n0\r\n\r\n`],
  ['POST', '/indexes', `POST /indexes HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
  ['POST', '/indexes', `POST /indexes HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 3\r\nContent-Type: application/json\r\n\r\n{}`],
  ['POST', '/indexes', `POST /indexes HTTP/1.1\r\n${H}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`],
  ['POST', '/multi-search', `POST /multi-search HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n`],
  ['POST', '/indexes/fuzz_scratch/documents', `POST /indexes/fuzz_scratch/documents HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\nContent-Type: application/json\r\n\r\n3\r\nabc\r\n0\r\n\r\n`],
  ['GET', '/health', `GET /health HTTP/1.0\r\n\r\n`],
  ['GET', '/health', `GET http://127.0.0.1/health HTTP/1.1\r\n${H}\r\n`],
  ['GET', '/indexes', `GET /indexes?%zz=%%&a=%ff HTTP/1.1\r\n${H}\r\n`],
  ['GET', '/indexes/a b', `GET /indexes/a b HTTP/1.1\r\n${H}\r\n`],
  ['GET', '/indexes/\xff\xfe', `GET /indexes/\xff\xfe/search HTTP/1.1\r\n${H}\r\n`],
  ['GET', '/indexes', `GET /indexes HTTP/1.1\r\n${H}NoColonHere\r\n\r\n`],
  ['GET', '/indexes', `GET /indexes HTTP/1.1\r\n${H}X-Folded: a\r\n b\r\n\r\n`],
  ['GET', '/indexes', `GET /indexes HTTP/2.0\r\n${H}\r\n`],
  ['POST', '/indexes/fuzz_seeded/search', `POST /indexes/fuzz_seeded/search HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`],
  ['POST', '/indexes', `POST /indexes HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"uid":`],
  ['DELETE', '/indexes/fuzz_scratch', `DELETE /indexes/fuzz_scratch HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`],
  ['GET', '/indexes', `GET /indexes HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`],
  ['BREW', '/indexes', `BREW /indexes HTTP/1.1\r\n${H}\r\n`],
];

/** A wire-level case: one of {@link WIRE}, with any credential. */
const wireCase: fc.Arbitrary<FuzzCase> = fc.tuple(fc.constantFrom(...WIRE), fc.constantFrom(...CREDENTIALS)).map(([[method, url, wire], credential]) => ({
  method,
  url,
  route: null,
  credential,
  headers: [],
  body: undefined,
  bodyKind: 'raw HTTP',
  wire,
}));

/** A request through an HTTP client. */
const clientCase: fc.Arbitrary<FuzzCase> = fc
  .oneof({ weight: 12, arbitrary: fc.constantFrom(...ROUTES) }, { weight: 1, arbitrary: fc.constant(null) })
  .chain((route) =>
    (route === null ? fc.constantFrom(...METHODS) : fc.oneof({ weight: 14, arbitrary: fc.constant(route.method as string) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) })).chain((method) =>
      fc.record({
        route: fc.constant(route),
        method: fc.constant(method),
        // Another method on a read route may write (DELETE on GET /indexes/x): it never aims at the seeded index.
        path: route === null ? unknownPath : pathFor(route, route.writes || method !== route.method),
        query: fc.oneof({ weight: 2, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryString }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('filter', 'q', 'sort'), filterString).map(([k, f]) => `?${k}=${encodeSegment(f)}`) }),
        credential: fc.oneof({ weight: 6, arbitrary: fc.constant<Credential>('master') }, { weight: 6, arbitrary: fc.constantFrom(...CREDENTIALS) }),
        body: bodyFor(route),
        contentType,
        duplicateContentType: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: contentType }),
        encoding: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: encoding }),
        extra: fc.array(extraHeader, { maxLength: 3 }),
      }),
    ),
  )
  .map((c): FuzzCase => {
    const headers: [string, string][] = [];
    if (c.contentType !== undefined) headers.push(['content-type', c.contentType]);
    if (c.duplicateContentType !== undefined) headers.push(['content-type', c.duplicateContentType]);
    let bytes = c.body.bytes;
    let bodyKind = c.body.kind;
    if (c.encoding !== undefined) {
      const [name, how] = c.encoding;
      headers.push(['content-encoding', name]);
      bytes = encode(bytes, name, how);
      bodyKind += ` (${name || "''"} ${how})`;
    }
    headers.push(...c.extra);
    return { method: c.method, url: `${c.path}${c.query}`, route: c.route, credential: c.credential, headers, body: bytes, bodyKind };
  });

/** One fuzz case: mostly through an HTTP client, now and then written on a socket as it is. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof({ weight: 40, arbitrary: clientCase }, { weight: 1, arbitrary: wireCase });
