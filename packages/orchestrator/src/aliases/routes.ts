/**
 * Aliases on the wire (spec S13.7, docs/aliases.md): the admin API `/_miroir/aliases`, and the
 * resolution of an alias wherever a client names an index: the `{uid}` of `/indexes/{uid}/…`
 * routes (resolved once per request, before its handler: the request keeps the uid it resolved
 * to), and the `indexUids` filter of the task and batch routes. `/multi-search` resolves the
 * `indexUid` of its queries itself (api/search.ts, {@link aliasedQueries}).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { miroirError } from '../errors.js';
import type { AppContext } from '../api/context.js';
import { noteAlias } from '../api/auth.js';
import { jsonBody } from '../api/http.js';
import { aliasNotFound, type AliasRow } from './registry.js';

const target = z.string();
const createBody = z.union([
  z.strictObject({ name: z.string(), target }),
  z.strictObject({ name: z.string(), targets: z.array(target).min(1) }),
]);
const flipBody = z.union([z.strictObject({ target }), z.strictObject({ targets: z.array(target).min(1) })]);

function parse<T>(req: FastifyRequest, schema: z.ZodType<T>): T {
  const r = schema.safeParse(jsonBody(req));
  if (!r.success) {
    throw miroirError('miroir_invalid_alias', 'The body must be `{"name": …, "target": "<index uid>"}` or `{"name": …, "targets": ["<index uid>", …]}` (`PUT`: without `name`).');
  }
  return r.data;
}

const targetsOf = (b: { target: string } | { targets: string[] }): { targets: string[]; kind: AliasRow['kind'] } =>
  'target' in b ? { targets: [b.target], kind: 'single' } : { targets: [...new Set(b.targets)], kind: 'multi' };

/** How an alias is shown: its target (single) or targets (multi), version, creation time; with `history` on request. */
export function aliasView(row: AliasRow, history: boolean): Record<string, unknown> {
  return {
    name: row.name,
    kind: row.kind,
    ...(row.kind === 'single' ? { target: row.currentUid } : { targets: row.targetUids }),
    version: row.version,
    createdAt: row.createdAt,
    ...(history ? { history: row.history } : {}),
  };
}

/** Routes whose `{uid}` is resolved as an index, never as an alias: the index itself is changed. */
const INDEX_ITSELF = new Set(['DELETE /indexes/:uid', 'PATCH /indexes/:uid']);
/** Reads a multi alias serves (through the federated merge). */
const MULTI_READS = new Set(['GET /indexes/:uid/search', 'POST /indexes/:uid/search']);
/** Client routes that read with a POST (the others are writes). */
const READ_POSTS = new Set(['/indexes/:uid/search', '/indexes/:uid/explain', '/indexes/:uid/facet-search', '/indexes/:uid/similar', '/indexes/:uid/documents/fetch', '/indexes/:uid/fields']);
/** Routes with an `indexUids` filter. */
const TASK_FILTERS = new Set(['GET /tasks', 'GET /batches', 'POST /tasks/cancel', 'DELETE /tasks']);

/** The targets of the multi alias a request named, for the routes that serve one. */
const multiTargets = new WeakMap<FastifyRequest, AliasRow>();

/** The single alias a request named for its `{uid}`, if any (explain shows the resolution). */
const singleAliases = new WeakMap<FastifyRequest, AliasRow>();

export function singleAliasOf(req: FastifyRequest): AliasRow | undefined {
  return singleAliases.get(req);
}

/** The multi alias a search request named (the search route merges its indexes), if any. */
export function multiAliasOf(req: FastifyRequest): AliasRow | undefined {
  return multiTargets.get(req);
}

