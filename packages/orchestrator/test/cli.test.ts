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
