/**
 * `GET /tasks/{uid}/documents` (experimental `getTaskDocumentsRoute`): the documents of a
 * `documentAdditionOrUpdate` task still enqueued or processing, as NDJSON. Checked as one node
 * checks it (the feature, then the uid, then the task, then its documents); the documents are
 * gathered from the node tasks of the Miroir task (core/task-documents.ts).
 *
 * @see https://www.meilisearch.com/docs/reference/api/tasks#get-a-tasks-documents
 */
import type { FastifyInstance } from 'fastify';
import { featureNotEnabled, invalidTaskUid, parseU32, TASK_DOCUMENTS_FEATURE, taskFileNotFound, taskNotFound } from '@miroir/protocol';
import { mergeTaskDocuments } from '../core/task-documents.js';
import type { AppContext } from '../main.js';
import { NodeHttpError } from '../nodes/node-client.js';
import { callEach } from './fanout.js';
import { nodeFeatureOn } from './misc.js';
import { visible } from './tasks.js';

export function registerTaskDocumentsRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get('/tasks/:uid/documents', async (req, reply) => {
    const access = await ctx.auth.client(req, 'tasks.get', null);
    const gate = TASK_DOCUMENTS_FEATURE;
    if (!(await nodeFeatureOn(ctx, gate.flag))) throw featureNotEnabled(gate.action, gate.feature, gate.issue);
    const text = (req.params as { uid: string }).uid;
    const uid = parseU32(text);
    if (uid === undefined) throw invalidTaskUid(text);
    const row = await ctx.tasks.get(uid);
    if (row === undefined || !visible(access, row)) throw taskNotFound(uid);
    if (row.type !== 'documentAdditionOrUpdate' || row.indexUid === null) throw taskFileNotFound(uid);
    // A node's batch is its last task of the write (a settings setup may come before it).
    const batches = Object.entries(row.nodeTasks).filter(([, uids]) => uids.length > 0);
    const byNode = new Map(batches.map(([id, uids]) => [id, uids.at(-1)!]));
    const answers = await callEach<string>(ctx.cluster, [...byNode.keys()], (id) => ({ method: 'GET', path: `/tasks/${byNode.get(id)}/documents`, text: true }));
    const parts: string[] = [];
    for (const a of answers) {
      if (a.ok !== undefined) parts.push(a.ok.body);
      // A node whose task is processed already has dropped its copy (task_file_not_found).
      else if (!(a.error instanceof NodeHttpError)) ctx.log.warn({ err: a.error, node: a.nodeId, task: uid }, 'a node could not list the documents of its task');
    }
    if (parts.length === 0) throw taskFileNotFound(uid);
    const primaryKey = (await ctx.cluster.store.getIndexMeta(row.indexUid))?.primaryKey ?? null;
    return reply.type('application/x-ndjson').send(mergeTaskDocuments(parts, primaryKey));
  });
}
