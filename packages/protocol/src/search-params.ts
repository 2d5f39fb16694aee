/**
 * Search request parameters: parsing of `POST /indexes/{uid}/search`, `GET …/search`,
 * `POST …/facet-search` and `POST /multi-search` bodies, with Meilisearch's codes and its
 * deserr-style messages, plus the response types shared by engine and orchestrator.
 *
 * Field lists and their order follow meilisearch `crates/meilisearch/src/search/mod.rs`
 * (`SearchQuery`, `SearchQueryWithIndex`) and `routes/indexes/search.rs` (`SearchQueryGet`);
 * message formats follow the deserr crate (`src/errors/json.rs`, `query_params.rs`,
 * `helpers.rs::did_you_mean`). Keys are checked in the order they appear in the body and the
 * first error wins, as deserr does.
 *
 * @see https://www.meilisearch.com/docs/reference/api/search/search-with-post
 */

import { MeiliError } from './errors.js';

export type MatchingStrategy = 'last' | 'all' | 'frequency';

export interface HybridQuery {
  embedder: string;
  semanticRatio: number;
}

/**
 * A parsed search body. Only the parameters the client set are present (`null` for an optional
 * parameter counts as unset); consumers apply defaults (see {@link SEARCH_DEFAULTS}).
 */
export interface SearchQuery {
  q?: string;
  offset?: number;
  limit?: number;
  page?: number;
  hitsPerPage?: number;
  attributesToRetrieve?: string[];
  attributesToCrop?: string[];
  cropLength?: number;
  cropMarker?: string;
  attributesToHighlight?: string[];
  highlightPreTag?: string;
  highlightPostTag?: string;
  showMatchesPosition?: boolean;
  filter?: unknown;
  sort?: string[];
  distinct?: string;
  facets?: string[];
  matchingStrategy?: MatchingStrategy;
  attributesToSearchOn?: string[];
  rankingScoreThreshold?: number;
  locales?: string[];
  hybrid?: HybridQuery;
  vector?: number[];
  retrieveVectors?: boolean;
  media?: unknown;
  personalize?: { userContext: string };
  useNetwork?: boolean;
  showRankingScore?: boolean;
  showRankingScoreDetails?: boolean;
  showPerformanceDetails?: boolean;
}

/** Defaults Meilisearch applies to unset parameters. */
export const SEARCH_DEFAULTS = Object.freeze({
  offset: 0,
  limit: 20,
  cropLength: 10,
  cropMarker: '…',
  highlightPreTag: '<em>',
  highlightPostTag: '</em>',
  matchingStrategy: 'last' as MatchingStrategy,
  semanticRatio: 0.5,
});

/**
 * The semantic and keyword weights of a hybrid search. Meilisearch holds the ratio as an `f32`
 * (`SemanticRatio(f32)`) and computes the keyword weight `1.0 - ratio` in `f32` (milli
 * `search/hybrid.rs`), widening both to `f64` only to multiply a score: at 0.7 the weights are
 * 0.699999988… and 0.300000011…, not 0.7 and 0.3, which decides near-ties and the "good enough"
 * threshold.
 */
export function hybridWeights(ratio: number): [semantic: number, keyword: number] {
  const s = Math.fround(ratio);
  return [s, Math.fround(1 - s)];
}

/**
 * milli `results_good_enough`, for one hit of a hybrid search's keyword side: its global score
 * × the keyword weight ({@link hybridWeights}) reaches 0.45 (a score of 0.9 at ratio 0.5). When
 * the keyword search fills the window with such hits, the semantic side is skipped.
 */
export function keywordScoreGoodEnough(score: number, ratio: number): boolean {
  return score * hybridWeights(ratio)[1] >= 0.45;
}

export interface FederationOptions {
  weight?: number;
  remote?: string;
  queryPosition?: number;
}

/** One query of a `/multi-search` body. */
export interface SearchQueryWithIndex extends SearchQuery {
  indexUid: string;
  federationOptions?: FederationOptions;
}

export interface MergeFacets {
  maxValuesPerFacet?: number;
}

export interface Federation {
  limit?: number;
  offset?: number;
  page?: number;
  hitsPerPage?: number;
  facetsByIndex?: Record<string, string[] | null>;
  mergeFacets?: MergeFacets | null;
  distinct?: string;
  showPerformanceDetails?: boolean;
}

export interface MultiSearchQuery {
  queries: SearchQueryWithIndex[];
  /** Present (possibly `{}`) for a federated search, absent otherwise. */
  federation?: Federation;
}

export interface FacetSearchQuery {
  facetName: string;
  facetQuery?: string;
  q?: string;
  vector?: number[];
  hybrid?: HybridQuery;
  filter?: unknown;
  matchingStrategy?: MatchingStrategy;
  attributesToSearchOn?: string[];
  rankingScoreThreshold?: number;
  locales?: string[];
  exhaustiveFacetCount?: boolean;
}

