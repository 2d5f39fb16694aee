/**
 * `/indexes/{uid}/documents…`: additions (replace/update), reads (list, fetch, one), deletions
 * (one, batch, by filter, all).
 *
 * @see https://www.meilisearch.com/docs/reference/api/documents/add-or-replace-documents
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  invalidTypeError,
  isUnsignedInteger,
  MeiliError,
  missingFieldError,
  unknownFieldError,
  jsonOrText,
} from '@miroir/protocol';
import type { EngineContext } from '../context.js';
import { projectDocument } from '../documents-view.js';
import { checkFilterFeatures } from '../features.js';
import {
  boolParam,
  checkIndexUid,
  intParam,
  jsonBody,
  listParam,
  objectBody,
  param,
  rawBody,
  rejectUnknownParams,
} from '../http.js';
import type { QueryParams } from '../http.js';
import type { Document } from '../ports.js';
import type { DeletionPayload, DocumentsPayload } from '../processor.js';
import type { EngineIndex } from '../registry.js';

type UidParams = { indexUid: string };
type DocParams = { indexUid: string; documentId: string };

/** Parameters of a document listing, validated. */
interface BrowseQuery {
  offset: number;
  limit: number;
  fields: string[] | null;
  retrieveVectors: boolean;
  ids: string[] | null;
  filter: unknown;
  sort: string[] | null;
}

const BROWSE_FIELDS = ['offset', 'limit', 'fields', 'retrieveVectors', 'ids', 'filter', 'sort', 'useNetwork'];


/** Validates requested ids as Meilisearch does (`In \`.ids[i]\`: …`, `invalid_document_ids`). */
function checkIds(ids: unknown[], validate: (v: unknown) => string): string[] {
  return ids.map((id, i) => {
    try {
      return validate(id);
    } catch (err) {
      if (err instanceof MeiliError) throw new MeiliError('invalid_document_ids', `In \`.ids[${i}]\`: ${err.message}`);
      throw err;
    }
  });
}

function browseFromQuery(q: QueryParams, validateId: (v: unknown) => string): BrowseQuery {
  rejectUnknownParams(q, BROWSE_FIELDS);
  const f = param(q, 'filter');
  const fields = listParam(q, 'fields');
  const out: BrowseQuery = {
    offset: intParam(q, 'offset', 'invalid_document_offset', 0),
    limit: intParam(q, 'limit', 'invalid_document_limit', 20),
    fields: fields ?? null,
    retrieveVectors: boolParam(q, 'retrieveVectors', 'invalid_document_retrieve_vectors', false),
    ids: null,
    filter: f === undefined ? null : jsonOrText(f),
    sort: listParam(q, 'sort') ?? null,
  };
  const ids = listParam(q, 'ids');
  if (ids !== undefined) out.ids = checkIds(ids, validateId);
  // `useNetwork` only matters on a sharded Meilisearch network; a lone node answers locally.
  boolParam(q, 'useNetwork', 'invalid_document_use_network', false);
  return out;
}

function stringList(v: unknown, code: string, path: string): string[] {
  if (!Array.isArray(v)) throw invalidTypeError(code, path, 'an array', v);
  return v.map((x, i) => {
    if (typeof x !== 'string') throw invalidTypeError(code, `${path}[${i}]`, 'a string', x);
    return x;
  });
}

function browseFromBody(body: Record<string, unknown>, validateId: (v: unknown) => string): BrowseQuery {
  for (const k of Object.keys(body)) if (!BROWSE_FIELDS.includes(k)) throw unknownFieldError('bad_request', '', k, BROWSE_FIELDS);
  const out: BrowseQuery = { offset: 0, limit: 20, fields: null, retrieveVectors: false, ids: null, filter: null, sort: null };
  if (body.offset !== undefined) {
    if (!isUnsignedInteger(body.offset)) throw invalidTypeError('invalid_document_offset', '.offset', 'a positive integer', body.offset);
    out.offset = body.offset;
  }
  if (body.limit !== undefined) {
    if (!isUnsignedInteger(body.limit)) throw invalidTypeError('invalid_document_limit', '.limit', 'a positive integer', body.limit);
    out.limit = body.limit;
  }
  if (body.fields !== undefined && body.fields !== null) out.fields = stringList(body.fields, 'invalid_document_fields', '.fields');
  if (body.retrieveVectors !== undefined) {
    if (typeof body.retrieveVectors !== 'boolean') {
      throw invalidTypeError('invalid_document_retrieve_vectors', '.retrieveVectors', 'a boolean', body.retrieveVectors);
    }
    out.retrieveVectors = body.retrieveVectors;
  }
  if (body.ids !== undefined && body.ids !== null) {
    if (!Array.isArray(body.ids)) throw invalidTypeError('invalid_document_ids', '.ids', 'an array', body.ids);
    out.ids = checkIds(body.ids, validateId);
  }
  if (body.filter !== undefined) out.filter = body.filter;
  if (body.sort !== undefined && body.sort !== null) out.sort = stringList(body.sort, 'invalid_document_sort', '.sort');
  if (body.useNetwork !== undefined && body.useNetwork !== null && typeof body.useNetwork !== 'boolean') {
    throw invalidTypeError('invalid_document_use_network', '.useNetwork', 'a boolean', body.useNetwork);
  }
  return out;
}

