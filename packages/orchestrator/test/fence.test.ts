/**
 * The routing fence (work/fence.ts) between orchestrators sharing one Redis: a barrier waits for
 * the writes another process has in flight under an older epoch, passes a process that stopped
 * renewing (paused past its TTL), whose writes are then refused by the store check; writes wait
 * while a cutover freezes them.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { MeiliError } from '@miroir/protocol';
import type { StateStore } from '../src/state/store.js';
import { RoutingFence } from '../src/work/fence.js';
import { dropPrefix, openRedis, redisSkip, testPrefix } from './redis-kit.js';

const skip = await redisSkip();
const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('routing fence', { skip }, () => {
  const prefix = testPrefix();
  const stores: StateStore[] = [];
  const fences: RoutingFence[] = [];
  let frozen = false;
  const loads = new Map<string, number>();
  const fence = async (self: string, ttlMs: number, opts: { loop?: boolean; freezeTimeoutMs?: number } = {}) => {
    const store = await openRedis(prefix);
    stores.push(store);
    const f = new RoutingFence(
      { store, self, load: async () => Boolean(loads.set(self, (loads.get(self) ?? 0) + 1)), frozen: () => frozen, log },
      { ttlMs, heartbeatMs: ttlMs / 4, freezeTimeoutMs: opts.freezeTimeoutMs ?? 300 },
    );
    await store.subscribe((e) => e.kind === 'routing_changed' && f.onAdvanced(e.epoch));
    if (opts.loop === false) await f.refresh();
    else await f.start();
    fences.push(f);
    return f;
  };
  before(async () => {});
  after(async () => {
    for (const f of fences) await f.close();
    for (const s of stores) await s.close();
    await dropPrefix(prefix);
  });

  test('a barrier waits for the write another orchestrator has in flight, which is then confirmed', async () => {
    const a = await fence('a', 2000);
    const b = await fence('b', 2000);
    const ticket = await b.enter(16);
    let passed = false;
    const barrier = a.advanceAndWait().then(() => (passed = true));
    await sleep(300);
    assert.equal(passed, false, 'the barrier waits for b');
    assert.equal(await b.confirm(ticket), true, 'a write that landed before the barrier completed is safe');
    b.leave(ticket);
    const epoch = await barrier.then(() => a.epoch);
    assert.equal(b.epoch, epoch, 'b loaded the routing of the new epoch');
    assert.ok((loads.get('b') ?? 0) >= 1);
    await a.close();
    await b.close();
  });

  test('a process paused past its TTL does not hold a barrier, and its write is refused by the store check', async () => {
    const a = await fence('c', 2000);
    // d renews once and never again: a process stopped by SIGSTOP.
    const d = await fence('d', 400, { loop: false });
    const stale = await d.enter(16);
    await sleep(600);
    const started = Date.now();
    await a.advanceAndWait();
    assert.ok(Date.now() - started < 1000, 'the barrier did not wait for the paused process');
    assert.equal(await d.confirm(stale), false, 'planned under a retired epoch: planned again');
    d.leave(stale);
    await d.refresh();
    assert.equal(d.epoch, a.epoch);
    const fresh = await d.enter(16);
    assert.equal(await d.confirm(fresh), true, 'planned again under the current epoch: confirmed');
    d.leave(fresh);

    // Paused again, but nobody moved the routing meanwhile: the store check lets the write through.
    const again = await d.enter(16);
    await sleep(600);
    assert.equal(await d.confirm(again), true);
    d.leave(again);
    await a.close();
    await d.close();
  });

  test("a repair's write hold makes another process's writes to the index wait; a dead holder's hold is void", async () => {
    const h = await fence('h', 2000);
    const w = await fence('w', 2000, { freezeTimeoutMs: 5000 });
    let held = false;
    let entered: number | undefined;
    const repair = h.hold('movies', async () => {
      held = true;
      const write = w.enter(16, 'movies').then((t) => {
        entered = Date.now();
        w.leave(t);
      });
      const other = await w.enter(16, 'books');
      w.leave(other);
      await sleep(200);
      assert.equal(entered, undefined, 'a write to the held index waits');
      const releasedAt = Date.now();
      return { write, releasedAt };
    });
    const { write, releasedAt } = await repair;
    assert.ok(held);
    await write;
    assert.ok(entered! >= releasedAt, 'the write went on once the hold was dropped');

    // A holder that dies holding: its registration lapses, and its hold with it.
    const dead = await fence('dead', 400, { loop: false });
    await stores[stores.length - 1]!.putWriteHold('shows', 'dead');
    await dead.advanceAndWait();
    const started = Date.now();
    const t = await w.enter(16, 'shows');
    w.leave(t);
    assert.ok(Date.now() - started < 3000, 'the hold of a process that stopped renewing does not hold writes for long');
    await h.close();
    await w.close();
  });

  test('writes wait while a cutover freezes them, and are refused (retryable) past the freeze timeout', async () => {
    const e = await fence('e', 2000);
    frozen = true;
    const waiting = e.enter(16);
    let entered = false;
    void waiting.then(() => (entered = true));
    await sleep(100);
    assert.equal(entered, false);
    frozen = false;
    e.leave(await waiting);

    frozen = true;
    const refused = await e.enter(16).then(
      () => undefined,
      (err: unknown) => err,
    );
    frozen = false;
    assert.ok(refused instanceof MeiliError);
    assert.equal(refused.code, 'miroir_topology_changing');
    assert.equal(refused.status, 503);
    await e.close();
  });
});
