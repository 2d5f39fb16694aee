/**
 * Runtime checks of rows read back from a store: a row another process (or another version) wrote
 * is parsed, never trusted. A row that fails is reported as {@link CorruptRowError}.
 */
import { TASK_STATUSES, TASK_TYPES } from '@miroir/protocol';
import { z } from 'zod';
import type { IndexMeta, JobRow, StoreEvent, TaskRow } from './store.js';
import { canaryRunSchema, TABLES, type CanaryRun, type TableName, type TableRow } from './tables.js';

const int = z.int();
const micros = z.number();

const taskRowSchema = z.looseObject({
  uid: int.min(0),
  batchUid: int.nullable(),
  indexUid: z.string().nullable(),
  indexes: z.array(z.string()).optional(),
  status: z.enum(TASK_STATUSES as [TaskRow['status'], ...TaskRow['status'][]]),
  type: z.enum(TASK_TYPES as [TaskRow['type'], ...TaskRow['type'][]]),
  canceledBy: int.nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  error: z.object({ message: z.string(), code: z.string(), type: z.string(), link: z.string() }).nullable(),
  enqueuedAt: micros,
  startedAt: micros.nullable(),
  finishedAt: micros.nullable(),
  customMetadata: z.string().nullable(),
  nodeTasks: z.record(z.string(), z.array(int)),
  detailsFrom: int.optional(),
  cancelRequestedBy: int.optional(),
  matchedUids: z.array(int).optional(),
  joining: z.array(z.string()).optional(),
  settingsBroadcast: z
    .looseObject({
      strategy: z.enum(['two_phase', 'sequential']),
      phase: z.enum(['propose', 'verify', 'repair', 'commit', 'apply', 'rollback', 'done']),
      requests: z.array(z.looseObject({ method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']), path: z.string() })),
      proposal: z.record(z.string(), z.unknown()),
      commitVersion: int.optional(),
    })
    .optional(),
});

const indexMetaSchema = z.looseObject({
  uid: z.string(),
  primaryKey: z.string().nullable(),
  shards: int.min(1),
  settingsVersion: int.min(0),
  createdAt: z.string(),
  writesFrozen: z.string().optional(),
  settingsFingerprint: z.string().optional(),
});

const jobRowSchema = z.object({
  id: int.min(0),
  type: z.string(),
  params: z.unknown(),
  state: z.enum(['queued', 'in_progress', 'completed', 'failed']),
  claimedBy: z.string().nullable(),
  claimExpiresAt: z.number().nullable(),
  progress: z.unknown(),
  createdAt: z.number(),
});

const storeEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('index_changed'), indexUids: z.array(z.string()) }),
  z.object({ kind: z.literal('keys_changed') }),
  z.object({ kind: z.literal('handoff_drained'), nodeId: z.string() }),
  z.object({ kind: z.literal('routing_changed'), epoch: z.int().min(0) }),
  z.object({ kind: z.literal('index_deleting'), indexUid: z.string(), taskUid: z.int().min(0) }),
  z.object({
    kind: z.literal('settings_broadcast'),
    indexUid: z.string(),
    phase: z.enum(['propose', 'verify', 'repair', 'commit', 'idle']),
    holder: z.string(),
  }),
]);

/** A stored row that does not have the shape its table promises. */
export class CorruptRowError extends Error {
  constructor(table: string, key: string, detail: string) {
    super(`state store: the ${table} row ${key} is malformed: ${detail}`);
    this.name = 'CorruptRowError';
  }
}

function parse<T>(schema: z.ZodType, table: string, key: string, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new CorruptRowError(table, key, z.prettifyError(r.error));
  return r.data as T;
}

function json(table: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CorruptRowError(table, key, 'not JSON');
  }
}

/**
 * A task row; `cancelMark` is the `cancelRequestedBy` a store keeps beside the row (set by
 * `markTaskCancelRequested`, which never rewrites the row), and wins over the row's own.
 */
export function readTaskRow(text: string, key: string, cancelMark?: number | string | null): TaskRow {
  const row = parse<TaskRow>(taskRowSchema, 'tasks', key, json('tasks', key, text));
  if (cancelMark === undefined || cancelMark === null || cancelMark === '') return row;
  const by = Number(cancelMark);
  if (!Number.isInteger(by) || by < 0) throw new CorruptRowError('tasks', key, `cancel mark ${String(cancelMark)} is not a task uid`);
  return { ...row, cancelRequestedBy: by };
}
export const readIndexMeta = (text: string, key: string): IndexMeta => parse(indexMetaSchema, 'index_meta', key, json('index_meta', key, text));
export const readJobRow = (value: unknown, key: string): JobRow => parse(jobRowSchema, 'jobs', key, value);
export const readJson = json;
export const readTableRow = <T extends TableName>(table: T, text: string, key: string): TableRow<T> =>
  parse(TABLES[table].schema, table, key, json(table, key, text));
export const readCanaryRun = (text: string, key: string): CanaryRun => parse(canaryRunSchema, 'canary_runs', key, json('canary_runs', key, text));
/** An event from the bus; undefined (ignored) when malformed. */
export function readStoreEvent(text: string): StoreEvent | undefined {
  try {
    const r = storeEventSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
