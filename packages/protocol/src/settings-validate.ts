/**
 * Validation of index settings payloads, with Meilisearch's exact error codes and its
 * deserialization messages (Meilisearch validates request bodies with the `deserr` crate; the
 * message shapes below reproduce that crate's JSON error texts: `Invalid value type at \`.x\`: …`,
 * ``Unknown field `x`: expected one of …``, ``Unknown value `x` at `.y`: …``).
 *
 * @see https://www.meilisearch.com/docs/reference/api/settings/update-all-settings
 */
import { MeiliError } from './errors.js';
import { embedderView } from './embedder-view.js';
import type { Embedder, Faceting, FilterableAttribute, LocalizedAttributeRule, Settings, TypoTolerance } from './settings.js';
import { defaultSettings } from './settings.js';

// ---------------------------------------------------------------------------------------------
// deserr-style message helpers
// ---------------------------------------------------------------------------------------------

/** How deserr names the kind of a JSON value (`a positive integer`, `an array`, …). */
export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'a boolean';
    case 'number':
      if (Number.isInteger(v)) return v >= 0 ? 'a positive integer' : 'a negative integer';
      return 'a number';
    case 'string':
      return 'a string';
    default:
      return Array.isArray(v) ? 'an array' : 'an object';
  }
}

/** `a string: \`"x"\`` — the kind followed by the compact JSON text, or `null`. */
export function describeJsonValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  return `${jsonKind(v)}: \`${JSON.stringify(v)}\``;
}

function location(path: string, article: 'at' | 'inside'): string {
  return path === '' ? '' : ` ${article} \`${path}\``;
}

/**
 * Optimal-string-alignment distance: the restricted form of Damerau-Levenshtein used to
 * suggest a field name. Written here because it is ten lines and no dependency is worth it.
 */
function osaDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[a.length][b.length];
}

/** deserr's "did you mean `x`? " hint (empty when nothing is close enough). */
export function didYouMean(received: string, accepted: readonly string[]): string {
  const len = Buffer.byteLength(received);
  if (len <= 3) return '';
  const allowed = len <= 7 ? 1 : len <= 12 ? 2 : len <= 17 ? 3 : len <= 24 ? 4 : 5;
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of accepted) {
    const dist = osaDistance(received, a);
    if (dist <= allowed && dist < bestD) {
      best = a;
      bestD = dist;
    }
  }
  return best === undefined ? '' : `did you mean \`${best}\`? `;
}

const tickList = (xs: readonly string[]): string => xs.map((x) => `\`${x}\``).join(', ');

/** `Invalid value type at \`.path\`: expected X, but found Y`. */
export function invalidTypeError(code: string, path: string, expected: string, value: unknown): MeiliError {
  return new MeiliError(
    code,
    `Invalid value type${location(path, 'at')}: expected ${expected}, but found ${describeJsonValue(value)}`,
  );
}

/** ``Unknown field `k` inside `.path`: expected one of …``. */
export function unknownFieldError(code: string, path: string, key: string, accepted: readonly string[]): MeiliError {
  return new MeiliError(
    code,
    `Unknown field \`${key}\`${location(path, 'inside')}: ${didYouMean(key, accepted)}expected one of ${tickList(accepted)}`,
  );
}

/** ``Unknown value `v` at `.path`: expected one of …``. */
export function unknownValueError(code: string, path: string, value: string, accepted: readonly string[]): MeiliError {
  return new MeiliError(
    code,
    `Unknown value \`${value}\`${location(path, 'at')}: ${didYouMean(value, accepted)}expected one of ${tickList(accepted)}`,
  );
}

/** `Invalid value at \`.path\`: msg`. */
export function invalidValueError(code: string, path: string, msg: string): MeiliError {
  return new MeiliError(code, `Invalid value${location(path, 'at')}: ${msg}`);
}

/** ``Missing field `f` inside `.path` ``. */
export function missingFieldError(code: string, path: string, field: string): MeiliError {
  return new MeiliError(code, `Missing field \`${field}\`${location(path, 'inside')}`);
}

/** Plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON non-negative integer, as Rust's `usize`/`u64` accept it. */
export function isUnsignedInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/** Every settings key, in Meilisearch's order (the order of the `Settings` struct). */
export const SETTINGS_KEYS = [
  'displayedAttributes',
  'searchableAttributes',
  'filterableAttributes',
  'sortableAttributes',
  'rankingRules',
  'stopWords',
  'nonSeparatorTokens',
  'separatorTokens',
  'dictionary',
  'synonyms',
  'distinctAttribute',
  'proximityPrecision',
  'typoTolerance',
  'faceting',
  'pagination',
  'embedders',
  'searchCutoffMs',
  'localizedAttributes',
  'facetSearch',
  'prefixSearch',
] as const satisfies readonly (keyof Settings)[];
export type SettingsKey = (typeof SETTINGS_KEYS)[number];

export interface TypoTolerancePatch {
  enabled?: boolean | null;
  minWordSizeForTypos?: { oneTypo?: number | null; twoTypos?: number | null } | null;
  disableOnWords?: string[] | null;
  disableOnAttributes?: string[] | null;
  disableOnNumbers?: boolean | null;
}
export interface FacetingPatch {
  maxValuesPerFacet?: number | null;
  sortFacetValuesBy?: Record<string, 'alpha' | 'count'> | null;
}
export interface PaginationPatch {
  maxTotalHits?: number | null;
}

/**
 * A validated settings update: a key absent = unchanged, `null` = reset to default. The nested
 * objects (`typoTolerance`, `faceting`, `pagination`, `embedders`) are partial updates.
 */
export interface SettingsPatch {
  displayedAttributes?: string[] | null;
  searchableAttributes?: string[] | null;
  filterableAttributes?: FilterableAttribute[] | null;
  sortableAttributes?: string[] | null;
  rankingRules?: string[] | null;
  stopWords?: string[] | null;
  nonSeparatorTokens?: string[] | null;
  separatorTokens?: string[] | null;
  dictionary?: string[] | null;
  synonyms?: Record<string, string[]> | null;
  distinctAttribute?: string | null;
  proximityPrecision?: Settings['proximityPrecision'] | null;
  typoTolerance?: TypoTolerancePatch | null;
  faceting?: FacetingPatch | null;
  pagination?: PaginationPatch | null;
  embedders?: Record<string, Embedder | null> | null;
  searchCutoffMs?: number | null;
  localizedAttributes?: LocalizedAttributeRule[] | null;
  facetSearch?: boolean | null;
  prefixSearch?: Settings['prefixSearch'] | null;
}

/** `displayedAttributes` → `invalid_settings_displayed_attributes`. */
export function settingsErrorCode(key: SettingsKey): string {
  return `invalid_settings_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/** `displayedAttributes` → `displayed-attributes` (the sub-route name). */
export function settingsRouteName(key: SettingsKey): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Sub-routes updated with PATCH (a partial merge); every other sub-route takes PUT.
 * @see https://www.meilisearch.com/docs/reference/api/settings/update-typotolerance
 */
export const PATCH_SETTINGS_KEYS: ReadonlySet<SettingsKey> = new Set(['typoTolerance', 'faceting', 'pagination', 'embedders']);

function stringArray(v: unknown, code: string, path: string): string[] {
  if (!Array.isArray(v)) throw invalidTypeError(code, path, 'an array', v);
  v.forEach((x, i) => {
    if (typeof x !== 'string') throw invalidTypeError(code, `${path}[${i}]`, 'a string', x);
  });
  return v as string[];
}

/** Rust's `BTreeSet<String>`: sorted bytewise and de-duplicated. */
function stringSet(v: unknown, code: string, path: string): string[] {
  return [...new Set(stringArray(v, code, path))].sort(compareBytes);
}

/** Orders strings as Rust compares them (bytewise UTF-8, i.e. by code point). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function bool(v: unknown, code: string, path: string): boolean {
  if (typeof v !== 'boolean') throw invalidTypeError(code, path, 'a boolean', v);
  return v;
}

function unsigned(v: unknown, code: string, path: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!isUnsignedInteger(v)) throw invalidTypeError(code, path, 'a positive integer', v);
  if (v > max) {
    throw invalidValueError(code, path, `value: \`${v}\` is too large to be deserialized, maximum value authorized is \`${max}\``);
  }
  return v;
}

