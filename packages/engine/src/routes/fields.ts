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
import { compareFieldNames, parseListFields } from '@miroir/protocol';
import type { FieldsFilterKey, FieldView, ListFields, Settings } from '@miroir/protocol';
import type { EngineContext } from '../context.js';
import { checkIndexUid, jsonBody } from '../http.js';

type UidParams = { indexUid: string };

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
  const checks: [FieldsFilterKey, boolean][] = [
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
    const names = [...idx.fieldDistribution.keys()].sort(compareFieldNames);
    const fields = names.map((n) => fieldView(n, idx.settings)).filter((f) => keep(f, q.filter));
    return { results: fields.slice(q.offset, q.offset + q.limit), offset: q.offset, limit: q.limit, total: fields.length };
  });
}
