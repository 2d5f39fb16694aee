/**
 * The index vocabulary: word ↔ id, and a character trie used to find typo and prefix
 * derivations of a query word by a bounded Levenshtein walk (never a scan of all words).
 */

interface TrieNode {
  /** Child nodes by next character (one UTF-16 code unit per edge). */
  children: Map<number, TrieNode> | null;
  /** Word id ending here, or -1. */
  wordId: number;
}

function newNode(): TrieNode {
  return { children: null, wordId: -1 };
}

/** A derivation of a query word: a vocabulary word and its typo cost. */
export interface Derivation {
  wordId: number;
  typos: number;
  /** True when the derivation is the query word itself (not a typo, not a longer prefix match). */
  exact: boolean;
}

export class Vocabulary {
  readonly #ids = new Map<string, number>();
  readonly #words: string[] = [];
  readonly #root: TrieNode = newNode();

  get size(): number {
    return this.#words.length;
  }

  id(word: string): number | undefined {
    return this.#ids.get(word);
  }

  word(id: number): string {
    return this.#words[id];
  }

  /** Id of `word`, adding it when new. */
  intern(word: string): number {
    let id = this.#ids.get(word);
    if (id !== undefined) return id;
    id = this.#words.length;
    this.#words.push(word);
    this.#ids.set(word, id);
    let node = this.#root;
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      node.children ??= new Map();
      let next = node.children.get(c);
      if (next === undefined) {
        next = newNode();
        node.children.set(c, next);
      }
      node = next;
    }
    node.wordId = id;
    return id;
  }

  /**
   * Words within `maxTypos` edits of `query` (or, when `prefix`, words having a prefix within
   * `maxTypos` edits). Edits are Damerau's: a swap of two adjacent characters is one typo (milli
   * builds its automata with `LevenshteinAutomatonBuilder::new(n, true)`, transpositions on).
   * A typo on the first character counts double, as in Meilisearch.
   * Each word appears once with its lowest cost.
   */
  derivations(query: string, maxTypos: number, prefix: boolean): Derivation[] {
    const out = new Map<number, Derivation>();
    const add = (wordId: number, typos: number, exact: boolean): void => {
      const prev = out.get(wordId);
      if (prev === undefined || typos < prev.typos) out.set(wordId, { wordId, typos, exact });
    };
    const q = query;
    const m = q.length;
    if (maxTypos === 0) {
      // Exact walk only.
      let node: TrieNode | undefined = this.#root;
      for (let i = 0; i < m && node !== undefined; i++) node = node.children?.get(q.charCodeAt(i));
      if (node === undefined) return [];
      if (node.wordId >= 0) add(node.wordId, 0, true);
      if (prefix) this.#collect(node, (id) => add(id, 0, false));
      return [...out.values()];
    }
    const firstChar = q.charCodeAt(0);
    const row0 = new Array<number>(m + 1);
    for (let j = 0; j <= m; j++) row0[j] = j;
    // Depth-first walk carrying one DP row per depth; `best` is the lowest cost of a prefix
    // of the current path that matches the whole query (prefix mode only).
    const walk = (node: TrieNode, row: number[], prevRow: number[] | null, prevC: number, depth: number, first: number, best: number): void => {
      if (node.children === null) return;
      for (const [c, child] of node.children) {
        const f = depth === 0 ? c : first;
        const next = new Array<number>(m + 1);
        next[0] = row[0] + 1;
        let min = next[0];
        for (let j = 1; j <= m; j++) {
          const cost = q.charCodeAt(j - 1) === c ? 0 : 1;
          let v = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + cost);
          // Transposition of the last two characters (optimal string alignment distance).
          if (prevRow !== null && j >= 2 && c === q.charCodeAt(j - 2) && prevC === q.charCodeAt(j - 1) && prevRow[j - 2] + 1 < v) {
            v = prevRow[j - 2] + 1;
          }
          next[j] = v;
          if (v < min) min = v;
        }
        const penalty = f === firstChar ? 0 : 1;
        const full = next[m] + penalty;
        const nextBest = prefix ? Math.min(best, full) : Infinity;
        if (min + penalty > maxTypos) {
          // No deeper node can lower the cost; in prefix mode the subtree still matches.
          if (nextBest <= maxTypos) this.#collect(child, (id) => add(id, nextBest, false));
          continue;
        }
        const cost = prefix ? nextBest : full;
        if (child.wordId >= 0 && cost <= maxTypos) add(child.wordId, cost, full === 0 && depth + 1 === m);
        walk(child, next, row, c, depth + 1, f, nextBest);
      }
    };
    walk(this.#root, row0, null, -1, 0, -1, Infinity);
    return [...out.values()];
  }

  #collect(node: TrieNode, fn: (id: number) => void): void {
    const stack: TrieNode[] = [node];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.wordId >= 0) fn(n.wordId);
      if (n.children !== null) for (const child of n.children.values()) stack.push(child);
    }
  }
}
