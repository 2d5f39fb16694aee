/**
 * Character classes and text rendering that must match Meilisearch's (Rust) behaviour byte for byte:
 * which characters make a bare word, what counts as whitespace, how `escape_debug` and `f64`'s
 * `Display` render text in error messages, and the `<col>:<col> <filter>` span line.
 */

/** Rust `char::is_alphanumeric() || _ - .`: the characters of an unquoted word. */
const WORD_CHAR = /[\p{Alphabetic}\p{Nd}\p{Nl}\p{No}_.\-]/u;
/** Rust `char::is_whitespace`. */
const UNICODE_WS = /\p{White_Space}/u;

export function isWordChar(ch: string): boolean {
  return WORD_CHAR.test(ch);
}

export function isUnicodeWhitespace(ch: string): boolean {
  return UNICODE_WS.test(ch);
}

/** nom's `multispace`: ASCII space, tab, CR, LF only. */
export function isMultispace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

/** The code point at `i` as a string (one or two UTF-16 units). */
export function charAt(s: string, i: number): string {
  const cp = s.codePointAt(i);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

/** Number of Unicode scalar values in `s` (Rust `chars().count()`). */
export function charCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

const NEEDS_UNICODE_ESCAPE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u;

/**
 * Rust `str::escape_debug`: quotes and backslashes escaped, `\t \r \n` spelled out, other
 * non-printable characters as `\u{hex}`.
 */
export function escapeDebug(s: string): string {
  let out = '';
  for (const ch of s) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case "'":
        out += "\\'";
        break;
      case '"':
        out += '\\"';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\0':
        out += '\\0';
        break;
      default:
        out += NEEDS_UNICODE_ESCAPE.test(ch) ? `\\u{${ch.codePointAt(0)!.toString(16)}}` : ch;
    }
  }
  return out;
}

/**
 * The `<startColumn>:<endColumn> <filter>` line Meilisearch appends to filter errors: the column is
 * 1-based, counted in characters from the start of the line holding `start`; the end column adds
 * the character length of the fragment `[start, end)`.
 */
export function spanLine(source: string, start: number, end: number): string {
  const lineStart = start === 0 ? 0 : source.lastIndexOf('\n', start - 1) + 1;
  const column = charCount(source.slice(lineStart, start)) + 1;
  return `${column}:${column + charCount(source.slice(start, end))} ${source}`;
}

/**
 * Rust's `Display` for `f64`: shortest round-trip digits, never in exponent notation, integral
 * values without a fractional part (`90`, not `90.0`).
 */
export function rustFloat(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'inf' : '-inf';
  if (Object.is(x, -0)) return '-0';
  const s = String(x);
  const e = s.indexOf('e');
  if (e === -1) return s;
  const sign = s.startsWith('-') ? '-' : '';
  const mantissa = s.slice(sign.length, e).replace('.', '');
  const pointAt = s.slice(sign.length, e).indexOf('.');
  const intDigits = pointAt === -1 ? s.slice(sign.length, e).length : pointAt;
  const exp = Number(s.slice(e + 1)) + intDigits;
  if (exp <= 0) return `${sign}0.${'0'.repeat(-exp)}${mantissa}`;
  if (exp >= mantissa.length) return sign + mantissa + '0'.repeat(exp - mantissa.length);
  return `${sign}${mantissa.slice(0, exp)}.${mantissa.slice(exp)}`;
}

/**
 * Rust `str::parse::<f64>()` restricted to finite results: optional sign, digits with an optional
 * fraction, optional exponent; `inf`/`nan` spellings parse but are not finite. Returns null when
 * the text is not a finite float.
 */
export function parseFiniteFloat(text: string): number | null {
  if (!FLOAT_TEXT.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}
const FLOAT_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