/** A returned document plus the underscore fields a search may add. */
export type Hit = Record<string, unknown> & {
  _formatted?: Record<string, unknown>;
  _matchesPosition?: Record<string, MatchBounds[]>;
  _rankingScore?: number;
  _rankingScoreDetails?: Record<string, Record<string, unknown>>;
  _federation?: Record<string, unknown>;
};

export interface MatchBounds {
  start: number;
  length: number;
  indices?: number[];
}

export interface FacetStats {
  min: number;
  max: number;
}

/**
 * The window of a result list: `limit, offset, estimatedTotalHits` (offset/limit mode) or
 * `hitsPerPage, page, totalPages, totalHits` (page mode, exhaustive totals).
 */
export interface ResultWindow {
  limit?: number;
  offset?: number;
  estimatedTotalHits?: number;
  hitsPerPage?: number;
  page?: number;
  totalPages?: number;
  totalHits?: number;
}

/**
 * Writes a result list's window fields in Meilisearch's order: in page mode `hitsPerPage`, `page`,
 * `totalPages`, `totalHits`; otherwise `limit`, `offset`, `estimatedTotalHits`.
 */
export function setResultWindow(
  res: ResultWindow,
  paged: boolean,
  w: { hitsPerPage: number; page: number; limit: number; offset: number },
  total: number,
): void {
  if (paged) {
    res.hitsPerPage = w.hitsPerPage;
    res.page = w.page;
    res.totalPages = w.hitsPerPage === 0 ? 0 : Math.ceil(total / w.hitsPerPage);
    res.totalHits = total;
  } else {
    res.limit = w.limit;
    res.offset = w.offset;
    res.estimatedTotalHits = total;
  }
}

/**
 * A search response. Keys appear in Meilisearch's order: `hits`, `query`, `processingTimeMs`,
 * then either `limit, offset, estimatedTotalHits` or `hitsPerPage, page, totalPages, totalHits`,
 * then `facetDistribution`, `facetStats`, `semanticHitCount`.
 */
export interface SearchResponse extends ResultWindow {
  hits: Hit[];
  query: string;
  processingTimeMs: number;
  facetDistribution?: Record<string, Record<string, number>>;
  facetStats?: Record<string, FacetStats>;
  semanticHitCount?: number;
  requestUid?: string;
}

/** Facets of one index in a federated response's `facetsByIndex`. */
export interface ComputedFacets {
  distribution: Record<string, Record<string, number>>;
  stats: Record<string, FacetStats>;
}

/** A federated `/multi-search` response, keys in Meilisearch's order. */
export interface FederatedSearchResponse extends ResultWindow {
  hits: Hit[];
  processingTimeMs: number;
  semanticHitCount?: number;
  facetDistribution?: Record<string, Record<string, number>>;
  facetStats?: Record<string, FacetStats>;
  facetsByIndex?: Record<string, ComputedFacets>;
  requestUid?: string;
  /** One metadata object per query (`Meili-Include-Metadata: true`). */
  metadata?: readonly Readonly<Record<string, unknown>>[];
}

export interface FacetHit {
  value: string;
  count: number;
}

export interface FacetSearchResponse {
  facetHits: FacetHit[];
  facetQuery: string | null;
  processingTimeMs: number;
}

// ---------------------------------------------------------------------------------------------
// deserr-style messages

type Kind = 'null' | 'boolean' | 'integer' | 'negative' | 'float' | 'string' | 'array' | 'object';

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return 'float';
    return v < 0 ? 'negative' : 'integer';
  }
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

const KIND_ORDER: Kind[] = ['null', 'boolean', 'integer', 'negative', 'float', 'string', 'array', 'object'];
const KIND_TEXT: Record<Kind, string> = {
  null: 'null',
  boolean: 'a boolean',
  integer: 'a positive integer',
  negative: 'a negative integer',
  float: 'a number',
  string: 'a string',
  array: 'an array',
  object: 'an object',
};

/** deserr's `value_kinds_description_json`: sorted, merged ("a number"), joined with "or". */
function describeKinds(kinds: Kind[]): string {
  const sorted = [...new Set(kinds)].sort((a, b) => KIND_ORDER.indexOf(a) - KIND_ORDER.indexOf(b));
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const a = sorted[i];
    const b = sorted[i + 1];
    const c = sorted[i + 2];
    if ((a === 'integer' || a === 'negative') && b === 'float') {
      parts.push('a number');
      i += 2;
    } else if (a === 'integer' && b === 'negative' && c === 'float') {
      parts.push('a number');
      i += 3;
    } else if (a === 'integer' && b === 'negative') {
      parts.push('an integer');
      i += 2;
    } else {
      parts.push(KIND_TEXT[a]);
      i += 1;
    }
  }
  if (parts.length === 1) return parts[0];
  if (parts.length === 2) return `${parts[0]} or ${parts[1]}`;
  return `${parts.slice(0, -1).join(', ')}, or ${parts[parts.length - 1]}`;
}

