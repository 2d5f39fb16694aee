/**
 * Query text → query items, as milli's `located_query_terms_from_tokens`
 * (`search/new/query_term/parse_query.rs`):
 * - words are terms; a word that is the very last token of the query (no separator after it)
 *   is a prefix term, even a stop word; other stop words are dropped (they keep their position);
 * - `"…"` is a phrase: its words must be consecutive; stop words inside it are kept as
 *   placeholders; a hard separator (`.`, `!`, newline…) inside a phrase closes it and opens a
 *   new one; an unclosed quote makes the rest of the query a phrase; an empty phrase is nothing;
 * - `-word` (a minus right after whitespace or the start) negates the next word, `-"…"` the
 *   next phrase; negated items are not terms;
 * - parsing stops once 10 terms are collected (phrases count as one).
 * Each separator character is treated as one separator token, as charabia yields them.
 */
import { HARD_SEP_RE, Tokenizer } from './tokenizer.js';
import { MAX_QUERY_WORDS } from './scratch.js';

/** A query term: one word, or a phrase of words (`null` for a stop word placeholder). */
export type QueryItem =
  | { kind: 'word'; word: string; prefix: boolean; position: number }
  | { kind: 'phrase'; words: Array<string | null>; position: number; end: number };

export interface ParsedQuery {
  items: QueryItem[];
  negativeWords: string[];
  negativePhrases: Array<Array<string | null>>;
}

const WHITESPACE_RE = /\s/u;

/**
 * Parse `text`. `isStopWord` tells stop words (normalized); `prefixAllowed` is false with
 * `prefixSearch: "disabled"`; `tokenizer` applies the index's tokenization settings.
 */
export function parseQuery(
  text: string,
  isStopWord: (w: string) => boolean,
  prefixAllowed: boolean,
  tokenizer: Tokenizer = Tokenizer.default,
): ParsedQuery {
  const items: QueryItem[] = [];
  const negativeWords: string[] = [];
  const negativePhrases: Array<Array<string | null>> = [];
  const tokens = tokenizer.tokenize(text);

  let phrase: { words: Array<string | null>; position: number; end: number } | null = null;
  let negativePhrase = false;
  let negativeNext = false;
  let whitespaceBefore = true;

  const closePhrase = (): void => {
    const p = phrase;
    phrase = null;
    if (p === null || p.words.every((w) => w === null) || items.length >= MAX_QUERY_WORDS) return;
    if (negativePhrase) negativePhrases.push(p.words);
    else items.push({ kind: 'phrase', words: p.words, position: p.position, end: p.end });
  };
  const separator = (c: string): void => {
    if (HARD_SEP_RE.test(c) && phrase !== null) {
      // A hard separator closes the phrase and opens a new one (same polarity).
      closePhrase();
      phrase = { words: [], position: -1, end: -1 };
    }
    if (c === '"') {
      if (phrase !== null) {
        closePhrase();
        negativePhrase = false;
      } else {
        negativePhrase = negativeNext;
        phrase = { words: [], position: -1, end: -1 };
      }
    }
    negativeNext = phrase === null && c === '-' && whitespaceBefore;
    whitespaceBefore = WHITESPACE_RE.test(c);
  };

  let prevEnd = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    for (const c of text.slice(prevEnd, tok.start)) separator(c);
    prevEnd = tok.end;
    if (items.length >= MAX_QUERY_WORDS) return { items, negativeWords, negativePhrases };
    const stop = isStopWord(tok.word);
    const open = phrase as { words: Array<string | null>; position: number; end: number } | null;
    if (open !== null) {
      if (open.words.every((w) => w === null)) open.position = tok.pos;
      open.end = tok.pos;
      open.words.push(stop ? null : tok.word);
    } else if (negativeNext) {
      negativeWords.push(tok.word);
      negativeNext = false;
    } else if (tok.end < text.length) {
      if (!stop) items.push({ kind: 'word', word: tok.word, prefix: false, position: tok.pos });
    } else {
      items.push({ kind: 'word', word: tok.word, prefix: prefixAllowed, position: tok.pos });
    }
    whitespaceBefore = false;
  }
  for (const c of text.slice(prevEnd)) separator(c);
  // An unclosed quote: the rest of the query is the phrase.
  closePhrase();
  return { items, negativeWords, negativePhrases };
}
