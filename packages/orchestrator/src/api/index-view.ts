/**
 * Index metadata as one node holding every document shows it. A node learns an index's primary
 * key from the documents it gets (an inferred key comes with the first batch); with RF < nodes,
 * a node that owns none of those documents' shards still says `primaryKey: null`. The key the
 * index has is the one any node holds: a node that holds none is asked no further once another
 * answered one. Reads stay on one node while that node knows the key (the common case).
 *
 * @see https://www.meilisearch.com/docs/reference/api/indexes#get-one-index
 */
import type { Cluster } from '../cluster.js';
import { callEach, firstAnswer } from './fanout.js';

/** Index objects carry each node's own dates: two reads must show the same ones. */
const STABLE = { stable: true };

interface IndexView {
  uid: string;
  primaryKey: string | null;
}

/** Primary keys the other healthy nodes hold for `uids`, read with the same request. */
async function keysElsewhere(cluster: Cluster, path: string, uids: ReadonlySet<string>): Promise<Map<string, string>> {
  const ids = [...cluster.nodes.keys()].filter((id) => cluster.health.isHealthy(id));
  const answers = await callEach<IndexView | { results?: IndexView[] }>(cluster, ids, { method: 'GET', path });
  const keys = new Map<string, string>();
  for (const a of answers) {
    const body = a.ok?.body;
    if (body === undefined) continue;
    const views = 'results' in body && Array.isArray(body.results) ? body.results : [body as IndexView];
    for (const v of views) {
      if (uids.has(v.uid) && typeof v.primaryKey === 'string' && !keys.has(v.uid)) keys.set(v.uid, v.primaryKey);
    }
  }
  return keys;
}

/** `GET /indexes/{uid}` (`path`): one node's answer, with the primary key any node holds. */
export async function indexView<T extends IndexView>(cluster: Cluster, path: string): Promise<T> {
  const view = await firstAnswer<T>(cluster, { method: 'GET', path }, STABLE);
  if (view.primaryKey !== null || typeof view.uid !== 'string') return view;
  const key = (await keysElsewhere(cluster, path, new Set([view.uid]))).get(view.uid);
  return key === undefined ? view : { ...view, primaryKey: key };
}

/** `GET /indexes` (`path`, a page of the list): one node's page, with the primary keys any node holds. */
export async function indexList<T extends { results: IndexView[] }>(cluster: Cluster, path: string): Promise<T> {
  const page = await firstAnswer<T>(cluster, { method: 'GET', path }, STABLE);
  if (!Array.isArray(page.results)) return page;
  const unknown = new Set(page.results.filter((v) => v.primaryKey === null).map((v) => v.uid));
  if (unknown.size === 0) return page;
  const keys = await keysElsewhere(cluster, path, unknown);
  return { ...page, results: page.results.map((v) => (keys.has(v.uid) ? { ...v, primaryKey: keys.get(v.uid)! } : v)) };
}
