/**
 * `GET|POST /webhooks`, `GET|PATCH|DELETE /webhooks/{uuid}` [≥ v1.17]: synchronous, no task.
 *
 * @see https://www.meilisearch.com/docs/reference/api/webhooks
 */
import type { FastifyInstance } from 'fastify';
import { webhookRoutes } from '@miroir/protocol';
import { jsonBody } from '../http.js';
import type { Webhooks } from '../webhooks.js';

type UuidParams = { uuid: string };

export function registerWebhookRoutes(app: FastifyInstance, hooks: Webhooks): void {
  const routes = webhookRoutes(hooks);
  app.get('/webhooks', { config: { action: 'webhooks.get' } }, () => routes.list());
  app.post('/webhooks', { config: { action: 'webhooks.create' } }, async (req, reply) => reply.status(201).send(await routes.create(jsonBody(req))));
  app.get<{ Params: UuidParams }>('/webhooks/:uuid', { config: { action: 'webhooks.get' } }, (req) => routes.get(req.params.uuid));
  app.patch<{ Params: UuidParams }>('/webhooks/:uuid', { config: { action: 'webhooks.update' } }, (req) => routes.update(req.params.uuid, jsonBody(req)));
  app.delete<{ Params: UuidParams }>('/webhooks/:uuid', { config: { action: 'webhooks.delete' } }, async (req, reply) => {
    await routes.remove(req.params.uuid);
    return reply.status(204).send();
  });
}