function describeValue(v: unknown): string {
  const k = kindOf(v);
  if (k === 'null') return 'null';
  return `${KIND_TEXT[k]}: \`${JSON.stringify(v)}\``;
}

/** Damerau–Levenshtein (optimal string alignment) distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => {
    const row = new Array<number>(n + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= n; j++) d[0][j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[m][n];
}

/** deserr `did_you_mean`: allowance grows with the received length; first closest wins. */
function didYouMean(received: string, accepted: readonly string[]): string {
  const len = Buffer.byteLength(received);
  if (len <= 3) return '';
  const allowed = len <= 7 ? 1 : len <= 12 ? 2 : len <= 17 ? 3 : len <= 24 ? 4 : 5;
  let best: string | undefined;
  let bestD = Infinity;
  for (const acc of accepted) {
    const dist = editDistance(received, acc);
    if (dist <= allowed && dist < bestD) {
      best = acc;
      bestD = dist;
    }
  }
  return best === undefined ? '' : `did you mean \`${best}\`? `;
}

function listTicks(xs: readonly string[]): string {
  return xs.map((x) => `\`${x}\``).join(', ');
}

function at(path: string): string {
  return path === '' ? '' : ` at \`${path}\``;
}
function inside(path: string): string {
  return path === '' ? '' : ` inside \`${path}\``;
}

function typeError(code: string, path: string, accepted: Kind[], actual: unknown): MeiliError {
  return new MeiliError(
    code,
    `Invalid value type${at(path)}: expected ${describeKinds(accepted)}, but found ${describeValue(actual)}`,
  );
}

function unknownField(code: string, path: string, key: string, accepted: readonly string[]): MeiliError {
  return new MeiliError(
    code,
    `Unknown field \`${key}\`${inside(path)}: ${didYouMean(key, accepted)}expected one of ${listTicks(accepted)}`,
  );
}

function unknownValue(code: string, path: string, value: string, accepted: readonly string[]): MeiliError {
  return new MeiliError(
    code,
    `Unknown value \`${value}\`${at(path)}: ${didYouMean(value, accepted)}expected one of ${listTicks(accepted)}`,
  );
}

function unexpected(code: string, path: string, msg: string): MeiliError {
  return new MeiliError(code, `Invalid value${at(path)}: ${msg}`);
}

function missingField(code: string, path: string, field: string): MeiliError {
  return new MeiliError(code, `Missing field \`${field}\`${inside(path)}`);
}

// ---------------------------------------------------------------------------------------------
// JSON value readers (one per Rust type used by the structs)

type Reader = (v: unknown, path: string, code: string) => unknown;

const usize: Reader = (v, path, code) => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw typeError(code, path, ['integer'], v);
};
const bool: Reader = (v, path, code) => {
  if (typeof v === 'boolean') return v;
  throw typeError(code, path, ['boolean'], v);
};
const str: Reader = (v, path, code) => {
  if (typeof v === 'string') return v;
  throw typeError(code, path, ['string'], v);
};
const float: Reader = (v, path, code) => {
  if (typeof v === 'number') return v;
  throw typeError(code, path, ['integer', 'negative', 'float'], v);
};
const any: Reader = (v) => v;
function vecOf(item: Reader): Reader {
  return (v, path, code) => {
    if (!Array.isArray(v)) throw typeError(code, path, ['array'], v);
    return v.map((x, i) => item(x, `${path}[${i}]`, code));
  };
}
/** `Option<T>`: null means unset. */
function opt(r: Reader): Reader {
  return (v, path, code) => (v === null ? undefined : r(v, path, code));
}

const MATCHING_STRATEGIES = ['last', 'all', 'frequency'] as const;
const matchingStrategy: Reader = (v, path, code) => {
  if (typeof v !== 'string') throw typeError(code, path, ['string'], v);
  if (!(MATCHING_STRATEGIES as readonly string[]).includes(v)) throw unknownValue(code, path, v, MATCHING_STRATEGIES);
  return v;
};

function ratioIn01(name: string): string {
  return `the value of \`${name}\` is invalid, expected a float between \`0.0\` and \`1.0\`.`;
}

const rankingScoreThreshold: Reader = (v, path, code) => {
  const f = float(v, path, code) as number;
  if (f > 1 || f < 0) throw unexpected(code, path, ratioIn01('rankingScoreThreshold'));
  return f;
};