/** Runs a listing against one index. */
function browse(ctx: EngineContext, idx: EngineIndex, q: BrowseQuery): { results: Document[]; offset: number; limit: number; total: number } {
  let iids: number[] | null = null;
  if (q.ids !== null) {
    const set = new Set<number>();
    for (const id of q.ids) {
      const iid = idx.ids.get(id);
      if (iid !== undefined) set.add(iid);
    }
    iids = [...set].sort((a, b) => a - b);
  }
  checkFilterFeatures(ctx, q.filter);
  if (q.filter !== null && q.filter !== undefined && ctx.checkFilter(q.filter, 'invalid_document_filter')) {
    const matched = idx.search.filter(q.filter, 'invalid_document_filter', null);
    if (iids === null) iids = matched;
    else {
      const m = new Set(matched);
      iids = iids.filter((i) => m.has(i));
    }
  }
  if (q.sort !== null && q.sort.length > 0) {
    if (iids === null) iids = [...idx.ids.values()].sort((a, b) => a - b);
    iids = idx.search.sort(iids, q.sort, 'invalid_document_sort');
  }
  const view = (doc: Document): Document => projectDocument(doc, idx.settings.displayedAttributes, q.fields, q.retrieveVectors, Object.keys(idx.settings.embedders));
  if (iids === null) {
    const rows = ctx.store.documentPage(idx.id, q.offset, q.limit);
    return {
      results: rows.map((r) => view(JSON.parse(r.body) as Document)),
      offset: q.offset,
      limit: q.limit,
      total: idx.numberOfDocuments,
    };
  }
  const page = iids.slice(q.offset, q.offset + q.limit);
  const results: Document[] = [];
  for (const iid of page) {
    const d = idx.document(iid);
    if (d !== undefined) results.push(view(d));
  }
  return { results, offset: q.offset, limit: q.limit, total: iids.length };
}

/** serde's name for a JSON value kind, as in its "invalid type" messages. */
function serdeUnexpected(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return `boolean \`${v}\``;
  if (typeof v === 'number') return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  return Array.isArray(v) ? 'sequence' : 'map';
}

/** `skipCreation`: `true`/`false` in any letter case. */
function skipCreationParam(q: QueryParams): boolean {
  const v = param(q, 'skipCreation');
  if (v === undefined) return false;
  if (v.toLowerCase() === 'true') return true;
  if (v.toLowerCase() === 'false') return false;
  throw new MeiliError('invalid_skip_creation', `skipCreation must be either \`true\` or \`false\`. Found: \`${v}\``);
}