function object(v: unknown, code: string, path: string, accepted: readonly string[]): Record<string, unknown> {
  if (!isJsonObject(v)) throw invalidTypeError(code, path, 'an object', v);
  for (const k of Object.keys(v)) if (!accepted.includes(k)) throw unknownFieldError(code, path, k, accepted);
  return v;
}

function enumValue<T extends string>(v: unknown, code: string, path: string, accepted: readonly T[]): T {
  if (typeof v !== 'string') throw invalidTypeError(code, path, 'a string', v);
  if (!(accepted as readonly string[]).includes(v)) throw unknownValueError(code, path, v, accepted);
  return v as T;
}

const RESERVED_SORT_NAMES = new Set(['_geo', '_geoDistance']);
const FILTER_ONLY_NAMES = ['_geoRadius', '_geoBoundingBox', '_geoPolygon'];
const BUILTIN_RULES = new Set(['words', 'typo', 'proximity', 'attribute', 'attributeRank', 'wordPosition', 'sort', 'exactness']);

/** Parses one ranking rule; returns the error text Meilisearch's `RankingRule::from_str` gives. */
function rankingRuleError(rule: string): string | null {
  if (BUILTIN_RULES.has(rule)) return null;
  const colon = rule.lastIndexOf(':');
  const invalid = `\`${rule}\` ranking rule is invalid. Valid ranking rules are words, typo, sort, proximity, attribute, exactness and custom ranking rules.`;
  if (colon < 0) return invalid;
  const name = rule.slice(0, colon);
  const dir = rule.slice(colon + 1);
  if (dir !== 'asc' && dir !== 'desc') return invalid;
  if (name.startsWith('_geoPoint(') || name === '_geoPoint') {
    return "`_geoPoint` is a reserved keyword and thus can't be used as a ranking rule. `_geoPoint` can only be used for sorting at search time";
  }
  for (const f of FILTER_ONLY_NAMES) {
    if (name === f || name.startsWith(`${f}(`)) {
      return `\`${f}\` is a reserved keyword and thus can't be used as a ranking rule. \`${f}\` can only be used for filtering at search time`;
    }
  }
  if (RESERVED_SORT_NAMES.has(name)) return `\`${name}\` is a reserved keyword and thus can't be used as a ranking rule`;
  if (name === '') return invalid;
  return null;
}

function rankingRules(v: unknown, path: string): string[] {
  const code = 'invalid_settings_ranking_rules';
  const rules = stringArray(v, code, path);
  rules.forEach((r, i) => {
    const err = rankingRuleError(r);
    if (err !== null) throw invalidValueError(code, `${path}[${i}]`, err);
  });
  const legacy = rules.includes('attribute');
  if (legacy && (rules.includes('attributeRank') || rules.includes('wordPosition'))) {
    throw invalidValueError(
      code,
      path,
      'The `attribute` ranking rule cannot be used together with the `attributeRank` or `wordPosition` ranking rules: `attribute` is equivalent to `attributeRank` followed by `wordPosition`.',
    );
  }
  return rules;
}

function filterableAttributes(v: unknown, path: string): FilterableAttribute[] {
  const code = 'invalid_settings_filterable_attributes';
  if (!Array.isArray(v)) throw invalidTypeError(code, path, 'an array', v);
  return v.map((rule, i): FilterableAttribute => {
    const at = `${path}[${i}]`;
    if (typeof rule === 'string') return rule;
    if (!isJsonObject(rule)) throw invalidTypeError(code, at, 'a string or an object', rule);
    object(rule, code, at, ['attributePatterns', 'features']);
    if (!('attributePatterns' in rule)) throw missingFieldError(code, at, 'attributePatterns');
    const attributePatterns = stringArray(rule.attributePatterns, code, `${at}.attributePatterns`);
    let facetSearch = false;
    let equality = true;
    let comparison = false;
    if (rule.features !== undefined) {
      const f = object(rule.features, code, `${at}.features`, ['facetSearch', 'filter']);
      if (f.facetSearch !== undefined) facetSearch = bool(f.facetSearch, code, `${at}.features.facetSearch`);
      if (f.filter !== undefined) {
        const fl = object(f.filter, code, `${at}.features.filter`, ['equality', 'comparison']);
        if (fl.equality !== undefined) equality = bool(fl.equality, code, `${at}.features.filter.equality`);
        if (fl.comparison !== undefined) comparison = bool(fl.comparison, code, `${at}.features.filter.comparison`);
      }
    }
    return { attributePatterns, features: { facetSearch, filter: { equality, comparison } } };
  });
}