const HYBRID_FIELDS = ['semanticRatio', 'embedder'] as const;
const hybrid: Reader = (v, path, code) => {
  if (kindOf(v) !== 'object') throw typeError(code, path, ['object'], v);
  const o = v as Record<string, unknown>;
  let semanticRatio: number = SEARCH_DEFAULTS.semanticRatio;
  let embedder: string | undefined;
  for (const [k, val] of Object.entries(o)) {
    const p = `${path}.${k}`;
    if (k === 'semanticRatio') {
      const f = float(val, p, 'invalid_search_semantic_ratio') as number;
      if (f > 1 || f < 0) throw unexpected('invalid_search_semantic_ratio', p, ratioIn01('semanticRatio'));
      semanticRatio = f;
    } else if (k === 'embedder') {
      embedder = str(val, p, 'invalid_search_embedder') as string;
    } else {
      throw unknownField(code, path, k, HYBRID_FIELDS);
    }
  }
  if (embedder === undefined) throw missingField(code, path, 'embedder');
  return { embedder, semanticRatio } satisfies HybridQuery;
};

const personalize: Reader = (v, path, code) => {
  if (kindOf(v) !== 'object') throw typeError(code, path, ['object'], v);
  const o = v as Record<string, unknown>;
  let userContext: string | undefined;
  for (const [k, val] of Object.entries(o)) {
    if (k === 'userContext') userContext = str(val, `${path}.${k}`, 'invalid_search_personalize_user_context') as string;
    else throw unknownField(code, path, k, ['userContext']);
  }
  if (userContext === undefined) throw missingField(code, path, 'userContext');
  return { userContext };
};

interface FieldSpec {
  code: string;
  read: Reader;
}

/** `SearchQuery` fields in declaration order (the order of the "expected one of" list). */
const SEARCH_FIELDS: ReadonlyArray<[string, FieldSpec]> = [
  ['q', { code: 'invalid_search_q', read: opt(str) }],
  ['offset', { code: 'invalid_search_offset', read: usize }],
  ['limit', { code: 'invalid_search_limit', read: usize }],
  ['page', { code: 'invalid_search_page', read: opt(usize) }],
  ['hitsPerPage', { code: 'invalid_search_hits_per_page', read: opt(usize) }],
  ['attributesToRetrieve', { code: 'invalid_search_attributes_to_retrieve', read: opt(vecOf(str)) }],
  ['attributesToCrop', { code: 'invalid_search_attributes_to_crop', read: opt(vecOf(str)) }],
  ['cropLength', { code: 'invalid_search_crop_length', read: usize }],
  ['cropMarker', { code: 'invalid_search_crop_marker', read: str }],
  ['attributesToHighlight', { code: 'invalid_search_attributes_to_highlight', read: opt(vecOf(str)) }],
  ['highlightPreTag', { code: 'invalid_search_highlight_pre_tag', read: str }],
  ['highlightPostTag', { code: 'invalid_search_highlight_post_tag', read: str }],
  ['showMatchesPosition', { code: 'invalid_search_show_matches_position', read: bool }],
  ['filter', { code: 'invalid_search_filter', read: opt(any) }],
  ['sort', { code: 'invalid_search_sort', read: opt(vecOf(str)) }],
  ['distinct', { code: 'invalid_search_distinct', read: opt(str) }],
  ['facets', { code: 'invalid_search_facets', read: opt(vecOf(str)) }],
  ['matchingStrategy', { code: 'invalid_search_matching_strategy', read: matchingStrategy }],
  ['attributesToSearchOn', { code: 'invalid_search_attributes_to_search_on', read: opt(vecOf(str)) }],
  ['rankingScoreThreshold', { code: 'invalid_search_ranking_score_threshold', read: opt(rankingScoreThreshold) }],
  // Locale codes are accepted as strings; the engine does no language-specific tokenization.
  ['locales', { code: 'invalid_search_locales', read: opt(vecOf(str)) }],
  ['hybrid', { code: 'invalid_search_hybrid_query', read: opt(hybrid) }],
  ['vector', { code: 'invalid_search_vector', read: opt(vecOf(float)) }],
  ['retrieveVectors', { code: 'invalid_search_retrieve_vectors', read: bool }],
  ['media', { code: 'invalid_search_media', read: opt(any) }],
  ['personalize', { code: 'invalid_search_personalize', read: opt(personalize) }],
  ['useNetwork', { code: 'invalid_search_use_network', read: opt(bool) }],
  ['showRankingScore', { code: 'invalid_search_show_ranking_score', read: bool }],
  ['showRankingScoreDetails', { code: 'invalid_search_show_ranking_score_details', read: bool }],
  ['showPerformanceDetails', { code: 'invalid_search_show_performance_details', read: bool }],
];
const SEARCH_SPEC = new Map(SEARCH_FIELDS);
const SEARCH_FIELD_NAMES = SEARCH_FIELDS.map(([k]) => k);

