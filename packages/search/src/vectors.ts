/**
 * User-provided embeddings (`_vectors`) and brute-force cosine search over them.
 *
 * Facts from meilisearch (milli `vector/mod.rs`, `vector/parsed_vectors.rs`, hannoy/arroy
 * `distance/cosine.rs`):
 * - a document's `_vectors.<embedder>` is an array of floats, an array of arrays of floats, or
 *   `{embeddings, regenerate}` with either form;
 * - the cosine distance is `(1 − cos) / 2` (0 when a norm is zero) and the shown similarity is
 *   `1 − distance`, so it lies in [0, 1];
 * - a document with several embeddings ranks by its closest one;
 * - an embedder's `distribution: {mean, sigma}` maps similarities affinely onto a gaussian
 *   centered on 0.5 with sigma 0.4, clamped to ]0, 1].
 *
 * Vectors are stored normalized in one contiguous `Float32Array` per embedder (rows of
 * `dimensions` floats), so a search is one pass of dot products.
 */
import { MeiliError, type Embedder } from '@miroir/protocol';

/** Norms at or below this count as zero (f32 epsilon, as the cosine distance does). */
const F32_EPSILON = 1.1920929e-7;

/** Embeddings of one document for one embedder, as parsed from `_vectors`. */
export type Embeddings = number[][];

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/**
 * The embeddings a `_vectors.<embedder>` value holds, or `undefined` when its shape is not one
 * Meilisearch accepts. `null` and `[]` hold none.
 */
export function parseEmbeddings(v: unknown): Embeddings | undefined {
  if (v === null) return [];
  if (Array.isArray(v)) {
    if (v.length === 0) return [];
    if (isNumberArray(v)) return [v];
    if (v.every(isNumberArray)) return v as number[][];
    return undefined;
  }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k !== 'embeddings' && k !== 'regenerate') return undefined;
    if (o.regenerate !== undefined && typeof o.regenerate !== 'boolean') return undefined;
    return o.embeddings === undefined ? [] : parseEmbeddings(o.embeddings);
  }
  return undefined;
}

/** Dimensions an embedder's settings declare (`undefined`: taken from the first vector seen). */
function declaredDimensions(e: Embedder | undefined): number | undefined {
  return typeof e?.dimensions === 'number' ? e.dimensions : undefined;
}

/**
 * Check a document's `_vectors` against the index's embedders, with Meilisearch's codes
 * (`invalid_vectors_type`, `invalid_vector_dimensions`). Messages follow milli's
 * `UserError::InvalidVectorsMapType` and `InvalidIndexingVectorDimensions`.
 */
export function validateVectors(doc: Record<string, unknown>, embedders: Readonly<Record<string, Embedder>>, documentId: string): void {
  const raw = doc._vectors;
  if (raw === undefined || raw === null) return;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MeiliError(
      'invalid_vectors_type',
      `The \`_vectors\` field in the document with id: \`${documentId}\` is not an object. Was expecting an object with a key for each embedder with manually provided vectors, but instead got \`${JSON.stringify(raw)}\``,
    );
  }
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const embs = parseEmbeddings(value);
    if (embs === undefined) {
      throw new MeiliError(
        'invalid_vectors_type',
        `Invalid value type at \`._vectors.${name}\` in document \`${documentId}\`: expected an array of floats, an array of arrays of floats, or an object with \`embeddings\` and \`regenerate\`, but found \`${JSON.stringify(value)}\``,
      );
    }
    const expected = declaredDimensions(embedders[name]);
    if (expected === undefined) continue;
    embs.forEach((e, i) => {
      if (e.length !== expected) {
        throw new MeiliError(
          'invalid_vector_dimensions',
          `Invalid vector dimensions in document with id \`${documentId}\` in \`._vectors.${name}\`.\n  - note: embedding #${i} has dimensions ${e.length}\n  - note: embedder \`${name}\` requires ${expected}`,
        );
      }
    });
  }
}

/** Similarity (1 − cosine distance) of two vectors' cosine, as milli reports it. */
export function similarityOfCosine(cos: number): number {
  const c = cos > 1 ? 1 : cos < -1 ? -1 : cos;
  // Computed in f32 by milli: the reported value is an f32 widened to f64.
  return Math.fround(1 - Math.fround((1 - c) / 2));
}

