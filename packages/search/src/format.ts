/**
 * Building returned hits: attribute selection (`attributesToRetrieve` ∩ `displayedAttributes`),
 * `_formatted` (highlight and crop) and `_matchesPosition` (byte offsets, as Meilisearch).
 *
 * Cropping follows milli `search/new/matches` (`best_match_interval.rs`, `Matcher::crop_bounds`,
 * `Matcher::format`):
 * - the window is centered on the best interval of matches fitting in `cropLength` words: most
 *   distinct query words, then smallest distances between consecutive matches (each capped at
 *   7), then most matches in query order; without matches it starts at the text's start;
 * - it grows from that interval one word at a time on each side (left first), preferring the
 *   side of a word over a separator, and the soft separator over the hard one, so it never ends
 *   on a separator before the marker;
 * - the marker is added on each side where text was cut (none when it is empty); a crop
 *   length of 0 leaves the text whole;
 * - strings and numbers are formatted; every number of `_formatted` becomes a string, formatted
 *   or not (milli `format_value`); booleans and null are kept.
 */
import type { MatchBounds } from '@miroir/protocol';
import { firstMatch, matchesPattern, type Document } from './fields.js';
import { HARD_SEP_RE, Tokenizer } from './tokenizer.js';

/**
 * How a normalized word matches the query: highlight the whole word (-1) or its first n
 * characters. `termOf`, when present, names the query term a word matches (distinct terms
 * score crop windows; without it, distinct words do). `phrases` are the multi-word derivations
 * (quoted phrases, split words, synonyms: milli `MatchingWords::phrases`), tried before single
 * words: consecutive words matching one are a single match, highlighted as one span.
 * Texts are split with the index's `tokenizer` (its separator settings).
 */
export type Matcher = ((word: string) => number | undefined) & {
  termOf?: (word: string) => number | undefined;
  tokenizer?: Tokenizer;
  phrases?: ReadonlyArray<MatcherPhrase>;
};

/** A phrase to match: its normalized words in order, and the query term it derives from. */
export interface MatcherPhrase {
  words: readonly string[];
  term: number;
}

/** Select the displayed, requested fields of a document (document order kept). */
export function selectFields(doc: Document, displayed: readonly string[], requested: readonly string[] | undefined): Document {
  const want = requested === undefined || requested.includes('*') ? ['*'] : requested;
  const keep = (path: string): boolean => firstMatch(displayed, path) >= 0 && firstMatch(want, path) >= 0;
  const out: Document = {};
  const visit = (src: Record<string, unknown>, dst: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(src)) {
      const path = prefix === '' ? k : `${prefix}.${k}`;
      if (keep(path)) {
        dst[k] = v;
      } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        // A nested field may be selected on its own (`a.b` while `a` is not).
        const sub: Record<string, unknown> = {};
        visit(v as Record<string, unknown>, sub, path);
        if (Object.keys(sub).length > 0 || wantsDescendant(path)) dst[k] = sub;
      } else if (Array.isArray(v) && wantsDescendant(path)) {
        // `a.b` selects `b` inside the objects of an array `a` (other elements are left out).
        const items: Record<string, unknown>[] = [];
        for (const x of v) {
          if (x === null || typeof x !== 'object' || Array.isArray(x)) continue;
          const sub: Record<string, unknown> = {};
          visit(x as Record<string, unknown>, sub, path);
          if (Object.keys(sub).length > 0) items.push(sub);
        }
        if (items.length > 0) dst[k] = items;
      }
    }
  };
  const wantsDescendant = (path: string): boolean =>
    want.some((w) => w.startsWith(`${path}.`)) && displayed.some((d) => d === '*' || d.startsWith(`${path}.`) || matchesPattern(d, path));
  visit(doc, out, '');
  return out;
}

/** A token of a text: a word (`word` set) or the separator run between words. */
interface Tok {
  start: number;
  end: number;
  /** The normalized word ('' for a separator). */
  word: string;
  /** 0: word, 1: soft separator, 2: hard separator. */
  sep: 0 | 1 | 2;
}

interface Match {
  /** Index in the token list (of the first word of a phrase). */
  tok: number;
  /** Index among the words (of the first word of a phrase). */
  wordPos: number;
  /** Token and word index of the last word: a phrase spans several, a word only itself. */
  lastTok: number;
  lastWordPos: number;
  /** UTF-16 end of the highlighted part. */
  hlEnd: number;
  id: number | string;
}

function tokensOf(text: string, tokenizer: Tokenizer = Tokenizer.default): { toks: Tok[] } {
  const words = tokenizer.tokenize(text);
  const toks: Tok[] = [];
  let at = 0;
  const sep = (from: number, to: number): void => {
    if (to > from) toks.push({ start: from, end: to, word: '', sep: HARD_SEP_RE.test(text.slice(from, to)) ? 2 : 1 });
  };
  for (const w of words) {
    sep(at, w.start);
    toks.push({ start: w.start, end: w.end, word: w.word, sep: 0 });
    at = w.end;
  }
  sep(at, text.length);
  return { toks };
}

