/**
 * The engine's in-memory search index over one Meilisearch index. Documents live elsewhere
 * (the engine's SQLite); this keeps only derived structures: postings with positions per word,
 * facet values, sort values, field lengths and a filterable projection per document.
 *
 * Search follows milli's bucket sort: ranking rules in settings order, each relevancy rule
 * giving a rank r of M computed from the document and the query only (see `rules/`), ties
 * broken by iid. Only the buckets needed for the requested page are fully ranked.
 */
import {
  checkFilterable,
  FilterError,
  isAttributeFilterable,
  parseFilter,
  type FilterableRule,
  type FilterNode,
} from '@miroir/filter';
import {
  keywordScoreGoodEnough,
  MeiliError,
  SEARCH_DEFAULTS,
  setResultWindow,
  type FacetSearchQuery,
  type FacetSearchResponse,
  type FacetStats,
  type Hit,
  type SearchQuery,
  type SearchResponse,
  type Settings,
  type SimilarQuery,
  type SimilarResponse,
} from '@miroir/protocol';
import { FacetField, orderValues } from './facets.js';
import { compileIidFilter, type FilterSource, type IidPredicate } from './filter-eval.js';
import { forEachLeaf, firstMatch, matchesPattern, project, type Document } from './fields.js';
import { formatDocument, matchesPosition, selectFields, type FormatOptions, type Matcher, type MatcherPhrase } from './format.js';
import { encodePos, fidOf, PendingPostings, Posting, SOLE_WORD } from './postings.js';
import { attributeRankCost, attributeRankDetails, attributeRankMax } from './rules/attribute-rank.js';
import { exactAttributeRank, exactnessDetails, exactWordsCount } from './rules/exactness.js';
import { proximityCost, proximityDetails, proximityMax } from './rules/proximity.js';
import { compareSortValues, sortDetails, type SortValue, type SortValues } from './rules/sort.js';
import { maxTypoCount, typoCost, typoDetails } from './rules/typo.js';
import { globalScore, type DocView, type RankContext, type Term } from './rules/types.js';
import { positionBucket, wordPositionCost, wordPositionDetails, wordPositionMax } from './rules/word-position.js';
import { stageOf, wordsDetails, wordsStages, type WordsStage } from './rules/words.js';
import { HARD_GAP, normalize, tokenize, Tokenizer } from './tokenizer.js';
import { Vocabulary } from './vocabulary.js';
import { parseQuery } from './query-parse.js';
import { buildTerms, type PreparedQuery, type TermSource } from './query-terms.js';
import { BinaryHeap, topK } from './heap.js';
import { haversineMeters } from './geo.js';
import { MAX_QUERY_WORDS, Scratch } from './scratch.js';
import { SortStore } from './sort-store.js';
import { VectorStore } from './vectors.js';
import { mergeHybrid, searchKind, type ScoreValue, type SearchKind, type SideHit } from './hybrid.js';

export type { Document } from './fields.js';

/** A parsed `/similar` request (reference §5.5). */
export type { SimilarQuery, SimilarResponse } from '@miroir/protocol';

export interface SearchIndexOptions {
  /** The stored document of an iid (used only to build returned hits). */
  getDocument(iid: number): Document | undefined;
}

/** Pending posting entries are moved into the postings at this size (bounds the buffer). */
const PENDING_FLUSH_ENTRIES = 1 << 20;
/** Positions per attribute are capped (milli). */
const MAX_POSITION = 0xffff;

type RelevancyKind = 'words' | 'typo' | 'proximity' | 'attributeRank' | 'wordPosition' | 'exactness';

type RuleSpec =
  | { kind: RelevancyKind; legacyAttribute?: boolean; field?: undefined }
  | { kind: 'sortField'; field: string; ascending: boolean; label: string; geo?: GeoPoint };

/** `[lat, lng]` of a `_geoPoint(lat, lng)` sort. */
type GeoPoint = [number, number];

type SortSpec = { field: string; ascending: boolean; label: string; geo?: GeoPoint };

/** A ranked document kept for output: its rank components (with their M), sort values, score. */
interface Evaluated {
  iid: number;
  ranks: number[];
  max: number[];
  sorts: SortValue[];
  score: number;
}

type Comp = 'words' | 'typo' | 'proximity' | 'attributeRank' | 'wordPosition' | 'exactAttr' | 'exactWords';

type Slot = { kind: 'seg'; seg: number } | { kind: 'sort'; sort: number; field: string; ascending: boolean; geo?: GeoPoint };

/** A rule list compiled for evaluation: rank components, their segments, comparison slots. */
interface Plan {
  rules: readonly RuleSpec[];
  comps: Comp[];
  segOfComp: number[];
  segCount: number;
  slots: Slot[];
  sorts: Array<Extract<Slot, { kind: 'sort' }>>;
}


function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function ticks(list: readonly string[]): string {
  return `\`${list.join(', ')}\``;
}

/**
 * In-memory search structures for one index.
 */
/** A search's answer with the internal ids of the documents it matched and of its hits. */
export interface SearchMatches {
  readonly response: SearchResponse;
  /** Every document the search matched (not only the page's). */
  readonly candidates: ArrayLike<number>;
  /** The internal id of each hit, in `response.hits` order. */
  readonly hitIids: readonly number[];
}

export class SearchIndex {
  #settings!: Settings;
  readonly #getDocument: (iid: number) => Document | undefined;

  // Derived settings.
  #searchAll = true;
  #searchable: string[] = [];
  #weightCount = 1;
  #stopWords = new Set<string>();
  #tokenizer = Tokenizer.default;
  /** Synonyms by normalized word sequence (words joined by one space), each as words. */
  #synonyms = new Map<string, string[][]>();
  /** Best split per query word (see `query-terms.ts`), valid until the documents change. */
  #splitCache = new Map<string, { words: [string, string]; posting: Posting } | null>();
  #filterRules: FilterableRule[] = [];
  #sortable: string[] = [];
  #typoDisabledWords = new Set<string>();

  // Structures.
  #fieldIds = new Map<string, number>();
  #fieldNames: string[] = [];
  #fidWeight: number[] = [];
  #fidTypoDisabled: boolean[] = [];
  #seenFields = new Set<string>();
  #vocab = new Vocabulary();
  #postings: (Posting | undefined)[] = [];
  #present = new Uint8Array(1024);
  #maxIid = -1;
  #size = 0;
  #fieldLens: (Uint32Array | undefined)[] = [];
  #facetFields = new Map<string, FacetField>();
  #facetList: FacetField[] = [];
  #docFacets: (Int32Array | undefined)[] = [];
  #filterDocs: (Document | undefined)[] = [];
  #sortStores = new Map<string, SortStore>();
  #scratch = new Scratch();
  #pairBuf = new Float64Array(1024);
  #pending = new PendingPostings();
  /** `_geo` coordinates per iid (NaN: none), kept when `_geo` is sortable. */
  #geoLat = new Float64Array(0);
  #geoLng = new Float64Array(0);
  #posBuf = new Uint32Array(256);
  /** User-provided embeddings per embedder. */
  #vectors!: VectorStore;

  constructor(settings: Settings, opts: SearchIndexOptions) {
    this.#getDocument = opts.getDocument;
    this.#applySettings(settings);
  }

  /** Number of indexed documents. */
  get size(): number {
    return this.#size;
  }

  /** New settings: re-derive every structure from all documents. */
  setSettings(settings: Settings, all: Iterable<[iid: number, doc: Document]>): void {
    this.#applySettings(settings);
    this.clear();
    for (const [iid, doc] of all) this.add(iid, doc);
  }

  /** Drop every document. */
  clear(): void {
    this.#fieldIds = new Map();
    this.#fieldNames = [];
    this.#fidWeight = [];
    this.#fidTypoDisabled = [];
    this.#seenFields = new Set();
    this.#vocab = new Vocabulary();
    this.#postings = [];
    this.#splitCache = new Map();
    this.#present = new Uint8Array(1024);
    this.#maxIid = -1;
    this.#size = 0;
    this.#fieldLens = [];
    this.#facetFields = new Map();
    this.#facetList = [];
    this.#docFacets = [];
    this.#filterDocs = [];
    this.#sortStores = new Map();
    this.#scratch = new Scratch();
    this.#pathInfo = new Map();
    this.#pending = new PendingPostings();
    this.#geoLat = new Float64Array(0);
    this.#geoLng = new Float64Array(0);
    this.#vectors = new VectorStore(this.#settings.embedders);
  }

