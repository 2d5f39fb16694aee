/**
 * Filter evaluation by iid. Conditions on one attribute (`=`, `!=`, `<`…, `TO`, `IN`) are
 * decided once per distinct facet value of that attribute (by running the filter package's own
 * predicate on a one-field document), then looked up per document; documents holding several
 * values, and every other kind of condition, fall back to the document predicate. The results
 * are those of `compileFilter` on the document, only cheaper.
 */
import { compileFilter, type DocumentPredicate, type FilterNode } from '@miroir/filter';
import type { FacetField } from './facets.js';

export type IidPredicate = (iid: number) => boolean;

/** What the evaluator needs from the index. */
export interface FilterSource {
  facetField(attribute: string): FacetField | undefined;
  /** The filterable projection of a document. */
  filterDoc(iid: number): Record<string, unknown>;
}

/** Value id per iid for single-valued documents; -1 none; -2 several values. */
export const NO_VALUE = -1;
export const MANY_VALUES = -2;

export function compileIidFilter(node: FilterNode, src: FilterSource): IidPredicate {
  switch (node.type) {
    case 'and': {
      const parts = node.children.map((c) => compileIidFilter(c, src));
      return (iid) => {
        for (const p of parts) if (!p(iid)) return false;
        return true;
      };
    }
    case 'or': {
      const parts = node.children.map((c) => compileIidFilter(c, src));
      return (iid) => {
        for (const p of parts) if (p(iid)) return true;
        return false;
      };
    }
    case 'not': {
      const inner = compileIidFilter(node.child, src);
      return (iid) => !inner(iid);
    }
    case 'comparison':
    case 'range':
    case 'in': {
      const docPred = compileFilter(node);
      const f = src.facetField(node.attribute.value);
      const fallback: IidPredicate = (iid) => docPred(src.filterDoc(iid));
      if (f === undefined) return fallback;
      return valueTable(node.attribute.value, f, docPred, fallback);
    }
    default: {
      const docPred = compileFilter(node);
      return (iid) => docPred(src.filterDoc(iid));
    }
  }
}

function valueTable(attribute: string, f: FacetField, docPred: DocumentPredicate, fallback: IidPredicate): IidPredicate {
  const accept = new Uint8Array(f.size);
  for (let v = 0; v < f.size; v++) {
    const value = Number.isNaN(f.num[v]) ? f.display[v] : f.num[v];
    accept[v] = docPred({ [attribute]: value }) ? 1 : 0;
  }
  const missing = docPred({});
  const single = f.single;
  return (iid) => {
    const v = iid < single.length ? single[iid] : NO_VALUE;
    if (v >= 0) return accept[v] === 1;
    if (v === NO_VALUE) return missing;
    return fallback(iid);
  };
}
