/**
 * `/indexes`, `/indexes/{uid}`, `/swap-indexes`, `/indexes/{uid}/stats`, `/stats`.
 *
 * @see https://www.meilisearch.com/docs/reference/api/indexes/list-all-indexes
 */
import { statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import {
  invalidTypeError,
  invalidValueError,
  formatSize,
  isJsonObject,
  MeiliError,
  missingFieldError,
  parseStatsParams,
  unknownFieldError,
} from '@miroir/protocol';
import type { StatsParams } from '@miroir/protocol';
import type { EngineContext } from '../context.js';
import {
  checkIndexUid,
  intParam,
  invalidIndexUidText,
  isValidIndexUid,
  jsonBody,
  rejectUnknownParams,
} from '../http.js';
import type { QueryParams } from '../http.js';
import type { IndexPayload, SwapEntry } from '../processor.js';
import type { EngineIndex } from '../registry.js';
import { compareUids } from '../registry.js';

type UidParams = { indexUid: string };

function readUid(v: unknown, path: string): string {
  if (typeof v !== 'string') throw invalidTypeError('invalid_index_uid', path, 'a string', v);
  if (!isValidIndexUid(v)) throw invalidValueError('invalid_index_uid', path, invalidIndexUidText(v));
  return v;
}

function readPrimaryKey(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw invalidTypeError('invalid_index_primary_key', '.primaryKey', 'a string', v);
  return v;
}

/**
 * The statistics object of one index. `internalDatabaseSizes` (asked for) names the engine's
 * own stores: Meilisearch documents that the names are per-implementation and per-version.
 */
export function indexStats(ctx: EngineContext, idx: EngineIndex, params: StatsParams = { showInternalDatabaseSizes: false, sizeFormat: 'raw' }): Record<string, unknown> {
  const n = idx.numberOfDocuments;
  const fieldDistribution: Record<string, number> = {};
  for (const k of [...idx.fieldDistribution.keys()].sort(compareUids)) fieldDistribution[k] = idx.fieldDistribution.get(k)!;
  const size = (bytes: number) => formatSize(bytes, params.sizeFormat);
  return {
    numberOfDocuments: n,
    rawDocumentDbSize: size(idx.rawDocumentSize),
    avgDocumentSize: size(n === 0 ? 0 : Math.floor(idx.rawDocumentSize / n)),
    isIndexing: ctx.processor.current === idx.uid,
    ...(params.showInternalDatabaseSizes ? { internalDatabaseSizes: { documents: size(idx.rawDocumentSize) } } : {}),
    numberOfEmbeddings: 0,
    numberOfEmbeddedDocuments: 0,
    fieldDistribution,
  };
}

/** Microseconds since the epoch of an RFC 3339 UTC date (fractions of any length). */
function rfc3339Micros(date: string): number {
  const m = /^(.*?:\d{2})(?:\.(\d+))?Z$/.exec(date);
  if (m === null) return Date.parse(date) * 1000;
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? '').padEnd(6, '0').slice(0, 6));
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function parseSwaps(body: unknown): SwapEntry[] {
  if (!Array.isArray(body)) throw invalidTypeError('bad_request', '', 'an array', body);
  const swaps = body.map((entry, i): SwapEntry => {
    const at = `[${i}]`;
    if (!isJsonObject(entry)) throw invalidTypeError('bad_request', at, 'an object', entry);
    for (const k of Object.keys(entry)) {
      if (k !== 'indexes' && k !== 'rename') throw unknownFieldError('bad_request', at, k, ['indexes', 'rename']);
    }
    if (entry.indexes === undefined) throw missingFieldError('missing_swap_indexes', at, 'indexes');
    if (!Array.isArray(entry.indexes)) throw invalidTypeError('invalid_swap_indexes', `${at}.indexes`, 'an array', entry.indexes);
    const uids = entry.indexes.map((u, j) => {
      const p = `${at}.indexes[${j}]`;
      if (typeof u !== 'string') throw invalidTypeError('invalid_swap_indexes', p, 'a string', u);
      if (!isValidIndexUid(u)) throw invalidValueError('invalid_index_uid', p, invalidIndexUidText(u));
      return u;
    });
    let rename = false;
    if (entry.rename !== undefined) {
      if (typeof entry.rename !== 'boolean') throw invalidTypeError('invalid_swap_rename', `${at}.rename`, 'a boolean', entry.rename);
      rename = entry.rename;
    }
    if (uids.length !== 2) {
      throw new MeiliError(
        'invalid_swap_indexes',
        `Two indexes must be given for each swap. The list \`[${uids.map((u) => `"${u}"`).join(', ')}]\` contains ${uids.length} indexes.`,
      );
    }
    return { indexes: [uids[0], uids[1]], rename };
  });
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const s of swaps) {
    for (const u of s.indexes) {
      if (seen.has(u) && !dup.includes(u)) dup.push(u);
      seen.add(u);
    }
  }
  if (dup.length === 1) {
    throw new MeiliError(
      'invalid_swap_duplicate_index_found',
      `Indexes must be declared only once during a swap. \`${dup[0]}\` was specified several times.`,
    );
  }
  if (dup.length > 1) {
    throw new MeiliError(
      'invalid_swap_duplicate_index_found',
      `Indexes must be declared only once during a swap. \`${dup.join('`, `')}\` were specified several times.`,
    );
  }
  return swaps;
}

