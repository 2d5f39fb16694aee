import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  MeiliError,
  TASK_TYPES,
  accumulateDetails,
  formatDuration,
  formatRfc3339,
  orderDetails,
  paginateUids,
  parseRfc3339Nanos,
  parseTasksQuery,
  rfc3339ToMicros,
  taskMatches,
  toFailedDetails,
  toTaskSummary,
  toTaskView,
  missingTaskFilters,
} from '@miroir/protocol';
import type { TaskFacts, TaskRecord } from '@miroir/protocol';

/** Asserts `fn` throws a MeiliError with exactly this code and message. */
function throwsMeili(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    if (!(e instanceof MeiliError)) return false;
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0) * 1000; // µs

describe('formatRfc3339', () => {
  it('prints fractional seconds trimmed of trailing zeros, as the time crate does', () => {
    assert.equal(formatRfc3339(T0), '2026-01-01T10:00:00Z');
    assert.equal(formatRfc3339(T0 + 123_456), '2026-01-01T10:00:00.123456Z');
    assert.equal(formatRfc3339(T0 + 120_000), '2026-01-01T10:00:00.12Z');
    assert.equal(formatRfc3339(T0 + 1), '2026-01-01T10:00:00.000001Z');
    assert.equal(formatRfc3339(T0 + 59_999_999), '2026-01-01T10:00:59.999999Z');
  });

  it('round-trips through rfc3339ToMicros', () => {
    for (const us of [T0, T0 + 1, T0 + 987_654_321]) assert.equal(rfc3339ToMicros(formatRfc3339(us)), us);
  });
});

describe('formatDuration', () => {
  it('uses the shortest exact unit, like serialize_duration', () => {
    assert.equal(formatDuration(0), 'PT0S');
    assert.equal(formatDuration(1_000_000), 'PT1S');
    assert.equal(formatDuration(184_000), 'PT0.184S');
    assert.equal(formatDuration(9_330), 'PT0.009330S');
    assert.equal(formatDuration(86_400_000_000), 'P1D');
    assert.equal(formatDuration(86_400_000_000 + 2_500_000), 'P1DT2.500S');
    assert.equal(formatDuration(-1), null);
  });
});

describe('parseRfc3339Nanos', () => {
  it('accepts offsets and nanoseconds, rejects impossible dates', () => {
    assert.equal(parseRfc3339Nanos('2026-01-01T10:00:00Z'), BigInt(T0) * 1000n);
    assert.equal(parseRfc3339Nanos('2026-01-01T11:00:00.000000001+01:00'), BigInt(T0) * 1000n + 1n);
    assert.equal(parseRfc3339Nanos('2026-02-30T10:00:00Z'), undefined);
    assert.equal(parseRfc3339Nanos('2026-01-01 10:00:00Z'), undefined);
    assert.equal(parseRfc3339Nanos('2026-01-01'), undefined);
  });
});

