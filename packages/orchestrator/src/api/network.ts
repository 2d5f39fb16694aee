/**
 * `GET` and `PATCH /network`. Meilisearch's network (remotes for federated search across
 * instances, and in the Enterprise Edition a leader and sharding) describes a fleet of instances;
 * behind Miroir the nodes form Miroir's own fleet, managed through its topology (`/_miroir/topology`).
 * So Miroir answers as one Community Edition node whose network is not configured:
 *
 * - both routes need the `network` experimental feature (toggled with `PATCH /experimental-features`,
 *   which every node receives) and answer `feature_not_enabled` without it, as a node does;
 * - `GET` returns the empty network (`self` and `leader` null, no remotes, no shards, nil version);
 * - `PATCH` with a `leader` is refused with `requires_enterprise_edition`, as a Community Edition
 *   node refuses it; any other change is refused with `miroir_network_managed`: Miroir does not
 *   call remote instances, and its nodes are not configured through this route.
 *
 * @see https://www.meilisearch.com/docs/reference/api/network
 */
import type { FastifyInstance } from 'fastify';
import { featureNotEnabled, isJsonObject, MeiliError } from '@miroir/protocol';
import { miroirError } from '../errors.js';
import type { AppContext } from '../main.js';
import { jsonBody } from './http.js';
import { nodeFeatureOn } from './misc.js';

/** What a node without a configured network answers. */
const UNCONFIGURED_NETWORK = {
  self: null,
  remotes: {},
  shards: {},
  leader: null,
  version: '00000000-0000-0000-0000-000000000000',
} as const;

/** `feature_not_enabled` unless the nodes run with the `network` experimental feature. */
async function checkNetworkFeature(ctx: AppContext): Promise<void> {
  if (await nodeFeatureOn(ctx, 'network')) return;
  throw featureNotEnabled('Using the /network route', 'network', 'https://github.com/orgs/meilisearch/discussions/805');
}

export function registerNetworkRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/network', async (req) => {
    await ctx.auth.client(req, 'network.get', null);
    await checkNetworkFeature(ctx);
    return UNCONFIGURED_NETWORK;
  });

  app.patch('/network', async (req) => {
    await ctx.auth.client(req, 'network.update', null);
    const body = jsonBody(req);
    await checkNetworkFeature(ctx);
    if (isJsonObject(body) && body.leader !== undefined && body.leader !== null) {
      throw new MeiliError('requires_enterprise_edition', 'Meilisearch Enterprise Edition is required to set `network.leader`');
    }
    throw miroirError(
      'miroir_network_managed',
      'The nodes behind Miroir form its network: they are managed through `/_miroir/topology`, and Miroir does not search remote instances.',
    );
  });
}