function synonyms(v: unknown, path: string): Record<string, string[]> {
  const code = 'invalid_settings_synonyms';
  if (!isJsonObject(v)) throw invalidTypeError(code, path, 'an object', v);
  const out: Record<string, string[]> = {};
  for (const k of Object.keys(v).sort(compareBytes)) out[k] = stringArray(v[k], code, `${path}.${k}`);
  return out;
}

const TYPO_KEYS = ['enabled', 'minWordSizeForTypos', 'disableOnWords', 'disableOnAttributes', 'disableOnNumbers'];

function typoTolerance(v: unknown, path: string): TypoTolerancePatch {
  const code = 'invalid_settings_typo_tolerance';
  const o = object(v, code, path, TYPO_KEYS);
  const out: TypoTolerancePatch = {};
  if (o.enabled !== undefined) out.enabled = o.enabled === null ? null : bool(o.enabled, code, `${path}.enabled`);
  if (o.minWordSizeForTypos !== undefined) {
    if (o.minWordSizeForTypos === null) out.minWordSizeForTypos = null;
    else {
      const p = `${path}.minWordSizeForTypos`;
      const m = object(o.minWordSizeForTypos, code, p, ['oneTypo', 'twoTypos']);
      const mw: { oneTypo?: number | null; twoTypos?: number | null } = {};
      if (m.oneTypo !== undefined) mw.oneTypo = m.oneTypo === null ? null : unsigned(m.oneTypo, code, `${p}.oneTypo`, 255);
      if (m.twoTypos !== undefined) mw.twoTypos = m.twoTypos === null ? null : unsigned(m.twoTypos, code, `${p}.twoTypos`, 255);
      if (typeof mw.oneTypo === 'number' && typeof mw.twoTypos === 'number' && mw.oneTypo > mw.twoTypos) {
        throw invalidValueError(code, p, minWordSizeMessage(mw.oneTypo, mw.twoTypos));
      }
      out.minWordSizeForTypos = mw;
    }
  }
  if (o.disableOnWords !== undefined) {
    out.disableOnWords = o.disableOnWords === null ? null : stringSet(o.disableOnWords, code, `${path}.disableOnWords`);
  }
  if (o.disableOnAttributes !== undefined) {
    out.disableOnAttributes =
      o.disableOnAttributes === null ? null : stringSet(o.disableOnAttributes, code, `${path}.disableOnAttributes`);
  }
  if (o.disableOnNumbers !== undefined) {
    out.disableOnNumbers = o.disableOnNumbers === null ? null : bool(o.disableOnNumbers, code, `${path}.disableOnNumbers`);
  }
  return out;
}

/** Meilisearch's message for `oneTypo > twoTypos` (reproduced with its unbalanced backtick). */
export function minWordSizeMessage(one: number, two: number): string {
  return `\`minWordSizeForTypos\` setting is invalid. \`oneTypo\` and \`twoTypos\` fields should be between \`0\` and \`255\`, and \`twoTypos\` should be greater or equals to \`oneTypo\` but found \`oneTypo: ${one}\` and twoTypos: ${two}\`.`;
}

