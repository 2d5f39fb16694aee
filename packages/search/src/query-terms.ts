/**
 * Query items → ranked terms and their derivations, as milli's query terms
 * (`search/new/query_term/{parse_query,compute_derivations}.rs`):
 * - a word derives to itself, its typo and prefix derivations (vocabulary walk), its synonyms
 *   (one word or a phrase, 0 typos) and its best split into two consecutive words (1 typo; the
 *   split whose pair occurs in most documents, `split_best_frequency`);
 * - a phrase derives only to its consecutive occurrences (0 typos, exact);
 * - 2- and 3-grams of consecutive query words derive to the concatenated word (typo allowance
 *   of the concatenation minus n − 1, prefix when the last word is) and to the synonyms of the
 *   word sequence; a document matching an n-gram matches all its words, at a base cost of
 *   n − 1 typos plus the derivation's own (the typo rule's maximum counts the same way, see
 *   `rules/typo.ts`).
 * Multi-word derivations are built as postings at query time (`phrasePosting`).
 */
import { Posting, SOLE_WORD } from './postings.js';
import type { ParsedQuery } from './query-parse.js';
import type { Term } from './rules/types.js';
import type { Derivation, Vocabulary } from './vocabulary.js';

/** A derivation whose documents come from a posting built at query time. */
export interface QueryDerivation extends Derivation {
  /** Postings of a multi-word derivation (then `wordId` is -1). */
  posting?: Posting;
  /** Normalized words to highlight for a multi-word derivation. */
  words?: readonly string[];
  /** Edits in the matched word itself when `typos` also holds an n-gram's base cost. */
  edits?: number;
}

export interface PreparedQuery {
  terms: Term[];
  derivations: QueryDerivation[][];
  /** Word ids of negated words (`-word`): documents containing one are excluded. */
  excluded: number[];
  /** Postings of negated phrases (`-"…"`): documents in one are excluded. */
  excludedPostings: Posting[];
}

/** What building terms needs from the index. */
export interface TermSource {
  vocab: Vocabulary;
  posting(wordId: number): Posting | undefined;
  /** Typo allowance of a word (settings: enabled, sizes, disableOnWords, disableOnNumbers). */
  allowance(word: string): number;
  /** Synonyms of a normalized word sequence (words joined by one space), each as words. */
  synonyms(key: string): ReadonlyArray<readonly string[]> | undefined;
  /** Field weight (searchable rank) of a fid, for posting summaries. */
  fidWeight(fid: number): number;
  /** Word count of a field of a document. */
  fieldLength(iid: number, fid: number): number;
  /** Cache of split results per word (cleared by the index on any change). */
  splitCache: Map<string, { words: [string, string]; posting: Posting } | null>;
}

const MAX_WORD_POSITION = 0xffff;

function hasPosition(p: Posting, entry: number, want: number): boolean {
  let lo = p.posStart[entry];
  let hi = p.posStart[entry + 1] - 1;
  const a = p.pos;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid];
    if (v < want) lo = mid + 1;
    else if (v > want) hi = mid - 1;
    else return true;
  }
  return false;
}

/** First index ≥ `from` whose iid is ≥ `iid` (galloping: cursors only move forward). */
function seek(p: Posting, from: number, iid: number): number {
  const a = p.iids;
  const n = p.length;
  if (from >= n || a[from] >= iid) return from;
  let step = 1;
  let lo = from;
  let hi = from + 1;
  while (hi < n && a[hi] < iid) {
    lo = hi;
    step *= 2;
    hi = from + step;
  }
  if (hi > n) hi = n;
  // a[lo] < iid; answer in (lo, hi].
  lo++;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < iid) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Visit the documents where `words` occur consecutively in one attribute (`null`: any word),
 * with the positions of the phrase's first word; returns the document count. Visits nothing
 * when a word is not in the index.
 */
