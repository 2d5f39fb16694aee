/**
 * Settings broadcasts across orchestrator processes sharing one Redis (issue 16; spec S13.5, S14.5
 * Mode B): each runs under the lease `settings_broadcast:<index>`.
 *  - `X-Miroir-Settings-Inconsistent` is on answers of every process while a broadcast driven by
 *    another one is between propose and commit;
 *  - two changes of one index through two processes are applied one after the other;
 *  - a broadcast whose process is SIGKILLed is finished by exactly one other process, with a larger
 *    fencing token, within lease TTL + renew interval; a process started meanwhile leaves it alone;
 *  - a driver frozen (SIGSTOP) past its lease and thawed after another process finished its
 *    broadcast writes nothing over it (fencing).
 * A broadcast is held open by a fault proxy in front of node-1 that refuses reads of the index's
 * settings: verify cannot confirm node-1, so the broadcast stays in repair until the fault is cleared.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFleet, waitTerminal, type Fleet, type Orchestrator } from './fleet.js';
import { http } from './harness.js';
import { redisSkip } from './redis-kit.js';

const skip = await redisSkip();
const TTL_S = 2;
const RENEW_S = 0.5;
/** Scheduling slack on a shared 2-core machine, on top of the contract (TTL + renew). */
const SLACK_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`gave up waiting: ${what}`);
    await sleep(25);
  }
}

/** Refuses every read of `index`'s settings (GET /indexes/{index}/settings…) at node-1. */
const refuseReads = (index: string) => ({ kind: 'refuse' as const, request: new RegExp(`^GET /indexes/${index}/settings`) });

type Line = Record<string, unknown> & { message: string; timestamp: string; task?: number; index?: string; fencing_token?: number };
const logged = (o: Orchestrator, message: string, task: number) => (o.lines as Line[]).filter((l) => l.message === message && l.task === task);