/** UTF-16 offset after `n` code points of `text` from `start`, bounded by `end`. */
function advanceChars(text: string, start: number, end: number, n: number): number {
  let i = start;
  for (let k = 0; k < n && i < end; k++) i += (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return Math.min(i, end);
}

/** milli `Matcher::compute_matches`: phrases first (all their words in a row), then single words. */
function matchesOf(text: string, toks: readonly Tok[], matcher: Matcher): Match[] {
  const out: Match[] = [];
  const words: number[] = [];
  toks.forEach((t, i) => {
    if (t.sep === 0) words.push(i);
  });
  const phrases = matcher.phrases ?? [];
  for (let w = 0; w < words.length; w++) {
    const i = words[w];
    const t = toks[i];
    const phrase = phrases.find((p) => p.words.every((pw, k) => w + k < words.length && toks[words[w + k]].word === pw));
    if (phrase !== undefined) {
      const last = w + phrase.words.length - 1;
      out.push({ tok: i, wordPos: w, lastTok: words[last], lastWordPos: last, hlEnd: toks[words[last]].end, id: phrase.term });
      w = last;
      continue;
    }
    const n = matcher(t.word);
    if (n !== undefined) {
      const hlEnd = n < 0 ? t.end : advanceChars(text, t.start, t.end, n);
      out.push({ tok: i, wordPos: w, lastTok: i, lastWordPos: w, hlEnd, id: matcher.termOf?.(t.word) ?? t.word });
    }
  }
  return out;
}

/**
 * milli `get_interval_score`: [distinct query words, −Σ min(distance, 7), ordered pairs]; the
 * words of a phrase count as ordered and one apart.
 */
function intervalScore(ms: readonly Match[], idRank: (id: number | string) => number): [number, number, number] {
  const ids = new Set<number | string>();
  let order = 0;
  let distance = 0;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    const next = ms[i + 1];
    const inside = m.lastWordPos - m.wordPos;
    order += inside;
    distance -= inside;
    if (next !== undefined) {
      if (idRank(next.id) > idRank(m.id)) order++;
      distance -= Math.min(next.wordPos - m.lastWordPos, 7);
    }
    ids.add(m.id);
  }
  return [ids.size, distance, order];
}

function better(a: [number, number, number], b: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return false;
}

/** milli `find_best_match_interval`: first and last match of the best interval. */
function bestInterval(ms: readonly Match[], cropSize: number): [number, number] {
  // Term ids compare as numbers; without term ids (plain words), by first appearance.
  const firstSeen = new Map<number | string, number>();
  for (const m of ms) if (!firstSeen.has(m.id)) firstSeen.set(m.id, typeof m.id === 'number' ? m.id : firstSeen.size);
  const idRank = (id: number | string): number => firstSeen.get(id)!;
  let best: { first: number; last: number; score: [number, number, number] } | null = null;
  const save = (first: number, last: number): void => {
    const score = intervalScore(ms.slice(first, last + 1), idRank);
    if (best === null || better(score, best.score)) best = { first, last, score };
  };
  let first = 0;
  let firstPos = ms[0].wordPos;
  for (let index = 0; index < ms.length; index++) {
    const lastPos = ms[index].lastWordPos;
    if (lastPos - firstPos >= cropSize) {
      if (index !== 0) save(first, index - 1);
      for (;;) {
        first++;
        if (first === ms.length) {
          first--;
          break;
        }
        firstPos = ms[first].wordPos;
        if (firstPos > lastPos || lastPos - firstPos < cropSize) break;
      }
    }
  }
  save(first, ms.length - 1);
  const b = best as { first: number; last: number } | null;
  return b === null ? [0, 0] : [b.first, b.last];
}

/** milli `Matcher::crop_bounds`: UTF-16 bounds of the crop window. */
function cropBounds(text: string, toks: readonly Tok[], first: Match | undefined, last: Match | undefined, cropSize: number): [number, number] {
  const firstTok = first?.tok ?? 0;
  const lastTok = last?.lastTok ?? 0;
  let remaining = cropSize + (first?.wordPos ?? 0) - (last?.lastWordPos ?? 0);
  // `before` walks left from the first match (exclusive), `after` right from the last (inclusive).
  let before = firstTok - 1;
  let after = lastTok;
  while (remaining > 0) {
    const b = before >= 0 ? toks[before] : undefined;
    const a = after < toks.length ? toks[after] : undefined;
    if (b !== undefined && a !== undefined) {
      if (b.sep !== 0 && a.sep !== 0) {
        if (b.sep === a.sep) {
          before--;
          if (remaining > 1) after++;
        } else if (b.sep === 2) {
          after++;
        } else {
          before--;
        }
      } else if (b.sep === 0 && a.sep !== 0) {
        before--;
        remaining--;
      } else if (b.sep !== 0) {
        after++;
        remaining--;
      } else {
        before--;
        remaining--;
        if (remaining > 0) {
          after++;
          remaining--;
        }
      }
    } else if (b !== undefined) {
      before--;
      if (b.sep === 0) remaining--;
    } else if (a !== undefined) {
      after++;
      if (a.sep === 0) remaining--;
    } else {
      break;
    }
  }
  const start = before >= 0 ? toks[before].end : 0;
  const end = after < toks.length ? toks[after].start : text.length;
  return [start, end];
}

