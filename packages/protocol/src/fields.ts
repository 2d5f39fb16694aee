/**
 * The body of `POST /indexes/{uid}/fields` [≥ v1.33]: pagination and a filter over what the
 * settings make of each field. Shared by the engine (which answers it) and the orchestrator (which
 * asks every node for all matching fields and paginates the union itself).
 *
 * @see https://www.meilisearch.com/docs/reference/api/indexes/list-index-fields
 */
import { invalidTypeError, isJsonObject, isUnsignedInteger, unknownFieldError } from './settings-validate.js';

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

/** The paginated answer: `{results, offset, limit, total}`. */
export interface FieldsPage {
  results: FieldView[];
  offset: number;
  limit: number;
  total: number;
}

const FILTER_KEYS = ['attributePatterns', 'displayed', 'searchable', 'sortable', 'distinct', 'rankingRule', 'filterable'] as const;
/** The boolean filters of the route. */
export type FieldsFilterKey = Exclude<(typeof FILTER_KEYS)[number], 'attributePatterns'>;

/** A parsed body (defaults: offset 0, limit 20, no filter). */
export interface ListFields {
  offset: number;
  limit: number;
  filter: { attributePatterns?: string[] } & Partial<Record<FieldsFilterKey, boolean>>;
}

const codeOf = (k: string) => `invalid_index_fields_filter_${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;

/** Parses the body, first error wins, with Meilisearch's codes and messages. */
export function parseListFields(body: unknown): ListFields {
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
          out.filter[fk as FieldsFilterKey] = fv;
        }
      }
    } else {
      throw unknownFieldError('bad_request', '', k, ['offset', 'limit', 'filter']);
    }
  }
  return out;
}

/** Fields in the route's order: by name, byte-wise. */
export function compareFieldNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
