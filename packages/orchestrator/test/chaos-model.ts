/**
 * The pieces of the chaos tests (chaos-kit.ts, chaos-pause.test.ts): a seeded PRNG, a round-robin
 * client over live orchestrator processes that says which one answered, sequential writers whose
 * acknowledged operations build an in-memory model of the index, and the final check of what every
 * node holds against that model and the placement of the final topology.
 */
import { http } from './harness.js';
import type { Orchestrator } from './fleet.js';
import { loadHasher, type Hasher } from '../src/core/hash.js';
import { Placement, type NodeState, type GroupState } from '../src/core/placement.js';

export type Doc = Record<string, unknown>;
export const NODE_KEY = 'node-master-key-for-tests';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** mulberry32: a small seeded PRNG in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Answer {
  status: number;
  body: any;
  /** The orchestrator that answered. */
  orch: string;
  /** Attempts that failed to connect before it (retried on the next orchestrator). */
  connectionRetries: number;
}

const alive = (o: Orchestrator) => o.url !== '' && o.child.exitCode === null && o.child.signalCode === null;

/**
 * A client-side round robin over the live orchestrators of a fleet (or the ones `pick` allows): each
 * request goes to the next one; a connection failure (the process died) is retried on the next.
 */
export class RoundRobin {
  #next = 0;
  connectionRetries = 0;
  constructor(
    private readonly all: Orchestrator[],
    private readonly pick: (o: Orchestrator) => boolean = () => true,
  ) {}

  live(): Orchestrator[] {
    return this.all.filter((o) => alive(o) && this.pick(o));
  }

  async send(method: string, path: string, body?: unknown, only?: Orchestrator): Promise<Answer> {
    let retries = 0;
    for (;;) {
      const live = this.live();
      const o = only ?? live[this.#next++ % Math.max(1, live.length)];
      if (o === undefined) throw new Error('no live orchestrator');
      try {
        const r = await http(o.url, method, path, body === undefined ? {} : { body });
        return { status: r.status, body: r.body, orch: o.id, connectionRetries: retries };
      } catch (e) {
        if (!(e instanceof TypeError) || only !== undefined || ++retries > 50) throw e;
        this.connectionRetries++;
        await sleep(20);
      }
    }
  }
}

export type OpKind = 'insert' | 'replace' | 'update' | 'deleteIds' | 'deleteFilter';

/** One acknowledged operation, for the history of a finding. */
export interface AckedOp {
  writer: number;
  seq: number;
  kind: OpKind;
  ids: string[];
  filter?: string;
  orch: string;
  taskUid: number;
  sentMs: number;
  ackMs: number;
  attempts: number;
}

/** The index as the acknowledged writes left it: live documents, deleted ids, ids of abandoned writes. */
export class Model {
  readonly docs = new Map<string, Doc>();
  readonly deleted = new Set<string>();
  readonly uncertain = new Set<string>();
  readonly acked: AckedOp[] = [];
  readonly lastOp = new Map<string, AckedOp>();
  /** Every acknowledged operation that touched an id, in order. */
  readonly history = new Map<string, AckedOp[]>();

