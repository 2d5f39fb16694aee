import * as assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadHasher, type Hasher } from '../src/core/hash.js';
import { ownerOf, selfTarget, shardItem } from '../src/core/rendezvous.js';

let h: Hasher;
before(async () => {
  h = await loadHasher();
});

const items = Array.from({ length: 600 }, (_, s) => shardItem('movies', s));

test('each item has one owner, the same whatever the order of the peer list', () => {
  const peers = ['pod-a', 'pod-b', 'pod-c'];
  const counts = new Map<string, number>();
  for (const x of items) {
    const o = ownerOf(x, peers, h)!;
    assert.equal(ownerOf(x, [...peers].reverse(), h), o);
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  for (const p of peers) assert.ok(counts.get(p)! > 120, `${p} owns a fair share (${counts.get(p)})`);
  assert.equal(ownerOf('x', [], h), undefined);
});

test('a peer leaving moves only its own items; one joining takes items only for itself', () => {
  const three = ['pod-a', 'pod-b', 'pod-c'];
  for (const x of items) {
    const before3 = ownerOf(x, three, h)!;
    const after2 = ownerOf(x, ['pod-a', 'pod-c'], h)!;
    if (before3 !== 'pod-b') assert.equal(after2, before3);
    const after4 = ownerOf(x, [...three, 'pod-d'], h)!;
    if (after4 !== 'pod-d') assert.equal(after4, before3);
  }
});

test('this pod among the SRV targets of a headless Service: by pod IP (Deployment) or pod name (StatefulSet)', () => {
  const targets = ['10-0-0-7.miroir-headless.search.svc.cluster.local', '10-0-0-9.miroir-headless.search.svc.cluster.local'];
  assert.equal(selfTarget(targets, { ip: '10.0.0.9' }), targets[1]);
  assert.equal(selfTarget(['miroir-1.miroir-headless.ns.svc.cluster.local'], { name: 'miroir-1' }), 'miroir-1.miroir-headless.ns.svc.cluster.local');
  assert.equal(selfTarget(targets, { ip: '10.0.0.1' }), undefined);
});