function readObject(
  body: unknown,
  path: string,
  spec: ReadonlyMap<string, FieldSpec>,
  names: readonly string[],
  denyUnknown: boolean,
): Record<string, unknown> {
  if (kindOf(body) !== 'object') throw typeError('bad_request', path, ['object'], body);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    const f = spec.get(k);
    if (f === undefined) {
      if (denyUnknown) throw unknownField('bad_request', path, k, names);
      continue;
    }
    const val = f.read(v, `${path}.${k}`, f.code);
    if (val !== undefined) out[k] = val;
  }
  return out;
}

/**
 * Parse a `POST /indexes/{uid}/search` body.
 * @throws MeiliError `bad_request` for unknown fields, `invalid_search_*` for bad values.
 */
export function parseSearchQuery(body: unknown): SearchQuery {
  return readObject(body, '', SEARCH_SPEC, SEARCH_FIELD_NAMES, true) as SearchQuery;
}

// ---------------------------------------------------------------------------------------------
// GET query parameters

type ParamReader = (raw: string, name: string, code: string) => unknown;

const paramUsize: ParamReader = (raw, name, code) => {
  // Rust's usize parser accepts an optional leading `+`.
  if (/^\+?[0-9]+$/.test(raw)) {
    const n = Number(raw);
    if (Number.isSafeInteger(n)) return n;
  }
  throw new MeiliError(code, `Invalid value in parameter \`${name}\`: could not parse \`${raw}\` as a positive integer`);
};
const paramBool: ParamReader = (raw, name, code) => {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new MeiliError(
    code,
    `Invalid value in parameter \`${name}\`: could not parse \`${raw}\` as a boolean, expected either \`true\` or \`false\``,
  );
};
const paramStr: ParamReader = (raw) => raw;
/** serde_cs: comma-separated, items trimmed, empty items dropped. */
function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
const paramList: ParamReader = (raw) => splitList(raw);
const paramRatio =
  (field: string): ParamReader =>
  (raw, name, code) => {
    const f = raw.trim() === '' ? NaN : Number(raw);
    if (Number.isNaN(f) || f > 1 || f < 0) {
      throw new MeiliError(code, `Invalid value in parameter \`${name}\`: ${ratioIn01(field)}`);
    }
    return f;
  };
const paramMatching: ParamReader = (raw, name, code) => {
  if ((MATCHING_STRATEGIES as readonly string[]).includes(raw)) return raw;
  throw new MeiliError(
    code,
    `Unknown value \`${raw}\` for parameter \`${name}\`: ${didYouMean(raw, MATCHING_STRATEGIES)}expected one of ${listTicks(MATCHING_STRATEGIES)}`,
  );
};
const paramVector: ParamReader = (raw, name, code) =>
  splitList(raw).map((s) => {
    const f = Number(s);
    if (Number.isNaN(f)) throw new MeiliError(code, `Invalid value in parameter \`${name}\`: invalid float literal`);
    return f;
  });

/** `SearchQueryGet` fields in declaration order (meilisearch `routes/indexes/search.rs`, v1.50). */
const GET_FIELDS: ReadonlyArray<[string, { code: string; read: ParamReader }]> = [
  ['q', { code: 'invalid_search_q', read: paramStr }],
  ['offset', { code: 'invalid_search_offset', read: paramUsize }],
  ['limit', { code: 'invalid_search_limit', read: paramUsize }],
  ['page', { code: 'invalid_search_page', read: paramUsize }],
  ['hitsPerPage', { code: 'invalid_search_hits_per_page', read: paramUsize }],
  ['attributesToRetrieve', { code: 'invalid_search_attributes_to_retrieve', read: paramList }],
  ['attributesToCrop', { code: 'invalid_search_attributes_to_crop', read: paramList }],
  ['cropLength', { code: 'invalid_search_crop_length', read: paramUsize }],
  ['cropMarker', { code: 'invalid_search_crop_marker', read: paramStr }],
  ['attributesToHighlight', { code: 'invalid_search_attributes_to_highlight', read: paramList }],
  ['highlightPreTag', { code: 'invalid_search_highlight_pre_tag', read: paramStr }],
  ['highlightPostTag', { code: 'invalid_search_highlight_post_tag', read: paramStr }],
  ['showMatchesPosition', { code: 'invalid_search_show_matches_position', read: paramBool }],
  ['filter', { code: 'invalid_search_filter', read: paramStr }],
  ['sort', { code: 'invalid_search_sort', read: paramStr }],
  ['distinct', { code: 'invalid_search_distinct', read: paramStr }],
  ['facets', { code: 'invalid_search_facets', read: paramList }],
  ['matchingStrategy', { code: 'invalid_search_matching_strategy', read: paramMatching }],
  ['attributesToSearchOn', { code: 'invalid_search_attributes_to_search_on', read: paramList }],
  ['rankingScoreThreshold', { code: 'invalid_search_ranking_score_threshold', read: paramRatio('rankingScoreThreshold') }],
  ['locales', { code: 'invalid_search_locales', read: paramList }],
  ['hybridEmbedder', { code: 'invalid_search_embedder', read: paramStr }],
  ['hybridSemanticRatio', { code: 'invalid_search_semantic_ratio', read: paramRatio('semanticRatio') }],
  ['vector', { code: 'invalid_search_vector', read: paramVector }],
  ['retrieveVectors', { code: 'invalid_search_retrieve_vectors', read: paramBool }],
  ['personalizeUserContext', { code: 'invalid_search_personalize_user_context', read: paramStr }],
  ['useNetwork', { code: 'invalid_search_use_network', read: paramBool }],
  ['showRankingScore', { code: 'invalid_search_show_ranking_score', read: paramBool }],
  ['showRankingScoreDetails', { code: 'invalid_search_show_ranking_score_details', read: paramBool }],
  ['showPerformanceDetails', { code: 'invalid_search_show_performance_details', read: paramBool }],
];
const GET_SPEC = new Map(GET_FIELDS);
const GET_FIELD_NAMES = GET_FIELDS.map(([k]) => k);

