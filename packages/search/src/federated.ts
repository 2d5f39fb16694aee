/**
 * Federated multi-search merge (reference §7.5, §9; meilisearch
 * `search/federated/perform.rs`, `score_details.rs` `weighted_score_values`): each hit's
 * `_rankingScoreDetails` become "weighted score values" — runs of adjacent rank rules merged
 * into one score × weight, each sort rule kept as `{asc, value}` — compared group by group.
 * When two groups cannot be compared (different kinds or directions), the weighted global
 * score decides. Ties keep query order, then each query's own order.
 */
import { setResultWindow, type FederatedSearchResponse, type Hit, type SearchResponse } from '@miroir/protocol';
import { compareSortValues, type SortValue } from './rules/sort.js';
import { mergeRank, type Rank } from './rules/types.js';

/** One query's results. Hits must carry `_rankingScore` and `_rankingScoreDetails`. */
export interface FederatedSource {
  indexUid: string;
  queryPosition: number;
  weight: number;
  response: SearchResponse;
  remote?: string;
  /**
   * Each hit's document within its index (e.g. its internal id), in `response.hits` order: a
   * document two queries of one index both return is shown once, at its best place.
   */
  hitKeys?: readonly (number | string)[];
}

export interface FederationPaging {
  offset?: number;
  limit?: number;
  page?: number;
  hitsPerPage?: number;
}

/** The merged answer (the protocol's federated response shape). */
export type FederatedResponse = FederatedSearchResponse;

type WeightedValue = { kind: 'score'; score: number } | { kind: 'sort'; asc: boolean; value: SortValue };

/** Ranks a details entry stands for (inverse of the details serialization). */
function ranksOf(key: string, d: Record<string, unknown>): Rank[] | undefined {
  const score = d.score as number | undefined;
  switch (key) {
    case 'words':
      return [{ rank: d.matchingWords as number, max: d.maxMatchingWords as number }];
    case 'typo':
      return [{ rank: (d.maxTypoCount as number) + 1 - (d.typoCount as number), max: (d.maxTypoCount as number) + 1 }];
    case 'exactness': {
      const attr = d.matchType === 'exactMatch' ? 3 : d.matchType === 'matchesStart' ? 2 : 1;
      if (d.matchType !== 'noExactMatch') return [{ rank: attr, max: 3 }];
      return [
        { rank: attr, max: 3 },
        { rank: (d.matchingWords as number) + 1, max: (d.maxMatchingWords as number) + 1 },
      ];
    }
    default:
      // Other rank rules expose only their score; a fraction is enough to merge them.
      return score === undefined ? undefined : [fraction(score)];
  }
}

/**
 * A rank equal to `score`: the rules' local scores are fractions with small denominators (1 + the
 * rule's maximum cost), so the smallest denominator that makes `score` whole restores the rank. A
 * large fixed denominator would not do: folding several of them overflows float precision.
 */
function fraction(score: number): Rank {
  for (let max = 1; max <= 4096; max++) {
    const rank = Math.round(score * max);
    if (Math.abs(score * max - rank) < 1e-9) return { rank, max };
  }
  return { rank: Math.round(score * 4096), max: 4096 };
}

function weightedValues(hit: Hit, weight: number): WeightedValue[] {
  const details = hit._rankingScoreDetails ?? {};
  const entries = Object.entries(details).sort((a, b) => (a[1].order as number) - (b[1].order as number));
  const out: WeightedValue[] = [];
  let run: Rank | null = null;
  let first = true;
  // The first run of relevancy rules folds into exactly the hit's `_rankingScore` (sort rules only
  // come after it): use that, and fold only later runs from the details.
  const flush = (): void => {
    if (run !== null) {
      const score = first && hit._rankingScore !== undefined ? hit._rankingScore : run.rank / run.max;
      out.push({ kind: 'score', score: score * weight });
      first = false;
    }
    run = null;
  };
  for (const [key, d] of entries) {
    const m = /^(.+):(asc|desc)$/.exec(key);
    if (m !== null && 'value' in d) {
      flush();
      // Geo sorts compare by distance (milli `WeightedScoreValue::GeoSort`).
      const value = key.startsWith('_geoPoint(') ? ((d.distance as number | null) ?? null) : (d.value as SortValue);
      out.push({ kind: 'sort', asc: m[2] === 'asc', value });
      continue;
    }
    if (key === 'vectorSort') {
      // A similarity is its own value (milli `WeightedScoreValue::VectorSort`), never merged
      // with rank rules; a document without an embedding counts 0.
      flush();
      out.push({ kind: 'score', score: ((d.similarity as number | undefined) ?? 0) * weight });
      continue;
    }
    const ranks = ranksOf(key, d);
    if (ranks === undefined) continue;
    for (const r of ranks) run = mergeRank(run ?? { rank: 1, max: 1 }, r);
  }
  flush();
  return out;
}

