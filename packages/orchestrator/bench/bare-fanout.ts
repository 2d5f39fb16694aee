/**
 * The baseline the proxy benchmark compares Miroir with: the least a fan-out search proxy can do
 * with the same stack (fastify + undici). It receives a search, sends it to every upstream, parses
 * each answer, sorts the hits by `_rankingScore`, slices the window and serializes. No auth, no
 * covering set, no metrics, no Meilisearch-exact merge.
 *
 * Run as a child process: `node bare-fanout.js <upstream-url>…`; prints `{"url":…}` when listening.
 */
import Fastify from 'fastify';
import { Pool } from 'undici';

interface Hit {
  _rankingScore?: number;
  [k: string]: unknown;
}
interface Answer {
  hits: Hit[];
  estimatedTotalHits?: number;
}

const pools = process.argv.slice(2).map((u) => new Pool(u, { connections: 128, pipelining: 1 }));
const app = Fastify({ logger: false });

app.post<{ Params: { uid: string }; Body: Record<string, unknown> }>('/indexes/:uid/search', async (req) => {
  const query = req.body ?? {};
  const limit = typeof query.limit === 'number' ? query.limit : 20;
  const offset = typeof query.offset === 'number' ? query.offset : 0;
  const body = JSON.stringify({ ...query, offset: 0, limit: offset + limit, showRankingScore: true });
  const path = `/indexes/${encodeURIComponent(req.params.uid)}/search`;
  const answers = await Promise.all(
    pools.map(async (pool) => {
      const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body });
      return (await res.body.json()) as Answer;
    }),
  );
  const hits = answers.flatMap((a) => a.hits).sort((a, b) => (b._rankingScore ?? 0) - (a._rankingScore ?? 0));
  return {
    hits: hits.slice(offset, offset + limit),
    query: query.q ?? '',
    processingTimeMs: 0,
    limit,
    offset,
    estimatedTotalHits: answers.reduce((n, a) => n + (a.estimatedTotalHits ?? 0), 0),
  };
});

await app.listen({ port: 0, host: '127.0.0.1' });
const addr = app.server.address();
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` })}\n`);
