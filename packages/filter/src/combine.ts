import type { FilterInput } from './parse.js';

/**
 * AND filters together without reparsing or rewriting any of them: the result is the array form
 * (outer AND), so each client string keeps its own text, and errors keep their spans. `null`,
 * `undefined`, blank strings and empty arrays are skipped; a part in array form contributes its
 * elements. Returns null when nothing is left.
 *
 * `andFilters(clientFilter, '_miroir_shard IN [1, 4]')`
 */
export function andFilters(...parts: readonly (FilterInput | null | undefined)[]): (string | string[])[] | null {
  const out: (string | string[])[] = [];
  for (const p of parts) {
    if (p === null || p === undefined) continue;
    if (typeof p === 'string') {
      if (p.trim() !== '') out.push(p);
      continue;
    }
    for (const e of p) out.push(typeof e === 'string' ? e : [...e]);
  }
  return out.length === 0 ? null : out;
}
