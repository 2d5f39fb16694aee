#!/usr/bin/env node
/**
 * `miroir serve --config miroir.yaml` runs the orchestrator against any Meilisearch nodes;
 * `miroir demo` starts embedded engine nodes plus the orchestrator.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { startDemo } from '../demo/demo.js';
import { startMiroir } from '../main.js';

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping…\n`);
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`error while stopping: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

function fail(e: unknown): never {
  process.stderr.write(`${e instanceof ConfigError ? e.message : `miroir: ${(e as Error).message}`}\n`);
  process.exit(1);
}

const program = new Command('miroir').description('One Meilisearch endpoint over a sharded, replicated fleet of Meilisearch nodes');

program
  .command('serve')
  .description('run the orchestrator against the nodes of a config file')
  .option('-c, --config <file>', 'YAML config file (MIROIR_* environment variables override it)')
  .action(async (opts: { config?: string }) => {
    try {
      const config = loadConfig({ file: opts.config });
      const miroir = await startMiroir(config);
      onSignals(() => miroir.close());
    } catch (e) {
      fail(e);
    }
  });

program
  .command('demo')
  .description('start engine nodes as child processes plus the orchestrator, data under --data-dir')
  .option('--nodes <n>', 'engine nodes', int('--nodes', 1), 3)
  .option('--shards <n>', 'shards per index', int('--shards', 1), 16)
  .option('--rf <n>', 'replication factor', int('--rf', 1), 2)
  .option('--groups <n>', 'replica groups', int('--groups', 1), 1)
  .option('--port <n>', 'API port', int('--port', 0), 7700)
  .option('--host <addr>', 'address to bind', '127.0.0.1')
  .option('--data-dir <dir>', 'where nodes and the task store keep data', './data')
  .action(async (opts: { nodes: number; shards: number; rf: number; groups: number; port: number; host: string; dataDir: string }) => {
    try {
      const demo = await startDemo(opts);
      onSignals(() => demo.stop());
      const key = process.env.MIROIR_MASTER_KEY;
      const auth = key ? ` -H 'Authorization: Bearer ${key}'` : '';
      process.stdout.write(
        [
          '',
          `Miroir demo: ${opts.nodes} engine nodes, ${opts.shards} shards, RF=${opts.rf}, ${opts.groups} replica group(s)`,
          `  API:   ${demo.miroir.url}  (speaks the Meilisearch API; any Meilisearch SDK works)`,
          ...demo.engines.map((e, i) => `  node-${i}: ${e.url}`),
          `  data:  ${opts.dataDir}`,
          '',
          'Try:',
          `  curl -X POST '${demo.miroir.url}/indexes/movies/documents?primaryKey=id'${auth} -H 'Content-Type: application/json' \\`,
          `       --data '[{"id":1,"title":"Carol"},{"id":2,"title":"Wonder Woman"},{"id":3,"title":"Life of Pi"}]'`,
          `  curl '${demo.miroir.url}/indexes/movies/search?q=wonder'${auth}`,
          `  curl '${demo.miroir.url}/_miroir/topology'${auth}`,
          '',
          'Ctrl-C stops the orchestrator and its nodes.',
          '',
        ].join('\n'),
      );
    } catch (e) {
      fail(e);
    }
  });

await program.parseAsync(process.argv);