  #applySettings(settings: Settings): void {
    this.#settings = settings;
    this.#vectors = new VectorStore(settings.embedders);
    this.#searchAll = settings.searchableAttributes.includes('*');
    this.#searchable = this.#searchAll ? [] : [...settings.searchableAttributes];
    this.#weightCount = this.#searchAll ? 1 : Math.max(settings.searchableAttributes.length, 1);
    this.#stopWords = new Set(settings.stopWords.map(normalize));
    // separatorTokens / nonSeparatorTokens / dictionary change how documents and queries split.
    this.#tokenizer = new Tokenizer(settings);
    this.#synonyms = new Map();
    for (const [k, vs] of Object.entries(settings.synonyms)) {
      const key = this.#tokenizer.words(k).join(' ');
      const list = this.#synonyms.get(key) ?? [];
      for (const v of vs) {
        const ws = this.#tokenizer.words(v);
        if (ws.length > 0) list.push(ws);
      }
      this.#synonyms.set(key, list);
    }
    this.#filterRules = settings.filterableAttributes as FilterableRule[];
    const custom = settings.rankingRules.map((r) => /^(.+):(asc|desc)$/.exec(r)?.[1]).filter((f): f is string => f !== undefined);
    this.#sortable = [...settings.sortableAttributes, ...custom];
    this.#typoDisabledWords = new Set(settings.typoTolerance.disableOnWords.map(normalize));
  }

  #fid(path: string): number {
    let fid = this.#fieldIds.get(path);
    if (fid === undefined) {
      fid = this.#fieldNames.length;
      this.#fieldIds.set(path, fid);
      this.#fieldNames.push(path);
      // `_vectors` holds embeddings, never searchable text.
      const reserved = path === '_vectors' || path.startsWith('_vectors.');
      const w = reserved ? -1 : this.#searchAll ? 0 : firstMatch(this.#searchable, path);
      this.#fidWeight.push(w);
      this.#fidTypoDisabled.push(firstMatch(this.#settings.typoTolerance.disableOnAttributes, path) >= 0);
      for (let i = path.indexOf('.'); i >= 0; i = path.indexOf('.', i + 1)) this.#seenFields.add(path.slice(0, i));
      this.#seenFields.add(path);
    }
    return fid;
  }

  get #geoSortable(): boolean {
    return firstMatch(this.#settings.sortableAttributes, '_geo') >= 0;
  }

  #setGeo(iid: number, geo: unknown): void {
    if (geo === null || typeof geo !== 'object') return;
    const g = geo as Record<string, unknown>;
    const lat = typeof g.lat === 'string' ? Number(g.lat) : g.lat;
    const lng = typeof g.lng === 'string' ? Number(g.lng) : g.lng;
    if (typeof lat !== 'number' || typeof lng !== 'number' || !Number.isFinite(lat) || !Number.isFinite(lng)) return;
    if (iid >= this.#geoLat.length) {
      const cap = Math.max(iid + 1, this.#geoLat.length * 2, 1024);
      const grow = (a: Float64Array): Float64Array<ArrayBuffer> => {
        const b = new Float64Array(cap).fill(NaN);
        b.set(a);
        return b;
      };
      this.#geoLat = grow(this.#geoLat);
      this.#geoLng = grow(this.#geoLng);
    }
    this.#geoLat[iid] = lat;
    this.#geoLng[iid] = lng;
  }

  /** Distance in meters from `p` to the document's `_geo`, or null (milli: geoutils haversine). */
  #geoDistance(iid: number, p: GeoPoint): number | null {
    if (iid >= this.#geoLat.length || Number.isNaN(this.#geoLat[iid])) return null;
    return haversineMeters(p[0], p[1], this.#geoLat[iid], this.#geoLng[iid]);
  }

  /** Per-path decisions, computed once per field path. */
  #pathInfo = new Map<string, { faceted: boolean; sortable: boolean; filterable: boolean }>();

  #info(path: string): { faceted: boolean; sortable: boolean; filterable: boolean } {
    let info = this.#pathInfo.get(path);
    if (info === undefined) {
      const d = this.#settings.distinctAttribute;
      const filterable = isAttributeFilterable(path, this.#filterRules);
      info = {
        filterable,
        faceted: filterable || (d !== null && (path === d || path.startsWith(`${d}.`))),
        sortable: this.#sortable.length > 0 && firstMatch(this.#sortable, path) >= 0,
      };
      this.#pathInfo.set(path, info);
    }
    return info;
  }

  #facetField(path: string): FacetField {
    let f = this.#facetFields.get(path);
    if (f === undefined) {
      f = new FacetField(path, this.#facetList.length);
      this.#facetFields.set(path, f);
      this.#facetList.push(f);
    }
    return f;
  }

  /** Index a document that is not currently indexed under `iid`. */
  add(iid: number, doc: Document): void {
    if (iid >= this.#present.length) {
      const p = new Uint8Array(Math.max(iid + 1, this.#present.length * 2));
      p.set(this.#present);
      this.#present = p;
    }
    if (this.#present[iid] === 1) throw new Error(`iid ${iid} is already indexed`);
    if (this.#splitCache.size > 0) this.#splitCache.clear();
    this.#present[iid] = 1;
    this.#size++;
    if (iid > this.#maxIid) this.#maxIid = iid;

    // (wordId, position) pairs packed as wordId * 2^32 + position, sorted once per document.
    let keys = this.#pairBuf;
    let nKeys = 0;
    const nextPos = new Map<number, number>();
    const lens: number[] = [];
    const facetPairs: number[] = [];
    let sortUpdates: Map<string, SortValues> | undefined;

    forEachLeaf(doc, (path, value) => {
      const fid = this.#fid(path);
      if (value === null || value === undefined) return;
      const text = typeof value === 'string' ? value : String(value);
      if (this.#fidWeight[fid] >= 0) {
        const start = nextPos.get(fid);
        let count = 0;
        const last = this.#tokenizer.forEachToken(text, start === undefined ? 0 : start + HARD_GAP, (word, pos) => {
          count++;
          if (pos > MAX_POSITION) return;
          if (nKeys === keys.length) {
            const grown = new Float64Array(keys.length * 2);
            grown.set(keys);
            keys = this.#pairBuf = grown;
          }
          keys[nKeys++] = this.#vocab.intern(word) * 4294967296 + encodePos(fid, pos);
        });
        if (count > 0) {
          nextPos.set(fid, last);
          lens.push(fid, count);
        }
      }
      const info = this.#info(path);
      if (info.faceted && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
        const f = this.#facetField(path);
        const vid = f.valueId(value);
        let dup = false;
        for (let i = 0; i < facetPairs.length && !dup; i += 2) dup = facetPairs[i] === f.index && facetPairs[i + 1] === vid;
        if (!dup) {
          f.docCount[vid]++;
          f.setDocValue(iid, vid);
          facetPairs.push(f.index, vid);
        }
      }
      if (info.sortable) {
        sortUpdates ??= new Map();
        let sv = sortUpdates.get(path);
        if (sv === undefined) sortUpdates.set(path, (sv = { numMin: NaN, numMax: NaN, strMin: undefined, strMax: undefined }));
        if (typeof value === 'number') {
          if (Number.isNaN(sv.numMin) || value < sv.numMin) sv.numMin = value;
          if (Number.isNaN(sv.numMax) || value > sv.numMax) sv.numMax = value;
        } else if (typeof value === 'string' || typeof value === 'boolean') {
          const s = normalize(String(value));
          if (sv.strMin === undefined || s < sv.strMin) sv.strMin = s;
          if (sv.strMax === undefined || s > sv.strMax) sv.strMax = s;
        }
      }
    });

    let fieldLens: Uint32Array | undefined;
    if (lens.length > 0) {
      let maxFid = 0;
      for (let i = 0; i < lens.length; i += 2) if (lens[i] > maxFid) maxFid = lens[i];
      const byFid = new Uint32Array(maxFid + 1);
      for (let i = 0; i < lens.length; i += 2) byFid[lens[i]] += lens[i + 1];
      this.#fieldLens[iid] = byFid;
      fieldLens = byFid;
    } else {
      this.#fieldLens[iid] = undefined;
    }
    const sorted = keys.subarray(0, nKeys).sort();
    let posBuf = this.#posBuf;
    for (let i = 0; i < nKeys; ) {
      const wid = Math.floor(sorted[i] / 4294967296);
      let n = 0;
      while (i < nKeys && Math.floor(sorted[i] / 4294967296) === wid) {
        if (n === posBuf.length) {
          const grown = new Uint32Array(posBuf.length * 2);
          grown.set(posBuf);
          posBuf = this.#posBuf = grown;
        }
        posBuf[n++] = sorted[i] - wid * 4294967296;
        i++;
      }
      // Entry summary (see `summarize`), inlined: this loop runs for every word of every document.
      let w = 0xff;
      let minP = 0xffff;
      let sole = 0;
      for (let k = 0; k < n; k++) {
        const x = posBuf[k];
        const fid = x >>> 16;
        const fw = this.#fidWeight[fid];
        if (fw < w) w = fw;
        const wp = x & 0xffff;
        if (wp < minP) minP = wp;
        if (wp === 0 && fieldLens !== undefined && fieldLens[fid] === 1) sole = SOLE_WORD;
      }
      this.#pending.push(wid, iid, (sole | (Math.min(w, 0xff) << 16) | minP) >>> 0, posBuf, n);
    }
    if (this.#pending.length >= PENDING_FLUSH_ENTRIES) this.#flush();
    this.#docFacets[iid] = facetPairs.length > 0 ? Int32Array.from(facetPairs) : undefined;
    if (this.#filterRules.length > 0) {
      const fd = project(doc, (path) => this.#info(path).filterable);
      this.#filterDocs[iid] = Object.keys(fd).length > 0 ? fd : undefined;
    }
    if (this.#geoSortable) this.#setGeo(iid, doc._geo);
    if (doc._vectors !== undefined) this.#vectors.add(iid, doc._vectors);
    if (sortUpdates !== undefined) {
      for (const [path, sv] of sortUpdates) {
        let store = this.#sortStores.get(path);
        if (store === undefined) this.#sortStores.set(path, (store = new SortStore()));
        store.set(iid, sv);
      }
    }
  }

  /**
   * Make every added document searchable now. Additions are buffered and moved into the
   * postings in bulk; reads flush automatically, so calling this (e.g. once per indexing batch)
   * only moves that work out of the next search.
   */
  flush(): void {
    this.#pending.flush(this.#postings, this.#vocab.size);
  }

  #flush(): void {
    this.flush();
  }

  /** Remove the currently indexed version of a document. */
  remove(iid: number, doc: Document): void {
    this.#flush();
    if (iid >= this.#present.length || this.#present[iid] !== 1) return;
    this.#present[iid] = 0;
    this.#splitCache.clear();
    this.#size--;
    const seen = new Set<number>();
    forEachLeaf(doc, (path, value) => {
      const fid = this.#fieldIds.get(path);
      if (fid === undefined || value === null || value === undefined || this.#fidWeight[fid] < 0) return;
      for (const t of this.#tokenizer.tokenize(typeof value === 'string' ? value : String(value))) {
        const wid = this.#vocab.id(t.word);
        if (wid === undefined || seen.has(wid)) continue;
        seen.add(wid);
        this.#postings[wid]?.remove(iid);
      }
    });
    const pairs = this.#docFacets[iid];
    if (pairs !== undefined) {
      for (let i = 0; i < pairs.length; i += 2) {
        const f = this.#facetList[pairs[i]];
        f.docCount[pairs[i + 1]]--;
        f.clearDoc(iid);
      }
    }
    this.#docFacets[iid] = undefined;
    this.#fieldLens[iid] = undefined;
    this.#filterDocs[iid] = undefined;
    for (const store of this.#sortStores.values()) store.clear(iid);
    this.#vectors.remove(iid);
    if (iid < this.#geoLat.length) {
      this.#geoLat[iid] = NaN;
      this.#geoLng[iid] = NaN;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Query preparation

  #prepare(q: string | undefined): PreparedQuery {
    const parsed = parseQuery(q ?? '', (w) => this.#stopWords.has(w), this.#settings.prefixSearch !== 'disabled', this.#tokenizer);
    return buildTerms(this.#termSource(), parsed);
  }

  #termSource(): TermSource {
    return {
      vocab: this.#vocab,
      posting: (id) => this.#postings[id],
      allowance: (w) => this.#allowance(w),
      synonyms: (key) => this.#synonyms.get(key),
      fidWeight: (fid) => this.#fidWeight[fid],
      fieldLength: (iid, fid) => {
        const l = this.#fieldLens[iid];
        return l === undefined || fid >= l.length ? 0 : l[fid];
      },
      splitCache: this.#splitCache,
    };
  }

  #allowance(word: string): number {
    const t = this.#settings.typoTolerance;
    if (!t.enabled || this.#typoDisabledWords.has(word)) return 0;
    if (t.disableOnNumbers && /^\p{N}+$/u.test(word)) return 0;
    return this.#typosForLength(word);
  }

  #typosForLength(word: string): number {
    const t = this.#settings.typoTolerance;
    const len = [...word].length;
    if (len < t.minWordSizeForTypos.oneTypo) return 0;
    if (len < t.minWordSizeForTypos.twoTypos) return 1;
    return 2;
  }

  // -------------------------------------------------------------------------------------------
  // Validation (messages from meilisearch `tests/search/errors.rs`)

  #parseSortParam(sort: readonly string[], code: string): SortSpec[] {
    return sort.map((s) => {
      const m = /^(.*):(asc|desc)$/.exec(s);
      if (m === null) {
        throw new MeiliError(code, `Invalid syntax for the sort parameter: expected expression ending by \`:asc\` or \`:desc\`, found \`${s}\`.`);
      }
      const geo = /^_geoPoint\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)$/.exec(m[1]);
      if (geo !== null) {
        const lat = Number(geo[1]);
        const lng = Number(geo[2]);
        if (!Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) {
          throw new MeiliError(code, `Invalid syntax for the sort parameter: expected expression ending by \`:asc\` or \`:desc\`, found \`${s}\`.`);
        }
        // Label as milli prints it: `_geoPoint({lat}, {lng}):dir` with f64 Display.
        return { field: '_geo', ascending: m[2] === 'asc', label: `_geoPoint(${lat}, ${lng}):${m[2]}`, geo: [lat, lng] as GeoPoint };
      }
      const field = m[1];
      if (field === '_geo') {
        throw new MeiliError(
          code,
          "`_geo` is a reserved keyword and thus can't be used as a sort expression. Use the _geoPoint(latitude, longitude) built-in rule to sort on _geo field coordinates.",
        );
      }
      if (field === '_geoDistance') {
        throw new MeiliError(code, "`_geoDistance` is a reserved keyword and thus can't be used as a sort expression.");
      }
      return { field, ascending: m[2] === 'asc', label: s };
    });
  }

  #checkSortable(fields: ReadonlyArray<{ field: string }>, code: string, prefix: string): void {
    const sortable = this.#settings.sortableAttributes;
    for (const { field } of fields) {
      if (firstMatch(sortable, field) >= 0) continue;
      const available = this.#visibleList([...sortable].sort(byteOrder));
      const tail =
        sortable.length === 0
          ? 'This index does not have configured sortable attributes.'
          : `Available sortable attributes are: ${ticks(available)}.`;
      throw new MeiliError(code, `${prefix}Attribute \`${field}\` is not sortable. ${tail}`);
    }
  }

  /** Attribute lists in messages hide non-displayed attributes (meilisearch behaviour). */
  #visibleList(list: readonly string[]): string[] {
    const displayed = this.#settings.displayedAttributes;
    if (displayed.includes('*')) return [...list];
    const shown = list.filter((a) => firstMatch(displayed, a) >= 0);
    if (shown.length < list.length) shown.push('<..hidden-attributes>');
    return shown;
  }

  #filterPatterns(): string[] {
    const set = new Set<string>();
    for (const r of this.#filterRules) {
      if (typeof r === 'string') set.add(r);
      else for (const p of r.attributePatterns) set.add(p);
    }
    return [...set].sort(byteOrder);
  }

  /** `indexUid` null: filterability errors carry no `` Index `x`: `` prefix (documents fetch). */
  #compileFilter(filter: unknown, code: string, indexUid: string | null): IidPredicate | null {
    if (filter === null || filter === undefined) return null;
    if (typeof filter !== 'string' && !Array.isArray(filter)) {
      throw new MeiliError(code, `Invalid syntax for the filter parameter: \`expected String, Array, found: ${JSON.stringify(filter)}\`.`);
    }
    let node: FilterNode | null;
    try {
      node = parseFilter(filter);
    } catch (e) {
      if (e instanceof FilterError) throw new MeiliError(code, e.message, { cause: e });
      throw e;
    }
    if (node === null) return null;
    try {
      checkFilterable(node, this.#filterRules, { fieldExists: (a) => this.#seenFields.has(a) });
    } catch (e) {
      if (e instanceof FilterError) {
        throw new MeiliError(code, indexUid === null ? e.message : `Index \`${indexUid}\`: ${e.message}`, { cause: e });
      }
      throw e;
    }
    return compileIidFilter(node, this.#filterSource);
  }

  readonly #filterSource: FilterSource = {
    facetField: (a) => this.#facetFields.get(a),
    filterDoc: (iid) => this.#filterDocs[iid] ?? {},
  };


  // -------------------------------------------------------------------------------------------
  // Candidates

  /** All indexed iids, ascending, passing `pred` (a view of a reused buffer). */
  #allIids(pred: IidPredicate | null): Int32Array {
    const sc = this.#scratch;
    sc.ensureCandidates(this.#maxIid + 1);
    const out = sc.cand;
    let n = 0;
    const p = this.#present;
    for (let iid = 0; iid <= this.#maxIid; iid++) if (p[iid] === 1 && (pred === null || pred(iid))) out[n++] = iid;
    return out.subarray(0, n);
  }

  /**
   * Union pass over the derivations' postings: marks, per term, the documents it matches, their
   * lowest typo count, and links each (derivation, entry) for later position reads.
   */
  #collect(pq: PreparedQuery, allowedFids: Uint8Array | null): { frequency: number[]; gen: number } {
    const sc = this.#scratch;
    const n = pq.terms.length;
    sc.ensure(this.#maxIid + 1, n);
    sc.gen++;
    sc.nodes = 0;
    const gen = sc.gen;
    const frequency: number[] = [];
    const typoDisabled = this.#fidTypoDisabled;
    const anyTypoDisabled = typoDisabled.some(Boolean);
    for (let t = 0; t < n; t++) {
      const stamp = sc.stamp[t];
      const typo = sc.typo[t];
      const head = sc.head[t];
      const weight = sc.weight[t];
      const minPos = sc.minPos[t];
      const exact = sc.exact[t];
      const exact0 = sc.exact0[t];
      const exact1 = sc.exact1[t];
      let count = 0;
      const derivs = pq.derivations[t];
      // Reserve the linked-list nodes for every entry up front: the loop below stays branch-light.
      let entries = 0;
      for (const d of derivs) entries += (d.posting ?? this.#postings[d.wordId])?.length ?? 0;
      sc.reserveNodes(sc.nodes + entries);
      const nodeDeriv = sc.nodeDeriv;
      const nodeEntry = sc.nodeEntry;
      const nodeNext = sc.nodeNext;
      let nodes = sc.nodes;
      for (let di = 0; di < derivs.length; di++) {
        const d = derivs[di];
        const P = d.posting ?? this.#postings[d.wordId];
        if (P === undefined) continue;
        // Typo-disabled attributes take exact words only (an n-gram's base cost is no edit).
        const fuzzy = (d.edits ?? d.typos) > 0;
        const checkFids = allowedFids !== null || (anyTypoDisabled && fuzzy);
        const dTypos = d.typos;
        const dExact = d.exact;
        const iids = P.iids;
        const summary = P.summary;
        const len = P.length;
        for (let e = 0; e < len; e++) {
          if (checkFids) {
            let ok = false;
            for (let k = P.posStart[e]; k < P.posStart[e + 1] && !ok; k++) {
              const fid = fidOf(P.pos[k]);
              ok = (allowedFids === null || allowedFids[fid] === 1) && !(fuzzy && typoDisabled[fid]);
            }
            if (!ok) continue;
          }
          const iid = iids[e];
          const sum = summary[e];
          const node = nodes++;
          nodeDeriv[node] = di;
          nodeEntry[node] = e;
          if (stamp[iid] !== gen) {
            stamp[iid] = gen;
            typo[iid] = dTypos;
            nodeNext[node] = -1;
            head[iid] = node;
            weight[iid] = (sum >>> 16) & 0xff;
            minPos[iid] = sum & 0xffff;
            exact[iid] = dExact ? 1 : 0;
            exact0[iid] = dExact && (sum & 0xffff) === 0 ? 1 : 0;
            exact1[iid] = dExact && (sum & SOLE_WORD) !== 0 ? 1 : 0;
            count++;
          } else {
            if (dTypos < typo[iid]) typo[iid] = dTypos;
            nodeNext[node] = head[iid];
            head[iid] = node;
            if (((sum >>> 16) & 0xff) < weight[iid]) weight[iid] = (sum >>> 16) & 0xff;
            if ((sum & 0xffff) < minPos[iid]) minPos[iid] = sum & 0xffff;
            if (dExact) {
              exact[iid] = 1;
              if ((sum & 0xffff) === 0) exact0[iid] = 1;
              if ((sum & SOLE_WORD) !== 0) exact1[iid] = 1;
            }
          }
        }
      }
      sc.nodes = nodes;
      frequency.push(count);
    }
    return { frequency, gen };
  }

  /** Fill the reused view with the occurrences of every term in `iid`. */
  #fillView(pq: PreparedQuery, iid: number, gen: number, allowedFids: Uint8Array | null): DocView {
    const sc = this.#scratch;
    const v = sc.view(pq.terms.length);
    v.iid = iid;
    const n = pq.terms.length;
    const typoDisabled = this.#fidTypoDisabled;
    let cursor = 0;
    for (let t = 0; t < n; t++) {
      v.start[t] = cursor;
      let min = 255;
      if (sc.stamp[t][iid] === gen) {
        for (let node = sc.head[t][iid]; node >= 0; node = sc.nodeNext[node]) {
          const d = pq.derivations[t][sc.nodeDeriv[node]];
          const P = d.posting ?? this.#postings[d.wordId]!;
          const e = sc.nodeEntry[node];
          const end = P.posStart[e + 1];
          for (let k = P.posStart[e]; k < end; k++) {
            const p = P.pos[k];
            const fid = p >>> 16;
            if (allowedFids !== null && allowedFids[fid] !== 1) continue;
            if ((d.edits ?? d.typos) > 0 && typoDisabled[fid]) continue;
            if (cursor === v.pos.length) sc.growView();
            v.pos[cursor] = p;
            v.typos[cursor] = d.typos;
            v.exact[cursor] = d.exact ? 1 : 0;
            cursor++;
            if (d.typos < min) min = d.typos;
          }
        }
      }
      v.minTypo[t] = min;
    }
    v.start[n] = cursor;
    return v;
  }


  #rankContext(pq: PreparedQuery): RankContext {
    return {
      terms: pq.terms,
      fidWeight: (fid) => {
        const w = this.#fidWeight[fid];
        return w < 0 ? this.#weightCount - 1 : w;
      },
      weightCount: this.#weightCount,
      fieldLength: (iid, fid) => {
        const l = this.#fieldLens[iid];
        return l === undefined || fid >= l.length ? 0 : l[fid];
      },
      typoAllowance: (w) => this.#typosForLength(w),
      lastOffset: (t) => (pq.terms[t].span ?? 1) - 1,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Ranking rules

  /** Effective rules: `words` is inserted before the first relevancy rule when absent (milli). */
  #rules(placeholder: boolean, sort: ReadonlyArray<{ field: string; ascending: boolean; label: string }>): RuleSpec[] {
    const out: RuleSpec[] = [];
    let words = false;
    const relevancy = (kind: RelevancyKind, legacyAttribute = false): void => {
      if (placeholder) return;
      if (!words && kind !== 'words') {
        out.push({ kind: 'words' });
        words = true;
      }
      if (kind === 'words') {
        if (words) return;
        words = true;
      }
      out.push(legacyAttribute ? { kind, legacyAttribute } : { kind });
    };
    for (const r of this.#settings.rankingRules) {
      switch (r) {
        case 'words':
        case 'typo':
        case 'proximity':
        case 'attributeRank':
        case 'wordPosition':
        case 'exactness':
          relevancy(r);
          break;
        case 'attribute':
          relevancy('attributeRank', true);
          relevancy('wordPosition', true);
          break;
        case 'sort':
          for (const s of sort) out.push({ kind: 'sortField', ...s });
          break;
        default: {
          const m = /^(.+):(asc|desc)$/.exec(r);
          if (m !== null) out.push({ kind: 'sortField', field: m[1], ascending: m[2] === 'asc', label: r });
        }
      }
    }
    if (!placeholder && !words) out.unshift({ kind: 'words' });
    return out;
  }

  #sortValue(field: string, iid: number, ascending: boolean): SortValue {
    return this.#sortStores.get(field)?.value(iid, ascending) ?? null;
  }

  /** Rank components, segments and comparison slots of a rule list. */
  #plan(rules: readonly RuleSpec[]): Plan {
    const comps: Comp[] = [];
    const segOfComp: number[] = [];
    const slots: Slot[] = [];
    let seg = -1;
    let inSeg = false;
    for (const r of rules) {
      if (r.kind === 'sortField') {
        const slot: Slot = { kind: 'sort', sort: slots.filter((x) => x.kind === 'sort').length, field: r.field, ascending: r.ascending };
        if (r.geo !== undefined) slot.geo = r.geo;
        slots.push(slot);
        inSeg = false;
        continue;
      }
      if (!inSeg) {
        seg++;
        slots.push({ kind: 'seg', seg });
        inSeg = true;
      }
      const add = (c: Comp): void => {
        comps.push(c);
        segOfComp.push(seg);
      };
      if (r.kind === 'exactness') {
        add('exactAttr');
        add('exactWords');
      } else {
        add(r.kind);
      }
    }
    const sorts = slots.filter((x): x is Extract<Slot, { kind: 'sort' }> => x.kind === 'sort');
    return { rules, comps, segOfComp, segCount: seg + 1, slots, sorts };
  }

  /** M of every rank component for a words stage. */
  #stageMax(plan: Plan, ctx: RankContext, stage: WordsStage): Float64Array {
    const active = stage.active;
    const max = new Float64Array(plan.comps.length);
    plan.comps.forEach((c, j) => {
      switch (c) {
        case 'words':
          max[j] = stage.max;
          break;
        case 'typo':
          max[j] = maxTypoCount(ctx, active) + 1;
          break;
        case 'proximity':
          max[j] = proximityMax(active);
          break;
        case 'attributeRank':
          max[j] = attributeRankMax(ctx, active);
          break;
        case 'wordPosition':
          max[j] = wordPositionMax(active);
          break;
        case 'exactAttr':
          max[j] = 3;
          break;
        case 'exactWords':
          max[j] = active.length + 1;
          break;
      }
    });
    return max;
  }

  /** Rank of every component for one document, written to `out[offset..]`. */
  #evalRanks(plan: Plan, ctx: RankContext, stage: WordsStage, max: Float64Array, v: DocView, out: Float64Array, offset: number): void {
    const active = stage.active;
    const comps = plan.comps;
    for (let j = 0; j < comps.length; j++) {
      let r: number;
      switch (comps[j]) {
        case 'words':
          r = stage.rank;
          break;
        case 'typo':
          r = max[j] - typoCost(v, active, max[j] - 1);
          break;
        case 'proximity':
          r = active.length < 2 ? max[j] : max[j] - proximityCost(v, active, ctx.lastOffset);
          break;
        case 'attributeRank':
          r = max[j] - attributeRankCost(ctx, v, active);
          break;
        case 'wordPosition':
          r = max[j] - wordPositionCost(ctx, v, active);
          break;
        case 'exactAttr':
          r = exactAttributeRank(ctx, v, active);
          break;
        case 'exactWords':
          r = exactWordsCount(v, active) + 1;
          break;
      }
      out[offset + j] = r;
    }
  }

  /**
   * Best `want` documents of a group without ranking all of them: documents are visited by
   * decreasing optimistic key (first-segment bound, then the sort values that directly follow
   * it, which are exact), each visited one is ranked exactly, and the visit stops once the
   * `want`-th exact result beats the next optimistic key.
   */
  #boundedTopK(
    plan: Plan,
    ctx: RankContext,
    stages: readonly WordsStage[],
    stageMax: readonly Float64Array[],
    stageOfCand: Int8Array,
    candidates: ArrayLike<number>,
    g: ArrayLike<number>,
    want: number,
    sortVals: SortValue[],
    segs: Float64Array,
    evalAt: (i: number) => void,
    cmp: (a: number, b: number) => number,
  ): number[] {
    const G = g.length;
    const S = plan.segCount;
    const T = plan.sorts.length;
    const opt = this.#scratch.opt;
    const bound = stages.map((st, k) => this.#optimisticSeg0For(plan, ctx, st, stageMax[k]));
    for (let i = 0; i < G; i++) {
      const ci = g[i];
      opt[i] = bound[stageOfCand[ci]](candidates[ci]);
      for (let k = 0; k < T; k++) {
        const sl = plan.sorts[k];
        sortVals[i * T + k] =
          sl.geo !== undefined ? this.#geoDistance(candidates[ci], sl.geo) : this.#sortValue(sl.field, candidates[ci], sl.ascending);
      }
    }
    // Sort slots that directly follow the first segment.
    const prefixSorts: Array<Extract<Slot, { kind: 'sort' }>> = [];
    for (let k = 1; k < plan.slots.length; k++) {
      const sl = plan.slots[k];
      if (sl.kind !== 'sort') break;
      prefixSorts.push(sl);
    }
    const fullPrefix = prefixSorts.length === plan.slots.length - 1;
    const optCmp = (a: number, b: number): number => {
      const c = opt[b] - opt[a];
      if (c !== 0) return c;
      for (const sl of prefixSorts) {
        const d = compareSortValues(sortVals[a * T + sl.sort], sortVals[b * T + sl.sort], sl.ascending);
        if (d !== 0) return d;
      }
      return candidates[g[a]] - candidates[g[b]];
    };
    // `exact` beats optimistic key of `o` for sure (strictly better on the known prefix).
    const beats = (e: number, o: number): boolean => {
      const c = segs[e * S] - opt[o];
      if (c !== 0) return c > 0;
      for (const sl of prefixSorts) {
        const d = compareSortValues(sortVals[e * T + sl.sort], sortVals[o * T + sl.sort], sl.ascending);
        if (d !== 0) return d < 0;
      }
      // Equal on everything known: only the iid decides when nothing else follows.
      return fullPrefix && plan.segCount === 1 && candidates[g[e]] < candidates[g[o]];
    };
    // Documents grouped by optimistic first-segment score, best first; inside a group, by the
    // prefix sort values (a heap) or, without them, by iid (group lists are in iid order).
    // Group indexes by optimistic key (few distinct values): one map lookup per document,
    // then a counting placement into one buffer (indexes stay in iid order inside a group).
    const idOfKey = new Map<number, number>();
    const keyOfId: number[] = [];
    const bucket = this.#scratch.byOpt;
    let sizes = new Int32Array(16);
    for (let i = 0; i < G; i++) {
      const k = opt[i];
      let id = idOfKey.get(k);
      if (id === undefined) {
        id = keyOfId.length;
        idOfKey.set(k, id);
        keyOfId.push(k);
        if (id === sizes.length) {
          const grown = new Int32Array(sizes.length * 2);
          grown.set(sizes);
          sizes = grown;
        }
      }
      bucket[i] = id;
      sizes[id]++;
    }
    const ids = keyOfId.map((_, id) => id).sort((x, y) => keyOfId[y] - keyOfId[x]);
    const keys = ids.map((id) => keyOfId[id]);
    const start = new Int32Array(keyOfId.length);
    let acc = 0;
    for (const id of ids) {
      start[id] = acc;
      acc += sizes[id];
    }
    const placed = this.#scratch.groupOrder2(G);
    const fillAt = start.slice();
    for (let i = 0; i < G; i++) placed[fillAt[bucket[i]]++] = i;
    const byKey = new Map<number, Int32Array>();
    for (const id of ids) byKey.set(keyOfId[id], placed.subarray(start[id], start[id] + sizes[id]));
    let ki = 0;
    let cur: Int32Array = new Int32Array(0);
    let at = 0;
    let heap: BinaryHeap<number> | null = null;
    const load = (): boolean => {
      while (ki < keys.length) {
        cur = byKey.get(keys[ki++])!;
        at = 0;
        if (prefixSorts.length > 0) {
          heap = new BinaryHeap<number>((a, b) => optCmp(b, a));
          heap.heapify(Array.from(cur));
        }
        return true;
      }
      return false;
    };
    const remaining = (): boolean => (heap !== null ? heap.size > 0 : at < cur.length) || ki < keys.length;
    const peek = (): number | undefined => {
      if (heap !== null ? heap.size === 0 : at >= cur.length) {
        // The first of the next group.
        if (ki >= keys.length) return undefined;
        const next = byKey.get(keys[ki])!;
        if (prefixSorts.length === 0) return next[0];
        let bestI = next[0];
        for (const i of next) if (optCmp(i, bestI) < 0) bestI = i;
        return bestI;
      }
      return heap !== null ? heap.peek() : cur[at];
    };
    const take = (): number => {
      if (heap !== null ? heap.size === 0 : at >= cur.length) {
        heap = null;
        load();
      }
      return heap !== null ? heap.pop()! : cur[at++];
    };
    load();
    // Best `want` so far, worst on top.
    const best = new BinaryHeap<number>(cmp);
    while (remaining()) {
      const i = take();
      evalAt(i);
      best.push(i);
      if (best.size > want) best.pop();
      if (best.size === want) {
        const next = peek();
        if (next === undefined || want === 0 || beats(best.peek()!, next)) break;
      }
    }
    return best.items().sort(cmp);
  }

  /**
   * An upper bound of a document's first-segment score from the per-entry summaries gathered
   * by `#collect`: exact for words, typo, attributeRank, exactWords and one-term proximity; a
   * bound for proximity (cost 0), wordPosition (lowest position) and exactAttribute.
   */
  #optimisticSeg0For(plan: Plan, ctx: RankContext, stage: WordsStage, max: Float64Array): (iid: number) => number {
    const sc = this.#scratch;
    const active = stage.active;
    const k = active.length;
    // Per-term arrays resolved once per stage: the per-document loop only indexes by iid.
    const typoA = active.map((a) => sc.typo[a]);
    const weightA = active.map((a) => sc.weight[a]);
    const minPosA = active.map((a) => sc.minPos[a]);
    const exactA = active.map((a) => sc.exact[a]);
    const queryPos = active.map((a) => ctx.terms[a].index);
    const exact0 = k > 0 ? sc.exact0[active[0]] : null;
    const exact1 = k > 0 ? sc.exact1[active[0]] : null;
    const wmax = ctx.weightCount - 1;
    const codes: number[] = [];
    const Ms: number[] = [];
    const CODE: Record<Comp, number> = { words: 0, typo: 1, proximity: 2, attributeRank: 3, wordPosition: 4, exactAttr: 5, exactWords: 6 };
    for (let j = 0; j < plan.comps.length && plan.segOfComp[j] === 0; j++) {
      codes.push(CODE[plan.comps[j]]);
      Ms.push(max[j]);
    }
    const wordsRank = stage.rank;
    return (iid: number): number => {
      let typos = 0;
      let weights = 0;
      let posCost = 0;
      let exactCount = 0;
      for (let t = 0; t < k; t++) {
        typos += typoA[t][iid];
        const w = weightA[t][iid];
        weights += w < wmax ? w : wmax;
        const p = minPosA[t][iid];
        const q = queryPos[t];
        if (p > q) posCost += positionBucket(p - q);
        exactCount += exactA[t][iid];
      }
      let r = 1;
      let m = 1;
      for (let j = 0; j < codes.length; j++) {
        const M = Ms[j];
        let rank: number;
        switch (codes[j]) {
          case 0:
            rank = wordsRank;
            break;
          case 1:
            rank = M - (typos < M - 1 ? typos : M - 1);
            break;
          case 2:
            rank = M;
            break;
          case 3:
            rank = M - weights;
            break;
          case 4:
            rank = M - posCost;
            break;
          case 5:
            // One term: exact (field equal to the word: 3, field starting with it: 2).
            if (exact0 === null) rank = 1;
            else if (k === 1) rank = exact1![iid] === 1 ? 3 : exact0[iid] === 1 ? 2 : 1;
            else rank = exact0[iid] === 1 ? 3 : 1;
            break;
          default:
            rank = exactCount + 1;
        }
        r = (r - 1) * M + rank;
        m *= M;
      }
      return r / m;
    };
  }

  #details(plan: Plan, ev: Evaluated): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    let order = 0;
    let c = 0;
    let sortIdx = 0;
    const rank = (): [number, number] => {
      const j = c++;
      return [ev.ranks[j], ev.max[j]];
    };
    for (const r of plan.rules) {
      if (r.kind === 'sortField') {
        const value = ev.sorts[sortIdx++];
        if (r.geo !== undefined) {
          const has = ev.iid < this.#geoLat.length && !Number.isNaN(this.#geoLat[ev.iid]);
          out[r.label] = {
            order: order++,
            value: has ? { lat: this.#geoLat[ev.iid], lng: this.#geoLng[ev.iid] } : null,
            distance: value,
          };
        } else {
          out[r.label] = sortDetails(order++, value);
        }
        continue;
      }
      if (r.legacyAttribute === true) {
        const [rr, mm] = rank();
        if (r.kind === 'attributeRank') {
          out.attribute = { order: order++, attributeRankingOrderScore: rr / mm };
        } else {
          const prev = out.attribute;
          const a = ev.ranks[c - 2];
          const am = ev.max[c - 2];
          prev.queryWordDistanceScore = rr / mm;
          prev.score = globalScore([
            { rank: a, max: am },
            { rank: rr, max: mm },
          ]);
        }
        continue;
      }
      switch (r.kind) {
        case 'words': {
          const [rr, mm] = rank();
          out.words = wordsDetails(order++, { rank: rr, max: mm });
          break;
        }
        case 'typo': {
          const [rr, mm] = rank();
          out.typo = typoDetails(order++, rr, mm);
          break;
        }
        case 'proximity': {
          const [rr, mm] = rank();
          out.proximity = proximityDetails(order++, rr, mm);
          break;
        }
        case 'attributeRank': {
          const [rr, mm] = rank();
          out.attributeRank = attributeRankDetails(order++, rr, mm);
          break;
        }
        case 'wordPosition': {
          const [rr, mm] = rank();
          out.wordPosition = wordPositionDetails(order++, rr, mm);
          break;
        }
        case 'exactness': {
          const [ar] = rank();
          const [wr, wm] = rank();
          out.exactness = exactnessDetails(order++, ar, wr, wm);
          break;
        }
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Search

  /**
   * Run a search. Errors are `MeiliError`s with Meilisearch's codes and messages.
   * @see https://www.meilisearch.com/docs/reference/api/search/search-with-post
   */
  search(q: SearchQuery, indexUid: string): SearchResponse {
    return this.#search(q, indexUid).response;
  }

  /**
   * A search, with what a federated search needs of it (meilisearch `federated/perform.rs`): the
   * internal ids of every document it matched (`candidates`, whose union over the queries of one
   * index gives that index's total and facets) and of each hit (hits two queries of one index both
   * return are shown once).
   */
  searchMatches(q: SearchQuery, indexUid: string): SearchMatches {
    const m = this.#search(q, indexUid);
    // The candidates may live in scratch memory the next search reuses.
    return { response: m.response, candidates: Int32Array.from(m.candidates), hitIids: m.hitIids };
  }

  #search(q: SearchQuery, indexUid: string): SearchMatches {
    const started = performance.now();
    this.#flush();
    const s = this.#settings;
    const prefix = `Index \`${indexUid}\`: `;

    // Pagination (meilisearch `perform_search`).
    const finite = q.page !== undefined || q.hitsPerPage !== undefined;
    const hitsPerPage = q.hitsPerPage ?? 20;
    const page = q.page ?? 1;
    let offset: number;
    let limit: number;
    if (finite) {
      offset = page === 0 ? 0 : (page - 1) * hitsPerPage;
      limit = page === 0 ? 0 : hitsPerPage;
    } else {
      offset = q.offset ?? SEARCH_DEFAULTS.offset;
      limit = q.limit ?? SEARCH_DEFAULTS.limit;
    }
    const maxTotalHits = s.pagination.maxTotalHits;
    offset = Math.min(offset, maxTotalHits);
    limit = Math.min(limit, maxTotalHits - offset);

    // Validation.
    const kind = this.#searchKind(q);
    const allowedFids = this.#attributesToSearchOn(q.attributesToSearchOn, prefix);
    const sortParam = q.sort !== undefined && q.sort.length > 0 ? this.#parseSortParam(q.sort, 'invalid_search_sort') : [];
    if (sortParam.length > 0) {
      if (!s.rankingRules.includes('sort')) {
        throw new MeiliError(
          'invalid_search_sort',
          `${prefix}You must specify where \`sort\` is listed in the rankingRules setting to use the sort parameter at search time.`,
        );
      }
      this.#checkSortable(sortParam, 'invalid_search_sort', prefix);
    }
    const distinct = this.#distinctAttribute(q.distinct, prefix);
    const facetNames = q.facets === undefined ? undefined : this.#facetNames(q.facets);
    const pred = this.#compileFilter(q.filter, 'invalid_search_filter', indexUid);

    const opts = { needed: offset + limit, threshold: q.rankingScoreThreshold, distinct };
    let hits: Hit[];
    let total: number;
    let candidates: ArrayLike<number>;
    let semanticHitCount: number | undefined;
    let queryVector: number[] | undefined;
    let hitIids: number[] = [];
    if (kind.kind === 'semantic') {
      // Semantic only: no query words, hence nothing highlighted.
      const sem = this.#semanticRank(kind.embedder, q.vector!, pred, sortParam, opts);
      const matcher = this.#matcher(this.#prepare(undefined));
      const page = sem.order.slice(offset, offset + limit);
      hits = page.map((h) => this.#hit(h.ev, q, sem.plan, matcher, h.details));
      hitIids = page.map((h) => h.ev.iid);
      total = sem.total;
      candidates = sem.candidates;
      semanticHitCount = hits.length;
      queryVector = q.vector;
    } else {
      const pq = this.#prepare(q.q);
      const placeholder = pq.terms.length === 0;
      const rules = this.#rules(placeholder, sortParam);
      const ranked = this.#rank(pq, rules, pred, allowedFids, q.matchingStrategy ?? 'last', opts);
      const matcher = this.#matcher(pq);
      total = ranked.total;
      candidates = ranked.candidates;
      const keywordPage = (): Hit[] => {
        const page = ranked.order.slice(offset, offset + limit);
        hitIids = page.map((ev) => ev.iid);
        return page.map((ev) => this.#hit(ev, q, ranked.plan, matcher));
      };
      if (kind.kind === 'keyword') {
        hits = keywordPage();
      } else if (
        q.vector === undefined ||
        (ranked.order.length >= offset + limit && ranked.order.every((ev) => keywordScoreGoodEnough(ev.score, kind.ratio)))
      ) {
        // Keyword results good enough, or no vector to search with (user-provided embedders
        // cannot embed the query): the semantic side is skipped.
        hits = keywordPage();
        semanticHitCount = 0;
      } else {
        const keywordCandidates = Int32Array.from(ranked.candidates);
        const sem = this.#semanticRank(kind.embedder, q.vector, pred, sortParam, opts);
        const keyword: SideHit<() => Hit>[] = ranked.order.map((ev) => ({
          iid: ev.iid,
          values: keywordScoreValues(ranked.plan, ev),
          item: () => this.#hit(ev, q, ranked.plan, matcher),
        }));
        const semantic: SideHit<() => Hit>[] = sem.order.map((h) => ({
          iid: h.ev.iid,
          values: h.values,
          item: () => this.#hit(h.ev, q, sem.plan, matcher, h.details),
        }));
        const distinctKeys = distinct === null ? null : (iid: number) => this.#distinctKeys(distinct, iid);
        const merged = mergeHybrid(semantic, keyword, kind.ratio, offset, limit, distinctKeys);
        hits = merged.hits.map((h) => h.item());
        hitIids = merged.hits.map((h) => h.iid);
        semanticHitCount = merged.semanticHitCount;
        queryVector = q.vector;
        const union = new Set<number>(keywordCandidates);
        for (let i = 0; i < sem.candidates.length; i++) union.add(sem.candidates[i]);
        candidates = Int32Array.from(union).sort();
        total = distinct === null ? candidates.length : this.#distinctCount(distinct, candidates);
      }
    }
    total = Math.min(total, maxTotalHits);

    // `queryVector` follows `query` (meilisearch `SearchResult` field order).
    const res: SearchResponse =
      q.retrieveVectors === true && queryVector !== undefined
        ? ({ hits, query: q.q ?? '', queryVector, processingTimeMs: 0 } as SearchResponse)
        : { hits, query: q.q ?? '', processingTimeMs: 0 };
    setResultWindow(res, finite, { hitsPerPage, page, limit, offset }, total);
    if (facetNames !== undefined) {
      const { distribution, stats } = this.#facetDistribution(facetNames, candidates);
      res.facetDistribution = distribution;
      res.facetStats = stats;
    }
    if (semanticHitCount !== undefined) res.semanticHitCount = semanticHitCount;
    res.processingTimeMs = Math.floor(performance.now() - started);
    return { response: res, candidates, hitIids };
  }

  /**
   * The facet distribution and stats of `facets` over the documents `iids` (a federated search's
   * union of the matches of an index's queries), as a search with these `facets` gives them.
   */
  facetsOf(facets: readonly string[], iids: ArrayLike<number>): { distribution: Record<string, Record<string, number>>; stats: Record<string, FacetStats> } {
    this.#flush();
    return this.#facetDistribution(this.#facetNames(facets), iids);
  }

  #attributesToSearchOn(list: readonly string[] | undefined, prefix: string): Uint8Array | null {
    if (list === undefined || list.includes('*') && list.every((a) => a === '*')) return null;
    const searchable = this.#settings.searchableAttributes;
    for (const a of list) {
      if (a === '*') continue;
      if (this.#searchAll || firstMatch(searchable, a) >= 0) continue;
      throw new MeiliError(
        'invalid_search_attributes_to_search_on',
        `${prefix}Attribute \`${a}\` is not searchable. Available searchable attributes are: ${ticks(this.#visibleList(searchable))}.`,
      );
    }
    if (list.includes('*')) return null;
    const allowed = new Uint8Array(Math.max(this.#fieldNames.length, 1));
    this.#fieldNames.forEach((name, fid) => {
      if (list.some((a) => matchesPattern(a, name))) allowed[fid] = 1;
    });
    return allowed;
  }

  #distinctAttribute(param: string | undefined, prefix: string): string | null {
    if (param === undefined) return this.#settings.distinctAttribute;
    if (isAttributeFilterable(param, this.#filterRules)) return param;
    const patterns = this.#visibleList(this.#filterPatterns());
    const tail =
      patterns.length === 0
        ? 'This index does not have configured filterable attributes.'
        : `Available filterable attributes patterns are: ${ticks(patterns)}.`;
    throw new MeiliError(
      'invalid_search_distinct',
      `${prefix}Attribute \`${param}\` is not filterable and thus, cannot be used as distinct attribute. ${tail}`,
    );
  }

  /** Facet names requested (patterns expanded), checked against filterable attributes. */
  #facetNames(requested: readonly string[]): string[] {
    const bad: string[] = [];
    const out = new Set<string>();
    for (const r of requested) {
      if (r.includes('*')) {
        for (const f of this.#facetFields.keys()) if (matchesPattern(r, f) && isAttributeFilterable(f, this.#filterRules)) out.add(f);
        continue;
      }
      if (!isAttributeFilterable(r, this.#filterRules)) bad.push(r);
      else out.add(r);
    }
    if (bad.length > 0) {
      const patterns = this.#visibleList(this.#filterPatterns());
      const head = bad.length === 1 ? `Attribute \`${bad[0]}\` is not filterable.` : `Attributes \`${bad.join(', ')}\` are not filterable.`;
      const tail =
        patterns.length === 0
          ? 'This index does not have configured filterable attributes.'
          : `Available filterable attributes patterns are: ${ticks(patterns)}.`;
      throw new MeiliError('invalid_search_facets', `Invalid facet distribution: ${head} ${tail}`);
    }
    return [...out];
  }

  /**
   * Bucket sort. Returns the ordered documents needed for the page, the total count and the
   * candidate set (for facets).
   */
  #rank(
    pq: PreparedQuery,
    rules: readonly RuleSpec[],
    pred: IidPredicate | null,
    allowedFids: Uint8Array | null,
    strategy: 'last' | 'all' | 'frequency',
    opts: { needed: number; threshold: number | undefined; distinct: string | null },
  ): { order: Evaluated[]; total: number; candidates: ArrayLike<number>; plan: Plan } {
    const placeholder = pq.terms.length === 0;
    const plan = this.#plan(rules);
    if (pq.excluded.length > 0 || pq.excludedPostings.length > 0) {
      const excludedPostings = pq.excluded.map((w) => this.#postings[w]).filter((p): p is Posting => p !== undefined);
      excludedPostings.push(...pq.excludedPostings);
      const inner = pred;
      pred = (iid) => {
        for (const p of excludedPostings) if (p.find(iid) >= 0) return false;
        return inner === null || inner(iid);
      };
    }
    let candidates: Int32Array;
    let stageOfCand: Int8Array | null = null;
    let stages: WordsStage[] = [{ rank: 1, max: 1, required: 0, active: [] }];
    let gen = 0;
    if (placeholder) {
      candidates = this.#allIids(pred);
    } else {
      const c = this.#collect(pq, allowedFids);
      gen = c.gen;
      const n = pq.terms.length;
      stages = wordsStages(
        strategy,
        n,
        (t) => c.frequency[t],
        (t) => pq.terms[t].span ?? 1,
        (t) => pq.terms[t].phrase === true,
      );
      // Every bucket requires the terms of the last stage: start from the rarest of them.
      const last = stages[stages.length - 1].active;
      let base = last[0];
      for (const t of last) if (c.frequency[t] < c.frequency[base]) base = t;
      const sc = this.#scratch;
      // Visiting iids in order through the stamps yields sorted candidates without a sort.
      const baseStamp = sc.stamp[base];
      sc.ensureCandidates(this.#maxIid + 1);
      const candBuf = sc.cand;
      const stageBuf = sc.candStage;
      let nCand = 0;
      const maxIid = this.#maxIid;
      for (let iid = 0; iid <= maxIid; iid++) {
        if (baseStamp[iid] !== gen) continue;
        let st = 0;
        if (n > 1) {
          let mask = 0;
          for (let t = 0; t < n; t++) if (sc.stamp[t][iid] === gen) mask |= 1 << t;
          st = stageOf(stages, mask);
          if (st < 0) continue;
        }
        if (pred !== null && !pred(iid)) continue;
        candBuf[nCand] = iid;
        stageBuf[nCand++] = st;
      }
      candidates = candBuf.subarray(0, nCand);
      stageOfCand = stageBuf.subarray(0, nCand);
    }

    const ctx = this.#rankContext(pq);
    const stageMax = stages.map((st) => (placeholder ? new Float64Array(0) : this.#stageMax(plan, ctx, st)));
    const needAll = opts.threshold !== undefined;
    const C = plan.comps.length;
    const S = plan.segCount;
    const T = plan.sorts.length;
    const sortStores = plan.sorts.map((x) => this.#sortStores.get(x.field));
    const useBounds =
      !placeholder &&
      !needAll &&
      opts.distinct === null &&
      allowedFids === null &&
      !this.#fidTypoDisabled.some(Boolean) &&
      plan.slots.length > 0 &&
      plan.slots[0].kind === 'seg';

    // Groups: by words stage when `words` leads (its buckets are then final), else one group.
    // Candidate indexes grouped by a counting sort into one reused buffer.
    const groups: Int32Array[] = [];
    const gOrder = this.#scratch.groupOrder;
    if (!placeholder && rules.length > 0 && rules[0].kind === 'words') {
      const starts = new Int32Array(stages.length + 1);
      for (let i = 0; i < candidates.length; i++) starts[stageOfCand![i] + 1]++;
      for (let k = 0; k < stages.length; k++) starts[k + 1] += starts[k];
      const fill = starts.slice(0, stages.length);
      for (let i = 0; i < candidates.length; i++) gOrder[fill[stageOfCand![i]]++] = i;
      for (let k = 0; k < stages.length; k++) groups.push(gOrder.subarray(starts[k], starts[k + 1]));
    } else {
      for (let i = 0; i < candidates.length; i++) gOrder[i] = i;
      groups.push(gOrder.subarray(0, candidates.length));
    }

    const order: Evaluated[] = [];
    const seen = new Set<string>();
    const distinctOk = (iid: number): boolean => {
      if (opts.distinct === null) return true;
      const keys = this.#distinctKeys(opts.distinct, iid);
      if (keys.length === 0) return true;
      for (const k of keys) if (seen.has(k)) return false;
      for (const k of keys) seen.add(k);
      return true;
    };
    const kept: number[] = [];
    for (const g of groups) {
      if (!needAll && order.length >= opts.needed) break;
      if (g.length === 0) continue;
      if (placeholder && T === 0) {
        // Order is by iid: no ranking work.
        for (const ci of g) {
          if (!needAll && order.length >= opts.needed) break;
          const iid = candidates[ci];
          if (distinctOk(iid)) order.push({ iid, ranks: [], max: [], sorts: [], score: 1 });
        }
        continue;
      }
      const G = g.length;
      const need = G * (C + S + 1);
      if (this.#scratch.f64.length < need) this.#scratch.f64 = new Float64Array(Math.max(need, this.#scratch.f64.length * 2));
      const buf = this.#scratch.f64;
      const ranks = buf.subarray(0, G * C);
      const segs = buf.subarray(G * C, G * (C + S));
      const scores = buf.subarray(G * (C + S), G * (C + S + 1));
      const sortVals: SortValue[] = T > 0 ? new Array<SortValue>(G * T) : [];
      const evalAt = (i: number): void => {
        const ci = g[i];
        const iid = candidates[ci];
        const st = placeholder ? 0 : stageOfCand![ci];
        if (C > 0) {
          const v = this.#fillView(pq, iid, gen, allowedFids);
          this.#evalRanks(plan, ctx, stages[st], stageMax[st], v, ranks, i * C);
          const max = stageMax[st];
          // Segment scores and the global score: milli's mixed-radix fold.
          let gr = 1;
          let gm = 1;
          let sr = 1;
          let sm = 1;
          let curSeg = 0;
          for (let j = 0; j < C; j++) {
            if (plan.segOfComp[j] !== curSeg) {
              segs[i * S + curSeg] = sr / sm;
              curSeg = plan.segOfComp[j];
              sr = 1;
              sm = 1;
            }
            const r = ranks[i * C + j];
            const m = max[j];
            sr = (sr - 1) * m + r;
            sm *= m;
            gr = (gr - 1) * m + r;
            gm *= m;
          }
          segs[i * S + curSeg] = sr / sm;
          scores[i] = gr / gm;
        } else {
          scores[i] = 1;
        }
        for (let k = 0; k < T; k++) {
          const sl = plan.sorts[k];
          sortVals[i * T + k] = sl.geo !== undefined ? this.#geoDistance(iid, sl.geo) : (sortStores[k]?.value(iid, sl.ascending) ?? null);
        }
      };
      const slots = plan.slots;
      const cmp = (a: number, b: number): number => {
        for (let k = 0; k < slots.length; k++) {
          const sl = slots[k];
          let c: number;
          if (sl.kind === 'seg') c = segs[b * S + sl.seg] - segs[a * S + sl.seg];
          else c = compareSortValues(sortVals[a * T + sl.sort], sortVals[b * T + sl.sort], sl.ascending);
          if (c !== 0) return c;
        }
        return candidates[g[a]] - candidates[g[b]];
      };
      const want = opts.needed - order.length;
      let idxs: number[] = [];
      if (useBounds && G > want * 4) {
        idxs = this.#boundedTopK(plan, ctx, stages, stageMax, stageOfCand!, candidates, g, want, sortVals, segs, evalAt, cmp);
      } else {
        for (let i = 0; i < G; i++) {
          evalAt(i);
          if (opts.threshold !== undefined && scores[i] < opts.threshold) continue;
          idxs.push(i);
        }
        if (needAll) for (const i of idxs) kept.push(candidates[g[i]]);
        if (!needAll && opts.distinct === null && idxs.length > want * 4) idxs = topK(idxs, want, cmp);
        else idxs.sort(cmp);
      }
      for (const i of idxs) {
        if (!needAll && order.length >= opts.needed) break;
        const iid = candidates[g[i]];
        if (!distinctOk(iid)) continue;
        const st = placeholder ? 0 : stageOfCand![g[i]];
        order.push({
          iid,
          ranks: Array.from(ranks.subarray(i * C, (i + 1) * C)),
          max: Array.from(stageMax[st]),
          sorts: sortVals.slice(i * T, (i + 1) * T),
          score: scores[i],
        });
      }
    }

    let finalCandidates: ArrayLike<number> = candidates;
    let total: number;
    if (opts.threshold !== undefined) {
      finalCandidates = kept.sort((a, b) => a - b);
      total = order.length;
    } else if (opts.distinct !== null) {
      total = this.#distinctCount(opts.distinct, candidates);
    } else {
      total = candidates.length;
    }
    return { order, total, candidates: finalCandidates, plan };
  }

  #distinctKeys(field: string, iid: number): string[] {
    const pairs = this.#docFacets[iid];
    if (pairs === undefined) return [];
    const keys: string[] = [];
    for (let i = 0; i < pairs.length; i += 2) {
      const f = this.#facetList[pairs[i]];
      if (f.name === field || f.name.startsWith(`${field}.`)) keys.push(`${pairs[i]}:${pairs[i + 1]}`);
    }
    return keys;
  }

  #distinctCount(field: string, iids: ArrayLike<number>): number {
    const seen = new Set<string>();
    let count = 0;
    for (let n = 0; n < iids.length; n++) {
      const iid = iids[n];
      const keys = this.#distinctKeys(field, iid);
      if (keys.length === 0) {
        count++;
        continue;
      }
      if (keys.some((k) => seen.has(k))) continue;
      for (const k of keys) seen.add(k);
      count++;
    }
    return count;
  }

  #facetDistribution(
    names: readonly string[],
    iids: ArrayLike<number>,
  ): { distribution: Record<string, Record<string, number>>; stats: Record<string, FacetStats> } {
    // Counting by (field slot, value id) in typed arrays: the hot loop does no hashing.
    const slotOf = new Int32Array(this.#facetList.length).fill(-1);
    const slotCounts: Int32Array[] = [];
    this.#facetList.forEach((f, i) => {
      if (names.includes(f.name)) {
        slotOf[i] = slotCounts.length;
        slotCounts.push(new Int32Array(f.size));
      }
    });
    // Single-valued documents are counted through the field's value-per-iid array; documents
    // with several values through their (field, value) pairs.
    this.#facetList.forEach((f, fi) => {
      const slot = slotOf[fi];
      if (slot < 0) return;
      const counts = slotCounts[slot];
      const single = f.single;
      for (let n = 0; n < iids.length; n++) {
        const iid = iids[n];
        const v = iid < single.length ? single[iid] : -1;
        if (v >= 0) {
          counts[v]++;
        } else if (v === -2) {
          const pairs = this.#docFacets[iid]!;
          for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === fi) counts[pairs[i + 1]]++;
        }
      }
    });
    const distribution: Record<string, Record<string, number>> = {};
    const stats: Record<string, FacetStats> = {};
    const sortBy = this.#settings.faceting.sortFacetValuesBy;
    const max = this.#settings.faceting.maxValuesPerFacet;
    for (const name of [...names].sort(byteOrder)) {
      const f = this.#facetFields.get(name);
      const idx = f === undefined ? -1 : this.#facetList.indexOf(f);
      const counts = idx >= 0 && slotOf[idx] >= 0 ? slotCounts[slotOf[idx]] : new Int32Array(0);
      const field = f ?? new FacetField(name, -1);
      const by = sortBy[name] ?? sortBy['*'] ?? 'alpha';
      const out: Record<string, number> = {};
      for (const [vid, c] of orderValues(field, counts, by, max)) out[field.display[vid]] = c;
      distribution[name] = out;
      let min = Infinity;
      let mx = -Infinity;
      for (let vid = 0; vid < counts.length; vid++) {
        if (counts[vid] === 0) continue;
        const v = field.num[vid];
        if (Number.isNaN(v)) continue;
        if (v < min) min = v;
        if (v > mx) mx = v;
      }
      if (min !== Infinity) stats[name] = { min, max: mx };
    }
    return { distribution, stats };
  }

  /** Highlight rule per normalized word: whole word (-1) or the matched prefix length. */
  #matcher(pq: PreparedQuery): Matcher {
    const map = new Map<string, number>();
    // The query term each word matches first (crop windows count distinct terms).
    const termOfWord = new Map<string, number>();
    const phrases: MatcherPhrase[] = [];
    pq.terms.forEach((term, t) => {
      for (const d of pq.derivations[t]) {
        if (d.wordId < 0) {
          // Multi-word derivations (phrases, splits, synonyms) match as one span of words in a row.
          if (d.words !== undefined && d.words.length > 0) phrases.push({ words: d.words, term: t });
          continue;
        }
        const w = this.#vocab.word(d.wordId);
        if (!termOfWord.has(w)) termOfWord.set(w, t);
        const len = term.prefix && d.typos === 0 && w !== term.word && w.startsWith(term.word) ? term.word.length : -1;
        const prev = map.get(w);
        if (prev === undefined || prev >= 0) map.set(w, prev === undefined ? len : len < 0 ? -1 : Math.max(prev, len));
      }
    });
    return Object.assign((w: string) => map.get(w), { termOf: (w: string) => termOfWord.get(w), tokenizer: this.#tokenizer, phrases });
  }

  /**
   * The search kind of a query, its embedder and vector checked (meilisearch `search_kind`,
   * `SearchKind::embedder`).
   */
  #searchKind(q: SearchQuery): SearchKind {
    const kind = searchKind(q);
    if (kind === 'missingHybrid') {
      throw new MeiliError('missing_search_hybrid', 'Invalid request: missing `hybrid` parameter when `vector` is present.');
    }
    if (kind.kind === 'keyword') return kind;
    if (!Object.hasOwn(this.#settings.embedders, kind.embedder)) {
      throw new MeiliError('invalid_search_embedder', `Cannot find embedder with name \`${kind.embedder}\`.`);
    }
    const dims = this.#vectors.dimensions(kind.embedder);
    if (q.vector !== undefined && dims !== undefined && q.vector.length !== dims) {
      throw new MeiliError('invalid_vector_dimensions', `Invalid vector dimensions: expected: \`${dims}\`, found: \`${q.vector.length}\`.`);
    }
    if (kind.kind === 'semantic' && q.vector === undefined) {
      // A user-provided embedder cannot embed the query text (milli `EmbedErrorKind::ManualEmbed`).
      throw new MeiliError(
        'vector_embedding_error',
        `Error while generating embeddings: user error: attempt to embed the following text in a configuration where embeddings must be user provided: ${JSON.stringify(q.q ?? '')}`,
      );
    }
    return kind;
  }

  /**
   * Semantic ranking (milli `get_ranking_rules_for_vector`): the relevancy rules are replaced by
   * one `vectorSort` at the place of the first of them (at the end when there is none), sort
   * rules stay. Documents without an embedding come after the embedded ones, similarity 0.
   */
  #semanticRank(
    embedder: string,
    vector: ArrayLike<number>,
    pred: IidPredicate | null,
    sortParam: readonly SortSpec[],
    opts: { needed: number; threshold: number | undefined; distinct: string | null },
    similarities?: Float64Array,
    similarityOnly = false,
  ): {
    order: Array<{ ev: Evaluated; details: Record<string, Record<string, unknown>>; values: ScoreValue[] }>;
    total: number;
    candidates: Int32Array;
    plan: Plan;
  } {
    const candidates = Int32Array.from(this.#allIids(pred));
    const sims = similarities ?? this.#vectors.similarities(embedder, vector, this.#maxIid + 1, pred);
    type VSlot = { kind: 'vector' } | SortSpec;
    const slots: VSlot[] = [];
    let vectorPlaced = false;
    // `/similar` ranks by similarity alone (milli `Similar::execute`).
    for (const r of similarityOnly ? [] : this.#settings.rankingRules) {
      if (r === 'sort') {
        slots.push(...sortParam);
        continue;
      }
      const m = /^(.+):(asc|desc)$/.exec(r);
      if (m !== null) slots.push({ field: m[1], ascending: m[2] === 'asc', label: r });
      else if (!vectorPlaced) {
        slots.push({ kind: 'vector' });
        vectorPlaced = true;
      }
    }
    if (!vectorPlaced) slots.push({ kind: 'vector' });
    const sortSlots = slots.filter((x): x is SortSpec => !('kind' in x));
    const plan = this.#plan(sortSlots.map((x) => ({ kind: 'sortField' as const, ...x })));
    const simOf = (iid: number): number | null => (iid < sims.length && !Number.isNaN(sims[iid]) ? sims[iid] : null);
    const sortVal = (iid: number, sp: SortSpec): SortValue =>
      sp.geo !== undefined ? this.#geoDistance(iid, sp.geo) : this.#sortValue(sp.field, iid, sp.ascending);
    let pool: number[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const iid = candidates[i];
      if (opts.threshold !== undefined && (simOf(iid) ?? 0) < opts.threshold) continue;
      pool.push(iid);
    }
    const sortCache = new Map<number, SortValue[]>();
    const sortsOf = (iid: number): SortValue[] => {
      let v = sortCache.get(iid);
      if (v === undefined) sortCache.set(iid, (v = sortSlots.map((sp) => sortVal(iid, sp))));
      return v;
    };
    const cmp = (a: number, b: number): number => {
      let k = 0;
      for (const sl of slots) {
        if ('kind' in sl) {
          const x = simOf(a);
          const y = simOf(b);
          if (x !== y) {
            if (x === null) return 1;
            if (y === null) return -1;
            return y - x;
          }
        } else {
          const c = compareSortValues(sortsOf(a)[k], sortsOf(b)[k], sl.ascending);
          if (c !== 0) return c;
          k++;
        }
      }
      return a - b;
    };
    const total = opts.threshold !== undefined ? pool.length : opts.distinct !== null ? this.#distinctCount(opts.distinct, candidates) : candidates.length;
    if (opts.distinct === null && opts.threshold === undefined && pool.length > opts.needed * 4) pool = topK(pool, opts.needed, cmp);
    else pool.sort(cmp);
    const order: Array<{ ev: Evaluated; details: Record<string, Record<string, unknown>>; values: ScoreValue[] }> = [];
    const seen = new Set<string>();
    for (const iid of pool) {
      if (order.length >= opts.needed) break;
      if (opts.distinct !== null) {
        const keys = this.#distinctKeys(opts.distinct, iid);
        if (keys.some((k) => seen.has(k))) continue;
        for (const k of keys) seen.add(k);
      }
      const sim = simOf(iid);
      const sorts = sortsOf(iid);
      const details: Record<string, Record<string, unknown>> = {};
      const values: ScoreValue[] = [];
      let k = 0;
      slots.forEach((sl, order) => {
        if ('kind' in sl) {
          details.vectorSort = sim === null ? { order } : { order, similarity: sim };
          values.push({ kind: 'score', score: sim ?? 0 });
          return;
        }
        const value = sorts[k++];
        if (sl.geo !== undefined) {
          const has = iid < this.#geoLat.length && !Number.isNaN(this.#geoLat[iid]);
          details[sl.label] = { order, value: has ? { lat: this.#geoLat[iid], lng: this.#geoLng[iid] } : null, distance: value };
          values.push({ kind: 'geo', ascending: sl.ascending, distance: value as number | null });
        } else {
          details[sl.label] = sortDetails(order, value);
          values.push({ kind: 'sort', ascending: sl.ascending, value });
        }
      });
      order.push({ ev: { iid, ranks: [], max: [], sorts, score: sim ?? 0 }, details, values });
    }
    return { order, total, candidates, plan };
  }

  /**
   * Documents similar to the one of internal id `iid` (`undefined`: no such document), by the
   * similarity of their embeddings to its (the document itself excluded).
   * @see https://www.meilisearch.com/docs/reference/api/similar/get-similar-documents-with-post
   */
  similar(q: SimilarQuery, iid: number | undefined, indexUid: string): SimilarResponse {
    const started = performance.now();
    this.#flush();
    if (!Object.hasOwn(this.#settings.embedders, q.embedder)) {
      throw new MeiliError('invalid_similar_embedder', `Cannot find embedder with name \`${q.embedder}\`.`);
    }
    const pred = this.#compileFilter(q.filter, 'invalid_similar_filter', indexUid);
    if (iid === undefined) throw new MeiliError('not_found_similar_id', `Document \`${q.id}\` not found.`);
    const maxTotalHits = this.#settings.pagination.maxTotalHits;
    const offset = Math.min(q.offset ?? 0, maxTotalHits);
    const limit = Math.min(q.limit ?? 20, maxTotalHits - offset);
    const sims = this.#vectors.similaritiesTo(q.embedder, iid, this.#maxIid + 1, null) ?? new Float64Array(this.#maxIid + 1).fill(NaN);
    sims[iid] = NaN;
    const embedded = (x: number): boolean => !Number.isNaN(sims[x]) && (pred === null || pred(x));
    const sem = this.#semanticRank(q.embedder, [], embedded, [], { needed: offset + limit, threshold: q.rankingScoreThreshold, distinct: null }, sims, true);
    // milli `Similar::execute`: the candidates are the filtered documents but the reference one;
    // a hit under the threshold within the page cuts them down to the hits before it.
    const all = this.#allIids(pred);
    let universe = all.length;
    for (let i = 0; i < all.length; i++) if (all[i] === iid) universe--;
    const embeddedCount = sem.candidates.length;
    const total = q.rankingScoreThreshold !== undefined && sem.total < Math.min(offset + limit, embeddedCount) ? sem.total : universe;
    const hq: SearchQuery = {
      retrieveVectors: q.retrieveVectors,
      showRankingScore: q.showRankingScore,
      showRankingScoreDetails: q.showRankingScoreDetails,
    };
    if (q.attributesToRetrieve !== undefined) hq.attributesToRetrieve = q.attributesToRetrieve;
    const matcher = this.#matcher(this.#prepare(undefined));
    const hits = sem.order.slice(offset, offset + limit).map((h) => this.#hit(h.ev, hq, sem.plan, matcher, { vectorSort: h.details.vectorSort }));
    return {
      hits,
      id: q.id,
      processingTimeMs: Math.floor(performance.now() - started),
      limit,
      offset,
      estimatedTotalHits: Math.min(total, maxTotalHits),
    };
  }

  /**
   * Whether hits get `_formatted`: only when an attribute to highlight or crop names a known,
   * displayed field (meilisearch `compute_formatted_options` keeps field ids only).
   */
  #formats(highlight: readonly string[] | undefined, crop: readonly string[] | undefined): boolean {
    const patterns = [...(highlight ?? []), ...(crop ?? []).map((c) => c.replace(/:\d+$/, ''))];
    if (patterns.length === 0) return false;
    const displayed = this.#settings.displayedAttributes;
    for (const f of this.#seenFields) {
      if (firstMatch(displayed, f) >= 0 && firstMatch(patterns, f) >= 0) return true;
    }
    return false;
  }

  #hit(ev: Evaluated, q: SearchQuery, plan: Plan, matcher: Matcher, details?: Record<string, Record<string, unknown>>): Hit {
    const doc = this.#getDocument(ev.iid) ?? {};
    const selected = selectFields(doc, this.#settings.displayedAttributes, q.attributesToRetrieve);
    // `_vectors` is only returned with `retrieveVectors` (reference §3.2).
    if (q.retrieveVectors !== true) delete selected._vectors;
    const hit: Hit = { ...selected };
    const geoSort = plan.sorts.find((x) => x.geo !== undefined);
    if (geoSort !== undefined) {
      const d = this.#geoDistance(ev.iid, geoSort.geo!);
      if (d !== null) hit._geoDistance = Math.round(d);
    }
    const highlight = q.attributesToHighlight;
    const crop = q.attributesToCrop;
    if (this.#formats(highlight, crop)) {
      const cropLength = q.cropLength ?? SEARCH_DEFAULTS.cropLength;
      const cropMap = new Map<string, number>();
      let cropAll: number | null = null;
      for (const c of crop ?? []) {
        const m = /^(.*):(\d+)$/.exec(c);
        const [name, len] = m === null ? [c, cropLength] : [m[1], Number(m[2])];
        if (name === '*') cropAll = len;
        else cropMap.set(name, len);
      }
      const o: FormatOptions = {
        highlight: highlight === undefined ? null : highlight.includes('*') ? 'all' : new Set(highlight),
        crop: cropMap.size > 0 ? cropMap : null,
        cropAll,
        pre: q.highlightPreTag ?? SEARCH_DEFAULTS.highlightPreTag,
        post: q.highlightPostTag ?? SEARCH_DEFAULTS.highlightPostTag,
        marker: q.cropMarker ?? SEARCH_DEFAULTS.cropMarker,
      };
      // `_formatted` shows the retrieved attributes plus those to highlight or crop (meilisearch
      // `tests/search/formatted.rs`), within the displayed ones.
      const retrieve = q.attributesToRetrieve;
      const extra = [...(highlight ?? []), ...(crop ?? []).map((c) => c.replace(/:\d+$/, ''))];
      const source =
        retrieve === undefined || retrieve.includes('*') || extra.length === 0
          ? selected
          : selectFields(doc, this.#settings.displayedAttributes, [...retrieve, ...extra]);
      hit._formatted = formatDocument(source, matcher, o);
    }
    if (q.showMatchesPosition === true) hit._matchesPosition = matchesPosition(selected, matcher);
    if (q.showRankingScore === true) hit._rankingScore = ev.score;
    if (q.showRankingScoreDetails === true) hit._rankingScoreDetails = details ?? this.#details(plan, ev);
    return hit;
  }

  // -------------------------------------------------------------------------------------------
  // Facet search

  /**
   * Search facet values of `facetName` among the documents matching `q`/`filter`.
   * @see https://www.meilisearch.com/docs/reference/api/facet-search/search-for-facet-values
   */
  facetSearch(q: FacetSearchQuery, indexUid: string): FacetSearchResponse {
    const started = performance.now();
    this.#flush();
    const s = this.#settings;
    // The search kind is settled first (meilisearch `facet_search` route); a semantic or merged
    // hybrid search has every filtered document as candidate.
    const kind = this.#searchKind(q);
    if (!s.facetSearch) throw new MeiliError('facet_search_disabled', 'The facet search is disabled for this index');
    const searchable = this.#filterRules.filter((r) => typeof r === 'string' || r.features?.facetSearch === true);
    if (!isAttributeFilterable(q.facetName, searchable)) {
      const patterns = new Set<string>();
      for (const r of searchable) for (const p of typeof r === 'string' ? [r] : r.attributePatterns) patterns.add(p);
      const list = this.#visibleList([...patterns].sort(byteOrder));
      const head =
        list.length === 0
          ? `Attribute \`${q.facetName}\` is not facet-searchable. This index does not have configured facet-searchable attributes.`
          : `Attribute \`${q.facetName}\` is not facet-searchable. Available facet-searchable attributes patterns are: ${ticks(list)}.`;
      throw new MeiliError(
        'invalid_facet_search_facet_name',
        `${head} To make it facet-searchable add it to the \`filterableAttributes\` index settings.`,
      );
    }
    const allowed = this.#attributesToSearchOn(q.attributesToSearchOn, `Index \`${indexUid}\`: `);
    const pred = this.#compileFilter(q.filter, 'invalid_search_filter', indexUid);
    const semantic = kind.kind === 'semantic' || (kind.kind === 'hybrid' && q.vector !== undefined);
    const pq = this.#prepare(semantic ? undefined : q.q);
    const rules = this.#rules(pq.terms.length === 0, []);
    const { candidates } = this.#rank(pq, rules, pred, allowed, q.matchingStrategy ?? 'last', {
      needed: 0,
      threshold: q.rankingScoreThreshold,
      distinct: null,
    });
    const f = this.#facetFields.get(q.facetName);
    const counts = new Int32Array(f?.size ?? 0);
    if (f !== undefined) {
      const fi = this.#facetList.indexOf(f);
      const query = q.facetQuery === undefined ? '' : normalize(q.facetQuery).trim();
      const matchCache = new Map<number, boolean>();
      const matches = (vid: number): boolean => {
        let m = matchCache.get(vid);
        if (m === undefined) {
          m = !Number.isNaN(f.num[vid]) ? false : query === '' || facetValueMatches(f.display[vid], query);
          matchCache.set(vid, m);
        }
        return m;
      };
      for (let n = 0; n < candidates.length; n++) {
        const pairs = this.#docFacets[candidates[n]];
        if (pairs === undefined) continue;
        for (let i = 0; i < pairs.length; i += 2) {
          if (pairs[i] !== fi || !matches(pairs[i + 1])) continue;
          counts[pairs[i + 1]]++;
        }
      }
    }
    const by = s.faceting.sortFacetValuesBy[q.facetName] ?? s.faceting.sortFacetValuesBy['*'] ?? 'alpha';
    const facetHits =
      f === undefined ? [] : orderValues(f, counts, by, s.faceting.maxValuesPerFacet).map(([vid, count]) => ({ value: f.display[vid], count }));
    return { facetHits, facetQuery: q.facetQuery ?? null, processingTimeMs: Math.floor(performance.now() - started) };
  }

  // -------------------------------------------------------------------------------------------
  // Documents route helpers

  /**
   * iids matching a filter, ascending; errors carry `errorCode` (e.g. `invalid_document_filter`)
   * and, when `indexUid` is given, the `` Index `x`: `` prefix Meilisearch puts on errors raised
   * while processing a task (delete by filter) but not on `GET|POST /documents` (fetch).
   */
  filter(filter: unknown, errorCode: string, indexUid: string | null): number[] {
    const pred = this.#compileFilter(filter, errorCode, indexUid);
    return Array.from(this.#allIids(pred));
  }

  /** Order iids by a documents-route `sort` (reference §3.2); missing values last, ties by iid. */
  sort(iids: number[], sort: string[], errorCode: string): number[] {
    const parsed = this.#parseSortParam(sort, errorCode);
    this.#checkSortable(parsed, errorCode, '');
    const keyed = iids.map((iid) => ({
      iid,
      keys: parsed.map((p) => (p.geo !== undefined ? this.#geoDistance(iid, p.geo) : this.#sortValue(p.field, iid, p.ascending))),
    }));
    keyed.sort((a, b) => {
      for (let i = 0; i < parsed.length; i++) {
        const c = compareSortValues(a.keys[i], b.keys[i], parsed[i].ascending);
        if (c !== 0) return c;
      }
      return a.iid - b.iid;
    });
    return keyed.map((k) => k.iid);
  }
}

/** A facet value matches a facet query when the value or one of its words starts with it. */
function facetValueMatches(display: string, query: string): boolean {
  const v = normalize(display);
  if (v.startsWith(query)) return true;
  return tokenize(display).some((t) => t.word.startsWith(query));
}


/** A keyword hit's comparable values: each run of rank rules as one score, each sort value. */
function keywordScoreValues(plan: Plan, ev: Evaluated): ScoreValue[] {
  const out: ScoreValue[] = [];
  for (const sl of plan.slots) {
    if (sl.kind === 'seg') {
      let r = 1;
      let m = 1;
      for (let j = 0; j < plan.comps.length; j++) {
        if (plan.segOfComp[j] !== sl.seg) continue;
        r = (r - 1) * ev.max[j] + ev.ranks[j];
        m *= ev.max[j];
      }
      out.push({ kind: 'score', score: r / m });
    } else {
      const v = ev.sorts[sl.sort];
      out.push(sl.geo !== undefined ? { kind: 'geo', ascending: sl.ascending, distance: v as number | null } : { kind: 'sort', ascending: sl.ascending, value: v });
    }
  }
  return out;
}
