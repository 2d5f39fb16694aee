/**
 * A client-side load balancer for tests with several orchestrators: an HTTP endpoint that sends
 * each request to the next orchestrator in turn, and on a connection error (refused, reset, closed
 * mid-answer: the orchestrator died) retries the request on the next one. Answers pass through
 * untouched, so any client (the official SDK included) can talk to it as to one Meilisearch.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

export class Spreader {
  readonly url: string;
  /** Requests retried on another orchestrator after a connection error. */
  retries = 0;
  readonly #server: Server;
  readonly #agent = new Agent({ connections: 64 });
  #targets: string[];
  #next = 0;

  private constructor(server: Server, url: string, targets: string[]) {
    this.#server = server;
    this.url = url;
    this.#targets = targets;
  }

  static async start(targets: string[]): Promise<Spreader> {
    let self: Spreader | undefined;
    const server = createServer((req, res) => {
      void self!.#forward(req).then(
        (up) => {
          res.writeHead(up.status, up.headers);
          res.end(up.body);
        },
        (e: unknown) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`spreader: ${(e as Error).message}`);
        },
      );
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new Spreader(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, targets);
    return self;
  }

  /** Orchestrators requests go to, in turn. */
  set targets(urls: string[]) {
    this.#targets = urls;
  }

  async #forward(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    let lastError: unknown;
    for (let attempt = 0; attempt < 4 * Math.max(1, this.#targets.length); attempt++) {
      const target = this.#targets[this.#next++ % this.#targets.length]!;
      try {
        const up = await request(`${target}${req.url}`, { method: req.method as 'GET', headers, body, dispatcher: this.#agent });
        const buf = Buffer.from(await up.body.arrayBuffer());
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        return { status: up.statusCode, headers: out, body: buf };
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === undefined || !CONNECTION_ERRORS.has(code)) throw e;
        lastError = e;
        this.retries++;
      }
    }
    throw lastError;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
    await this.#agent.close();
  }
}
