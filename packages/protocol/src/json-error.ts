/**
 * Describes why a JSON text is invalid the way serde_json (Meilisearch's parser) does:
 * `expected value at line 1 column 9`, `EOF while parsing an object at line 1 column 8`,
 * `trailing characters at line 1 column 10`… V8's `JSON.parse` messages carry neither serde's
 * wording nor, for most errors, a position, so this small scanner re-reads the text when
 * `JSON.parse` failed, or when a text `JSON.parse` accepts may hold what serde refuses (a lone
 * surrogate escape such as `"\ud800"`, refused when decoded into a string). Positions follow serde:
 * 1-based line, column = byte offset in the line of the offending byte (or of the last byte read,
 * at end of input). Undefined when serde would accept the text.
 */

/**
 * serde_json's recursion limit: the 128th nested array or object is refused with
 * `recursion limit exceeded at line L column C` (the column of that opening bracket).
 */
export const JSON_MAX_DEPTH = 128;

class SyntaxFailure {
  constructor(readonly message: string) {}
}

export function serdeJsonError(text: string): string | undefined {
  const b = Buffer.from(text, 'utf8');
  let i = 0;
  let depth = 0;
  const position = (at: number): string => {
    const lineStart = b.lastIndexOf(0x0a, at - 1) + 1;
    let line = 1;
    for (let k = 0; k < lineStart; k++) if (b[k] === 0x0a) line++;
    return `line ${line} column ${at - lineStart}`;
  };
  // serde `peek_error`: at the byte being looked at; `error`: after the last consumed byte.
  const peekError = (msg: string) => new SyntaxFailure(`${msg} at ${position(Math.min(b.length, i + 1))}`);
  const error = (msg: string) => new SyntaxFailure(`${msg} at ${position(i)}`);
  const ws = () => {
    while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x09 || b[i] === 0x0d)) i++;
  };
  const ident = (word: string) => {
    for (let k = 0; k < word.length; k++) {
      if (i >= b.length) throw error('EOF while parsing a value');
      if (b[i] !== word.charCodeAt(k)) {
        i++;
        throw error('expected ident');
      }
      i++;
    }
  };
  const hex4 = (): number => {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      if (i >= b.length) throw error('EOF while parsing a string');
      const h = b[i++]!;
      const d = h >= 0x30 && h <= 0x39 ? h - 0x30 : h >= 0x41 && h <= 0x46 ? h - 0x37 : h >= 0x61 && h <= 0x66 ? h - 0x57 : -1;
      if (d < 0) throw error('invalid escape');
      n = n * 16 + d;
    }
    return n;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= b.length) throw error('EOF while parsing a string');
      const c = b[i++];
      if (c === 0x22) return;
      if (c === 0x5c) {
        if (i >= b.length) throw error('EOF while parsing a string');
        const e = b[i++];
        if (e === 0x75) {
          // serde_json decoding into a string: surrogates must come in pairs (`parse_unicode_escape`).
          const n = hex4();
          if (n >= 0xdc00 && n <= 0xdfff) throw error('lone leading surrogate in hex escape');
          if (n >= 0xd800 && n <= 0xdbff) {
            if (i >= b.length) throw error('EOF while parsing a string');
            if (b[i++] !== 0x5c) throw error('unexpected end of hex escape');
            if (i >= b.length) throw error('EOF while parsing a string');
            if (b[i++] !== 0x75) throw error('unexpected end of hex escape');
            const n2 = hex4();
            if (n2 < 0xdc00 || n2 > 0xdfff) throw error('lone leading surrogate in hex escape');
          }
        } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) throw error('invalid escape');
      } else if (c < 0x20) throw error('control character (\\u0000-\\u001F) found while parsing a string');
    }
  };
  const digits = () => {
    const s = i;
    while (i < b.length && b[i] >= 0x30 && b[i] <= 0x39) i++;
    return i - s;
  };
  const number = () => {
    if (b[i] === 0x2d) i++;
    if (i >= b.length) throw error('EOF while parsing a value');
    if (b[i] === 0x30) {
      i++;
      if (b[i] >= 0x30 && b[i] <= 0x39) {
        i++;
        throw error('invalid number');
      }
    } else if (digits() === 0) {
      i++;
      throw error('invalid number');
    }
    if (b[i] === 0x2e) {
      i++;
      if (digits() === 0) {
        if (i >= b.length) throw error('EOF while parsing a value');
        i++;
        throw error('invalid number');
      }
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (digits() === 0) {
        if (i >= b.length) throw error('EOF while parsing a value');
        i++;
        throw error('invalid number');
      }
    }
  };
  const value = (): void => {
    ws();
    if (i >= b.length) throw peekError('EOF while parsing a value');
    const c = b[i];
    if (c === 0x7b || c === 0x5b) {
      if (++depth >= JSON_MAX_DEPTH) throw peekError('recursion limit exceeded');
      container(c);
      depth--;
      return;
    }
    if (c === 0x22) return string();
    if (c === 0x74) return ident('true');
    if (c === 0x66) return ident('false');
    if (c === 0x6e) return ident('null');
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number();
    throw peekError('expected value');
  };
  const container = (c: number): void => {
    if (c === 0x7b) {
      i++;
      ws();
      if (b[i] === 0x7d) {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (i >= b.length) throw peekError('EOF while parsing an object');
        if (b[i] !== 0x22) throw peekError(b[i] === 0x7d ? 'trailing comma' : 'key must be a string');
        string();
        ws();
        if (i >= b.length) throw peekError('EOF while parsing an object');
        if (b[i] !== 0x3a) throw peekError('expected `:`');
        i++;
        value();
        ws();
        if (i >= b.length) throw peekError('EOF while parsing an object');
        if (b[i] === 0x2c) {
          i++;
          continue;
        }
        if (b[i] === 0x7d) {
          i++;
          return;
        }
        throw peekError('expected `,` or `}`');
      }
    }
    if (c === 0x5b) {
      i++;
      ws();
      if (b[i] === 0x5d) {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (b[i] === 0x5d) throw peekError('trailing comma');
        value();
        ws();
        if (i >= b.length) throw peekError('EOF while parsing a list');
        if (b[i] === 0x2c) {
          i++;
          continue;
        }
        if (b[i] === 0x5d) {
          i++;
          return;
        }
        throw peekError('expected `,` or `]`');
      }
    }
  };
  try {
    value();
    ws();
    if (i < b.length) throw peekError('trailing characters');
  } catch (e) {
    if (e instanceof SyntaxFailure) return e.message;
    throw e;
  }
  return undefined;
}