function scanPhrase(
  src: TermSource,
  words: ReadonlyArray<string | null>,
  visit: ((iid: number, found: readonly number[], span: number) => void) | null,
): number {
  const parts: Array<{ offset: number; p: Posting }> = [];
  for (let k = 0; k < words.length; k++) {
    const w = words[k];
    if (w === null) continue;
    const id = src.vocab.id(w);
    const p = id === undefined ? undefined : src.posting(id);
    if (p === undefined || p.length === 0) return 0;
    parts.push({ offset: k, p });
  }
  if (parts.length === 0) return 0;
  // Drive by the rarest word; the others follow with forward-only cursors.
  let driver = 0;
  for (let k = 1; k < parts.length; k++) if (parts[k].p.length < parts[driver].p.length) driver = k;
  const first = parts[0];
  const span = words.length - first.offset;
  const D = parts[driver].p;
  const entries = new Int32Array(parts.length);
  const cursors = new Int32Array(parts.length);
  const found: number[] = [];
  let count = 0;
  for (let e = 0; e < D.length; e++) {
    const iid = D.iids[e];
    let all = true;
    for (let k = 0; k < parts.length && all; k++) {
      if (k === driver) {
        entries[k] = e;
        continue;
      }
      const p = parts[k].p;
      const c = seek(p, cursors[k], iid);
      cursors[k] = c;
      entries[k] = c;
      all = c < p.length && p.iids[c] === iid;
    }
    if (!all) continue;
    found.length = 0;
    const fp = first.p;
    for (let x = fp.posStart[entries[0]]; x < fp.posStart[entries[0] + 1]; x++) {
      const start = fp.pos[x];
      if ((start & 0xffff) + span - 1 > MAX_WORD_POSITION) continue;
      let ok = true;
      for (let k = 1; k < parts.length && ok; k++) ok = hasPosition(parts[k].p, entries[k], start + parts[k].offset - first.offset);
      if (ok) found.push(start);
    }
    if (found.length === 0) continue;
    count++;
    if (visit !== null) visit(iid, found, span);
  }
  return count;
}

/**
 * Documents where `words` occur consecutively in one attribute (`null`: any word), with the
 * position of the phrase's first word. Empty when a word is not in the index.
 */
export function phrasePosting(src: TermSource, words: ReadonlyArray<string | null>): Posting {
  const out = new Posting();
  scanPhrase(src, words, (iid, found, span) => {
    let w = 0xff;
    let minPos = 0xffff;
    let sole = 0;
    for (const x of found) {
      const fid = x >>> 16;
      w = Math.min(w, src.fidWeight(fid));
      minPos = Math.min(minPos, x & 0xffff);
      if ((x & 0xffff) === 0 && src.fieldLength(iid, fid) === span) sole = SOLE_WORD;
    }
    out.add(iid, found, (sole | (Math.max(0, Math.min(w, 0xff)) << 16) | minPos) >>> 0);
  });
  return out;
}

/** Words whose best split is remembered between index changes. */
const SPLIT_CACHE_MAX = 4096;

/**
 * The split of `word` into two consecutive indexed words found in most documents (ties: the
 * first split point). Candidates are counted without building postings, the largest possible
 * counts first, stopping once no remaining split can beat the best.
 */
function bestSplit(src: TermSource, word: string): { words: [string, string]; posting: Posting } | null {
  const cached = src.splitCache.get(word);
  if (cached !== undefined) return cached;
  const chars = [...word];
  const candidates: Array<{ words: [string, string]; bound: number; at: number }> = [];
  for (let i = 1; i < chars.length; i++) {
    const left = chars.slice(0, i).join('');
    const right = chars.slice(i).join('');
    const l = src.vocab.id(left);
    const r = src.vocab.id(right);
    if (l === undefined || r === undefined) continue;
    const bound = Math.min(src.posting(l)?.length ?? 0, src.posting(r)?.length ?? 0);
    if (bound > 0) candidates.push({ words: [left, right], bound, at: i });
  }
  candidates.sort((a, b) => b.bound - a.bound || a.at - b.at);
  let best: { words: [string, string]; count: number; at: number } | null = null;
  for (const c of candidates) {
    if (best !== null && c.bound < best.count) break;
    const count = scanPhrase(src, c.words, null);
    if (count > 0 && (best === null || count > best.count || (count === best.count && c.at < best.at))) best = { words: c.words, count, at: c.at };
  }
  const result = best === null ? null : { words: best.words, posting: phrasePosting(src, best.words) };
  // Bounded: a long run of distinct query words must not grow memory without limit.
  if (src.splitCache.size >= SPLIT_CACHE_MAX) src.splitCache.clear();
  src.splitCache.set(word, result);
  return result;
}