export function registerAliasRoutes(app: FastifyInstance, ctx: AppContext): void {
  const aliases = ctx.aliases;
  if (!aliases.enabled) return;
  const guard = { onRequest: async (req: FastifyRequest) => ctx.auth.admin(req) };

  app.get('/_miroir/aliases', guard, async () => ({ results: aliases.list().map((r) => aliasView(r, false)) }));

  app.get('/_miroir/aliases/:name', guard, async (req) => aliasView(await aliases.get((req.params as { name: string }).name), true));

  app.post('/_miroir/aliases', guard, async (req, reply) => {
    const body = parse(req, createBody);
    const { targets, kind } = targetsOf(body);
    const row = (await aliases.create(body.name, targets, kind))!;
    return reply.code(201).send(aliasView(row, true));
  });

  app.put('/_miroir/aliases/:name', guard, async (req) => {
    const { targets, kind } = targetsOf(parse(req, flipBody));
    return aliasView((await aliases.flip((req.params as { name: string }).name, targets, kind))!, true);
  });

  app.delete('/_miroir/aliases/:name', guard, async (req, reply) => {
    await aliases.delete((req.params as { name: string }).name);
    return reply.code(204).send();
  });

  app.addHook('onRequest', async (req) => {
    const url = req.routeOptions.url;
    if (url === undefined) return;
    if (url.startsWith('/indexes/:uid')) return resolveUid(req, url);
    if (TASK_FILTERS.has(`${req.method} ${url}`)) resolveTaskFilter(req);
  });

  function resolveUid(req: FastifyRequest, url: string): void {
    const params = req.params as { uid: string };
    const row = aliases.resolve(params.uid);
    if (row === undefined) return;
    const route = `${req.method} ${url}`;
    if (INDEX_ITSELF.has(route)) {
      throw miroirError(
        'miroir_alias_name_conflict',
        `\`${row.name}\` is an alias (of ${row.targetUids.map((t) => `\`${t}\``).join(', ')}): name the index itself, or change the alias through /_miroir/aliases/${row.name}.`,
      );
    }
    if (row.kind === 'single') {
      noteAlias(req, row.name, row.currentUid!);
      singleAliases.set(req, row);
      params.uid = row.currentUid!;
      return;
    }
    if (MULTI_READS.has(route)) return void multiTargets.set(req, row);
    if (req.method !== 'GET' && !READ_POSTS.has(url)) {
      throw miroirError('miroir_multi_alias_not_writable', `\`${row.name}\` is an alias of several indexes (${row.targetUids.join(', ')}): write to one of them by its uid.`);
    }
    throw miroirError('miroir_not_supported', `\`${row.name}\` is an alias of several indexes: Miroir serves only its search; name one of its indexes (${row.targetUids.join(', ')}) here.`);
  }

  /** `indexUids=a,b`: an alias stands for its targets. */
  function resolveTaskFilter(req: FastifyRequest): void {
    const query = req.query as Record<string, unknown>;
    const raw = query.indexUids;
    if (typeof raw !== 'string' || raw === '') return;
    const names = raw.split(',');
    if (!names.some((n) => aliases.has(n.trim()))) return;
    query.indexUids = [...new Set(names.flatMap((n) => aliases.resolve(n.trim())?.targetUids ?? [n]))].join(',');
  }
}

/**
 * The queries of a `/multi-search` with aliases resolved: a single alias names its index; a multi
 * alias, in a federated search, becomes one query per index (with the query's federation options);
 * in a plain multi-search it is refused (one result per query cannot hold several indexes).
 */
export function aliasedQueries<Q extends { indexUid: string }>(ctx: AppContext, req: FastifyRequest, queries: Q[], federated: boolean): Q[] {
  if (!ctx.aliases.enabled || !queries.some((q) => ctx.aliases.has(q.indexUid))) return queries;
  return queries.flatMap((q) => {
    const row = ctx.aliases.resolve(q.indexUid);
    if (row === undefined) return [q];
    if (row.kind === 'single') {
      noteAlias(req, row.name, row.currentUid!);
      return [{ ...q, indexUid: row.currentUid! }];
    }
    if (!federated) {
      throw miroirError('miroir_not_supported', `\`${row.name}\` is an alias of several indexes: a plain multi-search query names one index; use a federated multi-search, or search the alias itself.`);
    }
    for (const t of row.targetUids) noteAlias(req, row.name, t);
    return row.targetUids.map((t) => ({ ...q, indexUid: t }));
  });
}

export { aliasNotFound };
