/**
 * Federated `/multi-search` (spec S13.11, meilisearch-api §9 and §7.5): each query is merged across
 * its nodes in single-node order (see {@link mergeSearch}'s hit merge), then the queries are merged
 * with each other the way Meilisearch merges them, by *weighted score values*.
 *
 * Meilisearch turns a hit's ranking details into a list of values: each run of adjacent relevancy
 * rules folded into one score × weight, each sort rule as its value, each geo rule as its
 * distance, a vector rule as similarity × weight. Two hits compare value by value; when two values
 * are of different kinds the side with more remaining values wins, and when that ties too the
 * weighted global score decides; full ties go to the lower query position
 * (crates/meilisearch/src/search/federated/{perform,weighted_scores}.rs).
 *
 * The node answers give each rule's local score but not always its rank denominator, which the
 * fold of a run needs. The first run's fold is exactly `_rankingScore`; a later run is folded
 * with the denominators the details carry (`words`, `typo`, `exactness`) and, for the rules whose
 * details carry none, with the smallest denominator that reproduces the score — exact whenever the
 * score is an irreducible fraction, an approximation otherwise.
 *
 * @see https://www.meilisearch.com/docs/reference/api/multi-search/perform-a-multi-search
 */
import { setResultWindow, type ComputedFacets, type Federation, type FederatedSearchResponse, type Hit, type SearchQuery } from '@miroir/protocol';

export type { ComputedFacets, FederatedSearchResponse };
import { isReservedField, stripDocument } from './documents.js';
import { mergeFacetDistributions, mergeFacetStats, type FacetingContext } from './facets.js';
import { compareCodePoints, compareSortValues, HitComparator, orderedRuleNames } from './hit-order.js';
import { addedAttributes, mergeHits, nodeSearchBody, type NodeSearchResponse, type SearchContext } from './search-merge.js';

/** One query of a federated search, with what its nodes answered. */
export interface FederatedQueryInput {
  readonly indexUid: string;
  /** Position of the query in the request (`queriesPosition`). */
  readonly queriesPosition: number;
  /** `federationOptions.weight` (default 1). */
  readonly weight: number;
  /** The query's own parameters (no pagination, no facets: those live in `federation`). */
  readonly query: SearchQuery;
  readonly ctx: SearchContext;
  readonly responses: readonly NodeSearchResponse[];
}

/** Facets computed per index, plus each index's faceting settings, for `facetsByIndex`. */
export interface IndexFacetsInput {
  readonly facets: ComputedFacets;
  /** The index's `sortFacetValuesBy` (used when `mergeFacets` merges indexes). */
  readonly sortFacetValuesBy: Readonly<Record<string, 'alpha' | 'count'>>;
}

/**
 * One index's facets for `facetsByIndex`, from the node answers of a query on that index that
 * carried the index's facet list (counts summed, re-sorted, truncated as for a search).
 */
export function indexFacetsOf(responses: readonly NodeSearchResponse[], ctx: FacetingContext): ComputedFacets {
  return {
    distribution: mergeFacetDistributions(
      responses.map((r) => r.facetDistribution),
      ctx,
    ),
    stats: mergeFacetStats(responses.map((r) => r.facetStats)),
  };
}

function federationWindow(f: Federation): { paged: boolean; offset: number; limit: number } {
  if (f.page !== undefined || f.hitsPerPage !== undefined) {
    const hpp = f.hitsPerPage ?? 20;
    const page = f.page ?? 1;
    return { paged: true, offset: page === 0 ? 0 : (page - 1) * hpp, limit: page === 0 ? 0 : hpp };
  }
  return { paged: false, offset: f.offset ?? 0, limit: f.limit ?? 20 };
}

/** The body for one node of one federated query: the whole federation window, from 0. */
export function nodeFederatedBody(
  input: Pick<FederatedQueryInput, 'query' | 'ctx'>,
  federation: Federation,
  shards: readonly number[] | null,
): Record<string, unknown> {
  const w = federationWindow(federation);
  // Queries of different indexes are merged by their details (weighted rule scores): always asked.
  return nodeSearchBody({ ...input.query, offset: 0, limit: w.offset + w.limit, showRankingScoreDetails: true }, input.ctx, shards);
}

type Details = Record<string, Record<string, unknown>>;

/** A weighted score value (milli `WeightedScoreValue`). */
type Weighted =
  | { kind: 'score'; v: number }
  | { kind: 'vector'; v: number }
  | { kind: 'sort'; asc: boolean; value: unknown }
  | { kind: 'geo'; asc: boolean; distance: number | undefined };