export function registerDocumentRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const { registry, queue, codec } = ctx;

  const addDocuments = (method: 'replace' | 'update') =>
    async function handler(req: FastifyRequest<{ Params: UidParams }>, reply: FastifyReply) {
      const uid = checkIndexUid(req.params.indexUid);
      const q = req.query as QueryParams;
      rejectUnknownParams(q, ['primaryKey', 'csvDelimiter', 'customMetadata', 'skipCreation']);
      const primaryKey = param(q, 'primaryKey');
      const csvDelimiter = param(q, 'csvDelimiter');
      const customMetadata = param(q, 'customMetadata');
      const skipCreation = skipCreationParam(q);
      const docs = codec.parseDocumentsPayload(rawBody(req) ?? Buffer.alloc(0), req.headers['content-type'], {
        ...(csvDelimiter === undefined ? {} : { csvDelimiter }),
      });
      const payload: DocumentsPayload = {
        method,
        ...(primaryKey === undefined ? {} : { primaryKey }),
        ...(skipCreation ? { skipCreation } : {}),
        documents: docs,
      };
      if (req.authCtx !== null && !req.authCtx.allowIndexCreation(uid)) payload.allowIndexCreation = false;
      const summary = queue.enqueue({
        type: 'documentAdditionOrUpdate',
        indexUid: uid,
        details: { receivedDocuments: docs.length, indexedDocuments: null },
        payload: JSON.stringify(payload),
        ...(customMetadata === undefined ? {} : { customMetadata }),
      });
      return reply.status(202).send(summary);
    };

  const addConfig = { config: { action: 'documents.add' } };
  app.post<{ Params: UidParams }>('/indexes/:indexUid/documents', addConfig, addDocuments('replace'));
  app.put<{ Params: UidParams }>('/indexes/:indexUid/documents', addConfig, addDocuments('update'));

  app.get<{ Params: UidParams }>('/indexes/:indexUid/documents', { config: { action: 'documents.get' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    const q = browseFromQuery(req.query as QueryParams, codec.validateDocumentIdValue);
    return browse(ctx, registry.require(uid), q);
  });

  app.post<{ Params: UidParams }>('/indexes/:indexUid/documents/fetch', { config: { action: 'documents.get' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    const q = browseFromBody(objectBody(req), codec.validateDocumentIdValue);
    return browse(ctx, registry.require(uid), q);
  });

  app.get<{ Params: DocParams }>('/indexes/:indexUid/documents/:documentId', { config: { action: 'documents.get' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    const q = req.query as QueryParams;
    rejectUnknownParams(q, ['fields', 'retrieveVectors', 'useNetwork']);
    const fields = listParam(q, 'fields') ?? null;
    const retrieveVectors = boolParam(q, 'retrieveVectors', 'invalid_document_retrieve_vectors', false);
    boolParam(q, 'useNetwork', 'invalid_document_use_network', false);
    const idx = registry.require(uid);
    const id = req.params.documentId;
    const iid = idx.ids.get(id);
    const doc = iid === undefined ? undefined : idx.document(iid);
    if (doc === undefined) throw new MeiliError('document_not_found', `Document \`${id}\` not found.`);
    return projectDocument(doc, idx.settings.displayedAttributes, fields, retrieveVectors, Object.keys(idx.settings.embedders));
  });

  const enqueueDeletion = (uid: string, details: Record<string, unknown>, payload: DeletionPayload, q: QueryParams) => {
    const customMetadata = param(q, 'customMetadata');
    return queue.enqueue({
      type: 'documentDeletion',
      indexUid: uid,
      details,
      payload: JSON.stringify(payload),
      ...(customMetadata === undefined ? {} : { customMetadata }),
    });
  };

  app.delete<{ Params: DocParams }>('/indexes/:indexUid/documents/:documentId', { config: { action: 'documents.delete' } }, async (req, reply) => {
    const uid = checkIndexUid(req.params.indexUid);
    const q = req.query as QueryParams;
    rejectUnknownParams(q, ['customMetadata']);
    const details = { providedIds: 1, deletedDocuments: null, originalFilter: null };
    return reply.status(202).send(enqueueDeletion(uid, details, { kind: 'ids', ids: [req.params.documentId] }, q));
  });

  app.post<{ Params: UidParams }>('/indexes/:indexUid/documents/delete-batch', { config: { action: 'documents.delete' } }, async (req, reply) => {
    const uid = checkIndexUid(req.params.indexUid);
    const q = req.query as QueryParams;
    rejectUnknownParams(q, ['customMetadata']);
    const body = jsonBody(req);
    if (!Array.isArray(body)) {
      throw new MeiliError('bad_request', `Json deserialize error: invalid type: ${serdeUnexpected(body)}, expected a sequence`);
    }
    // Meilisearch stringifies every value it is given: strings as they are, others as JSON.
    const ids = body.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    const details = { providedIds: ids.length, deletedDocuments: null, originalFilter: null };
    return reply.status(202).send(enqueueDeletion(uid, details, { kind: 'ids', ids }, q));
  });

  app.post<{ Params: UidParams }>('/indexes/:indexUid/documents/delete', { config: { action: 'documents.delete' } }, async (req, reply) => {
    const uid = checkIndexUid(req.params.indexUid);
    const q = req.query as QueryParams;
    rejectUnknownParams(q, ['customMetadata']);
    const body = objectBody(req);
    for (const k of Object.keys(body)) if (k !== 'filter') throw unknownFieldError('bad_request', '', k, ['filter']);
    if (!('filter' in body)) throw missingFieldError('missing_document_filter', '', 'filter');
    const filter = body.filter;
    if (!ctx.checkFilter(filter, 'invalid_document_filter')) {
      throw new MeiliError('invalid_document_filter', 'Sending an empty filter is forbidden.');
    }
    checkFilterFeatures(ctx, filter);
    const details = { providedIds: 0, deletedDocuments: null, originalFilter: JSON.stringify(filter) };
    return reply.status(202).send(enqueueDeletion(uid, details, { kind: 'filter', filter }, q));
  });

  app.delete<{ Params: UidParams }>('/indexes/:indexUid/documents', { config: { action: 'documents.delete' } }, async (req, reply) => {
    const uid = checkIndexUid(req.params.indexUid);
    const q = req.query as QueryParams;
    rejectUnknownParams(q, ['customMetadata']);
    return reply.status(202).send(enqueueDeletion(uid, { deletedDocuments: null }, { kind: 'all' }, q));
  });
}
