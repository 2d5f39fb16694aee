/**
 * Serializes async sections per key (an index uid): the order in which writes to one index reach
 * the nodes is the order in which Miroir allocated their task uids. Hand-written because it is a
 * dozen lines and the libraries for it add queues and timeouts this path does not need.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const prev = sorted.map((k) => this.#tails.get(k) ?? Promise.resolve());
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    for (const k of sorted) this.#tails.set(k, mine);
    try {
      await Promise.all(prev);
      return await fn();
    } finally {
      release();
      for (const k of sorted) if (this.#tails.get(k) === mine) this.#tails.delete(k);
    }
  }
}
