import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { Auth, deriveKey } from '../src/auth/index.js';
import { createApp } from '../src/server.js';

const MASTER = 'MASTER_KEY_FOR_TESTS_0123456789';
const NIL = '00000000-0000-0000-0000-000000000000';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

function err(code: string, message: string, type = 'invalid_request'): Record<string, string> {
  return { message, code, type, link: `https://docs.meilisearch.com/errors#${code}` };
}

async function makeApp(masterKey?: string): Promise<{ app: FastifyInstance; auth: Auth }> {
  const auth = new Auth(new Database(':memory:'), masterKey);
  // The envelope (raw bodies, JSON decoding, error mapping) the engine serves the routes with.
  const app = await createApp({ logger: false, auth: null });
  auth.registerKeyRoutes(app);
  await app.ready();
  return { app, auth };
}

describe('key derivation', () => {
  it('is hex(HMAC-SHA256(masterKey, uid)) — Meilisearch test vector', () => {
    // From Meilisearch's auth tests: master key `MASTER_KEY`, nil uid.
    assert.equal(deriveKey('MASTER_KEY', NIL), 'aeb94973e0b6e912d94165430bbe87dee91a7c4f891ce19050c3910ec96977e9');
  });
});

describe('/keys without a master key', () => {
  it('answers 401 missing_master_key, with or without a header', async () => {
    const { app } = await makeApp();
    const body = err(
      'missing_master_key',
      'Meilisearch is running without a master key. To access this API endpoint, you must have set a master key at launch.',
      'auth',
    );
    for (const headers of [{}, { authorization: 'Bearer whatever' }]) {
      const r = await app.inject({ method: 'GET', url: '/keys', headers });
      assert.equal(r.statusCode, 401);
      assert.deepEqual(r.json(), body);
    }
    const p = await app.inject({ method: 'POST', url: '/keys', payload: { actions: ['*'], indexes: ['*'], expiresAt: null } });
    assert.equal(p.statusCode, 401);
    await app.close();
  });
});