/**
 * meilisearch `fix_sort_query_parameters`: split on commas but keep `_geoPoint(lat, lng):dir`
 * whole.
 */
export function splitSortParam(raw: string): string[] {
  const out: string[] = [];
  let merge = false;
  for (const part of raw.replace(/^"+|"+$/g, '').split(',').map((s) => s.trim())) {
    if (part.startsWith('_geoPoint(')) {
      out.push(part);
      merge = true;
    } else if (merge && out.length > 0) {
      out[out.length - 1] += `,${part}`;
      if (part.endsWith('):desc') || part.endsWith('):asc')) merge = false;
    } else {
      out.push(part);
      merge = false;
    }
  }
  return out;
}

/**
 * Parse `GET /indexes/{uid}/search` query parameters into the POST shape.
 * @throws MeiliError with Meilisearch's query-parameter messages.
 */
export function searchQueryFromGet(query: Readonly<Record<string, string | readonly string[] | undefined>>): SearchQuery {
  const raw: Record<string, unknown> = {};
  for (const [k, given] of Object.entries(query)) {
    // A repeated parameter keeps its last value, as Meilisearch's query-string reader does.
    const v = typeof given === 'string' ? given : given?.[given.length - 1];
    if (v === undefined) continue;
    const f = GET_SPEC.get(k);
    if (f === undefined) {
      throw new MeiliError(
        'bad_request',
        `Unknown parameter \`${k}\`: ${didYouMean(k, GET_FIELD_NAMES)}expected one of ${listTicks(GET_FIELD_NAMES)}`,
      );
    }
    raw[k] = f.read(v, k, f.code);
  }
  const out: SearchQuery = {};
  for (const [k, v] of Object.entries(raw)) {
    switch (k) {
      case 'filter': {
        const s = v as string;
        try {
          out.filter = JSON.parse(s) as unknown;
        } catch {
          out.filter = s;
        }
        break;
      }
      case 'sort':
        out.sort = splitSortParam(v as string);
        break;
      case 'hybridEmbedder':
      case 'hybridSemanticRatio':
        break;
      case 'personalizeUserContext':
        out.personalize = { userContext: v as string };
        break;
      default:
        (out as Record<string, unknown>)[k] = v;
    }
  }
  const embedder = raw.hybridEmbedder as string | undefined;
  const ratio = raw.hybridSemanticRatio as number | undefined;
  if (embedder === undefined && ratio !== undefined) {
    throw new MeiliError(
      'invalid_search_hybrid_query',
      '`hybridEmbedder` is mandatory when `hybridSemanticRatio` is present',
    );
  }
  if (embedder !== undefined) out.hybrid = { embedder, semanticRatio: ratio ?? SEARCH_DEFAULTS.semanticRatio };
  if (out.vector !== undefined && out.hybrid === undefined) {
    throw new MeiliError('missing_search_hybrid', '`hybridEmbedder` is mandatory when `vector` is present');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Facet search

/** `FacetSearchQuery` does not deny unknown fields: other search parameters are ignored. */
const FACET_FIELDS: ReadonlyArray<[string, FieldSpec]> = [
  ['facetQuery', { code: 'invalid_facet_search_facet_query', read: opt(str) }],
  ['facetName', { code: 'invalid_facet_search_facet_name', read: str }],
  ['q', { code: 'invalid_search_q', read: opt(str) }],
  ['vector', { code: 'invalid_search_vector', read: opt(vecOf(float)) }],
  ['media', { code: 'invalid_search_media', read: opt(any) }],
  ['hybrid', { code: 'invalid_search_hybrid_query', read: opt(hybrid) }],
  ['filter', { code: 'invalid_search_filter', read: opt(any) }],
  ['matchingStrategy', { code: 'invalid_search_matching_strategy', read: matchingStrategy }],
  ['attributesToSearchOn', { code: 'invalid_search_attributes_to_search_on', read: opt(vecOf(str)) }],
  ['rankingScoreThreshold', { code: 'invalid_search_ranking_score_threshold', read: opt(rankingScoreThreshold) }],
  ['locales', { code: 'invalid_search_locales', read: opt(vecOf(str)) }],
  ['exhaustiveFacetCount', { code: 'invalid_facet_search_exhaustive_facet_count', read: opt(bool) }],
];
const FACET_SPEC = new Map(FACET_FIELDS);

/**
 * Parse a `POST /indexes/{uid}/facet-search` body.
 * @throws MeiliError `missing_facet_search_facet_name` when `facetName` is absent.
 */
export function parseFacetSearchQuery(body: unknown): FacetSearchQuery {
  const out = readObject(body, '', FACET_SPEC, [], false);
  if (out.facetName === undefined) throw missingField('missing_facet_search_facet_name', '', 'facetName');
  return out as unknown as FacetSearchQuery;
}

// ---------------------------------------------------------------------------------------------
// Multi-search

const INDEX_UID_RE = /^[A-Za-z0-9_-]+$/;

/** meilisearch `IndexUid` validation message. */
export function invalidIndexUidMessage(uid: string): string {
  return `\`${uid}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 400 bytes.`;
}

const indexUid: Reader = (v, path, code) => {
  const s = str(v, path, code) as string;
  if (!INDEX_UID_RE.test(s) || Buffer.byteLength(s) > 400) throw unexpected(code, path, invalidIndexUidMessage(s));
  return s;
};

const FEDERATION_OPTIONS_FIELDS = ['weight', 'remote', 'queryPosition'] as const;
const federationOptions: Reader = (v, path, code) => {
  if (kindOf(v) !== 'object') throw typeError(code, path, ['object'], v);
  const out: FederationOptions = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const p = `${path}.${k}`;
    if (k === 'weight') {
      const w = float(val, p, 'invalid_multi_search_weight') as number;
      if (w < 0) {
        throw unexpected(
          'invalid_multi_search_weight',
          p,
          'the value of `weight` is invalid, expected a positive float (>= 0.0).',
        );
      }
      out.weight = w;
    } else if (k === 'remote') {
      const r = opt(str)(val, p, 'invalid_multi_search_remote') as string | undefined;
      if (r !== undefined) out.remote = r;
    } else if (k === 'queryPosition') {
      const q = opt(usize)(val, p, 'invalid_multi_search_query_position') as number | undefined;
      if (q !== undefined) out.queryPosition = q;
    } else {
      throw unknownField(code, path, k, FEDERATION_OPTIONS_FIELDS);
    }
  }
  return out;
};

/** `SearchQueryWithIndex`: pagination fields are `Option`s here, so `null` is accepted. */
const QUERY_WITH_INDEX_FIELDS: ReadonlyArray<[string, FieldSpec]> = [
  ['indexUid', { code: 'invalid_index_uid', read: indexUid }],
  ...SEARCH_FIELDS.map(([k, f]): [string, FieldSpec] =>
    k === 'offset' || k === 'limit' || k === 'showPerformanceDetails' ? [k, { code: f.code, read: opt(f.read) }] : [k, f],
  ),
  ['federationOptions', { code: 'invalid_multi_search_federation_options', read: opt(federationOptions) }],
];
const QUERY_WITH_INDEX_SPEC = new Map(QUERY_WITH_INDEX_FIELDS);
const QUERY_WITH_INDEX_NAMES = QUERY_WITH_INDEX_FIELDS.map(([k]) => k);

const facetsByIndex: Reader = (v, path, code) => {
  if (kindOf(v) !== 'object') throw typeError(code, path, ['object'], v);
  const out: Record<string, string[] | null> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const p = `${path}.${k}`;
    if (!INDEX_UID_RE.test(k)) throw unexpected(code, p, invalidIndexUidMessage(k));
    out[k] = val === null ? null : (vecOf(str)(val, p, code) as string[]);
  }
  return out;
};
const mergeFacets: Reader = (v, path, code) => {
  if (kindOf(v) !== 'object') throw typeError(code, path, ['object'], v);
  const out: MergeFacets = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'maxValuesPerFacet') {
      const n = opt(usize)(val, `${path}.${k}`, 'invalid_multi_search_max_values_per_facet') as number | undefined;
      if (n !== undefined) out.maxValuesPerFacet = n;
    } else {
      throw unknownField(code, path, k, ['maxValuesPerFacet']);
    }
  }
  return out;
};

