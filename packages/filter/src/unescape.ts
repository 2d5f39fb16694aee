/**
 * Backslash escapes in filter values, decoded as Meilisearch does with the `unescaper` crate's
 * lossy mode: valid escapes are decoded, malformed ones are kept as written.
 *
 * `\b \f \n \r \t \v`, `\' \" \\ \/`, `\u{1F43B}` / `\u00e9`, `\x41`, octal `\101`.
 */
export function unescapeLossy(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const [text, len] = escapeAt(s, i);
    out += text;
    i += len;
  }
  return out;
}

const SIMPLE: Readonly<Record<string, string>> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  "'": "'",
  '"': '"',
  '\\': '\\',
  '/': '/',
};

/** The decoded text of the escape at `s[i]` (a backslash) and how many UTF-16 units it spans. */
function escapeAt(s: string, i: number): [string, number] {
  if (i + 1 >= s.length) return ['\\', 1];
  const marker = s[i + 1];
  const simple = SIMPLE[marker];
  if (simple !== undefined) return [simple, 2];
  if (marker === 'u') return unicodeEscape(s, i);
  if (marker === 'x') return fixedWidth(s, i, 2, 0xff);
  if (marker >= '0' && marker <= '7') return octalEscape(s, i);
  const markerLen = s.codePointAt(i + 1)! > 0xffff ? 2 : 1;
  return [s.slice(i, i + 1 + markerLen), 1 + markerLen];
}

const HEX = /^\+?[0-9a-fA-F]+$/;

function codePoint(digits: string, max: number): string | null {
  if (!HEX.test(digits)) return null;
  const n = parseInt(digits, 16);
  if (n > max || (n >= 0xd800 && n <= 0xdfff)) return null;
  return String.fromCodePoint(n);
}

function unicodeEscape(s: string, i: number): [string, number] {
  const after = i + 2;
  if (s[after] === '{') {
    const close = s.indexOf('}', after + 1);
    if (close !== -1) {
      const len = close + 1 - i;
      const ch = codePoint(s.slice(after + 1, close), 0x10ffff);
      return ch === null ? [s.slice(i, close + 1), len] : [ch, len];
    }
    // No closing brace: up to the next backslash; decoded only when that is the end of the text.
    const stop = s.indexOf('\\', after + 1);
    const end = stop === -1 ? s.length : stop;
    if (end === s.length) {
      const ch = codePoint(s.slice(after + 1), 0x10ffff);
      if (ch !== null) return [ch, end - i];
    }
    return [s.slice(i, end), end - i];
  }
  return fixedWidth(s, i, 4, 0x10ffff);
}

/** `\x` + 2 or `\u` + 4 digits, counted in characters and cut short by a backslash. */
function fixedWidth(s: string, i: number, width: number, max: number): [string, number] {
  const after = i + 2;
  let end = after;
  let count = 0;
  while (end < s.length && count < width && s[end] !== '\\') {
    end += s.codePointAt(end)! > 0xffff ? 2 : 1;
    count++;
  }
  if (count === width) {
    const ch = codePoint(s.slice(after, end), max);
    if (ch !== null) return [ch, end - i];
  }
  return [s.slice(i, end), end - i];
}

function octalEscape(s: string, i: number): [string, number] {
  const first = s[i + 1];
  const extra = first <= '3' ? 2 : 1;
  let end = i + 2;
  for (let k = 0; k < extra && end < s.length && s[end] >= '0' && s[end] <= '7'; k++) end++;
  return [String.fromCharCode(parseInt(s.slice(i + 1, end), 8)), end - i];
}
