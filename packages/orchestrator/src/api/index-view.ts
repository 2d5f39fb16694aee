/**
 * Index metadata as one node holding every document shows it. A node learns an index's primary
 * key from the documents it gets (an inferred key comes with the first batch); with RF < nodes,
 * a node that owns none of those documents' shards still says `primaryKey: null`. Miroir records
 * the key it resolved for every write (the index's metadata in the state store), so a node's null
 * is completed from there: one store read, no further node call.
 *
 * @see https://www.meilisearch.com/docs/reference/api/indexes#get-one-index
 */
import type { Cluster } from '../cluster.js';
import { firstAnswer } from './fanout.js';

/** Index objects carry each node's own dates: two reads must show the same ones. */
const STABLE = { stable: true };

interface IndexView {
  uid: string;
  primaryKey: string | null;
}

/** `GET /indexes/{uid}` (`path`): one node's answer, with the primary key Miroir recorded. */
export async function indexView<T extends IndexView>(cluster: Cluster, path: string): Promise<T> {
  const view = await firstAnswer<T>(cluster, { method: 'GET', path }, STABLE);
  if (view.primaryKey !== null || typeof view.uid !== 'string') return view;
  const key = (await cluster.store.getIndexMeta(view.uid))?.primaryKey ?? null;
  return key === null ? view : { ...view, primaryKey: key };
}

/** `GET /indexes` (`path`, a page of the list): one node's page, with the primary keys Miroir recorded. */
export async function indexList<T extends { results: IndexView[] }>(cluster: Cluster, path: string): Promise<T> {
  const page = await firstAnswer<T>(cluster, { method: 'GET', path }, STABLE);
  if (!Array.isArray(page.results) || !page.results.some((v) => v.primaryKey === null)) return page;
  const keys = new Map((await cluster.store.listIndexMeta()).map((m) => [m.uid, m.primaryKey ?? null]));
  return { ...page, results: page.results.map((v) => (v.primaryKey === null && keys.get(v.uid) ? { ...v, primaryKey: keys.get(v.uid)! } : v)) };
}
