import { defaultSettings, type Settings } from '@miroir/protocol';
import { SearchIndex, type Document } from '../src/index.js';

/** A SearchIndex over an in-memory document map; iids follow insertion order. */
export function makeIndex(docs: Document[], patch: Partial<Settings> = {}): { index: SearchIndex; docs: Map<number, Document> } {
  const store = new Map<number, Document>();
  const index = new SearchIndex({ ...defaultSettings(), ...patch }, { getDocument: (iid) => store.get(iid) });
  docs.forEach((d, i) => {
    store.set(i, d);
    index.add(i, d);
  });
  return { index, docs: store };
}

export function ids(hits: ReadonlyArray<Record<string, unknown>>): unknown[] {
  return hits.map((h) => h.id);
}