describe('/keys with a master key', () => {
  let app: FastifyInstance;
  const H = { authorization: `Bearer ${MASTER}` };
  const req = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<{ status: number; body: any }> => {
    const r = await app.inject({ method, url, headers: H, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: r.statusCode, body: r.body === '' ? undefined : JSON.parse(r.body) };
  };

  before(async () => {
    ({ app } = await makeApp(MASTER));
  });
  after(() => app.close());

  it('starts with Meilisearch default keys, newest first', async () => {
    const r = await req('GET', '/keys');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['results', 'offset', 'limit', 'total']);
    assert.equal(r.body.total, 4);
    assert.deepEqual(
      r.body.results.map((k: any) => [k.name, k.description, k.actions, k.indexes, k.expiresAt]),
      [
        ['Default Search API Key', 'Use it to search from the frontend', ['search'], ['*'], null],
        ['Default Admin API Key', 'Use it for anything that is not a search operation. Caution! Do not expose it on a public frontend', ['*'], ['*'], null],
        [
          'Default Read-Only Admin API Key',
          'Use it to read information across the whole database. Caution! Do not expose this key on a public frontend',
          ['*.get', 'keys.get'],
          ['*'],
          null,
        ],
        ['Default Chat API Key', 'Use it to chat and search from the frontend', ['chatCompletions', 'search'], ['*'], null],
      ],
    );
    for (const k of r.body.results) {
      assert.deepEqual(Object.keys(k), ['name', 'description', 'key', 'uid', 'actions', 'indexes', 'expiresAt', 'createdAt', 'updatedAt']);
      assert.equal(k.key, deriveKey(MASTER, k.uid));
      assert.match(k.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.match(k.createdAt, RFC3339);
    }
    const page = await req('GET', '/keys?offset=1&limit=2');
    assert.deepEqual({ ...page.body, results: page.body.results.map((k: any) => k.name) }, {
      results: ['Default Admin API Key', 'Default Read-Only Admin API Key'],
      offset: 1,
      limit: 2,
      total: 4,
    });
  });

  it('list parameter errors', async () => {
    assert.deepEqual(await req('GET', '/keys?offset=doggo'), {
      status: 400,
      body: err('invalid_api_key_offset', 'Invalid value in parameter `offset`: could not parse `doggo` as a positive integer'),
    });
    assert.deepEqual(await req('GET', '/keys?limit=doggo'), {
      status: 400,
      body: err('invalid_api_key_limit', 'Invalid value in parameter `limit`: could not parse `doggo` as a positive integer'),
    });
    assert.deepEqual(await req('GET', '/keys?doggo=no_limit'), {
      status: 400,
      body: err('bad_request', 'Unknown parameter `doggo`: expected one of `offset`, `limit`'),
    });
  });

  it('creates a key (201) whose secret derives from its uid', async () => {
    const r = await req('POST', '/keys', { actions: ['search'], indexes: ['dog'], expiresAt: null, uid: NIL });
    assert.equal(r.status, 201);
    assert.deepEqual({ ...r.body, createdAt: 'c', updatedAt: 'u' }, {
      name: null,
      description: null,
      key: deriveKey(MASTER, NIL),
      uid: NIL,
      actions: ['search'],
      indexes: ['dog'],
      expiresAt: null,
      createdAt: 'c',
      updatedAt: 'u',
    });
    assert.equal(r.body.createdAt, r.body.updatedAt);
    assert.deepEqual(await req('POST', '/keys', { actions: ['search'], indexes: ['dog'], expiresAt: null, uid: NIL }), {
      status: 409,
      body: err('api_key_already_exists', `\`uid\` field value \`${NIL}\` is already an existing API key.`),
    });
    // Found by uid and by secret; the newest is listed first.
    assert.equal((await req('GET', `/keys/${NIL}`)).body.uid, NIL);
    assert.equal((await req('GET', `/keys/${deriveKey(MASTER, NIL)}`)).body.uid, NIL);
    assert.equal((await req('GET', '/keys')).body.results[0].uid, NIL);
  });

  it('accepts every expiresAt form and keeps the given offset', async () => {
    const mk = async (expiresAt: string): Promise<string> =>
      (await req('POST', '/keys', { actions: ['*'], indexes: ['*'], expiresAt })).body.expiresAt;
    assert.equal(await mk('2099-11-13'), '2099-11-13T00:00:00Z');
    assert.equal(await mk('2099-11-13 10:20:30'), '2099-11-13T10:20:30Z');
    assert.equal(await mk('2099-11-13T10:20:30'), '2099-11-13T10:20:30Z');
    assert.equal(await mk('2099-11-13T10:20:30.5+02:00'), '2099-11-13T10:20:30.5+02:00');
    assert.deepEqual(await req('POST', '/keys', { actions: ['*'], indexes: ['*'], expiresAt: '2001-01-01' }), {
      status: 400,
      body: err(
        'invalid_api_key_expires_at',
        "Invalid value at `.expiresAt`: `2001-01-01` is not a valid date. It should follow the RFC 3339 format to represents a date or datetime in the future or specified as a null value. e.g. 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'.\n",
      ),
    });
  });

  it('validates create bodies like Meilisearch', async () => {
    const cases: [unknown, string, string][] = [
      [{ description: ['doggo'] }, 'invalid_api_key_description', 'Invalid value type at `.description`: expected a string, but found an array: `["doggo"]`'],
      [{ name: ['doggo'] }, 'invalid_api_key_name', 'Invalid value type at `.name`: expected a string, but found an array: `["doggo"]`'],
      [{ uid: ['doggo'] }, 'invalid_api_key_uid', 'Invalid value type at `.uid`: expected a string, but found an array: `["doggo"]`'],
      [
        { uid: 'doggo' },
        'invalid_api_key_uid',
        'Invalid value at `.uid`: invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `o` at 2',
      ],
      [{ uid: 'abc' }, 'invalid_api_key_uid', 'Invalid value at `.uid`: invalid length: expected length 32 for simple format, found 3'],
      [{ actions: 'doggo' }, 'invalid_api_key_actions', 'Invalid value type at `.actions`: expected an array, but found a string: `"doggo"`'],
      [{ indexes: 'doggo' }, 'invalid_api_key_indexes', 'Invalid value type at `.indexes`: expected an array, but found a string: `"doggo"`'],
      [
        { indexes: ['good doggo'] },
        'invalid_api_key_indexes',
        'Invalid value at `.indexes[0]`: `good doggo` is not a valid index uid pattern. Index uid patterns can be an integer or a string containing only alphanumeric characters, hyphens (-), underscores (_), and optionally end with a star (*).',
      ],
      [
        { expires_at: 'doggo' },
        'bad_request',
        'Unknown field `expires_at`: did you mean `expiresAt`? expected one of `description`, `name`, `uid`, `actions`, `indexes`, `expiresAt`',
      ],
      [{ indexes: ['doggo'], expiresAt: null }, 'missing_api_key_actions', 'Missing field `actions`'],
      [{ uid: NIL, actions: ['*'], expiresAt: null }, 'missing_api_key_indexes', 'Missing field `indexes`'],
      [{ uid: NIL, actions: ['*'], indexes: ['doggo'] }, 'missing_api_key_expires_at', 'Missing field `expiresAt`'],
      [
        { uid: NIL, actions: ['*'], indexes: ['doggo'], expiresAt: null, doggo: 'bork' },
        'bad_request',
        'Unknown field `doggo`: expected one of `description`, `name`, `uid`, `actions`, `indexes`, `expiresAt`',
      ],
      [[1], 'bad_request', 'Invalid value type: expected an object, but found an array: `[1]`'],
    ];
    for (const [body, code, message] of cases) {
      assert.deepEqual(await req('POST', '/keys', body), { status: 400, body: err(code, message) }, JSON.stringify(body));
    }
    const unknownAction = await req('POST', '/keys', { actions: ['doggo'] });
    assert.equal(unknownAction.body.code, 'invalid_api_key_actions');
    assert.match(unknownAction.body.message, /^Unknown value `doggo` at `\.actions\[0\]`: expected one of `\*`, `search`, `documents\.\*`, .*`indexes\.compact`, `fields\.post`/);
  });

  it('updates only name and description', async () => {
    const created = (await req('POST', '/keys', { name: 'n', description: 'd', actions: ['search'], indexes: ['*'], expiresAt: null })).body;
    const patched = await req('PATCH', `/keys/${created.key}`, { name: 'renamed', description: null });
    assert.equal(patched.status, 200);
    assert.deepEqual({ ...patched.body, updatedAt: 'u' }, { ...created, name: 'renamed', description: null, updatedAt: 'u' });
    assert.ok(patched.body.updatedAt > created.updatedAt);
    for (const [field, code] of [
      ['uid', 'immutable_api_key_uid'],
      ['actions', 'immutable_api_key_actions'],
      ['indexes', 'immutable_api_key_indexes'],
      ['expiresAt', 'immutable_api_key_expires_at'],
      ['createdAt', 'immutable_api_key_created_at'],
      ['updatedAt', 'immutable_api_key_updated_at'],
    ] as const) {
      assert.deepEqual(await req('PATCH', `/keys/${created.uid}`, { [field]: 'doggo' }), {
        status: 400,
        body: err(code, `Immutable field \`${field}\`: expected one of \`description\`, \`name\``),
      });
    }
    assert.deepEqual(await req('PATCH', `/keys/${created.uid}`, { doggo: 'bork' }), {
      status: 400,
      body: err('bad_request', 'Unknown field `doggo`: expected one of `description`, `name`'),
    });
    // Names every object inherits are unknown fields too (found by the fuzzer: a 500 before).
    for (const field of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      assert.deepEqual(await req('PATCH', `/keys/${created.uid}`, { [field]: 'doggo' }), {
        status: 400,
        body: err('bad_request', `Unknown field \`${field}\`: expected one of \`description\`, \`name\``),
      });
    }
    assert.deepEqual(await req('PATCH', '/keys/doggo', { name: ['doggo'] }), {
      status: 400,
      body: err('invalid_api_key_name', 'Invalid value type at `.name`: expected a string, but found an array: `["doggo"]`'),
    });
    assert.deepEqual(await req('PATCH', '/keys/doggo', { name: 'x' }), { status: 404, body: err('api_key_not_found', 'API key `doggo` not found.') });
  });

  it('deletes by uid or secret (204), then 404', async () => {
    const created = (await req('POST', '/keys', { actions: ['search'], indexes: ['*'], expiresAt: null })).body;
    const d = await app.inject({ method: 'DELETE', url: `/keys/${created.uid}`, headers: H });
    assert.equal(d.statusCode, 204);
    assert.equal(d.body, '');
    assert.deepEqual(await req('GET', `/keys/${created.uid}`), { status: 404, body: err('api_key_not_found', `API key \`${created.uid}\` not found.`) });
    assert.deepEqual(await req('DELETE', `/keys/${created.key}`), { status: 404, body: err('api_key_not_found', `API key \`${created.key}\` not found.`) });
    const upper = created.uid.toUpperCase();
    assert.deepEqual(await req('GET', `/keys/${upper}`), { status: 404, body: err('api_key_not_found', `API key \`${created.uid}\` not found.`) });
  });

  it('keys persist across restarts with the same secrets', async () => {
    const db = new Database(':memory:');
    const a = new Auth(db, MASTER);
    const uids = a.keys.list().map((k) => k.uid);
    const b = new Auth(db, MASTER);
    assert.deepEqual(b.keys.list().map((k) => k.uid), uids, 'no second set of default keys');
    const other = new Auth(db, 'ANOTHER_MASTER_KEY_0123456789');
    assert.notEqual(other.keys.secret(uids[0]!), a.keys.secret(uids[0]!));
  });
});
