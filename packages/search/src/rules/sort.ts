/**
 * `sort` and custom `field:asc|desc` rules: no score. Numbers come before strings in both
 * directions, documents without a value come last; a multi-valued document sorts at its best
 * value (milli `search/new/sort.rs`, `score_details.rs` `compare_sort_values`).
 */

/** A document's sort value for one field: best number and best string for each direction. */
export interface SortValues {
  numMin: number;
  numMax: number;
  strMin: string | undefined;
  strMax: string | undefined;
}

export type SortValue = number | string | null;

/** Negative when `a` ranks before `b`. */
export function compareSortValues(a: SortValue, b: SortValue, ascending: boolean): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const an = typeof a === 'number';
  const bn = typeof b === 'number';
  if (an && !bn) return -1;
  if (!an && bn) return 1;
  const c = a < b ? -1 : a > b ? 1 : 0;
  return ascending ? c : -c;
}

export function sortDetails(order: number, value: SortValue): Record<string, unknown> {
  return { order, value };
}
