/**
 * Tokenization close to Meilisearch's (charabia) for Latin scripts: words are runs of letters,
 * digits and marks; they are normalized by NFKD decomposition, removal of combining marks and
 * lowercasing. Runs containing CJK characters are segmented with `Intl.Segmenter`.
 *
 * Positions follow milli: consecutive words are 1 apart, words across a hard separator
 * (sentence punctuation, newline) are 8 apart.
 */

const WORD_RE = /[\p{L}\p{N}\p{M}]+/gu;
/** Separate instance for `forEachToken` (its callback may call `tokenize`). */
const TOKEN_RE = /[\p{L}\p{N}\p{M}]+/gu;
const CJK_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
export const HARD_SEP_RE = /[.!?;\n\r。！？；¡¿…]/u;
const MARK_RE = /\p{M}/gu;

/** Gap between two words separated by a hard separator (milli `MAX_DISTANCE`-style jump). */
export const HARD_GAP = 8;

/** Lowercase, decompose, strip diacritics. */
export function normalize(s: string): string {
  // Fast path: plain lowercase ASCII needs no decomposition.
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s.toLowerCase();
  return s.normalize('NFKD').replace(MARK_RE, '').toLowerCase();
}

export interface Token {
  /** Normalized word. */
  word: string;
  /** Word position (gaps per separators). */
  pos: number;
  /** UTF-16 offsets of the original word in the text. */
  start: number;
  end: number;
}

let segmenter: Intl.Segmenter | undefined;
function cjkSegments(run: string): Array<{ s: string; i: number }> {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'word' });
  const out: Array<{ s: string; i: number }> = [];
  for (const seg of segmenter.segment(run)) if (seg.isWordLike) out.push({ s: seg.segment, i: seg.index });
  return out;
}

/**
 * Split a text into tokens. `firstPos` is the position of the first word (used to continue
 * positions across array elements).
 */
export function tokenize(text: string, firstPos = 0): Token[] {
  const out: Token[] = [];
  let pos = firstPos;
  let prevEnd = -1;
  WORD_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = WORD_RE.exec(text)) !== null) {
    const run = m[0];
    const base = m.index;
    const pieces = CJK_RE.test(run) ? cjkSegments(run) : [{ s: run, i: 0 }];
    for (const p of pieces) {
      const start = base + p.i;
      if (prevEnd >= 0) pos += HARD_SEP_RE.test(text.slice(prevEnd, start)) ? HARD_GAP : 1;
      out.push({ word: normalize(p.s), pos, start, end: start + p.s.length });
      prevEnd = start + p.s.length;
    }
  }
  return out;
}

/**
 * Allocation-light tokenization for indexing: calls `fn(word, pos)` per token and returns the
 * position of the last token (or `firstPos - 1` when there is none). Same rules as `tokenize`.
 */
export function forEachToken(text: string, firstPos: number, fn: (word: string, pos: number) => void): number {
  let pos = firstPos;
  let prevEnd = -1;
  const re = TOKEN_RE;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  let last = firstPos - 1;
  while ((m = re.exec(text)) !== null) {
    const run = m[0];
    const base = m.index;
    if (CJK_RE.test(run)) {
      for (const p of cjkSegments(run)) {
        const start = base + p.i;
        if (prevEnd >= 0) pos += HARD_SEP_RE.test(text.slice(prevEnd, start)) ? HARD_GAP : 1;
        fn(normalize(p.s), pos);
        last = pos;
        prevEnd = start + p.s.length;
      }
      continue;
    }
    if (prevEnd >= 0) {
      // Most gaps are a single space: skip the separator test then.
      const gap = base - prevEnd;
      pos += gap === 1 && text.charCodeAt(prevEnd) === 32 ? 1 : HARD_SEP_RE.test(text.slice(prevEnd, base)) ? HARD_GAP : 1;
    }
    fn(normalize(run), pos);
    last = pos;
    prevEnd = base + run.length;
  }
  return last;
}

/** Normalized words of a text, without positions. */
export function words(text: string): string[] {
  return tokenize(text).map((t) => t.word);
}
