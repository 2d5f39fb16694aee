/**
 * Facet values of the faceted fields (filterable attributes and the distinct attribute):
 * value tables per field and, per document, the (field, value) pairs it holds. Used for
 * `facetDistribution`, `facetStats`, facet search and distinct.
 */
import { normalizeFacet } from '@miroir/filter';

/** One field's distinct values. Numbers and strings are separate values, as in milli. */
export class FacetField {
  readonly name: string;
  /** Position in the index's facet field list. */
  readonly index: number;
  readonly #ids = new Map<string, number>();
  /** Display form (first original seen for strings; the number as text for numbers). */
  readonly display: string[] = [];
  /** Normalized form, for alphabetical order and facet search. */
  readonly norm: string[] = [];
  /** Numeric value, or NaN for string values. */
  readonly num: number[] = [];
  /** Documents holding each value. */
  readonly docCount: number[] = [];
  /** Per iid: the value id of a single-valued document, -1 without value, -2 with several. */
  single: Int32Array = new Int32Array(0).fill(-1);

  /** Record that `iid` holds value `vid` (called once per distinct value of the document). */
  setDocValue(iid: number, vid: number): void {
    if (iid >= this.single.length) {
      const grown = new Int32Array(Math.max(iid + 1, this.single.length * 2, 1024)).fill(-1);
      grown.set(this.single);
      this.single = grown;
    }
    this.single[iid] = this.single[iid] === -1 ? vid : -2;
  }

  clearDoc(iid: number): void {
    if (iid < this.single.length) this.single[iid] = -1;
  }

  constructor(name: string, index: number) {
    this.name = name;
    this.index = index;
  }

  valueId(v: string | number | boolean): number {
    const isNum = typeof v === 'number';
    const norm = isNum ? '' : normalizeFacet(String(v));
    const key = isNum ? `n:${v}` : `s:${norm}`;
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.display.length;
      this.#ids.set(key, id);
      this.display.push(isNum ? String(v) : String(v).trim());
      this.norm.push(norm);
      this.num.push(isNum ? (v as number) : NaN);
      this.docCount.push(0);
    }
    return id;
  }

  get size(): number {
    return this.display.length;
  }

  #alpha: Int32Array | null = null;

  /** Value ids in `alpha` order (cached until a new value appears). */
  alphaOrder(): Int32Array {
    if (this.#alpha === null || this.#alpha.length !== this.size) {
      const ids = Array.from({ length: this.size }, (_, i) => i).sort((a, b) => alphaCompare(this, a, b));
      this.#alpha = Int32Array.from(ids);
    }
    return this.#alpha;
  }
}

/** Value order for `alpha`: numbers ascending first, then strings by normalized form. */
export function alphaCompare(f: FacetField, a: number, b: number): number {
  const na = f.num[a];
  const nb = f.num[b];
  const aNum = !Number.isNaN(na);
  const bNum = !Number.isNaN(nb);
  if (aNum && bNum) return na - nb;
  if (aNum) return -1;
  if (bNum) return 1;
  const sa = f.norm[a];
  const sb = f.norm[b];
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * Order the values having a count by `alpha` or by decreasing `count` (ties alphabetical), keep
 * `max`. `counts` is indexed by value id.
 */
export function orderValues(f: FacetField, counts: Int32Array, by: 'alpha' | 'count', max: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const alpha = f.alphaOrder();
  if (by === 'alpha') {
    for (let i = 0; i < alpha.length && out.length < max; i++) {
      const id = alpha[i];
      if (counts[id] > 0) out.push([id, counts[id]]);
    }
    return out;
  }
  // Stable by alphabetical rank, then by count.
  for (let i = 0; i < alpha.length; i++) if (counts[alpha[i]] > 0) out.push([alpha[i], counts[alpha[i]]]);
  return out.map((e, rank) => [e, rank] as const).sort((x, y) => y[0][1] - x[0][1] || x[1] - y[1]).slice(0, max).map((x) => x[0]);
}
