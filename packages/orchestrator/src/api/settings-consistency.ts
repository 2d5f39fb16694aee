/**
 * The client-facing side of consistent settings (spec S13.5, S5.4):
 * - every answer about an index carries `X-Miroir-Settings-Version` (its committed settings
 *   version), plus `X-Miroir-Settings-Inconsistent: true` while a broadcast on it is between
 *   propose and commit;
 * - a read with `X-Miroir-Min-Settings-Version: N` is served only by nodes verified at N or later.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MeiliError } from '@miroir/protocol';
import type { AppContext } from '../main.js';
import { SettingsVersions, type IndexSettingsView } from '../work/settings-versions.js';

const MIN_HEADER = 'x-miroir-min-settings-version';

/** Adds the settings headers to every answer of a route with an index uid. */
export function registerSettingsHeaders(app: FastifyInstance, ctx: AppContext): void {
  const put = (reply: { header(k: string, v: string): unknown }, uid: string, view: IndexSettingsView | undefined) => {
    if (view !== undefined) reply.header('x-miroir-settings-version', String(view.version));
    if (ctx.broadcasts.inconsistent(uid)) reply.header('x-miroir-settings-inconsistent', 'true');
  };
  app.addHook('onSend', (req, reply, payload, done) => {
    const uid = (req.params as { uid?: unknown } | undefined)?.uid;
    if (typeof uid !== 'string') return done(null, payload);
    const hit = ctx.versions.cached(uid);
    if (hit !== null) {
      put(reply, uid, hit);
      return done(null, payload);
    }
    ctx.versions.get(uid).then(
      (view) => {
        put(reply, uid, view);
        done(null, payload);
      },
      // The store could not be read: the answer goes out without the header rather than failing.
      () => done(null, payload),
    );
  });
}

/**
 * The freshness floor of a read: `undefined` without the header; a node predicate otherwise (a node
 * qualifies when its verified settings version is at least the floor).
 */
export async function settingsFloor(ctx: AppContext, req: FastifyRequest, uid: string): Promise<((nodeId: string) => boolean) | undefined> {
  const raw = req.headers[MIN_HEADER];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw[0]! : raw;
  if (!/^\d{1,15}$/.test(text.trim())) {
    throw new MeiliError('bad_request', `The \`X-Miroir-Min-Settings-Version\` header must be a non-negative integer, got \`${text}\`.`);
  }
  const floor = Number(text.trim());
  if (floor === 0) return undefined;
  const view = await ctx.versions.get(uid);
  return (nodeId) => SettingsVersions.nodeVersion(view, nodeId) >= floor;
}
