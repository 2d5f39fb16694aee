/**
 * Experimental features: Meilisearch's runtime-togglable flags, stored in the engine's meta
 * table, and the checks that depend on them.
 *
 * @see https://www.meilisearch.com/docs/reference/api/experimental-features/list-experimental-features
 */
import { CONTAINS_FILTER_DISABLED_MESSAGE, parseFilter, usesContains } from '@miroir/filter';
import { featureNotEnabled, MeiliError } from '@miroir/protocol';
import type { EngineContext } from './context.js';

/** Meilisearch's runtime-togglable experimental features, in its order. */
export const EXPERIMENTAL_FEATURES = [
  'metrics',
  'logsRoute',
  'editDocumentsByFunction',
  'containsFilter',
  'network',
  'getTaskDocumentsRoute',
  'compositeEmbedders',
  'chatCompletions',
  'multimodal',
  'vectorStoreSetting',
] as const;

/** Meta key of the stored feature flags. */
export const FEATURES_KEY = 'experimentalFeatures';

/** Current experimental features (all off on a fresh data dir). */
export function readFeatures(ctx: EngineContext): Record<string, boolean> {
  const stored = JSON.parse(ctx.store.getMeta(FEATURES_KEY) ?? '{}') as Record<string, boolean>;
  const out: Record<string, boolean> = {};
  for (const f of EXPERIMENTAL_FEATURES) out[f] = stored[f] === true;
  return out;
}

/**
 * Throws `feature_not_enabled` when a filter uses `CONTAINS` while `containsFilter` is off.
 * An unparsable filter passes: its syntax error is reported where the filter is evaluated.
 */
export function checkFilterFeatures(ctx: EngineContext, filter: unknown): void {
  if (filter === null || filter === undefined) return;
  // Fast path: most filters cannot contain the operator at all.
  if (!JSON.stringify(filter).includes('CONTAINS')) return;
  let node;
  try {
    node = parseFilter(filter);
  } catch {
    return;
  }
  if (node !== null && usesContains(node) && !readFeatures(ctx).containsFilter) {
    throw new MeiliError('feature_not_enabled', CONTAINS_FILTER_DISABLED_MESSAGE);
  }
}

/**
 * Throws Meilisearch's `feature_not_enabled` error (index-scheduler `FeatureNotEnabledError`)
 * unless the experimental feature `flag` is on.
 */
export function requireFeature(ctx: EngineContext, flag: (typeof EXPERIMENTAL_FEATURES)[number], action: string, feature: string, issue: string): void {
  if (readFeatures(ctx)[flag]) return;
  throw featureNotEnabled(action, feature, issue);
}
