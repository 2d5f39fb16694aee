/**
 * Documents (spec S2.3, S2.4, S3.2): writes routed by primary-key hash to the owners of each shard,
 * deletes by id likewise, deletes by filter broadcast (narrowed to the owners of the shards a primary-key
 * filter pins, spec S13.4) and clears broadcast, reads by id from one owner.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  documentId,
  indexNotFound,
  inferPrimaryKey,
  MeiliError,
  parseDocumentsPayload,
  splitSortParam,
  unknownParameterError,
  jsonOrText,
} from '@miroir/protocol';
import { checkReservedFields, routeDeleteIds, routeDocuments, shardWriteTargets, stripDocument } from '../core/documents.js';
import { assembleDocuments, mergeSortedDocuments, parseSortCriteria, planDocumentReads, wholeIndexHolder } from '../core/documents-list.js';
import type { WriteRouter } from '../core/placement.js';
import { checkReservedFilter } from '../core/reserved-search.js';
import { withoutReservedFilterable } from '../core/reserved-settings.js';
import { andShardFilter } from '../core/search-merge.js';
import { miroirError } from '../errors.js';
import type { AppContext } from './context.js';
import { newMarker } from '../work/handoff.js';
import { NodeHttpError, NodeTransportError, type NodeRequest } from '../nodes/node-client.js';
import { firstAnswer } from './fanout.js';
import type { NodeCall } from '../reads/read-path.js';
import { awaitWrite, gatedCover, hedgeCover, readGate } from './settings-consistency.js';
import { neededShards } from './search.js';
import { jsonBody, jsonObjectBody, rawBody } from './http.js';
import { enc, queryString, uidParam } from './indexes.js';
import { broadcastWrite, localTask, markedWrite, routedWrite } from './writes.js';

type Doc = Record<string, unknown>;

/** Query parameters of a document write, in Meilisearch's order (its error message lists them). */
const WRITE_PARAMS = ['primaryKey', 'csvDelimiter', 'customMetadata', 'skipCreation'];
interface DocsPage {
  results: Doc[];
  offset: number;
  limit: number;
  total: number;
}


/**
 * A GET listing's query parameters as the `POST /documents/fetch` body that asks the same: numbers,
 * booleans and lists decoded, `filter` read as Meilisearch reads it (JSON when it parses). Used
 * once a node has validated the query string itself.
 */
function fetchBodyOfQuery(query: Record<string, string | string[] | undefined>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [k, raw] of Object.entries(query)) {
    const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (v === undefined) continue;
    switch (k) {
      case 'offset':
      case 'limit':
        body[k] = Number(v);
        break;
      case 'retrieveVectors':
      case 'useNetwork':
        body[k] = v === 'true';
        break;
      case 'fields':
      case 'ids':
        body[k] = v.split(',').map((s) => s.trim());
        break;
      case 'sort':
        body[k] = splitSortParam(v);
        break;
      case 'filter':
        body[k] = jsonOrText(v);
        break;
    }
  }
  return body;
}

