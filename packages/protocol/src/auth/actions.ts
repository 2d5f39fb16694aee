/**
 * API key actions: the names Meilisearch accepts (in its declaration order, which its
 * `invalid_api_key_actions` message lists) and what each grants.
 *
 * @see https://www.meilisearch.com/docs/reference/api/keys
 */

/** Every action a key may hold, in Meilisearch's order (`Action` enum; `tasks.compact` from the v1.50 reference). */
export const ACTIONS = [
  '*',
  'search',
  'documents.*',
  'documents.add',
  'documents.get',
  'documents.delete',
  'indexes.*',
  'indexes.create',
  'indexes.get',
  'indexes.update',
  'indexes.delete',
  'indexes.swap',
  'tasks.*',
  'tasks.cancel',
  'tasks.delete',
  'tasks.get',
  'settings.*',
  'settings.get',
  'settings.update',
  'stats.*',
  'stats.get',
  'metrics.*',
  'metrics.get',
  'dumps.*',
  'dumps.create',
  'snapshots.*',
  'snapshots.create',
  'version',
  'keys.create',
  'keys.get',
  'keys.update',
  'keys.delete',
  'experimental.get',
  'experimental.update',
  'export',
  'network.get',
  'network.update',
  'chatCompletions',
  'chats.*',
  'chats.get',
  'chats.delete',
  'chatsSettings.*',
  'chatsSettings.get',
  'chatsSettings.update',
  '*.get',
  'webhooks.get',
  'webhooks.update',
  'webhooks.delete',
  'webhooks.create',
  'webhooks.*',
  'indexes.compact',
  'fields.post',
  'tasks.compact',
] as const;
export type Action = (typeof ACTIONS)[number];

const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);

/** Whether a string names an action. */
export function isAction(a: string): a is Action {
  return ACTION_SET.has(a);
}

/** Actions `*.get` grants (Meilisearch's `Action::is_read`; `keys.get` is deliberately not one). */
const READ_ACTIONS: readonly Action[] = [
  'search',
  'documents.get',
  'export',
  'indexes.get',
  'tasks.get',
  'settings.get',
  'stats.get',
  'metrics.get',
  'version',
  'experimental.get',
  'network.get',
  'chats.get',
  'chatsSettings.get',
  'webhooks.get',
];

const FAMILIES: Partial<Record<Action, readonly Action[]>> = {
  'documents.*': ['documents.add', 'documents.get', 'documents.delete'],
  'indexes.*': ['indexes.create', 'indexes.get', 'indexes.update', 'indexes.delete', 'indexes.swap', 'indexes.compact'],
  'tasks.*': ['tasks.cancel', 'tasks.delete', 'tasks.get', 'tasks.compact'],
  'settings.*': ['settings.get', 'settings.update'],
  'stats.*': ['stats.get'],
  'metrics.*': ['metrics.get'],
  'dumps.*': ['dumps.create'],
  'snapshots.*': ['snapshots.create'],
  'chats.*': ['chats.get', 'chats.delete'],
  'chatsSettings.*': ['chatsSettings.get', 'chatsSettings.update'],
  'webhooks.*': ['webhooks.get', 'webhooks.update', 'webhooks.delete', 'webhooks.create'],
  '*.get': READ_ACTIONS,
};

/** Every action a key holding `actions` may perform (wildcards expanded). */
export function expandActions(actions: readonly string[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const a of actions) {
    if (a === '*') return ACTION_SET;
    out.add(a);
    for (const g of FAMILIES[a as Action] ?? []) out.add(g);
  }
  return out;
}

/** The `/keys` actions: without a master key these are the only closed routes. */
export function isKeysAction(action: string): boolean {
  return action === 'keys.get' || action === 'keys.create' || action === 'keys.update' || action === 'keys.delete';
}