describe('parseTasksQuery', () => {
  it('defaults', () => {
    assert.deepEqual(parseTasksQuery({}, 'list'), { filter: {}, limit: 20, from: null, reverse: false, hasFilters: false });
  });

  it('parses lists, case-insensitive names and stars', () => {
    const q = parseTasksQuery(
      { uids: '1, 2,3', statuses: 'SUCCEEDED,failed', types: 'documentadditionorupdate', indexUids: 'movies', limit: '5', from: '+7', reverse: 'true' },
      'list',
    );
    assert.deepEqual(q, {
      filter: { uids: [1, 2, 3], statuses: ['succeeded', 'failed'], types: ['documentAdditionOrUpdate'], indexUids: ['movies'] },
      limit: 5,
      from: 7,
      reverse: true,
      hasFilters: true,
    });
    const star = parseTasksQuery({ statuses: 'failed,*', uids: '*' }, 'cancel');
    assert.deepEqual(star.filter, {});
    assert.equal(star.hasFilters, true);
  });

  it('date bounds: after a bare date means after that whole day; bounds are exclusive microseconds', () => {
    const q = parseTasksQuery({ afterEnqueuedAt: '2026-01-01', beforeEnqueuedAt: '2026-01-01T10:00:00.0000015Z' }, 'list');
    assert.equal(q.filter.afterEnqueuedAt, Date.UTC(2026, 0, 2) * 1000);
    assert.equal(q.filter.beforeEnqueuedAt, T0 + 2); // ceil of 1.5 µs
    assert.deepEqual(parseTasksQuery({ beforeStartedAt: '*' }, 'delete').filter, {});
  });

  it('errors have Meilisearch codes and texts', () => {
    throwsMeili(
      () => parseTasksQuery({ uids: 'doggo' }, 'list'),
      'invalid_task_uids',
      'Invalid value in parameter `uids`: could not parse `doggo` as a positive integer',
    );
    throwsMeili(
      () => parseTasksQuery({ uids: '1,dogo' }, 'delete'),
      'invalid_task_uids',
      'Invalid value in parameter `uids[1]`: could not parse `dogo` as a positive integer',
    );
    throwsMeili(
      () => parseTasksQuery({ canceledBy: 'doggo' }, 'cancel'),
      'invalid_task_canceled_by',
      'Invalid value in parameter `canceledBy`: could not parse `doggo` as a positive integer',
    );
    throwsMeili(
      () => parseTasksQuery({ batchUids: 'x' }, 'list'),
      'invalid_batch_uids',
      'Invalid value in parameter `batchUids`: could not parse `x` as a positive integer',
    );
    throwsMeili(
      () => parseTasksQuery({ statuses: 'doggo' }, 'list'),
      'invalid_task_statuses',
      'Invalid value in parameter `statuses`: `doggo` is not a valid task status. Available statuses are `enqueued`, `processing`, `succeeded`, `failed`, `canceled`.',
    );
    throwsMeili(
      () => parseTasksQuery({ types: 'doggo' }, 'list'),
      'invalid_task_types',
      `Invalid value in parameter \`types\`: \`doggo\` is not a valid task type. Available types are ${TASK_TYPES.map((t) => `\`${t}\``).join(', ')}.`,
    );
    throwsMeili(
      () => parseTasksQuery({ indexUids: 'the good doggo' }, 'list'),
      'invalid_index_uid',
      'Invalid value in parameter `indexUids`: `the good doggo` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.',
    );
    throwsMeili(
      () => parseTasksQuery({ limit: 'doggo' }, 'list'),
      'invalid_task_limit',
      'Invalid value in parameter `limit`: could not parse `doggo` as a positive integer',
    );
    throwsMeili(
      () => parseTasksQuery({ reverse: '*' }, 'list'),
      'invalid_task_reverse',
      'Invalid value in parameter `reverse`: could not parse `*` as a boolean, expected either `true` or `false`',
    );
    throwsMeili(
      () => parseTasksQuery({ afterEnqueuedAt: 'doggo' }, 'list'),
      'invalid_task_after_enqueued_at',
      'Invalid value in parameter `afterEnqueuedAt`: `doggo` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format.',
    );
    throwsMeili(
      () => parseTasksQuery({ beforeFinishedAt: '2026-13-01' }, 'list'),
      'invalid_task_before_finished_at',
      'Invalid value in parameter `beforeFinishedAt`: `2026-13-01` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format.',
    );
    throwsMeili(
      () => parseTasksQuery({ limit: 'doggo' }, 'cancel'),
      'bad_request',
      'Unknown parameter `limit`: expected one of `uids`, `batchUids`, `canceledBy`, `types`, `statuses`, `indexUids`, `afterEnqueuedAt`, `beforeEnqueuedAt`, `afterStartedAt`, `beforeStartedAt`, `afterFinishedAt`, `beforeFinishedAt`',
    );
    throwsMeili(
      () => parseTasksQuery({ statuse: 'failed' }, 'list'),
      'bad_request',
      'Unknown parameter `statuse`: did you mean `statuses`? expected one of `limit`, `from`, `reverse`, `batchUids`, `uids`, `canceledBy`, `types`, `statuses`, `indexUids`, `afterEnqueuedAt`, `beforeEnqueuedAt`, `afterStartedAt`, `beforeStartedAt`, `afterFinishedAt`, `beforeFinishedAt`',
    );
    throwsMeili(
      () => {
        throw missingTaskFilters('cancel');
      },
      'missing_task_filters',
      'Query parameters to filter the tasks to cancel are missing. Available query parameters are: `uids`, `indexUids`, `statuses`, `types`, `canceledBy`, `beforeEnqueuedAt`, `afterEnqueuedAt`, `beforeStartedAt`, `afterStartedAt`, `beforeFinishedAt`, `afterFinishedAt`.',
    );
  });
});

describe('taskMatches', () => {
  const base: TaskFacts = {
    uid: 3,
    batchUid: 2,
    indexUid: 'movies',
    status: 'succeeded',
    type: 'documentAdditionOrUpdate',
    canceledBy: null,
    enqueuedAt: T0,
    startedAt: T0 + 10,
    finishedAt: T0 + 20,
  };

  it('ANDs every filter; lists are ORs', () => {
    assert.equal(taskMatches({}, base), true);
    assert.equal(taskMatches({ uids: [1, 3] }, base), true);
    assert.equal(taskMatches({ uids: [1] }, base), false);
    assert.equal(taskMatches({ batchUids: [2], statuses: ['failed', 'succeeded'] }, base), true);
    assert.equal(taskMatches({ indexUids: ['books'] }, base), false);
    assert.equal(taskMatches({ canceledBy: [3] }, base), false);
    assert.equal(taskMatches({ canceledBy: [7] }, { ...base, status: 'canceled', canceledBy: 7 }), true);
  });

  it('date bounds are exclusive; a task not started never matches a startedAt bound', () => {
    assert.equal(taskMatches({ afterEnqueuedAt: T0 - 1, beforeEnqueuedAt: T0 + 1 }, base), true);
    assert.equal(taskMatches({ afterEnqueuedAt: T0 }, base), false);
    assert.equal(taskMatches({ beforeFinishedAt: T0 + 20 }, base), false);
    assert.equal(taskMatches({ afterStartedAt: 0 }, { ...base, status: 'enqueued', startedAt: null, finishedAt: null }), false);
  });

  it('an indexUids filter never matches tasks not tied to one index', () => {
    assert.equal(taskMatches({ indexUids: ['a'] }, { ...base, indexUid: null, indexes: ['a', 'b'], type: 'indexSwap' }), false);
    assert.equal(taskMatches({ indexUids: ['new'] }, { ...base, type: 'indexUpdate', indexes: ['movies', 'new'] }), true);
  });
});

describe('task rendering', () => {
  const record: TaskRecord = {
    uid: 12,
    batchUid: 7,
    indexUid: 'movies',
    status: 'succeeded',
    type: 'documentAdditionOrUpdate',
    canceledBy: null,
    details: { indexedDocuments: 3, receivedDocuments: 3 },
    error: null,
    enqueuedAt: T0 + 123_456,
    startedAt: T0 + 200_000,
    finishedAt: T0 + 384_000,
    customMetadata: null,
  };

  it('has Meilisearch keys in Meilisearch order', () => {
    const view = toTaskView(record);
    assert.deepEqual(Object.keys(view), [
      'uid',
      'batchUid',
      'indexUid',
      'status',
      'type',
      'canceledBy',
      'details',
      'error',
      'duration',
      'enqueuedAt',
      'startedAt',
      'finishedAt',
    ]);
    assert.equal(
      JSON.stringify(view),
      '{"uid":12,"batchUid":7,"indexUid":"movies","status":"succeeded","type":"documentAdditionOrUpdate","canceledBy":null,' +
        '"details":{"receivedDocuments":3,"indexedDocuments":3},"error":null,"duration":"PT0.184S",' +
        '"enqueuedAt":"2026-01-01T10:00:00.123456Z","startedAt":"2026-01-01T10:00:00.2Z","finishedAt":"2026-01-01T10:00:00.384Z"}',
    );
  });

  it('skips absent details and adds customMetadata only when set', () => {
    const view = toTaskView({ ...record, details: null, customMetadata: 'import-42', startedAt: null, finishedAt: null, status: 'enqueued' });
    assert.deepEqual(Object.keys(view), [
      'uid',
      'batchUid',
      'indexUid',
      'status',
      'type',
      'canceledBy',
      'error',
      'duration',
      'enqueuedAt',
      'startedAt',
      'finishedAt',
      'customMetadata',
    ]);
    assert.equal(view.duration, null);
    assert.equal(view.customMetadata, 'import-42');
  });

  it('summary', () => {
    assert.deepEqual(toTaskSummary(record), {
      taskUid: 12,
      indexUid: 'movies',
      status: 'enqueued',
      type: 'documentAdditionOrUpdate',
      enqueuedAt: '2026-01-01T10:00:00.123456Z',
    });
    assert.equal(toTaskSummary({ ...record, customMetadata: 'm' }).customMetadata, 'm');
  });
});

describe('details', () => {
  it('orders keys like DetailsView, settings keys flattened in the settings slot', () => {
    const d = orderDetails({ swaps: [], stopWords: ['a'], originalFilter: '?x', rankingRules: [], matchedTasks: 1 });
    assert.deepEqual(Object.keys(d), ['matchedTasks', 'originalFilter', 'stopWords', 'rankingRules', 'swaps']);
  });

  it('to_failed zeroes pending counters only', () => {
    assert.deepEqual(toFailedDetails({ receivedDocuments: 2, indexedDocuments: null }), { receivedDocuments: 2, indexedDocuments: 0 });
    assert.deepEqual(toFailedDetails({ primaryKey: 'id' }), { primaryKey: 'id' });
    assert.equal(toFailedDetails(null), null);
  });

  it('accumulates like DetailsView::accumulate', () => {
    assert.deepEqual(
      accumulateDetails({ receivedDocuments: 2, indexedDocuments: null, originalFilter: '?a' }, { receivedDocuments: 3, indexedDocuments: 3, originalFilter: '?b' }),
      { receivedDocuments: 5, indexedDocuments: 3, originalFilter: '?a&?b' },
    );
  });
});

describe('paginateUids', () => {
  it('takes limit + 1 to find next', () => {
    assert.deepEqual(paginateUids([9, 8, 7, 6], 2), { page: [9, 8], next: 7 });
    assert.deepEqual(paginateUids([9, 8], 2), { page: [9, 8], next: null });
    assert.deepEqual(paginateUids([9, 8], 0), { page: [], next: 9 });
  });
});