function faceting(v: unknown, path: string): FacetingPatch {
  const code = 'invalid_settings_faceting';
  const o = object(v, code, path, ['maxValuesPerFacet', 'sortFacetValuesBy']);
  const out: FacetingPatch = {};
  if (o.maxValuesPerFacet !== undefined) {
    out.maxValuesPerFacet = o.maxValuesPerFacet === null ? null : unsigned(o.maxValuesPerFacet, code, `${path}.maxValuesPerFacet`);
  }
  if (o.sortFacetValuesBy !== undefined) {
    if (o.sortFacetValuesBy === null) out.sortFacetValuesBy = null;
    else {
      const p = `${path}.sortFacetValuesBy`;
      if (!isJsonObject(o.sortFacetValuesBy)) throw invalidTypeError(code, p, 'an object', o.sortFacetValuesBy);
      const m: Record<string, 'alpha' | 'count'> = {};
      for (const k of Object.keys(o.sortFacetValuesBy).sort(compareBytes)) {
        m[k] = enumValue(o.sortFacetValuesBy[k], code, `${p}.${k}`, ['alpha', 'count'] as const);
      }
      out.sortFacetValuesBy = m;
    }
  }
  return out;
}

function pagination(v: unknown, path: string): PaginationPatch {
  const code = 'invalid_settings_pagination';
  const o = object(v, code, path, ['maxTotalHits']);
  const out: PaginationPatch = {};
  if (o.maxTotalHits !== undefined) {
    if (o.maxTotalHits === null) out.maxTotalHits = null;
    else {
      const n = unsigned(o.maxTotalHits, code, `${path}.maxTotalHits`);
      // Meilisearch ≥ 1.15 stores maxTotalHits as a non-zero integer.
      if (n === 0) throw invalidValueError(code, `${path}.maxTotalHits`, 'a non-zero integer value lower than `18446744073709551615` was expected, but found a zero');
      out.maxTotalHits = n;
    }
  }
  return out;
}

const EMBEDDER_SOURCES = ['openAi', 'huggingFace', 'ollama', 'userProvided', 'rest', 'composite'] as const;

function embedders(v: unknown, path: string): Record<string, Embedder | null> {
  const code = 'invalid_settings_embedders';
  if (!isJsonObject(v)) throw invalidTypeError(code, path, 'an object', v);
  const out: Record<string, Embedder | null> = {};
  for (const name of Object.keys(v).sort(compareBytes)) {
    const p = `${path}.${name}`;
    const e = v[name];
    if (e === null) {
      out[name] = null;
      continue;
    }
    if (!isJsonObject(e)) throw invalidTypeError(code, p, 'an object', e);
    if (e.source === undefined) throw missingFieldError(code, p, 'source');
    const source = enumValue(e.source, code, `${p}.source`, EMBEDDER_SOURCES);
    if (e.dimensions !== undefined && e.dimensions !== null) {
      const d = unsigned(e.dimensions, code, `${p}.dimensions`);
      if (d === 0) throw invalidValueError(code, `${p}.dimensions`, '`dimensions` cannot be zero');
    }
    if (source === 'userProvided' && (e.dimensions === undefined || e.dimensions === null)) {
      throw missingFieldError(code, p, 'dimensions');
    }
    out[name] = { ...e, source } as Embedder;
  }
  return out;
}

function localizedAttributes(v: unknown, path: string): LocalizedAttributeRule[] {
  const code = 'invalid_settings_localized_attributes';
  if (!Array.isArray(v)) throw invalidTypeError(code, path, 'an array', v);
  return v.map((r, i) => {
    const p = `${path}[${i}]`;
    const o = object(r, code, p, ['attributePatterns', 'locales']);
    if (o.attributePatterns === undefined) throw missingFieldError(code, p, 'attributePatterns');
    if (o.locales === undefined) throw missingFieldError(code, p, 'locales');
    return {
      attributePatterns: stringArray(o.attributePatterns, code, `${p}.attributePatterns`),
      locales: stringArray(o.locales, code, `${p}.locales`),
    };
  });
}

/**
 * Validates the value of one setting (`null` = reset). `path` is the location used in messages:
 * `.rankingRules` inside a whole-settings body, `''` on the setting's own sub-route.
 */
