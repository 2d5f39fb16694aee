/**
 * One word's posting list: ascending iids, each with the positions where the word occurs
 * (`fid << 16 | wordPosition`, ascending). Stored in growable typed arrays.
 */
export class Posting {
  iids: Int32Array = new Int32Array(4);
  /** `posStart[i]..posStart[i+1]` indexes `pos` for entry i. */
  posStart: Int32Array = new Int32Array(5);
  pos: Uint32Array = new Uint32Array(8);
  /**
   * Per entry, a summary of its positions for cheap ranking bounds:
   * `bestWeight << 16 | minWordPosition` (see `summarize`).
   */
  summary: Uint32Array = new Uint32Array(4);
  length = 0;

  get posLength(): number {
    return this.posStart[this.length];
  }

  /** Index of `iid`, or `-(insertionPoint + 1)`. */
  find(iid: number): number {
    let lo = 0;
    let hi = this.length - 1;
    const a = this.iids;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid];
      if (v < iid) lo = mid + 1;
      else if (v > iid) hi = mid - 1;
      else return mid;
    }
    return -(lo + 1);
  }

  #reserve(entries: number, positions: number): void {
    if (this.length + entries > this.iids.length) {
      const cap = Math.max(this.iids.length * 2, this.length + entries);
      const iids = new Int32Array(cap);
      iids.set(this.iids.subarray(0, this.length));
      this.iids = iids;
      const ps = new Int32Array(cap + 1);
      ps.set(this.posStart.subarray(0, this.length + 1));
      this.posStart = ps;
      const sm = new Uint32Array(cap);
      sm.set(this.summary.subarray(0, this.length));
      this.summary = sm;
    }
    const used = this.posLength;
    if (used + positions > this.pos.length) {
      const pos = new Uint32Array(Math.max(this.pos.length * 2, used + positions));
      pos.set(this.pos.subarray(0, used));
      this.pos = pos;
    }
  }

  /** Add an entry (the iid must not be present). */
  add(iid: number, positions: ArrayLike<number>, summary: number, count = positions.length): void {
    const n = count;
    this.#reserve(1, n);
    const len = this.length;
    if (len === 0 || this.iids[len - 1] < iid) {
      // Common case: append.
      const at = this.posStart[len];
      this.iids[len] = iid;
      this.summary[len] = summary;
      for (let k = 0; k < n; k++) this.pos[at + k] = positions[k];
      this.posStart[len + 1] = at + n;
      this.length = len + 1;
      return;
    }
    const f = this.find(iid);
    if (f >= 0) throw new Error(`iid ${iid} already in posting`);
    const i = -f - 1;
    const at = this.posStart[i];
    const used = this.posLength;
    this.pos.copyWithin(at + n, at, used);
    for (let k = 0; k < n; k++) this.pos[at + k] = positions[k];
    this.iids.copyWithin(i + 1, i, len);
    this.iids[i] = iid;
    this.summary.copyWithin(i + 1, i, len);
    this.summary[i] = summary;
    this.posStart.copyWithin(i + 1, i, len + 1);
    for (let k = i + 1; k <= len + 1; k++) this.posStart[k] += n;
    this.length = len + 1;
  }

  /** Remove the entry of `iid` if present. */
  remove(iid: number): void {
    const i = this.find(iid);
    if (i < 0) return;
    const len = this.length;
    const at = this.posStart[i];
    const n = this.posStart[i + 1] - at;
    const used = this.posLength;
    this.pos.copyWithin(at, at + n, used);
    this.iids.copyWithin(i, i + 1, len);
    this.summary.copyWithin(i, i + 1, len);
    this.posStart.copyWithin(i + 1, i + 2, len + 1);
    for (let k = i + 1; k < len; k++) this.posStart[k] -= n;
    this.length = len - 1;
  }
}

/** Field id of an encoded position. */
export function fidOf(p: number): number {
  return p >>> 16;
}
/** Word position of an encoded position. */
export function wordPosOf(p: number): number {
  return p & 0xffff;
}
export function encodePos(fid: number, pos: number): number {
  return ((fid << 16) | pos) >>> 0;
}

/** Summary bit: the word is the whole content of a one-word field. */
export const SOLE_WORD = 1 << 24;

/**
 * Entry summary: the best field weight (bits 16-23), the lowest word position (bits 0-15) and
 * {@link SOLE_WORD}.
 */
export function summarize(
  positions: ArrayLike<number>,
  weightOf: (fid: number) => number,
  fieldLength: (fid: number) => number,
): number {
  let w = 0xff;
  let p = 0xffff;
  let sole = 0;
  for (let i = 0; i < positions.length; i++) {
    const x = positions[i];
    const fw = Math.min(weightOf(x >>> 16), 0xff);
    if (fw < w) w = fw;
    const wp = x & 0xffff;
    if (wp < p) p = wp;
    if (wp === 0 && fieldLength(x >>> 16) === 1) sole = SOLE_WORD;
  }
  return (sole | (w << 16) | p) >>> 0;
}
