/**
 * Engine benchmark: a deterministic corpus of ~0.5 KB documents (Zipf-distributed words from a
 * fixed synthetic vocabulary, numeric and string facet fields), then
 *   1. in-process: indexing docs/s into `SearchIndex` (documents in a Map), search latency
 *      p50/p99 over 1,000 mixed queries (words, multi-word, typos, filters, facets, sort);
 *   2. with `--http`: the same through the engine HTTP API with the official `meilisearch`
 *      client (`addDocuments` in batches + `waitForTask`, then the same queries).
 * Prints a table and writes JSON (`--out`, default `dist/bench/engine-bench.json`, next to the
 * compiled bench and git-ignored with `dist/`).
 *
 * Usage: npm run bench -w @miroir/engine -- [--docs 100000] [--queries 1000] [--http] [--out file]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultSettings, type SearchQuery, type Settings } from '@miroir/protocol';
import { SearchIndex, type Document } from '@miroir/search';

interface Args {
  docs: number;
  queries: number;
  http: boolean;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { docs: 100_000, queries: 1000, http: false, out: join('dist', 'bench', 'engine-bench.json') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--docs') a.docs = Number(argv[++i]);
    else if (k === '--queries') a.queries = Number(argv[++i]);
    else if (k === '--http') a.http = true;
    else if (k === '--out') a.out = argv[++i];
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

/** mulberry32: small deterministic PRNG. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'ze', 'bra', 'cho', 'dri', 'fle', 'gra', 'pli', 'stu', 'tro', 'qua', 'ven', 'mor', 'lin', 'das', 'pek', 'wor'];

function makeVocabulary(n: number, rand: () => number): string[] {
  const seen = new Set<string>();
  while (seen.size < n) {
    const len = 1 + Math.floor(rand() * 4);
    let w = '';
    for (let i = 0; i < len; i++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
    seen.add(w);
  }
  return [...seen];
}

/** Zipf(s) sampler over ranks 0..n-1 by inverse CDF. */
function zipf(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / Math.pow(i + 1, s);
    cdf[i] = sum;
  }
  return () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface Corpus {
  docs: Document[];
  vocabulary: string[];
  genres: string[];
  brands: string[];
}

function makeCorpus(count: number): Corpus {
  const rand = rng(42);
  const vocabulary = makeVocabulary(20_000, rand);
  const pick = zipf(vocabulary.length, 1.07, rand);
  const sentence = (n: number): string => Array.from({ length: n }, () => vocabulary[pick()]).join(' ');
  const genres = Array.from({ length: 20 }, (_, i) => `Genre ${vocabulary[i * 7 + 3]}`);
  const brands = Array.from({ length: 200 }, (_, i) => `Brand${i}`);
  const tags = Array.from({ length: 50 }, (_, i) => `tag-${i}`);
  const docs: Document[] = [];
  for (let i = 0; i < count; i++) {
    docs.push({
      id: i,
      title: sentence(4 + Math.floor(rand() * 6)),
      description: sentence(30 + Math.floor(rand() * 20)),
      genre: genres[Math.floor(Math.pow(rand(), 2) * genres.length)],
      brand: brands[Math.floor(rand() * brands.length)],
      tags: Array.from({ length: 2 + Math.floor(rand() * 3) }, () => tags[Math.floor(rand() * tags.length)]),
      price: Math.round(rand() * 20_000) / 100,
      year: 1950 + Math.floor(rand() * 75),
      rating: Math.round(rand() * 50) / 10,
    });
  }
  return { docs, vocabulary, genres, brands };
}

function benchSettings(): Settings {
  return {
    ...defaultSettings(),
    searchableAttributes: ['title', 'description', 'genre', 'brand', 'tags'],
    filterableAttributes: ['genre', 'brand', 'tags', 'price', 'year', 'rating'],
    sortableAttributes: ['price', 'year', 'rating'],
  };
}

function makeQueries(c: Corpus, n: number): SearchQuery[] {
  const rand = rng(7);
  const pick = zipf(c.vocabulary.length, 1.07, rand);
  const word = (): string => c.vocabulary[rand() < 0.5 ? pick() : Math.floor(rand() * 2000)];
  const typo = (w: string): string => {
    if (w.length < 5) return w;
    const i = 1 + Math.floor(rand() * (w.length - 1));
    return w.slice(0, i) + 'x' + w.slice(i + 1);
  };
  const qs: SearchQuery[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.25) qs.push({ q: word() });
    else if (r < 0.45) qs.push({ q: `${word()} ${word()}${rand() < 0.5 ? ` ${word()}` : ''}` });
    else if (r < 0.55) qs.push({ q: `${typo(word())} ${word()}` });
    else if (r < 0.7) {
      qs.push({
        q: word(),
        filter: `genre = "${c.genres[Math.floor(rand() * c.genres.length)]}" AND price < ${Math.floor(rand() * 200)}`,
      });
    } else if (r < 0.85) qs.push({ q: word(), facets: ['genre', 'brand', 'price'] });
    else if (r < 0.95) qs.push({ q: word(), sort: [rand() < 0.5 ? 'price:asc' : 'year:desc'] });
    else qs.push({ filter: `year > ${1950 + Math.floor(rand() * 70)}`, facets: ['genre'], sort: ['rating:desc'] });
  }
  return qs;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface PhaseResult {
  mode: string;
  docs: number;
  indexSeconds: number;
  docsPerSecond: number;
  queries: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  rssMiB: number;
}