export function validateSettingValue(key: SettingsKey, value: unknown, path: string): unknown {
  if (value === null) return null;
  const code = settingsErrorCode(key);
  switch (key) {
    case 'displayedAttributes':
    case 'searchableAttributes': {
      const xs = stringArray(value, code, path);
      // Meilisearch turns any list containing `*` into the wildcard.
      return xs.includes('*') ? null : xs;
    }
    case 'filterableAttributes':
      return filterableAttributes(value, path);
    case 'sortableAttributes':
    case 'stopWords':
    case 'nonSeparatorTokens':
    case 'separatorTokens':
    case 'dictionary':
      return stringSet(value, code, path);
    case 'rankingRules':
      return rankingRules(value, path);
    case 'synonyms':
      return synonyms(value, path);
    case 'distinctAttribute':
      if (typeof value !== 'string') throw invalidTypeError(code, path, 'a string', value);
      return value;
    case 'proximityPrecision':
      return enumValue(value, code, path, ['byWord', 'byAttribute'] as const);
    case 'typoTolerance':
      return typoTolerance(value, path);
    case 'faceting':
      return faceting(value, path);
    case 'pagination':
      return pagination(value, path);
    case 'embedders':
      return embedders(value, path);
    case 'searchCutoffMs':
      return unsigned(value, code, path);
    case 'localizedAttributes':
      return localizedAttributes(value, path);
    case 'facetSearch':
      return bool(value, code, path);
    case 'prefixSearch':
      return enumValue(value, code, path, ['indexingTime', 'disabled'] as const);
  }
}

/** Validates a whole-settings body (`PATCH /indexes/{uid}/settings`). */
export function validateSettings(body: unknown): SettingsPatch {
  if (!isJsonObject(body)) throw invalidTypeError('bad_request', '', 'an object', body);
  for (const k of Object.keys(body)) {
    if (!(SETTINGS_KEYS as readonly string[]).includes(k)) throw unknownFieldError('bad_request', '', k, SETTINGS_KEYS);
  }
  const out: Record<string, unknown> = {};
  for (const key of SETTINGS_KEYS) {
    if (body[key] !== undefined) out[key] = validateSettingValue(key, body[key], `.${key}`);
  }
  return out as SettingsPatch;
}

/** The patch that resets every setting (`DELETE /indexes/{uid}/settings`). */
export function resetAllSettingsPatch(): SettingsPatch {
  const out: Record<string, null> = {};
  for (const k of SETTINGS_KEYS) out[k] = null;
  return out as SettingsPatch;
}

/**
 * Applies a validated patch to current settings; returns new settings (inputs untouched).
 * Throws the processing-time errors Meilisearch raises when the merged result is invalid.
 */
export function applySettingsPatch(current: Settings, patch: SettingsPatch): Settings {
  const def = defaultSettings();
  const next: Settings = structuredClone(current);
  const p = patch as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  const d = def as unknown as Record<string, unknown>;
  for (const key of SETTINGS_KEYS) {
    if (!(key in p) || p[key] === undefined) continue;
    const v = p[key];
    if (v === null) {
      n[key] = d[key];
      continue;
    }
    switch (key) {
      case 'typoTolerance':
        next.typoTolerance = mergeTypo(next.typoTolerance, v as TypoTolerancePatch, def.typoTolerance);
        break;
      case 'faceting':
        next.faceting = mergeFaceting(next.faceting, v as FacetingPatch, def.faceting);
        break;
      case 'pagination': {
        const pg = v as PaginationPatch;
        if (pg.maxTotalHits !== undefined) next.pagination = { maxTotalHits: pg.maxTotalHits ?? def.pagination.maxTotalHits };
        break;
      }
      case 'embedders': {
        const merged: Record<string, Embedder> = { ...next.embedders };
        for (const [name, e] of Object.entries(v as Record<string, Embedder | null>)) {
          if (e === null) delete merged[name];
          else merged[name] = { ...(merged[name] ?? {}), ...e };
        }
        next.embedders = merged;
        break;
      }
      default:
        n[key] = structuredClone(v);
    }
  }
  const mw = next.typoTolerance.minWordSizeForTypos;
  if (mw.oneTypo > mw.twoTypos) throw new MeiliError('invalid_settings_typo_tolerance', minWordSizeMessage(mw.oneTypo, mw.twoTypos));
  return next;
}

