/**
 * Sort values of one sortable field, per iid, in typed arrays (few heap objects).
 */
import type { SortValue, SortValues } from './rules/sort.js';

/** Per-sortable-field values by iid. */
export class SortStore {
  /** Lowest/highest number per iid (NaN: none). Typed arrays keep the heap small. */
  numMin = new Float64Array(0);
  numMax = new Float64Array(0);
  /** Lowest/highest normalized string per iid, only for documents with string values. */
  strMin: (string | undefined)[] = [];
  strMax: (string | undefined)[] = [];

  set(iid: number, v: SortValues): void {
    if (iid >= this.numMin.length) {
      const cap = Math.max(iid + 1, this.numMin.length * 2, 1024);
      const grow = (a: Float64Array): Float64Array<ArrayBuffer> => {
        const b = new Float64Array(cap).fill(NaN);
        b.set(a);
        return b;
      };
      this.numMin = grow(this.numMin);
      this.numMax = grow(this.numMax);
    }
    this.numMin[iid] = v.numMin;
    this.numMax[iid] = v.numMax;
    if (v.strMin !== undefined || this.strMin[iid] !== undefined) {
      this.strMin[iid] = v.strMin;
      this.strMax[iid] = v.strMax;
    }
  }

  clear(iid: number): void {
    if (iid < this.numMin.length) {
      this.numMin[iid] = NaN;
      this.numMax[iid] = NaN;
    }
    if (this.strMin[iid] !== undefined) {
      this.strMin[iid] = undefined;
      this.strMax[iid] = undefined;
    }
  }

  /** The value `iid` sorts by: its best number for the direction, else its best string, else null. */
  value(iid: number, ascending: boolean): SortValue {
    if (iid < this.numMin.length) {
      const n = ascending ? this.numMin[iid] : this.numMax[iid];
      if (!Number.isNaN(n)) return n;
    }
    return (ascending ? this.strMin[iid] : this.strMax[iid]) ?? null;
  }
}