function queryParam(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

export function registerDocumentRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { cluster, catalog } = ctx;
  const docsPath = (uid: string) => `/indexes/${enc(uid)}/documents`;

  /** POST replaces, PUT updates (top-level merge); both are `documentAdditionOrUpdate` tasks. */
  const write = async (req: FastifyRequest, reply: FastifyReply, method: 'POST' | 'PUT') => {
    const uid = uidParam(req);
    const access = await ctx.auth.client(req, 'documents.add', uid);
    for (const name of Object.keys(req.query as object)) {
      if (!WRITE_PARAMS.includes(name)) throw unknownParameterError(name, WRITE_PARAMS);
    }
    const csvDelimiter = queryParam(req, 'csvDelimiter');
    const skipCreation = queryParam(req, 'skipCreation');
    if (skipCreation !== undefined && !/^(true|false)$/i.test(skipCreation)) {
      throw new MeiliError('invalid_skip_creation', `skipCreation must be either \`true\` or \`false\`. Found: \`${skipCreation}\``);
    }
    const docs = parseDocumentsPayload(rawBody(req) ?? Buffer.alloc(0), req.headers['content-type'], {
      ...(csvDelimiter === undefined ? {} : { csvDelimiter }),
    }) as Doc[];
    const reserved = { antiEntropy: cluster.config.anti_entropy.enabled, ttl: false };
    for (let i = 0; i < docs.length; i++) checkReservedFields(docs[i]!, i, reserved);
    const customMetadata = queryParam(req, 'customMetadata') ?? null;
    const intent = {
      indexUid: uid,
      type: 'documentAdditionOrUpdate' as const,
      details: { receivedDocuments: docs.length, indexedDocuments: null },
      customMetadata,
    };

    // The primary key is resolved here, as one node would at processing time, and then passed to
    // every node explicitly: each node would otherwise infer it from a different first document.
    const info = await catalog.get(uid);
    const known = info?.primaryKey ?? (await cluster.store.getIndexMeta(uid))?.primaryKey ?? null;
    const asked = queryParam(req, 'primaryKey');
    let pk: string;
    const ids: string[] = new Array(docs.length);
    try {
      if (known !== null && asked !== undefined && asked !== known) {
        throw new MeiliError('index_primary_key_already_exists', `Index already has a primary key: \`${known}\`.`);
      }
      if (docs.length === 0) return reply.code(202).send(await localTask(ctx, { ...intent, details: { receivedDocuments: 0, indexedDocuments: 0 } }, null, req));
      pk = known ?? asked ?? inferPrimaryKey(docs[0]!);
      for (let i = 0; i < docs.length; i++) ids[i] = documentId(docs[i]!, pk);
    } catch (e) {
      if (!(e instanceof MeiliError)) throw e;
      // One node would accept the payload and fail the task: so does Miroir, sending nothing.
      return reply.code(202).send(await localTask(ctx, { ...intent, details: { receivedDocuments: docs.length, indexedDocuments: 0 } }, e, req));
    }

    const meta = await catalog.meta(uid, pk);
    // The nodes get JSON whatever the client sent, so `csvDelimiter` stays here.
    // The node tasks carry a marker instead of the client's metadata (which lives in Miroir's task),
    // so a write retried after a timeout can be found in a node's task list (work/handoff.ts).
    const query = `?primaryKey=${enc(pk)}&customMetadata=${enc(newMarker())}${
      skipCreation === undefined ? '' : `&skipCreation=${enc(skipCreation)}`
    }`;
    const updatedAt = reserved.antiEntropy ? { updatedAt: Date.now() } : {};
    const { summary, sent } = await routedWrite(
      ctx,
      reply,
      intent,
      meta.shards,
      (router) => {
        const routed = routeDocuments(docs, ids, router, cluster.hasher, updatedAt);
        const batches = new Map<string, NodeRequest>();
        for (const [nodeId, batch] of routed.batches) {
          batches.set(nodeId, { method, path: `${docsPath(uid)}${query}`, raw: JSON.stringify(batch) });
        }
        return { shards: routed.shards, batches, placed: ids };
      },
      { setupIndex: true, mayCreate: access.allowIndexCreation(uid) },
    );
    if (known === null && sent) await catalog.setPrimaryKey(uid, pk);
    return reply.code(202).send(summary);
  };
  app.post('/indexes/:uid/documents', (req, reply) => write(req, reply, 'POST'));
  app.put('/indexes/:uid/documents', (req, reply) => write(req, reply, 'PUT'));

  /**
   * Deletes by id go to the owners of each id's shard only; a node reads every id as a string
   * (numbers and other values by their JSON text).
   */
  const deleteIds = async (req: FastifyRequest, reply: FastifyReply, uid: string, given: unknown[]) => {
    const ids = given.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    const { customMetadata, query } = markedWrite(req);
    const intent = {
      indexUid: uid,
      type: 'documentDeletion' as const,
      details: { providedIds: given.length, deletedDocuments: null, originalFilter: null },
      customMetadata,
    };
    const meta = (await cluster.store.getIndexMeta(uid)) ?? { shards: cluster.config.shards };
    if (ids.length === 0) {
      return reply.code(202).send(await localTask(ctx, { ...intent, details: { providedIds: 0, deletedDocuments: 0, originalFilter: null } }, null, req));
    }
    const route = (router: WriteRouter) => {
      const routed = routeDeleteIds(ids, ids, router, cluster.hasher);
      const batches = new Map<string, NodeRequest>();
      for (const [nodeId, batch] of routed.batches) {
        batches.set(nodeId, { method: 'POST', path: `${docsPath(uid)}/delete-batch${query}`, raw: JSON.stringify(batch) });
      }
      return { shards: routed.shards, batches };
    };
    return reply.code(202).send((await routedWrite(ctx, reply, intent, meta.shards, route, { setupIndex: false })).summary);
  };

  app.delete('/indexes/:uid/documents/:id', async (req, reply) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'documents.delete', uid);
    return deleteIds(req, reply, uid, [(req.params as { id: string }).id]);
  });

  app.post('/indexes/:uid/documents/delete-batch', async (req, reply) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'documents.delete', uid);
    const body = jsonBody(req);
    if (!Array.isArray(body)) {
      // The node's own validation gives the exact answer for a body that is not a list of ids.
      return firstAnswer(cluster, { method: 'POST', path: `${docsPath(uid)}/delete-batch`, body });
    }
    return deleteIds(req, reply, uid, body);
  });

  /** The error one node fails a delete by `filter` with when the filter names a reserved field, else null. */
  const reservedFilterRefusal = async (uid: string, filter: unknown): Promise<MeiliError | null> => {
    const info = await catalog.get(uid);
    if (info === undefined) return null;
    try {
      checkReservedFilter(filter, withoutReservedFilterable(info.settings.filterableAttributes), uid, 'invalid_document_filter');
      return null;
    } catch (e) {
      if (e instanceof MeiliError) return e;
      throw e;
    }
  };

  /**
   * Every node deletes the matching documents of the shards it holds. A filter that pins primary
   * keys (spec S13.4) goes only to the owners of the shards those keys hash to: no other shard
   * holds a document it matches.
   */
  app.post('/indexes/:uid/documents/delete', async (req, reply) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'documents.delete', uid);
    const body = jsonObjectBody(req);
    const filter = body.filter;
    const details = { providedIds: 0, deletedDocuments: null, originalFilter: filter === undefined ? null : JSON.stringify(filter) };
    const { customMetadata, query } = markedWrite(req);
    // A filter on a reserved field would delete by Miroir's own stamps: one node fails such a task
    // (the field is not filterable there), and so does Miroir, without reaching any node.
    const refused = await reservedFilterRefusal(uid, filter);
    if (refused !== null) {
      const intent = { indexUid: uid, type: 'documentDeletion', details: { ...details, deletedDocuments: 0 }, customMetadata } as const;
      return reply.code(202).send(await localTask(ctx, intent, refused, req));
    }
    const intent = { indexUid: uid, type: 'documentDeletion', details, customMetadata } as const;
    const request: NodeRequest = { method: 'POST', path: `${docsPath(uid)}/delete${query}`, body };
    const info = await catalog.get(uid);
    const needed = info === undefined ? undefined : neededShards(ctx, info, filter);
    if (info !== undefined && needed !== undefined) {
      const route = (router: WriteRouter) => ({ shards: needed, batches: new Map(shardWriteTargets(needed, router).map((id) => [id, request])) });
      return reply.code(202).send((await routedWrite(ctx, reply, intent, info.shards, route, { setupIndex: false })).summary);
    }
    return reply.code(202).send(await broadcastWrite(ctx, reply, intent, [request]));
  });

  app.delete('/indexes/:uid/documents', async (req, reply) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'documents.delete', uid);
    const { customMetadata, query } = markedWrite(req);
    const summary = await broadcastWrite(ctx, reply, { indexUid: uid, type: 'documentDeletion', details: { deletedDocuments: null }, customMetadata }, [
      { method: 'DELETE', path: `${docsPath(uid)}${query}` },
    ]);
    return reply.code(202).send(summary);
  });

  /**
   * Listing (spec S3.2): a `limit=0`-style count per shard (the first one carries the client's own
   * parameters, so a node validates them exactly as it would alone), then reads of only the shards
   * that overlap the window. With `sort`, each node reads the top of its shards and the lists merge.
   */
  const list = async (req: FastifyRequest, source: 'get' | 'post') => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'documents.get', uid);
    const params = source === 'get' ? fetchBodyOfQuery(req.query as Record<string, string | string[] | undefined>) : jsonObjectBody(req);
    const info = await catalog.get(uid);
    if (info === undefined) throw indexNotFound(uid);
    const placement = cluster.placement(info.shards);
    // The same replicas for every page: each lists a shard in its own order (its internal
    // document ids), which another replica of the shard need not share.
    const gate = await readGate(ctx, req, uid);
    // Only the shards a primary-key filter pins (spec S13.4): the others hold nothing it matches.
    const needed = neededShards(ctx, info, params.filter);
    const cover = gatedCover(ctx, placement, uid, gate, needed === undefined ? { stable: true } : { stable: true, shards: needed });
    await awaitWrite(ctx, gate, cover.nodes.keys());
    const ownerOf = new Map<number, string>();
    for (const [nodeId, shards] of cover.nodes) for (const sh of shards) ownerOf.set(sh, nodeId);
    // One node names no index in a listing's filter error (a delete by filter's task error does).
    checkReservedFilter(params.filter, withoutReservedFilterable(info.settings.filterableAttributes), null, 'invalid_document_filter');
    // Every read is a `POST /fetch`: the shard filter makes the request longer than the client's,
    // and a body has no URL length limit.
    const fetchCall = (nodeId: string, shards: number[], override: Record<string, unknown>): NodeCall => ({
      nodeId,
      req: { method: 'POST', path: `${docsPath(uid)}/fetch`, body: { ...params, ...override, filter: andShardFilter(params.filter, shards) } },
    });
    // A read slower than its trigger is asked of another replica that holds the same shards (spec S13.2).
    const budget = ctx.readPath.budget();
    const hedges = ctx.readPath.canHedge(placement);
    const request = async (nodeId: string, shards: number[], override: Record<string, unknown>): Promise<DocsPage> => {
      const hedge = async () => {
        const alt = hedgeCover(ctx, placement, uid, gate, shards, nodeId, true);
        // One page comes from one node: a hedge that needs several is not sent.
        if (alt === undefined || alt.nodes.size !== 1) return undefined;
        const other = [...alt.nodes.keys()][0]!;
        await awaitWrite(ctx, gate, [other]);
        return [fetchCall(other, shards, override)];
      };
      const [page] = await ctx.readPath.hedged<DocsPage>(fetchCall(nodeId, shards, override), budget, hedges ? hedge : undefined);
      return page!;
    };
    // A GET is checked as the GET it is (its query string as it arrived) by one node: its validation
    // is the answer for all.
    const checkedGet = (nodeId: string): Promise<DocsPage> =>
      cluster.node(nodeId).request<DocsPage>({ method: 'GET', path: `${docsPath(uid)}${queryString(req)}` }).then((r) => r.body);
    const shardsInOrder = [...ownerOf.keys()].sort((a, b) => a - b);
    if (shardsInOrder.length === 0) throw miroirError('miroir_shard_unavailable', 'No node can serve this index right now.');
    // A node of the covering set that holds every shard answers alone, in one node's own order.
    const holder = cluster.migrating ? undefined : wholeIndexHolder(placement, placement.groupIndex(cover.groupId), cover.nodes.keys());
    if (holder !== undefined && (params.sort === undefined || params.sort === null)) {
      // It holds exactly the index (no migration, so no stray copies): its own answer is the page.
      const page = source === 'get' ? await checkedGet(holder) : await request(holder, shardsInOrder, {});
      return { ...page, results: page.results.map((d) => stripDocument(d)) };
    }
    // The client's own parameters go to one node first: its validation is the answer for all.
    const first = source === 'get' ? await checkedGet(ownerOf.get(shardsInOrder[0]!)!) : await request(ownerOf.get(shardsInOrder[0]!)!, [shardsInOrder[0]!], {});
    const offset = first.offset;
    const limit = first.limit;
    const sort = params.sort;
    if (sort !== undefined && sort !== null) {
      const criteria = parseSortCriteria(sort as string[]);
      const pages = await Promise.all(
        [...cover.nodes].map(([nodeId, shards]) => request(nodeId, shards, { offset: 0, limit: offset + limit })),
      );
      const total = pages.reduce((n, p) => n + p.total, 0);
      return mergeSortedDocuments(pages.map((p) => p.results), criteria, info.primaryKey ?? '', offset, limit, total);
    }
    const totals: (number | undefined)[] = new Array(info.shards);
    if (source === 'post') totals[shardsInOrder[0]!] = first.total;
    await Promise.all(
      shardsInOrder.slice(source === 'post' ? 1 : 0).map(async (sh) => {
        totals[sh] = (await request(ownerOf.get(sh)!, [sh], { offset: 0, limit: 0 })).total;
      }),
    );
    const plan = planDocumentReads(totals, offset, limit);
    const pages = new Map<number, Record<string, unknown>[]>();
    await Promise.all(
      plan.reads.map(async (r) => {
        pages.set(r.shard, (await request(ownerOf.get(r.shard)!, [r.shard], { offset: r.offset, limit: r.limit })).results);
      }),
    );
    return assembleDocuments(plan, pages, offset, limit);
  };
  app.get('/indexes/:uid/documents', (req) => list(req, 'get'));
  app.post('/indexes/:uid/documents/fetch', (req) => list(req, 'post'));

  /**
   * One owner of the id's shard answers, chosen like a search's replica (adaptive, tenant and
   * session groups) and hedged when slow (spec S13.2); the other owners (any group) are tried if it
   * cannot be reached.
   */
  app.get('/indexes/:uid/documents/:id', async (req) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'documents.get', uid);
    const id = (req.params as { id: string }).id;
    const meta = (await cluster.store.getIndexMeta(uid)) ?? { shards: cluster.config.shards };
    const placement = cluster.placement(meta.shards);
    const shard = cluster.hasher.shardOf(id, meta.shards);
    const gate = await readGate(ctx, req, uid);
    const get = (nodeId: string): NodeCall => ({ nodeId, req: { method: 'GET', path: `${docsPath(uid)}/${enc(id)}${queryString(req)}` } });
    let last: unknown;
    const first = [...gatedCover(ctx, placement, uid, gate, { shards: [shard] }).nodes.keys()][0];
    if (first !== undefined) {
      await awaitWrite(ctx, gate, [first]);
      const hedge = ctx.readPath.canHedge(placement)
        ? async () => {
            const alt = [...(hedgeCover(ctx, placement, uid, gate, [shard], first)?.nodes.keys() ?? [])];
            if (alt.length === 0) return undefined;
            await awaitWrite(ctx, gate, alt);
            return alt.map(get);
          }
        : undefined;
      try {
        const [doc] = await ctx.readPath.hedged<Doc>(get(first), ctx.readPath.budget(), hedge);
        return stripDocument(doc!);
      } catch (e) {
        if (!(e instanceof NodeTransportError)) throw e;
        last = e;
      }
    }
    // The first choice could not be reached: every other owner in turn, healthy ones first.
    const owners: string[] = [];
    for (let gi = 0; gi < placement.groupCount; gi++) owners.push(...placement.owners(gi, shard));
    const rest = owners.filter((o) => o !== first);
    const order = [...rest.filter((o) => cluster.health.isHealthy(o)), ...rest.filter((o) => !cluster.health.isHealthy(o))];
    for (const nodeId of order.length > 0 || first !== undefined ? order : [...cluster.nodes.keys()]) {
      try {
        await awaitWrite(ctx, gate, [nodeId]);
        return stripDocument(await ctx.readPath.call<Doc>(get(nodeId)));
      } catch (e) {
        if (!(e instanceof NodeTransportError)) throw e;
        last = e;
      }
    }
    throw last;
  });
}
