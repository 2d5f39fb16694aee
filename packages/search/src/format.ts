/**
 * Building returned hits: attribute selection (`attributesToRetrieve` ∩ `displayedAttributes`),
 * `_formatted` (highlight and crop) and `_matchesPosition` (byte offsets, as Meilisearch).
 */
import type { MatchBounds } from '@miroir/protocol';
import { firstMatch, matchesPattern, type Document } from './fields.js';
import { tokenize } from './tokenizer.js';

/** How a normalized word matches the query: highlight the whole word or its first n chars. */
export type Matcher = (word: string) => number | undefined;

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
      }
    }
  };
  const wantsDescendant = (path: string): boolean =>
    want.some((w) => w.startsWith(`${path}.`)) && displayed.some((d) => d === '*' || d.startsWith(`${path}.`) || matchesPattern(d, path));
  visit(doc, out, '');
  return out;
}

interface Span {
  start: number;
  end: number;
}

function matchSpans(text: string, matcher: Matcher): { spans: Span[]; tokens: ReturnType<typeof tokenize> } {
  const tokens = tokenize(text);
  const spans: Span[] = [];
  for (const t of tokens) {
    const n = matcher(t.word);
    if (n === undefined) continue;
    const len = n < 0 ? t.end - t.start : Math.min(n, t.end - t.start);
    spans.push({ start: t.start, end: t.start + len });
  }
  return { spans, tokens };
}

function highlight(text: string, spans: readonly Span[], pre: string, post: string, from = 0, to = text.length): string {
  let out = '';
  let at = from;
  for (const s of spans) {
    if (s.start < from || s.end > to) continue;
    out += text.slice(at, s.start) + pre + text.slice(s.start, s.end) + post;
    at = s.end;
  }
  return out + text.slice(at, to);
}

export interface FormatOptions {
  highlight: ReadonlySet<string> | 'all' | null;
  crop: ReadonlyMap<string, number> | null;
  cropAll: number | null;
  pre: string;
  post: string;
  marker: string;
}

function formatText(text: string, matcher: Matcher, doHighlight: boolean, cropLen: number | undefined, o: FormatOptions): string {
  const { spans, tokens } = matchSpans(text, matcher);
  if (cropLen === undefined) return doHighlight ? highlight(text, spans, o.pre, o.post) : text;
  if (tokens.length === 0 || cropLen === 0) return cropLen === 0 && tokens.length > 0 ? o.marker : text;
  // Window of `cropLen` words around the first match (from the start when nothing matches).
  const first = spans.length === 0 ? 0 : tokens.findIndex((t) => t.start === spans[0].start);
  let start = Math.max(0, first - Math.floor((cropLen - 1) / 2));
  const end = Math.min(tokens.length, start + cropLen);
  start = Math.max(0, end - cropLen);
  const from = start === 0 ? 0 : tokens[start].start;
  const to = end === tokens.length ? text.length : tokens[end - 1].end;
  const body = doHighlight ? highlight(text, spans, o.pre, o.post, from, to) : text.slice(from, to);
  return (start > 0 ? o.marker : '') + body + (end < tokens.length ? o.marker : '');
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
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = walk(x, path === '' ? k : `${path}.${k}`);
      return out;
    }
    const h = fieldIn(o.highlight, path);
    const c = cropFor(o, path);
    if (!h && c === undefined) return v;
    if (typeof v === 'string') return formatText(v, matcher, h, c, o);
    if (typeof v === 'number' || typeof v === 'boolean') return formatText(String(v), matcher, h, c, o);
    return v;
  };
  return walk(doc, '') as Document;
}

/** `_matchesPosition`: per field path, byte start/length of every match. */
export function matchesPosition(doc: Document, matcher: Matcher): Record<string, MatchBounds[]> {
  const out: Record<string, MatchBounds[]> = {};
  const walk = (v: unknown, path: string, index: number | undefined): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, path, i));
      return;
    }
    if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, path === '' ? k : `${path}.${k}`, index);
      return;
    }
    if (typeof v !== 'string' && typeof v !== 'number') return;
    const text = String(v);
    const { spans } = matchSpans(text, matcher);
    if (spans.length === 0) return;
    const list = (out[path] ??= []);
    for (const s of spans) {
      const b: MatchBounds = {
        start: Buffer.byteLength(text.slice(0, s.start)),
        length: Buffer.byteLength(text.slice(s.start, s.end)),
      };
      if (index !== undefined) b.indices = [index];
      list.push(b);
    }
  };
  walk(doc, '', undefined);
  return out;
}
