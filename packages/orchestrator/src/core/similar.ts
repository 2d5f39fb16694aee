/**
 * `/similar` over a sharded index. The reference document lives on one shard; the node covering
 * that shard answers `/similar` itself for its shards (which excludes the reference and validates
 * the request as one node does). Every other node of the covering set is asked a pure vector
 * search (`hybrid.semanticRatio: 1`) with the reference's embedding. The answers are merged by
 * similarity, as milli's `Similar::execute` ranks (similarity alone: no other ranking rule).
 */
import type { Hit, ProgressTrace, SimilarQuery, SimilarResponse } from '@miroir/protocol';
import { stripDocument } from './documents.js';

/** Score fields the merge recomputes from the similarity. */
const SCORES: ReadonlySet<string> = new Set(['_rankingScore', '_rankingScoreDetails']);
import { andShardFilter } from './search-merge.js';

/** A node's answer, `/similar` or vector `/search` alike (asked with `showRankingScoreDetails`). */
export interface NodeSimilarAnswer {
  hits: Hit[];
  estimatedTotalHits: number;
  processingTimeMs?: number;
  performanceDetails?: ProgressTrace;
}

/** Offset and limit as a node resolves them (capped by `maxTotalHits`). */
export function similarWindow(q: Pick<SimilarQuery, 'offset' | 'limit'>, maxTotalHits: number): { offset: number; limit: number } {
  const offset = Math.min(q.offset ?? 0, maxTotalHits);
  return { offset, limit: Math.min(q.limit ?? 20, maxTotalHits - offset) };
}

/**
 * How many hits each node is asked for. A vector search ranks by the index's custom ranking rules
 * (`price:asc`) before the similarity, so with such rules a node's first hits are not its most
 * similar ones: it is then asked for every hit it may return.
 */
export function similarNodeLimit(q: Pick<SimilarQuery, 'offset' | 'limit'>, maxTotalHits: number, customRules: boolean): number {
  if (customRules) return maxTotalHits;
  const w = similarWindow(q, maxTotalHits);
  return w.offset + w.limit;
}

/** The body of the owner node's `/similar` for its `shards` (null: every shard it holds). */
export function nodeSimilarBody(q: SimilarQuery, filter: unknown, shards: readonly number[] | null, limit: number): Record<string, unknown> {
  const body: Record<string, unknown> = { id: q.id, embedder: q.embedder, offset: 0, limit, showRankingScoreDetails: true };
  const f = shards === null ? filter : andShardFilter(filter, shards);
  if (f !== undefined) body.filter = f;
  if (q.attributesToRetrieve !== undefined) body.attributesToRetrieve = q.attributesToRetrieve;
  if (q.retrieveVectors !== undefined) body.retrieveVectors = q.retrieveVectors;
  if (q.showPerformanceDetails === true) body.showPerformanceDetails = true;
  return body;
}

/**
 * The vector search asked of a node that does not hold the reference document. Without a
 * reference embedding nothing is similar: the node only counts its filtered documents.
 */
export function nodeVectorSearchBody(q: SimilarQuery, vector: readonly number[] | null, filter: unknown, shards: readonly number[] | null, limit: number): Record<string, unknown> {
  const body: Record<string, unknown> =
    vector === null
      ? { offset: 0, limit: 0 }
      : { vector, hybrid: { embedder: q.embedder, semanticRatio: 1 }, offset: 0, limit, showRankingScoreDetails: true };
  const f = shards === null ? filter : andShardFilter(filter, shards);
  if (f !== undefined) body.filter = f;
  if (q.showPerformanceDetails === true) body.showPerformanceDetails = true;
  if (vector === null) return body;
  if (q.attributesToRetrieve !== undefined) body.attributesToRetrieve = q.attributesToRetrieve;
  if (q.retrieveVectors !== undefined) body.retrieveVectors = q.retrieveVectors;
  return body;
}

/** A hit's similarity to the reference, or null when the document has no embedding. */
function similarityOf(hit: Hit): number | null {
  const d = (hit._rankingScoreDetails as { vectorSort?: { similarity?: unknown } } | undefined)?.vectorSort;
  return typeof d?.similarity === 'number' ? d.similarity : null;
}

/** The first embedding of the reference document for `embedder`, from its `_vectors`. */
export function referenceVector(doc: Record<string, unknown> | undefined, embedder: string): number[] | null {
  const v = (doc?._vectors as Record<string, unknown> | undefined)?.[embedder];
  const embeddings = Array.isArray(v) ? v : (v as { embeddings?: unknown } | undefined)?.embeddings;
  if (!Array.isArray(embeddings) || embeddings.length === 0) return null;
  const first = embeddings[0];
  if (Array.isArray(first)) return first.length === 0 ? null : (first as number[]);
  return typeof first === 'number' ? (embeddings as number[]) : null;
}

/**
 * Merges the nodes' answers: documents without an embedding dropped (a vector search ranks them
 * last; `/similar` never returns them), the rest by similarity (highest first, node order on
 * ties), the page cut once. Totals: the sum of the nodes' (each counts the filtered documents of its
 * shards, the reference excluded by its owner); with `rankingScoreThreshold`, a page the threshold
 * cut short counts the hits that passed it, as milli does.
 */
export function mergeSimilar(q: SimilarQuery, answers: readonly NodeSimilarAnswer[], maxTotalHits: number, processingTimeMs: number): SimilarResponse {
  const { offset, limit } = similarWindow(q, maxTotalHits);
  const scored: { hit: Hit; sim: number }[] = [];
  let universe = 0;
  for (const a of answers) {
    universe += a.estimatedTotalHits;
    for (const hit of a.hits) {
      const sim = similarityOf(hit);
      if (sim !== null) scored.push({ hit, sim });
    }
  }
  // Stable: equal similarities keep the nodes' order.
  scored.sort((a, b) => b.sim - a.sim);
  const threshold = q.rankingScoreThreshold;
  const passing = threshold === undefined ? scored : scored.filter((s) => s.sim >= threshold);
  const total = threshold !== undefined && passing.length < Math.min(offset + limit, scored.length) ? passing.length : universe;
  const hits = passing.slice(offset, offset + limit).map(({ hit, sim }) => {
    const out: Hit = stripDocument(hit, SCORES);
    if (q.showRankingScore === true) out._rankingScore = sim;
    if (q.showRankingScoreDetails === true) out._rankingScoreDetails = { vectorSort: { order: 0, similarity: sim } };
    return out;
  });
  return { hits, id: q.id, processingTimeMs, limit, offset, estimatedTotalHits: Math.min(total, maxTotalHits) };
}
