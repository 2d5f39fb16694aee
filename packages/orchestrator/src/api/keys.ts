/**
 * API keys through Miroir: `/keys` CRUD is broadcast so every node holds every key with the same
 * uid (hence the same value, derived from uid and the node master key), and Miroir checks the
 * credentials it knows itself: an API key's actions and index patterns, and tenant tokens signed
 * with one (their `searchRules` filters are applied to every node query).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, jwtVerify } from 'jose';
import type { Cluster } from '../cluster.js';
import type { AppContext } from '../main.js';
import type { Access, CredentialResolver } from './auth.js';
import { broadcast, callEach, firstAnswer } from './fanout.js';
import { jsonBody } from './http.js';

interface ApiKey {
  uid: string;
  key: string;
  actions: string[];
  indexes: string[];
  expiresAt: string | null;
}

type SearchRules = string[] | Record<string, { filter?: unknown } | null>;

const REFRESH_MS = 10_000;

/** `*`, exact, or a trailing-`*` prefix pattern, as Meilisearch matches index patterns. */
export function indexPatternMatches(pattern: string, uid: string): boolean {
  if (pattern === '*') return true;
  return pattern.endsWith('*') ? uid.startsWith(pattern.slice(0, -1)) : pattern === uid;
}

/** Whether a key's actions grant `action` (`*`, `family.*`, `*.get`, exact). */
export function actionAllowed(actions: readonly string[], action: string): boolean {
  const family = action.split('.')[0];
  return actions.some(
    (a) =>
      a === '*' || a === action || a === `${family}.*` || (a === '*.get' && action.endsWith('.get')) || (action === 'search' && a === 'search'),
  );
}

export class KeyCache implements CredentialResolver {
  readonly #cluster: Cluster;
  #keys = new Map<string, ApiKey>();
  #byUid = new Map<string, ApiKey>();
  #loadedAt = 0;
  #loading: Promise<void> | undefined;

  constructor(cluster: Cluster) {
    this.#cluster = cluster;
  }

  invalidate(): void {
    this.#loadedAt = 0;
  }

  async #refresh(force: boolean): Promise<void> {
    if (!force && Date.now() - this.#loadedAt < REFRESH_MS) return;
    this.#loading ??= (async () => {
      try {
        const keys: ApiKey[] = [];
        for (let offset = 0; ; offset += 1000) {
          const page = await firstAnswer<{ results: ApiKey[]; total: number }>(this.#cluster, {
            method: 'GET',
            path: `/keys?offset=${offset}&limit=1000`,
          });
          keys.push(...page.results);
          if (offset + 1000 >= page.total) break;
        }
        this.#keys = new Map(keys.map((k) => [k.key, k]));
        this.#byUid = new Map(keys.map((k) => [k.uid, k]));
        this.#loadedAt = Date.now();
      } finally {
        this.#loading = undefined;
      }
    })();
    await this.#loading;
  }

  async resolve(token: string, action: string, indexUid: string | null): Promise<Access | null> {
    const jwt = looksLikeJwt(token);
    const find = async (lookup: () => ApiKey | undefined) => {
      await this.#refresh(false);
      let k = lookup();
      if (k === undefined && Date.now() - this.#loadedAt > 1000) {
        await this.#refresh(true);
        k = lookup();
      }
      return k;
    };
    if (!jwt) {
      const key = await find(() => this.#keys.get(token));
      if (key === undefined || expired(key) || !actionAllowed(key.actions, action)) return null;
      if (indexUid !== null && !key.indexes.some((p) => indexPatternMatches(p, indexUid))) return null;
      return {
        allowsIndex: (uid) => key.indexes.some((p) => indexPatternMatches(p, uid)),
        searchFilter: () => null,
      };
    }
    // A tenant token: accepted on search routes only, signed with the key named by `apiKeyUid`.
    if (action !== 'search') return null;
    let claims: ReturnType<typeof decodeJwt>;
    try {
      claims = decodeJwt(token);
    } catch {
      return null;
    }
    const parentUid = claims.apiKeyUid;
    if (typeof parentUid !== 'string') return null;
    const parent = await find(() => this.#byUid.get(parentUid));
    if (parent === undefined || expired(parent) || !actionAllowed(parent.actions, 'search')) return null;
    try {
      await jwtVerify(token, new TextEncoder().encode(parent.key), { algorithms: ['HS256', 'HS384', 'HS512'] });
    } catch {
      return null;
    }
    const rules = claims.searchRules as SearchRules | undefined;
    if (rules === undefined || rules === null) return null;
    const rule = (uid: string): { allowed: boolean; filter: unknown } => {
      if (!parent.indexes.some((p) => indexPatternMatches(p, uid))) return { allowed: false, filter: null };
      if (Array.isArray(rules)) return { allowed: rules.some((p) => indexPatternMatches(p, uid)), filter: null };
      // The most specific pattern wins: the exact uid, then the longest prefix pattern, then `*`.
      const patterns = Object.keys(rules)
        .filter((p) => indexPatternMatches(p, uid))
        .sort((a, b) => (a === uid ? -1 : b === uid ? 1 : b.length - a.length));
      if (patterns.length === 0) return { allowed: false, filter: null };
      return { allowed: true, filter: rules[patterns[0]!]?.filter ?? null };
    };
    if (indexUid !== null && !rule(indexUid).allowed) return null;
    return { allowsIndex: (uid) => rule(uid).allowed, searchFilter: (uid) => rule(uid).filter };
  }
}

function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3 && token.startsWith('eyJ');
}

