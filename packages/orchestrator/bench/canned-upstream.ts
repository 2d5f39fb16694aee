/**
 * An "instant node" for the proxy benchmark: a bare `node:http` server that answers a search with
 * a fixed ~1.3 KB Meilisearch response and nothing else to do, so any time measured through a
 * proxy in front of it is the proxy's. It also answers the few other calls Miroir makes (index,
 * settings, health) with fixed bodies.
 *
 * Run as a child process: `node canned-upstream.js <count>` listens on `count` ephemeral ports
 * (one per simulated node) in one process and prints `{"ports":[…]}` on its first stdout line.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { defaultSettings } from '@miroir/protocol';

/** The index every benchmark request targets. */
export const BENCH_INDEX = 'bench';

const DETAILS = (words: number, proximity: number) => ({
  words: { order: 0, matchingWords: 1, maxMatchingWords: 1, score: words },
  typo: { order: 1, typoCount: 0, maxTypoCount: 1, score: 1 },
  proximity: { order: 2, score: proximity },
  attribute: { order: 3, attributeRankingOrderScore: 1, queryWordDistanceScore: 1, score: 1 },
  exactness: { order: 4, matchType: 'exactMatch', score: 1 },
});

const TITLES = ['Carol', 'Wonder Woman', 'Life of Pi', 'Mad Max: Fury Road', 'Moana', 'Philadelphia'];

/** A search answer as a node gives it to Miroir (scores and details on): about 1.3 KB. */
export const CANNED_SEARCH = JSON.stringify({
  hits: TITLES.slice(0, 3).map((title, i) => ({
    id: 100 + i,
    title,
    genre: i % 2 === 0 ? 'drama' : 'action',
    _rankingScore: 1 - i * 0.05,
    _rankingScoreDetails: DETAILS(1, 1 - i * 0.1),
  })),
  query: 'wonder',
  processingTimeMs: 0,
  limit: 20,
  offset: 0,
  estimatedTotalHits: 3,
});

const INDEX = JSON.stringify({ uid: BENCH_INDEX, primaryKey: 'id', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
const SETTINGS = JSON.stringify(defaultSettings());
const HEALTH = JSON.stringify({ status: 'available' });
const NOT_FOUND = JSON.stringify({ message: 'Not found.', code: 'not_found', type: 'invalid_request', link: '' });

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  // The request body is drained, never parsed: an instant node costs nothing per request.
  req.resume();
  req.on('end', () => {
    const url = req.url ?? '/';
    if (url === `/indexes/${BENCH_INDEX}/search`) answer(res, 200, CANNED_SEARCH);
    else if (url === `/indexes/${BENCH_INDEX}`) answer(res, 200, INDEX);
    else if (url === `/indexes/${BENCH_INDEX}/settings`) answer(res, 200, SETTINGS);
    else if (url === '/health') answer(res, 200, HEALTH);
    else answer(res, 404, NOT_FOUND);
  });
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 1);
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer({ keepAliveTimeout: 60_000 }, handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    ports.push(addr.port);
  }
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
}

if (process.argv[1]?.endsWith('canned-upstream.js')) await main();
