/**
 * Meilisearch's task model, as a client sees it: the task and batch objects, their statuses and
 * types, the `/tasks` query language and its exact validation errors, and the date and duration
 * formats Meilisearch prints. Pure: no clock, no I/O, so the engine's queue and the
 * orchestrator's task registry share it.
 *
 * Facts are taken from Meilisearch's source (`meilisearch-types` `task_view.rs`, `tasks/mod.rs`,
 * `batch_view.rs`, `star_or.rs`, `deserr/query_params.rs`; `meilisearch` `routes/tasks.rs`;
 * `index-scheduler` `error.rs`, `queue/tasks.rs`).
 *
 * Times are integers of microseconds since the Unix epoch everywhere in this module.
 *
 * @see https://www.meilisearch.com/docs/reference/api/async-task-management/list-tasks
 */

import { MeiliError } from './errors.js';
import { didYouMean } from './settings-validate.js';
import type { ProgressTrace } from './progress.js';

// ---------------------------------------------------------------------------------------------
// Statuses and types
// ---------------------------------------------------------------------------------------------

/** Task statuses, in Meilisearch's declaration order (used in error messages and batch stats). */
export const TaskStatus = {
  Enqueued: 'enqueued',
  Processing: 'processing',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Canceled: 'canceled',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];
export const TASK_STATUSES: readonly TaskStatus[] = Object.values(TaskStatus);

/**
 * Task types, in Meilisearch's declaration order (the `Kind` enum; the order shows in the
 * `invalid_task_types` message and in batch stats). `dsrUpdate`/`dsrClear` (dynamic search
 * rules, v1.50) are in the API reference and the official JS client's `TaskType`, which lists them
 * after `networkTopologyChange`; the stored server source predates them.
 */
export const TaskType = {
  DocumentAdditionOrUpdate: 'documentAdditionOrUpdate',
  DocumentEdition: 'documentEdition',
  DocumentDeletion: 'documentDeletion',
  SettingsUpdate: 'settingsUpdate',
  IndexCreation: 'indexCreation',
  IndexDeletion: 'indexDeletion',
  IndexUpdate: 'indexUpdate',
  IndexSwap: 'indexSwap',
  TaskCancelation: 'taskCancelation',
  TaskDeletion: 'taskDeletion',
  DumpCreation: 'dumpCreation',
  SnapshotCreation: 'snapshotCreation',
  Export: 'export',
  UpgradeDatabase: 'upgradeDatabase',
  IndexCompaction: 'indexCompaction',
  NetworkTopologyChange: 'networkTopologyChange',
  DsrUpdate: 'dsrUpdate',
  DsrClear: 'dsrClear',
} as const;
export type TaskType = (typeof TaskType)[keyof typeof TaskType];
export const TASK_TYPES: readonly TaskType[] = Object.values(TaskType);

/**
 * Types tied to exactly one index. The others (swap, cancelation, deletion, dump…) are hidden from
 * index-scoped keys and from any `indexUids` filter, as Meilisearch does.
 */
export function isSingleIndexType(type: TaskType): boolean {
  switch (type) {
    case 'documentAdditionOrUpdate':
    case 'documentEdition':
    case 'documentDeletion':
    case 'settingsUpdate':
    case 'indexCreation':
    case 'indexDeletion':
    case 'indexUpdate':
    case 'indexCompaction':
    case 'dsrUpdate':
    case 'dsrClear':
      return true;
    default:
      return false;
  }
}

const STATUS_BY_LOWER = new Map(TASK_STATUSES.map((s) => [s.toLowerCase(), s]));
const TYPE_BY_LOWER = new Map(TASK_TYPES.map((t) => [t.toLowerCase(), t]));

/** Case-insensitive status name → status (Meilisearch uses `eq_ignore_ascii_case`). */
export function parseTaskStatus(name: string): TaskStatus | undefined {
  return STATUS_BY_LOWER.get(name.toLowerCase());
}

