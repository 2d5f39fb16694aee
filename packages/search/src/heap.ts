/**
 * Binary heap and top-k selection used by the bucket sort.
 */

/** A binary heap; `cmp(a, b) > 0` puts `a` above `b`. */
export class BinaryHeap<T> {
  #a: T[] = [];
  readonly #cmp: (a: T, b: T) => number;
  constructor(cmp: (a: T, b: T) => number) {
    this.#cmp = cmp;
  }
  get size(): number {
    return this.#a.length;
  }
  peek(): T | undefined {
    return this.#a[0];
  }
  items(): T[] {
    return [...this.#a];
  }
  heapify(items: T[]): void {
    this.#a = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }
  push(x: T): void {
    const a = this.#a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.#cmp(a[i], a[p]) <= 0) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.#a;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      this.#down(0);
    }
    return top;
  }
  #down(i: number): void {
    const a = this.#a;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.#cmp(a[l], a[m]) > 0) m = l;
      if (r < a.length && this.#cmp(a[r], a[m]) > 0) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m], a[i]];
      i = m;
    }
  }
}

/** The best `k` items by `cmp`, sorted (bounded binary heap, worst on top). */
export function topK<T>(items: readonly T[], k: number, cmp: (a: T, b: T) => number): T[] {
  if (k <= 0) return [];
  const heap: T[] = [];
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (cmp(heap[i], heap[p]) <= 0) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && cmp(heap[l], heap[m]) > 0) m = l;
      if (r < heap.length && cmp(heap[r], heap[m]) > 0) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (const x of items) {
    if (heap.length < k) {
      heap.push(x);
      up(heap.length - 1);
    } else if (cmp(x, heap[0]) < 0) {
      heap[0] = x;
      down(0);
    }
  }
  return heap.sort(cmp);
}

