/**
 * API keys through Miroir: `/keys` CRUD is broadcast so every node holds every key with the same
 * uid (hence the same value, derived from uid and the node master key). Miroir never stores key
 * values: {@link KeyCache} holds what the nodes list (`GET /keys`) for the shared authorization
 * decision of `@miroir/protocol`, which then answers as one node would.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { deriveKey, parseRfc3339Nanos } from '@miroir/protocol';
import type { KeyGrant, KeyLookup } from '@miroir/protocol';
import type { Cluster } from '../cluster.js';
import type { AppContext } from '../main.js';
import type { KeySource } from './auth.js';
import { broadcast, callEach, firstAnswer } from './fanout.js';
import { jsonBody } from './http.js';

/** A key as a node lists it. */
interface NodeKey {
  uid: string;
  key: string;
  actions: string[];
  indexes: string[];
  expiresAt: string | null;
}

const PAGE = 1000;

/** Microseconds since the epoch of a node's `expiresAt` (RFC 3339, any offset). */
function expiryMicros(text: string): number {
  const ns = parseRfc3339Nanos(text);
  if (ns !== undefined) return Number(ns / 1000n);
  const ms = Date.parse(text);
  // A date no parser reads: the key is treated as expired rather than as never expiring.
  return Number.isNaN(ms) ? 0 : ms * 1000;
}

/** The node keys, read from one node (every node holds the same keys) and kept for a while. */
export class KeyCache implements KeySource {
  readonly #cluster: Cluster;
  readonly #nodeMasterKey: string;
  #bySecret = new Map<string, KeyGrant>();
  #byUid = new Map<string, KeyGrant>();
  #secretByUid = new Map<string, string>();
  #loadedAt = 0;
  /** Bumped by every key change made through Miroir: a listing begun before it is stale. */
  #generation = 0;
  #loading: { generation: number; done: Promise<void> } | undefined;
  readonly #lookup: KeyLookup = {
    byUid: (uid) => this.#byUid.get(uid),
    bySecret: (secret) => this.#bySecret.get(secret),
    // Meilisearch derives the signing secret of any uid, listed or not; Miroir can too when it
    // knows the node master key.
    secretOf: (uid) => this.#secretByUid.get(uid) ?? (this.#nodeMasterKey === '' ? undefined : deriveKey(this.#nodeMasterKey, uid)),
  };

  constructor(cluster: Cluster) {
    this.#cluster = cluster;
    this.#nodeMasterKey = cluster.config.node_master_key;
  }

  /** After a key change made here: forgets the keys in this process and tells the other orchestrators. */
  async changed(): Promise<void> {
    this.invalidate();
    await this.#cluster.store.publish({ kind: 'keys_changed' });
  }

  /** Forgets the age of the cache: the next credential check re-reads the keys. */
  invalidate(): void {
    this.#generation++;
    this.#loadedAt = 0;
  }

  current(): KeyLookup {
    return this.#lookup;
  }

  async refreshIfOlder(maxAgeMs: number): Promise<boolean> {
    if (Date.now() - this.#loadedAt < maxAgeMs) return false;
    if (this.#loading === undefined || this.#loading.generation !== this.#generation) {
      const loading = { generation: this.#generation, done: this.#load(this.#generation) };
      this.#loading = loading;
      void loading.done.finally(() => {
        if (this.#loading === loading) this.#loading = undefined;
      }).catch(() => {});
    }
    await this.#loading.done;
    return true;
  }

  async #load(generation: number): Promise<void> {
    const keys: NodeKey[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await firstAnswer<{ results: NodeKey[]; total: number }>(this.#cluster, {
        method: 'GET',
        path: `/keys?offset=${offset}&limit=${PAGE}`,
      });
      keys.push(...page.results);
      if (offset + PAGE >= page.total) break;
    }
    if (generation !== this.#generation) return;
    const grants = keys.map((k) => ({
      secret: k.key,
      grant: { uid: k.uid, actions: k.actions, indexes: k.indexes, expiresAt: k.expiresAt === null ? null : expiryMicros(k.expiresAt) },
    }));
    this.#bySecret = new Map(grants.map((g) => [g.secret, g.grant]));
    this.#byUid = new Map(grants.map((g) => [g.grant.uid, g.grant]));
    this.#secretByUid = new Map(grants.map((g) => [g.grant.uid, g.secret]));
    this.#loadedAt = Date.now();
  }
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
    await keys.changed();
    return reply.code(201).send(results[0]!.ok!.body);
  });

  app.patch('/keys/:key', async (req) => {
    await ctx.auth.client(req, 'keys.update', null);
    const answers = await broadcast(cluster, { method: 'PATCH', path: path(req), body: jsonBody(req) });
    await keys.changed();
    return answers[0]!.body;
  });

  app.delete('/keys/:key', async (req, reply) => {
    await ctx.auth.client(req, 'keys.delete', null);
    await broadcast(cluster, { method: 'DELETE', path: path(req) });
    await keys.changed();
    return reply.code(204).send();
  });
}