let peakRss = 0;
function sampleRss(): number {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
  return rss;
}

function summarize(mode: string, docs: number, indexSeconds: number, latencies: number[]): PhaseResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    mode,
    docs,
    indexSeconds: Number(indexSeconds.toFixed(2)),
    docsPerSecond: Math.round(docs / indexSeconds),
    queries: latencies.length,
    p50Ms: Number(percentile(sorted, 50).toFixed(2)),
    p99Ms: Number(percentile(sorted, 99).toFixed(2)),
    meanMs: Number((latencies.reduce((s, x) => s + x, 0) / latencies.length).toFixed(2)),
    rssMiB: Math.round(peakRss / 2 ** 20),
  };
}

function inProcess(c: Corpus, queries: SearchQuery[]): PhaseResult {
  const store = new Map<number, Document>();
  const index = new SearchIndex(benchSettings(), { getDocument: (iid) => store.get(iid) });
  const t0 = performance.now();
  c.docs.forEach((d, iid) => {
    store.set(iid, d);
    index.add(iid, d);
    if ((iid & 0x3fff) === 0) sampleRss();
  });
  index.flush();
  const indexSeconds = (performance.now() - t0) / 1000;
  sampleRss();
  // Warm-up: JIT and lazily built structures.
  for (const q of queries.slice(0, 50)) index.search(q, 'bench');
  const latencies: number[] = [];
  for (const q of queries) {
    const s = performance.now();
    index.search(q, 'bench');
    latencies.push(performance.now() - s);
  }
  sampleRss();
  return summarize('in-process SearchIndex', c.docs.length, indexSeconds, latencies);
}

async function overHttp(c: Corpus, queries: SearchQuery[]): Promise<PhaseResult> {
  const { startEngine } = await import('../src/index.js');
  const { Meilisearch } = await import('meilisearch');
  const dataDir = mkdtempSync(join(tmpdir(), 'miroir-engine-bench-'));
  const engine = await startEngine({ port: 0, dataDir } as Parameters<typeof startEngine>[0]);
  try {
    const client = new Meilisearch({ host: engine.url });
    const index = client.index('bench');
    await client.createIndex('bench', { primaryKey: 'id' }).waitTask();
    const s = benchSettings();
    await index
      .updateSettings({
        searchableAttributes: s.searchableAttributes,
        filterableAttributes: s.filterableAttributes as string[],
        sortableAttributes: s.sortableAttributes,
      })
      .waitTask();
    const t0 = performance.now();
    const batch = 10_000;
    for (let i = 0; i < c.docs.length; i += batch) {
      await index.addDocuments(c.docs.slice(i, i + batch)).waitTask({ timeout: 600_000 });
      sampleRss();
    }
    const indexSeconds = (performance.now() - t0) / 1000;
    for (const q of queries.slice(0, 50)) await index.search(q.q ?? null, toClient(q));
    const latencies: number[] = [];
    for (const q of queries) {
      const st = performance.now();
      await index.search(q.q ?? null, toClient(q));
      latencies.push(performance.now() - st);
    }
    sampleRss();
    return summarize('engine over HTTP (meilisearch client)', c.docs.length, indexSeconds, latencies);
  } finally {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function toClient(q: SearchQuery): Record<string, unknown> {
  const { q: _q, ...rest } = q;
  return rest;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tc = performance.now();
  const corpus = makeCorpus(args.docs);
  const bytes = corpus.docs.reduce((s, d) => s + JSON.stringify(d).length, 0);
  const queries = makeQueries(corpus, args.queries);
  console.log(
    `corpus: ${args.docs} documents, mean ${Math.round(bytes / args.docs)} bytes, generated in ${((performance.now() - tc) / 1000).toFixed(1)} s`,
  );
  sampleRss();
  const results: PhaseResult[] = [inProcess(corpus, queries)];
  if (args.http) results.push(await overHttp(corpus, queries));
  console.table(results);
  const out = {
    date: new Date().toISOString(),
    node: process.version,
    documents: args.docs,
    meanDocumentBytes: Math.round(bytes / args.docs),
    queries: args.queries,
    peakRssMiB: Math.round(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 2 ** 20),
    results,
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`peak RSS ${out.peakRssMiB} MiB; results written to ${args.out}`);
}

await main();
