/**
 * The `operation` label of node-call metrics: a fixed vocabulary whatever the index names or
 * query strings are.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { nodeOperation } from '../src/nodes/operation.js';

test('node requests map to a bounded set of operations', () => {
  const cases: [string, string, string][] = [
    ['GET', '/health', 'health'],
    ['POST', '/multi-search', 'multi_search'],
    ['GET', '/tasks?uids=1,2&limit=2', 'tasks'],
    ['GET', '/tasks/7', 'tasks'],
    ['GET', '/batches', 'tasks'],
    ['POST', '/keys', 'keys'],
    ['DELETE', '/keys/abc', 'keys'],
    ['GET', '/stats', 'stats'],
    ['GET', '/version', 'meta'],
    ['PATCH', '/experimental-features', 'meta'],
    ['GET', '/indexes', 'indexes'],
    ['GET', '/indexes?limit=5', 'indexes'],
    ['POST', '/indexes', 'indexes'],
    ['GET', '/indexes/movies', 'indexes'],
    ['DELETE', '/indexes/movies', 'indexes'],
    ['POST', '/indexes/movies/search', 'search'],
    ['GET', '/indexes/movies/search?q=x', 'search'],
    ['POST', '/indexes/search/search', 'search'],
    ['POST', '/indexes/movies/facet-search', 'facet_search'],
    ['GET', '/indexes/movies/stats', 'stats'],
    ['GET', '/indexes/movies/settings', 'settings'],
    ['PUT', '/indexes/movies/settings/filterable-attributes', 'settings'],
    ['POST', '/indexes/movies/documents', 'documents_write'],
    ['PUT', '/indexes/movies/documents', 'documents_write'],
    ['GET', '/indexes/movies/documents?limit=3', 'documents_read'],
    ['GET', '/indexes/movies/documents/12', 'documents_read'],
    ['POST', '/indexes/movies/documents/fetch', 'documents_read'],
    ['DELETE', '/indexes/movies/documents/12', 'documents_delete'],
    ['DELETE', '/indexes/movies/documents', 'documents_delete'],
    ['POST', '/indexes/movies/documents/delete', 'documents_delete'],
    ['POST', '/indexes/movies/documents/delete-batch', 'documents_delete'],
    ['POST', '/indexes/movies/searchable', 'other'],
    ['GET', '/healthz', 'other'],
    ['GET', '/indexesx', 'other'],
    ['POST', '/swap-indexes', 'other'],
  ];
  for (const [method, path, want] of cases) assert.equal(nodeOperation(method, path), want, `${method} ${path}`);
});
