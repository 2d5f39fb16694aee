/**
 * Engines started by a launcher (the demo, the test harness) never outlive it: a launcher killed
 * outright (SIGKILL, as a crash would end it) takes its engine processes with it.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

const dir = mkdtempSync(join(tmpdir(), 'miroir-engine-process-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('an engine exits when the process that launched it is killed', async () => {
  const module = pathToFileURL(join(import.meta.dirname, '../src/demo/engine-process.js')).href;
  const script = `
    const { startEngineProcess } = await import(${JSON.stringify(module)});
    const e = await startEngineProcess({ dataDir: ${JSON.stringify(join(dir, 'node'))} });
    console.log(JSON.stringify({ pid: e.child.pid, url: e.url }));
    setInterval(() => {}, 1000);
  `;
  const launcher = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: launcher.stdout! }).once('line', resolve);
    launcher.once('exit', (code) => reject(new Error(`launcher exited (${code})`)));
  });
  const { pid, url } = JSON.parse(line) as { pid: number; url: string };
  assert.equal((await fetch(`${url}/health`)).status, 200);
  launcher.kill('SIGKILL');
  // The engine notices its standard input closing and stops; bounded wait, no timing asserted.
  for (let i = 0; i < 200 && alive(pid); i++) await sleep(50);
  const outlived = alive(pid);
  if (outlived) process.kill(pid, 'SIGKILL');
  assert.equal(outlived, false, 'the engine outlived its launcher');
});