/** milli `DistributionShift::shift`. */
export function shiftScore(score: number, mean: number, sigma: number): number {
  const factor = 0.4 / sigma;
  const offset = 0.5 - factor * mean;
  const s = Math.fround(factor * score + offset);
  if (s <= 0) return F32_EPSILON;
  return s > 1 ? 1 : s;
}

/** The normalized rows of one embedder. */
class EmbedderRows {
  dimensions: number;
  data = new Float32Array(0);
  /** Per row: its iid, or -1 once the document is removed. */
  owner = new Int32Array(0);
  /** Per row: 1 when the stored vector had a zero norm (similarity 1 with anything). */
  zero = new Uint8Array(0);
  rows = 0;
  live = 0;
  rowsOf = new Map<number, number[]>();

  constructor(dimensions: number) {
    this.dimensions = dimensions;
  }

  #grow(need: number): void {
    if (need <= this.owner.length) return;
    const cap = Math.max(need, this.owner.length * 2, 64);
    const data = new Float32Array(cap * this.dimensions);
    data.set(this.data);
    this.data = data;
    const owner = new Int32Array(cap).fill(-1);
    owner.set(this.owner);
    this.owner = owner;
    const zero = new Uint8Array(cap);
    zero.set(this.zero);
    this.zero = zero;
  }

  add(iid: number, vectors: Embeddings): void {
    const d = this.dimensions;
    this.#grow(this.rows + vectors.length);
    const list: number[] = [];
    for (const v of vectors) {
      const row = this.rows++;
      let norm = 0;
      for (let i = 0; i < d; i++) norm += v[i] * v[i];
      norm = Math.sqrt(norm);
      const base = row * d;
      if (norm <= F32_EPSILON) {
        this.zero[row] = 1;
      } else {
        for (let i = 0; i < d; i++) this.data[base + i] = v[i] / norm;
      }
      this.owner[row] = iid;
      list.push(row);
    }
    this.live += list.length;
    this.rowsOf.set(iid, list);
  }

  remove(iid: number): void {
    const list = this.rowsOf.get(iid);
    if (list === undefined) return;
    for (const row of list) this.owner[row] = -1;
    this.live -= list.length;
    this.rowsOf.delete(iid);
    // Rows of removed documents are reclaimed once they outnumber live ones.
    if (this.rows > 1024 && this.live * 2 < this.rows) this.#compact();
  }

  #compact(): void {
    const d = this.dimensions;
    let w = 0;
    const rowsOf = new Map<number, number[]>();
    for (let r = 0; r < this.rows; r++) {
      const iid = this.owner[r];
      if (iid < 0) continue;
      if (w !== r) {
        this.data.copyWithin(w * d, r * d, (r + 1) * d);
        this.owner[w] = iid;
        this.zero[w] = this.zero[r];
      }
      let l = rowsOf.get(iid);
      if (l === undefined) rowsOf.set(iid, (l = []));
      l.push(w++);
    }
    this.owner.fill(-1, w);
    this.zero.fill(0, w);
    this.data.fill(0, w * d);
    this.rows = w;
    this.rowsOf = rowsOf;
  }

  /** Best similarity per iid into `out` (NaN: no embedding), for the iids `keep` accepts. */
  scores(query: Float32Array, queryZero: boolean, out: Float64Array, keep: ((iid: number) => boolean) | null): void {
    const d = this.dimensions;
    const data = this.data;
    for (let r = 0; r < this.rows; r++) {
      const iid = this.owner[r];
      if (iid < 0 || (keep !== null && !keep(iid))) continue;
      let s: number;
      if (queryZero || this.zero[r] === 1) {
        s = 1;
      } else {
        // Four independent sums: fewer loop-carried dependencies than one running sum.
        const base = r * d;
        let d0 = 0;
        let d1 = 0;
        let d2 = 0;
        let d3 = 0;
        let i = 0;
        for (; i + 3 < d; i += 4) {
          d0 += data[base + i] * query[i];
          d1 += data[base + i + 1] * query[i + 1];
          d2 += data[base + i + 2] * query[i + 2];
          d3 += data[base + i + 3] * query[i + 3];
        }
        for (; i < d; i++) d0 += data[base + i] * query[i];
        s = similarityOfCosine(d0 + d1 + d2 + d3);
      }
      const prev = out[iid];
      if (Number.isNaN(prev) || s > prev) out[iid] = s;
    }
  }

  /** The stored (normalized) first embedding of a document. */
  firstOf(iid: number): Float32Array | undefined {
    const list = this.rowsOf.get(iid);
    if (list === undefined || list.length === 0) return undefined;
    const r = list[0];
    return this.data.slice(r * this.dimensions, (r + 1) * this.dimensions);
  }

  zeroOf(iid: number): boolean {
    const list = this.rowsOf.get(iid);
    return list !== undefined && list.length > 0 && this.zero[list[0]] === 1;
  }
}

