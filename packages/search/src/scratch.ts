/**
 * Per-search working memory, reused across searches so the hot path allocates little.
 */
import type { DocView } from './rules/types.js';

/** Meilisearch limits a query to its first 10 words. */
export const MAX_QUERY_WORDS = 10;

/** Scratch arrays reused across searches (indexed by iid, stamped by generation). */
export class Scratch {
  gen = 0;
  stamp: Int32Array[] = [];
  typo: Uint8Array[] = [];
  head: Int32Array[] = [];
  /** Per term and iid: best field weight, lowest word position, exact word present (bounds). */
  weight: Uint8Array[] = [];
  minPos: Uint16Array[] = [];
  exact: Uint8Array[] = [];
  /** Per term and iid: the exact query word occurs at a field's first position. */
  exact0: Uint8Array[] = [];
  /** Per term and iid: the exact query word is the whole content of a field. */
  exact1: Uint8Array[] = [];
  /** Reused per-group evaluation buffers. */
  f64 = new Float64Array(0);
  /** Reused candidate buffers: iids, their words stage, group order, optimistic keys. */
  cand = new Int32Array(0);
  candStage = new Int8Array(0);
  groupOrder = new Int32Array(0);
  opt = new Float64Array(0);
  byOpt = new Int32Array(0);

  #placed = new Int32Array(0);

  /** A second index buffer of at least `n` entries. */
  groupOrder2(n: number): Int32Array {
    if (this.#placed.length < n) this.#placed = new Int32Array(Math.max(n, this.#placed.length * 2));
    return this.#placed;
  }

  ensureCandidates(n: number): void {
    if (this.cand.length >= n) return;
    const cap = Math.max(n, this.cand.length * 2, 1024);
    this.cand = new Int32Array(cap);
    this.candStage = new Int8Array(cap);
    this.groupOrder = new Int32Array(cap);
    this.opt = new Float64Array(cap);
    this.byOpt = new Int32Array(cap);
  }
  nodeDeriv = new Int32Array(1024);
  nodeEntry = new Int32Array(1024);
  nodeNext = new Int32Array(1024);
  nodes = 0;
  capacity = 0;

  ensure(capacity: number, terms: number): void {
    if (capacity > this.capacity) {
      this.capacity = Math.max(capacity, this.capacity * 2, 1024);
      this.stamp = [];
      this.typo = [];
      this.head = [];
      this.weight = [];
      this.minPos = [];
      this.exact = [];
      this.exact0 = [];
      this.exact1 = [];
    }
    while (this.stamp.length < terms) {
      this.stamp.push(new Int32Array(this.capacity));
      this.typo.push(new Uint8Array(this.capacity));
      this.head.push(new Int32Array(this.capacity));
      this.weight.push(new Uint8Array(this.capacity));
      this.minPos.push(new Uint16Array(this.capacity));
      this.exact.push(new Uint8Array(this.capacity));
      this.exact0.push(new Uint8Array(this.capacity));
      this.exact1.push(new Uint8Array(this.capacity));
    }
  }

  #view: DocView = {
    iid: 0,
    start: new Int32Array(MAX_QUERY_WORDS + 1),
    pos: new Uint32Array(256),
    typos: new Uint8Array(256),
    exact: new Uint8Array(256),
    minTypo: new Uint8Array(MAX_QUERY_WORDS),
  };

  /** The reused document view (occurrence buffers grow on demand). */
  view(_terms: number): DocView {
    return this.#view;
  }

  growView(): void {
    const v = this.#view;
    const n = v.pos.length * 2;
    const pos = new Uint32Array(n);
    pos.set(v.pos);
    const typos = new Uint8Array(n);
    typos.set(v.typos);
    const exact = new Uint8Array(n);
    exact.set(v.exact);
    v.pos = pos;
    v.typos = typos;
    v.exact = exact;
  }

  /** Make room for `total` nodes. */
  reserveNodes(total: number): void {
    if (total <= this.nodeDeriv.length) return;
    let cap = this.nodeDeriv.length;
    while (cap < total) cap *= 2;
    const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(cap);
      b.set(a.subarray(0, this.nodes));
      return b;
    };
    this.nodeDeriv = grow(this.nodeDeriv);
    this.nodeEntry = grow(this.nodeEntry);
    this.nodeNext = grow(this.nodeNext);
  }
}