/** Smallest denominator ≤ 4096 that makes `s` a fraction, else 0 (unknown). */
function inferDenominator(s: number): number {
  for (let m = 1; m <= 4096; m++) if (Math.abs(s * m - Math.round(s * m)) < 1e-9) return m;
  return 0;
}

/** `(rank, max)` of a relevancy entry, from its details where they carry the denominator. */
function rankOf(name: string, e: Record<string, unknown>): [number, number] | null {
  const score = typeof e.score === 'number' ? e.score : 0;
  if (name === 'words' && typeof e.maxMatchingWords === 'number' && typeof e.matchingWords === 'number') {
    return [e.matchingWords, e.maxMatchingWords];
  }
  if (name === 'typo' && typeof e.maxTypoCount === 'number' && typeof e.typoCount === 'number') {
    return [e.maxTypoCount + 1 - e.typoCount, e.maxTypoCount + 1];
  }
  if (name === 'skipped') return [0, 1];
  const m = inferDenominator(score);
  return m === 0 ? null : [Math.round(score * m), m];
}

/** Folds a run of relevancy entries into one local score (milli `Rank::merge`). */
function foldRun(run: [string, Record<string, unknown>][]): number {
  let r = 1;
  let m = 1;
  for (const [name, e] of run) {
    const rm = rankOf(name, e);
    if (rm === null) {
      // Unknown denominator: the fold's remaining precision is lost; keep lexicographic intent.
      const s = typeof e.score === 'number' ? e.score : 0;
      return (r - 1 + s) / m;
    }
    r = Math.max(0, r - 1) * rm[1] + rm[0];
    m *= rm[1];
  }
  return r / m;
}

function weightedValues(hit: Hit, weight: number, sortHint: readonly string[] | undefined): Weighted[] {
  const details = hit._rankingScoreDetails as Details | undefined;
  if (details === undefined) return [{ kind: 'score', v: (hit._rankingScore ?? 0) * weight }];
  const entries = orderedRuleNames(details, sortHint).map((name): [string, Record<string, unknown>] => [name, details[name]]);
  const out: Weighted[] = [];
  let run: [string, Record<string, unknown>][] = [];
  let firstRun = true;
  const flush = (): void => {
    if (run.length === 0) return;
    const v = firstRun && typeof hit._rankingScore === 'number' ? hit._rankingScore : foldRun(run);
    firstRun = false;
    out.push({ kind: 'score', v: v * weight });
    run = [];
  };
  for (const [name, e] of entries) {
    const asc = name.endsWith(':asc');
    if (name === 'vectorSort') {
      flush();
      out.push({ kind: 'vector', v: (typeof e.similarity === 'number' ? e.similarity : 0) * weight });
    } else if (asc || name.endsWith(':desc')) {
      flush();
      if (name.startsWith('_geoPoint(')) out.push({ kind: 'geo', asc, distance: typeof e.distance === 'number' ? e.distance : undefined });
      else out.push({ kind: 'sort', asc, value: e.value ?? null });
    } else if (!name.startsWith('<hidden-rule')) {
      run.push([name, e]);
    }
  }
  flush();
  return out;
}

/** Negative when `a` ranks first; `undefined` when the two values are of incomparable kinds. */
function compareWeighted(a: Weighted, b: Weighted): number | undefined {
  if ((a.kind === 'score' || a.kind === 'vector') && (b.kind === 'score' || b.kind === 'vector')) return b.v - a.v;
  if (a.kind === 'sort' && b.kind === 'sort' && a.asc === b.asc) return compareSortValues(a.value, b.value, a.asc ? 1 : -1);
  if (a.kind === 'geo' && b.kind === 'geo' && a.asc === b.asc) return compareSortValues(a.distance, b.distance, a.asc ? 1 : -1);
  return undefined;
}

interface Cursor {
  readonly input: FederatedQueryInput;
  readonly hits: Hit[];
  pos: number;
  /** Weighted values of the current head, computed once per head. */
  head: Weighted[] | undefined;
}

function headValues(c: Cursor): Weighted[] {
  c.head ??= weightedValues(c.hits[c.pos], c.input.weight, c.input.query.sort);
  return c.head;
}

