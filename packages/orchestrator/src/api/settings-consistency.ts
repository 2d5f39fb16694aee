/**
 * The client-facing side of consistent settings (spec S13.5, S5.4):
 * - every answer about an index carries `X-Miroir-Settings-Version` (its committed settings
 *   version), plus `X-Miroir-Settings-Inconsistent: true` while a broadcast on it is between
 *   propose and commit;
 * - a read with `X-Miroir-Min-Settings-Version: N` is served only by nodes verified at N or later.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MeiliError } from '@miroir/protocol';
import { coveringSet, servingGroups, type CoveringSet } from '../core/covering.js';
import type { Placement } from '../core/placement.js';
import { miroirError } from '../errors.js';
import type { AppContext } from './context.js';
import { SettingsVersions, type IndexSettingsView } from '../work/settings-versions.js';
import type { WriteToken } from '../guarantees/write-token.js';
import type { GroupChoiceReason } from '../core/explain.js';
import type { TenantRoute } from '../reads/tenants.js';
import { bearer } from './auth.js';

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

/** Which nodes a read of one index may use, as far as settings go. */
export interface ReadGate {
  /**
   * Nodes known to hold the committed settings: not back from a failure unchecked, and verified at
   * some commit once the index had one (a node new to the cluster is not). Reads prefer them, and
   * fall back to the others only for shards they cannot cover.
   */
  readonly settled: (nodeId: string) => boolean;
  /** `X-Miroir-Min-Settings-Version`: nodes verified at that version or later; a hard limit. */
  readonly floor: ((nodeId: string) => boolean) | undefined;
  /** `X-Miroir-Read-After` (or the session's pending write): what the nodes read from must have processed first. */
  readonly after?: WriteToken;
  /** The replica group a session's read is pinned to (spec S13.6), else its tenant's (S13.15). */
  readonly group?: number;
  /** The rule that chose {@link group}. */
  readonly groupReason: GroupChoiceReason;
  /** The read's tenant and the groups it may use (spec S13.15). */
  readonly tenant: TenantRoute;
}

/** Waits, when the read carries a write token, until the nodes it reads from processed that write. */
export async function awaitWrite(ctx: AppContext, gate: ReadGate | undefined, nodeIds: Iterable<string>): Promise<void> {
  if (gate?.after !== undefined) await ctx.writeTokens.wait(gate.after, nodeIds);
}

/** The read gate of a request on index `uid` (spec S13.5 freshness floor). */
export async function readGate(ctx: AppContext, req: FastifyRequest, uid: string): Promise<ReadGate> {
  const raw = req.headers[MIN_HEADER];
  const text = raw === undefined ? undefined : (Array.isArray(raw) ? raw[0]! : raw).trim();
  if (text !== undefined && !/^\d{1,15}$/.test(text)) {
    throw new MeiliError('bad_request', `The \`X-Miroir-Min-Settings-Version\` header must be a non-negative integer, got \`${text}\`.`);
  }
  const cached = ctx.versions.cached(uid);
  const view = cached === null ? await ctx.versions.get(uid) : cached;
  const min = text === undefined ? 0 : Number(text);
  const committed = view?.fingerprint !== undefined;
  const pin = await ctx.sessions.pin(req, uid);
  const after = ctx.writeTokens.read(req, uid) ?? pin?.after;
  const routed = ctx.tenants.route(req, () => bearer(req), () => servingGroupIds(ctx));
  const tenant = routed instanceof Promise ? await routed : routed;
  if (pin?.group !== undefined && tenant.groupId !== undefined && pin.group !== tenant.groupId) ctx.tenants.pinOverride(tenant);
  const group = pin?.group ?? tenant.groupId;
  return {
    settled: (id) => ctx.drift.serves(id) && (!committed || view!.nodes.has(id)),
    floor: min === 0 ? undefined : (id) => SettingsVersions.nodeVersion(view, id) >= min,
    ...(after === undefined ? {} : { after }),
    ...(group === undefined ? {} : { group }),
    groupReason: pin?.group !== undefined ? 'session' : tenant.groupId !== undefined ? 'tenant' : 'round_robin',
    tenant,
  };
}

/** Ids of the replica groups that take reads, ascending. */
function servingGroupIds(ctx: AppContext): number[] {
  // Group states are the topology's, the same under every shard count.
  const placement = ctx.cluster.placement(ctx.cluster.config.shards);
  return servingGroups(placement).map((gi) => placement.groupIds[gi]!);
}