/** Embeddings of every document, per embedder configured in the settings. */
export class VectorStore {
  #byEmbedder = new Map<string, EmbedderRows>();
  #embedders: Readonly<Record<string, Embedder>>;

  constructor(embedders: Readonly<Record<string, Embedder>>) {
    this.#embedders = embedders;
  }

  /** Store the embeddings of a document (its `_vectors` value); invalid shapes are skipped. */
  add(iid: number, raw: unknown): void {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return;
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
      if (!Object.hasOwn(this.#embedders, name)) continue;
      const embs = parseEmbeddings(value);
      if (embs === undefined || embs.length === 0) continue;
      let rows = this.#byEmbedder.get(name);
      if (rows === undefined) {
        const dims = declaredDimensions(this.#embedders[name]) ?? embs[0].length;
        this.#byEmbedder.set(name, (rows = new EmbedderRows(dims)));
      }
      const ok = embs.filter((e) => e.length === rows.dimensions);
      if (ok.length > 0) rows.add(iid, ok);
    }
  }

  remove(iid: number): void {
    for (const rows of this.#byEmbedder.values()) rows.remove(iid);
  }

  /** Dimensions of an embedder: declared, else those of the stored vectors. */
  dimensions(embedder: string): number | undefined {
    return declaredDimensions(this.#embedders[embedder]) ?? this.#byEmbedder.get(embedder)?.dimensions;
  }

  /** Whether the document has an embedding for the embedder. */
  has(embedder: string, iid: number): boolean {
    return this.#byEmbedder.get(embedder)?.rowsOf.has(iid) === true;
  }

  /**
   * Similarity of every embedded document to `query` (an array indexed by iid, NaN for none);
   * the embedder's `distribution` is applied.
   */
  similarities(embedder: string, query: ArrayLike<number>, size: number, keep: ((iid: number) => boolean) | null): Float64Array {
    const out = new Float64Array(size).fill(NaN);
    const rows = this.#byEmbedder.get(embedder);
    if (rows === undefined) return out;
    const q = new Float32Array(rows.dimensions);
    let norm = 0;
    for (let i = 0; i < q.length; i++) norm += query[i] * query[i];
    norm = Math.sqrt(norm);
    const zero = norm <= F32_EPSILON;
    if (!zero) for (let i = 0; i < q.length; i++) q[i] = query[i] / norm;
    rows.scores(q, zero, out, keep);
    this.#shift(embedder, out);
    return out;
  }

  /** Similarities to the stored embedding of document `iid` (for `/similar`), or undefined. */
  similaritiesTo(embedder: string, iid: number, size: number, keep: ((iid: number) => boolean) | null): Float64Array | undefined {
    const rows = this.#byEmbedder.get(embedder);
    const q = rows?.firstOf(iid);
    if (rows === undefined || q === undefined) return undefined;
    const out = new Float64Array(size).fill(NaN);
    rows.scores(q, rows.zeroOf(iid), out, keep);
    this.#shift(embedder, out);
    return out;
  }

  #shift(embedder: string, out: Float64Array): void {
    const dist = this.#embedders[embedder]?.distribution as { mean?: unknown; sigma?: unknown } | undefined;
    if (dist === undefined || typeof dist.mean !== 'number' || typeof dist.sigma !== 'number' || dist.sigma <= 0) return;
    for (let i = 0; i < out.length; i++) if (!Number.isNaN(out[i])) out[i] = shiftScore(out[i], dist.mean, dist.sigma);
  }
}
