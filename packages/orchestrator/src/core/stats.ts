/**
 * Index and global stats over a sharded, replicated fleet (spec S3.1, meilisearch-api §2 and §12
 * item 12): every document counted once, reserved fields hidden.
 *
 * @see https://www.meilisearch.com/docs/reference/api/stats/get-stats-of-index
 */
import { formatSize, type SizeFormat } from '@miroir/protocol';
import { isReservedField } from './documents.js';

/** `GET /indexes/{uid}/stats` as a node returns it (fields Miroir reads). */
export interface NodeIndexStats {
  readonly numberOfDocuments: number;
  readonly rawDocumentDbSize?: number;
  readonly avgDocumentSize?: number;
  readonly isIndexing: boolean;
  /** With `showInternalDatabaseSizes`: bytes per internal store (names are the node's). */
  readonly internalDatabaseSizes?: Readonly<Record<string, number>>;
  readonly numberOfEmbeddings?: number;
  readonly numberOfEmbeddedDocuments?: number;
  readonly fieldDistribution: Readonly<Record<string, number>>;
}

/** The client's view of one index's stats, in Meilisearch's key order. */
export interface IndexStats {
  numberOfDocuments: number;
  rawDocumentDbSize?: number;
  avgDocumentSize?: number;
  isIndexing: boolean;
  internalDatabaseSizes?: Record<string, number>;
  numberOfEmbeddings?: number;
  numberOfEmbeddedDocuments?: number;
  fieldDistribution: Record<string, number>;
}

/** Inputs of {@link aggregateIndexStats}. */
export interface IndexStatsInput {
  /**
   * Exact document count: the sum, over one group's covering set, of shard-filtered counts
   * (`total` of a `limit=0` fetch with `_miroir_shard IN [the node's covered shards]`).
   */
  readonly numberOfDocuments: number;
  /** Stats of every node of the group used for counting (each holds `copies` of each of its documents). */
  readonly groupNodes: readonly NodeIndexStats[];
  /** Copies of each document in that group: `min(RF, group members)`. */
  readonly copies: number;
  /** `isIndexing` of every node of every group (any → true). */
  readonly indexingAnywhere: readonly boolean[];
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Aggregates one index's stats: sizes, embeddings and `fieldDistribution` summed over the group
 * and divided by its copies (exact at steady state); `avgDocumentSize` weighted by each node's
 * document count; `isIndexing` true if any node indexes; `_miroir_*` fields removed.
 */
export function aggregateIndexStats(input: IndexStatsInput): IndexStats {
  const copies = Math.max(1, input.copies);
  let raw = 0;
  let hasRaw = false;
  let weighted = 0;
  let weight = 0;
  let hasAvg = false;
  let emb = 0;
  let hasEmb = false;
  let embDocs = 0;
  let hasEmbDocs = false;
  let internal: Map<string, number> | undefined;
  const fields = new Map<string, number>();
  for (const n of input.groupNodes) {
    if (n.internalDatabaseSizes !== undefined) {
      internal ??= new Map();
      for (const [k, v] of Object.entries(n.internalDatabaseSizes)) internal.set(k, (internal.get(k) ?? 0) + v);
    }
    if (n.rawDocumentDbSize !== undefined) {
      raw += n.rawDocumentDbSize;
      hasRaw = true;
    }
    if (n.avgDocumentSize !== undefined) {
      weighted += n.avgDocumentSize * n.numberOfDocuments;
      weight += n.numberOfDocuments;
      hasAvg = true;
    }
    if (n.numberOfEmbeddings !== undefined) {
      emb += n.numberOfEmbeddings;
      hasEmb = true;
    }
    if (n.numberOfEmbeddedDocuments !== undefined) {
      embDocs += n.numberOfEmbeddedDocuments;
      hasEmbDocs = true;
    }
    for (const f in n.fieldDistribution) {
      if (isReservedField(f)) continue;
      fields.set(f, (fields.get(f) ?? 0) + n.fieldDistribution[f]);
    }
  }
  const out: IndexStats = { numberOfDocuments: input.numberOfDocuments } as IndexStats;
  if (hasRaw) out.rawDocumentDbSize = Math.round(raw / copies);
  if (hasAvg) out.avgDocumentSize = weight === 0 ? 0 : Math.round(weighted / weight);
  out.isIndexing = input.indexingAnywhere.some((x) => x);
  if (internal !== undefined) out.internalDatabaseSizes = Object.fromEntries([...internal].map(([k, v]) => [k, Math.round(v / copies)]));
  if (hasEmb) out.numberOfEmbeddings = Math.round(emb / copies);
  if (hasEmbDocs) out.numberOfEmbeddedDocuments = Math.round(embDocs / copies);
  const fd: Record<string, number> = {};
  for (const f of [...fields.keys()].sort(byName)) fd[f] = Math.round((fields.get(f) as number) / copies);
  out.fieldDistribution = fd;
  return out;
}

/** An index's stats with every size in `format` (`sizeFormat`), as one node shows them. */
export function formatIndexStats(stats: IndexStats, format: SizeFormat): Record<string, unknown> {
  if (format === 'raw') return stats as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(stats)) {
    if (k === 'rawDocumentDbSize' || k === 'avgDocumentSize') out[k] = formatSize(v as number, format);
    else if (k === 'internalDatabaseSizes') out[k] = Object.fromEntries(Object.entries(v as Record<string, number>).map(([n, b]) => [n, formatSize(b, format)]));
    else out[k] = v;
  }
  return out;
}

