/**
 * The `operation` label of node-call metrics and spans: a small fixed vocabulary derived from the
 * Meilisearch route a call hits, so label cardinality stays bounded whatever the index names are.
 */
export type NodeOperation =
  | 'health'
  | 'search'
  | 'facet_search'
  | 'multi_search'
  | 'documents_read'
  | 'documents_write'
  | 'documents_delete'
  | 'settings'
  | 'tasks'
  | 'stats'
  | 'keys'
  | 'indexes'
  | 'meta'
  | 'other';

/** Classifies a node request by method and path (query string ignored). */
export function nodeOperation(method: string, path: string): NodeOperation {
  const q = path.indexOf('?');
  const p = q === -1 ? path : path.slice(0, q);
  if (p === '/health') return 'health';
  if (p === '/multi-search') return 'multi_search';
  if (p.startsWith('/tasks') || p.startsWith('/batches')) return 'tasks';
  if (p.startsWith('/keys')) return 'keys';
  if (p === '/stats') return 'stats';
  if (p === '/version' || p.startsWith('/experimental-features')) return 'meta';
  if (!p.startsWith('/indexes')) return 'other';
  // /indexes/{uid}/<resource>[/...]: the resource is the third segment.
  const uidEnd = p.indexOf('/', 9);
  if (uidEnd === -1) return 'indexes';
  const rest = p.slice(uidEnd + 1);
  if (rest === 'search') return 'search';
  if (rest === 'facet-search') return 'facet_search';
  if (rest === 'stats') return 'stats';
  if (rest.startsWith('settings')) return 'settings';
  if (rest.startsWith('documents')) {
    if (method === 'DELETE' || rest.startsWith('documents/delete')) return 'documents_delete';
    if (method === 'GET' || rest === 'documents/fetch') return 'documents_read';
    return 'documents_write';
  }
  return 'other';
}