const FEDERATION_FIELDS: ReadonlyArray<[string, FieldSpec]> = [
  ['limit', { code: 'invalid_search_limit', read: usize }],
  ['offset', { code: 'invalid_search_offset', read: usize }],
  ['page', { code: 'invalid_search_page', read: opt(usize) }],
  ['hitsPerPage', { code: 'invalid_search_hits_per_page', read: opt(usize) }],
  ['facetsByIndex', { code: 'invalid_multi_search_facets_by_index', read: opt(facetsByIndex) }],
  ['mergeFacets', { code: 'invalid_multi_search_merge_facets', read: opt(mergeFacets) }],
  ['distinct', { code: 'invalid_search_distinct', read: opt(str) }],
  ['showPerformanceDetails', { code: 'invalid_search_show_performance_details', read: bool }],
];
const FEDERATION_SPEC = new Map(FEDERATION_FIELDS);
const FEDERATION_NAMES = FEDERATION_FIELDS.map(([k]) => k);

const MULTI_FIELDS = ['queries', 'federation'] as const;

/** Prefix Meilisearch puts on errors about one query of a multi-search. */
export function insideQuery(i: number, err: MeiliError): MeiliError {
  return new MeiliError(err.code, `Inside \`.queries[${i}]\`: ${err.message}`, { status: err.status, type: err.type });
}

