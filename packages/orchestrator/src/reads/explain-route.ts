/**
 * `POST /indexes/{uid}/explain` (spec S13.20): the plan a search would follow — alias resolution,
 * planner narrowing, group and replicas, hedging, sharing, settings — computed by the same code a
 * search runs, without any node call. `?execute=true` also runs the search and adds its answer.
 */
import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { checkFilterable, FilterError, parseFilter } from '@miroir/filter';
import { defaultSettings, indexNotFound, MeiliError, parseSearchQuery, type SearchQuery } from '@miroir/protocol';
import { singleAliasOf } from '../aliases/routes.js';
import { FULL_ACCESS } from '../api/auth.js';
import type { AppContext } from '../api/context.js';
import { jsonBody } from '../api/http.js';
import { uidParam } from '../api/indexes.js';
import { searchIndex, shardPlan } from '../api/search.js';
import { gatedCover, readGate, type ReadGate } from '../api/settings-consistency.js';
import type { IndexInfo } from '../catalog.js';
import { explainRouting, explainWarnings, type ExplainWarning } from '../core/explain.js';
import type { CoveringSet } from '../core/covering.js';
import { withoutReservedFilterable } from '../core/reserved-settings.js';
import type { Metrics } from '../obs/metrics.js';

/** Warnings only the admin key sees: they describe the fleet, not the query. */
const OPERATOR_WARNINGS = new Set(['settings_drift', 'node_not_verified', 'tenant_mismatch']);

/** The explain families of spec S10.2 (13.20), registered with the route. */
export function registerExplainMetrics(metrics: Metrics): { requests: Counter; executed: Counter; warned: Counter<'warning_type'> } {
  const registers = [metrics.registry];
  return {
    requests: new Counter({ name: 'miroir_explain_requests_total', help: 'Explain requests answered.', registers }),
    executed: new Counter({ name: 'miroir_explain_execute_total', help: 'Explain requests that also ran their search (`?execute=true`).', registers }),
    warned: new Counter({ name: 'miroir_explain_warnings_total', help: 'Warnings in explain answers, by kind.', labelNames: ['warning_type'], registers }),
  };
}

export function registerExplainRoute(app: FastifyInstance, ctx: AppContext): void {
  const cfg = ctx.cluster.config.explain;
  if (!cfg.enabled) return;
  const { requests, executed, warned } = registerExplainMetrics(ctx.metrics);

  app.post('/indexes/:uid/explain', async (req, reply) => {
    const uid = uidParam(req);
    const role = await ctx.auth.explain(req, uid);
    const execute = executeParam((req.query as Record<string, unknown>).execute);
    if (execute && !cfg.allow_execute_parameter) {
      throw new MeiliError('bad_request', '`execute=true` is disabled on this cluster (`explain.allow_execute_parameter: false`).');
    }
    const query = parseSearchQuery(jsonBody(req));
    const info = await describedIndex(ctx, uid);
    const gate = await readGate(ctx, req, uid);
    const explained = await explainSearch(ctx, req, info, query, gate, role === 'operator');
    const warnings = explained.warnings.slice(0, cfg.max_warnings);
    requests.inc();
    for (const w of warnings) warned.labels(w.code).inc();
    const answer: Record<string, unknown> = { resolved_uid: uid, plan: explained.plan, warnings };
    if (execute) {
      executed.inc();
      if (explained.plan.broadcast_pending === true) reply.header('x-miroir-settings-pending', 'true');
      const { response, missing } = await searchIndex(ctx, uid, query, FULL_ACCESS, false, gate);
      if (missing.length > 0) reply.header('x-miroir-degraded', `shards=${missing.join(',')}`);
      answer.result = response;
    }
    return answer;
  });
}

/**
 * The index as this orchestrator last read it (no node call), else from the state store's record
 * (shard count, primary key) with default settings: the settings warnings are then skipped.
 */
async function describedIndex(ctx: AppContext, uid: string): Promise<IndexInfo & { settingsKnown: boolean }> {
  const seen = ctx.catalog.peek(uid);
  if (seen !== undefined) return { ...seen, settingsKnown: true };
  const meta = await ctx.cluster.store.getIndexMeta(uid);
  if (meta === undefined) throw indexNotFound(uid);
  return { uid, primaryKey: meta.primaryKey, shards: meta.shards, createdAt: '', updatedAt: '', settings: defaultSettings(), settingsKnown: false };
}

function executeParam(v: unknown): boolean {
  if (v === undefined) return false;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new MeiliError('bad_request', `Invalid value for the \`execute\` parameter: expected \`true\` or \`false\`, got \`${String(v)}\`.`);
}

