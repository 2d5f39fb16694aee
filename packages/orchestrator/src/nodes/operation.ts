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

/** True when `path` has `word` at `at`, ending there or followed by `/` or `?`. */
function segmentAt(path: string, at: number, word: string): boolean {
  if (!path.startsWith(word, at)) return false;
  const next = path.charCodeAt(at + word.length);
  return Number.isNaN(next) || next === 0x2f /* / */ || next === 0x3f /* ? */;
}

/** Classifies a node request by method and path (query string ignored); allocates nothing. */
export function nodeOperation(method: string, path: string): NodeOperation {
  if (segmentAt(path, 0, '/health')) return 'health';
  if (segmentAt(path, 0, '/multi-search')) return 'multi_search';
  if (segmentAt(path, 0, '/tasks') || segmentAt(path, 0, '/batches')) return 'tasks';
  if (segmentAt(path, 0, '/keys')) return 'keys';
  if (segmentAt(path, 0, '/stats')) return 'stats';
  if (segmentAt(path, 0, '/version') || segmentAt(path, 0, '/experimental-features')) return 'meta';
  if (!segmentAt(path, 0, '/indexes')) return 'other';
  // /indexes/{uid}/<resource>[/...]: the resource follows the uid.
  let uidEnd = 9;
  while (uidEnd < path.length && path.charCodeAt(uidEnd) !== 0x2f && path.charCodeAt(uidEnd) !== 0x3f) uidEnd++;
  if (uidEnd >= path.length || path.charCodeAt(uidEnd) === 0x3f) return 'indexes';
  const at = uidEnd + 1;
  if (segmentAt(path, at, 'search')) return 'search';
  if (segmentAt(path, at, 'facet-search')) return 'facet_search';
  if (segmentAt(path, at, 'stats')) return 'stats';
  if (segmentAt(path, at, 'settings')) return 'settings';
  if (segmentAt(path, at, 'documents')) {
    if (method === 'DELETE' || segmentAt(path, at + 10, 'delete') || segmentAt(path, at + 10, 'delete-batch')) return 'documents_delete';
    if (method === 'GET' || segmentAt(path, at + 10, 'fetch')) return 'documents_read';
    return 'documents_write';
  }
  return 'other';
}
