/**
 * Settings fingerprints and the verify step of the settings broadcast (spec S13.5): what the nodes
 * hold, put in one canonical form and hashed, and the judgement of which nodes hold what they should.
 *
 * Fingerprints are taken over the node-side settings (Miroir's reserved filterable fields included).
 */
import { createHash } from 'node:crypto';
import { defaultSettings, type Settings } from '@miroir/protocol';

/**
 * Lists whose order changes results: ranking rules and searchable attributes (attribute rank), and
 * localized-attribute rules (the first matching rule wins). Every other list is a set.
 */
const ORDERED_LISTS: ReadonlySet<string> = new Set(['rankingRules', 'searchableAttributes', 'localizedAttributes']);

/** `value` in canonical form: object keys sorted, set-like lists sorted, ordered lists kept. */
export function canonicalSettings(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonicalSettings(v));
    if (key !== undefined && ORDERED_LISTS.has(key)) return items;
    return items.map((v) => [JSON.stringify(v), v] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = canonicalSettings((value as Record<string, unknown>)[k], k);
    return out;
  }
  return value;
}

/** `sha256(canonical JSON)` of a node's settings, hex. */
export function settingsFingerprint(settings: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(JSON.stringify(canonicalSettings(settings))).digest('hex');
}

/** Settings a node merges into what it had (a partial update); every other setting is replaced. */
const MERGED: ReadonlySet<string> = new Set(['typoTolerance', 'faceting', 'pagination', 'embedders']);

/**
 * Whether `actual` holds `expected`: equal scalars and lists (in canonical form), and for objects
 * every expected key held (a partial update such as `typoTolerance: {enabled: false}` merges into
 * what the node had). A nested `null` resets a sub-field to the node's default and holds anyway.
 */
function holds(actual: unknown, expected: unknown): boolean {
  if (expected === null) return true;
  if (Array.isArray(expected)) return Array.isArray(actual) && JSON.stringify(actual) === JSON.stringify(expected);
  if (typeof expected === 'object') {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
    const a = actual as Record<string, unknown>;
    return Object.entries(expected as Record<string, unknown>).every(([k, v]) => holds(a[k], v));
  }
  return actual === expected;
}

/**
 * The settings a proposal sets that a node's settings do not hold (empty: the node holds them all).
 * A proposal maps top-level settings to their node-side value; `null` is a reset to the default.
 */
export function unheldSettings(proposal: Readonly<Record<string, unknown>>, node: Readonly<Record<string, unknown>>): string[] {
  const defaults = defaultSettings() as unknown as Record<string, unknown>;
  const out: string[] = [];
  for (const [k, v] of Object.entries(proposal)) {
    const expected = canonicalSettings(v === null ? (defaults[k] ?? null) : v, k);
    const actual = canonicalSettings(node[k] ?? null, k);
    const ok = v !== null && MERGED.has(k) ? holds(actual, expected) : JSON.stringify(actual) === JSON.stringify(expected);
    if (!ok) out.push(k);
  }
  return out;
}

/** One node's settings as read for a verify, or why they could not be read. */
export interface NodeSettingsRead {
  readonly nodeId: string;
  readonly settings?: Settings;
  /** Why the settings could not be read (unreachable, index missing…). */
  readonly error?: string;
}

export interface SettingsJudgement {
  /** The settings every node should hold, when some node holds acceptable ones. */
  readonly reference?: { readonly fingerprint: string; readonly settings: Settings };
  /** Nodes holding the reference. */
  readonly verified: string[];
  /** Nodes that do not, with the reason. */
  readonly divergent: { nodeId: string; reason: string }[];
  /** Fingerprint per node that could be read. */
  readonly fingerprints: ReadonlyMap<string, string>;
}

/**
 * The verify step: which settings are the reference and which nodes hold them.
 * - With a `proposal` (a broadcast), only settings that hold every proposed value are acceptable;
 *   among them, the fingerprint held by the most nodes wins (ties: the earliest node in `reads`).
 * - Without one (the drift check), the `committed` fingerprint wins when a node holds it; else a
 *   fingerprint held by a strict majority; else there is no reference (nothing can be repaired).
 */
export function judgeSettings(
  reads: readonly NodeSettingsRead[],
  opts: { proposal?: Readonly<Record<string, unknown>> | undefined; committed?: string | undefined },
): SettingsJudgement {
  const fingerprints = new Map<string, string>();
  const groups = new Map<string, { settings: Settings; nodes: string[]; acceptable: boolean }>();
  for (const r of reads) {
    if (r.settings === undefined) continue;
    const fp = settingsFingerprint(r.settings as unknown as Record<string, unknown>);
    fingerprints.set(r.nodeId, fp);
    let g = groups.get(fp);
    if (g === undefined) {
      const acceptable = opts.proposal === undefined || unheldSettings(opts.proposal, r.settings as unknown as Record<string, unknown>).length === 0;
      groups.set(fp, (g = { settings: r.settings, nodes: [], acceptable }));
    }
    g.nodes.push(r.nodeId);
  }
  let chosen: string | undefined;
  if (opts.proposal !== undefined) {
    let best = 0;
    for (const [fp, g] of groups) if (g.acceptable && g.nodes.length > best) [chosen, best] = [fp, g.nodes.length];
  } else if (opts.committed !== undefined && groups.has(opts.committed)) {
    chosen = opts.committed;
  } else {
    const readable = fingerprints.size;
    for (const [fp, g] of groups) if (g.nodes.length * 2 > readable) chosen = fp;
  }
  const ref = chosen === undefined ? undefined : groups.get(chosen)!;
  const verified = ref?.nodes ?? [];
  const divergent: { nodeId: string; reason: string }[] = [];
  for (const r of reads) {
    if (verified.includes(r.nodeId)) continue;
    let reason: string;
    if (r.settings === undefined) reason = r.error ?? 'settings could not be read';
    else if (ref === undefined) reason = opts.proposal ? `does not hold ${unheldSettings(opts.proposal, r.settings as never).join(', ')}` : 'no settings are held by a majority of nodes';
    else reason = `settings fingerprint ${fingerprints.get(r.nodeId)!.slice(0, 12)} differs from ${chosen!.slice(0, 12)}`;
    divergent.push({ nodeId: r.nodeId, reason });
  }
  return { ...(ref ? { reference: { fingerprint: chosen!, settings: ref.settings } } : {}), verified, divergent, fingerprints };
}

/**
 * The body that makes a node hold `reference` whatever it holds now: the whole settings object,
 * plus a removal (`null`) of every embedder the node has and the reference does not (embedders
 * are merged by a settings update, not replaced).
 */
export function repairBody(reference: Settings, current: Settings | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = { ...reference };
  const extra = Object.keys(current?.embedders ?? {}).filter((k) => !(k in reference.embedders));
  if (extra.length > 0) body.embedders = { ...reference.embedders, ...Object.fromEntries(extra.map((k) => [k, null])) };
  return body;
}