/** A term's derivations, one per word id (the cheapest kept). */
class DerivationList {
  readonly list: QueryDerivation[];
  /** Index by word id, built on the first addition (most terms get none). */
  #at: Map<number, number> | null = null;
  constructor(initial: QueryDerivation[]) {
    this.list = initial;
  }
  add(d: QueryDerivation): void {
    if (d.wordId >= 0) {
      if (this.#at === null) {
        this.#at = new Map();
        this.list.forEach((x, i) => {
          if (x.wordId >= 0) this.#at!.set(x.wordId, i);
        });
      }
      const i = this.#at.get(d.wordId);
      if (i !== undefined) {
        const prev = this.list[i];
        if (d.typos < prev.typos || (d.typos === prev.typos && d.exact && !prev.exact)) this.list[i] = d;
        return;
      }
      this.#at.set(d.wordId, this.list.length);
    }
    this.list.push(d);
  }
}

/** milli `limits.rs`: synonyms of one word are capped at 50 phrases holding 100 words in all. */
const MAX_SYNONYM_PHRASE_COUNT = 50;
const MAX_SYNONYM_WORD_COUNT = 100;

/** Synonym derivations of a word sequence; `capped` applies milli's caps (single words only). */
function synonymDerivations(src: TermSource, key: string, capped: boolean): QueryDerivation[] {
  const out: QueryDerivation[] = [];
  let list = src.synonyms(key) ?? [];
  if (capped) list = list.slice(0, MAX_SYNONYM_PHRASE_COUNT);
  let wordCount = 0;
  for (const words of list) {
    if (capped) {
      if (wordCount + words.length > MAX_SYNONYM_WORD_COUNT) continue;
      wordCount += words.length;
    }
    if (words.length === 1) {
      const id = src.vocab.id(words[0]);
      if (id !== undefined) out.push({ wordId: id, typos: 0, exact: false });
    } else if (words.length > 1) {
      const posting = phrasePosting(src, words);
      if (posting.length > 0) out.push({ wordId: -1, typos: 0, exact: false, posting, words });
    }
  }
  return out;
}

/** Build the terms of a parsed query. */
export function buildTerms(src: TermSource, parsed: ParsedQuery): PreparedQuery {
  const terms: Term[] = [];
  const lists: DerivationList[] = [];
  for (const item of parsed.items) {
    const index = terms.length;
    if (item.kind === 'phrase') {
      const words = item.words.filter((w): w is string => w !== null);
      terms.push({
        word: item.words.map((w) => w ?? '').join(' '),
        index,
        prefix: false,
        allowance: 0,
        phrase: true,
        position: item.position,
        span: item.end - item.position + 1,
      });
      const posting = phrasePosting(src, item.words);
      lists.push(new DerivationList(posting.length > 0 ? [{ wordId: -1, typos: 0, exact: true, posting, words }] : []));
      continue;
    }
    const allowance = src.allowance(item.word);
    terms.push({ word: item.word, index, prefix: item.prefix, allowance, position: item.position });
    const list = new DerivationList(src.vocab.derivations(item.word, allowance, item.prefix));
    for (const d of synonymDerivations(src, item.word, true)) list.add(d);
    if ([...item.word].length >= 2) {
      const split = bestSplit(src, item.word);
      if (split !== null) list.add({ wordId: -1, typos: 1, exact: false, posting: split.posting, words: split.words });
    }
    lists.push(list);
  }
  // n-grams of 2 and 3 consecutive words.
  for (let i = 0; i < terms.length; i++) {
    for (let n = 2; n <= 3 && i + n <= terms.length; n++) {
      const parts = terms.slice(i, i + n);
      if (parts.some((t, k) => t.phrase === true || (k > 0 && t.position !== parts[k - 1].position! + 1))) break;
      const words = parts.map((t) => t.word);
      const concat = words.join('');
      const prefix = parts[n - 1].prefix;
      const allowance = Math.max(src.allowance(concat) - (n - 1), 0);
      const found: QueryDerivation[] = src.vocab.derivations(concat, allowance, prefix);
      found.push(...synonymDerivations(src, words.join(' '), false));
      for (const d of found) {
        // The first word carries the n-gram's cost; the others match it at no cost. The
        // concatenated word itself is the n-gram's exact form (milli `exact_term`).
        lists[i].add({ ...d, typos: d.typos + n - 1, edits: d.typos });
        for (let k = 1; k < n; k++) lists[i + k].add({ ...d, typos: 0, edits: d.typos });
      }
    }
  }
  const excluded: number[] = [];
  for (const w of parsed.negativeWords) {
    const id = src.vocab.id(w);
    if (id !== undefined) excluded.push(id);
  }
  const excludedPostings = parsed.negativePhrases.map((p) => phrasePosting(src, p)).filter((p) => p.length > 0);
  return { terms, derivations: lists.map((l) => l.list), excluded, excludedPostings };
}
