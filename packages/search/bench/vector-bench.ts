/**
 * Vector search latency of the in-process search core: random unit-ish embeddings, semantic
 * (ratio 1, with and without a filter) and hybrid (ratio 0.5 and 0.8) queries with limit 20.
 *
 * Usage: node dist/bench/vector-bench.js [--docs 10000] [--dims 384] [--queries 200]
 */
import { defaultSettings } from '@miroir/protocol';
import { SearchIndex, type Document } from '../src/index.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const N = arg('docs', 10_000);
const D = arg('dims', 384);
const Q = arg('queries', 200);

// Deterministic generator (mulberry32): runs are comparable.
let seed = 42;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const vec = (): number[] => Array.from({ length: D }, () => rand() * 2 - 1);
const WORDS = ['red', 'green', 'blue', 'apple', 'car', 'house', 'river', 'stone', 'light', 'music', 'paper', 'glass'];

const store = new Map<number, Document>();
const index = new SearchIndex(
  { ...defaultSettings(), filterableAttributes: ['group'], embedders: { emb: { source: 'userProvided', dimensions: D } } },
  { getDocument: (iid) => store.get(iid) },
);
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const doc = { id: i, group: i % 10, title: `${WORDS[i % 12]} ${WORDS[(i * 7) % 12]} ${WORDS[(i * 5) % 12]}`, _vectors: { emb: vec() } };
  store.set(i, doc);
  index.add(i, doc);
}
index.flush();
const indexSeconds = (performance.now() - t0) / 1000;

function measure(make: () => Parameters<SearchIndex['search']>[0]): { p50: number; p99: number; mean: number } {
  for (let i = 0; i < 10; i++) index.search(make(), 'bench');
  const times: number[] = [];
  for (let i = 0; i < Q; i++) {
    const q = make();
    const s = performance.now();
    index.search(q, 'bench');
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const at = (p: number): number => Number(times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(2));
  return { p50: at(0.5), p99: at(0.99), mean: Number((times.reduce((a, b) => a + b, 0) / times.length).toFixed(2)) };
}

const semantic = measure(() => ({ vector: vec(), hybrid: { embedder: 'emb', semanticRatio: 1 } }));
const filtered = measure(() => ({ vector: vec(), hybrid: { embedder: 'emb', semanticRatio: 1 }, filter: 'group = 3' }));
const hybrid = measure(() => ({ q: WORDS[Math.floor(rand() * 12)], vector: vec(), hybrid: { embedder: 'emb', semanticRatio: 0.5 } }));
// Ratio 0.8: keyword results are never "good enough", both lists are merged.
const merged = measure(() => ({ q: WORDS[Math.floor(rand() * 12)], vector: vec(), hybrid: { embedder: 'emb', semanticRatio: 0.8 } }));
console.table([
  { mode: 'semantic', ...semantic },
  { mode: 'semantic + filter', ...filtered },
  { mode: 'hybrid 0.5 (keyword good enough)', ...hybrid },
  { mode: 'hybrid 0.8 (merged)', ...merged },
]);
console.log(
  `docs ${N}, dims ${D}: indexed in ${indexSeconds.toFixed(2)} s; RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
);
