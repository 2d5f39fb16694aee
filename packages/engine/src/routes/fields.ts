/**
 * `POST /indexes/{uid}/fields` [≥ v1.33]: every field the index has seen, with what the settings
 * make of it (displayed, searchable, sortable, distinct, custom ranking rule, filterable features,
 * facet value order, locales), paginated and optionally filtered.
 *
 * @see https://www.meilisearch.com/docs/reference/api/indexes/list-index-fields
 */
import type { FastifyInstance } from 'fastify';
import { matchingRule, matchPattern, PatternMatch } from '@miroir/filter';
import type { FilterableRule } from '@miroir/filter';
import {
  invalidTypeError,
  isJsonObject,
  isUnsignedInteger,
  unknownFieldError,
} from '@miroir/protocol';
import type { Settings } from '@miroir/protocol';
import type { EngineContext } from '../context.js';
import { checkIndexUid, jsonBody } from '../http.js';
import { compareUids } from '../registry.js';

type UidParams = { indexUid: string };

/** One field as the route shows it (keys in Meilisearch's order). */
export interface FieldView {
  name: string;
  displayed: { enabled: boolean };
  searchable: { enabled: boolean };
  sortable: { enabled: boolean };
  distinct: { enabled: boolean };
  rankingRule: { enabled: boolean; order?: 'asc' | 'desc' };
  filterable: { enabled: boolean; sortBy: 'alpha' | 'count'; facetSearch: boolean; equality: boolean; comparison: boolean };
  localized: { locales: string[] };
}

const FILTER_KEYS = ['attributePatterns', 'displayed', 'searchable', 'sortable', 'distinct', 'rankingRule', 'filterable'] as const;
type FilterKey = Exclude<(typeof FILTER_KEYS)[number], 'attributePatterns'>;

interface ListFields {
  offset: number;
  limit: number;
  filter: { attributePatterns?: string[] } & Partial<Record<FilterKey, boolean>>;
}

const codeOf = (k: string) => `invalid_index_fields_filter_${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;

function parseListFields(body: unknown): ListFields {
  if (!isJsonObject(body)) throw invalidTypeError('bad_request', '', 'an object', body);
  const out: ListFields = { offset: 0, limit: 20, filter: {} };
  for (const [k, v] of Object.entries(body)) {
    if (k === 'offset' || k === 'limit') {
      if (!isUnsignedInteger(v)) throw invalidTypeError(`invalid_index_${k}`, `.${k}`, 'a positive integer', v);
      out[k] = v;
    } else if (k === 'filter') {
      if (v === null) continue;
      if (!isJsonObject(v)) throw invalidTypeError('invalid_index_fields_filter', '.filter', 'an object', v);
      for (const [fk, fv] of Object.entries(v)) {
        const path = `.filter.${fk}`;
        if (!(FILTER_KEYS as readonly string[]).includes(fk)) throw unknownFieldError('invalid_index_fields_filter', '.filter', fk, FILTER_KEYS);
        if (fv === null) continue;
        if (fk === 'attributePatterns') {
          if (!Array.isArray(fv)) throw invalidTypeError(codeOf(fk), path, 'an array', fv);
          fv.forEach((p, i) => {
            if (typeof p !== 'string') throw invalidTypeError(codeOf(fk), `${path}[${i}]`, 'a string', p);
          });
          out.filter.attributePatterns = fv as string[];
        } else {
          if (typeof fv !== 'boolean') throw invalidTypeError(codeOf(fk), path, 'a boolean', fv);
          out.filter[fk as FilterKey] = fv;
        }
      }
    } else {
      throw unknownFieldError('bad_request', '', k, ['offset', 'limit', 'filter']);
    }
  }
  return out;
}

/** `a` covers `a` and everything nested below it (`a.b`). */
function covers(pattern: string, field: string): boolean {
  return pattern === '*' || field === pattern || field.startsWith(`${pattern}.`);
}

/** What the settings make of one field. */
export function fieldView(name: string, s: Settings): FieldView {
  const rule = s.rankingRules.map((r) => /^(.+):(asc|desc)$/.exec(r)).find((m) => m !== null && m[1] === name);
  const match = matchingRule(name, s.filterableAttributes as readonly FilterableRule[]);
  const r = match === null ? null : (s.filterableAttributes[match.index] as FilterableRule);
  const facetSearch = r === null ? false : typeof r === 'string' ? true : r.features?.facetSearch === true;
  const equality = match?.features.equality ?? false;
  const comparison = match?.features.comparison ?? false;
  const localized = (s.localizedAttributes ?? []).find((l) => l.attributePatterns.some((p) => matchPattern(p, name) === PatternMatch.Match));
  return {
    name,
    displayed: { enabled: s.displayedAttributes.some((p) => covers(p, name)) },
    searchable: { enabled: s.searchableAttributes.some((p) => covers(p, name)) },
    sortable: { enabled: s.sortableAttributes.some((p) => covers(p, name)) },
    distinct: { enabled: s.distinctAttribute === name },
    rankingRule: rule === undefined || rule === null ? { enabled: false } : { enabled: true, order: rule[2] as 'asc' | 'desc' },
    filterable: {
      enabled: equality || comparison || facetSearch,
      sortBy: s.faceting.sortFacetValuesBy[name] ?? s.faceting.sortFacetValuesBy['*'] ?? 'alpha',
      facetSearch,
      equality,
      comparison,
    },
    localized: { locales: localized?.locales ?? [] },
  };
}

function keep(f: FieldView, q: ListFields['filter']): boolean {
  if (q.attributePatterns !== undefined) {
    const m = q.attributePatterns.map((p) => matchPattern(p, f.name));
    if (!m.includes(PatternMatch.Match)) return false;
  }
  const checks: [FilterKey, boolean][] = [
    ['displayed', f.displayed.enabled],
    ['searchable', f.searchable.enabled],
    ['sortable', f.sortable.enabled],
    ['distinct', f.distinct.enabled],
    ['rankingRule', f.rankingRule.enabled],
    ['filterable', f.filterable.enabled],
  ];
  return checks.every(([k, v]) => q[k] === undefined || q[k] === v);
}

export function registerFieldRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.post<{ Params: UidParams }>('/indexes/:indexUid/fields', { config: { action: 'fields.post' } }, async (req) => {
    const uid = checkIndexUid(req.params.indexUid);
    const q = parseListFields(jsonBody(req));
    const idx = ctx.registry.require(uid);
    const names = [...idx.fieldDistribution.keys()].sort(compareUids);
    const fields = names.map((n) => fieldView(n, idx.settings)).filter((f) => keep(f, q.filter));
    return { results: fields.slice(q.offset, q.offset + q.limit), offset: q.offset, limit: q.limit, total: fields.length };
  });
}
