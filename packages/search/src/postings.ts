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

  /**
   * Append entries of ascending iids, all greater than the last one (bulk path of
   * `PendingPostings.flush`): `count` entries from index `from` of the given parallel arrays.
   */
  appendMany(
    iids: Int32Array,
    summaries: Uint32Array,
    posStart: Int32Array,
    pos: Uint32Array,
    order: Int32Array,
    from: number,
    count: number,
  ): void {
    let total = 0;
    for (let k = 0; k < count; k++) {
      const e = order[from + k];
      total += posStart[e + 1] - posStart[e];
    }
    this.#reserve(count, total);
    let len = this.length;
    let at = this.posStart[len];
    for (let k = 0; k < count; k++) {
      const e = order[from + k];
      this.iids[len] = iids[e];
      this.summary[len] = summaries[e];
      const s = posStart[e];
      const n = posStart[e + 1] - s;
      this.pos.set(pos.subarray(s, s + n), at);
      at += n;
      len++;
      this.posStart[len] = at;
    }
    this.length = len;
  }

  /** Last iid, or -1 when empty. */
  get lastIid(): number {
    return this.length === 0 ? -1 : this.iids[this.length - 1];
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

/**
 * Entries added since the last flush, kept in one append-only buffer and moved into the
 * per-word postings in bulk (grouped by word with a counting sort): far fewer cache misses
 * than appending to thousands of postings document by document.
 */
export class PendingPostings {
  wid = new Int32Array(4096);
  iid = new Int32Array(4096);
  summary = new Uint32Array(4096);
  posStart = new Int32Array(4097);
  pos = new Uint32Array(16384);
  length = 0;

  get posLength(): number {
    return this.posStart[this.length];
  }

  push(wid: number, iid: number, summary: number, positions: Uint32Array, n: number): void {
    if (this.length === this.wid.length) {
      const cap = this.wid.length * 2;
      const grow32 = (a: Int32Array, c: number): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(c);
        b.set(a);
        return b;
      };
      this.wid = grow32(this.wid, cap);
      this.iid = grow32(this.iid, cap);
      this.posStart = grow32(this.posStart, cap + 1);
      const sm = new Uint32Array(cap);
      sm.set(this.summary);
      this.summary = sm;
    }
    const at = this.posLength;
    if (at + n > this.pos.length) {
      const p = new Uint32Array(Math.max(this.pos.length * 2, at + n));
      p.set(this.pos);
      this.pos = p;
    }
    const e = this.length;
    this.wid[e] = wid;
    this.iid[e] = iid;
    this.summary[e] = summary;
    this.pos.set(positions.subarray(0, n), at);
    this.posStart[e + 1] = at + n;
    this.length = e + 1;
  }

  /** Move every pending entry into `postings` (created on demand) and empty the buffer. */
  flush(postings: (Posting | undefined)[], vocabularySize: number): void {
    const n = this.length;
    if (n === 0) return;
    if (n * 8 < vocabularySize) {
      // Few entries (e.g. a single document before a removal): no sort needed.
      for (let e = 0; e < n; e++) {
        let p = postings[this.wid[e]];
        if (p === undefined) postings[this.wid[e]] = p = new Posting();
        p.add(this.iid[e], this.pos.subarray(this.posStart[e], this.posStart[e + 1]), this.summary[e]);
      }
      this.length = 0;
      return;
    }
    // Counting sort by word id; stable, so each word's entries stay in insertion order.
    const counts = new Int32Array(vocabularySize + 1);
    for (let e = 0; e < n; e++) counts[this.wid[e] + 1]++;
    for (let w = 0; w < vocabularySize; w++) counts[w + 1] += counts[w];
    const order = new Int32Array(n);
    const next = counts.slice(0, vocabularySize);
    for (let e = 0; e < n; e++) order[next[this.wid[e]]++] = e;
    for (let w = 0; w < vocabularySize; w++) {
      const from = counts[w];
      const count = counts[w + 1] - from;
      if (count === 0) continue;
      let p = postings[w];
      if (p === undefined) postings[w] = p = new Posting();
      // Bulk append when iids keep increasing; entry by entry otherwise (re-added documents).
      let ascending = this.iid[order[from]] > p.lastIid;
      for (let k = 1; k < count && ascending; k++) ascending = this.iid[order[from + k]] > this.iid[order[from + k - 1]];
      if (ascending) {
        p.appendMany(this.iid, this.summary, this.posStart, this.pos, order, from, count);
      } else {
        for (let k = 0; k < count; k++) {
          const e = order[from + k];
          p.add(this.iid[e], this.pos.subarray(this.posStart[e], this.posStart[e + 1]), this.summary[e]);
        }
      }
    }
    this.length = 0;
  }
}
