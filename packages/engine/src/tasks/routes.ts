/**
 * `/tasks` and `/batches`: listing with Meilisearch's filters, one task or batch, cancelation and
 * deletion. Authorization: `tasks.get`, `tasks.cancel`, `tasks.delete`; an index-scoped key only
 * sees the tasks of its indexes.
 *
 * @see https://www.meilisearch.com/docs/reference/api/async-task-management/list-tasks
 */
import type { FastifyInstance } from 'fastify';
import {
  batchNotFound,
  invalidBatchUid,
  invalidTaskUid,
  missingTaskFilters,
  parseTasksQuery,
  parseU32,
  taskNotFound,
} from '@miroir/protocol';
import type { AuthContext } from '../auth/context.js';
import { meiliRoute, rawQueryString } from '../auth/http.js';
import type { TaskQueue } from './queue.js';

/** What the routes need from the auth module. */
export interface TaskRoutesAuth {
  authorize(authorization: string | undefined, action: string, indexUid: string | null): AuthContext;
}

// Each route declares its key action in `config.action`: an app that authorizes in an `onRequest`
// hook then checks the key before the body is read, as Meilisearch does. The handlers authorize
// again, so the routes stay closed in an app without that hook.
type Query = Record<string, unknown>;
type Params = Record<string, string>;

/** Registers `/tasks`, `/tasks/:uid`, `/tasks/cancel`, `DELETE /tasks`, `/batches`, `/batches/:uid`. */
export function registerTaskRoutes(app: FastifyInstance, queue: TaskQueue, auth: TaskRoutesAuth): void {
  app.get(
    '/tasks',
    { config: { action: 'tasks.get' } },
    meiliRoute((req) => {
      const ctx = auth.authorize(req.headers.authorization, 'tasks.get', null);
      return queue.list(parseTasksQuery(req.query as Query, 'list'), ctx);
    }),
  );

  app.get(
    '/tasks/:uid',
    { config: { action: 'tasks.get' } },
    meiliRoute((req) => {
      const ctx = auth.authorize(req.headers.authorization, 'tasks.get', null);
      const text = (req.params as Params).uid ?? '';
      const uid = parseU32(text);
      if (uid === undefined) throw invalidTaskUid(text);
      const view = queue.view(uid, ctx);
      if (view === undefined) throw taskNotFound(uid);
      return view;
    }),
  );

  // Meilisearch answers 200 (not 202) to these two, with the summarized task.
  app.post(
    '/tasks/cancel',
    { config: { action: 'tasks.cancel' } },
    meiliRoute((req) => {
      const ctx = auth.authorize(req.headers.authorization, 'tasks.cancel', null);
      const q = parseTasksQuery(req.query as Query, 'cancel');
      if (!q.hasFilters) throw missingTaskFilters('cancel');
      return queue.enqueueCancelation(`?${rawQueryString(req)}`, queue.matching(q.filter, ctx));
    }),
  );

  app.delete(
    '/tasks',
    { config: { action: 'tasks.delete' } },
    meiliRoute((req) => {
      const ctx = auth.authorize(req.headers.authorization, 'tasks.delete', null);
      const q = parseTasksQuery(req.query as Query, 'delete');
      if (!q.hasFilters) throw missingTaskFilters('delete');
      return queue.enqueueDeletion(`?${rawQueryString(req)}`, queue.matching(q.filter, ctx));
    }),
  );

  app.get(
    '/batches',
    { config: { action: 'tasks.get' } },
    meiliRoute((req) => {
      const ctx = auth.authorize(req.headers.authorization, 'tasks.get', null);
      return queue.listBatches(parseTasksQuery(req.query as Query, 'list'), ctx);
    }),
  );

  app.get(
    '/batches/:uid',
    { config: { action: 'tasks.get' } },
    meiliRoute((req) => {
      const ctx = auth.authorize(req.headers.authorization, 'tasks.get', null);
      const text = (req.params as Params).uid ?? '';
      const uid = parseU32(text);
      if (uid === undefined) throw invalidBatchUid(text);
      const view = queue.batch(uid, ctx);
      if (view === undefined) throw batchNotFound(uid);
      return view;
    }),
  );
}