  apply(op: AckedOp, payload: Doc[] | undefined, predicate?: (d: Doc) => boolean): void {
    this.acked.push(op);
    const touched: string[] = [];
    if (op.kind === 'insert' || op.kind === 'replace') {
      for (const d of payload!) this.docs.set(String(d.id), { ...d });
      touched.push(...op.ids);
    } else if (op.kind === 'update') {
      for (const d of payload!) this.docs.set(String(d.id), { ...this.docs.get(String(d.id)), ...d });
      touched.push(...op.ids);
    } else if (op.kind === 'deleteIds') {
      touched.push(...op.ids);
    } else {
      for (const [id, d] of this.docs) if (predicate!(d)) touched.push(id);
      op.ids = touched;
    }
    for (const id of touched) {
      this.lastOp.set(id, op);
      const h = this.history.get(id);
      if (h) h.push(op);
      else this.history.set(id, [op]);
      if (op.kind === 'deleteIds' || op.kind === 'deleteFilter') {
        this.docs.delete(id);
        this.deleted.add(id);
      } else this.deleted.delete(id);
    }
  }
}

export interface WriteStats {
  acked: Record<OpKind, number>;
  /** Answers other than 202, by `status code` (and `connection` for connection failures), retried. */
  retries: Record<string, number>;
  /** Operations given up after too many attempts (their ids become uncertain). */
  abandoned: string[];
}

export const newStats = (): WriteStats => ({ acked: { insert: 0, replace: 0, update: 0, deleteIds: 0, deleteFilter: 0 }, retries: {}, abandoned: [] });

const WORDS = 'amber birch cedar delta ember fjord grove harbor iris juniper kelp lotus maple nectar onyx pine quartz river sage tundra umber violet willow yarrow zinc'.split(' ');

export interface WriteRequest {
  kind: OpKind;
  method: string;
  path: string;
  body: unknown;
  ids: string[];
  payload?: Doc[];
  filter?: string;
  predicate?: (d: Doc) => boolean;
}

/**
 * One writer: its own id space (`w<n>-<k>`), a field `writer` = n on each of its documents, `gen`
 * = the sequence number of the operation that last wrote the document. `next()` draws the next
 * operation from the seeded PRNG against the model's current state.
 */
export class Writer {
  seq = 0;
  #nextId = 0;
  constructor(
    readonly n: number,
    readonly uid: string,
    readonly model: Model,
    readonly rng: () => number,
    /** The id of this writer's k-th new document (default `w<n>-<k>`). */
    readonly newId: (k: number) => string = (k) => `w${n}-${k}`,
  ) {}

