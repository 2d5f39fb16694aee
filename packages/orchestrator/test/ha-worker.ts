/**
 * The background-work probe run by the HA tests as a child process: a real orchestrator
 * (`startMiroir` on the given config file) plus one job of each mode through its public API, each
 * printing a JSON line (`{"probe": …}`) when it acts:
 *  - Mode A: `periodic` over `HA_SHARDS` shard items of an index `probe`, every `HA_CYCLE_MS`;
 *  - Mode B: `leases.hold('settings_broadcast:probe')`, leading until deposed;
 *  - Mode C: `jobs.handle('probe_job')`, steps of `HA_STEP_MS`, saving the cursor after each.
 * `node ha-worker.js <config.yaml>`; without a config file (the test runner loading every file of
 * this folder) it does nothing.
 */
import { shardItem } from '../src/core/rendezvous.js';
import { loadConfig } from '../src/config.js';
import { startMiroir } from '../src/main.js';

const file = process.argv[2];
if (file !== undefined && file.endsWith('.yaml')) await probe(file);

async function probe(file: string): Promise<void> {
  const config = loadConfig({ file });
  const miroir = await startMiroir(config);
  const bg = miroir.background;
  const self = bg.peers.self;
  const emit = (ev: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...ev, self, at: Date.now() })}\n`);
  const SHARDS = Number(process.env.HA_SHARDS ?? 24);
  const CYCLE_MS = Number(process.env.HA_CYCLE_MS ?? 200);
  const STEP_MS = Number(process.env.HA_STEP_MS ?? 100);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  let cycle = 0;
  bg.periodic(
    'shard-probe',
    CYCLE_MS,
    () => {
      cycle++;
      return Array.from({ length: SHARDS }, (_, s) => shardItem('probe', s));
    },
    async (item) => {
      emit({ probe: 'shard', item, cycle, peers: bg.peers.peers.length });
    },
  );

  bg.leases.hold('settings_broadcast:probe', async (lease) => {
    emit({ probe: 'lead', token: lease.token });
    await new Promise((r) => lease.signal.addEventListener('abort', r, { once: true }));
    emit({ probe: 'deposed', token: lease.token });
  });

  bg.jobs.handle('probe_job', async (job, ctx) => {
    const steps = (job.params as { steps: number }).steps;
    const from = (ctx.progress as { cursor: number } | null)?.cursor ?? 0;
    emit({ probe: 'job_start', job: job.id, from });
    for (let i = from; i < steps; i++) {
      emit({ probe: 'step', job: job.id, i });
      await sleep(STEP_MS);
      await ctx.save({ cursor: i + 1 });
    }
  });

  process.on('SIGTERM', () => void miroir.close().then(() => process.exit(0)));
}
