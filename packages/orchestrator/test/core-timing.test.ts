/**
 * core/timing.ts: a cluster's `processingTimeMs` is the slowest node's plus Miroir's merge time,
 * truncated as Meilisearch truncates (`as_millis`); `performanceDetails` is the slowest node's trace,
 * placed where the response kind serializes it.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { clusterProcessingTimeMs, slowestAnswer, withClusterTiming, type NodeTiming } from '../src/core/timing.js';

describe('cluster timing', () => {
  it('slowest node plus the merge, truncated to whole milliseconds', () => {
    assert.equal(clusterProcessingTimeMs([{ processingTimeMs: 3 }, { processingTimeMs: 7 }, { processingTimeMs: 1 }], 0.4), 7);
    assert.equal(clusterProcessingTimeMs([{ processingTimeMs: 0 }, { processingTimeMs: 0 }], 0.93), 0);
    assert.equal(clusterProcessingTimeMs([{ processingTimeMs: 2 }], 1.5), 3);
    assert.equal(clusterProcessingTimeMs([], 0.2), 0);
    assert.equal(clusterProcessingTimeMs([{}], 2.2), 2);
  });

  it('the slowest answer is the first of equals', () => {
    const a = { processingTimeMs: 4, id: 'a' };
    const b = { processingTimeMs: 4, id: 'b' };
    assert.equal(slowestAnswer([{ processingTimeMs: 1, id: 'c' }, a, b])?.id, 'a');
    assert.equal(slowestAnswer([]), undefined);
  });

  it('replaces processingTimeMs in place and adds the slowest trace where asked', () => {
    const nodes: NodeTiming[] = [
      { processingTimeMs: 1, performanceDetails: { search: '1.00ms' } },
      { processingTimeMs: 5, performanceDetails: { search: '5.20ms', 'search > sort': '4.00ms' } },
    ];
    const plain = withClusterTiming({ hits: [], query: '', processingTimeMs: 0, limit: 20 }, nodes, 0.3);
    assert.deepEqual(Object.keys(plain), ['hits', 'query', 'processingTimeMs', 'limit']);
    assert.equal(plain.processingTimeMs, 5);

    const search = withClusterTiming({ hits: [], processingTimeMs: 0, semanticHitCount: 2 }, nodes, 0, { before: 'semanticHitCount' });
    assert.deepEqual(Object.keys(search), ['hits', 'processingTimeMs', 'performanceDetails', 'semanticHitCount']);
    assert.deepEqual((search as Record<string, unknown>).performanceDetails, { search: '5.20ms', 'search > sort': '4.00ms' });

    const noSemantic = withClusterTiming({ hits: [], processingTimeMs: 0 }, nodes, 0, { before: 'semanticHitCount' });
    assert.deepEqual(Object.keys(noSemantic), ['hits', 'processingTimeMs', 'performanceDetails']);

    const last = withClusterTiming({ hits: [], processingTimeMs: 0, semanticHitCount: 1 }, nodes, 0, {});
    assert.deepEqual(Object.keys(last), ['hits', 'processingTimeMs', 'semanticHitCount', 'performanceDetails']);
  });
});
