/**
 * The bins as an operator runs them: a bad config stops `miroir serve` at start with exit code 1
 * and a message naming the key; `miroir-ctl` reads the admin API.
 */
import * as assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startCluster, type TestCluster } from './harness.js';

const bin = (name: string) => fileURLToPath(new URL(`../../bin/${name}.js`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'miroir-cli-'));
let c: TestCluster;
before(async () => {
  c = await startCluster({ nodes: 2, rf: 1, shards: 4, config: { admin: { enabled: true } } });
});
after(async () => {
  await c?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('miroir serve refuses an invalid config with exit code 1, naming each key', () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'shards: many\nreplicas: 2\nnodes: []\n');
  const r = spawnSync(process.execPath, [bin('miroir'), 'serve', '--config', file], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid configuration/);
  assert.match(r.stderr, /- replicas: unknown key/);
  assert.match(r.stderr, /- shards: /);
});

// The orchestrator runs in this process, so the CLI must run without blocking the event loop.
const execFileAsync = promisify(execFile);

test('miroir-ctl status and shards read the admin API', async () => {
  const run = (...args: string[]) => execFileAsync(process.execPath, [bin('miroir-ctl'), '--api-url', c.url, ...args], { env: { PATH: process.env.PATH } });
  const status = await run('status', '--json');
  const topology = JSON.parse(status.stdout) as { shards: number; nodes: { id: string; status: string }[]; fully_covered: boolean };
  assert.equal(topology.shards, 4);
  assert.deepEqual(topology.nodes.map((n) => [n.id, n.status]), [['node-0', 'healthy'], ['node-1', 'healthy']]);
  assert.equal(topology.fully_covered, true);
  const human = await run('status');
  assert.match(human.stdout, /coverage: full/);
  const shards = await run('shards');
  assert.equal(shards.stdout.trim().split('\n').length, 4);
});

test('miroir-ctl verify passes on a clean cluster and exits 1 naming a node that holds a shard it does not own', async () => {
  const run = (...args: string[]) => execFileAsync(process.execPath, [bin('miroir-ctl'), '--api-url', c.url, ...args], { env: { PATH: process.env.PATH } });
  const t = await c.client.index('cli').addDocuments(Array.from({ length: 40 }, (_, id) => ({ id })), { primaryKey: 'id' });
  assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
  const ok = await run('verify');
  assert.match(ok.stdout, /^OK: 1 indexes, 4 shards checked/);
  const idle = await run('rebalance', 'status');
  assert.match(idle.stdout, /^rebalance: idle/);

  // A document of a shard node-1 owns, written straight to node-0.
  const shards = (await fetch(`${c.url}/_miroir/shards`).then((r) => r.json())) as { shards: { shard: number; groups: Record<string, string[]> }[] };
  const foreign = shards.shards.find((s) => s.groups['0']![0] === 'node-1')!.shard;
  const stray = await c.nodeClient(0).index('cli').addDocuments([{ id: 'stray', _miroir_shard: foreign }]);
  await c.nodeClient(0).tasks.waitForTask(stray.taskUid);
  const drift = await run('verify').then(
    () => assert.fail('verify should exit 1'),
    (e: { code: number; stdout: string }) => e,
  );
  assert.equal(drift.code, 1);
  assert.match(drift.stdout, /^DRIFT/);
  assert.match(drift.stdout, /cli: node-0 holds 1 documents of shards it does not own/);
  const json = JSON.parse((await run('verify', '--json').catch((e: { stdout: string }) => e)).stdout) as { ok: boolean; problems: string[] };
  assert.equal(json.ok, false);
});

test('miroir-ctl refuses a forced node removal without --yes, before calling the cluster', async () => {
  const run = (...args: string[]) => execFileAsync(process.execPath, [bin('miroir-ctl'), '--api-url', c.url, ...args], { env: { PATH: process.env.PATH } });
  const e = await run('node', 'remove', 'node-1', '--force').then(
    () => assert.fail('should refuse'),
    (err: { code: number; stderr: string }) => err,
  );
  assert.equal(e.code, 1);
  assert.match(e.stderr, /add --yes to confirm/);
  const status = JSON.parse((await run('status', '--json')).stdout) as { version: number; nodes: unknown[] };
  assert.equal(status.version, 1);
  assert.equal(status.nodes.length, 2);
});

test('miroir-ctl alias create, flip, get, list and delete', async () => {
  const run = (...args: string[]) => execFileAsync(process.execPath, [bin('miroir-ctl'), '--api-url', c.url, ...args], { env: { PATH: process.env.PATH } });
  for (const uid of ['ctl_v1', 'ctl_v2']) {
    const t = await c.client.createIndex(uid, { primaryKey: 'id' });
    assert.equal((await c.client.tasks.waitForTask(t.taskUid)).status, 'succeeded');
  }
  assert.match((await run('alias', 'create', 'ctl', 'ctl_v1')).stdout, /^created ctl -> ctl_v1 \(single, version 1\)/);
  assert.match((await run('alias', 'flip', 'ctl', 'ctl_v2')).stdout, /^flipped ctl -> ctl_v2 \(single, version 2\)/);
  const got = await run('alias', 'get', 'ctl');
  assert.match(got.stdout, /^ctl -> ctl_v2 \(single, version 2\)\n {2}v1 .*: - -> ctl_v1\n {2}v2 .*: ctl_v1 -> ctl_v2\n$/);
  assert.match((await run('alias', 'create', 'ctl_all', 'ctl_v1', 'ctl_v2')).stdout, /ctl_all -> ctl_v1, ctl_v2 \(multi, version 1\)/);
  const listed = JSON.parse((await run('alias', 'list', '--json')).stdout) as { results: { name: string }[] };
  assert.deepEqual(listed.results.map((a) => a.name), ['ctl', 'ctl_all']);
  await assert.rejects(run('alias', 'delete', 'ctl'), /add --yes to confirm/);
  await assert.rejects(run('alias', 'get', 'nope'), /404 Alias `nope` not found/);
  assert.match((await run('alias', 'delete', 'ctl', '--yes')).stdout, /deleted alias ctl/);
  assert.equal((await c.client.index('ctl').search('').catch((e: { cause?: { code?: string } }) => e.cause?.code)), 'index_not_found');
});