export interface FormatOptions {
  highlight: ReadonlySet<string> | 'all' | null;
  crop: ReadonlyMap<string, number> | null;
  cropAll: number | null;
  pre: string;
  post: string;
  marker: string;
}

/** milli `Matcher::format` for one text. */
export function formatText(text: string, matcher: Matcher, doHighlight: boolean, cropLen: number | undefined, o: Pick<FormatOptions, 'pre' | 'post' | 'marker'>): string {
  if (!doHighlight && cropLen === undefined) return text;
  const { toks } = tokensOf(text, matcher.tokenizer);
  const ms = matchesOf(text, toks, matcher);
  let start = 0;
  let end = text.length;
  if (cropLen !== undefined && cropLen > 0) {
    let first: Match | undefined;
    let last: Match | undefined;
    if (ms.length > 0) {
      const [f, l] = bestInterval(ms, cropLen);
      first = ms[f];
      last = ms[l];
    }
    [start, end] = cropBounds(text, toks, first, last, cropLen);
  }
  let out = start > 0 ? o.marker : '';
  let at = start;
  if (doHighlight) {
    for (const m of ms) {
      const t = toks[m.tok];
      const tEnd = toks[m.lastTok].end;
      if (t.start < start || tEnd > end) continue;
      out += text.slice(at, t.start) + o.pre + text.slice(t.start, m.hlEnd) + o.post + text.slice(m.hlEnd, tEnd);
      at = tEnd;
    }
  }
  out += text.slice(at, end);
  if (end < text.length) out += o.marker;
  return out;
}

function fieldIn(set: ReadonlySet<string> | 'all' | null, path: string): boolean {
  if (set === null) return false;
  if (set === 'all') return true;
  for (const p of set) if (matchesPattern(p, path)) return true;
  return false;
}

function cropFor(o: FormatOptions, path: string): number | undefined {
  if (o.crop !== null) for (const [p, len] of o.crop) if (matchesPattern(p, path)) return len;
  return o.cropAll ?? undefined;
}

/** `_formatted`: the selected document with highlighted/cropped values (formatted ones as strings). */
export function formatDocument(doc: Document, matcher: Matcher, o: FormatOptions): Document {
  const walk = (v: unknown, path: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, path));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        // Embeddings are never part of `_formatted`.
        if (path === '' && k === '_vectors') continue;
        out[k] = walk(x, path === '' ? k : `${path}.${k}`);
      }
      return out;
    }
    const h = fieldIn(o.highlight, path);
    const c = cropFor(o, path);
    if (!h && c === undefined) return typeof v === 'number' ? String(v) : v;
    if (typeof v === 'string') return formatText(v, matcher, h, c, o);
    if (typeof v === 'number') return formatText(String(v), matcher, h, c, o);
    return v;
  };
  return walk(doc, '') as Document;
}

/**
 * `_matchesPosition`: per field path, the UTF-8 byte `start` and `length` of every match
 * (the highlighted part); values inside arrays carry the array `indices` leading to them.
 */
export function matchesPosition(doc: Document, matcher: Matcher): Record<string, MatchBounds[]> {
  const out: Record<string, MatchBounds[]> = {};
  const walk = (v: unknown, path: string, indices: number[]): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, path, [...indices, i]));
      return;
    }
    if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, path === '' ? k : `${path}.${k}`, indices);
      return;
    }
    if (typeof v !== 'string' && typeof v !== 'number') return;
    const text = String(v);
    const { toks } = tokensOf(text, matcher.tokenizer);
    const ms = matchesOf(text, toks, matcher);
    if (ms.length === 0) return;
    const list = (out[path] ??= []);
    for (const m of ms) {
      const t = toks[m.tok];
      const b: MatchBounds = {
        start: Buffer.byteLength(text.slice(0, t.start)),
        length: Buffer.byteLength(text.slice(t.start, m.hlEnd)),
      };
      if (indices.length > 0) b.indices = indices;
      list.push(b);
    }
  };
  walk(doc, '', []);
  return out;
}