  #mine(): string[] {
    const out: string[] = [];
    for (const [id, d] of this.model.docs) if (d.writer === this.n) out.push(id);
    return out;
  }
  #pick<T>(xs: T[], k: number): T[] {
    const out = new Set<T>();
    for (let i = 0; i < k * 3 && out.size < Math.min(k, xs.length); i++) out.add(xs[Math.floor(this.rng() * xs.length)]!);
    return [...out];
  }
  #words(k: number): string {
    return Array.from({ length: k }, () => WORDS[Math.floor(this.rng() * WORDS.length)]).join(' ');
  }

  full(id: string): Doc {
    return { id, writer: this.n, gen: this.seq, title: this.#words(2), body: this.#words(6), n: Math.floor(this.rng() * 1000), tag: WORDS[Math.floor(this.rng() * 5)] };
  }

  insertBatch(k: number): WriteRequest {
    const docs = Array.from({ length: k }, () => this.full(this.newId(this.#nextId++)));
    return { kind: 'insert', method: 'POST', path: `/indexes/${this.uid}/documents`, body: docs, ids: docs.map((d) => String(d.id)), payload: docs };
  }

  next(): WriteRequest {
    this.seq++;
    const mine = this.#mine();
    const r = this.rng();
    const k = 1 + Math.floor(this.rng() * 3);
    if (mine.length < 20 || r < 0.32) return this.insertBatch(1 + Math.floor(this.rng() * 4));
    if (r < 0.42) {
      const docs = this.#pick(mine, k).map((id) => this.full(id));
      return { kind: 'replace', method: 'POST', path: `/indexes/${this.uid}/documents`, body: docs, ids: docs.map((d) => String(d.id)), payload: docs };
    }
    if (r < 0.7) {
      const docs = this.#pick(mine, k).map((id) => (this.rng() < 0.5 ? { id, gen: this.seq, n: Math.floor(this.rng() * 1000), tag: WORDS[Math.floor(this.rng() * 5)] } : { id, gen: this.seq, title: this.#words(3) }));
      return { kind: 'update', method: 'PUT', path: `/indexes/${this.uid}/documents`, body: docs, ids: docs.map((d) => String(d.id)), payload: docs };
    }
    if (r < 0.94) {
      const ids = this.#pick(mine, k);
      if (ids.length === 1 && this.rng() < 0.5) return { kind: 'deleteIds', method: 'DELETE', path: `/indexes/${this.uid}/documents/${ids[0]}`, body: undefined, ids };
      return { kind: 'deleteIds', method: 'POST', path: `/indexes/${this.uid}/documents/delete-batch`, body: ids, ids };
    }
    // Delete by filter: the few oldest documents of this writer.
    const gens = mine.map((id) => this.model.docs.get(id)!.gen as number).sort((a, b) => a - b);
    const below = gens[Math.min(gens.length - 1, 1 + Math.floor(this.rng() * 4))]!;
    const filter = `writer = ${this.n} AND gen < ${below}`;
    return { kind: 'deleteFilter', method: 'POST', path: `/indexes/${this.uid}/documents/delete`, body: { filter }, ids: [], filter, predicate: (d) => d.writer === this.n && (d.gen as number) < below };
  }
}

/**
 * Sends `req` until an orchestrator answers 202 (any other answer is counted and the same request
 * sent again: document writes are idempotent), then applies it to the model. Returns the op, or
 * undefined when abandoned after `maxAttempts`.
 */
export async function writeUntilAcked(
  client: RoundRobin,
  w: Writer,
  req: WriteRequest,
  stats: WriteStats,
  t0: number,
  opts: { maxAttempts?: number; only?: () => Orchestrator | undefined; onAnswer?: (a: Answer, sentMs: number) => void } = {},
): Promise<AckedOp | undefined> {
  const max = opts.maxAttempts ?? 200;
  for (let attempt = 1; attempt <= max; attempt++) {
    const sentMs = Date.now() - t0;
    let a: Answer;
    try {
      a = await client.send(req.method, req.path, req.body, attempt === 1 ? opts.only?.() : undefined);
    } catch {
      stats.retries.connection = (stats.retries.connection ?? 0) + 1;
      await sleep(50);
      continue;
    }
    opts.onAnswer?.(a, sentMs);
    if (a.connectionRetries > 0) stats.retries.connection = (stats.retries.connection ?? 0) + a.connectionRetries;
    if (a.status === 202) {
      const op: AckedOp = { writer: w.n, seq: w.seq, kind: req.kind, ids: req.ids, orch: a.orch, taskUid: a.body.taskUid, sentMs, ackMs: Date.now() - t0, attempts: attempt };
      if (req.filter !== undefined) op.filter = req.filter;
      w.model.apply(op, req.payload, req.predicate);
      stats.acked[req.kind]++;
      return op;
    }
    const key = `${a.status} ${a.body?.code ?? ''}`.trim();
    stats.retries[key] = (stats.retries[key] ?? 0) + 1;
    await sleep(30 + attempt * 10);
  }
  stats.abandoned.push(`writer ${w.n} op ${w.seq} (${req.kind} ${req.ids.join(',') || req.filter})`);
  for (const id of req.ids) w.model.uncertain.add(id);
  if (req.predicate) for (const [id, d] of w.model.docs) if (req.predicate(d)) w.model.uncertain.add(id);
  return undefined;
}

export interface Finding {
  id: string;
  node: string;
  shard: number;
  detail: string;
}

export interface PlacementCheck {
  topologyVersion: number;
  nodes: string[];
  documentsExpected: number;
  /** A document of the model missing on one of its owners. */
  lost: Finding[];
  /** An owner holds a document with other content than last acknowledged. */
  stale: Finding[];
  /** A document the model deleted, held by a node of the topology. */
  resurrected: Finding[];
  /** A live document held by a node that does not own its shard. */
  misplaced: Finding[];
  /** A document no acknowledged write produced. */
  unknown: Finding[];
  /** The shard table served by the orchestrator differs from the placement computed here. */
  shardTableDiffers: boolean;
}

const strip = (d: Doc): Doc => Object.fromEntries(Object.entries(d).filter(([k]) => !k.startsWith('_miroir_')));
const canon = (d: Doc): string => JSON.stringify(Object.keys(d).sort().map((k) => [k, d[k]]));

let hasher: Promise<Hasher> | undefined;

/** Every document each node of `nodes` holds for the index (read directly, with the node master key). */
export async function readNodes(nodes: { id: string; address: string }[], uid: string): Promise<Map<string, Map<string, Doc>>> {
  const out = new Map<string, Map<string, Doc>>();
  for (const n of nodes) {
    const r = await http(n.address, 'GET', `/indexes/${uid}/documents?limit=1000000`, { key: NODE_KEY });
    if (r.status !== 200) throw new Error(`${n.id}: GET documents ${r.status} ${JSON.stringify(r.body)}`);
    out.set(n.id, new Map((r.body.results as Doc[]).map((d) => [String(d.id), d])));
  }
  return out;
}

/**
 * Reads the final topology from `url`, computes the placement of every shard from it, reads every
 * node of the topology directly, and compares with the model: each live document on every owner,
 * exactly as last acknowledged; no deleted document anywhere; nothing on a node that does not own it.
 */
export async function checkPlacement(url: string, uid: string, model: Model): Promise<PlacementCheck> {
  const h = await (hasher ??= loadHasher());
  const topo = (await http(url, 'GET', '/_miroir/topology')).body;
  const table = (await http(url, 'GET', '/_miroir/shards')).body;
  const nodes = (topo.nodes as { id: string; address: string; replica_group: number; state: string }[]).map((n) => ({
    id: n.id,
    address: n.address,
    group: n.replica_group,
    state: (n.state === 'failed' ? 'active' : n.state) as NodeState,
  }));
  const placement = new Placement(
    { version: topo.version, shards: topo.shards, replicationFactor: topo.replication_factor, nodes, groups: topo.groups as { id: number; state: GroupState }[] },
    h,
  );
  const owners = (s: number) => placement.groupIds.flatMap((_g, gi) => placement.owners(gi, s));
  let differs = false;
  for (const row of table.shards as { shard: number; groups: Record<string, string[]> }[]) {
    if (JSON.stringify(Object.values(row.groups).flat()) !== JSON.stringify(owners(row.shard))) differs = true;
  }
  const members = nodes.filter((n) => n.state !== 'removed');
  const held = await readNodes(members, uid);
  const out: PlacementCheck = {
    topologyVersion: topo.version,
    nodes: members.map((n) => n.id),
    documentsExpected: model.docs.size,
    lost: [],
    stale: [],
    resurrected: [],
    misplaced: [],
    unknown: [],
    shardTableDiffers: differs,
  };
  const shardOf = (id: string) => h.shardOf(id, topo.shards);
  for (const [id, want] of model.docs) {
    if (model.uncertain.has(id)) continue;
    const s = shardOf(id);
    for (const node of owners(s)) {
      const got = held.get(node)?.get(id);
      if (got === undefined) out.lost.push({ id, node, shard: s, detail: `missing; expected gen ${String(want.gen)}` });
      else if (canon(strip(got)) !== canon(want)) out.stale.push({ id, node, shard: s, detail: `holds gen ${String(got.gen)} ${JSON.stringify(strip(got))}, expected gen ${String(want.gen)} ${JSON.stringify(want)}` });
    }
  }
  for (const [node, docs] of held) {
    for (const [id, d] of docs) {
      if (model.uncertain.has(id)) continue;
      const s = shardOf(id);
      if (d._miroir_shard !== s) out.unknown.push({ id, node, shard: s, detail: `_miroir_shard ${String(d._miroir_shard)}` });
      if (model.docs.has(id)) {
        if (!owners(s).includes(node)) out.misplaced.push({ id, node, shard: s, detail: `owners ${owners(s).join(',')}; holds gen ${String(d.gen)}` });
      } else if (model.deleted.has(id)) out.resurrected.push({ id, node, shard: s, detail: `deleted, holds ${JSON.stringify(strip(d))}${owners(s).includes(node) ? '' : ' (not an owner)'}` });
      else out.unknown.push({ id, node, shard: s, detail: JSON.stringify(strip(d)) });
    }
  }
  return out;
}

/** The number of documents found wrong by a check. */
export const placementViolations = (c: PlacementCheck): number => c.lost.length + c.stale.length + c.resurrected.length + c.misplaced.length + c.unknown.length + (c.shardTableDiffers ? 1 : 0);

/**
 * Waits until none of `uids` is pending (a read of a pending task refreshes it from its nodes);
 * returns the ones that ended other than `succeeded`, and those still pending at the deadline.
 */
export async function settleTasks(client: RoundRobin, uids: number[], deadlineMs = 60_000): Promise<{ failed: { uid: number; status: string; error: unknown }[]; pending: number[] }> {
  const deadline = Date.now() + deadlineMs;
  let todo = [...uids];
  const failed: { uid: number; status: string; error: unknown }[] = [];
  while (todo.length > 0 && Date.now() < deadline) {
    const next: number[] = [];
    for (let i = 0; i < todo.length; i += 8) {
      await Promise.all(
        todo.slice(i, i + 8).map(async (uid) => {
          const r = await client.send('GET', `/tasks/${uid}`);
          if (r.status !== 200 || r.body.status === 'enqueued' || r.body.status === 'processing') next.push(uid);
          else if (r.body.status !== 'succeeded') failed.push({ uid, status: r.body.status, error: r.body.error });
        }),
      );
    }
    todo = next;
    if (todo.length > 0) await sleep(200);
  }
  return { failed, pending: todo };
}