function expired(k: ApiKey): boolean {
  return k.expiresAt !== null && Date.parse(k.expiresAt) <= Date.now();
}

export function registerKeyRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { cluster, keys } = ctx;
  const path = (req: { params: unknown }) => `/keys/${encodeURIComponent((req.params as { key: string }).key)}`;

  app.get('/keys', async (req) => {
    await ctx.auth.client(req, 'keys.get', null);
    const qs = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    return firstAnswer(cluster, { method: 'GET', path: `/keys${qs}` });
  });

  app.get('/keys/:key', async (req) => {
    await ctx.auth.client(req, 'keys.get', null);
    return firstAnswer(cluster, { method: 'GET', path: path(req) });
  });

  /** Created on every node with the same uid; if any node refuses, the others are rolled back. */
  app.post('/keys', async (req, reply) => {
    await ctx.auth.client(req, 'keys.create', null);
    const body = jsonBody(req);
    const withUid = typeof body === 'object' && body !== null && !Array.isArray(body) && !('uid' in body) ? { ...body, uid: randomUUID() } : body;
    const results = await callEach(cluster, [...cluster.nodes.keys()], { method: 'POST', path: '/keys', body: withUid });
    const failed = results.find((r) => r.ok === undefined);
    if (failed) {
      const uid = (withUid as { uid?: unknown })?.uid;
      if (typeof uid === 'string') {
        const created = results.filter((r) => r.ok).map((r) => r.nodeId);
        await callEach(cluster, created, { method: 'DELETE', path: `/keys/${encodeURIComponent(uid)}` });
      }
      throw failed.error;
    }
    keys.invalidate();
    return reply.code(201).send(results[0]!.ok!.body);
  });

  app.patch('/keys/:key', async (req) => {
    await ctx.auth.client(req, 'keys.update', null);
    const answers = await broadcast(cluster, { method: 'PATCH', path: path(req), body: jsonBody(req) });
    keys.invalidate();
    return answers[0]!.body;
  });

  app.delete('/keys/:key', async (req, reply) => {
    await ctx.auth.client(req, 'keys.delete', null);
    await broadcast(cluster, { method: 'DELETE', path: path(req) });
    keys.invalidate();
    return reply.code(204).send();
  });
}
