// The `miroir-engine` bin: JSON log lines on stdout (one of them carries the URL), the master key
// from `--master-key` or MEILI_MASTER_KEY, clean exit on SIGTERM.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { http, tempDir } from './helpers.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'bin.js');

async function runBin(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const rl = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    rl.on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (typeof entry.url === 'string') resolve(entry.url);
    });
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, lines, exit };
}

test('the bin serves, logs JSON lines and stops cleanly on SIGTERM', async () => {
  const dataDir = tempDir();
  try {
    const { child, url, lines, exit } = await runBin(['--port', '0', '--data-dir', dataDir], { MEILI_MASTER_KEY: 'env-master-key-0123456789' });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual((await http(url, 'GET', '/health')).body, { status: 'available' });
    // The master key came from the environment.
    assert.equal((await http(url, 'GET', '/indexes')).status, 401);
    const ok = await http(url, 'GET', '/indexes', undefined, { authorization: 'Bearer env-master-key-0123456789' });
    assert.equal(ok.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
    assert.ok(lines.some((l) => l.msg === 'engine stopped'));
    for (const l of lines) assert.equal(typeof l.level, 'number');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the bin rejects a bad port with a usage error', async () => {
  const child = spawn(process.execPath, [BIN, '--port', 'abc', '--data-dir', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(stderr, /option '--port <port>' argument 'abc' is invalid/);
});
