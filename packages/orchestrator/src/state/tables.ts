/**
 * The keyed tables of spec S4.1 that features (aliases, sessions, idempotency, canaries, tenant
 * affinity, ILM, the search UI, the admin UI, webhooks) keep in the state store: each row has one primary-key
 * field; rows of the tables with an expiry (`expiresAt`, milliseconds since the epoch) vanish after
 * it (Redis EXPIRE; SQLite filters and deletes them when read). Rows read back are checked here.
 * `canary_runs` (a bounded history per canary) and `cdc_cursors` (monotonic counters) have their own
 * methods on the store.
 */
import { z } from 'zod';

const int = z.int();
const json = z.unknown();

export const TABLES = {
  aliases: {
    key: 'name',
    schema: z.object({
      name: z.string(),
      kind: z.enum(['single', 'multi']),
      currentUid: z.string().nullable(),
      targetUids: z.array(z.string()),
      version: int.min(0),
      createdAt: z.string(),
      history: z.array(json),
    }),
  },
  sessions: {
    key: 'sessionId',
    schema: z.object({
      sessionId: z.string(),
      lastWriteTaskUid: int.nullable(),
      lastWriteAt: z.number().nullable(),
      pinnedGroup: int.nullable(),
      minSettingsVersion: int.min(0),
      expiresAt: z.number(),
    }),
  },
  /**
   * Idempotency keys of client writes (api/idempotency.ts): `taskUid` null while the first request
   * with the key is still being processed (a reservation, kept alive by its holder); `summary` is
   * the 202 answer it got, answered again when its task row is gone (a task deletion).
   */
  idempotency: {
    key: 'key',
    schema: z.object({
      key: z.string(),
      bodySha256: z.string(),
      taskUid: int.nullable(),
      expiresAt: z.number(),
      summary: z
        .object({
          taskUid: int,
          indexUid: z.string().nullable(),
          status: z.literal('enqueued'),
          type: z.string(),
          enqueuedAt: z.string(),
          customMetadata: z.string().optional(),
        })
        .nullable()
        .optional(),
    }),
  },
  canaries: {
    key: 'id',
    schema: z.object({
      id: z.string(),
      name: z.string(),
      indexUid: z.string(),
      intervalS: z.number().positive(),
      query: json,
      assertions: json,
      enabled: z.boolean(),
      createdAt: z.string(),
    }),
  },
  tenant_map: {
    key: 'apiKeyHash',
    schema: z.object({ apiKeyHash: z.string(), tenantId: z.string(), groupId: int.nullable() }),
  },
  rollover_policies: {
    key: 'name',
    schema: z.object({
      name: z.string(),
      writeAlias: z.string(),
      readAlias: z.string(),
      pattern: z.string(),
      triggers: json,
      retention: json,
      template: json,
      enabled: z.boolean(),
    }),
  },
  search_ui_config: {
    key: 'indexUid',
    schema: z.object({ indexUid: z.string(), config: json, updatedAt: z.string() }),
  },
  admin_sessions: {
    key: 'sessionId',
    schema: z.object({
      sessionId: z.string(),
      csrfToken: z.string(),
      adminKeyHash: z.string(),
      createdAt: z.number(),
      expiresAt: z.number(),
      revoked: z.boolean(),
      userAgent: z.string(),
      sourceIp: z.string(),
    }),
  },
  /** The cluster's webhooks (`/webhooks`), called once per finished Miroir task. */
  webhooks: {
    key: 'uuid',
    schema: z.object({ uuid: z.string(), url: z.string(), headers: z.record(z.string(), z.string()) }),
  },
} as const;

export type TableName = keyof typeof TABLES;
export type TableRow<T extends TableName> = z.infer<(typeof TABLES)[T]['schema']>;

/** The primary key of a row. */
export function keyOf<T extends TableName>(table: T, row: TableRow<T>): string {
  return (row as Record<string, unknown>)[TABLES[table].key] as string;
}

/** The row's expiry, for the tables that have one. */
export function expiryOf(row: object): number | undefined {
  const e = (row as { expiresAt?: unknown }).expiresAt;
  return typeof e === 'number' ? e : undefined;
}

export const canaryRunSchema = z.object({
  canaryId: z.string(),
  ranAt: z.number(),
  status: z.enum(['pass', 'fail', 'error']),
  latencyMs: z.number(),
  failedAssertions: json,
});
export type CanaryRun = z.infer<typeof canaryRunSchema>;
