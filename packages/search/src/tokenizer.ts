/**
 * Tokenization close to Meilisearch's (charabia) for Latin scripts: words are runs of letters,
 * digits and marks; they are normalized by NFKD decomposition, removal of combining marks and
 * lowercasing. Runs containing CJK (or Thai, Lao, Khmer, Myanmar) characters are segmented with
 * `Intl.Segmenter`.
 *
 * Positions follow milli: consecutive words are 1 apart, words across a hard separator
 * (sentence punctuation, newline) are 8 apart.
 */

const WORD_RE = /[\p{L}\p{N}\p{M}]+/gu;
/** Separate instance for `forEachToken` (its callback may call `tokenize`). */
const TOKEN_RE = /[\p{L}\p{N}\p{M}]+/gu;
/** Scripts written without spaces between words: segmented by `Intl.Segmenter` (ICU dictionaries). */
const CJK_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
export const HARD_SEP_RE = /[.!?;\n\r。！？；¡¿…]/u;
/** Marks with no base character (a token starting with a mark): dropped. */
const MARK_RE_LEADING = /^\p{M}+/u;

/** Gap between two words separated by a hard separator (milli `MAX_DISTANCE`-style jump). */
export const HARD_GAP = 8;

/** Scripts whose nonspacing marks charabia removes (`NonspacingMarkNormalizer`). */
const STRIP_MARKS_BASE_RE = /[\p{Script=Latin}\p{Script=Greek}\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Thai}]/u;
const BASE_AND_MARKS_RE = /(\P{M})(\p{M}+)/gu;

/**
 * charabia's normalization: compatibility decomposition (NFKD), nonspacing marks removed after
 * Latin, Greek, Hebrew, Arabic and Thai letters (kept elsewhere: Japanese dakuten, Cyrillic
 * й), Cyrillic ё → е, Latin œ/æ → oe/ae, then lowercase.
 */
export function normalize(s: string): string {
  // Fast path: plain lowercase ASCII needs no decomposition.
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s.toLowerCase();
  const d = s
    .normalize('NFKD')
    .replace(BASE_AND_MARKS_RE, (all: string, base: string, marks: string) => {
      if (STRIP_MARKS_BASE_RE.test(base)) return base;
      if ((base === 'е' || base === 'Е') && marks === '\u0308') return base;
      return all;
    })
    .replace(MARK_RE_LEADING, '');
  return d.replace(/[œŒ]/g, 'oe').replace(/[æÆ]/g, 'ae').toLowerCase();
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

/** The tokenization settings of an index (reference §7.6, §8). */
export interface TokenizerSettings {
  /** Extra separators (soft): `"foo|bar"` with `["|"]`… any string, letters included. */
  separatorTokens: readonly string[];
  /** Strings that stop being separators and join words: `["#"]` keeps `c#` whole. */
  nonSeparatorTokens: readonly string[];
  /** Strings kept as one token whatever they contain (`"J. R. R."`), matched case-insensitively. */
  dictionary: readonly string[];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function alternation(list: readonly string[]): string {
  // Longest first: the regex alternation takes the first that matches.
  return [...new Set(list)]
    .filter((s) => s.length > 0)
    .sort((a, b) => b.length - a.length)
    .map(escapeRe)
    .join('|');
}

/**
 * A tokenizer for an index's settings (charabia's `separators` / `words_dict`, as milli builds
 * it from `separatorTokens`, `nonSeparatorTokens` and `dictionary`). Without custom tokens it
 * is the module's default tokenization. With them, one regex scans the text in priority order:
 * a dictionary entry, a custom separator (skipped), or a run of word characters and
 * non-separator tokens that stops where a custom separator starts.
 */
export class Tokenizer {
  static readonly default = new Tokenizer({ separatorTokens: [], nonSeparatorTokens: [], dictionary: [] });

  readonly #re: RegExp | null;

  constructor(settings: TokenizerSettings) {
    const dict = alternation(settings.dictionary.map((d) => d.trim()));
    const seps = alternation(settings.separatorTokens);
    const nonSeps = alternation(settings.nonSeparatorTokens);
    if (dict === '' && seps === '' && nonSeps === '') {
      this.#re = null;
      return;
    }
    const wordChar = `${seps === '' ? '' : `(?!${seps})`}[\\p{L}\\p{N}\\p{M}]`;
    const unit = nonSeps === '' ? wordChar : `(?:${nonSeps}|${wordChar})`;
    // A dictionary entry must end a token: `art` does not cut `arty`.
    // `((?!))` never matches but keeps the group numbers fixed.
    const parts = [dict === '' ? '((?!))' : `(${dict})(?![\\p{L}\\p{N}\\p{M}])`, seps === '' ? '((?!))' : `(${seps})`, `(${unit}+)`];
    this.#re = new RegExp(parts.join('|'), 'giu');
  }

  /** Same as the module's `tokenize`, with this tokenizer's settings. */
  tokenize(text: string, firstPos = 0): Token[] {
    if (this.#re === null) return tokenize(text, firstPos);
    const out: Token[] = [];
    this.#scan(text, firstPos, (word, pos, start, end) => out.push({ word, pos, start, end }));
    return out;
  }

  /** Same as the module's `forEachToken`, with this tokenizer's settings. */
  forEachToken(text: string, firstPos: number, fn: (word: string, pos: number) => void): number {
    if (this.#re === null) return forEachToken(text, firstPos, fn);
    return this.#scan(text, firstPos, (word, pos) => fn(word, pos));
  }

  /** Normalized words of a text. */
  words(text: string): string[] {
    return this.tokenize(text).map((t) => t.word);
  }

  #scan(text: string, firstPos: number, fn: (word: string, pos: number, start: number, end: number) => void): number {
    const re = new RegExp(this.#re!);
    let pos = firstPos;
    let prevEnd = -1;
    let last = firstPos - 1;
    const emit = (s: string, start: number): void => {
      if (prevEnd >= 0) pos += HARD_SEP_RE.test(text.slice(prevEnd, start)) ? HARD_GAP : 1;
      fn(normalize(s), pos, start, start + s.length);
      last = pos;
      prevEnd = start + s.length;
    };
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      if (m[2] !== undefined) continue;
      if (m[1] !== undefined) {
        emit(m[1], m.index);
        continue;
      }
      const run = m[3];
      if (CJK_RE.test(run)) for (const p of cjkSegments(run)) emit(p.s, m.index + p.i);
      else emit(run, m.index);
    }
    return last;
  }
}
