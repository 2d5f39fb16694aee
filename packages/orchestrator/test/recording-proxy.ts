/**
 * An HTTP proxy in front of a node that records every request (method, path, body) before passing
 * it on: tests count what the orchestrator asked of each node.
 */
import { createServer, request, type Server } from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  body: string;
}

export class RecordingProxy {
  readonly requests: RecordedRequest[] = [];
  /** Milliseconds each request is held before it is passed on (0: none). */
  delayMs = 0;
  readonly #server: Server;
  #port = 0;

  private constructor(target: URL) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', body: body.toString('utf8') });
        const pass = () => {
          const up = request(
            { host: target.hostname, port: Number(target.port), method: req.method, path: req.url, headers: req.headers },
            (r) => {
              res.writeHead(r.statusCode ?? 502, r.headers);
              r.pipe(res);
            },
          );
          up.on('error', () => res.destroy());
          up.end(body);
        };
        if (this.delayMs > 0) setTimeout(pass, this.delayMs);
        else pass();
      });
    });
    this.#server.keepAliveTimeout = 60_000;
  }

  static async start(targetUrl: string): Promise<RecordingProxy> {
    const p = new RecordingProxy(new URL(targetUrl));
    await new Promise<void>((r) => p.#server.listen(0, '127.0.0.1', r));
    p.#port = (p.#server.address() as { port: number }).port;
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Forgets what was recorded so far. */
  clear(): void {
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