export function registerIndexRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const { registry, queue } = ctx;

  app.get('/indexes', { config: { action: 'indexes.get' } }, async (req) => {
    const q = req.query as QueryParams;
    rejectUnknownParams(q, ['offset', 'limit']);
    const offset = intParam(q, 'offset', 'invalid_index_offset', 0);
    const limit = intParam(q, 'limit', 'invalid_index_limit', 20);
    const visible = registry.list().filter((i) => req.authCtx === null || req.authCtx.allowsIndex(i.uid));
    return {
      results: visible.slice(offset, offset + limit).map((i) => i.view()),
      offset,
      limit,
      total: visible.length,
    };
  });

  app.post('/indexes', { config: { action: 'indexes.create' } }, async (req, reply) => {
    const body = jsonBody(req);
    if (!isJsonObject(body)) throw invalidTypeError('bad_request', '', 'an object', body);
    for (const k of Object.keys(body)) {
      if (k !== 'uid' && k !== 'primaryKey') throw unknownFieldError('bad_request', '', k, ['uid', 'primaryKey']);
    }
    if (body.uid === undefined) throw missingFieldError('missing_index_uid', '', 'uid');
    const uid = readUid(body.uid, '.uid');
    const primaryKey = readPrimaryKey(body.primaryKey);
    // The uid is in the body: the key must cover it (and hold `indexes.create`).
    if (req.authCtx !== null && !req.authCtx.allowIndexCreation(uid)) {
      throw new MeiliError('invalid_api_key', 'The provided API key is invalid.');
    }
    const payload: IndexPayload = { primaryKey };
    const summary = queue.enqueue({ type: 'indexCreation', indexUid: uid, details: { primaryKey }, payload: JSON.stringify(payload) });
    return reply.status(202).send(summary);
  });

  app.get<{ Params: UidParams }>('/indexes/:indexUid', { config: { action: 'indexes.get' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    return registry.require(uid).view();
  });

  app.patch<{ Params: UidParams }>('/indexes/:indexUid', { config: { action: 'indexes.update' } }, async (req, reply) => {
    const uid = checkIndexUid(req.params.indexUid);
    const body = jsonBody(req);
    if (!isJsonObject(body)) throw invalidTypeError('bad_request', '', 'an object', body);
    for (const k of Object.keys(body)) {
      if (k !== 'primaryKey' && k !== 'uid') throw unknownFieldError('bad_request', '', k, ['primaryKey', 'uid']);
    }
    const primaryKey = readPrimaryKey(body.primaryKey);
    const newUid = body.uid === undefined || body.uid === null ? undefined : readUid(body.uid, '.uid');
    if (newUid !== undefined && req.authCtx !== null && !req.authCtx.allowsIndex(newUid)) {
      throw new MeiliError('invalid_api_key', 'The provided API key is invalid.');
    }
    const details: Record<string, unknown> = { primaryKey };
    if (newUid !== undefined) {
      details.oldIndexUid = uid;
      details.newIndexUid = newUid;
    }
    const payload: IndexPayload = { primaryKey, ...(newUid === undefined ? {} : { uid: newUid }) };
    const summary = queue.enqueue({
      type: 'indexUpdate',
      indexUid: uid,
      details,
      payload: JSON.stringify(payload),
      ...(newUid === undefined ? {} : { indexes: [uid, newUid] }),
    });
    return reply.status(202).send(summary);
  });

  app.delete<{ Params: UidParams }>('/indexes/:indexUid', { config: { action: 'indexes.delete' } }, async (req, reply) => {
    const uid = checkIndexUid(req.params.indexUid);
    const summary = queue.enqueue({ type: 'indexDeletion', indexUid: uid, details: { deletedDocuments: null } });
    return reply.status(202).send(summary);
  });

  app.post('/swap-indexes', { config: { action: 'indexes.swap' } }, async (req, reply) => {
    const swaps = parseSwaps(jsonBody(req));
    if (req.authCtx !== null) {
      for (const s of swaps) {
        for (const u of s.indexes) {
          if (!req.authCtx.allowsIndex(u)) throw new MeiliError('invalid_api_key', 'The provided API key is invalid.');
        }
      }
    }
    const summary = queue.enqueue({
      type: 'indexSwap',
      indexUid: null,
      details: { swaps },
      indexes: swaps.flatMap((s) => s.indexes),
    });
    return reply.status(202).send(summary);
  });

  app.get<{ Params: UidParams }>('/indexes/:indexUid/stats', { config: { action: 'stats.get' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    const params = parseStatsParams(req.query as QueryParams);
    return indexStats(ctx, registry.require(uid), params);
  });

  app.get('/stats', { config: { action: 'stats.get' } }, async (req) => {
    const params = parseStatsParams(req.query as QueryParams);
    const indexes: Record<string, unknown> = {};
    // Meilisearch reports the latest `updatedAt` among the indexes the key may see.
    let lastUpdate: string | null = null;
    for (const idx of registry.list()) {
      if (req.authCtx !== null && !req.authCtx.allowsIndex(idx.uid)) continue;
      indexes[idx.uid] = indexStats(ctx, idx, params);
      if (lastUpdate === null || rfc3339Micros(idx.updatedAt) > rfc3339Micros(lastUpdate)) lastUpdate = idx.updatedAt;
    }
    const path = ctx.store.path;
    return {
      databaseSize: formatSize(fileSize(path) + fileSize(`${path}-wal`), params.sizeFormat),
      usedDatabaseSize: formatSize(ctx.store.usedBytes(), params.sizeFormat),
      lastUpdate,
      indexes,
    };
  });

}