/** Case-insensitive type name → type. */
export function parseTaskType(name: string): TaskType | undefined {
  return TYPE_BY_LOWER.get(name.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Wire shapes
// ---------------------------------------------------------------------------------------------

/** The error object a failed task carries (same shape as an HTTP error body). */
export interface TaskError {
  message: string;
  code: string;
  type: string;
  link: string;
}

/**
 * A task as `GET /tasks/{uid}` returns it. Key order matters (SDKs and snapshot tests compare
 * it): build it with {@link toTaskView}.
 */
export interface TaskView {
  uid: number;
  batchUid: number | null;
  indexUid: string | null;
  status: TaskStatus;
  type: TaskType;
  canceledBy: number | null;
  details?: Record<string, unknown>;
  error: TaskError | null;
  duration: string | null;
  enqueuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  customMetadata?: string;
}

/** The 202 body of every write: Meilisearch's `SummarizedTaskView`. */
export interface TaskSummary {
  taskUid: number;
  indexUid: string | null;
  status: 'enqueued';
  type: TaskType;
  enqueuedAt: string;
  /** Only when the write carried one (Meilisearch ≥ v1.26). */
  customMetadata?: string;
}

/** `GET /tasks` and `GET /batches` page. */
export interface TasksPage<T> {
  results: T[];
  total: number;
  limit: number;
  from: number | null;
  next: number | null;
}

/** Progress of the batch in progress (`milli::progress::ProgressView`). */
export interface BatchProgress {
  steps: { currentStep: string; finished: number; total: number }[];
  percentage: number;
}

/** Batch statistics; maps are keyed in Meilisearch's order (enum order, index uids sorted). */
export interface BatchStats {
  totalNbTasks: number;
  status: Partial<Record<TaskStatus, number>>;
  types: Partial<Record<TaskType, number>>;
  indexUids: Record<string, number>;
  /** Time spent per processing step of a finished batch; absent when empty. */
  progressTrace?: ProgressTrace;
}

/** A batch as `GET /batches/{uid}` returns it (Meilisearch ≥ v1.15 with `batchStrategy`). */
export interface BatchView {
  uid: number;
  progress: BatchProgress | null;
  details: Record<string, unknown>;
  stats: BatchStats;
  duration: string | null;
  startedAt: string;
  finishedAt: string | null;
  batchStrategy: string;
}

/** The facts about a task a filter looks at; times in microseconds since the epoch. */
export interface TaskFacts {
  uid: number;
  batchUid: number | null;
  indexUid: string | null;
  /** Every index the task touches (a rename touches two); defaults to `[indexUid]`. */
  indexes?: readonly string[];
  status: TaskStatus;
  type: TaskType;
  canceledBy: number | null;
  enqueuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** Everything needed to render a task. */
export interface TaskRecord extends TaskFacts {
  details: Record<string, unknown> | null;
  error: TaskError | null;
  customMetadata: string | null;
}

/** Renders a task with Meilisearch's keys in Meilisearch's order. */
export function toTaskView(t: TaskRecord): TaskView {
  const view: TaskView = {
    uid: t.uid,
    batchUid: t.batchUid,
    indexUid: t.indexUid,
    status: t.status,
    type: t.type,
    canceledBy: t.canceledBy,
    details: t.details === null ? undefined : orderDetails(t.details),
    error: t.error,
    duration: t.startedAt !== null && t.finishedAt !== null ? formatDuration(t.finishedAt - t.startedAt) : null,
    enqueuedAt: formatRfc3339(t.enqueuedAt),
    startedAt: t.startedAt === null ? null : formatRfc3339(t.startedAt),
    finishedAt: t.finishedAt === null ? null : formatRfc3339(t.finishedAt),
  };
  // `details` is skipped when absent (e.g. snapshotCreation); deleting keeps the key order.
  if (view.details === undefined) delete view.details;
  if (t.customMetadata !== null) view.customMetadata = t.customMetadata;
  return view;
}

/** The summarized form of a task, as a write returns it. */
export function toTaskSummary(
  t: Pick<TaskRecord, 'uid' | 'indexUid' | 'type' | 'enqueuedAt'> & { customMetadata?: string | null },
): TaskSummary {
  const summary: TaskSummary = {
    taskUid: t.uid,
    indexUid: t.indexUid,
    status: 'enqueued',
    type: t.type,
    enqueuedAt: formatRfc3339(t.enqueuedAt),
  };
  if (t.customMetadata !== undefined && t.customMetadata !== null) summary.customMetadata = t.customMetadata;
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Details
// ---------------------------------------------------------------------------------------------

/**
 * `DetailsView` field order. Settings are flattened into the details at the `settings` marker:
 * any key not listed here is a settings key and lands there, in the order given.
 */
const DETAILS_ORDER = [
  'receivedDocuments',
  'indexedDocuments',
  'editedDocuments',
  'primaryKey',
  'providedIds',
  'deletedDocuments',
  'matchedTasks',
  'canceledTasks',
  'deletedTasks',
  'originalFilter',
  'dumpUid',
  'context',
  'function',
  '\u0000settings',
  'swaps',
  'upgradeFrom',
  'upgradeTo',
  'url',
  'apiKey',
  'payloadSize',
  'indexes',
  'oldIndexUid',
  'newIndexUid',
  'preCompactionSize',
  'postCompactionSize',
  'movedDocuments',
  'message',
] as const;
const DETAILS_RANK = new Map<string, number>(DETAILS_ORDER.map((k, i) => [k, i]));
const SETTINGS_RANK = DETAILS_RANK.get('\u0000settings')!;

/** Reorders a details object into Meilisearch's `DetailsView` key order (stable for settings keys). */
export function orderDetails(details: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(details);
  const ranked = keys.map((k, i) => ({ k, r: DETAILS_RANK.get(k) ?? SETTINGS_RANK, i }));
  ranked.sort((a, b) => a.r - b.r || a.i - b.i);
  const out: Record<string, unknown> = {};
  for (const { k } of ranked) out[k] = details[k];
  return out;
}

/** Counters a finished-without-success task reports as 0 (Meilisearch's `Details::to_failed`). */
const FAILED_COUNTERS = ['indexedDocuments', 'editedDocuments', 'deletedDocuments', 'canceledTasks', 'deletedTasks'];

/** The details of a task that failed or was canceled: pending counters become 0. */
export function toFailedDetails(details: Record<string, unknown> | null): Record<string, unknown> | null {
  if (details === null) return null;
  const out = { ...details };
  for (const k of FAILED_COUNTERS) if (k in out) out[k] = 0;
  for (const k of ['preCompactionSize', 'postCompactionSize']) if (k in out) out[k] = null;
  return out;
}

const SUMMED = new Set([
  'receivedDocuments',
  'indexedDocuments',
  'editedDocuments',
  'providedIds',
  'deletedDocuments',
  'matchedTasks',
  'canceledTasks',
  'deletedTasks',
]);

/** Merges the details of two tasks of one batch the way `DetailsView::accumulate` does. */
export function accumulateDetails(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    if (!(k in out) || prev === null || prev === undefined) {
      out[k] = v;
    } else if (v === null || v === undefined) {
      continue;
    } else if (SUMMED.has(k) && typeof prev === 'number' && typeof v === 'number') {
      out[k] = prev + v;
    } else if (k === 'originalFilter' && typeof prev === 'string' && typeof v === 'string') {
      out[k] = `${prev}&${v}`;
    } else if (k === 'swaps' && Array.isArray(prev) && Array.isArray(v)) {
      out[k] = [...prev, ...v];
    } else if (k === 'upgradeTo') {
      out[k] = v;
    }
    // Everything else keeps the first value seen, as Meilisearch does.
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Dates and durations
// ---------------------------------------------------------------------------------------------

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * RFC 3339 in UTC as Meilisearch (the `time` crate) prints it: fractional seconds only when
 * non-zero, trailing zeros trimmed, `Z` offset. E.g. `2026-01-01T10:00:00.1234Z`.
 */
export function formatRfc3339(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const sub = micros - ms * 1000; // 0..999 µs below the millisecond
  const d = new Date(ms);
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const frac = d.getUTCMilliseconds() * 1000 + sub;
  if (frac === 0) return `${base}Z`;
  return `${base}.${pad(frac, 6).replace(/0+$/, '')}Z`;
}

/**
 * ISO 8601 duration as Meilisearch prints it (`serialize_duration`): `P[nD]T<s>[.mmm|.uuuuuu]S`,
 * `PT0S` for zero, null for a negative span.
 */
export function formatDuration(micros: number): string | null {
  if (micros < 0) return null;
  const day = 86_400_000_000;
  const days = Math.floor(micros / day);
  const rest = micros - days * day;
  const secs = Math.floor(rest / 1_000_000);
  const subMicros = rest - secs * 1_000_000;
  let out = 'P';
  if (days !== 0) out += `${days}D`;
  if (secs !== 0 || subMicros !== 0 || days === 0) {
    if (subMicros === 0) out += `T${secs}S`;
    else if (subMicros % 1000 === 0) out += `T${secs}.${pad(subMicros / 1000, 3)}S`;
    else out += `T${secs}.${pad(subMicros, 6)}S`;
  }
  return out;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** Parses a strict RFC 3339 date-time to nanoseconds since the epoch; undefined when invalid. */
export function parseRfc3339Nanos(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (oh * 60 + om) * (m[9] === '-' ? -1 : 1);
  }
  const frac = m[7] ?? '';
  if (frac.length > 9) return undefined;
  const nanos = frac === '' ? 0n : BigInt(frac.padEnd(9, '0'));
  const epochSeconds = BigInt(Date.UTC(y, mo - 1, d, h, mi, s) / 1000) - BigInt(offsetMinutes * 60);
  return epochSeconds * 1_000_000_000n + nanos;
}

/** Parses `YYYY-MM-DD` to nanoseconds since the epoch at UTC midnight; undefined when invalid. */
export function parseDateOnlyNanos(text: string): bigint | undefined {
  const m = DATE_ONLY.exec(text);
  if (m === null) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validDate(y, mo, d)) return undefined;
  return BigInt(Date.UTC(y, mo - 1, d)) * 1_000_000n;
}

/** An RFC 3339 string (as {@link formatRfc3339} prints) back to microseconds; NaN when invalid. */
export function rfc3339ToMicros(text: string): number {
  const ns = parseRfc3339Nanos(text);
  return ns === undefined ? Number.NaN : Number(ns / 1000n);
}

// ---------------------------------------------------------------------------------------------
// Query parameter errors (deserr's wording)
// ---------------------------------------------------------------------------------------------

function list(names: readonly string[]): string {
  return names.map((n) => `\`${n}\``).join(', ');
}

/** `Unknown parameter `x`: expected one of …` (code `bad_request`). */
export function unknownParameterError(name: string, accepted: readonly string[]): MeiliError {
  return new MeiliError('bad_request', `Unknown parameter \`${name}\`: ${didYouMean(name, accepted)}expected one of ${list(accepted)}`);
}

/** `Invalid value in parameter `x`: …` with the parameter's own code. */
export function invalidParameterError(code: string, location: string, message: string): MeiliError {
  return new MeiliError(code, `Invalid value in parameter \`${location}\`: ${message}`);
}

const U32_MAX = 4_294_967_295;

/** Rust's `u32::from_str` (an optional `+`, digits, no overflow). */
export function parseU32(text: string): number | undefined {
  if (!/^\+?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= U32_MAX ? n : undefined;
}

/** Rust's `usize::from_str`, clamped to the largest safe integer (no page is that large). */
export function parseUsize(text: string): number | undefined {
  if (!/^\+?\d+$/.test(text)) return undefined;
  return Math.min(Number(text), Number.MAX_SAFE_INTEGER);
}

/** `could not parse `x` as a positive integer` */
export function notPositiveInteger(text: string): string {
  return `could not parse \`${text}\` as a positive integer`;
}

const INDEX_UID = /^[A-Za-z0-9_-]+$/;

/** Meilisearch's index uid rule: non-empty ASCII alphanumerics, `-`, `_`, at most 400 bytes. */
export function isValidIndexUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 400 && INDEX_UID.test(uid);
}

/**
 * `IndexUidFormatError`'s message, as a query parameter error shows it (Meilisearch's snapshot
 * tests for `indexUids` print "512 bytes" although 400 is enforced).
 */
export function indexUidFormatMessage(uid: string): string {
  return (
    `\`${uid}\` is not a valid index uid. Index uid can be an integer or a string containing only ` +
    'alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.'
  );
}

// ---------------------------------------------------------------------------------------------
// The /tasks query
// ---------------------------------------------------------------------------------------------

/** A parsed filter. An absent field (or `*`) matches everything. Date bounds are exclusive. */
export interface TaskFilter {
  uids?: number[];
  batchUids?: number[];
  statuses?: TaskStatus[];
  types?: TaskType[];
  indexUids?: string[];
  canceledBy?: number[];
  afterEnqueuedAt?: number;
  beforeEnqueuedAt?: number;
  afterStartedAt?: number;
  beforeStartedAt?: number;
  afterFinishedAt?: number;
  beforeFinishedAt?: number;
}

/** A parsed `/tasks` (or `/batches`, `/tasks/cancel`, `DELETE /tasks`) query. */
export interface TasksQuery {
  filter: TaskFilter;
  limit: number;
  from: number | null;
  reverse: boolean;
  /** True when at least one filter parameter was given, even as `*` (cancel/delete need one). */
  hasFilters: boolean;
}

/** Which route the query is for: listing accepts `limit`, `from`, `reverse`; the others do not. */
export type TasksQueryMode = 'list' | 'cancel' | 'delete';

/** Query parameters in the order Meilisearch lists them (`TasksFilterQuery`). */
const LIST_PARAMS = [
  'limit',
  'from',
  'reverse',
  'batchUids',
  'uids',
  'canceledBy',
  'types',
  'statuses',
  'indexUids',
  'afterEnqueuedAt',
  'beforeEnqueuedAt',
  'afterStartedAt',
  'beforeStartedAt',
  'afterFinishedAt',
  'beforeFinishedAt',
] as const;

/** `TaskDeletionOrCancelationQuery` parameters, in order. */
const FILTER_PARAMS = [
  'uids',
  'batchUids',
  'canceledBy',
  'types',
  'statuses',
  'indexUids',
  'afterEnqueuedAt',
  'beforeEnqueuedAt',
  'afterStartedAt',
  'beforeStartedAt',
  'afterFinishedAt',
  'beforeFinishedAt',
] as const;

const DATE_PARAMS: Record<string, { code: string; after: boolean; key: keyof TaskFilter }> = {
  afterEnqueuedAt: { code: 'invalid_task_after_enqueued_at', after: true, key: 'afterEnqueuedAt' },
  beforeEnqueuedAt: { code: 'invalid_task_before_enqueued_at', after: false, key: 'beforeEnqueuedAt' },
  afterStartedAt: { code: 'invalid_task_after_started_at', after: true, key: 'afterStartedAt' },
  beforeStartedAt: { code: 'invalid_task_before_started_at', after: false, key: 'beforeStartedAt' },
  afterFinishedAt: { code: 'invalid_task_after_finished_at', after: true, key: 'afterFinishedAt' },
  beforeFinishedAt: { code: 'invalid_task_before_finished_at', after: false, key: 'beforeFinishedAt' },
};

/** A list item that must name one of an enumeration's values. */
function enumItem<T>(parse: (item: string) => T | undefined, invalid: (item: string) => string): (item: string) => { ok: T } | { error: string } {
  return (item) => {
    const v = parse(item);
    return v !== undefined ? { ok: v } : { error: invalid(item) };
  };
}

/** The default page size of `/tasks` and `/batches`. */
export const TASKS_DEFAULT_LIMIT = 20;

function lastValue(v: unknown): string | undefined {
  if (Array.isArray(v)) return lastValue(v[v.length - 1]);
  if (v === undefined || v === null) return undefined;
  return String(v);
}

/**
 * A comma list where `*` anywhere means "any" (`OptionStarOrList`): returns undefined for `*`,
 * else the parsed items. An item error names `param[i]` when the list has several items.
 */
function parseList<T>(param: string, raw: string, parse: (item: string) => { ok: T } | { error: string }): T[] | undefined {
  const items = raw === '' ? [] : raw.split(',').map((s) => s.trim());
  let star = false;
  const out: T[] = [];
  items.forEach((item, i) => {
    if (item === '*') {
      star = true;
      return;
    }
    const r = parse(item);
    if ('error' in r) throw new ParamFailure(items.length > 1 ? `${param}[${i}]` : param, r.error);
    out.push(r.ok);
  });
  return star ? undefined : out;
}

class ParamFailure extends Error {
  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const PARAM_CODES: Record<string, string> = {
  limit: 'invalid_task_limit',
  from: 'invalid_task_from',
  reverse: 'invalid_task_reverse',
  batchUids: 'invalid_batch_uids',
  uids: 'invalid_task_uids',
  canceledBy: 'invalid_task_canceled_by',
  types: 'invalid_task_types',
  statuses: 'invalid_task_statuses',
  indexUids: 'invalid_index_uid',
};

function parseDateBound(raw: string, after: boolean): number | string {
  let ns = parseRfc3339Nanos(raw);
  if (ns === undefined) {
    ns = parseDateOnlyNanos(raw);
    // A bare date in an `after*` bound means "after that whole day".
    if (ns !== undefined && after) ns += 86_400_000_000_000n;
  }
  if (ns === undefined) {
    return `\`${raw}\` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format.`;
  }
  // Task times are whole microseconds: `t > x` ⇔ `t > floor(x)`, `t < x` ⇔ `t < ceil(x)`.
  const floor = ns / 1000n - (ns % 1000n < 0n ? 1n : 0n);
  const ceil = floor + (ns - floor * 1000n === 0n ? 0n : 1n);
  return Number(after ? floor : ceil);
}

/**
 * Parses and validates a `/tasks`-family query string object (values as a framework gives them:
 * strings, or arrays for repeated keys — the last one wins). Throws the exact `MeiliError`
 * Meilisearch answers (`bad_request` for unknown parameters, `invalid_task_*` otherwise).
 */
export function parseTasksQuery(query: Record<string, unknown>, mode: TasksQueryMode): TasksQuery {
  const accepted: readonly string[] = mode === 'list' ? LIST_PARAMS : FILTER_PARAMS;
  const out: TasksQuery = { filter: {}, limit: TASKS_DEFAULT_LIMIT, from: null, reverse: false, hasFilters: false };
  for (const [name, value] of Object.entries(query)) {
    if (!accepted.includes(name)) throw unknownParameterError(name, accepted);
    const raw = lastValue(value);
    if (raw === undefined) continue;
    try {
      parseOne(out, name, raw);
    } catch (e) {
      if (e instanceof ParamFailure) throw invalidParameterError(PARAM_CODES[name] ?? 'bad_request', e.location, e.detail);
      throw e;
    }
  }
  return out;
}

function parseOne(out: TasksQuery, name: string, raw: string): void {
  const f = out.filter;
  const u32Item = (item: string): { ok: number } | { error: string } => {
    const n = parseU32(item);
    return n === undefined ? { error: notPositiveInteger(item) } : { ok: n };
  };
  switch (name) {
    case 'limit': {
      const n = parseU32(raw);
      if (n === undefined) throw new ParamFailure(name, notPositiveInteger(raw));
      out.limit = n;
      return;
    }
    case 'from': {
      const n = parseU32(raw);
      if (n === undefined) throw new ParamFailure(name, notPositiveInteger(raw));
      out.from = n;
      return;
    }
    case 'reverse': {
      if (raw !== 'true' && raw !== 'false') {
        throw new ParamFailure(name, `could not parse \`${raw}\` as a boolean, expected either \`true\` or \`false\``);
      }
      out.reverse = raw === 'true';
      return;
    }
    case 'uids':
    case 'batchUids':
    case 'canceledBy': {
      out.hasFilters = true;
      const items = parseList(name, raw, u32Item);
      if (items !== undefined) f[name] = items;
      return;
    }
    case 'statuses': {
      out.hasFilters = true;
      const items = parseList(name, raw, enumItem(parseTaskStatus, (item) => `\`${item}\` is not a valid task status. Available statuses are ${list(TASK_STATUSES)}.`));
      if (items !== undefined) f.statuses = items;
      return;
    }
    case 'types': {
      out.hasFilters = true;
      const items = parseList(name, raw, enumItem(parseTaskType, (item) => `\`${item}\` is not a valid task type. Available types are ${list(TASK_TYPES)}.`));
      if (items !== undefined) f.types = items;
      return;
    }
    case 'indexUids': {
      out.hasFilters = true;
      const items = parseList<string>(name, raw, (item) => (isValidIndexUid(item) ? { ok: item } : { error: indexUidFormatMessage(item) }));
      if (items !== undefined) f.indexUids = items;
      return;
    }
    default: {
      const spec = DATE_PARAMS[name];
      if (spec === undefined) return;
      out.hasFilters = true;
      if (raw === '*') return;
      const bound = parseDateBound(raw, spec.after);
      if (typeof bound === 'string') throw invalidParameterError(spec.code, name, bound);
      (f as Record<string, number>)[spec.key] = bound;
    }
  }
}

/** The `missing_task_filters` error of `POST /tasks/cancel` and `DELETE /tasks`. */
export function missingTaskFilters(mode: 'cancel' | 'delete'): MeiliError {
  return new MeiliError(
    'missing_task_filters',
    `Query parameters to filter the tasks to ${mode} are missing. Available query parameters are: ` +
      '`uids`, `indexUids`, `statuses`, `types`, `canceledBy`, `beforeEnqueuedAt`, `afterEnqueuedAt`, ' +
      '`beforeStartedAt`, `afterStartedAt`, `beforeFinishedAt`, `afterFinishedAt`.',
  );
}

/** `Task uid `x` is invalid. …` for a non-numeric `/tasks/{uid}`. */
export function invalidTaskUid(text: string): MeiliError {
  return new MeiliError('invalid_task_uids', `Task uid \`${text}\` is invalid. It should only contain numeric characters.`);
}

/** `Task `n` not found.` */
export function taskNotFound(uid: number): MeiliError {
  return new MeiliError('task_not_found', `Task \`${uid}\` not found.`);
}

/** `task_file_not_found`: `GET /tasks/{uid}/documents` of a task that holds no documents (any more). */
export function taskFileNotFound(uid: number): MeiliError {
  return new MeiliError(
    'task_file_not_found',
    `Task \`${uid}\` does not contain any documents. Only \`documentAdditionOrUpdate\` tasks with the statuses \`enqueued\` or \`processing\` contain documents`,
  );
}

/** The experimental feature of `GET /tasks/{uid}/documents`, as `featureNotEnabled` words it. */
export const TASK_DOCUMENTS_FEATURE = {
  flag: 'getTaskDocumentsRoute',
  action: 'Getting the documents of an enqueued task',
  feature: 'get task documents route',
  issue: 'https://github.com/orgs/meilisearch/discussions/808',
} as const;

/** `Batch uid `x` is invalid. …` for a non-numeric `/batches/{uid}`. */
export function invalidBatchUid(text: string): MeiliError {
  return new MeiliError('invalid_batch_uids', `Batch uid \`${text}\` is invalid. It should only contain numeric characters.`);
}

/** `Batch `n` not found.` */
export function batchNotFound(uid: number): MeiliError {
  return new MeiliError('batch_not_found', `Batch \`${uid}\` not found.`);
}

function within(t: number | null, after: number | undefined, before: number | undefined): boolean {
  if (after === undefined && before === undefined) return true;
  if (t === null) return false;
  return (after === undefined || t > after) && (before === undefined || t < before);
}

/**
 * Whether a task passes a filter (ignoring `from`/`limit` and authorization). An `indexUids`
 * filter never matches a task that is not tied to exactly one index, as in Meilisearch.
 */
export function taskMatches(filter: TaskFilter, t: TaskFacts): boolean {
  if (filter.uids !== undefined && !filter.uids.includes(t.uid)) return false;
  if (filter.batchUids !== undefined && (t.batchUid === null || !filter.batchUids.includes(t.batchUid))) return false;
  if (filter.statuses !== undefined && !filter.statuses.includes(t.status)) return false;
  if (filter.types !== undefined && !filter.types.includes(t.type)) return false;
  if (filter.indexUids !== undefined) {
    if (!isSingleIndexType(t.type)) return false;
    const indexes = t.indexes ?? (t.indexUid === null ? [] : [t.indexUid]);
    if (!indexes.some((i) => filter.indexUids!.includes(i))) return false;
  }
  if (filter.canceledBy !== undefined && (t.canceledBy === null || !filter.canceledBy.includes(t.canceledBy))) return false;
  return (
    within(t.enqueuedAt, filter.afterEnqueuedAt, filter.beforeEnqueuedAt) &&
    within(t.startedAt, filter.afterStartedAt, filter.beforeStartedAt) &&
    within(t.finishedAt, filter.afterFinishedAt, filter.beforeFinishedAt)
  );
}

/** Whether a uid is inside the `from` window (`from` inclusive; newest first unless `reverse`). */
export function afterFrom(uid: number, from: number | null, reverse: boolean): boolean {
  if (from === null) return true;
  return reverse ? uid >= from : uid <= from;
}

/**
 * Cuts a page out of uids already filtered and sorted in the requested order: Meilisearch asks
 * for `limit + 1` to know whether there is a `next`.
 */
export function paginateUids(sorted: readonly number[], limit: number): { page: number[]; next: number | null } {
  const window = sorted.slice(0, limit + 1);
  const next = window.length === limit + 1 ? window.pop()! : null;
  return { page: window, next };
}

/** The facts of a rendered task (for a registry that stores views, like the orchestrator's). */
export function taskViewFacts(v: TaskView): TaskFacts {
  return {
    uid: v.uid,
    batchUid: v.batchUid,
    indexUid: v.indexUid,
    status: v.status,
    type: v.type,
    canceledBy: v.canceledBy,
    enqueuedAt: rfc3339ToMicros(v.enqueuedAt),
    startedAt: v.startedAt === null ? null : rfc3339ToMicros(v.startedAt),
    finishedAt: v.finishedAt === null ? null : rfc3339ToMicros(v.finishedAt),
  };
}