async function explainSearch(
  ctx: AppContext,
  req: Parameters<typeof singleAliasOf>[0],
  info: IndexInfo & { settingsKnown: boolean },
  query: SearchQuery,
  gate: ReadGate,
  operator: boolean,
): Promise<{ plan: Record<string, unknown>; warnings: ExplainWarning[] }> {
  const { cluster } = ctx;
  const uid = info.uid;
  const plan = shardPlan(ctx, info, query.filter);
  const placement = cluster.placement(info.shards);
  const needed = plan.shards === null || plan.shards.length === 0 ? undefined : plan.shards;
  const cover: CoveringSet = gatedCover(ctx, placement, uid, gate, needed === undefined ? {} : { shards: needed });
  const routing = explainRouting(needed === undefined ? { ...plan, shards: null } : plan, cover, info.shards, gate.groupReason);
  const nodes = [...cover.nodes.keys()];
  const readPath = ctx.readPath;
  const hedging = readPath.canHedge(placement);
  const alias = singleAliasOf(req);
  const view = ctx.versions.cached(uid) ?? (await ctx.versions.get(uid));
  const pending = ctx.broadcasts.inconsistent(uid);
  const sharing = ctx.reads.sharing(req);
  const result: Record<string, unknown> = {
    alias_resolution: alias === undefined ? null : { from: alias.name, to: uid, version: alias.version },
    ...routing,
    hedging_armed: hedging,
    hedge_trigger_ms: hedging && nodes.length > 0 ? round(Math.max(...nodes.map((n) => readPath.hedgeTriggerMs(n)))) : null,
    coalescing_eligible: sharing.coalescing,
    cache_candidate: sharing.cache,
    tenant_affinity_pinned: gate.groupReason === 'tenant',
    estimated_p95_ms: nodes.length === 0 ? null : round(Math.max(...nodes.map((n) => readPath.stats.p95(n)))),
    settings_version: view?.version ?? 0,
    broadcast_pending: pending,
  };
  if (pending) result.broadcast_phase = ctx.broadcasts.phase(uid) ?? null;

  const warnings = explainWarnings(query, plan, { maxTotalHits: info.settings.pagination.maxTotalHits });
  if (pending) {
    warnings.push({ code: 'settings_broadcast_in_flight', message: 'A settings change is being broadcast to the nodes: until it commits, nodes may answer with the old or the new settings.' });
  }
  if (info.settingsKnown) {
    const unfilterable = unfilterableWarning(query.filter, info);
    if (unfilterable !== undefined) warnings.push(unfilterable);
  } else {
    warnings.push({ code: 'settings_unknown', message: 'This orchestrator has not read the index’s settings yet: the warnings that depend on them were skipped.' });
  }
  if (cover.uncovered.length > 0) {
    warnings.push({ code: 'shards_uncovered', message: `No eligible node serves shard(s) ${cover.uncovered.join(', ')}: the answer would miss their documents.` });
  }
  if (operator) {
    const drifted = nodes.filter((n) => !ctx.drift.serves(n));
    if (drifted.length > 0) warnings.push({ code: 'settings_drift', message: `Node(s) ${drifted.join(', ')} may hold settings that differ from the committed ones.` });
    const unverified = nodes.filter((n) => !gate.settled(n));
    if (unverified.length > 0) {
      warnings.push({ code: 'node_not_verified', message: `Node(s) ${unverified.join(', ')} are not verified at the committed settings version; they serve only shards no verified node can.` });
    }
    const tenant = gate.tenant;
    if (tenant.tenant !== null && tenant.groupId !== undefined && cover.groupId !== tenant.groupId) {
      warnings.push({
        code: 'tenant_mismatch',
        message: `Tenant \`${tenant.tenant}\` belongs to group ${tenant.groupId}, but group ${cover.groupId} serves this read (${gate.groupReason === 'session' ? 'its session is pinned there' : 'its group cannot serve it'}).`,
      });
    }
  }
  return { plan: result, warnings: operator ? warnings : warnings.filter((w) => !OPERATOR_WARNINGS.has(w.code)) };
}

/** The search would fail on its filter: it does not parse, or names an attribute the index cannot filter on. */
function unfilterableWarning(filter: unknown, info: IndexInfo): ExplainWarning | undefined {
  let ast;
  try {
    ast = parseFilter(filter);
  } catch (e) {
    return e instanceof FilterError ? { code: 'invalid_filter', message: e.message } : undefined;
  }
  if (ast === null) return undefined;
  try {
    // As the client sees the settings: Miroir's own filterable field is not named.
    checkFilterable(ast, withoutReservedFilterable(info.settings.filterableAttributes));
    return undefined;
  } catch (e) {
    return e instanceof FilterError ? { code: 'unfilterable_attribute', message: e.message } : undefined;
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
