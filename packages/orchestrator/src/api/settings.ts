/**
 * Settings: read from any node with the reserved fields hidden, changed on every node as one task
 * with the reserved fields kept (spec S5.3), through the settings broadcast of S13.5
 * (`work/settings-broadcast.ts`): the task stays `processing` until every node verified.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { defaultSettings, type Settings } from '@miroir/protocol';
import { clientSettings, nodeSettingsUpdate, withReservedFilterable, withoutReservedFilterable } from '../core/reserved-settings.js';
import type { AppContext } from './context.js';
import type { NodeRequest } from '../nodes/node-client.js';
import { firstAnswer } from './fanout.js';
import { jsonBody } from './http.js';
import { enc, uidParam } from './indexes.js';
import { broadcastWrite } from './writes.js';

const camel = (kebab: string) => kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** A whole-settings reset, node-side: every setting back to its default, the reserved field kept. */
function resetProposal(): Record<string, unknown> {
  const out: Record<string, unknown> = Object.fromEntries(Object.keys(defaultSettings()).map((k) => [k, null]));
  out.filterableAttributes = withReservedFilterable(null);
  return out;
}

export function registerSettingsRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { cluster } = ctx;
  const strategy = cluster.config.settings_broadcast.strategy;
  const base = (req: FastifyRequest) => `/indexes/${enc(uidParam(req))}/settings`;

  app.get('/indexes/:uid/settings', async (req) => {
    await ctx.auth.client(req, 'settings.get', uidParam(req));
    return clientSettings(await firstAnswer<Settings>(cluster, { method: 'GET', path: base(req) }));
  });

  app.patch('/indexes/:uid/settings', async (req, reply) => {
    const uid = uidParam(req);
    const access = await ctx.auth.client(req, 'settings.update', uid);
    const body = jsonBody(req);
    const details = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
    const nodeBody = details ? nodeSettingsUpdate(details) : body;
    const summary = await broadcastWrite(ctx, reply, { indexUid: uid, type: 'settingsUpdate', details }, [
      { method: 'PATCH', path: base(req), body: nodeBody },
    ], { setupIndex: uid, mayCreate: access.allowIndexCreation(uid), detailsFrom: 0, settings: { strategy, proposal: details ? (nodeBody as Record<string, unknown>) : {} } });
    return reply.code(202).send(summary);
  });

  /** A reset clears the nodes' filterable list too, so the reserved field is put back in the same task. */
  app.delete('/indexes/:uid/settings', async (req, reply) => {
    const uid = uidParam(req);
    await ctx.auth.client(req, 'settings.update', uid);
    const summary = await broadcastWrite(ctx, reply, { indexUid: uid, type: 'settingsUpdate', details: null }, [
      { method: 'DELETE', path: base(req) },
      { method: 'PUT', path: `${base(req)}/filterable-attributes`, body: withReservedFilterable(null) },
    ], { detailsFrom: 0, settings: { strategy, proposal: resetProposal() } });
    return reply.code(202).send(summary);
  });

  /** Sub-route values may be bare strings or null, so they are serialized here, always as JSON. */
  app.get('/indexes/:uid/settings/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    await ctx.auth.client(req, 'settings.get', uidParam(req));
    const value = await firstAnswer<unknown>(cluster, { method: 'GET', path: `${base(req)}/${enc(name)}` });
    const shown = name === 'filterable-attributes' && Array.isArray(value) ? withoutReservedFilterable(value) : value;
    return reply.type('application/json').send(JSON.stringify(shown));
  });

  const update = async (req: FastifyRequest, reply: Parameters<typeof broadcastWrite>[1], method: 'PUT' | 'PATCH' | 'DELETE') => {
    const uid = uidParam(req);
    const { name } = req.params as { name: string };
    const access = await ctx.auth.client(req, 'settings.update', uid);
    const path = `${base(req)}/${enc(name)}`;
    const filterable = name === 'filterable-attributes';
    let requests: NodeRequest[];
    let details: Record<string, unknown> | null;
    let nodeValue: unknown;
    if (method === 'DELETE') {
      // A reset of the filterable list is followed by the reserved field's return, in the same task.
      requests = [{ method: 'DELETE', path }, ...(filterable ? [{ method: 'PUT' as const, path, body: withReservedFilterable(null) }] : [])];
      details = { [camel(name)]: null };
      nodeValue = filterable ? withReservedFilterable(null) : null;
    } else {
      const body = jsonBody(req);
      nodeValue = filterable ? reservedList(body) : body;
      requests = [{ method, path, body: nodeValue }];
      details = { [camel(name)]: body };
    }
    const summary = await broadcastWrite(ctx, reply, { indexUid: uid, type: 'settingsUpdate', details }, requests, {
      setupIndex: method === 'DELETE' ? undefined : uid,
      mayCreate: access.allowIndexCreation(uid),
      detailsFrom: 0,
      settings: { strategy, proposal: { [camel(name)]: nodeValue } },
    });
    return reply.code(202).send(summary);
  };
  app.put('/indexes/:uid/settings/:name', (req, reply) => update(req, reply, 'PUT'));
  app.patch('/indexes/:uid/settings/:name', (req, reply) => update(req, reply, 'PATCH'));
  app.delete('/indexes/:uid/settings/:name', (req, reply) => update(req, reply, 'DELETE'));
}

/** The node-side filterable list; anything that is not a list is left for the node to reject. */
function reservedList(value: unknown): unknown {
  return value === null || Array.isArray(value) ? withReservedFilterable(value) : value;
}