/** Meilisearch's federated comparison of two queries' heads; negative when `a` goes first. */
function compareHeads(a: Cursor, b: Cursor): number {
  const va = headValues(a);
  const vb = headValues(b);
  let c: number | undefined;
  for (let i = 0; ; i++) {
    const x = va[i];
    const y = vb[i];
    if (x === undefined || y === undefined) {
      // The side with more values left ranks first (all shared values being equal).
      c = x === y ? 0 : x === undefined ? 1 : -1;
      break;
    }
    const d = compareWeighted(x, y);
    if (d === undefined) {
      const ra = va.length - i;
      const rb = vb.length - i;
      c = ra === rb ? undefined : ra > rb ? -1 : 1;
      break;
    }
    if (d !== 0) {
      c = d;
      break;
    }
  }
  if (c === undefined) {
    const ga = (a.hits[a.pos]._rankingScore ?? 0) * a.input.weight;
    const gb = (b.hits[b.pos]._rankingScore ?? 0) * b.input.weight;
    c = gb - ga;
  }
  return c !== 0 ? c : a.input.queriesPosition - b.input.queriesPosition;
}

const META_KEYS: ReadonlySet<string> = new Set(['_formatted', '_matchesPosition', '_rankingScore', '_rankingScoreDetails']);

function outputHit(hit: Hit, input: FederatedQueryInput, drop: ReadonlySet<string>): Hit {
  const out: Record<string, unknown> = {};
  const federation = {
    indexUid: input.indexUid,
    queriesPosition: input.queriesPosition,
    weightedRankingScore: (hit._rankingScore ?? 0) * input.weight,
  };
  let placed = false;
  for (const k in hit) {
    if (isReservedField(k) || drop.has(k)) continue;
    if (!placed && META_KEYS.has(k)) {
      out._federation = federation;
      placed = true;
    }
    const v = hit[k];
    if (k === '_formatted' && v !== null && typeof v === 'object') {
      const f: Record<string, unknown> = {};
      for (const [fk, fv] of Object.entries(v as Record<string, unknown>)) if (!isReservedField(fk) && !drop.has(fk)) f[fk] = fv;
      out[k] = f;
    } else if (k === '_matchesPosition' && v !== null && typeof v === 'object') {
      out[k] = stripDocument(v as Record<string, unknown>);
    } else out[k] = v;
  }
  if (!placed) out._federation = federation;
  return out as Hit;
}

function byName(a: string, b: string): number {
  return compareCodePoints(a, b);
}

/**
 * Merges `facetsByIndex` into one `facetDistribution`/`facetStats` (`federation.mergeFacets`):
 * counts summed per value, values re-ordered per the facet's order (`alpha` compares the value
 * strings, as Meilisearch's federated merge does), truncated to `maxValuesPerFacet` when given.
 */
export function mergeIndexFacets(
  byIndex: Readonly<Record<string, IndexFacetsInput>>,
  maxValuesPerFacet: number | undefined,
): ComputedFacets {
  const dist = new Map<string, Map<string, number>>();
  const stats = new Map<string, { min: number; max: number }>();
  const order = new Map<string, 'alpha' | 'count'>();
  for (const uid of Object.keys(byIndex).sort(byName)) {
    const { facets, sortFacetValuesBy } = byIndex[uid];
    for (const [facet, values] of Object.entries(facets.distribution)) {
      if (!order.has(facet)) order.set(facet, sortFacetValuesBy[facet] ?? sortFacetValuesBy['*'] ?? 'alpha');
      let m = dist.get(facet);
      if (m === undefined) dist.set(facet, (m = new Map()));
      for (const [v, c] of Object.entries(values)) m.set(v, (m.get(v) ?? 0) + c);
    }
    for (const [facet, s] of Object.entries(facets.stats)) {
      const cur = stats.get(facet);
      if (cur === undefined) stats.set(facet, { min: s.min, max: s.max });
      else {
        cur.min = Math.min(cur.min, s.min);
        cur.max = Math.max(cur.max, s.max);
      }
    }
  }
  const distribution: Record<string, Record<string, number>> = {};
  for (const facet of [...dist.keys()].sort(byName)) {
    const entries = [...(dist.get(facet) as Map<string, number>)];
    if (order.get(facet) === 'count') entries.sort((a, b) => b[1] - a[1] || compareCodePoints(a[0], b[0]));
    else entries.sort((a, b) => compareCodePoints(a[0], b[0]));
    if (maxValuesPerFacet !== undefined && entries.length > maxValuesPerFacet) entries.length = maxValuesPerFacet;
    distribution[facet] = Object.fromEntries(entries);
  }
  const outStats: Record<string, { min: number; max: number }> = {};
  for (const facet of [...stats.keys()].sort(byName)) outStats[facet] = stats.get(facet) as { min: number; max: number };
  return { distribution, stats: outStats };
}