/** Negative when `a` ranks first. */
function compareWeighted(a: WeightedValue[], b: WeightedValue[], ga: number, gb: number): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x.kind === 'score' && y.kind === 'score') {
      if (x.score !== y.score) return y.score - x.score;
      continue;
    }
    if (x.kind === 'sort' && y.kind === 'sort' && x.asc === y.asc) {
      const c = compareSortValues(x.value, y.value, x.asc);
      if (c !== 0) return c;
      continue;
    }
    return gb - ga;
  }
  if (a.length !== b.length) return b.length - a.length;
  return gb - ga;
}

/**
 * Merge per-query results of a federated multi-search into one page. Hits get `_federation`;
 * `_rankingScore`/`_rankingScoreDetails` are kept only when asked for.
 */
export function federatedMerge(
  sources: readonly FederatedSource[],
  paging: FederationPaging,
  opts: {
    showRankingScore?: boolean;
    showRankingScoreDetails?: boolean;
    processingTimeMs?: number;
    /** The total to report (the sum of the indexes' union of matches); default: the sum of the sources' totals. */
    estimatedTotalHits?: number;
  } = {},
): FederatedResponse {
  let all: Array<{ hit: Hit; values: WeightedValue[]; global: number; q: number; i: number; src: FederatedSource }> = [];
  for (const src of sources) {
    src.response.hits.forEach((hit, i) => {
      const global = (hit._rankingScore ?? 0) * src.weight;
      all.push({ hit, values: weightedValues(hit, src.weight), global, q: src.queryPosition, i, src });
    });
  }
  all.sort((a, b) => compareWeighted(a.values, b.values, a.global, b.global) || a.q - b.q || a.i - b.i);
  if (sources.some((src) => src.hitKeys !== undefined)) {
    const seen = new Set<string>();
    all = all.filter(({ src, i }) => {
      const key = src.hitKeys?.[i];
      if (key === undefined) return true;
      const id = `${src.remote ?? ''}\u0000${src.indexUid}\u0000${typeof key}:${key}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }
  const finite = paging.page !== undefined || paging.hitsPerPage !== undefined;
  const hitsPerPage = paging.hitsPerPage ?? 20;
  const page = paging.page ?? 1;
  const offset = finite ? (page === 0 ? 0 : (page - 1) * hitsPerPage) : (paging.offset ?? 0);
  const limit = finite ? (page === 0 ? 0 : hitsPerPage) : (paging.limit ?? 20);
  const total = opts.estimatedTotalHits ?? sources.reduce((s, x) => s + (x.response.totalHits ?? x.response.estimatedTotalHits ?? x.response.hits.length), 0);
  const hits = all.slice(offset, offset + limit).map(({ hit, global, src }) => {
    const { _rankingScore, _rankingScoreDetails, ...rest } = hit;
    const out: Hit = { ...rest };
    const fed: Record<string, unknown> = { indexUid: src.indexUid, queriesPosition: src.queryPosition, weightedRankingScore: global };
    if (src.remote !== undefined) fed.remote = src.remote;
    out._federation = fed;
    if (opts.showRankingScore === true && _rankingScore !== undefined) out._rankingScore = _rankingScore;
    if (opts.showRankingScoreDetails === true && _rankingScoreDetails !== undefined) out._rankingScoreDetails = _rankingScoreDetails;
    return out;
  });
  const res: FederatedResponse = { hits, processingTimeMs: opts.processingTimeMs ?? 0 };
  setResultWindow(res, finite, { hitsPerPage, page, limit, offset }, total);
  return res;
}
