/**
 * The Meilisearch filter parser.
 *
 * Hand-written recursive descent that mirrors, alternative by alternative, the nom grammar of
 * Meilisearch's `filter-parser` crate. No parser library reproduces nom's split between
 * recoverable errors (try the next alternative) and cut failures (stop here) together with the
 * exact error contexts, and clients observe both through the error messages and their spans.
 */
import type { ComparisonOp, FilterNode, Token } from './ast.js';
import { FilterError } from './errors.js';
import { charAt, escapeDebug, isMultispace, isUnicodeWhitespace, isWordChar } from './text.js';
import { unescapeLossy } from './unescape.js';

/**
 * Recursion budget of the parser (each parenthesis costs four levels, each `NOT` one).
 * Meilisearch v1.50 (`filter-parser` `MAX_FILTER_DEPTH`).
 */
export const MAX_PARSE_DEPTH = 150;
/** And/Or nesting budget checked after parsing (`milli` `MAX_FILTER_DEPTH`). */
export const MAX_FILTER_CONDITIONS_DEPTH = 150;

/** Words that cannot stand unquoted as a value or attribute name. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'AND',
  'OR',
  'IN',
  'NOT',
  'TO',
  'EXISTS',
  'IS',
  'NULL',
  'EMPTY',
  'CONTAINS',
  'STARTS',
  'WITH',
  '_geoRadius',
  '_geoBoundingBox',
  '_geoPolygon',
]);

const GEO_REMINDER =
  'Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.';

const OPERATION_LIST =
  'Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon`';

type Kind =
  | { k: 'expectedValue'; keyword: boolean }
  | { k: 'reservedKeyword' }
  | { k: 'malformedValue' }
  | { k: 'missingClosingDelimiter'; ch: string }
  | { k: 'char'; ch: string }
  | { k: 'invalidPrimary' }
  | { k: 'expectedEof' }
  | { k: 'geoRadius' }
  | { k: 'geoRadiusArgumentCount'; count: number }
  | { k: 'geoBoundingBox' }
  | { k: 'geoPolygon' }
  | { k: 'geoPolygonNotEnoughPoints'; count: number }
  | { k: 'geoCoordinatesNotPair'; count: number }
  | { k: 'reservedGeo'; name: string }
  | { k: 'misusedGeoRadius' }
  | { k: 'misusedGeoBoundingBox' }
  | { k: 'inOpeningBracket' }
  | { k: 'inClosingBracket' }
  | { k: 'inExpectedValue' }
  | { k: 'depthLimit' }
  | { k: 'internal' };

/** A nom-style parse error: `failure` ones stop all backtracking. Not an `Error`: no stack needed. */
class Fail {
  constructor(
    public failure: boolean,
    readonly kind: Kind,
    /** Context fragment, UTF-16 offsets. */
    readonly start: number,
    readonly end: number,
  ) {}
}

interface Parsed<T> {
  readonly pos: number;
  readonly value: T;
}

class Parser {
  readonly #src: string;
  readonly #len: number;

  constructor(src: string) {
    this.#src = src;
    this.#len = src.length;
  }

