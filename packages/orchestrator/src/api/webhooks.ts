/**
 * `GET|POST /webhooks`, `GET|PATCH|DELETE /webhooks/{uuid}` [Meilisearch ≥ 1.17]: one set of
 * webhooks for the whole cluster, kept in the state store (so every orchestrator serves and calls
 * the same ones) and never sent to the nodes: a node's webhook would fire once per node with node
 * task uids. Miroir calls each webhook once per finished Miroir task, with the task as a client
 * reads it (`GET /tasks/{uid}`), as one node calls its webhooks with its finished tasks. The
 * rules (bodies, errors, redaction, the call itself) are Meilisearch's, from `@miroir/protocol`.
 *
 * @see https://www.meilisearch.com/docs/reference/api/webhooks
 */
import type { FastifyInstance } from 'fastify';
import { callWebhook, toTaskView, webhookRoutes, type Webhook, type WebhookBook } from '@miroir/protocol';
import type { AppContext } from './context.js';
import type { StateStore } from '../state/store.js';
import { jsonBody } from './http.js';

type UuidParams = { uuid: string };

/** The cluster's webhooks: rows of the state store's `webhooks` table. */
function storeBook(store: StateStore): WebhookBook {
  return {
    all: async () => new Map((await store.listRows('webhooks')).map((r) => [r.uuid, { url: r.url, headers: r.headers }])),
    get: async (uuid) => {
      const r = await store.getRow('webhooks', uuid);
      return r === undefined ? undefined : { url: r.url, headers: r.headers };
    },
    put: (uuid, w) => store.putRow('webhooks', { uuid, ...w }),
    delete: (uuid) => store.deleteRow('webhooks', uuid),
  };
}

export function registerWebhookRoutes(app: FastifyInstance, ctx: AppContext): void {
  const book = storeBook(ctx.cluster.store);
  const routes = webhookRoutes(book);

  app.get('/webhooks', async (req) => {
    await ctx.auth.client(req, 'webhooks.get', null);
    return routes.list();
  });
  app.post('/webhooks', async (req, reply) => {
    await ctx.auth.client(req, 'webhooks.create', null);
    return reply.code(201).send(await routes.create(jsonBody(req)));
  });
  app.get<{ Params: UuidParams }>('/webhooks/:uuid', async (req) => {
    await ctx.auth.client(req, 'webhooks.get', null);
    return routes.get(req.params.uuid);
  });
  app.patch<{ Params: UuidParams }>('/webhooks/:uuid', async (req) => {
    await ctx.auth.client(req, 'webhooks.update', null);
    return routes.update(req.params.uuid, jsonBody(req));
  });
  app.delete<{ Params: UuidParams }>('/webhooks/:uuid', async (req, reply) => {
    await ctx.auth.client(req, 'webhooks.delete', null);
    await routes.remove(req.params.uuid);
    return reply.code(204).send();
  });

  // Completion hooks run once per task in the fleet (work/tasks.ts); the calls are made in the
  // background, one task after the other, so a webhook sees this process's tasks in order.
  let calls = Promise.resolve();
  ctx.tasks.onFinished((row) => {
    calls = calls.then(async () => {
      let hooks: ReadonlyMap<string, Webhook>;
      let view;
      try {
        hooks = await book.all();
        if (hooks.size === 0) return;
        // Read back: an earlier hook may have completed the row (a cancelation's `canceledTasks`).
        view = toTaskView((await ctx.cluster.store.getTask(row.uid)) ?? row);
      } catch (e) {
        ctx.log.error({ err: e, task: row.uid }, 'could not read the webhooks to call for a finished task');
        return;
      }
      for (const [uuid, w] of hooks) {
        try {
          await callWebhook(w, [view]);
        } catch (e) {
          ctx.log.warn({ err: e, webhook: uuid, task: row.uid }, 'a webhook call failed');
        }
      }
    });
  });
}
