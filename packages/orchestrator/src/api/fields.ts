/**
 * `POST /indexes/{uid}/fields` [Meilisearch ≥ 1.33]: the body is parsed here (one node's errors),
 * every node of a covering set lists all its matching fields, and the union is paginated once.
 *
 * @see https://www.meilisearch.com/docs/reference/api/indexes/list-index-fields
 */
import type { FastifyInstance } from 'fastify';
import { parseListFields, type FieldsPage } from '@miroir/protocol';
import { mergeFields } from '../core/fields.js';
import type { AppContext } from '../main.js';
import { jsonBody } from './http.js';
import { enc, uidParam } from './indexes.js';
import { degrade, indexFor, scatter } from './search.js';
import { readGate } from './settings-consistency.js';

/** Asks each node for every field at once: a node's field list is small (one entry per field name). */
const ALL_FIELDS = 2 ** 31 - 1;

export function registerFieldRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post('/indexes/:uid/fields', async (req, reply) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'fields.post', uid);
    const q = parseListFields(jsonBody(req));
    const info = await indexFor(ctx, uid);
    const body = { offset: 0, limit: ALL_FIELDS, filter: q.filter };
    const { answers, missing } = await scatter<FieldsPage>(ctx, info, () => body, `/indexes/${enc(uid)}/fields`, await readGate(ctx, req, uid));
    degrade(reply, missing);
    return mergeFields(
      answers.map((a) => a.results),
      q.offset,
      q.limit,
    );
  });
}
