/**
 * `GET /tasks/{uid}/documents` (experimental `getTaskDocumentsRoute`): the documents of a
 * `documentAdditionOrUpdate` task that is still enqueued or processing, as NDJSON.
 *
 * @see https://www.meilisearch.com/docs/reference/api/tasks#get-a-tasks-documents
 */
import type { FastifyInstance } from 'fastify';
import { invalidTaskUid, parseU32, TASK_DOCUMENTS_FEATURE, taskFileNotFound, taskNotFound } from '@miroir/protocol';
import type { EngineContext } from '../context.js';
import { requireFeature } from '../features.js';
import type { DocumentsPayload } from '../processor.js';
import { OPEN_CONTEXT } from '@miroir/protocol';

export function registerTaskDocumentsRoute(app: FastifyInstance, ctx: EngineContext): void {
  app.get<{ Params: { uid: string } }>('/tasks/:uid/documents', { config: { action: 'tasks.get' } }, async (req, reply) => {
    const gate = TASK_DOCUMENTS_FEATURE;
    requireFeature(ctx, gate.flag, gate.action, gate.feature, gate.issue);
    const uid = parseU32(req.params.uid);
    if (uid === undefined) throw invalidTaskUid(req.params.uid);
    const task = ctx.queue.view(uid, req.authCtx ?? OPEN_CONTEXT);
    if (task === undefined) throw taskNotFound(uid);
    const raw = task.type === 'documentAdditionOrUpdate' ? ctx.queue.payload(uid) : undefined;
    if (raw === undefined) throw taskFileNotFound(uid);
    const { documents } = JSON.parse(raw.toString('utf8')) as DocumentsPayload;
    return reply.type('application/x-ndjson').send(documents.map((d) => `${JSON.stringify(d)}\n`).join(''));
  });
}
