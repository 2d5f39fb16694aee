/**
 * Micro-benchmark: parse + compile once, evaluate over 100k synthetic documents.
 * Run: npx tsc -b packages/filter && node packages/filter/dist/bench/evaluate.bench.js
 */
import { compileFilter, parseFilter } from '../src/index.js';

const N = 100_000;
const genres = ['Fable', 'Sci-Fi', 'Drama', 'Horror', 'Comédie'];
const docs = Array.from({ length: N }, (_, i) => ({
  id: i,
  title: `Title number ${i}`,
  genre: genres[i % genres.length],
  price: (i % 1000) / 10,
  tags: [`t${i % 7}`, `t${i % 11}`],
  meta: { year: 1900 + (i % 120), lang: i % 2 ? 'fr' : 'en' },
}));

const filters = [
  'genre = fable',
  'price 10 TO 50 AND genre != drama',
  'tags IN [t1, t3, t5] OR meta.year > 2000',
  'NOT (genre = horror OR price < 5) AND meta.lang = fr',
  'title CONTAINS "number 9"',
  'genre STARTS WITH co',
];

// Two passes: the first one warms the JIT up; the second is reported.
for (const pass of [1, 2]) for (const f of filters) {
  const t0 = process.hrtime.bigint();
  const fn = compileFilter(parseFilter(f)!);
  let hits = 0;
  for (const d of docs) if (fn(d)) hits++;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (pass === 2) console.log(`${f.padEnd(56)} ${String(hits).padStart(6)} hits  ${ms.toFixed(1).padStart(7)} ms / ${N} docs`);
}

const src = 'a = 1 AND (b > 2 OR c IN [x, y, "z w"]) AND NOT d EXISTS OR e 1 TO 5';
const t0 = process.hrtime.bigint();
for (let i = 0; i < 10_000; i++) parseFilter(src);
console.log(`parse: ${(Number(process.hrtime.bigint() - t0) / 1e4 / 1e3).toFixed(1)} µs per filter (${src.length} chars)`);
