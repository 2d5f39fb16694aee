/**
 * `/indexes/{uid}/settings` and its sub-routes. Every update is a `settingsUpdate` task whose
 * details are the submitted settings; sub-routes take PUT, except the partial-merge objects
 * (`typo-tolerance`, `faceting`, `pagination`, `embedders`), which take PATCH.
 *
 * @see https://www.meilisearch.com/docs/reference/api/settings/list-all-settings
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  PATCH_SETTINGS_KEYS,
  resetAllSettingsPatch,
  SETTINGS_KEYS,
  settingsRouteName,
  settingsTaskDetails,
  settingsView,
  validateSettings,
  validateSettingValue,
} from '@miroir/protocol';
import type { SettingsPatch } from '@miroir/protocol';
import type { EngineContext } from '../context.js';
import { checkIndexUid, jsonBody } from '../http.js';
import type { SettingsPayload } from '../processor.js';

type UidParams = { indexUid: string };

export function registerSettingsRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const { registry, queue } = ctx;

  const enqueue = (req: FastifyRequest, uid: string, patch: SettingsPatch) => {
    const payload: SettingsPayload = { patch };
    if (req.authCtx !== null && !req.authCtx.allowIndexCreation(uid)) payload.allowIndexCreation = false;
    return queue.enqueue({
      type: 'settingsUpdate',
      indexUid: uid,
      details: settingsTaskDetails(patch),
      payload: JSON.stringify(payload),
    });
  };

  app.get<{ Params: UidParams }>('/indexes/:indexUid/settings', { config: { action: 'settings.get' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    return settingsView(registry.require(uid).settings);
  });

  app.patch<{ Params: UidParams }>('/indexes/:indexUid/settings', { config: { action: 'settings.update' } }, async (req, reply) => {
    const uid = checkIndexUid(req.params.indexUid);
    const patch = validateSettings(jsonBody(req));
    return reply.status(202).send(enqueue(req, uid, patch));
  });

  app.delete<{ Params: UidParams }>('/indexes/:indexUid/settings', { config: { action: 'settings.update' } }, async (req, reply) => {
    const uid = checkIndexUid(req.params.indexUid);
    return reply.status(202).send(enqueue(req, uid, resetAllSettingsPatch()));
  });

  for (const key of SETTINGS_KEYS) {
    const path = `/indexes/:indexUid/settings/${settingsRouteName(key)}`;

    app.get<{ Params: UidParams }>(path, { config: { action: 'settings.get' } }, async (req, reply) => {
      const uid = checkIndexUid(req.params.indexUid);
      // Bare values (`"byWord"`, `null`, `150`) are JSON too: serialize them explicitly, or fastify
      // would send a string as text.
      const value = settingsView(registry.require(uid).settings)[key];
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(value));
    });

    const update = async (req: FastifyRequest<{ Params: UidParams }>, reply: FastifyReply) => {
      const uid = checkIndexUid(req.params.indexUid);
      const value = validateSettingValue(key, jsonBody(req), '');
      return reply.status(202).send(enqueue(req, uid, { [key]: value } as SettingsPatch));
    };
    if (PATCH_SETTINGS_KEYS.has(key)) {
      app.patch<{ Params: UidParams }>(path, { config: { action: 'settings.update' } }, update);
    } else {
      app.put<{ Params: UidParams }>(path, { config: { action: 'settings.update' } }, update);
    }

    app.delete<{ Params: UidParams }>(path, { config: { action: 'settings.update' } }, async (req, reply) => {
      const uid = checkIndexUid(req.params.indexUid);
      return reply.status(202).send(enqueue(req, uid, { [key]: null } as SettingsPatch));
    });
  }
}