/**
 * Merges the queries of a federated search into Meilisearch's single federated result. A document
 * reached by several queries of the same index is returned once, at its best position.
 * `indexFacets` are the facets computed per index for `federation.facetsByIndex` (computed by the
 * caller, e.g. with {@link indexFacetsOf} over that index's nodes).
 */
export function mergeFederated(
  federation: Federation,
  inputs: readonly FederatedQueryInput[],
  processingTimeMs: number,
  indexFacets?: Readonly<Record<string, IndexFacetsInput>>,
  extras: {
    readonly requestUid?: string;
    readonly metadata?: readonly Readonly<Record<string, unknown>>[];
    /**
     * The estimated total of each index several queries target: the size of the union of their
     * matches (a document two queries match counts once), in place of the sum of the queries'.
     */
    readonly indexTotals?: ReadonlyMap<string, number>;
  } = {},
): FederatedSearchResponse {
  const w = federationWindow(federation);
  const want = w.offset + w.limit;
  const cursors: Cursor[] = [];
  let total = 0;
  let semantic = false;
  for (const input of inputs) {
    const cmp = new HitComparator({
      primaryKey: input.ctx.primaryKey,
      semanticRatio: input.query.hybrid?.semanticRatio,
      sort: input.query.sort,
    });
    const hits = mergeHits(
      input.responses.map((r) => r.hits),
      want,
      cmp,
      input.query.distinct ?? input.ctx.distinctAttribute,
    );
    if (extras.indexTotals?.has(input.indexUid) !== true) {
      let t = 0;
      for (const r of input.responses) t += r.estimatedTotalHits ?? r.totalHits ?? 0;
      total += Math.min(t, input.ctx.maxTotalHits);
    }
    if (input.query.hybrid !== undefined || input.query.vector !== undefined) semantic = true;
    if (hits.length > 0) cursors.push({ input, hits, pos: 0, head: undefined });
  }

  for (const t of extras.indexTotals?.values() ?? []) total += t;

  const seen = new Map<string, Set<string>>();
  const merged: { hit: Hit; input: FederatedQueryInput }[] = [];
  while (merged.length < want) {
    let best: Cursor | undefined;
    for (const c of cursors) {
      if (c.pos >= c.hits.length) continue;
      if (best === undefined || compareHeads(c, best) < 0) best = c;
    }
    if (best === undefined) break;
    const hit = best.hits[best.pos++];
    best.head = undefined;
    const pk = hit[best.input.ctx.primaryKey];
    let ids = seen.get(best.input.indexUid);
    if (ids === undefined) seen.set(best.input.indexUid, (ids = new Set()));
    const key = String(pk);
    if (pk !== undefined && ids.has(key)) continue;
    if (pk !== undefined) ids.add(key);
    merged.push({ hit, input: best.input });
  }

  const hits: Hit[] = [];
  let semanticHits = 0;
  for (let i = w.offset; i < merged.length; i++) {
    const { hit, input } = merged[i];
    const drop = new Set<string>(addedAttributes(input.query, input.ctx));
    if (input.query.showRankingScore !== true) drop.add('_rankingScore');
    if (input.query.showRankingScoreDetails !== true) drop.add('_rankingScoreDetails');
    if ((hit._rankingScoreDetails as Details | undefined)?.vectorSort !== undefined) semanticHits++;
    hits.push(outputHit(hit, input, drop));
  }

  const res: FederatedSearchResponse = { hits, processingTimeMs };
  setResultWindow(res, w.paged, { hitsPerPage: federation.hitsPerPage ?? 20, page: federation.page ?? 1, limit: w.limit, offset: w.offset }, total);
  if (semantic) res.semanticHitCount = semanticHits;
  if (indexFacets !== undefined && Object.keys(indexFacets).length > 0) {
    if (federation.mergeFacets !== undefined && federation.mergeFacets !== null) {
      const m = mergeIndexFacets(indexFacets, federation.mergeFacets.maxValuesPerFacet);
      res.facetDistribution = m.distribution;
      res.facetStats = m.stats;
    } else {
      const byIndex: Record<string, ComputedFacets> = {};
      for (const uid of Object.keys(indexFacets).sort(byName)) byIndex[uid] = indexFacets[uid].facets;
      res.facetsByIndex = byIndex;
    }
  }
  if (extras.requestUid !== undefined) res.requestUid = extras.requestUid;
  if (extras.metadata !== undefined) res.metadata = extras.metadata;
  return res;
}