/** `GET /stats` with every size in `format`, as one node shows it. */
export function formatGlobalStats(stats: GlobalStats, format: SizeFormat): Record<string, unknown> {
  if (format === 'raw') return stats as unknown as Record<string, unknown>;
  const indexes: Record<string, unknown> = {};
  for (const [uid, s] of Object.entries(stats.indexes)) indexes[uid] = formatIndexStats(s, format);
  return {
    databaseSize: formatSize(stats.databaseSize, format),
    usedDatabaseSize: formatSize(stats.usedDatabaseSize, format),
    lastUpdate: stats.lastUpdate,
    indexes,
  };
}

/** `GET /stats` as the client sees it. */
export interface GlobalStats {
  databaseSize: number;
  usedDatabaseSize: number;
  lastUpdate: string | null;
  indexes: Record<string, IndexStats>;
}

/** One node's `GET /stats` (fields Miroir reads). */
export interface NodeGlobalStats {
  readonly databaseSize: number;
  readonly usedDatabaseSize?: number;
  readonly lastUpdate: string | null;
}

/**
 * Aggregates `GET /stats`: database sizes summed over one group and divided by its copies (the
 * size one node holding everything would report, approximately); `lastUpdate` is the latest over
 * all nodes; `indexes` are the per-index aggregates (internal indexes already removed), by uid.
 */
export function aggregateGlobalStats(
  groupNodes: readonly NodeGlobalStats[],
  copies: number,
  allNodes: readonly NodeGlobalStats[],
  indexes: Readonly<Record<string, IndexStats>>,
): GlobalStats {
  const c = Math.max(1, copies);
  let size = 0;
  let used = 0;
  for (const n of groupNodes) {
    size += n.databaseSize;
    used += n.usedDatabaseSize ?? n.databaseSize;
  }
  let last: string | null = null;
  let lastMs = -Infinity;
  for (const n of allNodes) {
    if (n.lastUpdate === null) continue;
    const ms = Date.parse(n.lastUpdate);
    if (ms > lastMs || (ms === lastMs && last !== null && n.lastUpdate > last)) {
      lastMs = ms;
      last = n.lastUpdate;
    }
  }
  const out: Record<string, IndexStats> = {};
  for (const uid of Object.keys(indexes).sort(byName)) out[uid] = indexes[uid];
  return { databaseSize: Math.round(size / c), usedDatabaseSize: Math.round(used / c), lastUpdate: last, indexes: out };
}