/**
 * Parse a `POST /multi-search` body (plain or federated) and apply the route's own checks:
 * `federationOptions` only in federated requests; per-query pagination and facets only in
 * plain ones.
 */
export function parseMultiSearch(body: unknown): MultiSearchQuery {
  if (kindOf(body) !== 'object') throw typeError('bad_request', '', ['object'], body);
  let queries: SearchQueryWithIndex[] | undefined;
  let federation: Federation | undefined;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === 'queries') {
      if (!Array.isArray(v)) throw typeError('bad_request', '.queries', ['array'], v);
      queries = v.map((q, i) => {
        const path = `.queries[${i}]`;
        if (kindOf(q) !== 'object') throw typeError('bad_request', path, ['object'], q);
        const out = readObject(q, path, QUERY_WITH_INDEX_SPEC, QUERY_WITH_INDEX_NAMES, true);
        if (out.indexUid === undefined) throw missingField('missing_index_uid', path, 'indexUid');
        return out as unknown as SearchQueryWithIndex;
      });
    } else if (k === 'federation') {
      if (v !== null && kindOf(v) !== 'object') {
        throw typeError('invalid_multi_search_federated', '.federation', ['null', 'object'], v);
      }
      if (v !== null) federation = readObject(v, '.federation', FEDERATION_SPEC, FEDERATION_NAMES, true) as Federation;
    } else {
      throw unknownField('bad_request', '', k, MULTI_FIELDS);
    }
  }
  if (queries === undefined) throw missingField('bad_request', '', 'queries');
  queries.forEach((q, i) => {
    if (federation === undefined) {
      if (q.federationOptions !== undefined) {
        throw insideQuery(
          i,
          new MeiliError(
            'invalid_multi_search_federation_options',
            `Using \`federationOptions\` is not allowed in a non-federated search.\n - Hint: remove \`federationOptions\` from query #${i} or add \`federation\` to the request.`,
          ),
        );
      }
      return;
    }
    const pagination = (['offset', 'limit', 'page', 'hitsPerPage'] as const).find((p) => q[p] !== undefined);
    if (pagination !== undefined) {
      throw new MeiliError(
        'invalid_multi_search_query_pagination',
        `Inside \`.queries[${i}]\`: Using pagination options is not allowed in federated queries.\n - Hint: remove \`${pagination}\` from query #${i} or remove \`federation\` from the request\n - Hint: pass \`federation.limit\` and \`federation.offset\` for pagination in federated search`,
      );
    }
    if (q.facets !== undefined && q.facets.length > 0) {
      throw new MeiliError(
        'invalid_multi_search_query_facets',
        `Inside \`.queries[${i}]\`: Using facet options is not allowed in federated queries.\n - Hint: remove \`facets\` from query #${i} or remove \`federation\` from the request\n - Hint: pass \`federation.facetsByIndex.${q.indexUid}: ${JSON.stringify(q.facets).replaceAll(',', ', ')}\` for facets in federated search`,
      );
    }
    if (q.personalize !== undefined) {
      throw new MeiliError(
        'invalid_multi_search_query_personalization',
        `Inside \`.queries[${i}]\`: Using \`.personalize\` is not allowed in federated queries.\n - Hint: remove \`personalize\` from query #${i} or remove \`federation\` from the request`,
      );
    }
    if (q.showPerformanceDetails !== undefined) {
      throw new MeiliError(
        'invalid_multi_search_query_show_performance_details',
        `Inside \`.queries[${i}]\`: Using \`.showPerformanceDetails\` is not allowed in federated queries.\n - Hint: remove \`showPerformanceDetails\` from query #${i} or remove \`federation\` from the request`,
      );
    }
  });
  return federation === undefined ? { queries } : { queries, federation };
}