  parse(): FilterNode {
    try {
      const r = this.#or(0, 0);
      if (r.pos !== this.#len) throw new Fail(false, { k: 'expectedEof' }, r.pos, this.#len);
      return r.value;
    } catch (e) {
      if (e instanceof Fail) throw this.#toFilterError(e);
      throw e;
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  #error(kind: Kind, start: number, end = this.#len): Fail {
    return new Fail(false, kind, start, end);
  }
  #failure(kind: Kind, start: number, end = this.#len): Fail {
    return new Fail(true, kind, start, end);
  }

  /** nom `cut`: turn a recoverable error into a failure. */
  #cut<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Fail) e.failure = true;
      throw e;
    }
  }

  #skipMultispace(pos: number): number {
    while (pos < this.#len && isMultispace(this.#src.charCodeAt(pos))) pos++;
    return pos;
  }

  #skipUnicodeWhitespace(pos: number): number {
    while (pos < this.#len) {
      const ch = charAt(this.#src, pos);
      if (!isUnicodeWhitespace(ch)) break;
      pos += ch.length;
    }
    return pos;
  }

  /** End of the run of word characters starting at `pos` (nom `take_while1(is_value_component)`). */
  #wordEnd(pos: number): number {
    while (pos < this.#len) {
      const c = this.#src.charCodeAt(pos);
      // ASCII fast path: letters, digits, `_`, `-`, `.`.
      if (c < 0x80) {
        if (
          (c >= 0x61 && c <= 0x7a) ||
          (c >= 0x41 && c <= 0x5a) ||
          (c >= 0x30 && c <= 0x39) ||
          c === 0x5f ||
          c === 0x2d ||
          c === 0x2e
        ) {
          pos++;
          continue;
        }
        break;
      }
      const ch = charAt(this.#src, pos);
      if (!isWordChar(ch)) break;
      pos += ch.length;
    }
    return pos;
  }

  #word(pos: number): string {
    return this.#src.slice(pos, this.#wordEnd(pos));
  }

  /** nom `tag`: does the input at `pos` start with `t`? Returns the position after it, or -1. */
  #tag(pos: number, t: string): number {
    return this.#src.startsWith(t, pos) ? pos + t.length : -1;
  }

  /** `word_exact(tag)` (no surrounding whitespace): position after the word, or -1. */
  #wordExact(pos: number, tag: string): number {
    const end = this.#wordEnd(pos);
    return end - pos === tag.length && this.#src.startsWith(tag, pos) ? end : -1;
  }

  /** `ws(word_exact(tag))`. */
  #wsWordExact(pos: number, tag: string): number {
    const at = this.#wordExact(this.#skipMultispace(pos), tag);
    return at === -1 ? -1 : this.#skipMultispace(at);
  }

  /** `multispace1`: position after at least one ASCII space, or -1. */
  #multispace1(pos: number): number {
    const end = this.#skipMultispace(pos);
    return end === pos ? -1 : end;
  }

  #token(value: string, start: number, end: number): Token {
    return { value, start, end, source: this.#src };
  }

  // ---- expressions -----------------------------------------------------------------------------

  #or(pos: number, depth: number): Parsed<FilterNode> {
    if (depth > MAX_PARSE_DEPTH) throw this.#error({ k: 'depthLimit' }, pos);
    const first = this.#and(pos, depth + 1);
    const children: FilterNode[] = [first.value];
    let at = first.pos;
    for (;;) {
      const next = this.#wsWordExact(at, 'OR');
      if (next === -1) break;
      const r = this.#cut(() => this.#and(next, depth + 1));
      children.push(r.value);
      at = r.pos;
    }
    return { pos: at, value: children.length === 1 ? first.value : { type: 'or', children } };
  }

  #and(pos: number, depth: number): Parsed<FilterNode> {
    if (depth > MAX_PARSE_DEPTH) throw this.#error({ k: 'depthLimit' }, pos);
    const first = this.#not(pos, depth + 1);
    const children: FilterNode[] = [first.value];
    let at = first.pos;
    for (;;) {
      const next = this.#wsWordExact(at, 'AND');
      if (next === -1) break;
      const r = this.#cut(() => this.#not(next, depth + 1));
      children.push(r.value);
      at = r.pos;
    }
    return { pos: at, value: children.length === 1 ? first.value : { type: 'and', children } };
  }

  #not(pos: number, depth: number): Parsed<FilterNode> {
    if (depth > MAX_PARSE_DEPTH) throw this.#error({ k: 'depthLimit' }, pos);
    const afterNot = this.#wsWordExact(pos, 'NOT');
    if (afterNot !== -1) {
      const r = this.#cut(() => this.#not(afterNot, depth + 1));
      const value: FilterNode = r.value.type === 'not' ? r.value.child : { type: 'not', child: r.value };
      return { pos: r.pos, value };
    }
    return this.#primary(pos, depth + 1);
  }

  #primary(pos: number, depth: number): Parsed<FilterNode> {
    if (depth > MAX_PARSE_DEPTH) throw this.#error({ k: 'depthLimit' }, pos);

    // `(` expression `)`
    const open = this.#skipMultispace(pos);
    if (this.#src.charCodeAt(open) === 0x28) {
      const inner = this.#cut(() => this.#or(this.#skipMultispace(open + 1), depth + 1));
      const close = this.#skipMultispace(inner.pos);
      if (this.#src.charCodeAt(close) !== 0x29) {
        throw this.#failure({ k: 'missingClosingDelimiter', ch: ')' }, pos);
      }
      return { pos: this.#skipMultispace(close + 1), value: inner.value };
    }

    const geo = this.#geoRadius(pos) ?? this.#geoBoundingBox(pos) ?? this.#geoPolygon(pos);
    if (geo) return geo;

    // Every remaining alternative starts with a value; nom parses it again in each, with the
    // same outcome, so parse it once.
    const first = this.#value(pos); // a failure here propagates, as it would from `parse_in`
    if (first instanceof Fail) {
      if (first.kind.k === 'expectedValue' && first.kind.keyword) {
        // `parse_error_reserved_keyword`: a keyword where a field name was expected.
        first.failure = true;
        throw first;
      }
      throw this.#error({ k: 'invalidPrimary' }, pos);
    }
    const attribute = first.value;
    const after = first.pos;
    const src = this.#src;

    // value IN [ … ]  (past the `IN` keyword, errors are failures)
    if (this.#wsWordExact(after, 'IN') !== -1) {
      const inBody = this.#inBody(after);
      return { pos: inBody.pos, value: { type: 'in', attribute, values: inBody.value } };
    }
    // value NOT IN [ … ]
    const notAt = this.#wordExact(after, 'NOT');
    if (notAt !== -1 && this.#wsWordExact(notAt, 'IN') !== -1) {
      const notIn = this.#inBody(notAt);
      return { pos: notIn.pos, value: { type: 'not', child: { type: 'in', attribute, values: notIn.value } } };
    }
    // value (<= >= != < > =) value
    const op = src.startsWith('<=', after)
      ? '<='
      : src.startsWith('>=', after)
        ? '>='
        : src.startsWith('!=', after)
          ? '!='
          : src[after] === '<'
            ? '<'
            : src[after] === '>'
              ? '>'
              : src[after] === '='
                ? '='
                : null;
    if (op !== null) {
      const value = this.#cut(() => this.#valueOrThrow(after + op.length));
      return { pos: value.pos, value: { type: 'comparison', attribute, op: op as ComparisonOp, value: value.value } };
    }
    // value IS NULL / IS NOT NULL / IS EMPTY / IS NOT EMPTY
    const isAt = this.#tag(after, 'IS');
    if (isAt !== -1) {
      const s1 = this.#multispace1(isAt);
      if (s1 !== -1) {
        let end = this.#tag(s1, 'NULL');
        if (end !== -1) return { pos: end, value: { type: 'isNull', attribute } };
        const notAt2 = this.#tag(s1, 'NOT');
        const s2 = notAt2 === -1 ? -1 : this.#multispace1(notAt2);
        if (s2 !== -1) {
          end = this.#tag(s2, 'NULL');
          if (end !== -1) return { pos: end, value: { type: 'not', child: { type: 'isNull', attribute } } };
        }
        end = this.#tag(s1, 'EMPTY');
        if (end !== -1) return { pos: end, value: { type: 'isEmpty', attribute } };
        if (s2 !== -1) {
          end = this.#tag(s2, 'EMPTY');
          if (end !== -1) return { pos: end, value: { type: 'not', child: { type: 'isEmpty', attribute } } };
        }
      }
    }
    // value EXISTS
    let end = this.#tag(after, 'EXISTS');
    if (end !== -1) return { pos: end, value: { type: 'exists', attribute } };
    // value NOT EXISTS
    const notTag = this.#tag(after, 'NOT');
    const notSpace = notTag === -1 ? -1 : this.#multispace1(notTag);
    if (notSpace !== -1) {
      end = this.#tag(notSpace, 'EXISTS');
      if (end !== -1) return { pos: end, value: { type: 'not', child: { type: 'exists', attribute } } };
    }
    // value value TO value
    const from = this.#value(after);
    if (!(from instanceof Fail)) {
      const toAt = this.#tag(from.pos, 'TO');
      const toSpace = toAt === -1 ? -1 : this.#multispace1(toAt);
      if (toSpace !== -1) {
        const to = this.#cut(() => this.#valueOrThrow(toSpace));
        return { pos: to.pos, value: { type: 'range', attribute, from: from.value, to: to.value } };
      }
    }
    // value CONTAINS value
    end = this.#tag(after, 'CONTAINS');
    if (end !== -1) {
      const at = end;
      const word = this.#cut(() => this.#valueOrThrow(at));
      return { pos: word.pos, value: { type: 'contains', attribute, value: word.value } };
    }
    // value NOT CONTAINS value
    if (notSpace !== -1) {
      end = this.#tag(notSpace, 'CONTAINS');
      if (end !== -1) {
        const at = end;
        const word = this.#cut(() => this.#valueOrThrow(at));
        return { pos: word.pos, value: { type: 'not', child: { type: 'contains', attribute, value: word.value } } };
      }
    }
    // value STARTS WITH value
    end = this.#tag(after, 'STARTS WITH');
    if (end !== -1) {
      const at = end;
      const word = this.#cut(() => this.#valueOrThrow(at));
      return { pos: word.pos, value: { type: 'startsWith', attribute, value: word.value } };
    }
    // value NOT STARTS WITH value
    if (notSpace !== -1) {
      end = this.#tag(notSpace, 'STARTS WITH');
      if (end !== -1) {
        const at = end;
        const word = this.#cut(() => this.#valueOrThrow(at));
        return {
          pos: word.pos,
          value: { type: 'not', child: { type: 'startsWith', attribute, value: word.value } },
        };
      }
    }
    throw this.#error({ k: 'invalidPrimary' }, pos);
  }

  /** `"IN" WS* "[" value_list "]"`, starting right after the attribute. */
  #inBody(pos: number): Parsed<Token[]> {
    const afterIn = this.#wsWordExact(pos, 'IN');
    if (afterIn === -1) throw this.#error({ k: 'internal' }, pos);
    if (this.#src.charCodeAt(afterIn) !== 0x5b) throw this.#failure({ k: 'inOpeningBracket' }, afterIn);
    let at = afterIn + 1;
    const values: Token[] = [];
    const first = this.#value(at);
    if (!(first instanceof Fail)) {
      values.push(first.value);
      at = first.pos;
      for (;;) {
        const comma = this.#skipMultispace(at);
        if (this.#src.charCodeAt(comma) !== 0x2c) break;
        const next = this.#value(this.#skipMultispace(comma + 1));
        if (next instanceof Fail) break;
        values.push(next.value);
        at = next.pos;
      }
      const comma = this.#skipMultispace(at);
      if (this.#src.charCodeAt(comma) === 0x2c) at = this.#skipMultispace(comma + 1);
    }
    const close = this.#skipMultispace(at);
    if (this.#src.charCodeAt(close) !== 0x5d) {
      if (at === this.#len) throw this.#failure({ k: 'inClosingBracket' }, at);
      throw this.#failure({ k: 'inExpectedValue' }, at);
    }
    return { pos: this.#skipMultispace(close + 1), value: values };
  }

  #valueOrThrow(pos: number): Parsed<Token> {
    const r = this.#value(pos);
    if (r instanceof Fail) throw r;
    return r;
  }

  /**
   * `value = WS* (word | 'single quoted' | "double quoted") WS*`. Returns a recoverable error as a
   * value; throws failures.
   */
  #value(input: number): Parsed<Token> | Fail {
    const src = this.#src;
    const pos = this.#skipUnicodeWhitespace(input);

    // Misused geo expressions are errors wherever a value is expected.
    if (src.startsWith('_geoPoint', pos)) throw this.#failure({ k: 'reservedGeo', name: '_geoPoint' }, pos);
    if (src.startsWith('_geoDistance', pos)) throw this.#failure({ k: 'reservedGeo', name: '_geoDistance' }, pos);
    const word = this.#word(pos);
    if (word === '_geo') throw this.#failure({ k: 'reservedGeo', name: '_geo' }, pos);
    if (word === '_geoRadius') throw this.#failure({ k: 'misusedGeoRadius' }, pos);
    if (word === '_geoBoundingBox') throw this.#failure({ k: 'misusedGeoBoundingBox' }, pos);

    const quote = src[pos];
    if (quote === "'" || quote === '"') {
      const contentStart = pos + 1;
      let i = contentStart;
      let escaped = false;
      while (i < this.#len) {
        const ch = charAt(src, i);
        if (ch === quote) {
          const raw = src.slice(contentStart, i);
          const value = unescapeLossy(escaped ? raw.replaceAll(`\\${quote}`, quote) : raw);
          return { pos: this.#skipMultispace(i + 1), value: this.#token(value, contentStart, i) };
        }
        if (ch === '\\') {
          if (i + 1 >= this.#len) throw this.#failure({ k: 'malformedValue' }, contentStart);
          const next = charAt(src, i + 1);
          if (next === quote) escaped = true;
          i += 1 + next.length;
        } else {
          i += ch.length;
        }
      }
      throw this.#failure({ k: 'missingClosingDelimiter', ch: quote }, pos);
    }

    if (word.length === 0 || KEYWORDS.has(word)) {
      return this.#error({ k: 'expectedValue', keyword: word.length > 0 }, pos, this.#errorWordEnd(pos));
    }
    const end = pos + word.length;
    return { pos: this.#skipMultispace(end), value: this.#token(word, pos, end) };
  }

  /** The fragment shown for "Was expecting a value": everything up to whitespace or `()=<>!`. */
  #errorWordEnd(pos: number): number {
    while (pos < this.#len) {
      const ch = charAt(this.#src, pos);
      if (isUnicodeWhitespace(ch) || '()=<>!'.includes(ch)) break;
      pos += ch.length;
    }
    return pos;
  }

  // ---- geo -------------------------------------------------------------------------------------

  /** nom `recognize_float`; returns the end position or -1. */
  #float(pos: number): number {
    const m = FLOAT_PREFIX.exec(this.#src.slice(pos, pos + 400));
    return m === null ? -1 : pos + m[0].length;
  }

  /** `ws(float)` separated by `,`, at least one; -1 position when malformed. */
  #floatList(pos: number): Parsed<Token[]> | null {
    const tokens: Token[] = [];
    let at = pos;
    for (;;) {
      const start = this.#skipMultispace(at);
      const end = this.#float(start);
      if (end === -1) return tokens.length === 0 ? null : { pos: at, value: tokens };
      tokens.push(this.#token(this.#src.slice(start, end), start, end));
      at = this.#skipMultispace(end);
      if (this.#src.charCodeAt(at) !== 0x2c) return { pos: at, value: tokens };
      const afterComma = at + 1;
      const nextStart = this.#skipMultispace(afterComma);
      if (this.#float(nextStart) === -1) return { pos: at, value: tokens };
      at = afterComma;
    }
  }

  /** `[float, float, …]` lists separated by `,`; null when malformed. */
  #pointList(pos: number): Parsed<Token[][]> | null {
    const points: Token[][] = [];
    let at = pos;
    for (;;) {
      const open = this.#skipMultispace(at);
      if (this.#src.charCodeAt(open) !== 0x5b) return points.length === 0 ? null : { pos: at, value: points };
      const list = this.#floatList(open + 1);
      if (list === null || this.#src.charCodeAt(list.pos) !== 0x5d) return null;
      points.push(list.value);
      at = this.#skipMultispace(list.pos + 1);
      if (this.#src.charCodeAt(at) !== 0x2c) return { pos: at, value: points };
      // `separated_list1` backtracks to before the comma when no element follows it.
      if (this.#src.charCodeAt(this.#skipMultispace(at + 1)) !== 0x5b) return { pos: at, value: points };
      at += 1;
    }
  }

  #geoRadius(pos: number): Parsed<FilterNode> | null {
    const start = this.#skipMultispace(pos);
    const afterName = this.#wordExact(start, '_geoRadius');
    if (afterName === -1) return null;
    const fail = (): Fail => this.#failure({ k: 'geoRadius' }, pos);
    if (this.#src.charCodeAt(afterName) !== 0x28) throw fail();
    const args = this.#floatList(afterName + 1);
    if (args === null || this.#src.charCodeAt(args.pos) !== 0x29) throw fail();
    // Count errors point past the closing parenthesis, where nom's shadowed `input` is.
    const n = args.value.length;
    if (n !== 3 && n !== 4) throw this.#failure({ k: 'geoRadiusArgumentCount', count: n }, args.pos + 1);
    const [lat, lng, radius, resolution] = args.value as [Token, Token, Token, Token?];
    return {
      pos: args.pos + 1,
      value: { type: 'geoRadius', lat, lng, radius, resolution: resolution ?? null },
    };
  }

  #geoBoundingBox(pos: number): Parsed<FilterNode> | null {
    const start = this.#skipMultispace(pos);
    const afterName = this.#wordExact(start, '_geoBoundingBox');
    if (afterName === -1) return null;
    const fail = (): Fail => this.#failure({ k: 'geoBoundingBox' }, pos);
    if (this.#src.charCodeAt(afterName) !== 0x28) throw fail();
    const points = this.#pointList(afterName + 1);
    if (points === null || this.#src.charCodeAt(points.pos) !== 0x29) throw fail();
    const [a, b] = points.value;
    if (points.value.length !== 2 || a.length !== 2 || b.length !== 2) {
      throw this.#failure({ k: 'geoBoundingBox' }, points.pos + 1);
    }
    return {
      pos: points.pos + 1,
      value: { type: 'geoBoundingBox', topRight: [a[0], a[1]], bottomLeft: [b[0], b[1]] },
    };
  }

  #geoPolygon(pos: number): Parsed<FilterNode> | null {
    const start = this.#skipMultispace(pos);
    const afterName = this.#wordExact(start, '_geoPolygon');
    if (afterName === -1) return null;
    const fail = (): Fail => this.#failure({ k: 'geoPolygon' }, pos);
    if (this.#src.charCodeAt(afterName) !== 0x28) throw fail();
    const points = this.#pointList(afterName + 1);
    if (points === null || this.#src.charCodeAt(points.pos) !== 0x29) throw fail();
    for (const p of points.value) {
      if (p.length !== 2) throw this.#failure({ k: 'geoCoordinatesNotPair', count: p.length }, points.pos + 1);
    }
    if (points.value.length < 3) {
      throw this.#failure({ k: 'geoPolygonNotEnoughPoints', count: points.value.length }, points.pos + 1);
    }
    return {
      pos: points.pos + 1,
      value: { type: 'geoPolygon', points: points.value.map((p) => [p[0], p[1]] as const) },
    };
  }

  // ---- messages --------------------------------------------------------------------------------

  #toFilterError(f: Fail): FilterError {
    const fragment = this.#src.slice(f.start, f.end);
    const esc = escapeDebug(fragment);
    const k = f.kind;
    let msg: string;
    switch (k.k) {
      case 'expectedValue':
        if (fragment.trim() === '') msg = 'Was expecting a value but instead got nothing.';
        else if (k.keyword)
          msg = `Was expecting a value but instead got \`${esc}\`, which is a reserved keyword. To use \`${esc}\` as a field name or a value, surround it by quotes.`;
        else msg = `Was expecting a value but instead got \`${esc}\`.`;
        break;
      case 'malformedValue':
        msg = `Malformed value: \`${esc}\`.`;
        break;
      case 'missingClosingDelimiter':
        msg = `Expression \`${esc}\` is missing the following closing delimiter: \`${k.ch}\`.`;
        break;
      case 'invalidPrimary':
        msg = `${OPERATION_LIST} ${fragment.trim() === '' ? 'but instead got nothing.' : `at \`${esc}\`.`}`;
        break;
      case 'expectedEof':
        msg = `Found unexpected characters at the end of the filter: \`${esc}\`. You probably forgot an \`OR\` or an \`AND\` rule.`;
        break;
      case 'geoRadius':
        msg =
          'The `_geoRadius` filter must be in the form: `_geoRadius(latitude, longitude, radius, optionalResolution)`.';
        break;
      case 'geoRadiusArgumentCount':
        msg = `Was expecting 3 or 4 arguments for \`_geoRadius\`, but instead found ${k.count}.`;
        break;
      case 'geoBoundingBox':
        msg =
          'The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.';
        break;
      case 'geoPolygon':
        msg =
          "The `_geoPolygon` filter doesn't match the expected format: `_geoPolygon([latitude, longitude], [latitude, longitude])`.";
        break;
      case 'geoPolygonNotEnoughPoints':
        msg = `The \`_geoPolygon\` filter expects at least 3 points but only ${k.count} were specified`;
        break;
      case 'geoCoordinatesNotPair':
        msg = `Was expecting 2 coordinates but instead found ${k.count}.`;
        break;
      case 'reservedGeo':
        msg = `\`${k.name}\` is a reserved keyword and thus can't be used as a filter expression. ${GEO_REMINDER}`;
        break;
      case 'misusedGeoRadius':
        msg = "The `_geoRadius` filter is an operation and can't be used as a value.";
        break;
      case 'misusedGeoBoundingBox':
        msg = "The `_geoBoundingBox` filter is an operation and can't be used as a value.";
        break;
      case 'inOpeningBracket':
        msg = 'Expected `[` after `IN` keyword.';
        break;
      case 'inClosingBracket':
        msg = 'Expected matching `]` after the list of field names given to `IN[`';
        break;
      case 'inExpectedValue':
        msg = `Expected only comma-separated field names inside \`IN[..]\` but instead found \`${esc}\`.`;
        break;
      case 'depthLimit':
        msg =
          'The filter exceeded the maximum depth limit. Try rewriting the filter so that it contains fewer nested conditions.';
        break;
      case 'reservedKeyword':
      case 'char':
      case 'internal':
        msg = 'Encountered an internal `Tag` error while parsing your filter. Please fill an issue';
        break;
    }
    return FilterError.at(msg, this.#src, f.start, f.end);
  }
}

/** nom `recognize_float`: sign, digits with optional fraction (or `.digits`), optional exponent. */
const FLOAT_PREFIX = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;

/** Parse one filter string. Blank strings are no filter (null). */
export function parseFilterString(input: string): FilterNode | null {
  if (input.trim() === '') return null;
  return new Parser(input).parse();
}