/** Options of {@link gatedCover}. */
export interface CoverOptions {
  /** The same replicas for every call while they are healthy (listings' pages). */
  readonly stable?: boolean;
  /** Only these shards (the planner's, or a hedged node's); default all. */
  readonly shards?: readonly number[];
  /** Nodes not to use (the replica a hedge replaces). */
  readonly exclude?: ReadonlySet<string>;
  /** Other groups may serve shards the chosen group cannot (default true). */
  readonly groupFallback?: boolean;
  /** Only the read's own group (its session's or tenant's): no rotation to, or fallback on, others. */
  readonly groupOnly?: boolean;
}

/**
 * The covering set of a read under its gate: healthy nodes, settled ones first (the others only
 * if they cover more shards), and never a node below the client's floor — when the floor leaves a
 * shard that healthy nodes could serve uncovered: 503 `miroir_settings_version_stale`.
 */
export function gatedCover(
  ctx: AppContext,
  placement: Placement,
  uid: string,
  gate: ReadGate | undefined,
  opts: CoverOptions = {},
): CoveringSet {
  const { cluster } = ctx;
  const floor = gate?.floor;
  const exclude = opts.exclude;
  // Adaptive, round-robin or random (spec S13.3); `stable`: the same replicas while they are healthy.
  const choice = ctx.readPath.choice(opts.stable === true);
  const groupIds = opts.groupOnly === true && gate?.group !== undefined ? [gate.group] : gate?.tenant.groupIds;
  const pick = (settledOnly: boolean) =>
    coveringSet(placement, {
      ...choice,
      ...(gate?.group === undefined ? {} : { groupId: gate.group }),
      ...(groupIds === undefined ? {} : { groupIds }),
      eligible: (id) =>
        cluster.health.isHealthy(id) &&
        (!settledOnly || gate!.settled(id)) &&
        (floor === undefined || floor(id)) &&
        (exclude === undefined || !exclude.has(id)),
      groupFallback: opts.groupFallback ?? true,
      migrationInFlight: cluster.migrating,
      ...(opts.shards === undefined ? {} : { shards: opts.shards }),
    });
  let cover = pick(gate !== undefined);
  if (gate !== undefined && cover.uncovered.length > 0) {
    const relaxed = pick(false);
    if (relaxed.uncovered.length < cover.uncovered.length) cover = relaxed;
  }
  if (floor !== undefined && cover.uncovered.length > 0) {
    const without = coveringSet(placement, {
      seq: choice.seq,
      eligible: (id) => cluster.health.isHealthy(id),
      groupFallback: true,
      migrationInFlight: cluster.migrating,
      shards: cover.uncovered,
    });
    if (without.uncovered.length < cover.uncovered.length) {
      throw miroirError(
        'miroir_settings_version_stale',
        `No node serving shard(s) ${cover.uncovered.join(', ')} of index \`${uid}\` holds the settings version asked for by \`X-Miroir-Min-Settings-Version\`.`,
      );
    }
  }
  if (gate !== undefined && gate.tenant.tenant !== null && cover.groupId >= 0 && exclude === undefined) ctx.tenants.served(gate.tenant, cover.groupId);
  return cover;
}

/**
 * Where a hedge of a node's read goes (spec S13.2): the same shards on other replicas, under the
 * same gate, or undefined when some shard has no other eligible replica. A read whose group was
 * chosen by its session or its tenant is hedged inside that group only: another group may not have
 * the session's write yet, and a tenant's slowness is not spread over other tenants' groups.
 */
export function hedgeCover(
  ctx: AppContext,
  placement: Placement,
  uid: string,
  gate: ReadGate | undefined,
  shards: readonly number[],
  exclude: string,
  stable = false,
): CoveringSet | undefined {
  const crossGroup = ctx.readPath.crossGroupHedges && (gate === undefined || gate.groupReason === 'round_robin');
  let alt: CoveringSet;
  try {
    alt = gatedCover(ctx, placement, uid, gate, { stable, shards, exclude: new Set([exclude]), groupFallback: crossGroup, groupOnly: !crossGroup });
  } catch {
    return undefined; // no replica at the client's settings floor: no hedge
  }
  return alt.uncovered.length > 0 || alt.nodes.size === 0 ? undefined : alt;
}
