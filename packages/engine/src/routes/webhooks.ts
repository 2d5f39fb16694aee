/**
 * `GET|POST /webhooks`, `GET|PATCH|DELETE /webhooks/{uuid}` [≥ v1.17]: synchronous, no task.
 *
 * @see https://www.meilisearch.com/docs/reference/api/webhooks
 */
import type { FastifyInstance } from 'fastify';
import {
  checkDeletable,
  createWebhook,
  newWebhookUuid,
  parseWebhookSettings,
  parseWebhookUuid,
  patchWebhook,
  requireWebhook,
  webhookList,
  webhookView,
} from '@miroir/protocol';
import { jsonBody } from '../http.js';
import type { Webhooks } from '../webhooks.js';

type UuidParams = { uuid: string };

export function registerWebhookRoutes(app: FastifyInstance, hooks: Webhooks): void {
  app.get('/webhooks', { config: { action: 'webhooks.get' } }, async () => webhookList(hooks.all()));

  app.post('/webhooks', { config: { action: 'webhooks.create' } }, async (req, reply) => {
    const s = parseWebhookSettings(jsonBody(req));
    const all = hooks.all();
    const uuid = newWebhookUuid();
    const w = createWebhook(uuid, s, all.size);
    all.set(uuid, w);
    hooks.save(all);
    return reply.status(201).send(webhookView(uuid, w));
  });

  app.get<{ Params: UuidParams }>('/webhooks/:uuid', { config: { action: 'webhooks.get' } }, async (req) => {
    const uuid = parseWebhookUuid(req.params.uuid);
    return webhookView(uuid, requireWebhook(uuid, hooks.all().get(uuid)));
  });

  app.patch<{ Params: UuidParams }>('/webhooks/:uuid', { config: { action: 'webhooks.update' } }, async (req) => {
    const uuid = parseWebhookUuid(req.params.uuid);
    const s = parseWebhookSettings(jsonBody(req));
    const all = hooks.all();
    const w = patchWebhook(uuid, all.get(uuid), s);
    all.set(uuid, w);
    hooks.save(all);
    return webhookView(uuid, w);
  });

  app.delete<{ Params: UuidParams }>('/webhooks/:uuid', { config: { action: 'webhooks.delete' } }, async (req, reply) => {
    const uuid = parseWebhookUuid(req.params.uuid);
    checkDeletable(uuid);
    const all = hooks.all();
    requireWebhook(uuid, all.get(uuid));
    all.delete(uuid);
    hooks.save(all);
    return reply.status(204).send();
  });
}