function mergeTypo(cur: TypoTolerance, p: TypoTolerancePatch, def: TypoTolerance): TypoTolerance {
  const out = structuredClone(cur);
  if (p.enabled !== undefined) out.enabled = p.enabled ?? def.enabled;
  if (p.minWordSizeForTypos !== undefined) {
    if (p.minWordSizeForTypos === null) out.minWordSizeForTypos = { ...def.minWordSizeForTypos };
    else {
      const m = p.minWordSizeForTypos;
      if (m.oneTypo !== undefined) out.minWordSizeForTypos.oneTypo = m.oneTypo ?? def.minWordSizeForTypos.oneTypo;
      if (m.twoTypos !== undefined) out.minWordSizeForTypos.twoTypos = m.twoTypos ?? def.minWordSizeForTypos.twoTypos;
    }
  }
  if (p.disableOnWords !== undefined) out.disableOnWords = p.disableOnWords ?? [];
  if (p.disableOnAttributes !== undefined) out.disableOnAttributes = p.disableOnAttributes ?? [];
  if (p.disableOnNumbers !== undefined) out.disableOnNumbers = p.disableOnNumbers ?? def.disableOnNumbers;
  return out;
}

function mergeFaceting(cur: Faceting, p: FacetingPatch, def: Faceting): Faceting {
  const out = structuredClone(cur);
  if (p.maxValuesPerFacet !== undefined) out.maxValuesPerFacet = p.maxValuesPerFacet ?? def.maxValuesPerFacet;
  if (p.sortFacetValuesBy !== undefined) {
    // The wildcard entry always exists; a new map replaces the previous one.
    const m: Record<string, 'alpha' | 'count'> = { '*': 'alpha', ...(p.sortFacetValuesBy ?? {}) };
    const sorted: Record<string, 'alpha' | 'count'> = {};
    for (const k of Object.keys(m).sort(compareBytes)) sorted[k] = m[k];
    out.sortFacetValuesBy = sorted;
  }
  return out;
}

/**
 * Hides an embedder secret as Meilisearch does when it shows settings: keeps a prefix that
 * grows with the secret's length and masks the rest.
 */
export function hideSecret(secret: string): string {
  const n = secret.length;
  if (n < 10) return 'XXX...';
  if (n < 20) return `${secret.slice(0, 2)}XXXX...`;
  if (n < 30) return `${secret.slice(0, 3)}XXXXX...`;
  return `${secret.slice(0, 5)}XXXXXX...`;
}

function hideEmbedderSecrets<T extends Embedder | null>(e: T): T {
  if (e === null || typeof e.apiKey !== 'string') return e;
  return { ...e, apiKey: hideSecret(e.apiKey) };
}

/** Settings as `GET /indexes/{uid}/settings` shows them (embedders as derived, secrets hidden). */
export function settingsView(s: Settings): Settings {
  const out = structuredClone(s);
  const emb: Record<string, Embedder> = {};
  for (const [k, e] of Object.entries(out.embedders)) emb[k] = hideEmbedderSecrets(embedderView(e));
  out.embedders = emb;
  return out;
}

/**
 * The `details` of a `settingsUpdate` task: the submitted settings in Meilisearch's key order,
 * a reset shown as `null` except the wildcard lists, which show `["*"]`.
 */
export function settingsTaskDetails(patch: SettingsPatch): Record<string, unknown> {
  const p = patch as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of SETTINGS_KEYS) {
    if (!(key in p) || p[key] === undefined) continue;
    const v = p[key];
    if ((key === 'displayedAttributes' || key === 'searchableAttributes') && v === null) out[key] = ['*'];
    else if (key === 'embedders' && v !== null) {
      const emb: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(v as Record<string, Embedder | null>)) emb[k] = hideEmbedderSecrets(e);
      out[key] = emb;
    } else out[key] = v;
  }
  return out;
}
