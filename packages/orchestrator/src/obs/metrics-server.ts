/**
 * The separate Prometheus listener (spec S10.2: `:9090/metrics`, unauthenticated, for the pod
 * network only). A bare node:http server: one path, no routing, nothing of the client API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from './metrics.js';

export interface MetricsServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts the listener; resolves undefined (after logging an error) when it cannot bind, because a
 * scrape target must never keep the API from serving — `/_miroir/metrics` still exposes the registry.
 */
export async function startMetricsServer(config: Readonly<Config['metrics']>, metrics: Metrics, log: Logger): Promise<MetricsServer | undefined> {
  const server: Server = createServer((req, res) => {
    const path = req.url === undefined ? '' : req.url.split('?', 1)[0];
    if (path !== config.path || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    metrics.expose().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
      (e: unknown) => {
        log.error({ err: e }, 'metrics collection failed');
        res.writeHead(500).end();
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', (e) => {
      log.error({ err: e, port: config.port, bind: config.bind }, 'the metrics listener could not start; /_miroir/metrics still serves');
      resolve(false);
    });
    server.listen(config.port, config.bind, () => resolve(true));
  });
  if (!bound) return undefined;
  const port = (server.address() as AddressInfo).port;
  const host = config.bind === '0.0.0.0' || config.bind === '::' ? '127.0.0.1' : config.bind;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${config.path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
