/**
 * `POST /indexes/{uid}/fields` over a sharded index: each node lists the fields its shards have
 * seen; the index's fields are the union of a covering set's lists, reserved fields hidden, sorted
 * and paginated as one node paginates them.
 */
import { compareFieldNames, type FieldsPage, type FieldView } from '@miroir/protocol';
import { isReservedField } from './documents.js';

/**
 * Merges the nodes' complete lists (each asked for offset 0 and every field). A field's view
 * depends on the index settings only, which every node holds alike: the first answer wins.
 */
export function mergeFields(lists: readonly (readonly FieldView[])[], offset: number, limit: number): FieldsPage {
  const byName = new Map<string, FieldView>();
  for (const list of lists) {
    for (const f of list) if (!isReservedField(f.name) && !byName.has(f.name)) byName.set(f.name, f);
  }
  const all = [...byName.values()].sort((a, b) => compareFieldNames(a.name, b.name));
  return { results: all.slice(offset, offset + limit), offset, limit, total: all.length };
}
