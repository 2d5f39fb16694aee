import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { assembleDocuments, mergeSortedDocuments, parseSortCriteria, planDocumentReads } from '../src/core/documents-list.js';
import { rfc3339ToMicros } from '@miroir/protocol';
import { aggregateStatus, foldTask, type FoldableTask, type MappedNodeTask, type NodeTaskView, type TaskStatus } from '../src/core/tasks.js';
import { aggregateGlobalStats, aggregateIndexStats } from '../src/core/stats.js';

describe('document listing', () => {
  it('reads only the shards that overlap the window', () => {
    const totals = [3, 0, 5, undefined, 2];
    assert.deepEqual(planDocumentReads(totals, 0, 2), { total: 10, reads: [{ shard: 0, offset: 0, limit: 2 }] });
    assert.deepEqual(planDocumentReads(totals, 2, 4), {
      total: 10,
      reads: [
        { shard: 0, offset: 2, limit: 1 },
        { shard: 2, offset: 0, limit: 3 },
      ],
    });
    assert.deepEqual(planDocumentReads(totals, 7, 20).reads, [
      { shard: 2, offset: 4, limit: 1 },
      { shard: 4, offset: 0, limit: 2 },
    ]);
    assert.deepEqual(planDocumentReads(totals, 10, 5).reads, []);
    assert.deepEqual(planDocumentReads(totals, 0, 0).reads, []);
  });

  it('pages of any size concatenate to the whole listing, in shard order', () => {
    const shards = [['a', 'b'], [], ['c', 'd', 'e'], ['f']];
    const totals = shards.map((s) => s.length);
    const whole: string[] = [];
    for (let offset = 0; offset < 6; offset += 4) {
      const plan = planDocumentReads(totals, offset, 4);
      const pages = new Map(plan.reads.map((r) => [r.shard, shards[r.shard].slice(r.offset, r.offset + r.limit).map((id) => ({ id, _miroir_shard: r.shard }))]));
      const page = assembleDocuments(plan, pages, offset, 4);
      assert.equal(page.total, 6);
      assert.deepEqual(Object.keys(page), ['results', 'offset', 'limit', 'total']);
      whole.push(...page.results.map((d) => {
        assert.deepEqual(Object.keys(d), ['id']);
        return d.id as string;
      }));
    }
    assert.deepEqual(whole, ['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('merges sorted listings by the sort values, missing last', () => {
    const n1 = [{ id: 1, price: 5 }, { id: 2, price: 'x' }, { id: 3 }];
    const n2 = [{ id: 4, price: [9, 1] }, { id: 5, price: 7 }];
    const page = mergeSortedDocuments([n1, n2], parseSortCriteria(['price:asc']), 'id', 1, 3, 5);
    assert.deepEqual(page, { results: [{ id: 1, price: 5 }, { id: 5, price: 7 }, { id: 2, price: 'x' }], offset: 1, limit: 3, total: 5 });
    const desc = mergeSortedDocuments([n1, n2], parseSortCriteria(['price:desc']), 'id', 0, 5, 5);
    assert.deepEqual(desc.results.map((d) => d.id), [4, 5, 1, 2, 3]);
    const flags = mergeSortedDocuments([[{ id: 1, on: true }, { id: 2 }], [{ id: 4, on: 2 }, { id: 3, on: false }]], parseSortCriteria(['on:asc']), 'id', 0, 4, 4);
    assert.deepEqual(flags.results.map((d) => d.id), [4, 3, 1, 2]);
  });
});

function nt(status: TaskStatus, extra: Partial<NodeTaskView> = {}): NodeTaskView {
  return { uid: 1, status, type: 'documentAdditionOrUpdate', ...extra };
}

describe('task aggregation', () => {
  const table: [TaskStatus[], TaskStatus][] = [
    [['enqueued', 'enqueued'], 'enqueued'],
    [['enqueued', 'processing'], 'processing'],
    [['enqueued', 'succeeded'], 'processing'],
    [['succeeded', 'succeeded'], 'succeeded'],
    [['succeeded', 'failed'], 'failed'],
    [['processing', 'failed'], 'failed'],
    [['canceled', 'canceled'], 'canceled'],
    [['canceled', 'succeeded'], 'canceled'],
    [['canceled', 'processing'], 'processing'],
    [[], 'enqueued'],
  ];
  for (const [input, want] of table) {
    it(`[${input.join(', ')}] → ${want}`, () => assert.equal(aggregateStatus(input), want));
  }

  const record: FoldableTask = {
    uid: 42,
    status: 'enqueued',
    batchUid: null,
    canceledBy: null,
    details: { receivedDocuments: 10, indexedDocuments: null },
    error: null,
    startedAt: null,
    finishedAt: null,
  };
  const at = (t: string) => rfc3339ToMicros(t);

  it('counts indexed documents once across RF=2 and RG=2', () => {
    // Group 0: 3 nodes, RF=2 → 20 copies of 10 docs. Group 1: missed a replica (node b1 indexed 0).
    const nodes: MappedNodeTask[] = [
      { nodeId: 'a0', groupId: 0, copies: 2, task: nt('succeeded', { details: { indexedDocuments: 7 }, startedAt: '2026-01-01T10:00:00.5Z', finishedAt: '2026-01-01T10:00:01Z' }) },
      { nodeId: 'a1', groupId: 0, copies: 2, task: nt('succeeded', { details: { indexedDocuments: 6 }, startedAt: '2026-01-01T10:00:00.25Z', finishedAt: '2026-01-01T10:00:01.75Z' }) },
      { nodeId: 'a2', groupId: 0, copies: 2, task: nt('succeeded', { details: { indexedDocuments: 7 }, startedAt: '2026-01-01T10:00:00.3Z', finishedAt: '2026-01-01T10:00:01.1Z' }) },
      { nodeId: 'b0', groupId: 1, copies: 2, task: nt('succeeded', { details: { indexedDocuments: 10 }, startedAt: '2026-01-01T10:00:00.4Z', finishedAt: '2026-01-01T10:00:01Z' }) },
      { nodeId: 'b1', groupId: 1, copies: 2, task: nt('succeeded', { details: { indexedDocuments: 0 }, startedAt: '2026-01-01T10:00:00.4Z', finishedAt: '2026-01-01T10:00:01Z' }) },
    ];
    assert.deepEqual(foldTask(record, nodes), {
      ...record,
      status: 'succeeded',
      batchUid: 42,
      details: { receivedDocuments: 10, indexedDocuments: 10 },
      startedAt: at('2026-01-01T10:00:00.25Z'),
      finishedAt: at('2026-01-01T10:00:01.75Z'),
    });
  });

  it('node tasks on a node that left the topology never hold a task pending', () => {
    const gone = { message: 'gone', code: 'miroir_node_removed', type: 'system', link: 'https://docs.meilisearch.com/errors#miroir_node_removed' };
    const allGone = { error: gone, at: at('2026-01-01T10:00:05Z') };
    // The others decide: the task succeeds with what they indexed.
    const decided = foldTask(
      record,
      [
        { nodeId: 'a', groupId: 0, copies: 1, task: nt('succeeded', { details: { indexedDocuments: 10 }, startedAt: '2026-01-01T10:00:02Z', finishedAt: '2026-01-01T10:00:03Z' }) },
        { nodeId: 'b', groupId: 0, copies: 1, task: null, gone: true },
      ],
      null,
      allGone,
    );
    assert.equal(decided.status, 'succeeded');
    assert.deepEqual(decided.details, { receivedDocuments: 10, indexedDocuments: 10 });
    // Still waiting on a live node: pending, whatever the gone one did.
    const waiting = foldTask(record, [{ nodeId: 'a', groupId: 0, copies: 1, task: null }, { nodeId: 'b', groupId: 0, copies: 1, task: null, gone: true }], null, allGone);
    assert.equal(waiting.status, 'enqueued');
    // Nothing left to read: failed, with the given error and time, counters at 0.
    const failed = foldTask(record, [{ nodeId: 'b', groupId: 0, copies: 1, task: null, gone: true }], null, allGone);
    assert.deepEqual(
      { status: failed.status, error: failed.error, details: failed.details, finishedAt: failed.finishedAt, startedAt: failed.startedAt, batchUid: failed.batchUid },
      { status: 'failed', error: gone, details: { receivedDocuments: 10, indexedDocuments: 0 }, finishedAt: allGone.at, startedAt: allGone.at, batchUid: 42 },
    );
  });

  it('keeps counters null until finished and reports the failing node error without reserved fields', () => {
    const err = {
      message: 'Attribute `x` is not filterable. Available filterable attribute patterns are: `_miroir_shard`, `genre`.',
      code: 'invalid_document_filter',
      type: 'invalid_request',
      link: 'https://docs.meilisearch.com/errors#invalid_document_filter',
    };
    const running = foldTask(record, [
      { nodeId: 'a', groupId: 0, copies: 1, task: nt('processing', { startedAt: '2026-01-01T10:00:02Z' }) },
      { nodeId: 'b', groupId: 0, copies: 1, task: null },
    ]);
    assert.equal(running.status, 'processing');
    assert.deepEqual(running.details, { receivedDocuments: 10, indexedDocuments: null });
    assert.equal(running.startedAt, at('2026-01-01T10:00:02Z'));
    assert.equal(running.finishedAt, null);
    const failed = foldTask(record, [
      { nodeId: 'a', groupId: 0, copies: 1, task: nt('succeeded', { details: { indexedDocuments: 4 }, startedAt: '2026-01-01T10:00:02Z', finishedAt: '2026-01-01T10:00:03Z' }) },
      { nodeId: 'b', groupId: 0, copies: 1, task: nt('failed', { error: err, details: { indexedDocuments: 0 }, startedAt: '2026-01-01T10:00:02Z', finishedAt: '2026-01-01T10:00:02.000123Z' }) },
    ]);
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.error, { ...err, message: 'Attribute `x` is not filterable. Available filterable attribute patterns are: `genre`.' });
    assert.equal(failed.finishedAt! - failed.startedAt!, 1_000_000);
    const waiting = foldTask(record, [{ nodeId: 'a', groupId: 0, copies: 1, task: nt('enqueued', { startedAt: null }) }]);
    assert.equal(waiting, record, 'nothing changed: the same object');
  });

  it('counts deleted documents once per group for a broadcast delete', () => {
    const rec: FoldableTask = { ...record, details: { providedIds: 0, originalFilter: '"genre = x"', deletedDocuments: null } };
    const folded = foldTask(rec, [
      { nodeId: 'a0', groupId: 0, copies: 3, task: nt('succeeded', { details: { deletedDocuments: 4 } }) },
      { nodeId: 'a1', groupId: 0, copies: 3, task: nt('succeeded', { details: { deletedDocuments: 4 } }) },
      { nodeId: 'a2', groupId: 0, copies: 3, task: nt('succeeded', { details: { deletedDocuments: 4 } }) },
    ]);
    assert.deepEqual(folded.details, { providedIds: 0, originalFilter: '"genre = x"', deletedDocuments: 4 });
  });

  it('shows a node task\'s details, reserved fields hidden, where a node normalizes them', () => {
    const rec: FoldableTask = { ...record, details: { filterableAttributes: ['b', 'a'] }, detailsFrom: 0 };
    const node = nt('enqueued', { details: { filterableAttributes: ['a', 'b', '_miroir_shard'] } });
    const folded = foldTask(rec, [{ nodeId: 'a', groupId: 0, copies: 1, task: node }], node);
    assert.deepEqual(folded.details, { filterableAttributes: ['a', 'b'] });
  });
});

describe('stats aggregation', () => {
  it('counts each document once and hides reserved fields', () => {
    const s = aggregateIndexStats({
      numberOfDocuments: 10,
      copies: 2,
      groupNodes: [
        { numberOfDocuments: 6, rawDocumentDbSize: 600, avgDocumentSize: 100, isIndexing: false, fieldDistribution: { title: 6, _miroir_shard: 6, year: 2 } },
        { numberOfDocuments: 7, rawDocumentDbSize: 1400, avgDocumentSize: 200, isIndexing: false, fieldDistribution: { title: 7, _miroir_shard: 7, genre: 4 } },
        { numberOfDocuments: 7, rawDocumentDbSize: 0, avgDocumentSize: 150, isIndexing: false, fieldDistribution: { title: 7, _miroir_shard: 7, year: 2, genre: 4 } },
      ],
      indexingAnywhere: [false, false, true],
    });
    assert.deepEqual(s, {
      numberOfDocuments: 10,
      rawDocumentDbSize: 1000,
      avgDocumentSize: 153, // (6×100 + 7×200 + 7×150) / 20 = 152.5
      isIndexing: true,
      fieldDistribution: { genre: 4, title: 10, year: 2 },
    });
    assert.deepEqual(Object.keys(s), ['numberOfDocuments', 'rawDocumentDbSize', 'avgDocumentSize', 'isIndexing', 'fieldDistribution']);
  });

  it('global stats: sizes per copy, latest update, indexes by uid', () => {
    const idx = aggregateIndexStats({ numberOfDocuments: 0, copies: 1, groupNodes: [], indexingAnywhere: [] });
    assert.deepEqual(idx, { numberOfDocuments: 0, isIndexing: false, fieldDistribution: {} });
    const g = aggregateGlobalStats(
      [{ databaseSize: 100, usedDatabaseSize: 80, lastUpdate: '2026-01-01T10:00:00Z' }, { databaseSize: 300, usedDatabaseSize: 200, lastUpdate: null }],
      2,
      [{ databaseSize: 1, lastUpdate: '2026-01-01T10:00:00Z' }, { databaseSize: 1, lastUpdate: '2026-01-02T00:00:00.5Z' }, { databaseSize: 1, lastUpdate: null }],
      { zeta: idx, alpha: idx },
    );
    assert.deepEqual(g, { databaseSize: 200, usedDatabaseSize: 140, lastUpdate: '2026-01-02T00:00:00.5Z', indexes: { alpha: idx, zeta: idx } });
    assert.deepEqual(Object.keys(g.indexes), ['alpha', 'zeta']);
  });
});