async function status(url: string, index: string): Promise<{ settings_version: number; broadcast_phase: string | null }> {
  const r = await http(url, 'GET', `/_miroir/settings/${index}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** A task's RFC 3339 date in microseconds (Meilisearch prints up to nanoseconds). */
function micros(rfc3339: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(rfc3339)!;
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? '').padEnd(6, '0').slice(0, 6));
}

describe('settings broadcasts across orchestrators', { skip }, () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet({
      orchestrators: 2,
      nodes: 2,
      rf: 2,
      shards: 4,
      proxied: [1],
      config: {
        leader_election: { lease_ttl_s: TTL_S, renew_interval_s: RENEW_S },
        settings_broadcast: { repair_backoff_ms: 150, max_repair_retries: 14, verify_timeout_s: 20 },
      },
    });
    const a = f.orchestrators[0]!.url;
    for (const uid of ['songs', 'books', 'movies', 'shows']) {
      const r = await http(a, 'POST', '/indexes', { body: { uid, primaryKey: 'id' } });
      assert.equal((await waitTerminal(a, r.body.taskUid)).status, 'succeeded');
      const d = await http(a, 'POST', `/indexes/${uid}/documents`, { body: [{ id: 1, title: 'the first' }, { id: 2, title: 'a second' }] });
      assert.equal((await waitTerminal(a, d.body.taskUid)).status, 'succeeded');
    }
  });
  after(async () => f?.stop());

  test("answers through B carry X-Miroir-Settings-Inconsistent while A's broadcast is between propose and commit", async (t) => {
    const [a, b] = f.orchestrators as [Orchestrator, Orchestrator];
    const search = () => http(b.url, 'POST', '/indexes/songs/search', { body: { q: 'first' } });
    const quiet = await search();
    assert.equal(quiet.status, 200);
    assert.equal(quiet.headers.get('x-miroir-settings-inconsistent'), null, 'no broadcast: no header');

    f.proxies.get(1)!.set(refuseReads('songs'));
    const sentAt = Date.now();
    const res = await http(a.url, 'PATCH', '/indexes/songs/settings', { body: { stopWords: ['the'] } });
    assert.equal(res.status, 202);
    const seen = await until('the header through B', async () => {
      const r = await search();
      return r.headers.get('x-miroir-settings-inconsistent') === 'true' && r;
    });
    const seenMs = Date.now() - sentAt;
    assert.equal(seen.status, 200);
    // At that moment A's task is still open, and B reports its phase (it drives nothing itself).
    const open = await http(b.url, 'GET', `/tasks/${res.body.taskUid}`);
    assert.equal(open.body.status, 'processing');
    assert.ok(['propose', 'verify', 'repair'].includes((await status(b.url, 'songs')).broadcast_phase!));
    assert.deepEqual(logged(b, 'driving a settings broadcast', res.body.taskUid), [], 'B does not drive it');
    const settingsAnswer = await http(b.url, 'GET', '/indexes/songs/settings/stop-words');
    assert.equal(settingsAnswer.headers.get('x-miroir-settings-inconsistent'), 'true');

    f.proxies.get(1)!.set({ kind: 'pass' });
    const done = await waitTerminal(b.url, res.body.taskUid);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const doneAt = Date.now();
    await until('the header gone through B', async () => (await search()).headers.get('x-miroir-settings-inconsistent') === null, RENEW_S * 1000 + SLACK_MS);
    t.diagnostic(`B showed the header ${seenMs} ms after A's 202; dropped it ${Date.now() - doneAt} ms after the task succeeded`);
    assert.equal((await status(b.url, 'songs')).broadcast_phase, null);
  });

  test('two changes of one index through A and B at once are applied one after the other', async (t) => {
    const [a, b] = f.orchestrators as [Orchestrator, Orchestrator];
    const before = (await status(a.url, 'books')).settings_version;
    // The first change to get the lease stays open until the fault is cleared.
    f.proxies.get(1)!.set(refuseReads('books'));
    const answered: string[] = [];
    const send = (o: Orchestrator, word: string) =>
      http(o.url, 'PATCH', '/indexes/books/settings', { body: { synonyms: { tome: [word] } } }).then((r) => {
        answered.push(o.id);
        return r;
      });
    const both = Promise.all([send(a, 'from-a'), send(b, 'from-b')]);
    const first = await until('one change driven', () => {
      const o = [a, b].find((x) => (x.lines as Line[]).some((l) => l.message === 'driving a settings broadcast' && l.index === 'books'));
      return o;
    });
    const second = first === a ? b : a;
    await sleep(1500);
    assert.deepEqual(answered, [first.id], 'the second change waits for the first to finish before it is enqueued');
    assert.ok(!(second.lines as Line[]).some((l) => l.message === 'driving a settings broadcast' && l.index === 'books'));
    f.proxies.get(1)!.set({ kind: 'pass' });
    const [ra, rb] = await both;
    assert.equal(ra.status, 202);
    assert.equal(rb.status, 202);
    const [firstRes, secondRes] = first === a ? [ra, rb] : [rb, ra];
    assert.ok(secondRes.body.taskUid > firstRes.body.taskUid, 'the waiting change is enqueued later');
    const t1 = await waitTerminal(b.url, firstRes.body.taskUid);
    const t2 = await waitTerminal(a.url, secondRes.body.taskUid);
    assert.equal(t1.status, 'succeeded', JSON.stringify(t1.error));
    assert.equal(t2.status, 'succeeded', JSON.stringify(t2.error));
    const v1 = (await http(a.url, 'GET', `/tasks/${firstRes.body.taskUid}`)).body;
    const v2 = (await http(b.url, 'GET', `/tasks/${secondRes.body.taskUid}`)).body;
    assert.ok(micros(v2.startedAt) >= micros(v1.finishedAt), `second started ${v2.startedAt}, first finished ${v1.finishedAt}`);
    const later = second === a ? 'from-a' : 'from-b';
    for (const o of [a, b]) assert.deepEqual((await http(o.url, 'GET', '/indexes/books/settings/synonyms')).body, { tome: [later] });
    for (const e of f.engines) {
      const held = await http(e.url, 'GET', '/indexes/books/settings/synonyms', { key: 'node-master-key-for-tests' });
      assert.deepEqual(held.body, { tome: [later] }, `${e.url} holds the later change`);
    }
    assert.equal((await status(b.url, 'books')).settings_version, before + 2, 'each change committed once');
    const tokens = [first, second].map((o) => (o.lines as Line[]).find((l) => l.message === 'driving a settings broadcast' && l.index === 'books')!.fencing_token!);
    assert.ok(tokens[1]! > tokens[0]!, `fencing tokens grow: ${tokens.join(' < ')}`);
    t.diagnostic(`first through ${first.id} (task ${firstRes.body.taskUid}), second through ${second.id} (task ${secondRes.body.taskUid}); tokens ${tokens.join(', ')}`);
  });

  test('a broadcast whose orchestrator is SIGKILLed is finished by exactly one other, within lease TTL + renew', async (t) => {
    const [a, b] = f.orchestrators as [Orchestrator, Orchestrator];
    const before = (await status(b.url, 'movies')).settings_version;
    f.proxies.get(1)!.set(refuseReads('movies'));
    const res = await http(a.url, 'PATCH', '/indexes/movies/settings', { body: { synonyms: { film: ['movie'] } } });
    assert.equal(res.status, 202);
    const task = res.body.taskUid as number;
    await until('B sees A repairing', async () => (await status(b.url, 'movies')).broadcast_phase === 'repair');
    const driven = logged(a, 'driving a settings broadcast', task);
    assert.equal(driven.length, 1);

    // A process started while A holds the lease does not drive the broadcast, at start or later.
    const c = await f.add();
    await sleep(4 * RENEW_S * 1000);
    for (const o of [b, c]) assert.deepEqual([...logged(o, 'resuming a settings broadcast', task), ...logged(o, 'driving a settings broadcast', task)], [], `${o.id} leaves it to A`);
    assert.equal((await http(c.url, 'GET', `/tasks/${task}`)).body.status, 'processing');

    const killedAt = Date.now();
    await f.kill(a);
    const takeover = await until('a survivor takes the broadcast over', () => {
      const found = [b, c].flatMap((o) => logged(o, 'resuming a settings broadcast', task).map((l) => ({ o, l })));
      return found.length > 0 && found[0]!;
    });
    const tookMs = Date.parse(takeover.l.timestamp) - killedAt;
    f.proxies.get(1)!.set({ kind: 'pass' });
    const done = await waitTerminal(b.url, task);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    await sleep(4 * RENEW_S * 1000);

    const takeovers = [b, c].flatMap((o) => logged(o, 'resuming a settings broadcast', task).map((l) => ({ id: o.id, token: l.fencing_token!, at: l.timestamp })));
    assert.equal(takeovers.length, 1, `exactly one process took it over: ${JSON.stringify(takeovers)}`);
    assert.ok(takeovers[0]!.token > driven[0]!.fencing_token!, `the takeover's fencing token ${takeovers[0]!.token} is above A's ${driven[0]!.fencing_token}`);
    assert.ok(tookMs <= (TTL_S + RENEW_S) * 1000 + SLACK_MS, `taken over ${tookMs} ms after the kill`);
    const s = await status(c.url, 'movies');
    assert.equal(s.settings_version, before + 1, 'committed once');
    assert.equal(s.broadcast_phase, null);
    for (const e of f.engines) {
      const held = await http(e.url, 'GET', '/indexes/movies/settings/synonyms', { key: 'node-master-key-for-tests' });
      assert.deepEqual(held.body, { film: ['movie'] });
    }
    t.diagnostic(`${takeover.o.id} took the broadcast over ${tookMs} ms after A was killed (lease TTL ${TTL_S} s, renew ${RENEW_S} s), tokens ${driven[0]!.fencing_token} → ${takeovers[0]!.token}`);
  });
  test('a driver frozen past its lease and thawed after the takeover writes nothing over its successor', async (t) => {
    const [b, c] = f.orchestrators.filter((o) => o.child.exitCode === null && o.child.signalCode === null) as [Orchestrator, Orchestrator];
    const before = (await status(c.url, 'shows')).settings_version;
    f.proxies.get(1)!.set(refuseReads('shows'));
    const res = await http(b.url, 'PATCH', '/indexes/shows/settings', { body: { synonyms: { series: ['show'] } } });
    assert.equal(res.status, 202);
    const task = res.body.taskUid as number;
    await until('C sees B repairing', async () => (await status(c.url, 'shows')).broadcast_phase === 'repair');
    b.child.kill('SIGSTOP');
    try {
      await until('C takes the broadcast over', () => logged(c, 'resuming a settings broadcast', task).length > 0);
      f.proxies.get(1)!.set({ kind: 'pass' });
      assert.equal((await waitTerminal(c.url, task)).status, 'succeeded');
    } finally {
      b.child.kill('SIGCONT');
    }
    const stopped = await until('B notices it lost the lease', () => {
      const l = logged(b, 'settings broadcast stopped: its lease was lost', task);
      return l.length > 0 && l[0]!;
    });
    await sleep(4 * RENEW_S * 1000);
    assert.deepEqual(logged(b, 'settings broadcast failed', task), []);
    for (const o of [b, c]) {
      const view = (await http(o.url, 'GET', `/tasks/${task}`)).body;
      assert.equal(view.status, 'succeeded', `${o.id} still shows the successor's outcome`);
      const s = await status(o.url, 'shows');
      assert.equal(s.settings_version, before + 1, 'committed once, by the successor');
      assert.equal(s.broadcast_phase, null);
    }
    const tokens = [logged(b, 'driving a settings broadcast', task)[0]!.fencing_token!, logged(c, 'resuming a settings broadcast', task)[0]!.fencing_token!];
    assert.ok(tokens[1]! > tokens[0]!);
    t.diagnostic(`B (token ${tokens[0]}) stopped at ${stopped.timestamp}; C finished the broadcast with token ${tokens[1]}`);
  });
});
