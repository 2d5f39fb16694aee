/**
 * Reserved fields in settings (spec S5.3): nodes must be able to filter on `_miroir_shard` (the
 * read path's shard filter, migrations, anti-entropy), so Miroir adds it to every node's
 * `filterableAttributes` and hides it again from everything a client reads back.
 */
import type { FilterableAttribute, Settings } from '@miroir/protocol';
import { isReservedField as isReserved, RESERVED_PREFIX, SHARD_FIELD } from './documents.js';

/** The node-side `filterableAttributes` for what a client set (null = reset). */
export function withReservedFilterable(client: readonly FilterableAttribute[] | null | undefined): FilterableAttribute[] {
  const list = (client ?? []).filter((a) => typeof a !== 'string' || !isReserved(a));
  return [...list, SHARD_FIELD];
}

/** `filterableAttributes` as the client sees it: reserved names removed (also from pattern rules). */
export function withoutReservedFilterable(node: readonly FilterableAttribute[]): FilterableAttribute[] {
  const out: FilterableAttribute[] = [];
  for (const a of node) {
    if (typeof a === 'string') {
      if (!isReserved(a)) out.push(a);
      continue;
    }
    const patterns = a.attributePatterns.filter((p) => !isReserved(p));
    if (patterns.length === a.attributePatterns.length) out.push(a);
    else if (patterns.length > 0) out.push({ ...a, attributePatterns: patterns });
  }
  return out;
}

/** Whether a node's settings already let Miroir filter on the shard field. */
export function hasShardFilterable(settings: Pick<Settings, 'filterableAttributes'>): boolean {
  return settings.filterableAttributes.some((a) => a === SHARD_FIELD);
}

/** A settings object (full or partial) as the client sees it. */
export function clientSettings<T extends Partial<Settings>>(node: T): T {
  if (node.filterableAttributes === undefined || node.filterableAttributes === null) return node;
  return { ...node, filterableAttributes: withoutReservedFilterable(node.filterableAttributes) };
}

/**
 * The body Miroir sends nodes for a client's settings update: a client may set, reset (null) or
 * omit `filterableAttributes`; the nodes always keep the reserved field.
 */
export function nodeSettingsUpdate(client: Record<string, unknown>): Record<string, unknown> {
  const f = client.filterableAttributes;
  // Anything but a list or a reset is left for the nodes to reject with their own error.
  if (!('filterableAttributes' in client) || (f !== null && !Array.isArray(f))) return client;
  return { ...client, filterableAttributes: withReservedFilterable(f as FilterableAttribute[] | null) };
}


const LIST_CLAUSE = /Available ([a-z-]+) attributes? (?:patterns )?are: ((?:`[^`]*`(?:, )?)+)\./g;

/**
 * A node's error message as one node without Miroir's reserved fields would word it: reserved
 * names are dropped from the "Available … are: `a`, `b`." lists, and a list left empty becomes
 * "This index does not have configured … attributes." (e.g. for a filter on a non-filterable field).
 */
export function withoutReservedInMessage(message: string): string {
  if (!message.includes(RESERVED_PREFIX)) return message;
  return message.replace(LIST_CLAUSE, (clause, kind: string, list: string) => {
    // Two list styles occur: `a`, `b` (one pair of backticks per item) and `a, b` (one pair in all).
    const onePair = !list.slice(1, -1).includes('`');
    const items = (onePair ? list.slice(1, -1) : list.replaceAll('`', '')).split(', ').filter((x) => !isReserved(x));
    if (items.length === 0) return `This index does not have configured ${kind} attributes.`;
    return clause.replace(list, onePair ? `\`${items.join(', ')}\`` : items.map((x) => `\`${x}\``).join(', '));
  });
}
